//! End-to-end tests of the public API: files are written at the right size, the SVG holds the text,
//! and bad data is drawn or reported, never a panic.
//!
//! Output goes to `<temp dir>/dyadsim-plot-tests/<test>/`, kept after the run so the figures can be looked at.

use std::path::{Path, PathBuf};

use super::output::with_suffix;
use super::*;

/// A fresh folder under the system temp dir for one test's output.
fn out_dir(test: &str) -> PathBuf {
    let dir = std::env::temp_dir().join("dyadsim-plot-tests").join(test);
    // Leftovers from an earlier run would let a test pass without writing anything.
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

/// Width and height from a PNG's IHDR chunk, which always comes first.
fn png_size(path: &Path) -> (u32, u32) {
    let bytes = std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    assert_eq!(
        &bytes[..8],
        b"\x89PNG\r\n\x1a\n",
        "{} is not a PNG",
        path.display()
    );
    let be =
        |at: usize| u32::from_be_bytes([bytes[at], bytes[at + 1], bytes[at + 2], bytes[at + 3]]);
    (be(16), be(20))
}

/// The SVG written next to `stem`, checked to be a complete document.
fn svg_text(stem: &Path) -> String {
    let path = with_suffix(stem, "svg");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    assert!(
        text.starts_with("<svg") && text.trim_end().ends_with("</svg>"),
        "{} is not a complete SVG",
        path.display()
    );
    text
}

/// The default render options.
fn opts() -> Options {
    Options::default()
}

/// PNG pixels of a layout of `size` points at `dpi`.
fn pixels(size: (f64, f64), dpi: u32) -> (u32, u32) {
    let s = f64::from(dpi) / 72.0;
    ((size.0 * s).round() as u32, (size.1 * s).round() as u32)
}

/// The contents of an SVG's `<text>` elements, trimmed.
pub(crate) fn svg_texts(svg: &str) -> Vec<String> {
    svg.split("<text")
        .skip(1)
        .filter_map(|t| {
            let body = &t[t.find('>')? + 1..];
            Some(body[..body.find("</text>")?].trim().to_owned())
        })
        .collect()
}

fn epochs(n: usize) -> Vec<f64> {
    (1..=n).map(|e| e as f64).collect()
}

/// A figure like the experiments produce: convergence with seed bands, a log-y loss, a sparse sweep.
fn demo_panels() -> Vec<Panel> {
    let x = epochs(30);
    let acc = |rate: f64, top: f64| {
        x.iter()
            .map(|e| top * (1.0 - (-rate * e).exp()))
            .collect::<Vec<_>>()
    };
    let spread = |y: &[f64], s: f64| -> (Vec<f64>, Vec<f64>) {
        (
            y.iter().map(|v| v - s).collect(),
            y.iter().map(|v| (v + s).min(1.0)).collect(),
        )
    };
    let curves = [
        (0.3, 0.95, "σ = 0"),
        (0.2, 0.9, "σ = 0.1"),
        (0.1, 0.8, "σ = 0.3"),
    ]
    .into_iter()
    .map(|(r, t, label)| {
        let y = acc(r, t);
        let (lo, hi) = spread(&y, 0.03);
        Curve::new(label, x.clone(), y).with_band(lo, hi)
    })
    .collect();
    let loss = |r: f64| {
        x.iter()
            .map(|e| 2.3 * (-r * e).exp() + 1e-3)
            .collect::<Vec<_>>()
    };
    let alphas = vec![0.0, 0.25, 0.5, 0.75, 1.0];
    let sweep = vec![0.62, 0.81, 0.9, 0.88, 0.7];
    vec![
        Panel {
            title: "test accuracy".into(),
            x_label: "epoch".into(),
            y_label: "accuracy".into(),
            curves,
            y_range: Some((0.0, 1.0)),
            ..Panel::default()
        },
        Panel {
            title: "training loss".into(),
            x_label: "epoch".into(),
            y_label: "loss (log)".into(),
            curves: vec![
                Curve::new("β = 0.1", x.clone(), loss(0.3)),
                Curve::new("β = 1", x.clone(), loss(0.15)),
            ],
            log_y: true,
            ..Panel::default()
        },
        Panel {
            title: "final accuracy vs α".into(),
            x_label: "α".into(),
            y_label: "accuracy".into(),
            curves: vec![
                Curve::new("mean ± sd over 5 seeds", alphas, sweep.clone()).with_error_bars(
                    sweep.iter().map(|v| v - 0.04).collect(),
                    sweep.iter().map(|v| v + 0.04).collect(),
                ),
            ],
            ..Panel::default()
        },
    ]
}

#[test]
fn figure_writes_png_and_svg() {
    let stem = out_dir("figure").join("convergence.alpha0.5");
    let title = "Convergence — ε = 0.01, ν = 0.5";
    figure(&stem, title, "", &demo_panels(), &opts()).expect("figure");
    let png = with_suffix(&stem, "png");
    assert!(std::fs::metadata(&png).expect("png").len() > 10_000);
    assert_eq!(png_size(&png), pixels(figure_size(3, 0), 200));
    let svg = svg_text(&stem);
    assert!(
        svg.contains(title) && svg.contains("σ = 0.1"),
        "title or legend missing from SVG"
    );
}

#[test]
fn figure_single_panel_is_one_column_wide_at_any_dpi() {
    let stem = out_dir("figure-single").join("one");
    let caption = "mean ± std over n = 3 seeds";
    figure(
        &stem,
        "one panel",
        caption,
        &demo_panels()[1..2],
        &Options { dpi: 300 },
    )
    .expect("figure");
    // 3.5 in (252 pt) by 190 pt of panel, 17 pt of title and 11 pt of caption, at 300 dpi.
    assert_eq!(figure_size(1, 1), (252.0, 218.0));
    assert_eq!(png_size(&with_suffix(&stem, "png")), (1050, 908));
    assert_eq!(figure_size(4, 0), (504.0, 397.0));
    let svg = svg_text(&stem);
    assert!(
        svg.starts_with(r#"<svg width="252pt" height="218pt" viewBox="0 0 504 436""#),
        "{}",
        &svg[..80]
    );
    assert!(svg.contains(caption));
}

#[test]
fn diverged_curves_end_in_a_cross_and_notes_are_written() {
    let stem = out_dir("figure-diverged").join("d");
    let mut c = Curve::new("DP", vec![1.0, 2.0, 3.0], vec![0.5, 0.3, 0.2]).diverging(true);
    c.notes.push((1, "✗ 1/3 diverged".into()));
    let panel = Panel {
        curves: vec![c],
        ..Panel::default()
    };
    figure(&stem, "t", "", &[panel], &opts()).expect("figure");
    let svg = svg_text(&stem);
    let texts = svg_texts(&svg);
    assert_eq!(
        texts.iter().filter(|t| *t == "✗").count(),
        1,
        "one divergence cross"
    );
    assert!(svg.contains("✗ 1/3 diverged"));
    // The cross is drawn in the curve's colour (the first Okabe–Ito colour, #0072B2).
    assert!(svg.contains("#0072B2"));
}

#[test]
fn figure_bad_values_are_skipped_not_fatal() {
    let (nan, inf) = (f64::NAN, f64::INFINITY);
    let x = vec![1.0, 2.0, nan, 4.0, 5.0, 6.0];
    let y = vec![0.5, inf, 0.7, -0.1, 0.9, 0.8];
    let band = (vec![nan; 6], vec![1.0; 6]);
    let messy = vec![
        Curve::new("holes", x.clone(), y.clone()).with_band(band.0.clone(), band.1.clone()),
        Curve::new("all NaN", vec![nan; 3], vec![nan; 3]),
        Curve::new("empty", vec![], vec![]),
        Curve::new("constant", vec![3.0; 4], vec![2.0; 4])
            .with_error_bars(vec![nan; 4], vec![2.0; 4]),
        Curve::new("", vec![1.0], vec![1e300]),
    ];
    let panels = [
        Panel {
            title: "linear".into(),
            curves: messy.clone(),
            ..Panel::default()
        },
        Panel {
            title: "log log".into(),
            curves: messy,
            log_x: true,
            log_y: true,
            ..Panel::default()
        },
        Panel {
            title: "no curves".into(),
            ..Panel::default()
        },
        Panel {
            title: "only constant".into(),
            curves: vec![Curve::new("c", vec![0.0, 1.0], vec![0.0, 0.0])],
            ..Panel::default()
        },
    ];
    let stem = out_dir("figure-messy").join("messy");
    figure(&stem, "messy data", "", &panels, &opts()).expect("bad values must not fail");
    assert_eq!(
        png_size(&with_suffix(&stem, "png")),
        pixels(figure_size(4, 0), 200)
    );
}

#[test]
fn figure_shape_errors_name_the_file() {
    let dir = out_dir("figure-errors");
    let stem = dir.join("bad");
    let err = figure(&stem, "t", "", &[], &opts()).expect_err("no panels");
    assert!(err.to_string().contains("bad"), "{err}");

    let bad = Panel {
        curves: vec![Curve::new("c", vec![1.0, 2.0], vec![1.0])],
        ..Panel::default()
    };
    let err = figure(&stem, "t", "", &[bad], &opts()).expect_err("length mismatch");
    assert!(
        matches!(
            err,
            PlotError::LengthMismatch {
                got: 1,
                expected: 2,
                ..
            }
        ),
        "{err}"
    );
    assert!(err.to_string().contains("bad"), "{err}");

    let band = Curve::new("c", vec![1.0], vec![1.0]).with_band(vec![], vec![1.0]);
    let err = figure(
        &stem,
        "t",
        "",
        &[Panel {
            curves: vec![band],
            ..Panel::default()
        }],
        &opts(),
    )
    .expect_err("band");
    assert!(
        matches!(
            err,
            PlotError::LengthMismatch {
                what: "band lower",
                ..
            }
        ),
        "{err}"
    );

    let log = Panel {
        y_range: Some((0.0, 1.0)),
        log_y: true,
        ..Panel::default()
    };
    let err = figure(&stem, "t", "", &[log], &opts()).expect_err("log range through zero");
    assert!(matches!(err, PlotError::InvalidRange { .. }), "{err}");
    assert!(
        !dir.exists(),
        "nothing is written when the input is invalid"
    );
}

fn alpha_beta() -> Heatmap {
    let alphas = [0.0, 0.25, 0.5, 0.75, 1.0];
    let betas = [0.01, 0.1, 0.5, 1.0];
    let values = betas
        .iter()
        .map(|&b| {
            alphas
                .iter()
                .map(|&a| {
                    (b < 1.0 || a < 0.75)
                        .then(|| 0.5 + 0.45 * (1.0 - (a - 0.5f64).powi(2) * 2.0) * (1.0 - b / 3.0))
                })
                .collect()
        })
        .collect();
    Heatmap {
        title: "final test accuracy over α × β".into(),
        x_label: "α".into(),
        y_label: "β".into(),
        x_ticks: alphas.iter().map(|a| a.to_string()).collect(),
        y_ticks: betas.iter().map(|b| b.to_string()).collect(),
        values,
        value_label: "test accuracy".into(),
        decimals: 3,
        ..Heatmap::default()
    }
}

#[test]
fn heatmap_writes_png_and_svg() {
    let stem = out_dir("heatmap").join("alpha-beta");
    let map = alpha_beta();
    heatmap(&stem, &map, &opts()).expect("heatmap");
    let png = with_suffix(&stem, "png");
    assert!(std::fs::metadata(&png).expect("png").len() > 5_000);
    assert_eq!(png_size(&png), pixels(heatmap_size(5, 4, 0), 200));
    let svg = svg_text(&stem);
    assert!(svg.contains(&map.title), "title missing from SVG");
    assert!(
        svg.contains("0.949") && svg.contains("–"),
        "cell texts missing from SVG"
    );
}

#[test]
fn heatmap_cells_widen_to_keep_long_labels_apart() {
    // Four algorithm names against two hardware files: at the default cell width the names ran
    // into each other and the long row labels squeezed the cells.
    let stem = out_dir("heatmap").join("long-labels");
    let map = Heatmap {
        title: "long labels".into(),
        x_label: "algorithm".into(),
        y_label: "hardware".into(),
        x_ticks: ["DP⊤ α=0", "DP⊤ α=½", "DP⊤ α=1", "backprop"]
            .map(String::from)
            .to_vec(),
        y_ticks: ["ideal", "ecram-tang2018-rounding"]
            .map(String::from)
            .to_vec(),
        values: vec![vec![Some(0.92); 4]; 2],
        decimals: 1,
        ..Heatmap::default()
    };
    heatmap(&stem, &map, &opts()).expect("heatmap");
    let (w, _) = png_size(&with_suffix(&stem, "png"));
    let (default_w, _) = pixels(heatmap_size(4, 2, 0), 200);
    // The longest row label is ~84 pt at 7.5 pt, 56 more than the default assumes; the cells
    // stay 40 pt, wider than each column label.
    assert!(
        w >= default_w + pixels((50.0, 0.0), 200).0,
        "{w} vs {default_w}"
    );
    assert!(
        w <= pixels((504.0, 0.0), 200).0,
        "wider than two columns: {w}"
    );
}

#[test]
fn heatmap_constant_nan_and_single_cells_draw() {
    let dir = out_dir("heatmap-odd");
    let one = |v: Option<f64>| Heatmap {
        title: "one cell".into(),
        x_ticks: vec!["a".into()],
        y_ticks: vec!["b".into()],
        values: vec![vec![v]],
        ..Heatmap::default()
    };
    for (name, v) in [
        ("value", Some(2.0)),
        ("nan", Some(f64::NAN)),
        ("none", None),
        ("inf", Some(f64::INFINITY)),
    ] {
        heatmap(&dir.join(name), &one(v), &opts()).unwrap_or_else(|e| panic!("{name}: {e}"));
    }
    let mut constant = alpha_beta();
    constant
        .values
        .iter_mut()
        .flatten()
        .for_each(|v| *v = Some(0.5));
    heatmap(&dir.join("constant"), &constant, &opts()).expect("constant");
    let big = Heatmap {
        title: "large".into(),
        x_ticks: (0..12).map(|i| format!("{i}")).collect(),
        y_ticks: (0..9).map(|i| format!("1e-{i}")).collect(),
        values: (0..9)
            .map(|r| (0..12).map(|c| Some(f64::from(r * c) * 1234.5)).collect())
            .collect(),
        decimals: 1,
        ..Heatmap::default()
    };
    heatmap(&dir.join("large"), &big, &opts()).expect("large");
    assert_eq!(
        png_size(&with_suffix(&dir.join("large"), "png")),
        pixels(heatmap_size(12, 9, 0), 200)
    );
}

#[test]
fn a_title_wider_than_the_figure_is_shrunk_to_fit_but_not_below_the_caption() {
    let dir = out_dir("heatmap-title");
    let first_font_size = |stem: &Path| -> f64 {
        let svg = svg_text(stem);
        let at = svg.find("font-size=\"").expect("font size") + "font-size=\"".len();
        svg[at..][..svg[at..].find('"').expect("end")]
            .parse()
            .expect("number")
    };
    let size_for = |name: &str, title: &str| {
        let mut map = alpha_beta();
        map.x_ticks.truncate(3);
        map.values.iter_mut().for_each(|r| r.truncate(3));
        map.title = title.into();
        map.caption = "caption".into();
        heatmap(&dir.join(name), &map, &opts()).expect(name);
        first_font_size(&dir.join(name))
    };
    let short = size_for("short", "short");
    let long = size_for("long", &"a long title ".repeat(6));
    let endless = size_for("endless", &"a long title ".repeat(40));
    // A 3-column heatmap is 258 pt wide: 78 characters at 10 pt do not fit in 246 pt.
    assert!(long < short, "{long} vs {short}");
    // Shrinking stops at the caption's 7.5 pt.
    assert!(
        (endless / short - 7.5 / 10.0).abs() < 1e-9,
        "{endless} vs {short}"
    );
}

#[test]
fn heatmap_shape_errors_name_the_file() {
    let stem = out_dir("heatmap-errors").join("bad");
    let mut map = alpha_beta();
    map.values[2].pop();
    let err = heatmap(&stem, &map, &opts()).expect_err("short row");
    assert!(
        err.to_string().contains("bad") && err.to_string().contains("row 2"),
        "{err}"
    );
    map.values.pop();
    assert!(heatmap(&stem, &map, &opts()).is_err(), "missing row");
    let empty = Heatmap::default();
    assert!(matches!(
        heatmap(&stem, &empty, &opts()),
        Err(PlotError::HeatmapShape { .. })
    ));
    assert!(
        !stem.parent().is_some_and(Path::exists),
        "nothing is written when the input is invalid"
    );
}

#[test]
fn unwritable_folder_is_an_error_naming_it() {
    let dir = out_dir("unwritable");
    std::fs::create_dir_all(&dir).expect("temp dir");
    let blocker = dir.join("not-a-folder");
    std::fs::write(&blocker, b"").expect("blocker file");
    let panel = Panel {
        title: "p".into(),
        ..Panel::default()
    };
    let err =
        figure(&blocker.join("fig"), "t", "", &[panel], &opts()).expect_err("parent is a file");
    assert!(matches!(err, PlotError::Io { .. }), "{err}");
    assert!(err.to_string().contains("not-a-folder"), "{err}");
}

/// A drawing that fails halfway, as a drawing interrupted by a full disk or a bad value would.
struct FailsHalfway;

impl output::Drawing for FailsHalfway {
    fn draw<DB: plotters::prelude::DrawingBackend>(
        &self,
        root: &plotters::prelude::DrawingArea<DB, plotters::coord::Shift>,
        _format: output::Format,
        _scale: output::Scale,
    ) -> output::DrawResult<DB> {
        root.fill(&plotters::prelude::BLACK)?;
        Err(plotters::drawing::DrawingAreaErrorKind::LayoutError)
    }
}

#[test]
fn figures_replace_old_files_only_when_complete() {
    let dir = out_dir("atomic");
    let stem = dir.join("fig");
    figure(&stem, "first", "", &demo_panels(), &opts()).unwrap();
    let before = std::fs::read(with_suffix(&stem, "png")).unwrap();
    // A backend writes its file when dropped; drawn in place, the failed figure would replace the old one.
    let err = output::write_both(&stem, (400.0, 300.0), &FailsHalfway, &opts()).unwrap_err();
    assert!(matches!(err, PlotError::Draw { .. }), "{err}");
    assert_eq!(std::fs::read(with_suffix(&stem, "png")).unwrap(), before);
    assert!(svg_text(&stem).contains("first"));
    let names: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    let mut sorted = names.clone();
    sorted.sort();
    assert_eq!(
        sorted,
        ["fig.png", "fig.svg"],
        "temporary files left: {names:?}"
    );
}

/// An energy breakdown like the experiments draw: six algorithms, two hardware panels, five classes.
fn breakdown() -> StackedBars {
    let categories: Vec<String> = [
        "DP⊤ K=2",
        "DP⊤ K=4",
        "DP⊤ K=8",
        "DP⊤ tol",
        "DP α=½",
        "adversarial backprop",
    ]
    .map(String::from)
    .into();
    let bar = |k: f64| vec![0.05 * k, 0.8 * k, 0.05, 0.005 * k, 1.4 + 0.1 * k];
    let panel = |title: &str| BarPanel {
        title: title.into(),
        categories: categories.clone(),
        values: [2.0, 4.0, 8.0, 1.0, 4.0, 0.5].map(bar).into(),
        notes: vec![
            String::new(),
            String::new(),
            "✗ 1/3".into(),
            String::new(),
            String::new(),
            String::new(),
        ],
    };
    StackedBars {
        title: "training energy by class".into(),
        caption: "bars: mean over n = 3 seeds".into(),
        x_label: "algorithm".into(),
        y_label: "training energy per sample (nJ)".into(),
        classes: [
            "array reads",
            "DAC and ADC conversions",
            "programming pulses",
            "neuron compartments",
            "digital periphery",
        ]
        .map(String::from)
        .into(),
        panels: vec![panel("gokmen-vlasov"), panel("ecram-tang2018")],
        totals: true,
    }
}

#[test]
fn stacked_bars_write_labels_legend_totals_and_notes() {
    let stem = out_dir("bars").join("breakdown");
    let bars = breakdown();
    stacked_bars(&stem, &bars, &opts()).expect("bars");
    let size = stacked_bars_size(&bars);
    // Two panels side by side (2 × 252 pt), 190 pt of panel, 17 pt of title, one caption line and
    // one legend row of 12 pt with 3 pt under it (the five classes fit in 7 in).
    assert_eq!(size, (504.0, 190.0 + 17.0 + 11.0 + 12.0 + 3.0));
    assert_eq!(png_size(&with_suffix(&stem, "png")), pixels(size, 200));
    let texts = svg_texts(&svg_text(&stem));
    for part in [
        "training energy by class",
        "bars: mean over n = 3 seeds",
        "algorithm",
        "training energy per sample (nJ)",
        "gokmen-vlasov",
        "ecram-tang2018",
        "DAC and ADC conversions",
        "digital periphery",
        "DP⊤ K=2",
        "✗ 1/3",
    ] {
        assert!(
            texts.iter().any(|t| t == part),
            "{part:?} missing: {texts:?}"
        );
    }
    // Each legend entry once; totals to three digits: K = 2 stacks 0.1 + 1.6 + 0.05 + 0.01 + 1.6.
    assert_eq!(texts.iter().filter(|t| *t == "array reads").count(), 1);
    assert_eq!(
        texts.iter().filter(|t| *t == "3.36").count(),
        2,
        "{texts:?}"
    );
    // A label too wide for a sixth of the panel is wrapped at its space.
    assert!(texts.iter().any(|t| t == "adversarial") && texts.iter().any(|t| t == "backprop"));
    // Five segments per bar, twelve bars, each segment a rectangle in its class colour; the
    // second class is vermillion (#D55E00).
    let svg = svg_text(&stem);
    assert!(
        svg.matches("#D55E00").count() >= 12,
        "one conversion segment per bar"
    );
}

#[test]
fn stacked_bars_skip_bad_values_and_empty_bars() {
    let mut bars = breakdown();
    bars.panels.truncate(1);
    let p = &mut bars.panels[0];
    p.values[0] = vec![f64::NAN; 5];
    p.values[1] = vec![-1.0, f64::INFINITY, 0.0, 1.0, 2.0];
    p.notes[0] = "✗ 3/3".into();
    let stem = out_dir("bars-messy").join("messy");
    stacked_bars(&stem, &bars, &opts()).expect("bad values must not fail");
    let texts = svg_texts(&svg_text(&stem));
    // The empty bar gets its note but no total; the second bar's total counts only 1 + 2.
    assert!(texts.iter().any(|t| t == "✗ 3/3"));
    assert!(texts.iter().any(|t| t == "3.00"), "{texts:?}");
    // One panel is one column wide.
    assert_eq!(stacked_bars_size(&bars).0, 252.0);

    let nothing = StackedBars {
        panels: vec![BarPanel {
            categories: vec!["a".into()],
            values: vec![vec![]],
            ..BarPanel::default()
        }],
        ..StackedBars::default()
    };
    stacked_bars(&out_dir("bars-empty").join("empty"), &nothing, &opts()).expect("no classes");
}

#[test]
fn stacked_bar_shape_errors_name_the_file_and_panel() {
    let dir = out_dir("bars-errors");
    let stem = dir.join("bad");
    let mut bars = breakdown();
    bars.panels[1].values[3].pop();
    let err = stacked_bars(&stem, &bars, &opts()).expect_err("short bar");
    let text = err.to_string();
    assert!(
        text.contains("bad") && text.contains("ecram-tang2018") && text.contains("bar 3"),
        "{text}"
    );
    let none = StackedBars::default();
    assert!(matches!(
        stacked_bars(&stem, &none, &opts()),
        Err(PlotError::NoPanels { .. })
    ));
    assert!(
        !dir.exists(),
        "nothing is written when the input is invalid"
    );
}

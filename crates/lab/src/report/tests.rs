//! Every plot kind drawn for a small sweep with a diverged run; the SVG text is checked for human
//! names, units and the divergence marks.

use super::*;
use crate::job::{Divergence, EpochMetrics, RetentionPoint};
use std::collections::BTreeMap;

const SPEC: &str = r#"Experiment(
    name: "figures",
    network: (layers: [64, 16, 10], loss: Mse),
    algorithm: (kind: DpTop, alpha: 0.5, beta: 0.1, passes: 2),
    training: (epochs: 4, batch_size: 8, learning_rate: 0.1),
    seeds: [0, 1, 2],
    sweep: {
        "hardware": ["../device-models/pcm-inference-drift.ron", "../device-models/ecram-tang2018-rounding.ron"],
        "algorithm.kind": ["Dp", "DpTop"],
        "algorithm.alpha": [0.0, 0.5, 1.0],
    },
    metrics: [Settling],
    retention: (times: [0.0, 60.0, 3600.0]),
    labels: {"hardware=ecram-tang2018-rounding": "Li-ECRAM"},
    plots: [
        Convergence(),
        Convergence(axis: "algorithm.alpha"),
        Final(x: "algorithm.alpha", metric: "test_acc", lines: Some("algorithm.kind"), panels: Some("hardware")),
        Final(x: "algorithm.alpha", metric: "diverged", lines: Some("algorithm.kind"), panels: Some("hardware")),
        Final(x: "algorithm.alpha", metric: "settle_unconverged", lines: Some("hardware")),
        Heatmap(x: "algorithm.alpha", y: "algorithm.kind", metric: "test_acc", panels: Some("hardware")),
        Retention(lines: Some("hardware")),
    ],
)"#;

fn experiment() -> Experiment {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../experiments/figures-test.ron");
    crate::load::experiment_from_str(SPEC, &path).expect("test experiment")
}

fn epoch(e: usize, acc: f64, loss: f64) -> EpochMetrics {
    EpochMetrics {
        epoch: e,
        train_loss: loss,
        train_acc: acc,
        test_loss: loss,
        test_acc: acc,
        extra: BTreeMap::from([("settle_unconverged".to_owned(), 0.1 * acc)]),
    }
}

/// Records of every point and seed: DP at α = 0 on the ECRAM preset diverges in seed 1 after a
/// loss of 1e60 (the case that used to stretch the loss axis); everything else learns.
fn records(exp: &Experiment) -> Vec<RunRecord> {
    let grid = crate::runner::points(exp).expect("grid");
    let mut out = Vec::new();
    for (point, p) in grid.iter().enumerate() {
        let params = &p.params;
        for &seed in &exp.seeds {
            let skill = 0.6 + 0.05 * point as f64 / grid.len() as f64 + 0.01 * seed as f64;
            let bad = params["algorithm.kind"] == "Dp"
                && params["algorithm.alpha"] == 0.0
                && params["hardware"]
                    .as_str()
                    .is_some_and(|h| h.contains("ecram"))
                && seed == 1;
            let mut epochs: Vec<EpochMetrics> = (0..=4)
                .map(|e| {
                    epoch(
                        e,
                        skill * (1.0 - 0.5f64.powi(e as i32 + 1)),
                        1.0 / (e + 1) as f64,
                    )
                })
                .collect();
            let divergence = bad.then(|| {
                epochs.truncate(3);
                epochs[2].test_loss = 1e60;
                epochs[2].train_loss = 1e60;
                Divergence {
                    epoch: 3,
                    batch: 5,
                    reason: "non-finite weights".into(),
                    kind: crate::job::DivergenceKind::NonFinite,
                }
            });
            let retention = if bad {
                vec![]
            } else {
                [0.0, 60.0, 3600.0]
                    .iter()
                    .map(|&t| RetentionPoint {
                        t,
                        test_loss: 0.5,
                        test_acc: skill - 0.01 * t.max(1.0).ln(),
                    })
                    .collect()
            };
            out.push(RunRecord {
                schema: crate::results::SCHEMA,
                point,
                seed,
                params: params.clone(),
                epochs,
                divergence,
                retention,
            });
        }
    }
    out
}

/// The texts of the SVG next to `stem`.
fn texts(stem: &Path) -> Vec<String> {
    let svg = std::fs::read_to_string(stem.with_extension("svg"))
        .unwrap_or_else(|e| panic!("{}: {e}", stem.display()));
    svg.split("<text")
        .skip(1)
        .filter_map(|t| {
            let body = &t[t.find('>')? + 1..];
            Some(body[..body.find("</text>")?].trim().to_owned())
        })
        .collect()
}

/// Whether `part` is written, possibly across the lines a caption was wrapped into.
fn has(texts: &[String], part: &str) -> bool {
    texts.join(" ").contains(part)
}

#[test]
fn every_plot_kind_names_axes_units_and_divergence() {
    let exp = experiment();
    let out = std::env::temp_dir().join("dyadsim-report-test");
    let _ = std::fs::remove_dir_all(&out);
    let stems = draw(&out, &exp, &records(&exp)).expect("figures");
    let names: Vec<String> = stems
        .iter()
        .map(|s| {
            s.file_name()
                .unwrap_or_default()
                .to_string_lossy()
                .into_owned()
        })
        .collect();
    assert_eq!(
        names,
        [
            "convergence",
            "convergence",
            "final-test_acc-vs-algorithm_alpha",
            "final-diverged-vs-algorithm_alpha",
            "final-settle_unconverged-vs-algorithm_alpha",
            "heatmap-test_acc-algorithm_alpha-algorithm_kind-0",
            "heatmap-test_acc-algorithm_alpha-algorithm_kind-1",
            "retention",
        ]
    );
    let no_raw = |t: &[String], what: &str| {
        for raw in [
            "algorithm.alpha",
            "DpTop",
            "device-models",
            ".ron",
            "test_acc",
        ] {
            assert!(!has(t, raw), "{what}: raw name {raw:?} in {t:?}");
        }
    };

    // The second convergence figure (lines by α) overwrote the first: one row per hardware × kind.
    let conv = texts(&out.join("convergence"));
    no_raw(&conv, "convergence");
    for part in [
        "test accuracy (%)",
        "test loss (MSE)",
        "pcm-inference-drift, DP⊤: test accuracy",
        "Li-ECRAM, DP: test loss",
        "α = 0.0 (✗ 1/3 diverged)",
        "n = 3 seeds",
        "± 1 std",
    ] {
        assert!(has(&conv, part), "convergence lacks {part:?}: {conv:?}");
    }
    // One ✗ per panel holding the diverged line (accuracy and loss), none elsewhere.
    assert_eq!(conv.iter().filter(|t| *t == "✗").count(), 2, "{conv:?}");
    // The loss axis is not stretched to the diverged run's 1e60.
    assert!(!has(&conv, "1e60") && !has(&conv, "1e59"), "{conv:?}");

    let acc = texts(&out.join("final-test_acc-vs-algorithm_alpha"));
    no_raw(&acc, "final");
    for part in [
        "nudging asymmetry α",
        "final test accuracy (%)",
        "Li-ECRAM",
        "✗ 1/3",
        "mean ± std",
        "n = 3 seeds",
        "DP⊤",
    ] {
        assert!(has(&acc, part), "final lacks {part:?}: {acc:?}");
    }

    let div = texts(&out.join("final-diverged-vs-algorithm_alpha"));
    assert!(has(&div, "share of runs that diverged") && has(&div, "seeds diverged (%)"));
    assert!(!has(&div, "±") && !has(&div, "✗ 1/3"), "{div:?}");
    let div_svg =
        std::fs::read_to_string(out.join("final-diverged-vs-algorithm_alpha.svg")).expect("svg");
    let acc_svg =
        std::fs::read_to_string(out.join("final-test_acc-vs-algorithm_alpha.svg")).expect("svg");
    let segments = |svg: &str| svg.matches("<polyline").count();
    assert!(
        segments(&acc_svg) > segments(&div_svg) + 2 * 12,
        "error bars only on the accuracy plot"
    );

    let unconverged = texts(&out.join("final-settle_unconverged-vs-algorithm_alpha"));
    assert!(has(
        &unconverged,
        "batches whose settling did not converge (%)"
    ));
    assert!(has(
        &unconverged,
        "n = 6 runs (3 seeds × 2 values of algorithm)"
    ));

    let map = texts(&out.join("heatmap-test_acc-algorithm_alpha-algorithm_kind-1"));
    no_raw(&map, "heatmap");
    for part in [
        "(Li-ECRAM)",
        "DP⊤",
        "✗ 1/3",
        "final test accuracy (%)",
        "± std",
    ] {
        assert!(has(&map, part), "heatmap lacks {part:?}: {map:?}");
    }
    // Seeds 0, 1, 2 end 0.96875 points apart: std 0.97 in every whole cell. The diverged cell keeps
    // seeds 0 and 2, 1.9375 apart: std 1.9375/√2 = 1.37.
    assert_eq!(map.iter().filter(|t| *t == "± 1.0").count(), 5, "{map:?}");
    assert_eq!(
        map.iter().filter(|t| *t == "± 1.4 ✗ 1/3").count(),
        1,
        "{map:?}"
    );

    let ret = texts(&out.join("retention"));
    for part in [
        "time since programming (s)",
        "test accuracy (%)",
        "Li-ECRAM (✗ 1/18 diverged, left out)",
        "t = 0 is drawn at 0.1 s",
    ] {
        assert!(has(&ret, part), "retention lacks {part:?}: {ret:?}");
    }
}

#[test]
fn labels_with_unknown_paths_are_rejected_with_their_position() {
    let text = SPEC.replace(
        r#"labels: {"hardware"#,
        r#"labels: {"algorithm.alpah": "a", "hardware"#,
    );
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../experiments/figures-test.ron");
    let err = crate::load::experiment_from_str(&text, &path).expect_err("unknown label path");
    let message = err.to_string();
    assert!(message.contains("labels.\"algorithm.alpah\""), "{message}");
    assert!(message.contains(":14:14:"), "{message}");
}

#[test]
fn full_percent_range_and_dpi_come_from_the_experiment() {
    let text = SPEC.replace(
        "plots: [",
        "figures: (dpi: 72, full_percent_range: true),\n    plots: [",
    );
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../experiments/figures-test.ron");
    let exp = crate::load::experiment_from_str(&text, &path).expect("experiment");
    let out = std::env::temp_dir().join("dyadsim-report-test-options");
    let _ = std::fs::remove_dir_all(&out);
    let recs = records(&exp);
    let stem = finals::final_vs_axis(
        &Context::new(&exp, &recs),
        &out,
        "algorithm.alpha",
        "test_acc",
        (Some("algorithm.kind"), None),
    )
    .expect("figure");
    let t = texts(&stem);
    assert!(
        has(&t, "100") && t.iter().any(|x| x == "0"),
        "0–100 % axis: {t:?}"
    );
    // 72 dpi: one pixel per point, so the one-panel figure (252 pt, 3.5 in) is 252 px wide.
    let png = std::fs::read(stem.with_extension("png")).expect("png");
    let width = u32::from_be_bytes([png[16], png[17], png[18], png[19]]);
    assert_eq!(width, 252);

    let bad = SPEC.replace("plots: [", "figures: (dpi: 5),\n    plots: [");
    let err = crate::load::experiment_from_str(&bad, &path).expect_err("dpi out of range");
    assert!(err.to_string().contains("figures.dpi"), "{err}");
}

/// The cost model of experiments/energy-accuracy.ron, for the energy figures.
const COST: &str = "cost: Some((
            energy: (cell_read: 3.2e-15, dac_per_bit: 1e-14, pulse: 1e-13, compartment: 1e-14),
            latency: (conversion: 1e-9, settle: 1e-8, digital_op: 1e-9),
            area: (cell: 0.04, adc: 1000.0, dac: 50.0, neuron: 100.0),
            columns_per_adc: 8,
        ))";

const ENERGY_SPEC: &str = r#"Experiment(
    name: "energy",
    network: (layers: [64, 16, 10]),
    algorithm: (kind: DpTop, alpha: 0.0, beta: 0.1, passes: 2),
    training: (epochs: 3, batch_size: 8, learning_rate: 0.1),
    seeds: [0, 1],
    algorithm_presets: {
        "DP⊤ K=2": (kind: DpTop, alpha: 0.0, beta: 0.1, passes: 2),
        "backprop": (kind: Backprop),
    },
    hardware_presets: {
        "cheap": Hardware(device: Ideal, COST),
        "dear": Hardware(device: Ideal, COST),
    },
    sweep: {
        "hardware": ["cheap", "dear"],
        "algorithm": ["DP⊤ K=2", "backprop"],
        "training.learning_rate": [0.05, 0.1],
    },
    metrics: [Cost],
    plots: [EnergyAccuracy(), EnergyBreakdown(panels: "hardware")],
)"#;

fn energy_experiment(text: &str) -> Result<Experiment> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../experiments/energy-test.ron");
    crate::load::experiment_from_str(&text.replace("COST", COST), &path)
}

/// Records with the Cost metric's columns: per training sample, DP⊤ costs 0.05, 0.8, 0.05, 0.02
/// and 1.5 nJ in the five classes, backprop 0.1, 0.3, 0.05, 0.01 and 3.0 nJ, twice that on the
/// "dear" preset, every epoch 10 % more than the one before (epochs 1–3: × 1.0, 1.1, 1.2, mean
/// 1.1). Seed 1 of DP⊤ at η = 0.1 on "dear" diverges after an epoch a hundred times as costly.
fn energy_records(exp: &Experiment) -> Vec<RunRecord> {
    let grid = crate::runner::points(exp).expect("grid");
    let samples = 100.0;
    let mut out = Vec::new();
    for (point, p) in grid.iter().enumerate() {
        let params = &p.params;
        let backprop = params["algorithm"] == "backprop";
        let dear = params["hardware"] == "dear";
        let nj = if backprop {
            [0.1, 0.3, 0.05, 0.01, 3.0]
        } else {
            [0.05, 0.8, 0.05, 0.02, 1.5]
        };
        for &seed in &exp.seeds {
            let bad = !backprop && dear && params["training.learning_rate"] == 0.1 && seed == 1;
            let epochs = (0..=3)
                .map(|e| {
                    let scale = if e == 0 {
                        0.0
                    } else {
                        (0.9 + 0.1 * e as f64) * if dear { 2.0 } else { 1.0 }
                    } * if bad { 100.0 } else { 1.0 };
                    let classes = nj.map(|v| v * 1e-9 * samples * scale);
                    let all: f64 = classes.iter().sum();
                    let mut m = epoch(e, 0.8, 0.5);
                    for (name, v) in energy::CLASSES.iter().zip(classes) {
                        m.extra.insert((*name).to_owned(), v);
                    }
                    m.extra.insert("energy_j".into(), all);
                    m.extra.insert(energy::ENERGY.into(), all / samples);
                    m
                })
                .take(if bad { 2 } else { 4 })
                .collect();
            out.push(RunRecord {
                schema: crate::results::SCHEMA,
                point,
                seed,
                params: params.clone(),
                epochs,
                divergence: bad.then(|| Divergence {
                    epoch: 2,
                    batch: 0,
                    reason: "non-finite weights".into(),
                    kind: crate::job::DivergenceKind::NonFinite,
                }),
                retention: vec![],
            });
        }
    }
    out
}

#[test]
fn energy_figures_stack_the_classes_to_the_energy_per_sample() {
    let exp = energy_experiment(ENERGY_SPEC).expect("energy experiment");
    let out = std::env::temp_dir().join("dyadsim-report-test-energy");
    let _ = std::fs::remove_dir_all(&out);
    let recs = energy_records(&exp);
    let stems = draw(&out, &exp, &recs).expect("figures");
    assert_eq!(
        stems,
        [
            out.join("energy-test_acc"),
            out.join("energy-breakdown-algorithm")
        ]
    );
    // One run's classes add up to its energy per sample (five products against one quotient:
    // a few ulps apart).
    for r in &recs {
        let whole = energy::per_sample(r, energy::ENERGY).expect("energy");
        let parts: f64 = energy::CLASSES
            .iter()
            .map(|c| energy::per_sample(r, c).expect("class"))
            .sum();
        assert!((parts / whole - 1.0).abs() < 1e-12, "{parts} vs {whole}");
    }

    let t = texts(&out.join("energy-breakdown-algorithm"));
    for part in [
        "energy: where the training energy goes",
        "energy per sample (nJ)",
        "algorithm",
        "cheap",
        "dear",
        "backprop",
        "array reads",
        "DAC and ADC conversions",
        "programming pulses",
        "neuron compartments",
        "digital periphery",
        "n = 4 runs (2 seeds × 2 values of learning rate η)",
        "✗ 1/4",
    ] {
        assert!(has(&t, part), "breakdown lacks {part:?}: {t:?}");
    }
    // Bar heights, mean over epochs (× 1.1) and runs, diverged run left out: DP⊤ 2.42 nJ × 1.1,
    // backprop 3.46 nJ × 1.1, twice that on "dear".
    for total in ["2.66", "3.81", "5.32", "7.61"] {
        assert_eq!(
            t.iter().filter(|x| *x == total).count(),
            1,
            "bar total {total}: {t:?}"
        );
    }
    assert!(
        !has(&t, "energy_") && !has(&t, "training.learning_rate"),
        "raw names: {t:?}"
    );
}

#[test]
fn energy_breakdowns_are_checked_at_load_with_their_position() {
    let cases = [
        (
            "metrics: [Cost],",
            "metrics: [],",
            "plots",
            "needs the Cost metric",
        ),
        (
            r#"EnergyBreakdown(panels: "hardware")"#,
            r#"EnergyBreakdown(x: "algorithms", panels: "hardware")"#,
            "plots.x",
            "must name a sweep axis",
        ),
        (
            r#"EnergyBreakdown(panels: "hardware")"#,
            r#"EnergyBreakdown(panels: "algorithm")"#,
            "plots.panels",
            "must differ from the axis of the bars",
        ),
        (
            r#"EnergyBreakdown(panels: "hardware")"#,
            "EnergyBreakdown()",
            "plots",
            "average over the categorical axis \"hardware\"",
        ),
        (
            r#"EnergyBreakdown(panels: "hardware")"#,
            r#"EnergyBreakdown(panels: "hardwar")"#,
            "plots.panels",
            "must name a sweep axis",
        ),
    ];
    for (from, to, field, message) in cases {
        let text = ENERGY_SPEC.replace(from, to);
        assert_ne!(text, ENERGY_SPEC, "{from}");
        let err = energy_experiment(&text).expect_err(to);
        let shown = err.to_string();
        match &err {
            LabError::Invalid {
                field: f, position, ..
            } => {
                assert_eq!(f, field, "{shown}");
                assert!(position.is_some(), "no position: {shown}");
            }
            other => panic!("{to}: {other}"),
        }
        assert!(shown.contains(message), "{shown}");
    }
    // Without x, the bars are the algorithm presets, which an experiment without them lacks.
    let no_presets = ENERGY_SPEC.replace(
        r#""algorithm": ["DP⊤ K=2", "backprop"],"#,
        r#""algorithm.passes": [2, 4],"#,
    );
    let err = energy_experiment(&no_presets).expect_err("no algorithm axis");
    assert!(
        err.to_string()
            .contains("without x, which needs a sweep axis \"algorithm\""),
        "{err}"
    );
    // Numeric axes other than x and panels are averaged, as the caption says.
    let numeric_x = no_presets.replace(
        r#"EnergyBreakdown(panels: "hardware")"#,
        r#"EnergyBreakdown(x: "algorithm.passes", panels: "hardware")"#,
    );
    energy_experiment(&numeric_x).expect("numeric x");
}

#[test]
fn the_best_validation_test_accuracy_is_a_final_metric_of_figures() {
    use crate::validation::{BEST_VALIDATION_TEST_ACC, VAL_ACC};
    let with_val = |e: usize, val: f64, test: f64| {
        let mut m = epoch(e, test, 1.0);
        m.extra.insert(VAL_ACC.to_owned(), val);
        m
    };
    let record = RunRecord {
        schema: crate::results::SCHEMA,
        point: 0,
        seed: 0,
        params: BTreeMap::new(),
        // The best validation epoch (2) is not the last (3): its test accuracy is the one shown.
        epochs: vec![
            with_val(0, 0.1, 0.1),
            with_val(1, 0.8, 0.79),
            with_val(2, 0.9, 0.88),
            with_val(3, 0.85, 0.9),
        ],
        divergence: None,
        retention: Vec::new(),
    };
    assert_eq!(final_metric(&record, BEST_VALIDATION_TEST_ACC), Some(0.88));
    assert_eq!(final_metric(&record, "test_acc"), Some(0.9));
    check_metric(std::slice::from_ref(&record), BEST_VALIDATION_TEST_ACC).unwrap();
    let mut plain = record.clone();
    plain.epochs.iter_mut().for_each(|m| m.extra.clear());
    assert_eq!(final_metric(&plain, BEST_VALIDATION_TEST_ACC), None);
    assert!(check_metric(&[plain], BEST_VALIDATION_TEST_ACC).is_err());
    // Named in a plot only where the experiment validates.
    let with = SPEC.replace(
        "training: (epochs: 4,",
        "training: (validation: 0.1, epochs: 4,",
    );
    let heat = r#"Heatmap(x: "algorithm.alpha", y: "algorithm.kind", metric: "best_validation_test_acc", panels: Some("hardware")),"#;
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../experiments/figures-test.ron");
    let load = |text: &str| {
        crate::load::experiment_from_str(
            &text.replace(
                "Retention(lines",
                &format!("{heat}\n        Retention(lines"),
            ),
            &path,
        )
    };
    assert!(load(&with).is_ok());
    let err = load(SPEC).unwrap_err().to_string();
    assert!(err.contains("best_validation_test_acc"), "{err}");
}

#[test]
fn convergence_from_a_later_epoch_leaves_out_the_untrained_network() {
    let exp = experiment();
    let records = records(&exp);
    let dir = std::env::temp_dir().join(format!("dyadsim-from-epoch-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    convergence::convergence(&dir, &exp, &records, Some("algorithm.alpha"), 2).unwrap();
    let svg = std::fs::read_to_string(dir.join("convergence.svg")).unwrap();
    assert!(
        svg.contains("from epoch 2 on"),
        "the caption says where the lines start"
    );
    // Beyond the last epoch nothing would be drawn: refused when the experiment loads.
    let text = SPEC.replace("Convergence(),", "Convergence(from_epoch: 5),");
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../experiments/figures-test.ron");
    let err = crate::load::experiment_from_str(&text, &path)
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("from_epoch") && err.contains("at most training.epochs = 4"),
        "{err}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn heatmap_cells_get_a_decimal_more_only_when_different_values_would_read_alike() {
    use super::finals::distinguishing_decimals as decimals;
    assert_eq!(decimals([91.93, 91.88, 92.62].into_iter(), 1), 2);
    assert_eq!(decimals([91.9, 92.6, 91.9].into_iter(), 1), 1);
    assert_eq!(decimals([91.93, 92.62].into_iter(), 1), 1);
    assert_eq!(decimals([0.123, 0.1234].into_iter(), 3), 4);
    assert_eq!(decimals(std::iter::empty(), 2), 2);
}

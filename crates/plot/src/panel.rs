//! Drawing one panel of a line figure, and choosing where its legend hides the least data.

use plotters::coord::Shift;
use plotters::prelude::*;

use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::axis::{self, Axis};
use super::colour::{Marker, marker, palette};
use super::figure::{CELL, Colour, Curve, Panel};
use super::output::{DrawResult, FONT, Format, Scale};

/// Space for tick labels and axis descriptions, in points; used both to lay out and to predict the plot area.
const X_LABEL_AREA: f64 = 24.0;
const Y_LABEL_AREA: f64 = 36.0;
const MARGIN: f64 = 6.0;
const CAPTION: f64 = 14.0;
/// Font sizes in points at the printed size (a panel 3.5 in wide).
const PANEL_TITLE_PT: f64 = 9.0;
const AXIS_NAME_PT: f64 = 8.5;
const TICK_PT: f64 = 7.5;
const LEGEND_PT: f64 = 7.5;
const NOTE_PT: f64 = 7.0;
/// Radius of a data-point marker and size of the divergence cross, in points.
const MARKER_PT: f64 = 1.8;
const CROSS_PT: f64 = 11.0;
/// Width of a curve, in points.
const LINE_PT: f64 = 1.0;

/// Legend corners in order of preference when several are equally free.
const CORNERS: [SeriesLabelPosition; 4] = [
    SeriesLabelPosition::UpperRight,
    SeriesLabelPosition::UpperLeft,
    SeriesLabelPosition::LowerRight,
    SeriesLabelPosition::LowerLeft,
];

/// Axes and legend position of a validated panel.
#[derive(Debug, Clone)]
pub(crate) struct Plan {
    x: Axis,
    y: Axis,
    /// `None` when no curve has a label.
    legend: Option<SeriesLabelPosition>,
}

/// Puts the legend in the corner that covers the fewest data points; if every corner is taken
/// and the y range is not fixed, raises the top of the y axis to make room above the data.
///
/// The panel's size ([`CELL`]) predicts the legend's share of the plot area.
pub(crate) fn place_legend(p: &Panel, x: Axis, (y_lo, y_hi): (f64, f64), y_fixed: bool) -> Plan {
    let y = Axis::new(y_lo, y_hi, p.log_y, 6);
    let labels: Vec<&str> = p
        .curves
        .iter()
        .map(|c| c.label.as_str())
        .filter(|l| !l.is_empty())
        .collect();
    if labels.is_empty() {
        return Plan { x, y, legend: None };
    }
    // Measured at 10× so that whole-pixel rounding does not distort a 7.5 pt text.
    let font = (FONT, 10.0 * LEGEND_PT).into_font();
    let text_w = labels
        .iter()
        .filter_map(|l| font.box_size(l).ok())
        .map(|(w, _)| f64::from(w) / 10.0)
        .fold(0.0, f64::max);
    // Mirrors plotters' legend box at 200 dpi: its swatch and margins are fixed pixel sizes
    // (about 18 pt in all), ~1.25 line height, 2 pt from the frame.
    let box_w = text_w + 18.0 + 2.0;
    let box_h = 1.25 * LEGEND_PT * labels.len() as f64 + 7.0 + 2.0;
    let caption = if p.title.is_empty() { 0.0 } else { CAPTION };
    let plot_w = (CELL.0 - 2.0 * MARGIN - Y_LABEL_AREA).max(20.0);
    let plot_h = (CELL.1 - 2.0 * MARGIN - X_LABEL_AREA - caption).max(20.0);
    let (fw, fh) = (box_w / plot_w, box_h / plot_h);

    let count = |y: &Axis, corner: &SeriesLabelPosition| {
        let (right, top) = match corner {
            SeriesLabelPosition::UpperRight => (true, true),
            SeriesLabelPosition::UpperLeft => (false, true),
            SeriesLabelPosition::LowerRight => (true, false),
            _ => (false, false),
        };
        samples(p, &x, y)
            .filter(|&(u, v)| {
                let in_x = if right { u >= 1.0 - fw } else { u <= fw };
                let in_y = if top { v >= 1.0 - fh } else { v <= fh };
                in_x && in_y
            })
            .count()
    };
    let best = |y: &Axis| {
        CORNERS
            .iter()
            .map(|c| (count(y, c), c.clone()))
            .min_by_key(|(n, _)| *n)
            .unwrap_or((0, SeriesLabelPosition::UpperRight))
    };
    let (hidden, corner) = best(&y);
    if hidden == 0 || y_fixed || fh > 0.45 {
        return Plan {
            x,
            y,
            legend: Some(corner),
        };
    }
    // Stretch the axis so the old top lands just under the legend's lower edge.
    let raised = Axis::new(y_lo, y.value_at(1.0 / (1.0 - fh)), p.log_y, 6);
    let (_, corner) = best(&raised);
    Plan {
        x,
        y: raised,
        legend: Some(corner),
    }
}

/// Every drawn point of a panel in axis fractions (0..1 inside the frame), with extra samples
/// along line and band-edge segments so a line crossing a corner counts even between its points.
fn samples<'a>(p: &'a Panel, x: &'a Axis, y: &'a Axis) -> impl Iterator<Item = (f64, f64)> + 'a {
    let lines = p.curves.iter().flat_map(move |c| {
        let band = c.band.iter().flat_map(|(lo, hi)| [lo, hi]);
        std::iter::once(&c.y).chain(band).map(move |ys| (&c.x, ys))
    });
    lines.flat_map(move |(xs, ys)| {
        let pts: Vec<(f64, f64)> = xs
            .iter()
            .zip(ys)
            .map(|(&a, &b)| (x.fraction(a), y.fraction(b)))
            .collect();
        let dense: Vec<(f64, f64)> = pts
            .windows(2)
            .flat_map(|w| (1..8).map(move |k| lerp(w[0], w[1], f64::from(k) / 8.0)))
            .chain(pts.iter().copied())
            .filter(|(u, v)| u.is_finite() && v.is_finite())
            .collect();
        dense
    })
}

fn lerp(a: (f64, f64), b: (f64, f64), t: f64) -> (f64, f64) {
    (a.0 + t * (b.0 - a.0), a.1 + t * (b.1 - a.1))
}

/// Runs of consecutive indices where every value in `cols` can be placed on its axis
/// (`cols` pairs a column with whether its axis is logarithmic).
fn runs(n: usize, cols: &[(&[f64], bool)]) -> Vec<Vec<usize>> {
    let mut out: Vec<Vec<usize>> = vec![];
    let mut current = vec![];
    for i in 0..n {
        if cols.iter().all(|(v, log)| axis::plottable(v[i], *log)) {
            current.push(i);
        } else if !current.is_empty() {
            out.push(std::mem::take(&mut current));
        }
    }
    if !current.is_empty() {
        out.push(current);
    }
    out
}

/// The colour of curve `i`: its own, or the palette's.
fn colour_of(c: &Curve, i: usize) -> Colour {
    c.colour.unwrap_or_else(|| palette(i))
}

/// Draws one panel into `area`.
pub(crate) fn draw<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    p: &Panel,
    plan: &Plan,
    scale: Scale,
    format: Format,
) -> DrawResult<DB> {
    let mut builder = ChartBuilder::on(area);
    builder
        .margin(scale.px(MARGIN))
        .x_label_area_size(scale.px(X_LABEL_AREA))
        .y_label_area_size(scale.px(Y_LABEL_AREA));
    if !p.title.is_empty() {
        builder.caption(&p.title, (FONT, scale.f(PANEL_TITLE_PT)));
    }
    let mut chart = builder.build_cartesian_2d(plan.x.clone(), plan.y.clone())?;
    chart
        .configure_mesh()
        .x_desc(&p.x_label)
        .y_desc(&p.y_label)
        .axis_desc_style((FONT, scale.f(AXIS_NAME_PT)))
        .label_style((FONT, scale.f(TICK_PT)))
        .x_label_formatter(&|v| plan.x.label(*v))
        .y_label_formatter(&|v| plan.y.label(*v))
        .bold_line_style(RGBColor(215, 215, 215).stroke_width(scale.stroke(0.4)))
        .light_line_style(RGBColor(238, 238, 238).stroke_width(scale.stroke(0.3)))
        .set_all_tick_mark_size(scale.i(2.5))
        .draw()?;

    let (log_x, log_y) = (p.log_x, p.log_y);
    // Bands first, so that no band hides another curve's line.
    for (i, c) in p.curves.iter().enumerate() {
        let colour = colour_of(c, i);
        let Some((lo, hi)) = &c.band else { continue };
        let cols = [(&c.x[..], log_x), (&lo[..], log_y), (&hi[..], log_y)];
        if c.error_bars {
            let stroke = colour.stroke_width(scale.stroke(0.8));
            let points: Vec<usize> = runs(c.x.len(), &cols).into_iter().flatten().collect();
            chart.draw_series(
                points
                    .iter()
                    .map(|&i| PathElement::new([(c.x[i], lo[i]), (c.x[i], hi[i])], stroke)),
            )?;
            // Caps are offset in pixels so they keep their width on a log x axis.
            let cap = scale.i(2.0);
            let caps = points
                .iter()
                .flat_map(|&i| [(c.x[i], lo[i]), (c.x[i], hi[i])]);
            chart.draw_series(caps.map(|at| {
                EmptyElement::at(at) + PathElement::new([(-cap, 0), (cap, 0)], stroke)
            }))?;
        } else {
            let polys = runs(c.x.len(), &cols)
                .into_iter()
                .filter(|r| r.len() > 1)
                .map(|r| {
                    let upper = r.iter().map(|&i| (c.x[i], hi[i]));
                    let lower = r.iter().rev().map(|&i| (c.x[i], lo[i]));
                    Polygon::new(
                        upper.chain(lower).collect::<Vec<_>>(),
                        colour.mix(0.18).filled(),
                    )
                });
            chart.draw_series(polys)?;
        }
    }
    for (i, c) in p.curves.iter().enumerate() {
        draw_line(
            &mut chart,
            c,
            (colour_of(c, i), marker(i)),
            (log_x, log_y),
            scale,
        )?;
    }
    for (i, c) in p.curves.iter().enumerate() {
        draw_marks(
            &mut chart,
            c,
            colour_of(c, i),
            (log_x, log_y),
            scale,
            format,
        )?;
    }
    if let Some(corner) = &plan.legend {
        chart
            .configure_series_labels()
            .position(corner.clone())
            .margin(scale.px(3.0))
            .legend_area_size(scale.px(14.0))
            .background_style(WHITE.mix(0.92))
            .border_style(BLACK.mix(0.4))
            .label_font((FONT, scale.f(LEGEND_PT)))
            .draw()?;
    }
    Ok(())
}

/// The outline of a marker of `shape`, `r` pixels in radius, around (0, 0); every shape is a
/// polygon so that markers and legend swatches share one element type.
fn outline(shape: Marker, r: i32) -> Vec<(i32, i32)> {
    let rf = f64::from(r);
    let round = |x: f64, y: f64| (x.round() as i32, y.round() as i32);
    match shape {
        Marker::Circle => (0..12)
            .map(|k| {
                let t = f64::from(k) * std::f64::consts::PI / 6.0;
                round(rf * t.cos(), rf * t.sin())
            })
            .collect(),
        Marker::Square => {
            let h = round(0.9 * rf, 0.0).0;
            vec![(-h, -h), (h, -h), (h, h), (-h, h)]
        }
        Marker::Triangle => {
            let h = 1.3 * rf;
            vec![round(0.0, -h), round(h, 0.75 * h), round(-h, 0.75 * h)]
        }
        Marker::Diamond => {
            let h = round(1.3 * rf, 0.0).0;
            vec![(0, -h), (h, 0), (0, h), (-h, 0)]
        }
        Marker::Plus => {
            let (a, b) = (round(1.4 * rf, 0.0).0, round(0.4 * rf, 0.0).0.max(1));
            vec![
                (-b, -a),
                (b, -a),
                (b, -b),
                (a, -b),
                (a, b),
                (b, b),
                (b, a),
                (-b, a),
                (-b, b),
                (-a, b),
                (-a, -b),
                (-b, -b),
            ]
        }
    }
}

/// Draws a curve's line (broken at unplottable points), markers when points are few, and its legend entry.
fn draw_line<'a, DB: DrawingBackend + 'a>(
    chart: &mut ChartContext<'a, DB, Cartesian2d<Axis, Axis>>,
    c: &Curve,
    (colour, shape): (Colour, Marker),
    (log_x, log_y): (bool, bool),
    scale: Scale,
) -> DrawResult<DB> {
    let stroke = colour.stroke_width(scale.stroke(LINE_PT));
    let runs = runs(c.x.len(), &[(&c.x[..], log_x), (&c.y[..], log_y)]);
    let point = |i: usize| (c.x[i], c.y[i]);
    chart.draw_series(
        runs.iter()
            .filter(|r| r.len() > 1)
            .map(|r| PathElement::new(r.iter().map(|&i| point(i)).collect::<Vec<_>>(), stroke)),
    )?;
    // Markers show where a sparse sweep was sampled and keep isolated points visible; on dense
    // curves every few points, so that lines of one colour stay apart by shape.
    let n = runs.iter().map(Vec::len).sum::<usize>();
    let every = if n <= 25 { 1 } else { n.div_ceil(10) };
    let r = scale.i(MARKER_PT).max(2);
    let markers = runs
        .iter()
        .flatten()
        .enumerate()
        .filter(|(k, _)| k % every == 0)
        .map(|(_, &i)| i)
        .chain(runs.iter().filter(|r| r.len() == 1).flatten().copied());
    let shape_pts = outline(shape, r);
    chart
        .draw_series(markers.map(|i| {
            EmptyElement::at(point(i)) + Polygon::new(shape_pts.clone(), colour.filled())
        }))?;
    if !c.label.is_empty() {
        let shaded = c.band.is_some() && !c.error_bars;
        let (w, h) = (scale.i(12.0), scale.i(3.0));
        // An empty series carries the legend entry, so it exists even when no point is plottable.
        chart
            .draw_series(Vec::<PathElement<(f64, f64)>>::new())?
            .label(c.label.as_str())
            .legend(move |(x, y)| {
                let band = if shaded {
                    colour.mix(0.18).filled()
                } else {
                    TRANSPARENT.filled()
                };
                let mark: Vec<(i32, i32)> = outline(shape, r)
                    .into_iter()
                    .map(|(u, v)| (u + w / 2, v))
                    .collect();
                EmptyElement::at((x, y))
                    + Rectangle::new([(0, -h), (w, h)], band)
                    + PathElement::new([(0, 0), (w, 0)], stroke)
                    + Polygon::new(mark, colour.filled())
            });
    }
    Ok(())
}

/// The divergence cross at a curve's last point and the notes beside single points.
fn draw_marks<'a, DB: DrawingBackend + 'a>(
    chart: &mut ChartContext<'a, DB, Cartesian2d<Axis, Axis>>,
    c: &Curve,
    colour: Colour,
    (log_x, log_y): (bool, bool),
    scale: Scale,
    format: Format,
) -> DrawResult<DB> {
    let ok = |i: usize| axis::plottable(c.x[i], log_x) && axis::plottable(c.y[i], log_y);
    if c.diverged {
        if let Some(last) = (0..c.x.len()).rev().find(|&i| ok(i)) {
            let size = scale.f(CROSS_PT);
            let style = (FONT, size)
                .into_font()
                .color(&colour)
                .pos(Pos::new(HPos::Center, VPos::Center));
            let drop = format.centre_drop(size).round() as i32;
            chart.draw_series([
                EmptyElement::at((c.x[last], c.y[last])) + Text::new("✗", (0, drop), style)
            ])?;
        }
    }
    let size = scale.f(NOTE_PT);
    let style = (FONT, size)
        .into_font()
        .color(&colour)
        .pos(Pos::new(HPos::Left, VPos::Bottom));
    let notes = c
        .notes
        .iter()
        .filter(|(i, _)| *i < c.x.len() && ok(*i))
        .map(|(i, text)| {
            EmptyElement::at((c.x[*i], c.y[*i]))
                + Text::new(text.clone(), (scale.i(3.0), -scale.i(3.0)), style.clone())
        });
    chart.draw_series(notes)?;
    Ok(())
}

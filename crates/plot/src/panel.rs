//! Drawing one panel of a line figure, and choosing where its legend hides the least data.

use plotters::coord::Shift;
use plotters::prelude::*;

use super::axis::{self, Axis};
use super::colour::palette;
use super::figure::{Curve, Panel};
use super::output::{DrawResult, FONT};

/// Space for tick labels and axis descriptions, in pixels; used both to lay out and to predict the plot area.
const X_LABEL_AREA: u32 = 50;
const Y_LABEL_AREA: u32 = 85;
const MARGIN: u32 = 12;
const CAPTION: u32 = 32;
const LEGEND_FONT: f64 = 14.0;

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
/// `cell` is the panel's size in pixels, used to predict the legend's share of the plot area.
pub(crate) fn place_legend(
    p: &Panel,
    x: Axis,
    (y_lo, y_hi): (f64, f64),
    y_fixed: bool,
    cell: (u32, u32),
) -> Plan {
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
    let font = (FONT, LEGEND_FONT).into_font();
    let text_w = labels
        .iter()
        .filter_map(|l| font.box_size(l).ok())
        .map(|(w, _)| w)
        .max()
        .unwrap_or(0);
    // Mirrors plotters' legend box: 30 px swatch, 10 px margins, ~1.25 line height, 5 px from the frame.
    let box_w = f64::from(text_w) + 50.0 + 5.0;
    let box_h = 1.25 * LEGEND_FONT * labels.len() as f64 + 20.0 + 5.0;
    let caption = if p.title.is_empty() { 0 } else { CAPTION };
    let plot_w = f64::from(cell.0.saturating_sub(2 * MARGIN + Y_LABEL_AREA).max(50));
    let plot_h = f64::from(
        cell.1
            .saturating_sub(2 * MARGIN + X_LABEL_AREA + caption)
            .max(50),
    );
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

/// Draws one panel into `area`.
pub(crate) fn draw<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    p: &Panel,
    plan: &Plan,
) -> DrawResult<DB> {
    let mut builder = ChartBuilder::on(area);
    builder
        .margin(MARGIN)
        .x_label_area_size(X_LABEL_AREA)
        .y_label_area_size(Y_LABEL_AREA);
    if !p.title.is_empty() {
        builder.caption(&p.title, (FONT, 20));
    }
    let mut chart = builder.build_cartesian_2d(plan.x.clone(), plan.y.clone())?;
    chart
        .configure_mesh()
        .x_desc(&p.x_label)
        .y_desc(&p.y_label)
        .axis_desc_style((FONT, 16))
        .label_style((FONT, 14))
        .x_label_formatter(&|v| plan.x.label(*v))
        .y_label_formatter(&|v| plan.y.label(*v))
        .bold_line_style(RGBColor(215, 215, 215))
        .light_line_style(RGBColor(238, 238, 238))
        .draw()?;

    let (log_x, log_y) = (p.log_x, p.log_y);
    // Bands first, so that no band hides another curve's line.
    for (i, c) in p.curves.iter().enumerate() {
        let colour = palette(i);
        let Some((lo, hi)) = &c.band else { continue };
        let cols = [(&c.x[..], log_x), (&lo[..], log_y), (&hi[..], log_y)];
        if c.error_bars {
            let stroke = colour.stroke_width(2);
            let points: Vec<usize> = runs(c.x.len(), &cols).into_iter().flatten().collect();
            chart.draw_series(
                points
                    .iter()
                    .map(|&i| PathElement::new([(c.x[i], lo[i]), (c.x[i], hi[i])], stroke)),
            )?;
            // Caps are offset in pixels so they keep their width on a log x axis.
            let caps = points
                .iter()
                .flat_map(|&i| [(c.x[i], lo[i]), (c.x[i], hi[i])]);
            chart.draw_series(
                caps.map(|at| EmptyElement::at(at) + PathElement::new([(-5, 0), (5, 0)], stroke)),
            )?;
        } else {
            let polys = runs(c.x.len(), &cols)
                .into_iter()
                .filter(|r| r.len() > 1)
                .map(|r| {
                    let upper = r.iter().map(|&i| (c.x[i], hi[i]));
                    let lower = r.iter().rev().map(|&i| (c.x[i], lo[i]));
                    Polygon::new(
                        upper.chain(lower).collect::<Vec<_>>(),
                        colour.mix(0.2).filled(),
                    )
                });
            chart.draw_series(polys)?;
        }
    }
    for (i, c) in p.curves.iter().enumerate() {
        draw_line(&mut chart, c, palette(i), (log_x, log_y))?;
    }
    if let Some(corner) = &plan.legend {
        chart
            .configure_series_labels()
            .position(corner.clone())
            .background_style(WHITE.mix(0.92))
            .border_style(BLACK.mix(0.4))
            .label_font((FONT, LEGEND_FONT))
            .draw()?;
    }
    Ok(())
}

/// Draws a curve's line (broken at unplottable points), markers when points are few, and its legend entry.
fn draw_line<'a, DB: DrawingBackend + 'a>(
    chart: &mut ChartContext<'a, DB, Cartesian2d<Axis, Axis>>,
    c: &Curve,
    colour: RGBColor,
    (log_x, log_y): (bool, bool),
) -> DrawResult<DB> {
    let stroke = colour.stroke_width(2);
    let runs = runs(c.x.len(), &[(&c.x[..], log_x), (&c.y[..], log_y)]);
    let point = |i: usize| (c.x[i], c.y[i]);
    chart.draw_series(
        runs.iter()
            .filter(|r| r.len() > 1)
            .map(|r| PathElement::new(r.iter().map(|&i| point(i)).collect::<Vec<_>>(), stroke)),
    )?;
    // Markers show where a sparse sweep was sampled and keep isolated points visible.
    let few = runs.iter().map(Vec::len).sum::<usize>() <= 25;
    let markers = runs.iter().filter(|r| few || r.len() == 1).flatten();
    chart.draw_series(markers.map(|&i| Circle::new(point(i), 3, colour.filled())))?;
    if !c.label.is_empty() {
        let shaded = c.band.is_some() && !c.error_bars;
        // An empty series carries the legend entry, so it exists even when no point is plottable.
        chart
            .draw_series(Vec::<PathElement<(f64, f64)>>::new())?
            .label(c.label.as_str())
            .legend(move |(x, y)| {
                let band = if shaded {
                    colour.mix(0.2).filled()
                } else {
                    TRANSPARENT.filled()
                };
                EmptyElement::at((x, y))
                    + Rectangle::new([(0, -6), (22, 6)], band)
                    + PathElement::new([(0, 0), (22, 0)], stroke)
            });
    }
    Ok(())
}

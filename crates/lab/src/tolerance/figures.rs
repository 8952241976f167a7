//! Figures of a tolerance search: the metric against the axis (seed spread as error bars, the
//! allowed band, the tolerances marked), one line per compared value and one panel per across
//! value; and, when the across axis is numeric, the boundary: tolerance against the across axis.

use super::output::short;
use super::search::Scale;
use super::{Direction, ToleranceReport};
use crate::error::Result;
use plot::{Curve, Panel, figure};
use serde_json::Value;
use std::path::{Path, PathBuf};

/// Draw `tolerance.png/svg` (and `tolerance-boundary.png/svg` for a numeric across axis) into
/// `out`, the PNG files at `dpi` dots per inch; returns the stems written.
pub fn draw(out: &Path, report: &ToleranceReport, dpi: u32) -> Result<Vec<PathBuf>> {
    let opts = &plot::Options { dpi };
    let plan = &report.plan;
    let mut across: Vec<&Value> = Vec::new();
    let mut compare: Vec<&Value> = Vec::new();
    for r in &report.results {
        if !across.contains(&&r.across) {
            across.push(&r.across);
        }
        if !compare.contains(&&r.compare) {
            compare.push(&r.compare);
        }
    }
    let panels: Vec<Panel> = across
        .iter()
        .map(|a| metric_panel(report, a, &compare))
        .collect();
    let stem = out.join("tolerance");
    let metric = crate::labels::Labels::defaults().metric(&plan.metric);
    let drop = if metric.percent {
        format!(
            "{} points",
            short(&Value::from(metric.scale(plan.max_drop)))
        )
    } else {
        short(&Value::from(plan.max_drop))
    };
    let title = format!(
        "{} tolerance of {} (max drop {drop}, {} seeds, {} %)",
        axis_label(&plan.axis),
        metric.name,
        plan.seeds.len(),
        100.0 * plan.confidence
    );
    let caption = format!(
        "points: mean over {} seeds, bars: ± 1 std; band: the allowed drop below the reference",
        plan.seeds.len()
    );
    figure(&stem, &title, &caption, &panels, opts)?;
    let mut stems = vec![stem];
    let numeric = across.len() > 1 && across.iter().all(|a| a.is_number());
    if numeric && let Some((path, _)) = &plan.across {
        let stem = out.join("tolerance-boundary");
        figure(
            &stem,
            &format!(
                "{} tolerance against {}",
                axis_label(&plan.axis),
                axis_label(path)
            ),
            "the largest excursion that stays within the allowed drop, per value",
            &[boundary_panel(report, &across, &compare, path)],
            opts,
        )?;
        stems.push(stem);
    }
    Ok(stems)
}

fn name(v: &Value) -> String {
    if v.is_null() { String::new() } else { short(v) }
}

fn metric_panel(report: &ToleranceReport, across: &Value, compare: &[&Value]) -> Panel {
    let plan = &report.plan;
    // Accuracies are drawn in percent, as every other figure draws them.
    let metric = crate::labels::Labels::defaults().metric(&plan.metric);
    let sc = |v: f64| metric.scale(v);
    let mut curves = Vec::new();
    let mut lo = f64::INFINITY;
    let mut hi = f64::NEG_INFINITY;
    for p in report.probes.iter().filter(|p| &p.across == across) {
        for v in [
            sc(p.summary.mean - p.summary.std),
            sc(p.summary.mean + p.summary.std),
        ] {
            if v.is_finite() {
                lo = lo.min(v);
                hi = hi.max(v);
            }
        }
    }
    let xs: Vec<f64> = report
        .probes
        .iter()
        .filter(|p| &p.across == across)
        .map(|p| p.value)
        .collect();
    let (xmin, xmax) = xs
        .iter()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), &x| {
            (a.min(x), b.max(x))
        });
    let mut marks = Vec::new();
    for c in compare {
        let mut probes: Vec<_> = report
            .probes
            .iter()
            .filter(|p| &p.across == across && &p.compare == *c)
            .collect();
        probes.sort_by(|a, b| a.value.total_cmp(&b.value));
        let x: Vec<f64> = probes.iter().map(|p| p.value).collect();
        let y: Vec<f64> = probes.iter().map(|p| sc(p.summary.mean)).collect();
        let lower: Vec<f64> = probes
            .iter()
            .map(|p| sc(p.summary.mean - p.summary.std))
            .collect();
        let upper: Vec<f64> = probes
            .iter()
            .map(|p| sc(p.summary.mean + p.summary.std))
            .collect();
        let who = match &plan.compare {
            Some((path, _)) if !c.is_null() => crate::labels::Labels::defaults().value(path, c),
            _ => name(c),
        };
        curves.push(
            Curve::new(
                if who.is_empty() {
                    metric.name.clone()
                } else {
                    who.clone()
                },
                x,
                y,
            )
            .with_error_bars(lower, upper),
        );
        let Some(r) = report
            .results
            .iter()
            .find(|r| &r.across == across && &r.compare == *c)
        else {
            continue;
        };
        let reference = r.reference.mean;
        let limit = if plan.higher_is_better {
            reference - r.allowed
        } else {
            reference + r.allowed
        };
        let (reference, limit) = (sc(reference), sc(limit));
        let (band_lo, band_hi) = (reference.min(limit), reference.max(limit));
        curves.push(
            Curve::new(
                format!("{who} allowed").trim().to_owned(),
                vec![xmin, xmax],
                vec![reference, reference],
            )
            .with_band(vec![band_lo; 2], vec![band_hi; 2]),
        );
        lo = lo.min(band_lo);
        hi = hi.max(band_hi);
        let ts: Vec<f64> = report
            .results
            .iter()
            .filter(|s| &s.across == across && &s.compare == *c)
            .map(|s| s.found.tolerance)
            .collect();
        marks.push((format!("{who} tolerance").trim().to_owned(), ts));
    }
    let pad = 0.05 * (hi - lo).max(1e-6);
    // The tolerances as vertical marks over the whole panel, NaN between them breaking the line.
    for (label, ts) in marks {
        let mx: Vec<f64> = ts.iter().flat_map(|&t| [t, t, f64::NAN]).collect();
        let my: Vec<f64> = ts
            .iter()
            .flat_map(|_| [lo - pad, hi + pad, f64::NAN])
            .collect();
        curves.push(Curve::new(label, mx, my));
    }
    let title = if across.is_null() {
        String::new()
    } else {
        format!(
            "{} = {}",
            axis_label(&plan.across.as_ref().map_or(String::new(), |a| a.0.clone())),
            short(across)
        )
    };
    Panel {
        title,
        x_label: axis_label(&plan.axis),
        y_label: metric.axis(),
        curves,
        log_x: plan.scale == Scale::Log,
        log_y: false,
        y_range: (lo.is_finite() && hi.is_finite()).then_some((lo - pad, hi + pad)),
    }
}

fn boundary_panel(
    report: &ToleranceReport,
    across: &[&Value],
    compare: &[&Value],
    path: &str,
) -> Panel {
    let plan = &report.plan;
    let x: Vec<f64> = across.iter().filter_map(|a| a.as_f64()).collect();
    let mut curves = Vec::new();
    for c in compare {
        for d in [Direction::Down, Direction::Up] {
            let found: Vec<Option<&super::Found>> = across
                .iter()
                .map(|a| {
                    report
                        .results
                        .iter()
                        .find(|r| &r.across == *a && &r.compare == *c && r.direction == d)
                        .map(|r| &r.found)
                })
                .collect();
            let y: Vec<f64> = found
                .iter()
                .map(|f| f.map_or(f64::NAN, |f| f.tolerance))
                .collect();
            // The bar spans the bracket: from the last pass to the first failure.
            let fail: Vec<f64> = found
                .iter()
                .map(|f| f.map_or(f64::NAN, |f| f.bracket.1.unwrap_or(f.tolerance)))
                .collect();
            if y.iter().all(|v| v.is_nan()) {
                continue;
            }
            let label = format!(
                "{} {}",
                name(c),
                if d == Direction::Up {
                    "upper limit"
                } else {
                    "lower limit"
                }
            );
            let (lower, upper) = y
                .iter()
                .zip(&fail)
                .map(|(a, b)| (a.min(*b), a.max(*b)))
                .unzip();
            curves.push(
                Curve::new(label.trim().to_owned(), x.clone(), y).with_error_bars(lower, upper),
            );
        }
    }
    let positive = x.iter().all(|&v| v > 0.0);
    let span = x.iter().cloned().fold(f64::NEG_INFINITY, f64::max)
        / x.iter().cloned().fold(f64::INFINITY, f64::min);
    Panel {
        title: String::new(),
        x_label: axis_label(path),
        y_label: format!("tolerated {}", axis_label(&plan.axis)),
        curves,
        log_x: positive && span >= 100.0,
        log_y: plan.scale == Scale::Log,
        y_range: None,
    }
}

/// The axis title of a field path, by the default names of figures.
fn axis_label(path: &str) -> String {
    crate::labels::Labels::defaults().axis(path)
}

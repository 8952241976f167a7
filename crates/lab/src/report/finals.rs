//! A final metric over the sweep: against one numeric axis (lines, error bars) or over two axes
//! (heatmaps). Points where runs diverged say so (`✗ 1/3`); the diverged share itself is drawn
//! as a percentage without error bars.

use super::group::{Finals, combos, describe, over, select};
use super::{Context, categorical, check_metric, mean_std, safe, values_of};
use crate::error::{LabError, Result};
use plot::{Curve, Heatmap, Panel, figure, heatmap, sequential};
use serde_json::Value;
use std::path::{Path, PathBuf};

/// final-<metric>-vs-<x>.png/.svg: the final metric against the numeric axis `x`, one line per
/// value of `lines`, one panel per value of `panels`.
pub(crate) fn final_vs_axis(
    ctx: &Context<'_>,
    out: &Path,
    x: &str,
    metric: &str,
    (lines, panels): (Option<&str>, Option<&str>),
) -> Result<PathBuf> {
    check_metric(ctx.records, metric)?;
    let xs = values_of(ctx.exp, x)?;
    if !xs.iter().all(Value::is_number) {
        return Err(LabError::Invalid {
            path: ctx.exp.source.clone().unwrap_or_default(),
            position: None,
            field: "plots".into(),
            message: format!("axis {x:?} must be numeric for a Final plot"),
        });
    }
    let label = ctx.labels.metric(metric);
    let share = metric == "diverged";
    let line_axes: Vec<&str> = lines.into_iter().collect();
    let panel_axes: Vec<&str> = panels.into_iter().collect();
    let line_combos = combos(ctx, &line_axes)?;
    let ordered = lines.is_some_and(|l| !categorical(ctx.exp, l)) && line_combos.len() > 1;
    // Levels spread over decades (β = 0.01, 0.1, 1) are read on a log axis.
    let numbers: Vec<f64> = xs.iter().filter_map(Value::as_f64).collect();
    let lo = numbers.iter().copied().fold(f64::INFINITY, f64::min);
    let hi = numbers.iter().copied().fold(0.0, f64::max);
    let log_x = lo > 0.0 && hi / lo >= 10.0;
    let mut all_diverged = 0;
    let mut figure_panels = Vec::new();
    for pc in combos(ctx, &panel_axes)? {
        let mut curves = Vec::new();
        for (i, lc) in line_combos.iter().enumerate() {
            let (mut px, mut py, mut lo, mut hi) = (vec![], vec![], vec![], vec![]);
            let mut notes = Vec::new();
            for xv in xs {
                let axes: Vec<&str> = [x]
                    .iter()
                    .chain(&line_axes)
                    .chain(&panel_axes)
                    .copied()
                    .collect();
                let combo: Vec<&Value> = [xv]
                    .into_iter()
                    .chain(lc.iter().copied())
                    .chain(pc.iter().copied())
                    .collect();
                let finals = Finals::of(&select(ctx.records, &axes, &combo), metric);
                if finals.values.is_empty() {
                    all_diverged += usize::from(finals.n > 0);
                    continue;
                }
                let (m, s) = mean_std(&finals.values);
                let (m, s) = (label.scale(m), label.scale(s));
                if !share {
                    if let Some(note) = finals.note() {
                        notes.push((px.len(), note));
                    }
                }
                px.push(xv.as_f64().unwrap_or(f64::NAN));
                py.push(m);
                lo.push(m - s);
                hi.push(m + s);
            }
            let name = if line_axes.is_empty() {
                label.name.clone()
            } else {
                describe(ctx, &line_axes, lc)
            };
            let mut curve = Curve::new(name, px, py);
            if !share {
                curve = curve.with_error_bars(lo, hi);
            }
            curve.notes = notes;
            if ordered {
                curve = curve.with_colour(sequential(i, line_combos.len()));
            }
            curves.push(curve);
        }
        figure_panels.push(Panel {
            title: describe(ctx, &panel_axes, &pc),
            x_label: ctx.labels.axis(x),
            y_label: if share {
                label.axis()
            } else {
                format!("{}{}", last_or_best(metric), label.axis())
            },
            curves,
            y_range: if share {
                Some((0.0, 100.0))
            } else {
                ctx.percent_range(label.percent)
            },
            log_x,
            ..Panel::default()
        });
    }
    let mut shown = vec![x];
    shown.extend(&line_axes);
    shown.extend(&panel_axes);
    let n = over(ctx, &shown);
    let (title, mut caption) = if share {
        (
            format!("{}: share of runs that diverged", ctx.exp.name),
            format!("points: share of the {n} per point that diverged during training"),
        )
    } else {
        (
            format!(
                "{}: {}{} vs {}",
                ctx.exp.name,
                last_or_best(metric),
                label.name,
                ctx.labels.axis(x)
            ),
            format!(
                "points: mean ± std over {n}, diverged runs left out; ✗ k/n: k of n runs diverged"
            ),
        )
    };
    if all_diverged > 0 && !share {
        caption.push_str(&format!(
            "\nmissing points ({all_diverged}): every run diverged"
        ));
    }
    let stem = out.join(format!("final-{}-vs-{}", safe(metric), safe(x)));
    figure(&stem, &title, &caption, &figure_panels, &ctx.opts)?;
    Ok(stem)
}

/// heatmap-<metric>-<x>-<y>[-i].png/.svg: the final metric over two axes, one figure per value of
/// `panels`.
pub(crate) fn heatmaps(
    ctx: &Context<'_>,
    out: &Path,
    (x, y): (&str, &str),
    metric: &str,
    panels: Option<&str>,
) -> Result<Vec<PathBuf>> {
    check_metric(ctx.records, metric)?;
    let xs = values_of(ctx.exp, x)?;
    let ys = values_of(ctx.exp, y)?;
    let label = ctx.labels.metric(metric);
    let panel_axes: Vec<&str> = panels.into_iter().collect();
    let mut shown = vec![x, y];
    shown.extend(&panel_axes);
    let caption = format!(
        "cells: mean, under it ± std, over {}, diverged runs left out; ✗ k/n: k of n runs diverged",
        over(ctx, &shown)
    );
    let mut written = Vec::new();
    for (i, pc) in combos(ctx, &panel_axes)?.iter().enumerate() {
        let mut values = Vec::new();
        // Per cell: the std (when two or more runs count) and the divergence note, written once the
        // decimals are known.
        let mut spreads = Vec::new();
        for yv in ys {
            let (mut row, mut row_spreads) = (Vec::new(), Vec::new());
            for xv in xs {
                let axes: Vec<&str> = [x, y].iter().chain(&panel_axes).copied().collect();
                let combo: Vec<&Value> = [xv, yv].into_iter().chain(pc.iter().copied()).collect();
                let finals = Finals::of(&select(ctx.records, &axes, &combo), metric);
                let (mean, std) = mean_std(&finals.values);
                row.push((!finals.values.is_empty()).then(|| label.scale(mean)));
                let std = (finals.values.len() > 1).then(|| label.scale(std));
                row_spreads.push((std, finals.note()));
            }
            values.push(row);
            spreads.push(row_spreads);
        }
        let largest = values
            .iter()
            .flatten()
            .flatten()
            .fold(0f64, |m, v| m.max(v.abs()));
        let decimals = distinguishing_decimals(
            values.iter().flatten().flatten().copied(),
            if label.percent || largest >= 10.0 {
                1
            } else if largest >= 1.0 {
                2
            } else {
                3
            },
        );
        let notes = spreads
            .iter()
            .map(|row| {
                row.iter()
                    .map(|(std, diverged)| {
                        let std = std.map(|s| format!("± {s:.decimals$}"));
                        [std, diverged.clone()]
                            .into_iter()
                            .flatten()
                            .collect::<Vec<_>>()
                            .join(" ")
                    })
                    .collect()
            })
            .collect();
        let setting = describe(ctx, &panel_axes, pc);
        let suffix = if setting.is_empty() {
            String::new()
        } else {
            format!(" ({setting})")
        };
        let map = Heatmap {
            title: format!(
                "{}: {}{}{suffix}",
                ctx.exp.name,
                last_or_best(metric),
                label.name
            ),
            caption: caption.clone(),
            x_label: ctx.labels.axis(x),
            y_label: ctx.labels.axis(y),
            x_ticks: xs.iter().map(|v| ctx.labels.value(x, v)).collect(),
            y_ticks: ys.iter().map(|v| ctx.labels.value(y, v)).collect(),
            values,
            value_label: format!("{}{}", last_or_best(metric), label.axis()),
            decimals,
            notes,
        };
        let mut name = format!("heatmap-{}-{}-{}", safe(metric), safe(x), safe(y));
        if !panel_axes.is_empty() {
            name.push_str(&format!("-{i}"));
        }
        let stem = out.join(name);
        heatmap(&stem, &map, &ctx.opts)?;
        written.push(stem);
    }
    Ok(written)
}

/// "final " before a metric taken at the last epoch; nothing before one that names its epoch
/// itself (the test accuracy at the best validation epoch).
fn last_or_best(metric: &str) -> &'static str {
    if metric == crate::validation::BEST_VALIDATION_TEST_ACC {
        ""
    } else {
        "final "
    }
}

/// `decimals`, or one more when two different cell values would print alike with `decimals` (test
/// accuracies of 91.93 % and 91.88 % both reading 91.9 suggest a tie the runs did not have).
pub(super) fn distinguishing_decimals(values: impl Iterator<Item = f64>, decimals: usize) -> usize {
    let mut shown: Vec<(String, f64)> = values.map(|v| (format!("{v:.decimals$}"), v)).collect();
    shown.sort_by(|a, b| a.0.cmp(&b.0));
    // Equal texts sort next to each other, so different values behind one text meet in a window.
    let collide = shown
        .windows(2)
        .any(|w| w[0].0 == w[1].0 && w[0].1 != w[1].1);
    decimals + usize::from(collide)
}

//! convergence.png/.svg: test accuracy and loss against epoch.
//!
//! Lines are points of the sweep (or the values of one axis); categorical axes (algorithm kinds,
//! hardware) get a row of panels per value, so they are never averaged together; a line whose runs
//! diverged ends at the divergence with ✗.

use super::group::{combos, describe, over, select};
use super::{Context, categorical, epoch_metric, mean_std, values_of};
use crate::error::Result;
use crate::labels::MetricLabel;
use crate::results::RunRecord;
use crate::spec::{Experiment, Loss};
use plot::{Curve, Panel, figure, sequential};
use std::path::{Path, PathBuf};

/// Draws the convergence figure of `records` into `out`: one line per value of `axis` (when absent,
/// of the last numeric sweep axis), one row of panels per combination of the categorical axes (and,
/// without `axis`, of the other numeric axes); returns the stem written.
pub fn convergence(
    out: &Path,
    exp: &Experiment,
    records: &[RunRecord],
    axis: Option<&str>,
    from_epoch: usize,
) -> Result<PathBuf> {
    draw(&Context::new(exp, records), out, axis, from_epoch)
}

fn draw(ctx: &Context<'_>, out: &Path, axis: Option<&str>, from: usize) -> Result<PathBuf> {
    let exp = ctx.exp;
    let paths = exp.sweep.paths();
    let all: Vec<&str> = paths.iter().map(String::as_str).collect();
    let any_numeric = all.iter().any(|p| !categorical(exp, p));
    let (lines, panels): (Vec<&str>, Vec<&str>) = match axis {
        Some(a) => {
            values_of(exp, a)?;
            let panels = all
                .iter()
                .copied()
                .filter(|p| *p != a && categorical(exp, p))
                .collect();
            (vec![a], panels)
        }
        // Categorical axes alone are few lines in one panel; beside numeric axes they get panels,
        // and so do all numeric axes but the last, so a panel's legend stays short.
        None if any_numeric => {
            let last = all.iter().rev().find(|p| !categorical(exp, p)).copied();
            let panels = all.iter().copied().filter(|p| Some(*p) != last).collect();
            (last.into_iter().collect(), panels)
        }
        None => (all.clone(), vec![]),
    };
    let line_combos = combos(ctx, &lines)?;
    let single = line_combos.len() <= 1;
    let ordered = lines.len() == 1 && !categorical(exp, lines[0]) && !single;
    let accuracy = ctx.labels.metric("test_acc");
    let loss_name = match exp.network.loss {
        Loss::CrossEntropy => "cross-entropy",
        Loss::Mse => "MSE",
    };
    let mut figure_panels = Vec::new();
    for pc in combos(ctx, &panels)? {
        let (mut acc, mut loss) = (Vec::new(), Vec::new());
        for (i, lc) in line_combos.iter().enumerate() {
            let axes: Vec<&str> = panels.iter().chain(&lines).copied().collect();
            let combo: Vec<_> = pc.iter().chain(lc).copied().collect();
            let runs = select(ctx.records, &axes, &combo);
            if runs.is_empty() {
                continue;
            }
            if single {
                for split in ["test", "train"] {
                    let acc_name = format!("{split}_acc");
                    let acc_label = ctx.labels.metric(&acc_name);
                    acc.push(epoch_curve(split, &runs, &acc_name, &acc_label, from));
                    let loss_name = format!("{split}_loss");
                    let loss_label = ctx.labels.metric(&loss_name);
                    loss.push(epoch_curve(split, &runs, &loss_name, &loss_label, from));
                }
            } else {
                let label = describe(ctx, &lines, lc);
                let mut a = epoch_curve(&label, &runs, "test_acc", &accuracy, from);
                let mut l = epoch_curve(
                    &label,
                    &runs,
                    "test_loss",
                    &ctx.labels.metric("test_loss"),
                    from,
                );
                if ordered {
                    a = a.with_colour(sequential(i, line_combos.len()));
                    l = l.with_colour(sequential(i, line_combos.len()));
                }
                acc.push(a);
                loss.push(l);
            }
        }
        end_explosions(&mut loss);
        let prefix = describe(ctx, &panels, &pc);
        let title = |what: &str| {
            if prefix.is_empty() {
                what.to_owned()
            } else {
                format!("{prefix}: {what}")
            }
        };
        let which = if single { "" } else { "test " };
        figure_panels.push(Panel {
            title: title(&format!("{which}accuracy")),
            x_label: "epoch".into(),
            y_label: if single {
                "accuracy (%)".into()
            } else {
                accuracy.axis()
            },
            curves: acc,
            y_range: ctx.percent_range(true),
            ..Panel::default()
        });
        figure_panels.push(Panel {
            title: title(&format!("{which}loss")),
            x_label: "epoch".into(),
            y_label: format!("{which}loss ({loss_name})"),
            curves: loss,
            log_y: true,
            ..Panel::default()
        });
    }
    let mut caption = String::new();
    if exp.sweep.is_empty() {
        let a = &exp.algorithm;
        let kind = serde_json::Value::String(format!("{:?}", a.kind));
        caption.push_str(&format!(
            "{}, α = {}, β = {}\n",
            ctx.labels.value("algorithm.kind", &kind),
            a.alpha,
            a.beta
        ));
    }
    let mut shown: Vec<&str> = panels.clone();
    shown.extend(&lines);
    caption.push_str(&format!(
        "lines: mean over {}; bands: ± 1 std; ✗: training diverged, the line ends there",
        over(ctx, &shown)
    ));
    if from > 0 {
        caption.push_str(&format!("; from epoch {from} on"));
    }
    let stem = out.join("convergence");
    let what = if single {
        "accuracy and loss"
    } else {
        "test accuracy and loss"
    };
    figure(
        &stem,
        &format!("{}: {what} during training", exp.name),
        &caption,
        &figure_panels,
        &ctx.opts,
    )?;
    Ok(stem)
}

/// Mean ± std over `runs` of one metric per epoch from epoch `from` on, in the metric's display
/// scale.
///
/// When any run diverged, the line stops at the last epoch every run completed and ends in ✗,
/// so the mean never silently changes the runs it is taken over.
fn epoch_curve(
    label: &str,
    runs: &[&RunRecord],
    metric: &str,
    scale: &MetricLabel,
    from: usize,
) -> Curve {
    let diverged = runs.iter().filter(|r| r.divergence.is_some()).count();
    let longest = runs.iter().map(|r| r.epochs.len()).max().unwrap_or(0);
    let end = if diverged > 0 {
        runs.iter().map(|r| r.epochs.len()).min().unwrap_or(0)
    } else {
        longest
    };
    let (mut x, mut y, mut lo, mut hi) = (vec![], vec![], vec![], vec![]);
    for e in 0..end {
        let values: Vec<f64> = runs
            .iter()
            .filter_map(|r| r.epochs.get(e))
            .filter_map(|m| epoch_metric(m, metric))
            .filter(|v| v.is_finite())
            .map(|v| scale.scale(v))
            .collect();
        let Some(epoch) = runs.iter().find_map(|r| r.epochs.get(e)).map(|m| m.epoch) else {
            continue;
        };
        if values.is_empty() || epoch < from {
            continue;
        }
        let (m, s) = mean_std(&values);
        x.push(epoch as f64);
        y.push(m);
        lo.push(m - s);
        hi.push(m + s);
    }
    let label = if diverged > 0 {
        format!("{label} (✗ {diverged}/{} diverged)", runs.len())
    } else {
        label.to_owned()
    };
    let curve = Curve::new(label, x, y).diverging(diverged > 0);
    if runs.len() > 1 {
        curve.with_band(lo, hi)
    } else {
        curve
    }
}

/// Ends diverged loss curves where they leave the range of the others (10× their largest value,
/// or 1000× the largest first value when every curve diverged), so that a loss of 1e60 just before
/// a divergence does not stretch the axis; the ✗ then sits at the last point in range.
fn end_explosions(curves: &mut [Curve]) {
    let top = |c: &Curve| {
        let band = c.band.iter().flat_map(|(_, hi)| hi.iter());
        c.y.iter()
            .chain(band)
            .copied()
            .filter(|v| v.is_finite())
            .fold(f64::NEG_INFINITY, f64::max)
    };
    let calm = curves
        .iter()
        .filter(|c| !c.diverged)
        .map(top)
        .fold(f64::NEG_INFINITY, f64::max);
    let cap = if calm.is_finite() {
        10.0 * calm
    } else {
        let first = curves
            .iter()
            .filter_map(|c| c.y.first().copied())
            .filter(|v| v.is_finite())
            .fold(f64::NEG_INFINITY, f64::max);
        1000.0 * first
    };
    if !(cap.is_finite() && cap > 0.0) {
        return;
    }
    for c in curves.iter_mut().filter(|c| c.diverged) {
        let keep = c.y.iter().position(|&v| v > cap).unwrap_or(c.y.len());
        c.x.truncate(keep);
        c.y.truncate(keep);
        if let Some((lo, hi)) = &mut c.band {
            lo.truncate(keep);
            hi.truncate(keep);
            // The band may still reach above the cap where the mean does not.
            hi.iter_mut().for_each(|v| *v = v.min(cap));
        }
    }
}

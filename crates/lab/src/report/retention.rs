//! retention.png/.svg: test accuracy against time since programming, after training.

use super::group::{combos, describe, over, select};
use super::{Context, categorical, mean_std};
use crate::error::Result;
use plot::{Curve, Panel, figure, sequential};
use std::path::{Path, PathBuf};

/// Where a log time axis draws t = 0, in seconds.
const T_ZERO_AT: f64 = 0.1;

/// Mean ± std over runs of the test accuracy at each retention time, one line per value of `lines`.
pub(crate) fn retention(ctx: &Context<'_>, out: &Path, lines: Option<&str>) -> Result<PathBuf> {
    let times: Vec<f64> = ctx
        .exp
        .retention
        .as_ref()
        .map(|r| r.times.clone())
        .unwrap_or_default();
    let line_axes: Vec<&str> = lines.into_iter().collect();
    let line_combos = combos(ctx, &line_axes)?;
    let ordered = lines.is_some_and(|l| !categorical(ctx.exp, l)) && line_combos.len() > 1;
    let accuracy = ctx.labels.metric("test_acc");
    let mut curves = Vec::new();
    for (i, lc) in line_combos.iter().enumerate() {
        let runs = select(ctx.records, &line_axes, lc);
        let diverged = runs.iter().filter(|r| r.divergence.is_some()).count();
        let (mut x, mut y, mut lo, mut hi) = (vec![], vec![], vec![], vec![]);
        for &t in &times {
            let acc: Vec<f64> = runs
                .iter()
                .flat_map(|r| r.retention.iter().filter(|p| p.t == t).map(|p| p.test_acc))
                .filter(|a| a.is_finite())
                .map(|a| accuracy.scale(a))
                .collect();
            if acc.is_empty() {
                continue;
            }
            let (m, s) = mean_std(&acc);
            x.push(t.max(T_ZERO_AT));
            y.push(m);
            lo.push(m - s);
            hi.push(m + s);
        }
        let mut label = if line_axes.is_empty() {
            accuracy.name.clone()
        } else {
            describe(ctx, &line_axes, lc)
        };
        if diverged > 0 {
            label.push_str(&format!(
                " (✗ {diverged}/{} diverged, left out)",
                runs.len()
            ));
        }
        let mut curve = Curve::new(label, x, y).with_error_bars(lo, hi);
        if ordered {
            curve = curve.with_colour(sequential(i, line_combos.len()));
        }
        curves.push(curve);
    }
    let mut caption = format!(
        "lines: mean ± std over {}, diverged runs left out",
        over(ctx, &line_axes)
    );
    if times.contains(&0.0) {
        caption.push_str(&format!("; t = 0 is drawn at {T_ZERO_AT} s"));
    }
    let stem = out.join("retention");
    figure(
        &stem,
        &format!("{}: test accuracy after drift", ctx.exp.name),
        &caption,
        &[Panel {
            title: String::new(),
            x_label: "time since programming (s)".into(),
            y_label: accuracy.axis(),
            curves,
            log_x: true,
            y_range: ctx.percent_range(true),
            ..Panel::default()
        }],
        &ctx.opts,
    )?;
    Ok(stem)
}

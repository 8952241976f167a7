//! Figures drawn from run records: convergence curves, heatmaps, final metric against an axis.

use crate::error::{LabError, Result};
use crate::field::FieldError;
use crate::job::EpochMetrics;
use crate::results::RunRecord;
use crate::spec::{Experiment, PlotSpec};
use plot::{Curve, Heatmap, Panel, figure, heatmap};
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// Short text of a sweep value: strings without quotes, numbers as written.
pub fn value_label(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// Short name of an axis path for legends: `algorithm.alpha` → `α`, others keep their last part.
pub fn axis_label(path: &str) -> String {
    match path.rsplit('.').next().unwrap_or(path) {
        "alpha" => "α".into(),
        "beta" => "β".into(),
        "kind" => "algorithm".into(),
        last => last.into(),
    }
}

/// A metric of an epoch by its metrics.csv column name.
pub fn epoch_metric(m: &EpochMetrics, name: &str) -> Option<f64> {
    match name {
        "train_loss" => Some(m.train_loss),
        "train_acc" => Some(m.train_acc),
        "test_loss" => Some(m.test_loss),
        "test_acc" => Some(m.test_acc),
        other => m.extra.get(other).copied(),
    }
}

/// The final value of `metric` of a run; None when it diverged or never measured it.
/// `diverged` itself is 1 for a diverged run and 0 otherwise.
pub fn final_metric(r: &RunRecord, metric: &str) -> Option<f64> {
    if metric == "diverged" {
        return Some(if r.divergence.is_some() { 1.0 } else { 0.0 });
    }
    if r.divergence.is_some() {
        return None;
    }
    r.last()
        .and_then(|m| epoch_metric(m, metric))
        .filter(|v| v.is_finite())
}

/// The figures an experiment gets when it names none: convergence always, then by the sweep axes.
pub fn default_plots(exp: &Experiment) -> Vec<PlotSpec> {
    let axes = &exp.sweep.0;
    let numeric: Vec<&str> = axes
        .iter()
        .filter(|a| a.values.iter().all(Value::is_number) && a.values.len() > 1)
        .map(|a| a.path.as_str())
        .collect();
    let other: Vec<&str> = axes
        .iter()
        .map(|a| a.path.as_str())
        .filter(|p| !numeric.contains(p))
        .collect();
    let mut plots = vec![PlotSpec::Convergence {
        axis: (exp.sweep.len() > 10).then(|| axes[0].path.clone()),
    }];
    if exp.retention.is_some() {
        plots.push(PlotSpec::Retention {
            lines: axes.first().map(|a| a.path.clone()),
        });
    }
    match numeric.as_slice() {
        [] => {}
        [x] => plots.push(PlotSpec::Final {
            x: x.to_string(),
            metric: "test_acc".into(),
            lines: other.first().map(|s| s.to_string()),
            panels: other.get(1).map(|s| s.to_string()),
        }),
        [x, y, ..] => {
            plots.push(PlotSpec::Heatmap {
                x: x.to_string(),
                y: y.to_string(),
                metric: "test_acc".into(),
                panels: other.first().map(|s| s.to_string()),
            });
            plots.push(PlotSpec::Final {
                x: x.to_string(),
                metric: "test_acc".into(),
                lines: Some(y.to_string()),
                panels: other.first().map(|s| s.to_string()),
            });
        }
    }
    plots
}

/// Draw every figure of `exp` from `records` into `out`; returns the stems written.
pub fn draw(out: &Path, exp: &Experiment, records: &[RunRecord]) -> Result<Vec<PathBuf>> {
    let plots = if exp.plots.is_empty() {
        default_plots(exp)
    } else {
        exp.plots.clone()
    };
    let mut written = Vec::new();
    for plot in &plots {
        match plot {
            PlotSpec::Convergence { axis } => {
                written.push(convergence(out, exp, records, axis.as_deref())?);
            }
            PlotSpec::Heatmap {
                x,
                y,
                metric,
                panels,
            } => written.extend(heatmaps(
                out,
                exp,
                records,
                x,
                y,
                metric,
                panels.as_deref(),
            )?),
            PlotSpec::Retention { lines } => {
                written.push(retention(out, exp, records, lines.as_deref())?);
            }
            PlotSpec::Final {
                x,
                metric,
                lines,
                panels,
            } => written.push(final_vs_axis(
                out,
                exp,
                records,
                x,
                metric,
                lines.as_deref(),
                panels.as_deref(),
            )?),
        }
    }
    Ok(written)
}

fn values_of<'a>(exp: &'a Experiment, axis: &str) -> Result<&'a [Value]> {
    exp.sweep
        .0
        .iter()
        .find(|a| a.path == axis)
        .map(|a| a.values.as_slice())
        .ok_or_else(|| unchecked(exp, not_an_axis(exp, "plots.axis", axis)))
}

fn not_an_axis(exp: &Experiment, field: &str, axis: &str) -> FieldError {
    FieldError::new(
        field,
        format!(
            "must name a sweep axis (got {axis:?}; axes: {})",
            if exp.sweep.is_empty() {
                "none".to_owned()
            } else {
                exp.sweep.paths().join(", ")
            }
        ),
    )
    .with_value(axis)
}

/// A plot error found only when drawing (an experiment built in code, not loaded): placed in the
/// experiment's file without a position.
fn unchecked(exp: &Experiment, e: FieldError) -> LabError {
    LabError::Invalid {
        path: exp
            .source
            .clone()
            .unwrap_or_else(|| exp.name.clone().into()),
        position: None,
        field: e.field,
        message: e.message,
    }
}

/// The metrics.csv columns every run writes, before the experiment's further metrics.
const BASE_METRICS: [&str; 5] = [
    "train_loss",
    "train_acc",
    "test_loss",
    "test_acc",
    "diverged",
];

/// Check the figures `exp` asks for against its sweep axes and metrics, so that a wrong name is
/// an error when the experiment loads rather than after it trained.
pub fn validate_plots(exp: &Experiment) -> std::result::Result<(), FieldError> {
    let axis = |field: &str, name: &str| {
        if exp.sweep.0.iter().any(|a| a.path == name) {
            Ok(())
        } else {
            Err(not_an_axis(exp, field, name))
        }
    };
    let optional = |field: &str, name: &Option<String>| match name {
        Some(name) => axis(field, name),
        None => Ok(()),
    };
    let layers = exp.network.layers.len().saturating_sub(1);
    let known: Vec<String> = BASE_METRICS
        .iter()
        .map(|m| m.to_string())
        .chain(exp.metrics.iter().flat_map(|m| m.columns(layers)))
        .collect();
    let metric = |name: &str| {
        if known.iter().any(|k| k == name) {
            Ok(())
        } else {
            Err(FieldError::new(
                "plots.metric",
                format!(
                    "must name a metrics.csv column of this experiment (got {name:?}; columns: {})",
                    known.join(", ")
                ),
            )
            .with_value(name))
        }
    };
    for plot in &exp.plots {
        match plot {
            PlotSpec::Convergence { axis: a } => optional("plots.axis", a)?,
            PlotSpec::Heatmap {
                x,
                y,
                metric: m,
                panels,
            } => {
                axis("plots.x", x)?;
                axis("plots.y", y)?;
                metric(m)?;
                optional("plots.panels", panels)?;
            }
            PlotSpec::Retention { lines } => {
                if exp.retention.is_none() {
                    return Err(FieldError::new(
                        "plots",
                        "asks for a Retention figure, which needs retention times (retention: (times: [...]))",
                    ));
                }
                optional("plots.lines", lines)?;
            }
            PlotSpec::Final {
                x,
                metric: m,
                lines,
                panels,
            } => {
                axis("plots.x", x)?;
                if !values_of(exp, x).is_ok_and(|v| v.iter().all(Value::is_number)) {
                    return Err(FieldError::new(
                        "plots.x",
                        format!("of a Final figure must be a numeric axis (got {x:?})"),
                    )
                    .with_value(x));
                }
                metric(m)?;
                optional("plots.lines", lines)?;
                optional("plots.panels", panels)?;
            }
        }
    }
    Ok(())
}

/// The values of an optional axis as labels, or a single unlabelled level when there is no axis.
fn levels(exp: &Experiment, axis: Option<&str>) -> Result<Vec<Option<String>>> {
    match axis {
        Some(a) => Ok(values_of(exp, a)?
            .iter()
            .map(|v| Some(value_label(v)))
            .collect()),
        None => Ok(vec![None]),
    }
}

fn check_metric(exp: &Experiment, records: &[RunRecord], metric: &str) -> Result<()> {
    let recorded = records
        .iter()
        .flat_map(|r| r.epochs.iter())
        .any(|m| m.extra.contains_key(metric));
    if BASE_METRICS.contains(&metric) || recorded || records.is_empty() {
        Ok(())
    } else {
        Err(unchecked(
            exp,
            FieldError::new(
                "plots.metric",
                format!("{metric:?} was not recorded by any run (settle_time: circuit mode only)"),
            ),
        ))
    }
}

fn title(exp: &Experiment) -> String {
    let a = &exp.algorithm;
    if exp.sweep.is_empty() {
        format!(
            "{} — {:?}, α = {}, β = {}",
            exp.name, a.kind, a.alpha, a.beta
        )
    } else {
        exp.name.clone()
    }
}

fn safe(name: &str) -> String {
    name.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '_' || c == '-' {
                c
            } else {
                '_'
            }
        })
        .collect()
}

fn mean_std(values: &[f64]) -> (f64, f64) {
    let n = values.len() as f64;
    let mean = values.iter().sum::<f64>() / n;
    let var = if values.len() > 1 {
        values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (n - 1.0)
    } else {
        0.0
    };
    (mean, var.sqrt())
}

/// Mean and min–max band over runs of one metric per epoch.
fn epoch_curve(label: String, runs: &[&RunRecord], metric: &str) -> Curve {
    let epochs = runs.iter().map(|r| r.epochs.len()).max().unwrap_or(0);
    let (mut x, mut y, mut lo, mut hi) = (vec![], vec![], vec![], vec![]);
    for e in 0..epochs {
        let values: Vec<f64> = runs
            .iter()
            .filter_map(|r| r.epochs.get(e))
            .filter_map(|m| epoch_metric(m, metric))
            .filter(|v| v.is_finite())
            .collect();
        if values.is_empty() {
            continue;
        }
        x.push(e as f64);
        y.push(mean_std(&values).0);
        lo.push(values.iter().copied().fold(f64::INFINITY, f64::min));
        hi.push(values.iter().copied().fold(f64::NEG_INFINITY, f64::max));
    }
    let curve = Curve::new(label, x, y);
    if runs.len() > 1 {
        curve.with_band(lo, hi)
    } else {
        curve
    }
}

/// convergence.png/.svg: accuracy and loss against epoch, one curve per value of `axis` (per point
/// when absent), the band spanning the seeds; with a single curve, train and test are both shown.
pub fn convergence(
    out: &Path,
    exp: &Experiment,
    records: &[RunRecord],
    axis: Option<&str>,
) -> Result<PathBuf> {
    let mut groups: Vec<(String, Vec<&RunRecord>)> = Vec::new();
    for r in records {
        let label = match axis {
            Some(a) => format!(
                "{} = {}",
                axis_label(a),
                r.params.get(a).map(value_label).unwrap_or_default()
            ),
            None => r
                .params
                .iter()
                .map(|(k, v)| format!("{} = {}", axis_label(k), value_label(v)))
                .collect::<Vec<_>>()
                .join(", "),
        };
        match groups.iter_mut().find(|(l, _)| *l == label) {
            Some((_, runs)) => runs.push(r),
            None => groups.push((label, vec![r])),
        }
    }
    let single = groups.len() <= 1;
    let (mut acc, mut loss) = (Vec::new(), Vec::new());
    for (label, runs) in &groups {
        if single {
            for split in ["test", "train"] {
                acc.push(epoch_curve(split.into(), runs, &format!("{split}_acc")));
                loss.push(epoch_curve(split.into(), runs, &format!("{split}_loss")));
            }
        } else {
            acc.push(epoch_curve(label.clone(), runs, "test_acc"));
            loss.push(epoch_curve(label.clone(), runs, "test_loss"));
        }
    }
    let which = if single { "" } else { "test " };
    let panels = [
        Panel {
            title: format!("{which}accuracy"),
            x_label: "epoch".into(),
            y_label: "accuracy".into(),
            curves: acc,
            y_range: Some((0.0, 1.0)),
            ..Panel::default()
        },
        Panel {
            title: format!("{which}loss"),
            x_label: "epoch".into(),
            y_label: "loss".into(),
            curves: loss,
            log_y: true,
            ..Panel::default()
        },
    ];
    let stem = out.join("convergence");
    figure(&stem, &title(exp), &panels)?;
    Ok(stem)
}

/// Group records by the values of `axes` (in sweep order), keeping the final `metric` of each run.
fn finals_by(
    records: &[RunRecord],
    axes: &[&str],
    metric: &str,
) -> BTreeMap<Vec<String>, Vec<Option<f64>>> {
    let mut map: BTreeMap<Vec<String>, Vec<Option<f64>>> = BTreeMap::new();
    for r in records {
        let key = axes
            .iter()
            .map(|a| r.params.get(*a).map(value_label).unwrap_or_default())
            .collect();
        map.entry(key).or_default().push(final_metric(r, metric));
    }
    map
}

/// The mean of the runs that did not diverge, None when all diverged.
fn mean_of(values: &[Option<f64>]) -> Option<f64> {
    let ok: Vec<f64> = values.iter().flatten().copied().collect();
    (!ok.is_empty()).then(|| mean_std(&ok).0)
}

fn heatmaps(
    out: &Path,
    exp: &Experiment,
    records: &[RunRecord],
    x: &str,
    y: &str,
    metric: &str,
    panels: Option<&str>,
) -> Result<Vec<PathBuf>> {
    check_metric(exp, records, metric)?;
    let xs: Vec<String> = values_of(exp, x)?.iter().map(value_label).collect();
    let ys: Vec<String> = values_of(exp, y)?.iter().map(value_label).collect();
    let panel_values: Vec<Option<String>> = levels(exp, panels)?;
    let mut axes = vec![x, y];
    if let Some(p) = panels {
        axes.push(p);
    }
    let finals = finals_by(records, &axes, metric);
    let mut written = Vec::new();
    for (i, pv) in panel_values.iter().enumerate() {
        let values = ys
            .iter()
            .map(|yv| {
                xs.iter()
                    .map(|xv| {
                        let mut key = vec![xv.clone(), yv.clone()];
                        key.extend(pv.clone());
                        finals.get(&key).and_then(|v| mean_of(v))
                    })
                    .collect()
            })
            .collect();
        let suffix = pv
            .as_ref()
            .map(|v| format!(" ({} = {v})", axis_label(panels.unwrap_or_default())))
            .unwrap_or_default();
        let map = Heatmap {
            title: format!("{}: final {metric}{suffix}", exp.name),
            x_label: x.into(),
            y_label: y.into(),
            x_ticks: xs.clone(),
            y_ticks: ys.clone(),
            values,
            value_label: metric.into(),
            decimals: if metric.ends_with("acc") { 3 } else { 2 },
        };
        let mut name = format!("heatmap-{}-{}-{}", safe(metric), safe(x), safe(y));
        if pv.is_some() {
            name.push_str(&format!("-{i}"));
        }
        let stem = out.join(name);
        heatmap(&stem, &map)?;
        written.push(stem);
    }
    Ok(written)
}

fn final_vs_axis(
    out: &Path,
    exp: &Experiment,
    records: &[RunRecord],
    x: &str,
    metric: &str,
    lines: Option<&str>,
    panels: Option<&str>,
) -> Result<PathBuf> {
    check_metric(exp, records, metric)?;
    let xs = values_of(exp, x)?;
    if !xs.iter().all(Value::is_number) {
        return Err(unchecked(
            exp,
            FieldError::new(
                "plots.x",
                format!("of a Final figure must be a numeric axis (got {x:?})"),
            ),
        ));
    }
    let line_values: Vec<Option<String>> = levels(exp, lines)?;
    let panel_values: Vec<Option<String>> = levels(exp, panels)?;
    // Levels spread over decades (β = 0.01, 0.1, 1) are read on a log axis.
    let numbers: Vec<f64> = xs.iter().filter_map(Value::as_f64).collect();
    let lo = numbers.iter().copied().fold(f64::INFINITY, f64::min);
    let hi = numbers.iter().copied().fold(0.0, f64::max);
    let log_x = lo > 0.0 && hi / lo >= 10.0;
    let mut axes = vec![x];
    axes.extend(lines);
    axes.extend(panels);
    let finals = finals_by(records, &axes, metric);
    let mut figure_panels = Vec::new();
    for pv in &panel_values {
        let mut curves = Vec::new();
        for lv in &line_values {
            let (mut px, mut py, mut lo, mut hi) = (vec![], vec![], vec![], vec![]);
            for xv in xs {
                let mut key = vec![value_label(xv)];
                key.extend(lv.clone());
                key.extend(pv.clone());
                let ok: Vec<f64> = finals
                    .get(&key)
                    .into_iter()
                    .flatten()
                    .flatten()
                    .copied()
                    .collect();
                if ok.is_empty() {
                    continue;
                }
                let (m, s) = mean_std(&ok);
                px.push(xv.as_f64().unwrap_or(f64::NAN));
                py.push(m);
                lo.push(m - s);
                hi.push(m + s);
            }
            let label = lv
                .as_ref()
                .map(|v| format!("{} = {v}", axis_label(lines.unwrap_or_default())))
                .unwrap_or_else(|| metric.to_owned());
            curves.push(Curve::new(label, px, py).with_error_bars(lo, hi));
        }
        figure_panels.push(Panel {
            title: pv
                .as_ref()
                .map(|v| format!("{} = {v}", axis_label(panels.unwrap_or_default())))
                .unwrap_or_else(|| format!("final {metric}")),
            x_label: x.into(),
            y_label: format!("final {metric} (mean ± std over seeds)"),
            curves,
            y_range: metric.ends_with("acc").then_some((0.0, 1.0)),
            log_x,
            ..Panel::default()
        });
    }
    let stem = out.join(format!("final-{}-vs-{}", safe(metric), safe(x)));
    figure(
        &stem,
        &format!("{}: final {metric} (diverged runs left out)", exp.name),
        &figure_panels,
    )?;
    Ok(stem)
}

/// retention.png/.svg: test accuracy against time since programming, mean ± std over seeds.
fn retention(
    out: &Path,
    exp: &Experiment,
    records: &[RunRecord],
    lines: Option<&str>,
) -> Result<PathBuf> {
    let line_values: Vec<Option<String>> = levels(exp, lines)?;
    let times: Vec<f64> = exp
        .retention
        .as_ref()
        .map(|r| r.times.clone())
        .unwrap_or_default();
    let mut curves = Vec::new();
    for lv in &line_values {
        let (mut x, mut y, mut lo, mut hi) = (vec![], vec![], vec![], vec![]);
        for &t in &times {
            let acc: Vec<f64> = records
                .iter()
                .filter(|r| {
                    lv.as_ref().is_none_or(|v| {
                        lines
                            .and_then(|l| r.params.get(l))
                            .map(value_label)
                            .as_ref()
                            == Some(v)
                    })
                })
                .flat_map(|r| r.retention.iter().filter(|p| p.t == t).map(|p| p.test_acc))
                .filter(|a| a.is_finite())
                .collect();
            if acc.is_empty() {
                continue;
            }
            let (m, s) = mean_std(&acc);
            // A log axis cannot show t = 0; it is drawn at 0.1 s.
            x.push(t.max(0.1));
            y.push(m);
            lo.push(m - s);
            hi.push(m + s);
        }
        let label = lv
            .as_ref()
            .map(|v| format!("{} = {v}", axis_label(lines.unwrap_or_default())))
            .unwrap_or_else(|| "test accuracy".into());
        curves.push(Curve::new(label, x, y).with_error_bars(lo, hi));
    }
    let stem = out.join("retention");
    figure(
        &stem,
        &format!("{}: accuracy after drift", exp.name),
        &[Panel {
            title: "test accuracy vs time since programming".into(),
            x_label: "time since programming (s)".into(),
            y_label: "test accuracy".into(),
            curves,
            log_x: true,
            y_range: Some((0.0, 1.0)),
            ..Panel::default()
        }],
    )?;
    Ok(stem)
}

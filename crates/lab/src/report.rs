//! Figures drawn from run records: convergence curves, final metric against an axis, heatmaps and
//! retention.
//!
//! One convention holds in every figure: a line or cell is the mean over the runs of a point
//! (its replicate seeds, and the values of any sweep axis the figure does not show, which the
//! caption names); shaded bands and error bars are ± 1 standard deviation over those runs, with
//! n in the caption; runs that diverged are left out of means and marked with ✗ (a curve ends at
//! the divergence, a point or cell says how many of its runs diverged).

mod breakdown;
mod convergence;
mod energy;
mod finals;
mod group;
mod retention;

pub use convergence::convergence;

use crate::error::{LabError, Result};
use crate::field::FieldError;
use crate::labels::Labels;
use crate::results::RunRecord;
use crate::spec::{Experiment, PlotSpec};
use serde_json::Value;
use std::path::{Path, PathBuf};

/// Short text of a sweep value: strings without quotes, numbers as written.
pub fn value_label(v: &Value) -> String {
    crate::labels::plain(v)
}

pub use crate::aggregate::epoch_metric;

/// The final value of `metric` of a run; None when it diverged or never measured it.
/// `diverged` itself is 1 for a diverged run and 0 otherwise.
pub fn final_metric(r: &RunRecord, metric: &str) -> Option<f64> {
    if metric == "diverged" {
        return Some(if r.divergence.is_some() { 1.0 } else { 0.0 });
    }
    if r.divergence.is_some() {
        return None;
    }
    if metric == crate::validation::BEST_VALIDATION_TEST_ACC {
        return crate::validation::best_epoch(&r.epochs).map(|b| b.test_acc);
    }
    r.last()
        .and_then(|m| epoch_metric(m, metric))
        .filter(|v| v.is_finite())
}

/// Whether a sweep axis is categorical (algorithm kinds, hardware files, modes): such axes are
/// never averaged over silently; figures give each value a panel or a line.
fn categorical(exp: &Experiment, path: &str) -> bool {
    exp.sweep
        .0
        .iter()
        .find(|a| a.path == path)
        .is_some_and(|a| !a.values.iter().all(Value::is_number))
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
    // Up to ten points get a line each; beyond, the longest numeric axis does and the others are
    // averaged (which the caption says).
    let points: usize = numeric
        .iter()
        .filter_map(|p| axes.iter().find(|a| a.path == *p))
        .map(|a| a.values.len())
        .product();
    let axis = (points > 10)
        .then(|| {
            numeric
                .iter()
                .filter_map(|p| axes.iter().find(|a| a.path == *p))
                .max_by_key(|a| a.values.len())
                .map(|a| a.path.clone())
        })
        .flatten();
    let mut plots = vec![PlotSpec::Convergence {
        axis,
        from_epoch: 0,
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
    let ctx = Context::new(exp, records);
    let mut written = Vec::new();
    for plot in &plots {
        match plot {
            PlotSpec::Convergence { axis, from_epoch } => {
                written.push(convergence(
                    out,
                    exp,
                    records,
                    axis.as_deref(),
                    *from_epoch,
                )?);
            }
            PlotSpec::Heatmap {
                x,
                y,
                metric,
                panels,
            } => written.extend(finals::heatmaps(
                &ctx,
                out,
                (x, y),
                metric,
                panels.as_deref(),
            )?),
            PlotSpec::Retention { lines } => {
                written.push(retention::retention(&ctx, out, lines.as_deref())?);
            }
            PlotSpec::Final {
                x,
                metric,
                lines,
                panels,
            } => written.push(finals::final_vs_axis(
                &ctx,
                out,
                x,
                metric,
                (lines.as_deref(), panels.as_deref()),
            )?),
            PlotSpec::EnergyAccuracy { metric } => {
                written.push(energy::energy_accuracy(&ctx, out, metric)?);
            }
            PlotSpec::EnergyBreakdown { x, panels } => {
                written.push(breakdown::energy_breakdown(
                    &ctx,
                    out,
                    x.as_deref().unwrap_or(breakdown::DEFAULT_X),
                    panels.as_deref(),
                )?);
            }
        }
    }
    Ok(written)
}

/// What every figure of one experiment needs: its records, names and render options.
pub(crate) struct Context<'a> {
    exp: &'a Experiment,
    records: &'a [RunRecord],
    labels: Labels<'a>,
    opts: plot::Options,
}

impl<'a> Context<'a> {
    fn new(exp: &'a Experiment, records: &'a [RunRecord]) -> Self {
        Self {
            exp,
            records,
            labels: Labels::new(exp),
            opts: plot::Options {
                dpi: exp.figures.dpi,
            },
        }
    }

    /// A fixed 0–100 % range for percent metrics when the experiment asks for it.
    fn percent_range(&self, percent: bool) -> Option<(f64, f64)> {
        (percent && self.exp.figures.full_percent_range).then_some((0.0, 100.0))
    }
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
        .chain(
            exp.training
                .validation
                .map(|_| {
                    [
                        crate::validation::VAL_LOSS,
                        crate::validation::VAL_ACC,
                        crate::validation::BEST_VALIDATION_TEST_ACC,
                    ]
                })
                .into_iter()
                .flatten()
                .map(String::from),
        )
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
            PlotSpec::Convergence {
                axis: a,
                from_epoch,
            } => {
                optional("plots.axis", a)?;
                if *from_epoch > exp.training.epochs {
                    return Err(FieldError::new(
                        "plots.from_epoch",
                        format!(
                            "must be at most training.epochs = {} (got {from_epoch}): nothing would be drawn",
                            exp.training.epochs
                        ),
                    ));
                }
            }
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
            PlotSpec::EnergyAccuracy { metric: m } => {
                if !exp.metrics.contains(&crate::metrics::MetricSpec::Cost) {
                    return Err(FieldError::new(
                        "plots",
                        "asks for an EnergyAccuracy figure, which needs the Cost metric (metrics: [Cost])",
                    ));
                }
                metric(m)?;
            }
            PlotSpec::EnergyBreakdown { x, panels } => {
                breakdown::validate(exp, x.as_deref(), panels.as_deref())?;
            }
        }
    }
    Ok(())
}

fn check_metric(records: &[RunRecord], metric: &str) -> Result<()> {
    let recorded = records
        .iter()
        .flat_map(|r| r.epochs.iter())
        .any(|m| m.extra.contains_key(metric))
        || (metric == crate::validation::BEST_VALIDATION_TEST_ACC
            && records
                .iter()
                .any(|r| crate::validation::best_epoch(&r.epochs).is_some()));
    if BASE_METRICS.contains(&metric) || metric == "diverged" || recorded || records.is_empty() {
        Ok(())
    } else {
        // Plot specs are checked at load; what remains is a metric no run recorded.
        Err(LabError::Data {
            path: "metrics.csv".into(),
            message: format!(
                "plot metric {metric:?} was not recorded by any run (settle_time: circuit mode only)"
            ),
        })
    }
}

/// A file-name-safe form of a metric or path.
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

/// Mean and sample standard deviation (0 for a single value).
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

#[cfg(test)]
mod tests;

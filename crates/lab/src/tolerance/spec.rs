//! What a tolerance search asks, as written in an experiment's `tolerance: (...)` section or given
//! by `dyadsim tolerance` flags, and its checked form.

use super::search::Scale;
use crate::spec::Experiment;
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// The `tolerance: (...)` section of an experiment file (the flags of `dyadsim tolerance`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ToleranceSpec {
    /// The searched field path, any numeric field `sweep` accepts (e.g. `"algorithm.alpha"`).
    pub axis: String,
    /// The reference value (default: the value in the file); with `around`, the lower end.
    #[serde(default)]
    pub from: Option<f64>,
    /// The far end of the search; with `around`, the upper end (required).
    #[serde(default)]
    pub to: Option<f64>,
    /// Search both ways from this reference, down to `from` and up to `to`.
    #[serde(default)]
    pub around: Option<f64>,
    /// Allowed drop of the metric below the reference, in the metric's units (default 0.02,
    /// 2 points of accuracy); a fraction of the reference when `relative`.
    #[serde(default = "default_max_drop")]
    pub max_drop: f64,
    /// Read `max_drop` as a fraction of the reference's mean (default false).
    #[serde(default)]
    pub relative: bool,
    /// The final metric, a metrics.csv column (default `"test_acc"`); higher is better for
    /// accuracies (names ending in `acc`), lower for everything else.
    #[serde(default = "default_metric")]
    pub metric: String,
    /// Replicate seeds 0..N per probe (default: the experiment's `seeds`).
    #[serde(default)]
    pub seeds: Option<usize>,
    /// Confidence of the paired one-sided bound, in (0.5, 1) (default 0.95).
    #[serde(default = "default_confidence")]
    pub confidence: f64,
    /// Stop when the bracket is this narrow: axis units on a linear scale (default 1/50 of the
    /// widest searched span), a relative width on a log scale (default 0.1, i.e. 10 %).
    #[serde(default)]
    pub resolution: Option<f64>,
    /// Probe spacing (default `Log` for paths naming a noise or a `_std`, else `Linear`).
    #[serde(default)]
    pub scale: Option<Scale>,
    /// One tolerance per value of this axis, side by side (e.g. `algorithm.kind`).
    #[serde(default)]
    pub compare: Option<Choice>,
    /// The boundary: one tolerance per value of this axis (e.g. a noise amplitude).
    #[serde(default)]
    pub across: Option<Choice>,
}

/// An axis and its values; without values they come from the experiment's `sweep` of that path.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Choice {
    /// Field path.
    pub path: String,
    /// Values (default: the sweep's values of `path`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub values: Vec<Value>,
}

impl Choice {
    /// Parse `PATH` or `PATH=v1,v2,…`; numbers and booleans become such, anything else a string.
    pub fn parse(text: &str) -> Self {
        match text.split_once('=') {
            None => Self {
                path: text.trim().to_owned(),
                values: Vec::new(),
            },
            Some((path, values)) => Self {
                path: path.trim().to_owned(),
                values: values
                    .split(',')
                    .map(str::trim)
                    .filter(|v| !v.is_empty())
                    .map(|v| serde_json::from_str(v).unwrap_or_else(|_| Value::from(v)))
                    .collect(),
            },
        }
    }
}

fn default_max_drop() -> f64 {
    0.02
}

fn default_metric() -> String {
    "test_acc".into()
}

fn default_confidence() -> f64 {
    0.95
}

/// The checked search: every default filled in, every range and path verified.
#[derive(Clone, Debug, PartialEq)]
pub struct Plan {
    /// The searched field path.
    pub axis: String,
    /// The reference value.
    pub reference: f64,
    /// The far end of each direction searched (one, or two with `around`).
    pub ends: Vec<f64>,
    /// Probe spacing.
    pub scale: Scale,
    /// Bracket width at which a direction stops (see [`ToleranceSpec::resolution`]).
    pub resolution: f64,
    /// Allowed drop (absolute, or a fraction of the reference when `relative`).
    pub max_drop: f64,
    /// `max_drop` is a fraction of the reference.
    pub relative: bool,
    /// The metric and whether higher is better.
    pub metric: String,
    /// True for accuracies.
    pub higher_is_better: bool,
    /// Replicate seeds of every probe.
    pub seeds: Vec<u64>,
    /// Confidence of the bound.
    pub confidence: f64,
    /// The compared axis and its values.
    pub compare: Option<(String, Vec<Value>)>,
    /// The across axis and its values.
    pub across: Option<(String, Vec<Value>)>,
}

/// A problem with a search: the field of the `tolerance` section (as the experiment file names
/// it) and what is wrong with it.
pub type Problem = crate::field::FieldError;

const METRICS: [&str; 4] = ["train_loss", "train_acc", "test_loss", "test_acc"];

impl Plan {
    /// Check `spec` against `exp` and fill in the defaults.
    pub fn resolve(exp: &Experiment, spec: &ToleranceSpec) -> Result<Plan, Problem> {
        let fail = |field: &str, message: String| Err(Problem::new(field, message));
        let nominal = value_at(exp, &spec.axis).map_err(|m| Problem::new("axis", m))?;
        let (reference, ends) = match spec.around {
            Some(c) => match (spec.from, spec.to) {
                (Some(lo), Some(hi)) if lo < c && c < hi => (c, vec![lo, hi]),
                (Some(_), Some(_)) => {
                    return fail(
                        "around",
                        format!("must lie strictly between from and to (got {c})"),
                    );
                }
                _ => {
                    return fail(
                        "around",
                        "needs from and to, the ends of the two searches".into(),
                    );
                }
            },
            None => {
                let reference = spec.from.unwrap_or(nominal);
                match spec.to {
                    Some(to) if to != reference => (reference, vec![to]),
                    Some(to) => {
                        return fail(
                            "to",
                            format!("must differ from the reference {reference} (got {to})"),
                        );
                    }
                    None => return fail("to", "is required: the far end of the search".into()),
                }
            }
        };
        if !reference.is_finite() || ends.iter().any(|e| !e.is_finite()) {
            return fail(
                "from",
                "the reference and the ends must be finite numbers".into(),
            );
        }
        let scale = spec.scale.unwrap_or_else(|| default_scale(&spec.axis));
        if scale == Scale::Log {
            if reference < 0.0 || ends.iter().any(|&e| e <= 0.0) {
                return fail(
                    "scale",
                    format!(
                        "Log needs a reference ≥ 0 and ends > 0 (reference {reference}, ends {ends:?})"
                    ),
                );
            }
            if spec.around.is_some() && reference <= 0.0 {
                return fail("scale", "Log with around needs a reference > 0".into());
            }
        }
        let resolution = match (spec.resolution, scale) {
            (Some(r), _) => r,
            (None, Scale::Linear) => {
                ends.iter()
                    .map(|e| (e - reference).abs())
                    .fold(0.0, f64::max)
                    / 50.0
            }
            (None, Scale::Log) => 0.1,
        };
        if !(resolution.is_finite() && resolution > 0.0) {
            return fail(
                "resolution",
                format!("must be a positive number (got {resolution})"),
            );
        }
        if !(spec.max_drop.is_finite() && spec.max_drop >= 0.0) {
            return fail(
                "max_drop",
                format!("must be a number ≥ 0 (got {})", spec.max_drop),
            );
        }
        // Further metrics' columns depend on their settings; a missing one is caught at the records.
        let known = METRICS.contains(&spec.metric.as_str()) || !exp.metrics.is_empty();
        if !known {
            return fail(
                "metric",
                format!(
                    "{:?} is not a metric of this experiment; expected one of {} or a column of its metrics",
                    spec.metric,
                    METRICS.join(", ")
                ),
            );
        }
        if !(spec.confidence > 0.5 && spec.confidence < 1.0) {
            return fail(
                "confidence",
                format!("must be in (0.5, 1) (got {})", spec.confidence),
            );
        }
        let seeds = match spec.seeds {
            Some(0) => return fail("seeds", "must be at least 1".into()),
            Some(n) => (0..n as u64).collect(),
            None => exp.seeds.clone(),
        };
        let compare = choice(exp, spec.compare.as_ref(), "compare")?;
        let across = choice(exp, spec.across.as_ref(), "across")?;
        let paths: Vec<&str> = [
            Some(spec.axis.as_str()),
            compare.as_ref().map(|c| c.0.as_str()),
            across.as_ref().map(|a| a.0.as_str()),
        ]
        .into_iter()
        .flatten()
        .collect();
        for (i, p) in paths.iter().enumerate() {
            if paths[..i].contains(p) {
                return fail(
                    "compare",
                    format!("the axis, compare and across paths must differ ({p:?} twice)"),
                );
            }
        }
        if let Some(extra) = exp
            .sweep
            .0
            .iter()
            .find(|a| !paths.contains(&a.path.as_str()))
        {
            return fail(
                "axis",
                format!(
                    "the experiment also sweeps {:?}; a tolerance search takes one compare and one across axis (name it there, or drop it from sweep)",
                    extra.path
                ),
            );
        }
        Ok(Plan {
            axis: spec.axis.clone(),
            reference,
            ends,
            scale,
            resolution,
            max_drop: spec.max_drop,
            relative: spec.relative,
            metric: spec.metric.clone(),
            higher_is_better: spec.metric.ends_with("acc"),
            seeds,
            confidence: spec.confidence,
            compare,
            across,
        })
    }
}

/// Log for noise amplitudes and spreads, which span decades; linear otherwise.
fn default_scale(path: &str) -> Scale {
    let last = path.rsplit('.').next().unwrap_or(path);
    if last.contains("noise") || last.ends_with("_std") {
        Scale::Log
    } else {
        Scale::Linear
    }
}

fn choice(
    exp: &Experiment,
    c: Option<&Choice>,
    field: &str,
) -> Result<Option<(String, Vec<Value>)>, Problem> {
    let Some(c) = c else { return Ok(None) };
    let values = if c.values.is_empty() {
        exp.sweep
            .0
            .iter()
            .find(|a| a.path == c.path)
            .map(|a| a.values.clone())
            .ok_or_else(|| Problem::new(field, format!("{:?} has no values: give them as PATH=v1,v2 or sweep that path in the file", c.path)))?
    } else {
        c.values.clone()
    };
    Ok(Some((c.path.clone(), values)))
}

/// The number at a field path of the resolved experiment.
fn value_at(exp: &Experiment, path: &str) -> Result<f64, String> {
    let mut node = serde_json::to_value(exp).map_err(|e| e.to_string())?;
    for part in path.split('.') {
        node = crate::sweep::descend_variant(&mut node).clone();
        node = node
            .get(part)
            .cloned()
            .ok_or_else(|| format!("unknown field path {path:?} (no field {part:?})"))?;
    }
    match node {
        Value::Number(n) => n
            .as_f64()
            .ok_or_else(|| format!("{path:?} is not a number")),
        Value::Null => Ok(0.0),
        other => Err(format!(
            "{path:?} must be a number to search along (got {other})"
        )),
    }
}

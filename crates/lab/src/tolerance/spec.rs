//! What a tolerance search asks, as written in an experiment's `tolerance: (...)` section or given
//! by `dyadsim tolerance` flags, and its checked form.

use super::checks::{base_of, field_at, precision, shortest, value_at};
use super::search::Scale;
use crate::spec::Experiment;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::BTreeMap;

/// The `tolerance: (...)` section of an experiment file (the flags of `dyadsim tolerance`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ToleranceSpec {
    /// The searched field path, any field of real numbers `sweep` accepts (e.g.
    /// `"algorithm.alpha"`); whole-number fields (`algorithm.passes`, `training.epochs`, ...) are
    /// swept instead.
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
    /// Replicate seeds 0..N per probe, 2 to 10 000 (default: the experiment's `seeds`, which
    /// must then list at least 2).
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

impl ToleranceSpec {
    /// The range every probe of the search lies in, from the smallest to the largest of `from`,
    /// `to` and `around`: what a record in the folder of this search may hold on the axis. (A
    /// folder stores its search with `from` set; without it the range starts at `to`.)
    pub fn probe_range(&self) -> (f64, f64) {
        let values: Vec<f64> = [self.from, self.to, self.around]
            .into_iter()
            .flatten()
            .collect();
        let lo = values.iter().copied().fold(f64::INFINITY, f64::min);
        let hi = values.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        (lo, hi)
    }

    /// Every number of the section is finite: a NaN or an infinity is refused naming its field
    /// before anything else reads the section.
    pub fn check_finite(&self) -> Result<(), Problem> {
        let numbers = [
            ("from", self.from),
            ("to", self.to),
            ("around", self.around),
            ("max_drop", Some(self.max_drop)),
            ("confidence", Some(self.confidence)),
            ("resolution", self.resolution),
        ];
        for (field, v) in numbers {
            if let Some(v) = v
                && !v.is_finite()
            {
                return Err(Problem::new(field, format!("must be finite (got {v})")));
            }
        }
        Ok(())
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
    /// The far end of each direction searched (one, or two with `around`: the lower end first).
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
    /// The axis is a single-precision (f32) field: its values are shown and stored in their
    /// shortest f32 form (0.7, not the 0.699999988079071 the f32 reads as in f64).
    pub single_precision: bool,
}

/// A problem with a search: the field of the `tolerance` section (as the experiment file names
/// it) and what is wrong with it.
pub type Problem = crate::field::FieldError;

const METRICS: [&str; 4] = ["train_loss", "train_acc", "test_loss", "test_acc"];

impl Plan {
    /// Check `spec` against `exp` and fill in the defaults. Every value the search starts from
    /// (the reference, the ends, the compared and across values) is applied to the experiment and
    /// validated here, and a problem is reported under the field that set it.
    pub fn resolve(exp: &Experiment, spec: &ToleranceSpec) -> Result<Plan, Problem> {
        let fail = |field: &str, message: String| Err(Problem::new(field, message));
        spec.check_finite()?;
        let base = base_of(exp);
        let nominal = value_at(&base, &spec.axis).map_err(|m| Problem::new("axis", m))?;
        let single_precision = precision(&base, &spec.axis)?;
        let shown = |v: f64| shortest(v, single_precision);
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
                            format!(
                                "must differ from the reference {} (got {to})",
                                shown(reference)
                            ),
                        );
                    }
                    None => return fail("to", "is required: the far end of the search".into()),
                }
            }
        };
        let reference = shown(reference);
        let ends: Vec<f64> = ends.into_iter().map(shown).collect();
        if ends.contains(&reference) {
            return fail(
                "to",
                format!(
                    "must differ from the reference {reference} in the axis' precision (got {ends:?})"
                ),
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
        if spec.max_drop < 0.0 {
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
            Some(n) => (0..crate::limits::SEEDS.check("seeds", n)? as u64).collect(),
            None => exp.seeds.clone(),
        };
        let compare = choice(exp, &base, spec.compare.as_ref(), "compare")?;
        let across = choice(exp, &base, spec.across.as_ref(), "across")?;
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
        let plan = Plan {
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
            single_precision,
        };
        plan.check_points(&base, spec)?;
        Ok(plan)
    }

    /// `v` as the axis holds it, in its shortest form: for an f32 field the shortest decimal
    /// that reads as the same f32, so records, tables and messages show what the file would say.
    pub fn shown(&self, v: f64) -> f64 {
        shortest(v, self.single_precision)
    }

    /// The plan can decide: at least two replicate seeds, since one seed has no spread to bound
    /// the mean drop with. Checked when a search starts rather than when a file loads, so that a
    /// file with a `tolerance:` section still loads for its grid with one seed (a golden pins the
    /// grid of a shortened copy with one seed, `plan` counts its runs).
    pub fn check_seeds(&self) -> Result<(), Problem> {
        let n = self.seeds.len();
        if n >= crate::limits::SEEDS.min {
            return Ok(());
        }
        Err(Problem::new(
            "seeds",
            format!(
                "lists {n} replicate seed ({:?}) where a tolerance search needs at least {}: {} (set tolerance.seeds to 2 or more, or list more seeds)",
                self.seeds,
                crate::limits::SEEDS.min,
                crate::limits::SEEDS.why_min
            ),
        ))
    }

    /// The section this plan resolves from, every default filled in: what a results folder's
    /// `experiment.ron` stores, so that running that file repeats exactly this search.
    pub fn spec(&self) -> ToleranceSpec {
        let (from, to, around) = match self.ends.as_slice() {
            [lo, hi] => (Some(*lo), Some(*hi), Some(self.reference)),
            [end, ..] => (Some(self.reference), Some(*end), None),
            [] => (Some(self.reference), None, None),
        };
        let choice = |c: &Option<(String, Vec<Value>)>| {
            c.as_ref().map(|(path, values)| Choice {
                path: path.clone(),
                values: values.clone(),
            })
        };
        ToleranceSpec {
            axis: self.axis.clone(),
            from,
            to,
            around,
            max_drop: self.max_drop,
            relative: self.relative,
            metric: self.metric.clone(),
            seeds: None,
            confidence: self.confidence,
            resolution: Some(self.resolution),
            scale: Some(self.scale),
            compare: choice(&self.compare),
            across: choice(&self.across),
        }
    }

    /// The (compare, across) combinations, across values outermost, as field path → value.
    pub(super) fn combination_params(&self) -> Vec<BTreeMap<String, Value>> {
        fn values(axis: &Option<(String, Vec<Value>)>) -> Vec<Option<(&String, &Value)>> {
            match axis {
                Some((path, values)) => values.iter().map(|v| Some((path, v))).collect(),
                None => vec![None],
            }
        }
        let mut combos = Vec::new();
        for a in values(&self.across) {
            for c in values(&self.compare) {
                let mut params = BTreeMap::new();
                for (path, v) in [c, a].into_iter().flatten() {
                    params.insert(path.clone(), v.clone());
                }
                combos.push(params);
            }
        }
        combos
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
    base: &Experiment,
    c: Option<&Choice>,
    field: &str,
) -> Result<Option<(String, Vec<Value>)>, Problem> {
    let Some(c) = c else { return Ok(None) };
    field_at(base, &c.path).map_err(|m| Problem::new(field, m))?;
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

//! The checks of a search's values against the experiment: the path of a field and the number
//! it holds, whether it is a single-precision, double-precision or whole-number field, and every
//! value the search starts from applied and validated, each problem under the field that set it.

use super::spec::{Plan, Problem, ToleranceSpec};
use crate::spec::Experiment;
use crate::sweep::{Axis, Sweep};
use serde_json::Value;
use std::collections::BTreeMap;

impl Plan {
    /// Apply the compared and across values alone, the reference and every end (each to the
    /// experiment as the file has it), then every combination of them, and validate each, so that
    /// a bad value is reported under the field that set it before anything trains.
    pub(super) fn check_points(
        &self,
        base: &Experiment,
        spec: &ToleranceSpec,
    ) -> Result<(), Problem> {
        for (field, axis) in [("compare", &self.compare), ("across", &self.across)] {
            let Some((path, values)) = axis else { continue };
            for v in values {
                let params = BTreeMap::from([(path.clone(), v.clone())]);
                check_point(base, &params).map_err(|detail| {
                    Problem::new(
                        field,
                        format!("{path} = {v} does not fit the experiment: {detail}"),
                    )
                })?;
            }
        }
        let reference_field = if spec.around.is_some() {
            "around"
        } else if spec.from.is_some() {
            "from"
        } else {
            "axis"
        };
        let mut values = vec![(reference_field, self.reference)];
        match self.ends.as_slice() {
            [lo, hi] => values.extend([("from", *lo), ("to", *hi)]),
            ends => values.extend(ends.iter().map(|&e| ("to", e))),
        }
        for &(field, v) in &values {
            let params = BTreeMap::from([(self.axis.clone(), Value::from(v))]);
            check_point(base, &params).map_err(|detail| {
                Problem::new(field, format!("{v} gives an invalid experiment: {detail}"))
            })?;
        }
        if self.compare.is_none() && self.across.is_none() {
            return Ok(());
        }
        for combo in self.combination_params() {
            for &(field, v) in &values {
                let mut params = combo.clone();
                params.insert(self.axis.clone(), Value::from(v));
                check_point(base, &params).map_err(|detail| {
                    let with: Vec<String> =
                        combo.iter().map(|(p, v)| format!("{p} = {v}")).collect();
                    Problem::new(
                        field,
                        format!(
                            "{v} with {} gives an invalid experiment: {detail}",
                            with.join(", ")
                        ),
                    )
                })?;
            }
        }
        Ok(())
    }
}

/// The experiment a probe starts from: the file's, without its sweep and tolerance section.
pub(super) fn base_of(exp: &Experiment) -> Experiment {
    Experiment {
        sweep: Sweep::default(),
        tolerance: None,
        ..exp.clone()
    }
}

/// Validate `base` with `params` applied, as a probe would run; the problem in words.
fn check_point(base: &Experiment, params: &BTreeMap<String, Value>) -> Result<(), String> {
    let single = Experiment {
        sweep: Sweep(
            params
                .iter()
                .map(|(path, v)| Axis {
                    path: path.clone(),
                    values: vec![v.clone()],
                })
                .collect(),
        ),
        ..base.clone()
    };
    match crate::runner::points(&single) {
        Ok(_) => Ok(()),
        Err(e) if e.field == "sweep" => {
            Err(match e.message.split_once("do not fit the experiment: ") {
                Some((_, detail)) => detail.to_owned(),
                None => e.message,
            })
        }
        Err(e) => {
            let message = e
                .message
                .rsplit_once(" at sweep point ")
                .map_or(e.message.as_str(), |(m, _)| m);
            Err(format!("{} {message}", e.field))
        }
    }
}

/// `v` in its shortest form: for a single-precision field, the shortest decimal that reads as
/// the same f32 (Rust prints an f32 that way), else `v` itself.
pub(super) fn shortest(v: f64, single_precision: bool) -> f64 {
    if !single_precision || !v.is_finite() {
        return v;
    }
    let f = v as f32;
    f.to_string().parse().unwrap_or(v)
}

/// Whether the field at `path` holds an f32 (true) or an f64 (false); a whole-number field is
/// refused, since a search probes values between its ends.
pub(super) fn precision(base: &Experiment, path: &str) -> Result<bool, Problem> {
    let apply = |v: Value| crate::sweep::apply(base, &BTreeMap::from([(path.to_owned(), v)]));
    match apply(Value::from(0.1)) {
        Ok(e) => Ok(value_at(&e, path).map_err(|m| Problem::new("axis", m))? != 0.1),
        Err(_) if apply(Value::from(1u64)).is_ok() => Err(Problem::new(
            "axis",
            format!(
                "{path:?} takes whole numbers, and a search probes values between its ends: search a field of real numbers, or sweep this one (sweep: {{{path:?}: [...]}})"
            ),
        )),
        Err(message) => Err(Problem::new("axis", message)),
    }
}

/// The node at a field path of the experiment; an unknown path is named with the part that is
/// missing.
pub(super) fn field_at(exp: &Experiment, path: &str) -> Result<Value, String> {
    let mut node = serde_json::to_value(exp).map_err(|e| e.to_string())?;
    let mut at = Vec::new();
    for part in path.split('.') {
        node = crate::sweep::descend_variant(&mut node).clone();
        node = node.get(part).cloned().ok_or_else(|| {
            let within = if at.is_empty() {
                "the experiment".to_owned()
            } else {
                at.join(".")
            };
            format!("{path:?} does not exist: {within} has no field {part:?}")
        })?;
        at.push(part);
    }
    Ok(node)
}

/// The number at a field path of the resolved experiment.
pub(super) fn value_at(exp: &Experiment, path: &str) -> Result<f64, String> {
    match field_at(exp, path)? {
        Value::Number(n) => n
            .as_f64()
            .ok_or_else(|| format!("{path:?} is not a number")),
        Value::Null => Ok(0.0),
        other => Err(format!(
            "{path:?} must be a number to search along (got {other})"
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_f32_value_is_shown_in_its_shortest_form_and_an_f64_as_it_is() {
        let widened = f64::from(0.7f32);
        assert_eq!(widened, 0.699999988079071);
        assert_eq!(shortest(widened, true), 0.7);
        assert_eq!(shortest(widened, false), widened);
        for v in [0.0, -0.0, 1e-30, 3.4e38, 0.58333333333333, 1.0 / 3.0] {
            let s = shortest(v, true);
            assert_eq!(s as f32, v as f32, "{v}: same f32");
            assert_eq!((s as f32).to_string().parse::<f64>().unwrap(), s, "{v}");
        }
        assert!(shortest(f64::NAN, true).is_nan());
    }
}

//! Reading and validating experiment files.

use crate::error::{LabError, Result};
use crate::spec::Experiment;
use std::path::Path;

/// Read, parse and validate the experiment file at `path`.
pub fn experiment(path: &Path) -> Result<Experiment> {
    let text = std::fs::read_to_string(path).map_err(|source| LabError::Io {
        path: path.to_owned(),
        source,
    })?;
    experiment_from_str(&text, path)
}

/// Parse and validate experiment text; `path` names it in errors.
pub fn experiment_from_str(text: &str, path: &Path) -> Result<Experiment> {
    let mut exp: Experiment = ron::Options::default()
        .with_default_extension(ron::extensions::Extensions::IMPLICIT_SOME)
        .from_str(text)
        .map_err(|e| LabError::Parse {
            path: path.to_owned(),
            line: e.span.start.line,
            col: e.span.start.col,
            message: e.code.to_string(),
        })?;
    let invalid = |(field, message): (String, String)| LabError::Invalid {
        path: path.to_owned(),
        position: locate(text, &field),
        field,
        message,
    };
    exp.source = Some(path.to_owned());
    crate::hardware::resolve(&mut exp.hardware, path)?;
    validate(&exp).map_err(invalid)?;
    // Every point of the grid must be valid before anything runs.
    crate::runner::points(&exp).map_err(invalid)?;
    if let Some(spec) = &exp.tolerance {
        crate::tolerance::Plan::resolve(&exp, spec)
            .map_err(|(field, message)| invalid((format!("tolerance.{field}"), message)))?;
    }
    Ok(exp)
}

/// The first range error of an experiment as (field path, message).
pub fn validate(exp: &Experiment) -> std::result::Result<(), (String, String)> {
    let fail = |field: &str, message: String| Err((field.to_owned(), message));
    if exp.name.trim().is_empty() || exp.name.contains(['/', '\\']) {
        return fail(
            "name",
            format!(
                "must be a non-empty name without slashes (got {:?})",
                exp.name
            ),
        );
    }
    if let Err(e) = exp.dataset.validate() {
        return match e {
            crate::dataset::DataError::Invalid { field, message } => {
                Err((format!("dataset.{field}"), message))
            }
            other => Err(("dataset".into(), other.to_string())),
        };
    }
    let layers = &exp.network.layers;
    if layers.len() < 2 {
        return fail(
            "network.layers",
            format!("needs at least an input and an output width (got {layers:?})"),
        );
    }
    if layers.contains(&0) {
        return fail(
            "network.layers",
            format!("widths must be ≥ 1 (got {layers:?})"),
        );
    }
    if let Err(e) = exp.algorithm.validate_for(exp.network.loss) {
        let text = e.to_string();
        let (name, rest) = text.split_once(' ').unwrap_or((&text, ""));
        let known = [
            "alpha",
            "beta",
            "passes",
            "tolerance",
            "alpha_mix",
            "alpha_fb",
            "output",
        ];
        let field = name.split('.').next().unwrap_or(name);
        return if known.contains(&field)
            || name.starts_with("circuit.")
            || name.starts_with("damping.")
            || name.starts_with("dp.")
        {
            fail(&format!("algorithm.{name}"), rest.to_owned())
        } else {
            fail("algorithm", text)
        };
    }
    for m in &exp.metrics {
        m.validate()?;
    }
    let t = &exp.training;
    if t.epochs == 0 {
        return fail("training.epochs", "must be at least 1 (got 0)".into());
    }
    if t.batch_size == 0 {
        return fail("training.batch_size", "must be at least 1 (got 0)".into());
    }
    if !(t.learning_rate.is_finite() && t.learning_rate > 0.0) {
        return fail(
            "training.learning_rate",
            format!("must be a positive finite number (got {})", t.learning_rate),
        );
    }
    if !(0.0..1.0).contains(&t.momentum) {
        return fail(
            "training.momentum",
            format!("must be in [0, 1) (got {})", t.momentum),
        );
    }
    if !(t.weight_decay.is_finite() && t.weight_decay >= 0.0) {
        return fail(
            "training.weight_decay",
            format!(
                "must be a non-negative finite number (got {})",
                t.weight_decay
            ),
        );
    }
    if let Some(f) = t.blow_up {
        if !(f.is_finite() && f > 1.0) {
            return fail(
                "training.blow_up",
                format!("must be a finite factor > 1, or None to turn the rule off (got {f})"),
            );
        }
    }
    if let Some(r) = &exp.retention {
        if r.times.is_empty() || r.times.iter().any(|t| !(t.is_finite() && *t >= 0.0)) {
            return fail(
                "retention.times",
                format!("must list times ≥ 0 in seconds (got {:?})", r.times),
            );
        }
    }
    if exp.seeds.is_empty() {
        return fail("seeds", "must list at least one replicate seed".into());
    }
    Ok(())
}

/// Best-effort line and column of a dotted field path in RON text: the last component written as
/// `name:` after each enclosing component in turn. None when the field was not written (a default).
pub fn locate(text: &str, field: &str) -> Option<(usize, usize)> {
    let mut from = 0;
    for part in field.split('.') {
        let mut search = from;
        loop {
            let found = search + text[search..].find(part)?;
            let end = found + part.len();
            let before_ok = found == 0
                || !text[..found]
                    .chars()
                    .next_back()
                    .is_some_and(|c| c.is_alphanumeric() || c == '_');
            let after = text[end..].trim_start();
            if before_ok && after.starts_with(':') {
                from = found;
                break;
            }
            search = end;
        }
    }
    let line = text[..from].matches('\n').count() + 1;
    let col = from - text[..from].rfind('\n').map_or(0, |i| i + 1) + 1;
    Some((line, col))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn locate_finds_nested_fields() {
        let text = "Experiment(\n  name: \"x\",\n  algorithm: (kind: DpTop, alpha: 1.5),\n)";
        assert_eq!(locate(text, "algorithm.alpha"), Some((3, 28)));
        assert_eq!(locate(text, "algorithm.beta"), None);
    }
}

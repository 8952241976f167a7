//! Reading and validating experiment files.

use crate::error::{LabError, Result};
use crate::field::FieldError;
use crate::spec::{Experiment, OptimizerKind};
use std::path::Path;

/// Read, parse and validate the experiment file at `path`.
pub fn experiment(path: &Path) -> Result<Experiment> {
    let text = crate::error::read_input(path)?;
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
    let invalid = |e: FieldError| placed(e, text, path);
    exp.source = Some(path.to_owned());
    crate::hardware::resolve(&mut exp.hardware, path)?;
    // The input shape first, where the dataset's description gives it (MNIST-style files give
    // theirs when read, `job::check_shapes`): blocks on a wrong shape fail for its sake.
    let image = exp.dataset.known_image();
    if image.is_some() || !exp.dataset.is_image() {
        crate::network::check_input(&exp.network, image, exp.dataset.name()).map_err(invalid)?;
    }
    let classes = exp.dataset.outputs();
    crate::network::resolve_blocks(&mut exp.network, classes).map_err(invalid)?;
    if let Some((field, message)) = crate::hardware::inline_sweep(&mut exp, path)? {
        return Err(invalid(FieldError::new(field, message)));
    }
    validate(&exp).map_err(invalid)?;
    crate::settings::retention_has_drift(&exp).map_err(invalid)?;
    crate::labels::check(&exp).map_err(|(key, message)| LabError::Invalid {
        path: path.to_owned(),
        position: crate::labels::locate_key(text, &key),
        field: format!("labels.{key:?}"),
        message,
    })?;
    crate::report::validate_plots(&exp).map_err(invalid)?;
    // A non-finite number would not survive the grid's round trip through JSON: named first.
    if let Some(spec) = &exp.tolerance {
        spec.check_finite()
            .map_err(|e| invalid(e.under("tolerance")))?;
    }
    // Every point of the grid must be valid before anything runs.
    let points = crate::runner::points(&exp).map_err(invalid)?;
    crate::settings::algorithm_options_are_read(&exp, &points).map_err(invalid)?;
    if let Some(spec) = &exp.tolerance {
        crate::tolerance::Plan::resolve(&exp, spec).map_err(|e| invalid(e.under("tolerance")))?;
    }
    Ok(exp)
}

/// The one place a field error becomes an error about a file: its position is looked up in the
/// file's text (`text`), by the field's path and, when it carries one, by the offending value.
pub fn placed(e: FieldError, text: &str, path: &Path) -> LabError {
    let position = match &e.value {
        Some(value) => locate_value(text, &e.field, value).or_else(|| locate(text, &e.field)),
        None => locate(text, &e.field),
    };
    LabError::Invalid {
        path: path.to_owned(),
        position,
        field: e.field,
        message: e.message,
    }
}

/// The first range error of an experiment (or of one point of its grid).
pub fn validate(exp: &Experiment) -> std::result::Result<(), FieldError> {
    let fail = |field: &str, message: String| Err(FieldError::new(field, message));
    // The name becomes a folder (`runs/<name>`) that `--fresh` may clear: it must be one plain
    // file name, never a path out of `runs/`.
    let plain = !exp.name.trim().is_empty()
        && !exp.name.contains(['/', '\\', '\0'])
        && exp.name != "."
        && exp.name != ".."
        && std::path::Path::new(&exp.name).file_name() == Some(exp.name.as_ref());
    if !plain {
        return fail(
            "name",
            format!(
                "must be a plain file name: not empty, no slashes, not \".\" or \"..\" (got {:?})",
                exp.name
            ),
        );
    }
    if let Err(e) = exp.dataset.validate() {
        return match e {
            crate::dataset::DataError::Invalid { field, message } => {
                Err(FieldError::new(field, message).under("dataset"))
            }
            other => fail("dataset", other.to_string()),
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
    if let dualprop::Init::Normal(std) = exp.network.init
        && !(std.is_finite() && std >= 0.0)
    {
        return fail(
            "network.init",
            format!("Normal(std) needs a finite std ≥ 0 (got {std})"),
        );
    }
    exp.algorithm
        .validate_for(exp.network.loss)
        .map_err(|e| FieldError::from(e).under("algorithm"))?;
    for m in &exp.metrics {
        m.validate().map_err(|e| e.under("metrics"))?;
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
            crate::field::must_be("in [0, 1)", t.momentum),
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
    if let Some(f) = t.validation
        && !(f.is_finite() && f > 0.0 && f < 1.0)
    {
        return fail(
            "training.validation",
            format!("must be a fraction in (0, 1), e.g. 0.1, or None for no validation (got {f})"),
        );
    }
    t.lr_schedule
        .validate(t.learning_rate, t.epochs)
        .map_err(|e| e.under("training"))?;
    if let Some(r) = &exp.retention {
        if r.times.is_empty() || r.times.iter().any(|t| !(t.is_finite() && *t >= 0.0)) {
            return fail(
                "retention.times",
                format!("must list finite times ≥ 0 in seconds (got {:?})", r.times),
            );
        }
    }
    if !plot::Options::DPI_RANGE.contains(&exp.figures.dpi) {
        return fail(
            "figures.dpi",
            format!(
                "must be in {}..={} dots per inch (got {})",
                plot::Options::DPI_RANGE.start(),
                plot::Options::DPI_RANGE.end(),
                exp.figures.dpi
            ),
        );
    }
    if exp.seeds.is_empty() {
        return fail("seeds", "must list at least one replicate seed".into());
    }
    crate::settings::no_silent_settings(exp)?;
    fits_in_memory(exp)
}

/// Reject a network, batch or settling length whose memory cannot be had.
fn fits_in_memory(exp: &Experiment) -> std::result::Result<(), FieldError> {
    let t = &exp.training;
    let blocks = crate::network::blocks(&exp.network);
    // A convolutional network's sizes are written in its blocks.
    let network = if blocks.is_empty() {
        "network.layers"
    } else {
        "network.blocks"
    };
    let size = crate::budget::NetworkSize::training(
        &exp.network.layers,
        &blocks,
        t.batch_size,
        exp.algorithm.passes,
        t.optimizer == OptimizerKind::PlainSgd,
        exp.algorithm.dynamics().is_some(),
        exp.hardware.spec().is_some_and(|h| !h.is_ideal_array()),
    );
    let fields = [network, "training.batch_size", "algorithm.passes"];
    let limit = crate::budget::available();
    // The network at a batch of one first, so that a width too large is named as such.
    let one = crate::budget::NetworkSize { batch: 1, ..size }.bytes(fields)?;
    crate::budget::fits(network, "the network", one, limit)?;
    let bytes = size.bytes(fields)?;
    crate::budget::fits("training.batch_size", "one run", bytes, limit)
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
    Some(position(text, from))
}

/// Line and column of `value` written as a string (`"value"`) after the field's enclosing list,
/// for fields a list holds more than once (e.g. the axes of `plots`).
pub fn locate_value(text: &str, field: &str, value: &str) -> Option<(usize, usize)> {
    let (head, _) = field.split_once('.').unwrap_or((field, ""));
    let (line, col) = locate(text, head)?;
    let start = offset(text, line, col);
    let found = start + text[start..].find(&format!("{value:?}"))?;
    Some(position(text, found))
}

fn offset(text: &str, line: usize, col: usize) -> usize {
    let line_start: usize = text
        .split_inclusive('\n')
        .take(line - 1)
        .map(str::len)
        .sum();
    line_start + col - 1
}

fn position(text: &str, at: usize) -> (usize, usize) {
    let line = text[..at].matches('\n').count() + 1;
    let col = at - text[..at].rfind('\n').map_or(0, |i| i + 1) + 1;
    (line, col)
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

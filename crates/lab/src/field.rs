//! Validation errors that carry the path of their field, so that whoever reports them can place
//! them: the experiment loader maps a path to a line and column of the file, the command line maps
//! it to a flag. Nothing downstream parses a message to learn which field it is about.

use thiserror::Error;

/// How messages show a number and word a range it fails: shared with the hardware descriptions,
/// so that every field and flag calls a NaN or an infinity "not finite" rather than out of a range
/// it satisfies, and shows bounds in their shortest form.
pub use crossbar::spec::{must_be, shown};

/// A value that fails validation: the dotted path of its field and what was expected.
///
/// `field` is relative to the value validated: `algorithm.alpha` for an experiment file,
/// `devices` for [`crate::device::DeviceOptions`]. `message` reads after the field's name, e.g.
/// `must be in [0, 1] (got 1.5)`.
#[derive(Clone, Debug, PartialEq, Eq, Error)]
#[error("{field} {message}")]
pub struct FieldError {
    /// Dotted path of the field, e.g. `training.batch_size`.
    pub field: String,
    /// What is expected and what was found.
    pub message: String,
    /// The offending value as written in a file, when it helps to find it (a plot's axis name),
    /// for fields that a list holds more than once.
    pub value: Option<String>,
}

impl FieldError {
    /// An error about `field`.
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            field: field.into(),
            message: message.into(),
            value: None,
        }
    }

    /// The same error with the offending value attached (see [`FieldError::value`]).
    pub fn with_value(mut self, value: impl Into<String>) -> Self {
        self.value = Some(value.into());
        self
    }

    /// The same error seen from one level up: `prefix.field`.
    pub fn under(mut self, prefix: &str) -> Self {
        self.field = if self.field.is_empty() {
            prefix.to_owned()
        } else {
            format!("{prefix}.{}", self.field)
        };
        self
    }

    /// The same error with `note` appended to its message.
    pub fn note(mut self, note: &str) -> Self {
        self.message = format!("{} {note}", self.message);
        self
    }
}

impl From<dualprop::AlgorithmError> for FieldError {
    fn from(e: dualprop::AlgorithmError) -> Self {
        FieldError::new(e.field(), e.expected())
    }
}

impl From<crossbar::SpecError> for FieldError {
    fn from(e: crossbar::SpecError) -> Self {
        match e {
            crossbar::SpecError::OutOfRange {
                field,
                expected,
                value,
            } => FieldError::new(field, format!("must be {expected} (got {value})")),
            // A clash of sections belongs to the description as a whole: an empty path, which
            // `under` replaces by the description's own.
            crossbar::SpecError::Inconsistent(message) => FieldError::new("", message),
        }
    }
}

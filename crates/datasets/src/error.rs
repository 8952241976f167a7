//! Errors of the datasets crate: every message names the file or the field at fault.

use std::path::PathBuf;
use thiserror::Error;

/// Why a dataset could not be loaded or written.
#[derive(Debug, Error)]
pub enum DataError {
    /// A file could not be read or written.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// What the system said.
        source: std::io::Error,
    },
    /// A data file is missing or malformed.
    #[error("{path}: {message}")]
    Data {
        /// The file.
        path: PathBuf,
        /// What was wrong and how to fix it.
        message: String,
    },
    /// A field of the dataset description is out of range.
    #[error("{field} {message}")]
    Invalid {
        /// The field's path inside the dataset description, e.g. `train_subset`.
        field: String,
        /// What is expected and what was found.
        message: String,
    },
}

impl DataError {
    pub(crate) fn invalid(field: &str, message: impl Into<String>) -> Self {
        DataError::Invalid {
            field: field.to_owned(),
            message: message.into(),
        }
    }
}

/// Result of the datasets crate.
pub type Result<T, E = DataError> = std::result::Result<T, E>;

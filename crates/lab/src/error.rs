//! Errors of the experiment crate: every message names the file and, where it can, the position and field.

use std::path::PathBuf;
use thiserror::Error;

/// Anything that stops an experiment from loading, running or writing its results.
#[derive(Debug, Error)]
pub enum LabError {
    /// A file could not be read or written.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// What the system said.
        source: std::io::Error,
    },
    /// RON syntax or shape error at a position.
    #[error("{path}:{line}:{col}: {message}")]
    Parse {
        /// The file.
        path: PathBuf,
        /// 1-based line.
        line: usize,
        /// 1-based column.
        col: usize,
        /// What was wrong.
        message: String,
    },
    /// A parameter out of its valid range.
    #[error("{path}{}: {field} {message}", position.map(|(l, c)| format!(":{l}:{c}")).unwrap_or_default())]
    Invalid {
        /// The file.
        path: PathBuf,
        /// Line and column of the field when it could be located.
        position: Option<(usize, usize)>,
        /// Dotted path of the field, e.g. `algorithm.alpha`.
        field: String,
        /// What is expected and what was found.
        message: String,
    },
    /// A data file is missing or malformed.
    #[error("{path}: {message}")]
    Data {
        /// The file.
        path: PathBuf,
        /// What was wrong and how to fix it.
        message: String,
    },
    /// A plot could not be drawn.
    #[error(transparent)]
    Plot(#[from] plot::PlotError),
    /// A results file could not be encoded.
    #[error("{path}: {message}")]
    Encode {
        /// The file.
        path: PathBuf,
        /// What failed.
        message: String,
    },
    /// The run was stopped before it finished; finished runs are on disk.
    #[error("interrupted; run the same command again to finish the missing runs")]
    Interrupted,
    /// Another process holds the results folder's lock.
    #[error("{dir} is in use by {holder}; wait for it to finish or choose another folder")]
    Busy {
        /// The results folder.
        dir: PathBuf,
        /// Who holds it: process id, host and command, as the holder wrote them.
        holder: String,
    },
    /// A command-line argument out of range.
    #[error("{0}")]
    Usage(String),
}

impl LabError {
    /// True when the user's input (a file, a parameter, missing data) is at fault, which the CLI
    /// reports with exit code 2.
    pub fn is_input_error(&self) -> bool {
        matches!(
            self,
            LabError::Parse { .. }
                | LabError::Invalid { .. }
                | LabError::Data { .. }
                | LabError::Usage(_)
                | LabError::Busy { .. }
        ) || matches!(self, LabError::Io { source, .. } if source.kind() == std::io::ErrorKind::NotFound)
    }
}

/// Result of the experiment crate.
pub type Result<T, E = LabError> = std::result::Result<T, E>;

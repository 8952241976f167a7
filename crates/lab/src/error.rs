//! Errors of the experiment crate: every message names the file and, where it can, the position and field.

use crate::field::FieldError;
use std::path::{Path, PathBuf};
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
    /// An input file that cannot be read as one: a directory, a binary or non-UTF-8 file, a file
    /// without read permission.
    #[error("{path}: {reason}")]
    Unreadable {
        /// The file.
        path: PathBuf,
        /// Why, in words (the system's message included).
        reason: String,
    },
    /// An option of a command out of range; `field` is the option's name in the options struct
    /// (e.g. `devices` of [`crate::device::DeviceOptions`]), which a front end maps to its own
    /// name for it (a command-line flag).
    #[error("{0}")]
    Option(FieldError),
    /// A folder that is not what the command needs: not dyadsim's to write into, or not a results
    /// folder to read.
    #[error("{path} {reason}; {}", .role.needs())]
    Foreign {
        /// The folder.
        path: PathBuf,
        /// What it is or holds.
        reason: String,
        /// What the command does with the folder.
        role: crate::folder::Role,
    },
    /// A results folder that holds records of another experiment than the one to run.
    #[error("{path} holds results of a different experiment ({difference})")]
    OtherExperiment {
        /// The results folder.
        path: PathBuf,
        /// The first difference between the two experiments.
        difference: String,
    },
    /// A folder holds something this command must not mix with or overwrite.
    #[error("{path}: {message}")]
    Conflict {
        /// The folder.
        path: PathBuf,
        /// What it holds and what to do.
        message: String,
    },
    /// A golden exists where a new one was to be pinned; `diff` is against a fresh run.
    #[error("{path} is already pinned. Its diff against a fresh run:\n{diff}")]
    AlreadyPinned {
        /// The golden file.
        path: PathBuf,
        /// How a fresh run differs from it.
        diff: String,
    },
    /// The worker threads could not be started.
    #[error("cannot start {threads} worker threads: {message}")]
    ThreadPool {
        /// Threads asked for (0: one per core).
        threads: usize,
        /// What the system said.
        message: String,
    },
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
                | LabError::Foreign { .. }
                | LabError::OtherExperiment { .. }
                | LabError::Busy { .. }
                | LabError::Unreadable { .. }
                | LabError::Option(_)
                | LabError::Conflict { .. }
                | LabError::AlreadyPinned { .. }
                | LabError::ThreadPool { .. }
        ) || matches!(self, LabError::Io { source, .. } if source.kind() == std::io::ErrorKind::NotFound)
    }

    /// An option error about `field` (see [`LabError::Option`]).
    pub fn option(field: &str, message: impl Into<String>) -> Self {
        LabError::Option(FieldError::new(field, message))
    }
}

/// Read the text file a user named as input (an experiment, a hardware description, a run
/// record): a file that is missing, a directory, unreadable or not UTF-8 text is bad input,
/// reported once with its path.
pub fn read_input(path: &Path) -> Result<String> {
    use std::io::ErrorKind;
    if path.is_dir() {
        return Err(LabError::Unreadable {
            path: path.to_owned(),
            reason: "is a directory, not a file".into(),
        });
    }
    std::fs::read_to_string(path).map_err(|source| match source.kind() {
        ErrorKind::NotFound => LabError::Io {
            path: path.to_owned(),
            source,
        },
        ErrorKind::InvalidData => LabError::Unreadable {
            path: path.to_owned(),
            reason: "is not UTF-8 text (a binary file?)".into(),
        },
        _ => LabError::Unreadable {
            path: path.to_owned(),
            reason: format!("cannot be read: {source}"),
        },
    })
}

/// Result of the experiment crate.
pub type Result<T, E = LabError> = std::result::Result<T, E>;

//! The experiment crate of dyadsim: experiment files, sweeps, training runs, results and which
//! figures to draw (datasets and drawing live in the `datasets` and `plot` crates).
//!
//! It is the only library that touches the file system. A run goes
//! [`load::experiment`] → [`dataset::load`] → [`lock::lock`] on the results folder →
//! [`runner::run`] → [`report::draw`].
//!
//! ```no_run
//! use lab::{dataset, load, report, runner};
//! use std::path::Path;
//!
//! let path = Path::new("experiments/quickstart.ron");
//! let exp = load::experiment(path)?;
//! let data = dataset::load(&exp.dataset, path)?;
//! let grid = runner::points(&exp).expect("validated when loaded");
//! let out = std::path::PathBuf::from("runs/quickstart");
//! let _lock = lab::lock::lock(&out, "example")?;
//! let opts = runner::RunOptions {
//!     out,
//!     fresh: false,
//!     threads: None,
//!     shard: None,
//!     checkpoint_every: None,
//! };
//! let records = runner::run(&exp, &grid, &data, &opts, &runner::Quiet)?;
//! report::draw(&opts.out, &exp, &records)?;
//! # Ok::<(), lab::LabError>(())
//! ```

pub mod aggregate;
pub mod bench;
pub mod budget;
pub mod builtin;
pub mod check;
pub mod checkpoint;
pub mod cost;
pub mod dataset;
pub mod device;
pub mod diff;
pub mod error;
pub mod field;
pub mod files;
pub mod floats;
pub mod folder;
pub mod gradcheck;
pub mod hardware;
pub mod job;
pub mod labels;
pub mod limits;
pub mod load;
pub mod lock;
pub mod lr_schedule;
pub mod metrics;
pub mod network;
pub mod plan;
pub mod report;
pub mod results;
pub mod runner;
pub mod seed;
pub mod settings;
pub mod spec;
pub mod sweep;
pub mod tolerance;
pub mod validation;

#[cfg(test)]
mod record_properties;
#[cfg(test)]
mod spec_properties;

pub use error::{LabError, Result};

/// The pixel densities figures accept (dots per inch), for `--dpi` checks outside this crate.
pub fn plot_dpi_range() -> std::ops::RangeInclusive<u32> {
    plot::Options::DPI_RANGE
}
pub use field::FieldError;
pub use spec::Experiment;

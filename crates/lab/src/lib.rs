//! The experiment crate of dyadsim: experiment files, datasets, training runs, results and plots.
//!
//! It is the only library that touches the file system. A run goes
//! [`load::experiment`] → [`dataset::load`] → [`runner::run`] → [`report::convergence`].
//!
//! ```no_run
//! use lab::{load, dataset, runner};
//! use std::path::Path;
//!
//! let path = Path::new("experiments/quickstart.ron");
//! let exp = load::experiment(path)?;
//! let data = dataset::load(&exp.dataset, path)?;
//! let opts = runner::RunOptions { out: "runs/quickstart".into(), fresh: false };
//! let records = runner::run(&exp, &data, &opts, &runner::Quiet)?;
//! # Ok::<(), lab::LabError>(())
//! ```

pub mod dataset;
pub mod device;
pub mod error;
pub mod gradcheck;
pub mod hardware;
pub mod job;
pub mod load;
pub mod metrics;
pub mod plot;
pub mod report;
pub mod results;
pub mod runner;
pub mod seed;
pub mod spec;
pub mod sweep;

pub use error::{LabError, Result};
pub use spec::Experiment;

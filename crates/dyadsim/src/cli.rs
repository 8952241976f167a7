//! Command-line arguments.

use clap::{Parser, Subcommand, ValueEnum};
use std::path::PathBuf;

/// Simulate neuromorphic analog hardware that learns with dual propagation (DP and DP⊤).
#[derive(Debug, Parser)]
#[command(name = "dyadsim", version, about)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Train what an experiment file describes and write metrics, summary and plots.
    Run {
        /// The experiment file (RON).
        experiment: PathBuf,
        /// Results folder [default: runs/<experiment name>].
        #[arg(long)]
        out: Option<PathBuf>,
        /// Discard earlier results in the folder instead of resuming.
        #[arg(long)]
        fresh: bool,
        /// Worker threads for sweep points [default: all cores].
        #[arg(long)]
        threads: Option<usize>,
        /// Run only share i of n of the grid's points (points whose index is i modulo n), e.g. for a
        /// Slurm job array: --shard $SLURM_ARRAY_TASK_ID/n with sbatch --array=0-(n-1).
        #[arg(long, value_name = "i/n")]
        shard: Option<String>,
    },
    /// Combine the results folders of shards of one experiment into one.
    Merge {
        /// Results folders of the shards.
        #[arg(required = true)]
        dirs: Vec<PathBuf>,
        /// Folder for the merged results [default: the first folder].
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// Redraw the figures of a results folder without re-running anything.
    Plot {
        /// The results folder (holding experiment.ron and runs/).
        dir: PathBuf,
    },
    /// Apply a pulse programme to devices of a hardware file and plot their response (and drift).
    Device {
        /// The hardware description (RON), e.g. device-models/ecram-tang2018.ron.
        hardware: PathBuf,
        /// Pulse programme from w = 0: signed counts, up (+) and down (−).
        #[arg(long, default_value = "+200,-400,+200", allow_hyphen_values = true)]
        pulses: String,
        /// Independent devices (N > 1 adds mean, std and percentiles).
        #[arg(long, default_value_t = 100)]
        devices: usize,
        /// Seed of the device realisations and the pulse noise.
        #[arg(long, default_value_t = 0)]
        seed: u64,
        /// Results folder [default: runs/device-<file name>].
        #[arg(long)]
        out: Option<PathBuf>,
        /// Also program conductances and let them drift (needs a drift model in the file).
        #[arg(long)]
        drift: bool,
        /// Drift read-out times after programming, in seconds.
        #[arg(long, default_value = "1,3600,86400,31536000")]
        times: String,
        /// Programmed targets, as fractions of g_max.
        #[arg(long, default_value = "0.1,0.5,1.0")]
        targets: String,
    },
    /// Compare the local rule's gradient estimate with backprop on a seeded random network.
    Gradcheck(GradcheckArgs),
}

/// Arguments of `gradcheck`.
#[derive(Debug, clap::Args)]
pub struct GradcheckArgs {
    /// The algorithm whose estimate is checked.
    #[arg(long, value_enum, default_value = "dp-top")]
    pub algorithm: AlgorithmArg,
    /// Nudging asymmetry α in [0, 1].
    #[arg(long, default_value_t = 0.5)]
    pub alpha: f32,
    /// Nudging strength β > 0.
    #[arg(long, default_value_t = 1e-3)]
    pub beta: f32,
    /// Layer widths, input first (the digits: 64 in, 10 out).
    #[arg(long, value_delimiter = ',', default_value = "64,32,16,10")]
    pub layers: Vec<usize>,
    /// Loss.
    #[arg(long, value_enum, default_value = "ce")]
    pub loss: LossArg,
    /// Hidden activation.
    #[arg(long, value_enum, default_value = "relu")]
    pub activation: ActivationArg,
    /// Settling passes K.
    #[arg(long, default_value_t = 10)]
    pub passes: usize,
    /// Batch size.
    #[arg(long, default_value_t = 32)]
    pub batch: usize,
    /// Seed of the weights and the batch.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Print one JSON object instead of a table.
    #[arg(long)]
    pub json: bool,
}

/// `--algorithm` values.
#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum AlgorithmArg {
    /// DP⊤, the adjoint form.
    DpTop,
    /// Original dual propagation.
    Dp,
}

/// `--loss` values.
#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum LossArg {
    /// Softmax cross-entropy.
    Ce,
    /// Mean squared error.
    Mse,
}

/// `--activation` values.
#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum ActivationArg {
    /// max(0, x).
    Relu,
    /// clip(x, 0, 1).
    HardSigmoid,
    /// tanh(x).
    Tanh,
    /// x.
    Identity,
}

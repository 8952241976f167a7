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
    // A negative number is reported by the check of its flag, not as an unknown argument.
    #[command(allow_negative_numbers = true)]
    Run {
        /// The experiment file (RON).
        experiment: PathBuf,
        /// Results folder [default: runs/<experiment name>].
        #[arg(long)]
        out: Option<PathBuf>,
        /// Discard earlier results in the folder instead of resuming.
        #[arg(long)]
        fresh: bool,
        /// Worker threads for sweep points, 1 to 1024 [default: all cores].
        #[arg(long, value_parser = crate::flags::threads)]
        threads: Option<usize>,
        /// Run only share i of n of the grid's points (points whose index is i modulo n), e.g. for a
        /// Slurm job array: --shard $SLURM_ARRAY_TASK_ID/n with sbatch --array=0-(n-1).
        #[arg(long, value_name = "i/n")]
        shard: Option<String>,
        /// Write a checkpoint of each run in flight at the first mini-batch boundary once this many
        /// minutes passed since its last one (0: after every epoch; `never`: none), into runs/
        /// beside the records; a run with a checkpoint continues from it, bit for bit.
        #[arg(long, value_name = "MINUTES|never", default_value = crate::flags::CHECKPOINT_MINUTES, value_parser = crate::flags::checkpoint_minutes)]
        checkpoint_minutes: crate::flags::CheckpointEvery,
        /// Print only the progress bar and the final table, no line per epoch.
        #[arg(long, short)]
        quiet: bool,
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
        /// Pixel density of the PNG figures in dots per inch (36–1200) [default: the experiment's
        /// `figures.dpi`, 200 unless set]; the SVG files are vector.
        #[arg(long)]
        dpi: Option<u32>,
    },
    /// Apply a pulse programme to devices of hardware files and plot their responses (and drift),
    /// every file overlaid in one figure.
    Device {
        /// Hardware descriptions (RON), e.g. device-models/ecram-tang2018.ron device-models/reram-om.ron.
        #[arg(required = true)]
        hardware: Vec<PathBuf>,
        /// Pulse programme from w = 0: signed counts, up (+) and down (−).
        #[arg(long, default_value = "+200,-400,+200", allow_hyphen_values = true)]
        pulses: String,
        /// Independent devices (N > 1 adds mean, std and percentiles).
        #[arg(long, default_value_t = 100)]
        devices: usize,
        /// Seed of the device realisations and the pulse noise.
        #[arg(long, default_value_t = 0)]
        seed: u64,
        /// Results folder [default: runs/device-<file name>, runs/devices for several files].
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
    /// Compare the local rule's gradient estimate with backprop on a seeded random network, or on an
    /// experiment's network, data and hardware (--experiment).
    Gradcheck(GradcheckArgs),
    /// Time the standard workloads and print their rates, roofline fractions and memory.
    #[command(allow_negative_numbers = true)]
    Bench {
        /// Print one JSON object instead of a table.
        #[arg(long)]
        json: bool,
        /// CI smoke test: a small network and three repetitions (a few seconds; numbers not comparable).
        #[arg(long)]
        quick: bool,
        /// Threads of the rayon pool the workloads (and their matrix products) run in, 1 to 1024
        /// [default: all cores].
        #[arg(long, value_parser = crate::flags::threads)]
        threads: Option<usize>,
        /// Run only these workloads (comma-separated names, e.g. `ideal-dptop,ideal-backprop`);
        /// `gemm-roofline` always runs.
        #[arg(long, value_delimiter = ',')]
        only: Vec<String>,
    },
    /// Run the fidelity suite (gradients, devices, dynamics, bits, goldens), or pin and compare goldens.
    Check(CheckArgs),
    /// Count an experiment's runs per shard and estimate each shard's wall time, before submitting.
    Plan(PlanArgs),
    /// Find how far a field may go before the metric drops more than --max-drop below the reference.
    Tolerance(ToleranceArgs),
}

/// Arguments of `tolerance` (the same as an experiment's `tolerance: (...)` section).
#[derive(Debug, clap::Args)]
#[command(allow_negative_numbers = true)]
pub struct ToleranceArgs {
    /// The experiment file (RON).
    pub experiment: PathBuf,
    /// The searched field path, as in `sweep` (e.g. algorithm.alpha, hardware.io.w_noise).
    #[arg(long)]
    pub axis: String,
    /// The reference value [default: the value in the file]; with --around, the lower end.
    #[arg(long, allow_hyphen_values = true)]
    pub from: Option<f64>,
    /// The far end of the search; with --around, the upper end.
    #[arg(long, allow_hyphen_values = true)]
    pub to: Option<f64>,
    /// Search both ways from this reference value (down to --from, up to --to).
    #[arg(long, allow_hyphen_values = true)]
    pub around: Option<f64>,
    /// Allowed drop below the reference, in the metric's units (0.02: 2 points of accuracy).
    #[arg(long, default_value_t = 0.02)]
    pub max_drop: f64,
    /// Read --max-drop as a fraction of the reference.
    #[arg(long)]
    pub relative: bool,
    /// The final metric, a metrics.csv column.
    #[arg(long, default_value = "test_acc")]
    pub metric: String,
    /// Replicate seeds 0..N per probe, 2 to 10000 [default: the file's seeds].
    #[arg(long, value_parser = crate::flags::seeds)]
    pub seeds: Option<usize>,
    /// Confidence of the paired one-sided bound on the drop.
    #[arg(long, default_value_t = 0.95)]
    pub confidence: f64,
    /// Stop at this bracket width: axis units (linear), a relative width (log) [default: span/50; 0.1].
    #[arg(long)]
    pub resolution: Option<f64>,
    /// Probe spacing [default: log for noise amplitudes and *_std fields, else linear].
    #[arg(long, value_enum)]
    pub scale: Option<ScaleArg>,
    /// One tolerance per value: PATH (values from the file's sweep) or PATH=v1,v2,...
    #[arg(long, value_name = "PATH[=v1,v2,...]")]
    pub compare: Option<String>,
    /// The boundary: one tolerance per value, PATH (values from the sweep) or PATH=v1,v2,...
    #[arg(long, value_name = "PATH[=v1,v2,...]")]
    pub across: Option<String>,
    /// Results folder [default: runs/<experiment name>-tolerance].
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Discard earlier runs in the folder instead of reusing them.
    #[arg(long)]
    pub fresh: bool,
    /// Worker threads, and probes per round of each search, 1 to 1024 [default: all cores].
    #[arg(long, value_parser = crate::flags::threads)]
    pub threads: Option<usize>,
}

/// `--scale` values.
#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum ScaleArg {
    /// Evenly spaced values.
    Linear,
    /// Evenly spaced logarithms.
    Log,
}

/// Arguments of `gradcheck`.
#[derive(Debug, clap::Args)]
// A negative value is reported by the range check that names the field, not as an unknown flag.
#[command(allow_negative_numbers = true)]
pub struct GradcheckArgs {
    /// Check the network, algorithm, data and hardware of this experiment file instead of a
    /// random dense network on digits; --alpha, --beta, --passes, --alpha-mix, --alpha-fb,
    /// --batch and --seed override its values where its algorithm reads them (else they are
    /// refused), the other options cannot be combined with it.
    #[arg(long, value_name = "FILE.ron")]
    pub experiment: Option<PathBuf>,
    /// With --experiment: the point of its sweep grid to check, 0-based as in its run records
    /// (`runs/point{N}-…`); the point's parameters are printed (and in --json) [default: 0].
    #[arg(long, value_name = "N", requires = "experiment")]
    pub point: Option<usize>,
    /// The algorithm whose estimate is checked.
    #[arg(
        long,
        value_enum,
        default_value = "dp-top",
        conflicts_with = "experiment"
    )]
    pub algorithm: AlgorithmArg,
    /// Nudging asymmetry α in [0, 1] [default: 0.5, or the experiment's].
    #[arg(long)]
    pub alpha: Option<f32>,
    /// Nudging strength β > 0 [default: 0.001, or the experiment's].
    #[arg(long)]
    pub beta: Option<f32>,
    /// Layer widths, input first (the digits: 64 in, 10 out).
    #[arg(
        long,
        value_delimiter = ',',
        default_value = "64,32,16,10",
        conflicts_with = "experiment"
    )]
    pub layers: Vec<usize>,
    /// Loss.
    #[arg(long, value_enum, default_value = "ce", conflicts_with = "experiment")]
    pub loss: LossArg,
    /// Hidden activation.
    #[arg(
        long,
        value_enum,
        default_value = "relu",
        conflicts_with = "experiment"
    )]
    pub activation: ActivationArg,
    /// Settling passes K (the schedule's maximum) [default: 10, or the experiment's].
    #[arg(long)]
    pub passes: Option<usize>,
    /// Layer order within a pass.
    #[arg(
        long,
        value_enum,
        default_value = "forward",
        conflicts_with = "experiment"
    )]
    pub schedule: ScheduleArg,
    /// Settle in continuous time (circuit mode) instead of by the schedule.
    #[arg(long, conflicts_with = "experiment")]
    pub circuit: bool,
    /// Circuit mode: compartment time constant τ.
    #[arg(long, default_value_t = 1.0, conflicts_with = "experiment")]
    pub tau: f32,
    /// Circuit mode: Euler step dt (0 < dt ≤ τ).
    #[arg(long, default_value_t = 0.2, conflicts_with = "experiment")]
    pub dt: f32,
    /// Circuit mode: stop once the largest compartment velocity (units of 1/τ) is below this.
    #[arg(long, default_value_t = 1e-5, conflicts_with = "experiment")]
    pub tol: f32,
    /// Circuit mode: give up at this time.
    #[arg(long, default_value_t = 1000.0, conflicts_with = "experiment")]
    pub t_max: f32,
    /// α as used in the mean state (default: α), to simulate a leak ε = α_mix − α_fb.
    #[arg(long)]
    pub alpha_mix: Option<f32>,
    /// Feedback split α_fb (default: α for dp-top, 1 − α for dp).
    #[arg(long)]
    pub alpha_fb: Option<f32>,
    /// Factor on the random weights (above 1 reaches the strongly coupled regime).
    #[arg(long, default_value_t = 1.0, conflicts_with = "experiment")]
    pub weight_scale: f32,
    /// How the output dyad is nudged.
    #[arg(
        long,
        value_enum,
        default_value = "explicit",
        conflicts_with = "experiment"
    )]
    pub output: OutputArg,
    /// Batch size [default: 32; with --experiment its batch size, the first training samples].
    #[arg(long)]
    pub batch: Option<usize>,
    /// Seed of the weights and the batch [default: 0; with --experiment its seed, which seeds
    /// weights and devices as replicate 0 of a run].
    #[arg(long)]
    pub seed: Option<u64>,
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
    /// DP with damped compartment updates.
    DampedDp,
}

/// `--schedule` values.
#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum ScheduleArg {
    /// Layers 1..L every pass.
    Forward,
    /// Down, then up and down.
    ForwardBackward,
    /// Layers L..1 every pass.
    Backward,
    /// Odd layers, then even layers.
    OddEven,
    /// Even layers, then odd layers.
    EvenOdd,
    /// The authors' MLP rounds: hidden layers down and up, then the output; a closing sweep down.
    Rounds,
}

/// `--output` values.
#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum OutputArg {
    /// s± = a ∓ share·β·∇ℓ.
    Explicit,
    /// The exact minimiser for MSE.
    ExactMse,
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

/// Arguments of `check`.
#[derive(Debug, clap::Args)]
pub struct CheckArgs {
    /// The part of the suite [default: golden with --golden, else all].
    #[arg(long, value_enum)]
    pub suite: Option<SuiteArg>,
    /// A hardware file: the devices suite checks its device, the gradient suite reads through it
    /// [default for devices: every file of device-models/].
    #[arg(long)]
    pub hardware: Option<PathBuf>,
    /// Print {"checks":[...]} as JSON instead of a table.
    #[arg(long)]
    pub json: bool,
    /// Pin a seeded run of this experiment as a golden in the --golden folder.
    #[arg(long, value_name = "EXPERIMENT.ron", requires = "golden")]
    pub pin: Option<PathBuf>,
    /// Folder of users' goldens: compare them (or, with --pin, store one there).
    #[arg(long, value_name = "DIR")]
    pub golden: Option<PathBuf>,
    /// Rewrite goldens whose results moved, after showing the diff.
    #[arg(long)]
    pub update: bool,
    /// Relative tolerance of golden comparisons (1e-9: identical builds; see docs/FIDELITY.md).
    #[arg(long, default_value_t = 1e-9, allow_hyphen_values = true)]
    pub rtol: f64,
    /// Compare goldens statistically: a metric fails only when its mean over seeds at the last
    /// epoch moves by more than K standard deviations of the golden's seeds (needs goldens of
    /// 2 or more seeds) [default: exact, every value within --rtol].
    #[arg(
        long,
        value_name = "K",
        conflicts_with = "pin",
        allow_hyphen_values = true
    )]
    pub max_sigma: Option<f64>,
    /// Compare only the last epoch of every golden run (and its retention points).
    #[arg(long, conflicts_with = "pin")]
    pub final_only: bool,
    /// Print every moved value of a golden, not only the first 20 (--json always has all).
    #[arg(long)]
    pub details: bool,
    /// Where a golden's experiment file or a hardware file it names is missing, re-run the
    /// experiment stored in the golden instead of failing.
    #[arg(long, conflicts_with = "pin")]
    pub allow_missing_source: bool,
}

/// `--suite` values.
#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum SuiteArg {
    /// DP / DP⊤ against backprop as β → 0, error orders, leak scaling.
    Gradient,
    /// Device step rules, traces and per-pulse moments.
    Devices,
    /// Circuit-mode fixed points and the stability of DP, DP⊤ and damped DP.
    Dynamics,
    /// Seeded short runs against stored results.
    Golden,
    /// Digests of the exact bits of products, forward passes and training steps.
    Bits,
    /// Everything.
    All,
}

/// Arguments of `plan`.
#[derive(Debug, clap::Args)]
#[command(allow_negative_numbers = true)]
pub struct PlanArgs {
    /// The experiment file (RON).
    pub experiment: PathBuf,
    /// Shards the grid is split into (`run --shard i/N`, a job array of N tasks), 1 to 100000.
    #[arg(long, default_value = "1", value_parser = crate::flags::shards)]
    pub shards: usize,
    /// Worker threads of each shard (`run --threads`, e.g. Slurm's --cpus-per-task), 1 to 1024.
    #[arg(long, default_value = "1", value_parser = crate::flags::threads)]
    pub threads: usize,
}

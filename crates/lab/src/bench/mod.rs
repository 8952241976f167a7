//! `dyadsim bench`: the standard workloads, timed robustly, with their analytic FLOP
//! rates, the fraction of the machine's GEMM rate they reach and their peak memory.
//!
//! Every workload is seeded and runs the library's real code paths (`settle`,
//! `Optimizer::step_local`, `Backprop`, `runner::run`); [`flops`] counts the work as the
//! unoptimised algorithm does it, so an optimisation that skips work shows as a higher rate.
//! docs/PERFORMANCE.md describes the method and holds the measured table.
//!
//! ```no_run
//! let report = lab::bench::run(
//!     &lab::bench::BenchOptions { quick: true, threads: None, only: vec![] },
//!     &mut |_| {},
//! )?;
//! assert_eq!(report.workloads[0].name, "gemm-roofline");
//! # Ok::<(), lab::LabError>(())
//! ```

pub mod conv;
pub mod flops;
mod scaling;
pub mod timing;
pub mod workloads;

use crate::error::{LabError, Result};
use conv::{ConvDpStep, ConvModel};
use serde::Serialize;
use timing::{Budget, measure, peak_rss_mb, reset_peak_rss};
use workloads::{Arrays, BackpropStep, DpStep, GemmStep, Shape, mean_passes};

/// What to run.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BenchOptions {
    /// CI smoke test: a small network (64-32-32-10, batch 8), one warm-up and three repetitions,
    /// a one-epoch sweep; the numbers only show that every workload runs.
    pub quick: bool,
    /// Threads of the rayon pool the workloads run in, and the "all threads" of `sweep-scaling`
    /// (default: every core). crossbar's GEMM splits a product over rayon's current pool, so this
    /// is also the GEMM's thread count.
    pub threads: Option<usize>,
    /// Run only these workloads (names from [`WORKLOADS`]); empty runs all. `gemm-roofline` always
    /// runs, since every fraction divides by it.
    pub only: Vec<String>,
}

/// One workload's medians.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct WorkloadResult {
    /// The workload's name, e.g. `ideal-dptop`.
    pub name: String,
    /// Training samples per second (gemm-roofline: batch columns of the step's products per second).
    pub samples_per_s: f64,
    /// Analytic FLOPs per second (GFLOP/s, 10⁹), median over repetitions.
    pub gflops: f64,
    /// `gflops` over the `gemm-roofline` rate of the same process.
    pub roofline_fraction: f64,
    /// Peak resident memory of the process while the workload was set up and ran (MB, 10⁶ bytes);
    /// 0 where /proc is not available.
    pub peak_rss_mb: f64,
    /// Median wall time of one repetition (s).
    pub median_s: f64,
    /// Spread of the repetitions: (90th − 10th percentile) / median; absent where it was not
    /// measured (`sweep-scaling`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub spread: Option<f64>,
    /// Repetitions measured after warm-up.
    pub reps: usize,
    /// Mean settling passes (or Euler steps) per step, for the settling workloads.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub passes: Option<f64>,
    /// `sweep-scaling`: wall time on one thread over wall time on all threads.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub speedup: Option<f64>,
    /// `sweep-scaling`: the records of every run were bit-identical across thread counts.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bit_identical: Option<bool>,
}

/// The whole benchmark.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct BenchReport {
    /// Threads of the pool the workloads ran in.
    pub threads: usize,
    /// True for the `--quick` smoke test (small network; not comparable numbers).
    pub quick: bool,
    /// Layer widths of the training-step workloads.
    pub network: Vec<usize>,
    /// Batch size of the training-step workloads.
    pub batch: usize,
    /// The workloads in the order they ran, `gemm-roofline` first.
    pub workloads: Vec<WorkloadResult>,
}

/// What a workload sets up and times.
#[derive(Clone, Copy, Debug)]
pub enum Setup {
    /// The matrix products of a fixed-K DP⊤ step alone ([`GemmStep`] with K = 4): the rate every
    /// other workload is a fraction of.
    Roofline,
    /// A DP⊤ training step ([`DpStep`]) on `arrays`, settled by the dynamics `dynamics` builds.
    Dp {
        /// The arrays of the network.
        arrays: Arrays,
        /// The settling dynamics.
        dynamics: fn() -> dualprop::Dynamics,
    },
    /// A backprop training step ([`BackpropStep`]) on `arrays`.
    Backprop {
        /// The arrays of the network.
        arrays: Arrays,
    },
    /// A DP⊤ step with K = 4 of a convolutional network on ideal arrays ([`ConvDpStep`]); the
    /// function gives the network for (`--quick`).
    ConvDp {
        /// The network and batch, full or `--quick`.
        model: fn(bool) -> ConvModel,
    },
    /// The 16-point sweep through `runner::run` on one thread and on all (`bench::scaling`).
    SweepScaling,
}

/// One benchmark workload: its name (an interface users script against), what it sets up, and the
/// analytic FLOPs of one repetition given the shape and the settling passes it ran.
#[derive(Clone, Copy, Debug)]
pub struct Workload {
    /// The name `--only` takes and the report shows.
    pub name: &'static str,
    /// What is set up and timed.
    pub setup: Setup,
    /// FLOPs of one repetition for (shape, settling passes of that repetition), see [`flops`].
    pub flops: fn(&Shape, usize) -> f64,
}

fn dp_flops(shape: &Shape, passes: usize) -> f64 {
    flops::dp_step(&shape.sizes, shape.batch, passes)
}

fn conv_flops(shape: &Shape, passes: usize) -> f64 {
    flops::conv_dp_step(&shape.blocks, &shape.sizes, shape.batch, passes)
}

fn backprop_flops(shape: &Shape, _passes: usize) -> f64 {
    flops::backprop_step(&shape.sizes, shape.batch)
}

fn fixed4() -> dualprop::Dynamics {
    DpStep::fixed(4)
}

fn fixed3() -> dualprop::Dynamics {
    DpStep::fixed(3)
}

fn fixed8() -> dualprop::Dynamics {
    DpStep::fixed(8)
}

const fn dp(name: &'static str, arrays: Arrays, dynamics: fn() -> dualprop::Dynamics) -> Workload {
    Workload {
        name,
        setup: Setup::Dp { arrays, dynamics },
        flops: dp_flops,
    }
}

/// Every workload, in the order they run; `gemm-roofline` first, since every fraction divides by
/// its rate. (`sweep-scaling`'s FLOPs depend on the sweep, not on the shape: `bench::scaling` counts
/// them, and its entry's formula is not used.) The convolutional workloads get the shape of their
/// own network.
pub const WORKLOADS: [Workload; 13] = [
    Workload {
        name: "gemm-roofline",
        setup: Setup::Roofline,
        flops: dp_flops,
    },
    dp("ideal-dptop", Arrays::Ideal, fixed4),
    dp("ideal-dptop-k3", Arrays::Ideal, fixed3),
    dp("ideal-dptop-k8", Arrays::Ideal, fixed8),
    dp("ideal-dptop-tol", Arrays::Ideal, DpStep::to_tolerance),
    Workload {
        name: "ideal-backprop",
        setup: Setup::Backprop {
            arrays: Arrays::Ideal,
        },
        flops: backprop_flops,
    },
    dp("noisy-dptop", Arrays::Noisy, fixed4),
    dp("noisy-dptop-k3", Arrays::Noisy, fixed3),
    dp("pulse-coincidence", Arrays::PulseCoincidence, fixed4),
    dp("circuit-mode", Arrays::Ideal, DpStep::circuit),
    Workload {
        name: "cnn-dptop",
        setup: Setup::ConvDp {
            model: conv::cnn_fmnist,
        },
        flops: conv_flops,
    },
    Workload {
        name: "vgg16-dptop",
        setup: Setup::ConvDp {
            model: conv::vgg16_cifar,
        },
        flops: conv_flops,
    },
    Workload {
        name: "sweep-scaling",
        setup: Setup::SweepScaling,
        flops: dp_flops,
    },
];

/// Settling passes of the roofline's product sequence: those of the standard `ideal-dptop`.
const ROOFLINE_PASSES: usize = 4;

/// Settling passes of the convolutional workloads' DP⊤ step.
const CONV_PASSES: usize = 4;

/// A built-in workload that cannot be set up (a bug, reported rather than a panic).
fn invalid(name: &str, message: String) -> LabError {
    LabError::Invalid {
        path: "bench".into(),
        position: None,
        field: name.into(),
        message,
    }
}

/// Run every workload in a pool of `opts.threads` threads; `done` sees each result as it is ready.
pub fn run(
    opts: &BenchOptions,
    done: &mut (dyn FnMut(&WorkloadResult) + Send),
) -> Result<BenchReport> {
    let threads = opts.threads.unwrap_or_else(|| {
        std::thread::available_parallelism()
            .map_or(1, std::num::NonZeroUsize::get)
            .min(crate::limits::THREADS.max)
    });
    crate::limits::THREADS
        .check("threads", threads)
        .map_err(LabError::Option)?;
    if let Some(bad) = opts
        .only
        .iter()
        .find(|n| !WORKLOADS.iter().any(|w| w.name == n.as_str()))
    {
        let names: Vec<&str> = WORKLOADS.iter().map(|w| w.name).collect();
        return Err(LabError::option(
            "only",
            format!(
                "names an unknown workload `{bad}` (one of {})",
                names.join(", ")
            ),
        ));
    }
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .map_err(|e| LabError::ThreadPool {
            threads,
            message: e.to_string(),
        })?;
    pool.install(|| run_all(opts.quick, threads, &opts.only, done))
}

/// The repetition budgets. A workload repeats until the median's standard error is below
/// `target_error` or its time is up, within [`Budget::full`]'s 5..200 repetitions; the roofline
/// gets 30..400, since every other fraction divides by it and a roofline lowered by a moment of
/// load would flatter them all (30 repetitions put the median's standard error, about
/// 1.25·σ/√n, near 1 % at the 5 % run-to-run noise of a quiet machine). `--quick` only shows that
/// everything runs: 3 repetitions each.
fn budgets(quick: bool) -> (Budget, Budget) {
    if quick {
        (Budget::quick(), Budget::quick())
    } else {
        let full = Budget::full();
        let roofline = Budget {
            min_reps: 30,
            max_reps: 400,
            ..full
        };
        (full, roofline)
    }
}

fn run_all(
    quick: bool,
    threads: usize,
    only: &[String],
    done: &mut (dyn FnMut(&WorkloadResult) + Send),
) -> Result<BenchReport> {
    let wanted = |w: &Workload| {
        matches!(w.setup, Setup::Roofline) || only.is_empty() || only.iter().any(|n| n == w.name)
    };
    let shape = if quick {
        Shape::dense(vec![64, 32, 32, 10], 8)
    } else {
        Shape::dense(vec![784, 1024, 1024, 10], 100)
    };
    let (budget, roof_budget) = budgets(quick);
    let mut results: Vec<WorkloadResult> = Vec::new();
    let mut peak_gflops = None;
    for w in WORKLOADS.iter().filter(|w| wanted(w)) {
        let flops = |passes: usize| (w.flops)(&shape, passes);
        let result = match w.setup {
            Setup::Roofline => timed(w.name, shape.batch, None, || {
                let mut g = GemmStep::new(&shape, ROOFLINE_PASSES);
                Ok(measure(&roof_budget, || flops(g.run())))
            })?,
            Setup::Dp { arrays, dynamics } => {
                let mut passes = 0.0;
                let mut r = timed(w.name, shape.batch, peak_gflops, || {
                    let mut step = DpStep::new(&shape, arrays, dynamics())?;
                    let t = measure(&budget, || flops(step.run()));
                    passes = mean_passes(&step);
                    Ok(t)
                })?;
                r.passes = Some(passes);
                r
            }
            Setup::Backprop { arrays } => timed(w.name, shape.batch, peak_gflops, || {
                let mut step = BackpropStep::new(&shape, arrays)?;
                Ok(measure(&budget, || flops(step.run())))
            })?,
            Setup::ConvDp { model } => {
                let model = model(quick);
                let shape = model.shape().map_err(|e| invalid(w.name, e.to_string()))?;
                let mut passes = 0.0;
                let mut r = timed(w.name, shape.batch, peak_gflops, || {
                    let mut step = ConvDpStep::new(&model, DpStep::fixed(CONV_PASSES))
                        .map_err(|e| invalid(w.name, e.to_string()))?;
                    let (mut total, mut calls) = (0, 0);
                    let t = measure(&budget, || {
                        let k = step.run();
                        (total, calls) = (total + k, calls + 1);
                        (w.flops)(&shape, k)
                    });
                    passes = total as f64 / f64::from(calls.max(1));
                    Ok(t)
                })?;
                r.passes = Some(passes);
                r
            }
            Setup::SweepScaling => sweep_scaling(quick, threads, peak_gflops)?,
        };
        if matches!(w.setup, Setup::Roofline) {
            peak_gflops = Some(result.gflops);
        }
        done(&result);
        results.push(result);
    }
    Ok(BenchReport {
        threads,
        quick,
        network: shape.sizes.clone(),
        batch: shape.batch,
        workloads: results,
    })
}

/// `sweep-scaling`: the sweep's 1-thread and all-threads medians. The sweep runs 3 times on each
/// thread count, alternating (the median of 3 survives one disturbed run), 5 epochs each; under
/// `--quick`, once for 1 epoch. Its spread is not measured (3 repetitions give no useful
/// percentiles) and is reported as absent.
fn sweep_scaling(quick: bool, threads: usize, peak_gflops: Option<f64>) -> Result<WorkloadResult> {
    let (repeats, epochs) = if quick { (1, 1) } else { (3, 5) };
    let s = scaling::measure(threads, repeats, epochs)?;
    let gflops = s.flops / s.tn_s / 1e9;
    Ok(WorkloadResult {
        name: "sweep-scaling".into(),
        samples_per_s: s.samples / s.tn_s,
        gflops,
        roofline_fraction: peak_gflops.map_or(1.0, |r| gflops / r),
        peak_rss_mb: s.peak_rss_mb.unwrap_or(0.0),
        median_s: s.tn_s,
        spread: None,
        reps: repeats,
        passes: None,
        speedup: Some(s.t1_s / s.tn_s),
        bit_identical: Some(s.identical),
    })
}

/// Set up and measure one workload with the peak-RSS mark reset before its set-up.
fn timed(
    name: &str,
    batch: usize,
    roofline: Option<f64>,
    work: impl FnOnce() -> Result<timing::Timing>,
) -> Result<WorkloadResult> {
    reset_peak_rss();
    let t = work()?;
    let peak = peak_rss_mb().unwrap_or(0.0);
    let gflops = t.median_rate / 1e9;
    Ok(WorkloadResult {
        name: name.into(),
        samples_per_s: batch as f64 / t.median_s,
        gflops,
        roofline_fraction: roofline.map_or(1.0, |r| gflops / r),
        peak_rss_mb: peak,
        median_s: t.median_s,
        spread: Some((t.p90_s - t.p10_s) / t.median_s),
        reps: t.reps,
        passes: None,
        speedup: None,
        bit_identical: None,
    })
}

/// The table's header line.
pub fn header() -> String {
    format!(
        "{:<18} {:>10} {:>8} {:>8} {:>8} {:>10} {:>7} {:>5} {:>6} {:>8}\n",
        "workload",
        "samples/s",
        "GFLOP/s",
        "roofline",
        "RSS MB",
        "median ms",
        "spread",
        "reps",
        "passes",
        "speedup"
    )
}

/// One table line.
pub fn row(w: &WorkloadResult) -> String {
    let opt = |v: Option<f64>, digits: usize| v.map_or("-".into(), |v| format!("{v:.digits$}"));
    format!(
        "{:<18} {:>10.0} {:>8.1} {:>7.0}% {:>8.0} {:>10.2} {:>7} {:>5} {:>6} {:>8}\n",
        w.name,
        w.samples_per_s,
        w.gflops,
        100.0 * w.roofline_fraction,
        w.peak_rss_mb,
        1e3 * w.median_s,
        w.spread
            .map_or("-".into(), |s| format!("{:.1}%", 100.0 * s)),
        w.reps,
        opt(w.passes, 1),
        opt(w.speedup, 2)
    )
}

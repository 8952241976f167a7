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

pub mod flops;
mod scaling;
pub mod timing;
pub mod workloads;

use crate::error::{LabError, Result};
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
    /// Spread of the repetitions: (90th − 10th percentile) / median.
    pub spread: f64,
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

/// Names of the workloads, in the order they run.
pub const WORKLOADS: [&str; 11] = [
    "gemm-roofline",
    "ideal-dptop",
    "ideal-dptop-k3",
    "ideal-dptop-k8",
    "ideal-dptop-tol",
    "ideal-backprop",
    "noisy-dptop",
    "noisy-dptop-k3",
    "pulse-coincidence",
    "circuit-mode",
    "sweep-scaling",
];

/// Run every workload in a pool of `opts.threads` threads; `done` sees each result as it is ready.
pub fn run(
    opts: &BenchOptions,
    done: &mut (dyn FnMut(&WorkloadResult) + Send),
) -> Result<BenchReport> {
    let threads = opts.threads.unwrap_or_else(|| {
        std::thread::available_parallelism().map_or(1, std::num::NonZeroUsize::get)
    });
    if let Some(bad) = opts.only.iter().find(|n| !WORKLOADS.contains(&n.as_str())) {
        return Err(LabError::option(
            "only",
            format!(
                "names an unknown workload `{bad}` (one of {})",
                WORKLOADS.join(", ")
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

fn run_all(
    quick: bool,
    threads: usize,
    only: &[String],
    done: &mut (dyn FnMut(&WorkloadResult) + Send),
) -> Result<BenchReport> {
    let wanted = |name: &str| only.is_empty() || only.iter().any(|n| n == name);
    let shape = if quick {
        Shape {
            sizes: vec![64, 32, 32, 10],
            batch: 8,
        }
    } else {
        Shape {
            sizes: vec![784, 1024, 1024, 10],
            batch: 100,
        }
    };
    let budget = if quick {
        Budget::quick()
    } else {
        Budget::full()
    };
    let mut results: Vec<WorkloadResult> = Vec::new();
    let mut push = |r: WorkloadResult, results: &mut Vec<WorkloadResult>| {
        done(&r);
        results.push(r);
    };
    // Every other fraction divides by this rate, so it gets more repetitions than the rest: a
    // roofline lowered by a moment of load would flatter every workload.
    let roof_budget = Budget {
        min_reps: budget.min_reps.max(if quick { 3 } else { 30 }),
        max_reps: budget.max_reps.max(if quick { 3 } else { 400 }),
        ..budget
    };
    let roofline = timed("gemm-roofline", shape.batch, None, || {
        let mut g = GemmStep::new(&shape, 4);
        Ok(measure(&roof_budget, || g.run()))
    })?;
    let peak_gflops = roofline.gflops;
    push(roofline, &mut results);

    let dp = |name: &str, arrays: Arrays, dynamics: dualprop::Dynamics| {
        let mut passes = 0.0;
        let mut r = timed(name, shape.batch, Some(peak_gflops), || {
            let mut step = DpStep::new(&shape, arrays, dynamics)?;
            let t = measure(&budget, || step.run());
            passes = mean_passes(&step);
            Ok(t)
        })?;
        r.passes = Some(passes);
        Ok::<_, LabError>(r)
    };
    if wanted("ideal-dptop") {
        push(
            dp("ideal-dptop", Arrays::Ideal, DpStep::fixed(4))?,
            &mut results,
        );
    }
    if wanted("ideal-dptop-k3") {
        push(
            dp("ideal-dptop-k3", Arrays::Ideal, DpStep::fixed(3))?,
            &mut results,
        );
    }
    if wanted("ideal-dptop-k8") {
        push(
            dp("ideal-dptop-k8", Arrays::Ideal, DpStep::fixed(8))?,
            &mut results,
        );
    }
    if wanted("ideal-dptop-tol") {
        push(
            dp("ideal-dptop-tol", Arrays::Ideal, DpStep::to_tolerance())?,
            &mut results,
        );
    }
    if wanted("ideal-backprop") {
        let bp = timed("ideal-backprop", shape.batch, Some(peak_gflops), || {
            let mut step = BackpropStep::new(&shape, Arrays::Ideal)?;
            Ok(measure(&budget, || step.run()))
        })?;
        push(bp, &mut results);
    }
    if wanted("noisy-dptop") {
        push(
            dp("noisy-dptop", Arrays::Noisy, DpStep::fixed(4))?,
            &mut results,
        );
    }
    if wanted("noisy-dptop-k3") {
        push(
            dp("noisy-dptop-k3", Arrays::Noisy, DpStep::fixed(3))?,
            &mut results,
        );
    }
    if wanted("pulse-coincidence") {
        push(
            dp(
                "pulse-coincidence",
                Arrays::PulseCoincidence,
                DpStep::fixed(4),
            )?,
            &mut results,
        );
    }
    if wanted("circuit-mode") {
        push(
            dp("circuit-mode", Arrays::Ideal, DpStep::circuit())?,
            &mut results,
        );
    }

    if !wanted("sweep-scaling") {
        return Ok(BenchReport {
            threads,
            quick,
            network: shape.sizes.clone(),
            batch: shape.batch,
            workloads: results,
        });
    }
    let (repeats, epochs) = if quick { (1, 1) } else { (3, 5) };
    let s = scaling::measure(threads, repeats, epochs)?;
    let gflops = s.flops / s.tn_s / 1e9;
    push(
        WorkloadResult {
            name: "sweep-scaling".into(),
            samples_per_s: s.samples / s.tn_s,
            gflops,
            roofline_fraction: gflops / peak_gflops,
            peak_rss_mb: s.peak_rss_mb.unwrap_or(0.0),
            median_s: s.tn_s,
            spread: 0.0,
            reps: repeats,
            passes: None,
            speedup: Some(s.t1_s / s.tn_s),
            bit_identical: Some(s.identical),
        },
        &mut results,
    );
    Ok(BenchReport {
        threads,
        quick,
        network: shape.sizes.clone(),
        batch: shape.batch,
        workloads: results,
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
        spread: (t.p90_s - t.p10_s) / t.median_s,
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
        "{:<18} {:>10.0} {:>8.1} {:>7.0}% {:>8.0} {:>10.2} {:>6.1}% {:>5} {:>6} {:>8}\n",
        w.name,
        w.samples_per_s,
        w.gflops,
        100.0 * w.roofline_fraction,
        w.peak_rss_mb,
        1e3 * w.median_s,
        100.0 * w.spread,
        w.reps,
        opt(w.passes, 1),
        opt(w.speedup, 2)
    )
}

//! Robust timing of a repeated step: warm-up, repetitions until the median is stable, spread; and
//! the peak resident memory of a stretch of work.
//!
//! The machine a simulator is benchmarked on is rarely quiet, so a single timing or a mean says
//! little: a build on the other core doubles one repetition and not the next. The median of enough
//! repetitions is robust to such outliers, and its standard error (from the median absolute
//! deviation) tells when enough were taken.

use std::time::{Duration, Instant};

/// How long to warm up and how many repetitions to take.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Budget {
    /// Warm-up: run at least this long (and at least `warmup_reps` times) before measuring.
    pub warmup: Duration,
    /// Warm-up repetitions at least (first touches of buffers, lazy thread pools, caches).
    pub warmup_reps: usize,
    /// Repetitions at least, whatever the spread.
    pub min_reps: usize,
    /// Repetitions at most.
    pub max_reps: usize,
    /// Stop adding repetitions after this long, even if the median is not yet stable.
    pub max_time: Duration,
    /// Stop once the median's relative standard error is below this (e.g. 0.01 = 1 %).
    pub target_error: f64,
}

impl Budget {
    /// The full benchmark: ≥ 1 s or 2 repetitions of warm-up, 5 to 200 repetitions, ≤ 15 s, 1 %.
    pub fn full() -> Self {
        Self {
            warmup: Duration::from_secs(1),
            warmup_reps: 2,
            min_reps: 5,
            max_reps: 200,
            max_time: Duration::from_secs(15),
            target_error: 0.01,
        }
    }

    /// The CI smoke test: one warm-up repetition and three measured ones.
    pub fn quick() -> Self {
        Self {
            warmup: Duration::ZERO,
            warmup_reps: 1,
            min_reps: 3,
            max_reps: 3,
            max_time: Duration::from_secs(2),
            target_error: 1.0,
        }
    }
}

/// What the repetitions of one step measured.
#[derive(Clone, Debug, PartialEq)]
pub struct Timing {
    /// Median wall time of one repetition (s).
    pub median_s: f64,
    /// 10th and 90th percentile of the repetition times (s).
    pub p10_s: f64,
    /// See `p10_s`.
    pub p90_s: f64,
    /// Median of the per-repetition work rates (work units per second), e.g. FLOP/s.
    pub median_rate: f64,
    /// Relative standard error of the median time (1.2533·1.4826·MAD/√n over the median).
    pub rel_error: f64,
    /// Repetitions measured.
    pub reps: usize,
}

/// Time `step` after warming it up; each call returns the work it did (e.g. its FLOPs), so that
/// steps whose work varies (settling to a tolerance) get a rate per repetition.
pub fn measure(budget: &Budget, mut step: impl FnMut() -> f64) -> Timing {
    let start = Instant::now();
    let mut warm = 0;
    while warm < budget.warmup_reps || start.elapsed() < budget.warmup {
        step();
        warm += 1;
    }
    let started = Instant::now();
    let mut times = Vec::new();
    let mut rates = Vec::new();
    loop {
        let t = Instant::now();
        let work = step();
        let dt = t.elapsed().as_secs_f64().max(1e-9);
        times.push(dt);
        rates.push(work / dt);
        let n = times.len();
        if n >= budget.max_reps {
            break;
        }
        if n >= budget.min_reps
            && (started.elapsed() >= budget.max_time || rel_error(&times) <= budget.target_error)
        {
            break;
        }
    }
    let mut sorted = times.clone();
    sorted.sort_by(f64::total_cmp);
    Timing {
        median_s: quantile(&sorted, 0.5),
        p10_s: quantile(&sorted, 0.1),
        p90_s: quantile(&sorted, 0.9),
        median_rate: median(&rates),
        rel_error: rel_error(&times),
        reps: times.len(),
    }
}

/// The q-quantile of sorted values, linearly interpolated.
fn quantile(sorted: &[f64], q: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let pos = q * (sorted.len() - 1) as f64;
    let (lo, hi) = (pos.floor() as usize, pos.ceil() as usize);
    sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo as f64)
}

fn median(values: &[f64]) -> f64 {
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    quantile(&sorted, 0.5)
}

/// Relative standard error of the median: for normal data the median's standard error is
/// 1.2533·σ/√n, and 1.4826·MAD estimates σ without letting one slow outlier inflate it.
fn rel_error(times: &[f64]) -> f64 {
    let m = median(times);
    let deviations: Vec<f64> = times.iter().map(|t| (t - m).abs()).collect();
    let mad = median(&deviations);
    1.2533 * 1.4826 * mad / (times.len() as f64).sqrt() / m
}

/// Reset the kernel's peak-RSS mark of this process to its current RSS (Linux ≥ 4.0: writing "5"
/// to /proc/self/clear_refs); false where that is not possible, and the peak then covers the whole
/// process lifetime so far.
pub fn reset_peak_rss() -> bool {
    std::fs::write("/proc/self/clear_refs", "5").is_ok()
}

/// Peak resident memory of this process since the last [`reset_peak_rss`] in MB (10⁶ bytes), read
/// from `VmHWM` in /proc/self/status; `None` where /proc is absent.
pub fn peak_rss_mb() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kb: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb * 1024.0 / 1e6)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantiles_interpolate_between_sorted_values() {
        let v = [1.0, 2.0, 3.0, 4.0, 5.0];
        assert_eq!(quantile(&v, 0.5), 3.0);
        assert_eq!(quantile(&v, 0.1), 1.4);
        assert_eq!(quantile(&v, 0.9), 4.6);
    }

    #[test]
    fn one_outlier_does_not_move_the_error_estimate() {
        let steady = [1.0, 1.01, 0.99, 1.0, 1.0, 1.02, 0.98];
        let mut spiky = steady;
        spiky[3] = 10.0;
        assert!((rel_error(&steady) - rel_error(&spiky)).abs() < 0.01);
    }

    #[test]
    fn quick_budget_measures_exactly_three_repetitions_after_one_warm_up() {
        let mut calls = 0;
        let t = measure(&Budget::quick(), || {
            calls += 1;
            1.0
        });
        assert_eq!((calls, t.reps), (4, 3));
        assert!(t.median_rate > 0.0);
    }

    #[test]
    fn peak_rss_is_positive_on_linux() {
        if cfg!(target_os = "linux") {
            reset_peak_rss();
            assert!(peak_rss_mb().is_some_and(|mb| mb > 0.0));
        }
    }
}

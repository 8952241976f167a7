//! `sweep-scaling`: a 16-point sweep of a small network through `runner::run`, on one worker
//! thread and on all of them, with the records compared bit for bit.

use super::flops;
use crate::dataset::{self, DatasetSpec};
use crate::error::{LabError, Result};
use crate::runner::{self, Quiet, RunOptions};
use std::path::{Path, PathBuf};
use std::time::Instant;

/// The sweep: 4 α × 4 β of DP⊤ on the embedded digits, small enough that a point is a fraction of
/// a second and its matrix products stay below the GEMM's own threading threshold, so the
/// speed-up measures the runner's parallelism over points alone.
fn experiment_text(epochs: usize) -> String {
    format!(
        r#"Experiment(
    name: "bench-sweep-scaling",
    dataset: Digits,
    network: (layers: [64, 64, 10], activation: Relu, loss: CrossEntropy),
    algorithm: (kind: DpTop, alpha: 0.5, beta: 0.1, passes: 4),
    training: (epochs: {epochs}, batch_size: 32, optimizer: PlainSgd, learning_rate: 0.05),
    seed: 1,
    sweep: {{"algorithm.alpha": [0.0, 0.25, 0.75, 1.0], "algorithm.beta": [0.03, 0.1, 0.3, 0.5]}},
)"#
    )
}

/// What the sweep measured.
#[derive(Clone, Debug, PartialEq)]
pub struct Scaling {
    /// Median wall time of the whole sweep on one thread (s).
    pub t1_s: f64,
    /// Median wall time on `threads` threads (s).
    pub tn_s: f64,
    /// Training samples processed by one sweep (points × epochs × training-split size).
    pub samples: f64,
    /// FLOPs of one sweep: the training steps and the per-epoch evaluations.
    pub flops: f64,
    /// Every repetition, on any thread count, wrote the same records, bit for bit.
    pub identical: bool,
    /// Peak resident memory of the all-threads runs (MB), if known.
    pub peak_rss_mb: Option<f64>,
}

/// Run the sweep `repeats` times on 1 thread and on `threads`, alternating so that both see the
/// same load; results go to a scratch folder under the system's temporary folder, removed after.
pub fn measure(threads: usize, repeats: usize, epochs: usize) -> Result<Scaling> {
    let scratch = std::env::temp_dir().join(format!("dyadsim-bench-{}", std::process::id()));
    let outcome = sweep_in(&scratch, threads, repeats, epochs);
    // A scratch folder left behind is harmless; the measurement's own error matters more.
    let _ = std::fs::remove_dir_all(&scratch);
    outcome
}

fn sweep_in(scratch: &Path, threads: usize, repeats: usize, epochs: usize) -> Result<Scaling> {
    let source = Path::new("bench-sweep-scaling.ron");
    let exp = crate::load::experiment_from_str(&experiment_text(epochs), source)?;
    let data = dataset::load(&DatasetSpec::Digits, source)?;
    let grid = runner::grid(&exp)?;
    let sizes = &exp.network.layers;
    let (train, test) = (data.train.len() as f64, data.test.len() as f64);
    let points = grid.len() as f64;
    let per_epoch_flops = train * flops::dp_step(sizes, 1, exp.algorithm.passes)
        + (train + test) * flops::forward(sizes, 1);
    let flops =
        points * (epochs as f64 * per_epoch_flops + (train + test) * flops::forward(sizes, 1));

    let run = |threads: usize, out: PathBuf| -> Result<(f64, String)> {
        let opts = RunOptions {
            out,
            fresh: true,
            threads: Some(threads),
            shard: None,
            checkpoint_every: None,
        };
        let started = Instant::now();
        let records = runner::run(&exp, &grid, &data, &opts, &Quiet)?;
        let elapsed = started.elapsed().as_secs_f64();
        let bits = serde_json::to_string(&records).map_err(|e| LabError::Encode {
            path: opts.out.clone(),
            message: e.to_string(),
        })?;
        Ok((elapsed, bits))
    };
    let (mut t1, mut tn) = (Vec::new(), Vec::new());
    let mut reference: Option<String> = None;
    let mut identical = true;
    let mut peak: Option<f64> = None;
    for r in 0..repeats.max(1) {
        let (t, bits) = run(1, scratch.join(format!("one-{r}")))?;
        t1.push(t);
        identical &= *reference.get_or_insert_with(|| bits.clone()) == bits;
        super::timing::reset_peak_rss();
        let (t, bits) = run(threads, scratch.join(format!("all-{r}")))?;
        peak = match (peak, super::timing::peak_rss_mb()) {
            (Some(a), Some(b)) => Some(a.max(b)),
            (a, b) => a.or(b),
        };
        tn.push(t);
        identical &= reference.as_ref() == Some(&bits);
    }
    Ok(Scaling {
        t1_s: median(&mut t1),
        tn_s: median(&mut tn),
        samples: points * epochs as f64 * train,
        flops,
        identical,
        peak_rss_mb: peak,
    })
}

fn median(v: &mut [f64]) -> f64 {
    v.sort_by(f64::total_cmp);
    let n = v.len();
    if n % 2 == 1 {
        v[n / 2]
    } else {
        0.5 * (v[n / 2 - 1] + v[n / 2])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_sweep_has_sixteen_points_that_validate() {
        let exp =
            crate::load::experiment_from_str(&experiment_text(1), Path::new("x.ron")).unwrap();
        assert_eq!(runner::points(&exp).unwrap().len(), 16);
    }
}

//! What one training run of a configuration costs, from a short timing of its training step.
//!
//! A run is `epochs × batches` training steps plus `epochs + 1` evaluations of both splits (epoch 0
//! is the untrained network) and, when asked for, one test evaluation per retention time. The step
//! (settling and the weight update, or backprop and its update) and a forward pass over one batch
//! are timed on one thread, after a warm-up, as the fastest of five repetitions; an evaluation is
//! that forward pass scaled to the split's size. The experiment's further metrics (gradient
//! cosines, Lipschitz estimates, adversarial accuracies) are not timed: they add to the estimate.
//!
//! The fastest repetition, not the median: a job gets cores of its own, and on a busy machine the
//! fastest repetition is the one other work disturbed least, the closest to that.

use crate::dataset::Dataset;
use crate::error::{LabError, Result};
use crate::job;
use crate::spec::Experiment;
use dualprop::{AlgorithmKind, Backprop, Dyads, Gradients, Optimizer, settle};
use nalgebra::DMatrix;
use std::time::Instant;

/// The estimated cost of one run of a configuration.
#[derive(Clone, Debug, PartialEq)]
pub struct RunCost {
    /// Fastest time of one training step on one batch (s).
    pub step_s: f64,
    /// Fastest time of a forward pass over one batch (s).
    pub forward_s: f64,
    /// Samples per batch.
    pub batch: usize,
    /// Training steps of a run (epochs × batches per epoch).
    pub steps: usize,
    /// Samples passed forward to evaluate a run (both splits per measured epoch, the test split per
    /// retention time).
    pub evaluated: usize,
    /// Whether the experiment asks for further metrics, which the estimate leaves out.
    pub untimed_metrics: bool,
    /// Estimated time of one run (s): steps × step_s + evaluated / batch × forward_s.
    pub seconds: f64,
}

/// Time a training step and a forward pass of `exp` (one point of a grid) on `data` on one thread.
pub fn measure(exp: &Experiment, data: &Dataset, replicate: u64) -> Result<RunCost> {
    let t = &exp.training;
    let batch = t.batch_size.min(data.train.len()).max(1);
    let one = rayon::ThreadPoolBuilder::new()
        .num_threads(1)
        .build()
        .map_err(|e| LabError::ThreadPool {
            threads: 1,
            message: format!("to time a step: {e}"),
        })?;
    let (step_s, forward_s) = one.install(|| timed_step(exp, data, replicate, batch))?;
    let batches = data.train.len().div_ceil(t.batch_size);
    let retention = exp.retention.as_ref().map_or(0, |r| r.times.len());
    let evaluated =
        (t.epochs + 1) * (data.train.len() + data.test.len()) + retention * data.test.len();
    let steps = t.epochs * batches;
    Ok(RunCost {
        step_s,
        forward_s,
        batch,
        steps,
        evaluated,
        untimed_metrics: !exp.metrics.is_empty(),
        seconds: steps as f64 * step_s + evaluated as f64 / batch as f64 * forward_s,
    })
}

/// The fastest times of one training step and one forward pass, as `job::train` does them, on the
/// first `batch` training samples.
fn timed_step(
    exp: &Experiment,
    data: &Dataset,
    replicate: u64,
    batch: usize,
) -> Result<(f64, f64)> {
    let mut net = job::build_network(exp, replicate)?; // devices and periphery, as a run builds them
    let sizes = exp.network.layers.clone();
    let t = &exp.training;
    let alg = &exp.algorithm;
    // Shaped by the arrays, not by the layer widths: a convolution's array is C_out × C_in·k·k.
    let mut optimizer = Optimizer::for_network(
        t.optimizer,
        t.learning_rate,
        t.momentum,
        t.weight_decay,
        &net,
    );
    let mut dyads = Dyads::new(&sizes, batch);
    let mut backprop = Backprop::new(&sizes, batch);
    let mut grads = Gradients::for_network(&net);
    let dynamics = alg.dynamics();
    let idx: Vec<usize> = (0..batch).collect();
    let (mut x, mut y) = (DMatrix::zeros(0, 0), DMatrix::zeros(0, 0));
    data.train.gather(&idx, &mut x, &mut y);
    // A diverging step costs what it costs: its numbers are not looked at.
    let step = fastest(|| match (&dynamics, alg.kind) {
        (Some(dynamics), _) => {
            settle(&mut net, &mut dyads, &x, &y, dynamics);
            optimizer.step_local(&mut net, &dyads, dynamics.beta);
        }
        (None, AlgorithmKind::AdversarialBackprop) => {
            backprop.adversarial_gradient(&mut net, &x, &y, alg.beta, &mut grads);
            optimizer.step_backprop(&mut net, &backprop, &grads);
        }
        (None, _) => {
            backprop.weight_gradient(&mut net, &x, &y, &mut grads);
            optimizer.step_backprop(&mut net, &backprop, &grads);
        }
    });
    let forward = fastest(|| {
        std::hint::black_box(net.predict(&x));
    });
    Ok((step, forward))
}

/// Repetitions timed after one warm-up repetition.
const REPS: usize = 5;

/// The fastest wall-clock time of `REPS` calls of `step` after a warm-up call.
fn fastest(mut step: impl FnMut()) -> f64 {
    step();
    (0..REPS)
        .map(|_| {
            let started = Instant::now();
            step();
            started.elapsed().as_secs_f64()
        })
        .fold(f64::INFINITY, f64::min)
}

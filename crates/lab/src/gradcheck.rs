//! `gradcheck`: the local rule's gradient estimate against the exact backprop gradient.

use crate::dataset::digits;
use crate::error::{LabError, Result};
use crate::seed::{Purpose, stream};
use dualprop::diagnostics::alignment;
use dualprop::{
    Activation, AlgorithmKind, Backprop, Dyads, Dynamics, Gradients, Loss, Network, NudgeAt,
    Schedule, estimate,
};
use nalgebra::DMatrix;
use rand::seq::index::sample;
use serde::Serialize;

/// What to compare.
#[derive(Clone, Debug)]
pub struct GradcheckOptions {
    /// The algorithm whose estimate is checked (DP or DP⊤).
    pub algorithm: AlgorithmKind,
    /// Nudging asymmetry α.
    pub alpha: f32,
    /// Nudging strength β.
    pub beta: f32,
    /// Layer widths; must start with 64 and end with 10 (the digits).
    pub layers: Vec<usize>,
    /// Loss.
    pub loss: Loss,
    /// Hidden activation.
    pub activation: Activation,
    /// Settling passes.
    pub passes: usize,
    /// Batch size.
    pub batch: usize,
    /// Seed of the weights and of the batch.
    pub seed: u64,
}

impl Default for GradcheckOptions {
    fn default() -> Self {
        Self {
            algorithm: AlgorithmKind::DpTop,
            alpha: 0.5,
            beta: 1e-3,
            layers: vec![64, 32, 16, 10],
            loss: Loss::CrossEntropy,
            activation: Activation::Relu,
            passes: 10,
            batch: 32,
            seed: 0,
        }
    }
}

/// Agreement of one layer.
#[derive(Clone, Debug, Serialize)]
pub struct LayerCheck {
    /// 1-based layer index.
    pub layer: usize,
    /// Cosine similarity with the backprop gradient.
    pub cosine: f64,
    /// Relative error ‖estimate − backprop‖ / ‖backprop‖.
    pub rel_err: f64,
}

/// The result of a gradient check.
#[derive(Clone, Debug, Serialize)]
pub struct GradcheckReport {
    /// One entry per layer.
    pub layers: Vec<LayerCheck>,
}

fn usage(msg: String) -> LabError {
    LabError::Usage(msg)
}

/// Build a seeded random network and a batch of digits, and compare the estimate with backprop.
pub fn gradcheck(opts: &GradcheckOptions) -> Result<GradcheckReport> {
    if opts.layers.first() != Some(&64) || opts.layers.last() != Some(&10) || opts.layers.len() < 2
    {
        return Err(usage(format!(
            "--layers must start with 64 and end with 10 for the digits (got {:?})",
            opts.layers
        )));
    }
    if opts.layers.contains(&0) {
        return Err(usage("--layers widths must be ≥ 1".into()));
    }
    if !(0.0..=1.0).contains(&opts.alpha) {
        return Err(usage(format!(
            "--alpha must be in [0, 1] (got {})",
            opts.alpha
        )));
    }
    if !(opts.beta.is_finite() && opts.beta > 0.0) {
        return Err(usage(format!(
            "--beta must be positive (got {})",
            opts.beta
        )));
    }
    if opts.passes == 0 || opts.batch == 0 {
        return Err(usage("--passes and --batch must be at least 1".into()));
    }
    let dynamics = match opts.algorithm {
        AlgorithmKind::DpTop => Dynamics::dp_top(opts.alpha, opts.beta, opts.passes),
        AlgorithmKind::Dp => Dynamics::dp(opts.alpha, opts.beta, opts.passes),
        _ => {
            return Err(usage(
                "--algorithm must be a dual-propagation algorithm".into(),
            ));
        }
    };
    let dynamics = Dynamics {
        schedule: Schedule::Forward,
        nudge_at: NudgeAt::FreePrediction,
        ..dynamics
    };
    let data = digits();
    let batch = opts.batch.min(data.train.len());
    let mut rng = stream(opts.seed, 0, Purpose::Probe);
    let idx = sample(&mut rng, data.train.len(), batch).into_vec();
    let (mut x, mut y) = (DMatrix::zeros(0, 0), DMatrix::zeros(0, 0));
    data.train.gather(&idx, &mut x, &mut y);
    let mut init = stream(opts.seed, 0, Purpose::Init);
    let mut net = Network::ideal(&opts.layers, opts.activation, opts.loss, &mut init)
        .map_err(|e| usage(e.to_string()))?;
    let mut reference = Gradients::zeros(&opts.layers);
    Backprop::new(&opts.layers, batch).gradient(&mut net, &x, &y, &mut reference);
    let mut est = Gradients::zeros(&opts.layers);
    let mut dyads = Dyads::new(&opts.layers, batch);
    estimate(&mut net, &mut dyads, &x, &y, &dynamics, &mut est);
    let layers = alignment(&est, &reference)
        .into_iter()
        .enumerate()
        .map(|(i, a)| LayerCheck {
            layer: i + 1,
            cosine: a.cosine,
            rel_err: a.rel_err,
        })
        .collect();
    Ok(GradcheckReport { layers })
}

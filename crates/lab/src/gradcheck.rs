//! `gradcheck`: an algorithm's gradient estimate against the exact backprop gradient, on a seeded
//! random network and a batch of digits.

use crate::dataset::digits;
use crate::error::{LabError, Result};
use crate::field::FieldError;
use crate::seed::{Purpose, stream};
use dualprop::{Activation, Algorithm, Loss, Network};
use nalgebra::DMatrix;
use rand::seq::index::sample;
use serde::Serialize;

/// What to compare.
#[derive(Clone, Debug)]
pub struct GradcheckOptions {
    /// The algorithm and its settling (kind, α, β, passes, schedule, circuit, overrides, output).
    pub algorithm: Algorithm,
    /// Layer widths; must start with 64 and end with 10 (the digits).
    pub layers: Vec<usize>,
    /// Loss.
    pub loss: Loss,
    /// Hidden activation.
    pub activation: Activation,
    /// Factor on the random initial weights (above 1 reaches the strongly coupled regime).
    pub weight_scale: f32,
    /// Batch size.
    pub batch: usize,
    /// Seed of the weights and of the batch.
    pub seed: u64,
}

impl Default for GradcheckOptions {
    fn default() -> Self {
        Self {
            algorithm: Algorithm {
                beta: 1e-3,
                passes: 10,
                ..Algorithm::default()
            },
            layers: vec![64, 32, 16, 10],
            loss: Loss::CrossEntropy,
            activation: Activation::Relu,
            weight_scale: 1.0,
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
    /// Mean-state leak: RMS over the batch of ‖s̄ₖ − forward activation‖.
    pub leak: f64,
}

/// The result of a gradient check.
#[derive(Clone, Debug, Serialize)]
pub struct GradcheckReport {
    /// One entry per layer.
    pub layers: Vec<LayerCheck>,
    /// Settling converged: the residual is below `tolerance` (always true for backprop).
    pub converged: bool,
    /// What the residual was judged against: in circuit mode `--tol`, else
    /// `dualprop::settle::DEFAULT_RELATIVE_TOLERANCE` (10⁻⁴) × the largest compartment magnitude;
    /// absent for backprop, which does not settle.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tolerance: Option<f32>,
    /// A compartment became NaN or infinite.
    pub diverged: bool,
    /// Passes (circuit mode: Euler steps) run.
    pub passes: usize,
    /// Largest compartment change of the last pass (circuit mode: velocity).
    pub residual: f32,
    /// Circuit mode: the settling time.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub time: Option<f32>,
}

/// The first option out of range; fields are those of [`GradcheckOptions`] (`layers`, `batch`,
/// `weight_scale`, `algorithm.alpha`, ...).
pub fn validate(opts: &GradcheckOptions) -> std::result::Result<(), FieldError> {
    if opts.layers.len() < 2 || opts.layers.first() != Some(&64) || opts.layers.last() != Some(&10)
    {
        return Err(FieldError::new(
            "layers",
            format!(
                "must start with 64 and end with 10 for the digits (got {:?})",
                opts.layers
            ),
        ));
    }
    if opts.layers.contains(&0) {
        return Err(FieldError::new("layers", "widths must be ≥ 1"));
    }
    if opts.batch == 0 {
        return Err(FieldError::new("batch", "must be at least 1"));
    }
    if !(opts.weight_scale.is_finite() && opts.weight_scale > 0.0) {
        return Err(FieldError::new(
            "weight_scale",
            format!("must be positive (got {})", opts.weight_scale),
        ));
    }
    opts.algorithm
        .validate_for(opts.loss)
        .map_err(|e| FieldError::from(e).under("algorithm"))?;
    let size = crate::budget::NetworkSize {
        widths: &opts.layers,
        batch: opts.batch.min(crate::dataset::DIGITS_TRAIN),
        passes: opts.algorithm.passes,
        optimizer_copies: 0,
        analog: false,
    };
    let bytes = size.bytes(["layers", "batch", "algorithm.passes"])?;
    crate::budget::fits("layers", "the network", bytes, crate::budget::available())
}

/// Build the seeded network and batch, and compare the estimate with backprop.
pub fn gradcheck(opts: &GradcheckOptions) -> Result<GradcheckReport> {
    validate(opts).map_err(LabError::Option)?;
    let data = digits();
    let batch = opts.batch.min(data.train.len());
    let mut rng = stream(opts.seed, 0, Purpose::Probe);
    let idx = sample(&mut rng, data.train.len(), batch).into_vec();
    let (mut x, mut y) = (DMatrix::zeros(0, 0), DMatrix::zeros(0, 0));
    data.train.gather(&idx, &mut x, &mut y);
    let mut init = stream(opts.seed, 0, Purpose::Init);
    let mut net = Network::ideal(&opts.layers, opts.activation, opts.loss, &mut init)
        .map_err(|e| LabError::option("layers", e.to_string()))?;
    if opts.weight_scale != 1.0 {
        net.scale_weights(opts.weight_scale);
    }
    let report = dualprop::gradcheck(&mut net, &x, &y, &opts.algorithm)
        .map_err(|e| LabError::Option(FieldError::from(e).under("algorithm")))?;
    Ok(GradcheckReport {
        layers: report
            .layers
            .iter()
            .enumerate()
            .map(|(i, l)| LayerCheck {
                layer: i + 1,
                cosine: l.cosine,
                rel_err: l.rel_err,
                leak: l.leak,
            })
            .collect(),
        converged: report.converged,
        tolerance: report.tolerance,
        diverged: report.diverged,
        passes: report.passes,
        residual: report.residual,
        time: report.time,
    })
}

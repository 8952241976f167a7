//! `gradcheck`: an algorithm's gradient estimate against the exact backprop gradient, on a seeded
//! random network and a batch of digits, or on the network, data and hardware of an experiment
//! file ([`gradcheck_experiment`]).

use crate::dataset::digits;
use crate::error::{LabError, Result};
use crate::field::FieldError;
use crate::seed::{Purpose, stream};
use dualprop::{Activation, Algorithm, Loss, Network};
use nalgebra::DMatrix;
use rand::seq::index::sample;
use serde::Serialize;
use std::path::Path;

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
            crate::field::must_be("> 0", opts.weight_scale),
        ));
    }
    opts.algorithm
        .validate_for(opts.loss)
        .map_err(|e| FieldError::from(e).under("algorithm"))?;
    let size = crate::budget::NetworkSize::gradcheck(
        &opts.layers,
        &[],
        opts.batch.min(crate::dataset::DIGITS_TRAIN),
        opts.algorithm.passes,
        false,
    );
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
    Ok(GradcheckReport::from(report))
}

impl From<dualprop::GradcheckReport> for GradcheckReport {
    fn from(report: dualprop::GradcheckReport) -> Self {
        GradcheckReport {
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
        }
    }
}

/// What the command line changes in an experiment's gradient check; `None` keeps the file's value.
#[derive(Clone, Debug, Default)]
pub struct ExperimentOverrides {
    /// `algorithm.alpha`.
    pub alpha: Option<f32>,
    /// `algorithm.beta`.
    pub beta: Option<f32>,
    /// `algorithm.passes`.
    pub passes: Option<usize>,
    /// `algorithm.alpha_mix`.
    pub alpha_mix: Option<f32>,
    /// `algorithm.alpha_fb`.
    pub alpha_fb: Option<f32>,
    /// Samples checked (default the file's `training.batch_size`).
    pub batch: Option<usize>,
    /// The experiment seed (default the file's `seed`).
    pub seed: Option<u64>,
}

/// Compare the gradient estimate of the experiment at `path` with backprop: its network (dense or
/// blocks, with its initialisation, activation and loss) realised on its hardware as `run` realises
/// replicate 0 ([`crate::network::realise_spec`]), its algorithm, and the first `batch` samples of
/// its training split as the run loads them (normalised, subsets drawn from the data streams; not
/// augmented). The file's own values are used: sweep axes are not expanded.
pub fn gradcheck_experiment(
    path: &Path,
    overrides: &ExperimentOverrides,
) -> Result<GradcheckReport> {
    let mut exp = crate::load::experiment(path)?;
    let alg = &mut exp.algorithm;
    alg.alpha = overrides.alpha.unwrap_or(alg.alpha);
    alg.beta = overrides.beta.unwrap_or(alg.beta);
    alg.passes = overrides.passes.unwrap_or(alg.passes);
    alg.alpha_mix = overrides.alpha_mix.or(alg.alpha_mix);
    alg.alpha_fb = overrides.alpha_fb.or(alg.alpha_fb);
    alg.validate_for(exp.network.loss)
        .map_err(|e| LabError::Option(FieldError::from(e).under("algorithm")))?;
    let seed = overrides.seed.unwrap_or(exp.seed);
    let data = crate::dataset::load(&exp.dataset, path)?;
    crate::job::check_shapes(&exp, &data, path)?;
    let n = crate::validation::train_count(data.train.len(), exp.training.validation);
    let batch = overrides.batch.unwrap_or(exp.training.batch_size);
    if batch == 0 || batch > n {
        return Err(LabError::option(
            "batch",
            format!("must be in [1, {n}], the samples the experiment trains on (got {batch})"),
        ));
    }
    let hardware = exp.hardware.spec().ok_or_else(|| LabError::Invalid {
        path: path.to_owned(),
        position: None,
        field: "hardware".into(),
        message: "the hardware file was not loaded".into(),
    })?;
    let blocks = crate::network::blocks(&exp.network);
    let size = crate::budget::NetworkSize::gradcheck(
        &exp.network.layers,
        &blocks,
        batch,
        exp.algorithm.passes,
        !hardware.is_ideal_array(),
    );
    size.bytes(["network", "batch", "algorithm.passes"])
        .and_then(|bytes| {
            crate::budget::fits(
                "batch",
                "the gradient check",
                bytes,
                crate::budget::available(),
            )
        })
        .map_err(LabError::Option)?;
    let mut net = crate::network::realise_spec(&exp.network, hardware, seed, 0).map_err(|e| {
        LabError::Invalid {
            path: path.to_owned(),
            position: None,
            field: e.field().into(),
            message: e.to_string(),
        }
    })?;
    let idx: Vec<usize> = (0..batch).collect();
    let (mut x, mut y) = (DMatrix::zeros(0, 0), DMatrix::zeros(0, 0));
    data.train.gather(&idx, &mut x, &mut y);
    let report = dualprop::gradcheck(&mut net, &x, &y, &exp.algorithm)
        .map_err(|e| LabError::Option(FieldError::from(e).under("algorithm")))?;
    Ok(report.into())
}

//! The experiment file: what to train, on what, how, and with which seeds.
//!
//! Every struct rejects unknown fields, so a typo is an error with its line and column; every
//! omitted field with a default is filled in, and `experiment.ron` in the results shows the
//! resolved values.

use crate::dataset::DatasetSpec;
use crate::sweep::Sweep;
pub use dualprop::{Activation, Algorithm, AlgorithmKind, Loss, NudgeAt, OptimizerKind, Schedule};
use serde::{Deserialize, Serialize};

/// A complete experiment, as written in an experiments/*.ron file.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Experiment {
    /// Name of the experiment; results go to `runs/<name>` unless `--out` says otherwise.
    pub name: String,
    /// The data (default: the embedded digits).
    #[serde(default = "default_dataset")]
    pub dataset: DatasetSpec,
    /// Layer widths, activation and loss.
    pub network: NetworkSpec,
    /// Learning algorithm, nudging asymmetry α, nudging strength β and settling.
    pub algorithm: Algorithm,
    /// Epochs, batch size and optimiser.
    pub training: TrainingSpec,
    /// Experiment seed: every random stream derives from it (default 0).
    #[serde(default)]
    pub seed: u64,
    /// Replicate seeds: every point runs once per entry (default `[0]`).
    #[serde(default = "default_seeds")]
    pub seeds: Vec<u64>,
    /// Sweep axes: field path → values, e.g. `{"algorithm.alpha": [0.0, 0.5, 1.0]}` (default none).
    #[serde(default, skip_serializing_if = "Sweep::is_empty")]
    pub sweep: Sweep,
}

fn default_dataset() -> DatasetSpec {
    DatasetSpec::Digits
}

fn default_seeds() -> Vec<u64> {
    vec![0]
}

/// The network's shape.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NetworkSpec {
    /// Widths from input to output, e.g. `[64, 128, 10]`; the first and last must match the dataset.
    pub layers: Vec<usize>,
    /// Hidden transfer function (default `Relu`); the output layer is linear.
    #[serde(default = "default_activation")]
    pub activation: Activation,
    /// Loss on the output (default `CrossEntropy`).
    #[serde(default = "default_loss")]
    pub loss: Loss,
}

fn default_activation() -> Activation {
    Activation::Relu
}

fn default_loss() -> Loss {
    Loss::CrossEntropy
}

/// How the network is trained.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TrainingSpec {
    /// Passes over the training split (≥ 1).
    pub epochs: usize,
    /// Samples per mini-batch (≥ 1).
    pub batch_size: usize,
    /// Update rule of the digital periphery (default `Sgd`).
    #[serde(default = "default_optimizer")]
    pub optimizer: OptimizerKind,
    /// Learning rate η (> 0).
    pub learning_rate: f32,
    /// SGD momentum in [0, 1) (default 0).
    #[serde(default)]
    pub momentum: f32,
    /// L2 weight decay ≥ 0 (default 0).
    #[serde(default)]
    pub weight_decay: f32,
}

fn default_optimizer() -> OptimizerKind {
    OptimizerKind::Sgd
}

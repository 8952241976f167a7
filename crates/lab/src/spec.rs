//! The experiment file: what to train, on what, how, and with which seeds.
//!
//! Every struct rejects unknown fields, so a typo is an error with its line and column; every
//! omitted field with a default is filled in, and `experiment.ron` in the results shows the
//! resolved values.

use crate::dataset::DatasetSpec;
use crate::hardware::HardwareSource;
pub use crate::lr_schedule::LrSchedule;
use crate::metrics::MetricSpec;
use crate::sweep::Sweep;
use dualprop::network::Init;
pub use dualprop::{
    Activation, Algorithm, AlgorithmKind, BlockSpec, Circuit, Loss, NudgeAt, OptimizerKind,
    OutputMode, PoolRouting, Schedule,
};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

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
    /// The hardware: a device-models file (`"../device-models/x.ron"`, relative to this file) or an
    /// inline `Hardware(...)`; default ideal.
    #[serde(default)]
    pub hardware: HardwareSource,
    /// Experiment seed: every random stream derives from it (default 0).
    #[serde(default)]
    pub seed: u64,
    /// Replicate seeds: every point runs once per entry (default `[0]`).
    #[serde(default = "default_seeds")]
    pub seeds: Vec<u64>,
    /// Sweep axes: field path → values, e.g. `{"algorithm.alpha": [0.0, 0.5, 1.0]}` (default none).
    /// The `"hardware"` axis lists device-models files (relative to this file) or names of
    /// `hardware_presets`.
    #[serde(default, skip_serializing_if = "Sweep::is_empty")]
    pub sweep: Sweep,
    /// Hardware descriptions by name for a sweep over `"hardware"`, each named by a value of that
    /// axis (default none). Files the axis names are read when the experiment loads and stored
    /// here under their file stem (`"../device-models/ideal.ron"` becomes `"ideal"`), so the
    /// `experiment.ron` of a results folder is self-contained.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub hardware_presets: BTreeMap<String, crossbar::Hardware>,
    /// Algorithms by name for a sweep over `"algorithm"`, each named by a value of that axis
    /// (default none), e.g. `{"DP⊤ K=4": (kind: DpTop, alpha: 0.0, passes: 4), "backprop":
    /// (kind: Backprop)}`: points that differ in several algorithm fields at once.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub algorithm_presets: BTreeMap<String, Algorithm>,
    /// Further metrics measured after every epoch (default none), e.g. `[Settling, Pulses]`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub metrics: Vec<MetricSpec>,
    /// After training, let the weights drift and measure test accuracy at these times (default none).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retention: Option<RetentionSpec>,
    /// Figures to draw (default: chosen from the sweep axes, see docs/EXPERIMENTS.md).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub plots: Vec<PlotSpec>,
    /// A tolerance search instead of a grid: `dyadsim run` finds how far `axis` may go before the
    /// metric drops (default none; see docs/EXPERIMENTS.md).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tolerance: Option<crate::tolerance::ToleranceSpec>,
    /// Names in figures, overriding the defaults: field path, metric or `"path=value"` → text,
    /// e.g. `{"algorithm.alpha": "α", "algorithm.kind=DpTop": "DP⊤ (ours)"}` (default none).
    #[serde(default, skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    pub labels: std::collections::BTreeMap<String, String>,
    /// How figures are rendered (default: 200 dpi, percent axes fitted to the data).
    #[serde(default, skip_serializing_if = "FigureOptions::is_default")]
    pub figures: FigureOptions,
    /// The file the experiment was read from; relative paths in it resolve against its folder.
    #[serde(skip)]
    pub source: Option<std::path::PathBuf>,
}

/// How figures are rendered; sizes are fixed in points (3.5 in per panel), see docs/EXPERIMENTS.md.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct FigureOptions {
    /// Pixel density of the PNG files in dots per inch (default 200; 36–1200); the SVG is vector.
    pub dpi: u32,
    /// Percent axes (accuracies, diverged seeds) span 0–100 % instead of fitting the data
    /// (default false).
    pub full_percent_range: bool,
}

impl Default for FigureOptions {
    fn default() -> Self {
        Self {
            dpi: plot::Options::DEFAULT_DPI,
            full_percent_range: false,
        }
    }
}

impl FigureOptions {
    /// Whether every option has its default (then `experiment.ron` leaves the section out).
    pub fn is_default(&self) -> bool {
        *self == Self::default()
    }
}

/// Retention after training: the trained arrays are aged with the hardware's drift model.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RetentionSpec {
    /// Times since programming, in seconds (each ≥ 0), e.g. `[1, 3600, 86400, 31536000]`.
    pub times: Vec<f64>,
}

impl Experiment {
    /// The parameters every run record of this experiment carries, in table order: the sweep's
    /// paths, then a tolerance search's axis (its probes' varying value).
    pub fn record_axes(&self) -> Vec<String> {
        let mut axes = self.sweep.paths();
        if let Some(t) = &self.tolerance {
            axes.push(t.axis.clone());
        }
        axes
    }
}

/// A figure an experiment asks for. Metrics are column names of metrics.csv (e.g. `"test_acc"`);
/// axes are sweep paths. Values are averaged over replicate seeds and over any axis the figure
/// does not show.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub enum PlotSpec {
    /// Test accuracy and loss against epoch (test and train for a single point), one line per
    /// value of `axis` (when absent, of the last numeric sweep axis, with a row of panels per
    /// combination of the other axes), mean ± std over seeds; a diverged line ends in ✗.
    Convergence {
        /// The sweep axis whose values label the curves.
        #[serde(default)]
        axis: Option<String>,
        /// The first epoch drawn (default 0, the untrained network); 1 lets the accuracy axis fit
        /// the trained range instead of stretching down to chance.
        #[serde(default)]
        from_epoch: usize,
    },
    /// A final metric over two axes, the values printed in the cells; one figure per value of `panels`.
    Heatmap {
        /// Axis along x.
        x: String,
        /// Axis along y.
        y: String,
        /// The metric (default `"test_acc"`).
        #[serde(default = "default_metric")]
        metric: String,
        /// An axis whose values get a figure each.
        #[serde(default)]
        panels: Option<String>,
    },
    /// Test accuracy against time since programming (log scale), one line per value of `lines`.
    Retention {
        /// An axis whose values get a line each (e.g. `"hardware.drift.compensation"`).
        #[serde(default)]
        lines: Option<String>,
    },
    /// A final metric against a numeric axis, mean ± std over seeds, one line per value of `lines`
    /// and one panel per value of `panels`.
    Final {
        /// The numeric axis along x.
        x: String,
        /// The metric (default `"test_acc"`).
        #[serde(default = "default_metric")]
        metric: String,
        /// An axis whose values get a line each (e.g. `"algorithm.kind"`).
        #[serde(default)]
        lines: Option<String>,
        /// An axis whose values get a panel each.
        #[serde(default)]
        panels: Option<String>,
    },
    /// A final metric against the training energy per sample (log scale; needs the `Cost` metric),
    /// one marker per sweep point (mean over seeds) and the Pareto front of the points that no
    /// other point beats with less energy as a line.
    EnergyAccuracy {
        /// The metric (default `"test_acc"`).
        #[serde(default = "default_metric")]
        metric: String,
    },
    /// Where the training energy goes (needs the `Cost` metric): one stacked bar per value of `x`,
    /// the energy per training sample split into its five classes (array reads, conversions,
    /// programming pulses, neuron circuits, digital periphery), one panel per value of `panels`.
    /// A bar is the mean over the non-diverged seeds and over the values of any numeric axis the
    /// figure does not show; a categorical axis (hardware, algorithm presets) must be `x` or
    /// `panels`, never averaged over.
    EnergyBreakdown {
        /// The axis whose values are the bars (default `"algorithm"`, which the sweep must then
        /// have).
        #[serde(default)]
        x: Option<String>,
        /// An axis whose values get a panel each (e.g. `"hardware"`).
        #[serde(default)]
        panels: Option<String>,
    },
}

fn default_metric() -> String {
    "test_acc".into()
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
    /// With `blocks` it may be left out: it is then the units per layer the blocks give.
    #[serde(default)]
    pub layers: Vec<usize>,
    /// The input image (height, width, channels) that `blocks` read, channel-last, e.g. `(28, 28, 1)`
    /// (default none: a dense network of `layers`); it must be the dataset's image shape.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub input: Option<(usize, usize, usize)>,
    /// The network as blocks on `input`, e.g. `[Conv(channels: 32, kernel: 3, pool: true), Dense(10)]`
    /// (default none: a dense network of `layers`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub blocks: Vec<BlockSpec>,
    /// Hidden transfer function (default `Relu`); the output layer is linear.
    #[serde(default = "default_activation")]
    pub activation: Activation,
    /// Loss on the output (default `CrossEntropy`).
    #[serde(default = "default_loss")]
    pub loss: Loss,
    /// A named architecture instead of `blocks`: `Vgg16` or `Vgg((channels: [...], pooled: [...],
    /// dense: [...]))`, ending in a dense output layer of the dataset's classes (default none).
    /// Expanded into `blocks` when the file is read, so a results folder's experiment.ron lists
    /// the blocks it trained.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub preset: Option<NetworkPreset>,
    /// Where a pooled convolution block routes the top-down signal through its max-pooling:
    /// `PlusState` (default, as the authors' code: at conv(s⁺) of the block below) or `MeanState`
    /// (at conv(s̄), like the weight update); see docs/MODEL.md. Read only by pooled `Conv` blocks
    /// above the first, so `MeanState` without one is refused.
    #[serde(default, skip_serializing_if = "is_default")]
    pub pool_routing: PoolRouting,
    /// How initial weights and biases are drawn (default `Uniform`, PyTorch's rule); always
    /// written into a results folder's experiment.ron.
    #[serde(default)]
    pub init: Init,
}

/// A named architecture of convolution and dense blocks (see [`NetworkSpec::preset`]).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum NetworkPreset {
    /// VGG16 as the paper trains it (Simonyan & Zisserman 2015, configuration D): 13 3×3
    /// convolutions with channels 64, 64, 128, 128, 256, 256, 256, 512 ×6, max-pooling after
    /// convolutions 2, 4, 7, 10 and 13, dense 4096 and 4096, then the classes; no batch norm or
    /// dropout. Needs an input of at least 32×32.
    Vgg16,
    /// A VGG-style network of your own.
    Vgg(VggSpec),
}

/// A VGG-style network: 3×3 'same' convolutions, some followed by 2×2/2 max-pooling, then dense
/// layers and the output layer of the dataset's classes.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VggSpec {
    /// Output channels of each convolution, bottom first (at least one, each ≥ 1).
    pub channels: Vec<usize>,
    /// The convolutions (1-based, increasing, at most `channels.len()`) followed by max-pooling
    /// (default none).
    #[serde(default)]
    pub pooled: Vec<usize>,
    /// Units of the dense hidden layers after the convolutions (default none, each ≥ 1).
    #[serde(default)]
    pub dense: Vec<usize>,
}

fn is_default<T: Default + PartialEq>(v: &T) -> bool {
    *v == T::default()
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
    /// Whether `weight_decay` also pulls the biases toward 0, as optax's unmasked
    /// `add_decayed_weights` in the authors' CNN code (default false: the weights only, as
    /// PyTorch's habit); needs `weight_decay` > 0.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub decay_biases: bool,
    /// Blow-up rule: a run whose mean training loss after an epoch exceeds this factor times its
    /// epoch-0 value stops there and is recorded as diverged (`blow-up`). A ratio (no unit),
    /// finite and > 1; default `Some(100.0)`; `None` turns the rule off (only NaN or infinity
    /// then counts as divergence).
    #[serde(
        default = "default_blow_up",
        skip_serializing_if = "is_default_blow_up"
    )]
    pub blow_up: Option<f64>,
    /// Fraction of the training split held out for validation, in (0, 1), e.g. `0.1` as the paper
    /// (default `None`: no validation). The last fraction in file order is held out (see
    /// docs/DATA.md); metrics.csv gains `val_loss` and `val_acc`, summary.json the test accuracy
    /// of the best-validation epoch.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub validation: Option<f64>,
    /// How the learning rate changes per optimizer step (default `Constant`; `WarmupCosine` as
    /// optax's `warmup_cosine_decay_schedule`, or `Step`).
    #[serde(default, skip_serializing_if = "LrSchedule::is_constant")]
    pub lr_schedule: LrSchedule,
    /// The paper's augmentation of training images, redrawn per sample and epoch: 4-pixel zero
    /// padding, a random crop back to the image size and a horizontal flip with probability ½
    /// (default `None`: on for CIFAR-10 and CIFAR-100 as the paper, off for every other dataset;
    /// `true` on the synthetic task, which has no images, is an error).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub augment: Option<bool>,
}

impl TrainingSpec {
    /// Whether training images are augmented on `dataset`: `augment` when written, else the
    /// dataset's default (CIFAR only).
    pub fn augments(&self, dataset: &DatasetSpec) -> bool {
        self.augment
            .unwrap_or_else(|| dataset.augments_by_default())
    }
}

/// The default of `training.blow_up`: a loss 100× its starting value.
pub const DEFAULT_BLOW_UP: f64 = 100.0;

fn default_blow_up() -> Option<f64> {
    Some(DEFAULT_BLOW_UP)
}

// Left out of stored experiments when default, so files written before the rule existed and
// after it read and compare alike.
fn is_default_blow_up(v: &Option<f64>) -> bool {
    *v == default_blow_up()
}

fn default_optimizer() -> OptimizerKind {
    OptimizerKind::Sgd
}

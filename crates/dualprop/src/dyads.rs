//! The state of every dyad of a batch, preallocated so that settling never allocates.

use crate::conv::Workspaces;
use crate::periphery::NeuronParams;
use nalgebra::DMatrix;

/// Compartment states of layers 1..L for a batch of B samples (matrices of neurons × B).
///
/// Vectors are indexed by layer − 1; the clamped input is kept separately.
#[derive(Clone, Debug)]
pub struct Dyads {
    sizes: Vec<usize>,
    batch: usize,
    /// The clamped input s₀ = x.
    pub input: DMatrix<f32>,
    /// Bottom-up drive aₖ = Wₖ·s̄ₖ₋₁ + bₖ.
    pub drive: Vec<DMatrix<f32>>,
    /// Top-down signal eₖ = Wₖ₊₁ᵀ·δₖ₊₁ (unused for the output layer).
    pub feedback: Vec<DMatrix<f32>>,
    /// Positive compartment s⁺ₖ.
    pub plus: Vec<DMatrix<f32>>,
    /// Negative compartment s⁻ₖ.
    pub minus: Vec<DMatrix<f32>>,
    /// Mean state s̄ₖ, sent up.
    pub mean: Vec<DMatrix<f32>>,
    /// Difference δₖ = s⁺ₖ − s⁻ₖ, sent down.
    pub diff: Vec<DMatrix<f32>>,
    /// The free forward output (the prediction before nudging).
    pub prediction: DMatrix<f32>,
    /// β·∇ℓ at the output.
    pub nudge: DMatrix<f32>,
    /// The free forward activations of every layer (the state before nudging), for the leak diagnostic.
    pub free: Vec<DMatrix<f32>>,
    /// Realised neuron parameters per layer, resolved before settling.
    pub(crate) params: Vec<NeuronParams>,
    /// The output response gᵢ·(a − oᵢ) at which a current-drive nudge is evaluated.
    pub(crate) response: DMatrix<f32>,
    /// Circuit mode: target compartment values s⁺, s⁻ of every layer.
    pub(crate) target_plus: Vec<DMatrix<f32>>,
    /// Circuit mode: target of s⁻.
    pub(crate) target_minus: Vec<DMatrix<f32>>,
    /// Power-iteration vectors per layer: (inputs × 1, outputs × 1).
    pub(crate) power: Vec<(DMatrix<f32>, DMatrix<f32>)>,
    /// Bookkeeping of which layer inputs changed (for skipping unchanged work).
    pub(crate) stamps: Stamps,
    /// Residual per pass (schedules) or per recorded Euler step (circuit mode) of the last settle.
    pub(crate) trace: Vec<f32>,
    /// Buffers of the convolution blocks for this batch.
    pub(crate) conv: Workspaces,
    /// Buffers of the convolution blocks for one sample (power iteration).
    pub(crate) power_conv: Workspaces,
}

/// Change stamps: layer j's state last changed at `stamp[j]` (0 = at the free phase); layer k last
/// updated having seen `seen_below[k−1]` and `seen_above[k−1]` of its neighbours.
#[derive(Clone, Debug, Default)]
pub(crate) struct Stamps {
    pub clock: u64,
    /// Indexed 0..=L+1; entries 0 (the input) and L+1 (nothing above the output) never change.
    pub stamp: Vec<u64>,
    pub seen_below: Vec<u64>,
    pub seen_above: Vec<u64>,
    /// Whether the layer's last update changed its state (a damped update is idempotent only then).
    pub last_changed: Vec<bool>,
}

impl Stamps {
    /// The state right after the free phase: hidden layers count as updated with zero feedback, the
    /// output as never updated.
    pub fn reset(&mut self, depth: usize) {
        self.clock = 0;
        self.stamp.clear();
        self.stamp.resize(depth + 2, 0);
        self.seen_below.clear();
        self.seen_below.resize(depth, 0);
        self.seen_above.clear();
        self.seen_above.resize(depth, 0);
        self.last_changed.clear();
        self.last_changed.resize(depth, true);
        self.seen_below[depth - 1] = u64::MAX;
    }
}

impl Dyads {
    /// Buffers for a network with layer sizes `sizes` (input first) and batches of `batch` samples.
    pub fn new(sizes: &[usize], batch: usize) -> Self {
        assert!(
            sizes.len() >= 2,
            "a network has an input and at least one layer"
        );
        let per_layer = || {
            sizes[1..]
                .iter()
                .map(|&n| DMatrix::zeros(n, batch))
                .collect::<Vec<_>>()
        };
        let out = *sizes.last().expect("checked above");
        Self {
            sizes: sizes.to_vec(),
            batch,
            input: DMatrix::zeros(sizes[0], batch),
            drive: per_layer(),
            feedback: per_layer(),
            plus: per_layer(),
            minus: per_layer(),
            mean: per_layer(),
            diff: per_layer(),
            prediction: DMatrix::zeros(out, batch),
            nudge: DMatrix::zeros(out, batch),
            free: per_layer(),
            params: sizes[1..].iter().map(|&n| NeuronParams::new(n)).collect(),
            response: DMatrix::zeros(out, batch),
            target_plus: per_layer(),
            target_minus: per_layer(),
            power: sizes
                .windows(2)
                .map(|w| (DMatrix::zeros(w[0], 1), DMatrix::zeros(w[1], 1)))
                .collect(),
            stamps: Stamps::default(),
            trace: Vec::new(),
            conv: Workspaces::default(),
            power_conv: Workspaces::default(),
        }
    }

    /// Resize for another batch size if needed (outside the settling loop).
    pub fn ensure_batch(&mut self, batch: usize) {
        if batch != self.batch {
            *self = Self::new(&self.sizes.clone(), batch);
        }
    }

    /// The batch size the buffers hold.
    pub fn batch(&self) -> usize {
        self.batch
    }

    /// Layer sizes, input first.
    pub fn sizes(&self) -> &[usize] {
        &self.sizes
    }

    /// Number of weight layers L.
    pub fn depth(&self) -> usize {
        self.sizes.len() - 1
    }

    /// The largest compartment change of every pass (schedules) or the velocity residual of the
    /// recorded Euler steps (circuit mode) of the last settle, in order.
    pub fn residual_trace(&self) -> &[f32] {
        &self.trace
    }

    /// The mean state feeding layer `k` (1-based): the input for k = 1.
    pub fn below(&self, k: usize) -> &DMatrix<f32> {
        if k == 1 {
            &self.input
        } else {
            &self.mean[k - 2]
        }
    }
}

//! The state of every dyad of a batch, preallocated so that settling never allocates.

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
}

impl Dyads {
    /// Buffers for a network with layer sizes `sizes` (input first) and batches of `batch` samples.
    pub fn new(sizes: &[usize], batch: usize) -> Self {
        assert!(sizes.len() >= 2, "a network has an input and at least one layer");
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

    /// The mean state feeding layer `k` (1-based): the input for k = 1.
    pub fn below(&self, k: usize) -> &DMatrix<f32> {
        if k == 1 { &self.input } else { &self.mean[k - 2] }
    }
}

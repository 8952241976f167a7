//! The `Crossbar` trait: what a learning rule may do with a synapse array.

use crate::counts::OpCounts;
use crate::snapshot::{SnapshotError, SnapshotReader, SnapshotWriter};
use nalgebra::DMatrix;

/// A weight update handed to an array by the learning rule.
///
/// Batches are matrices whose columns are samples.
#[derive(Clone, Copy, Debug)]
pub enum Update<'a> {
    /// Add ΔW (outputs × inputs) to the weights, as computed by a digital optimiser in the periphery.
    Delta(&'a DMatrix<f32>),
    /// W ← W − lr·Σ_b d_b·x_bᵀ: the rank-B outer product the reference analog simulator applies,
    /// with x the pre-synaptic signal (inputs × B) and d the post-synaptic error (outputs × B).
    OuterProduct {
        /// Pre-synaptic activity, one column per sample.
        x: &'a DMatrix<f32>,
        /// Post-synaptic error, one column per sample.
        d: &'a DMatrix<f32>,
        /// Learning rate applied to the summed outer product.
        lr: f32,
    },
}

/// What an update cost on the hardware.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct UpdateReport {
    /// Device pulses applied (0 for arrays written in floating point), an energy proxy.
    pub pulses: u64,
}

/// A synapse layer: a weight matrix W (outputs × inputs) that lives on some hardware.
///
/// Reads take `&mut self` because a physical read draws noise.
pub trait Crossbar: Send {
    /// Number of output lines (rows of W).
    fn outputs(&self) -> usize;
    /// Number of input lines (columns of W).
    fn inputs(&self) -> usize;
    /// y ← W·x for every column of `x` (`x`: inputs × B, `y`: outputs × B).
    fn read(&mut self, x: &DMatrix<f32>, y: &mut DMatrix<f32>);
    /// z ← Wᵀ·d for every column of `d` (`d`: outputs × B, `z`: inputs × B).
    fn read_transposed(&mut self, d: &DMatrix<f32>, z: &mut DMatrix<f32>);
    /// Program an update into the array.
    fn update(&mut self, update: Update<'_>) -> UpdateReport;
    /// The effective weights as a perfect, noise-free read would see them.
    fn weights(&self) -> DMatrix<f32>;
    /// Set the weights directly, as a chip is programmed before training or inference.
    fn program(&mut self, weights: &DMatrix<f32>);
    /// Let `seconds` pass since programming (conductance drift); ideal arrays do not change.
    fn age(&mut self, seconds: f64) {
        let _ = seconds;
    }
    /// What the array has done since it was built (reads, conversions, pulses); arrays that do
    /// not count report zeros.
    fn counts(&self) -> OpCounts {
        OpCounts::default()
    }
    /// Whether a forward read depends only on the weights and its input: no read noise, no state
    /// the read itself changes. A caller may then keep the result of a read and, for the same input
    /// and unchanged weights, use it again instead of reading (counting the read with
    /// [`Crossbar::count_repeated_read`]).
    fn reads_deterministically(&self) -> bool {
        false
    }
    /// Count a forward read of `batch` columns whose result the caller kept from an identical read
    /// (see [`Crossbar::reads_deterministically`]), as the hardware would have done it.
    fn count_repeated_read(&mut self, batch: usize) {
        let _ = batch;
    }
    /// Append everything training changes in the array (device values, the positions of its noise
    /// streams, its counts) to `out`. An array built again from the same description and seed and
    /// given this state by [`Crossbar::restore`] continues bit for bit as this one would.
    fn save(&self, out: &mut SnapshotWriter);
    /// Take the state [`Crossbar::save`] wrote; an error when it does not fit this array.
    fn restore(&mut self, input: &mut SnapshotReader<'_>) -> Result<(), SnapshotError>;
}

impl<C: Crossbar + ?Sized> Crossbar for Box<C> {
    fn outputs(&self) -> usize {
        (**self).outputs()
    }
    fn inputs(&self) -> usize {
        (**self).inputs()
    }
    fn read(&mut self, x: &DMatrix<f32>, y: &mut DMatrix<f32>) {
        (**self).read(x, y)
    }
    fn read_transposed(&mut self, d: &DMatrix<f32>, z: &mut DMatrix<f32>) {
        (**self).read_transposed(d, z)
    }
    fn update(&mut self, update: Update<'_>) -> UpdateReport {
        (**self).update(update)
    }
    fn weights(&self) -> DMatrix<f32> {
        (**self).weights()
    }
    fn program(&mut self, weights: &DMatrix<f32>) {
        (**self).program(weights)
    }
    fn age(&mut self, seconds: f64) {
        (**self).age(seconds)
    }
    fn counts(&self) -> OpCounts {
        (**self).counts()
    }
    fn reads_deterministically(&self) -> bool {
        (**self).reads_deterministically()
    }
    fn count_repeated_read(&mut self, batch: usize) {
        (**self).count_repeated_read(batch)
    }
    fn save(&self, out: &mut SnapshotWriter) {
        (**self).save(out)
    }
    fn restore(&mut self, input: &mut SnapshotReader<'_>) -> Result<(), SnapshotError> {
        (**self).restore(input)
    }
}

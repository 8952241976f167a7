//! What the network side of training did: neuron compartment updates, settling, the digital
//! periphery's operations and, for backprop, the stored activations.
//!
//! The arrays count their own reads, conversions and pulses ([`crossbar::Crossbar::counts`]);
//! this is the rest of a training step. Counting is a few integer additions per layer update, never
//! inside an elementwise loop, and changes no result.
//!
//! Conventions (docs/COSTS.md states them with the energy of each): a digital operation is one
//! arithmetic operation on one f32 value as the periphery performs it — adding a bias to a drive
//! (1 per element), the output nudge β·∇ℓ ([`NUDGE_OPS`] per output element), a derivative
//! f′(a)·δ ([`DERIVATIVE_OPS`]), a digital outer product (2 per multiply-accumulate), a batch mean
//! (1 per element) and an optimiser's per-parameter rule ([`optimizer_ops`]).

use crate::optimizer::OptimizerKind;
use crossbar::{SnapshotError, SnapshotReader, SnapshotWriter};

/// Digital operations per output element of the nudge: the loss gradient and its scaling by β.
pub const NUDGE_OPS: u64 = 2;
/// Digital operations per element of a backpropagated derivative: f′(a) and the product with δ.
pub const DERIVATIVE_OPS: u64 = 2;
/// Bytes of one stored activation (f32).
pub const BYTES_PER_VALUE: u64 = 4;

/// Digital operations of an optimiser's rule per parameter (weight decay adds 2):
/// SGD with momentum v ← μv + g, Δ = −ηv (3); Adam's two moments, bias corrections, square root,
/// ε, division and step (13); plain SGD Δ = −ηg (1, used for the digital biases only).
pub fn optimizer_ops(kind: OptimizerKind) -> u64 {
    match kind {
        OptimizerKind::Sgd => 3,
        OptimizerKind::Adam => 13,
        OptimizerKind::PlainSgd => 1,
    }
}

/// Cumulative counts of the network side of training (see the module docs).
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct NetCounts {
    /// Neuron compartment updates: two per dyad and sample in every layer update of settling or
    /// of the free phase; one per neuron and sample in a backprop forward pass.
    pub compartment_updates: u64,
    /// Settling passes of the schedules, or Euler steps in circuit mode, summed over batches.
    pub settle_passes: u64,
    /// Time the neuron circuits spend, in their time constants τ, summed over samples: one per
    /// layer update and sample (schedules, free phase, backprop forward), dt/τ per Euler step and
    /// sample (circuit mode).
    pub settle_time_constants: f64,
    /// Digital arithmetic operations of the periphery.
    pub digital_ops: u64,
    /// Bytes written to digital memory (backprop's stored activations and pre-activations).
    pub memory_written: u64,
    /// Bytes read back from digital memory.
    pub memory_read: u64,
    /// Derivative evaluations f′(a) of backprop's backward pass.
    pub derivative_evals: u64,
}

impl NetCounts {
    /// Append every count to a snapshot.
    pub fn save(&self, out: &mut SnapshotWriter) {
        let Self {
            compartment_updates,
            settle_passes,
            settle_time_constants,
            digital_ops,
            memory_written,
            memory_read,
            derivative_evals,
        } = *self;
        out.tag("network counts");
        for v in [
            compartment_updates,
            settle_passes,
            digital_ops,
            memory_written,
            memory_read,
            derivative_evals,
        ] {
            out.u64(v);
        }
        out.f64(settle_time_constants);
    }

    /// Take the counts [`NetCounts::save`] wrote.
    pub fn restore(&mut self, input: &mut SnapshotReader<'_>) -> Result<(), SnapshotError> {
        input.tag("network counts")?;
        let mut v = [0u64; 6];
        for x in &mut v {
            *x = input.u64()?;
        }
        *self = Self {
            compartment_updates: v[0],
            settle_passes: v[1],
            digital_ops: v[2],
            memory_written: v[3],
            memory_read: v[4],
            derivative_evals: v[5],
            settle_time_constants: input.f64()?,
        };
        Ok(())
    }

    /// One layer update of `neurons` dyads for `batch` samples (both compartments).
    pub(crate) fn dyad_layer(&mut self, neurons: usize, batch: usize) {
        self.compartment_updates += 2 * (neurons * batch) as u64;
        self.settle_time_constants += batch as f64;
    }

    /// `n` digital operations per element of an `rows` × `batch` signal.
    pub(crate) fn elementwise(&mut self, rows: usize, batch: usize, n: u64) {
        self.digital_ops += n * (rows * batch) as u64;
    }

    /// What happened between two snapshots (`self` the later one).
    pub fn since(&self, earlier: &NetCounts) -> NetCounts {
        NetCounts {
            compartment_updates: self.compartment_updates - earlier.compartment_updates,
            settle_passes: self.settle_passes - earlier.settle_passes,
            settle_time_constants: self.settle_time_constants - earlier.settle_time_constants,
            digital_ops: self.digital_ops - earlier.digital_ops,
            memory_written: self.memory_written - earlier.memory_written,
            memory_read: self.memory_read - earlier.memory_read,
            derivative_evals: self.derivative_evals - earlier.derivative_evals,
        }
    }
}

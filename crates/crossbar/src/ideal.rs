//! The ideal array: exact floating-point weights, the oracle every other array is compared with.

use crate::array::{Crossbar, Update, UpdateReport};
use crate::counts::{OpCounts, PulseTally};
use crate::linalg::{Op, gemm};
use crate::snapshot::{SnapshotError, SnapshotReader, SnapshotWriter};
use nalgebra::DMatrix;

/// Exact f32 weights with noise-free reads and updates.
#[derive(Clone, Debug)]
pub struct IdealArray {
    w: DMatrix<f32>,
    counts: OpCounts,
}

impl IdealArray {
    /// An array holding `weights` (outputs × inputs).
    pub fn new(weights: DMatrix<f32>) -> Self {
        Self {
            w: weights,
            counts: OpCounts::default(),
        }
    }
}

impl Crossbar for IdealArray {
    fn outputs(&self) -> usize {
        self.w.nrows()
    }
    fn inputs(&self) -> usize {
        self.w.ncols()
    }
    fn read(&mut self, x: &DMatrix<f32>, y: &mut DMatrix<f32>) {
        gemm(1.0, &self.w, Op::N, x, Op::N, 0.0, y);
        let (rows, cols) = self.w.shape();
        self.counts.read(rows, cols, x.ncols(), true, false);
    }
    fn read_transposed(&mut self, d: &DMatrix<f32>, z: &mut DMatrix<f32>) {
        gemm(1.0, &self.w, Op::T, d, Op::N, 0.0, z);
        let (rows, cols) = self.w.shape();
        self.counts.read(rows, cols, d.ncols(), false, false);
    }
    fn update(&mut self, update: Update<'_>) -> UpdateReport {
        match update {
            Update::Delta(dw) => self.w += dw,
            Update::OuterProduct { x, d, lr } => gemm(-lr, d, Op::N, x, Op::T, 1.0, &mut self.w),
        }
        // Written in floating point: no pulses, every device written.
        self.counts.update(PulseTally {
            touched: self.w.len() as u64,
            ..PulseTally::default()
        });
        UpdateReport::default()
    }
    fn weights(&self) -> DMatrix<f32> {
        self.w.clone()
    }
    fn program(&mut self, weights: &DMatrix<f32>) {
        self.w.copy_from(weights);
    }
    fn counts(&self) -> OpCounts {
        self.counts
    }
    fn reads_deterministically(&self) -> bool {
        true
    }
    fn count_repeated_read(&mut self, batch: usize) {
        let (rows, cols) = self.w.shape();
        self.counts.read(rows, cols, batch, true, false);
    }
    fn save(&self, out: &mut SnapshotWriter) {
        out.tag("ideal array");
        out.matrix(&self.w);
        self.counts.save(out);
    }
    fn restore(&mut self, input: &mut SnapshotReader<'_>) -> Result<(), SnapshotError> {
        input.tag("ideal array")?;
        input.matrix_into(&mut self.w, "the weights")?;
        self.counts.restore(input)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn outer_product_matches_explicit_sum() {
        let w0 = DMatrix::from_fn(3, 4, |i, j| (i as f32) - 0.5 * j as f32);
        let x = DMatrix::from_fn(4, 2, |i, j| 0.1 * (i + j) as f32);
        let d = DMatrix::from_fn(3, 2, |i, j| 1.0 - (i * j) as f32);
        let mut a = IdealArray::new(w0.clone());
        a.update(Update::OuterProduct {
            x: &x,
            d: &d,
            lr: 0.5,
        });
        let expected = &w0 - (&d * x.transpose()) * 0.5;
        approx::assert_relative_eq!(a.weights(), expected, epsilon = 1e-6);
    }

    #[test]
    fn transposed_read_is_the_transpose() {
        let w = DMatrix::from_fn(3, 5, |i, j| (i * 5 + j) as f32 * 0.1);
        let d = DMatrix::from_fn(3, 2, |i, j| (i + 2 * j) as f32);
        let mut a = IdealArray::new(w.clone());
        let mut z = DMatrix::zeros(5, 2);
        a.read_transposed(&d, &mut z);
        approx::assert_relative_eq!(z, w.transpose() * d, epsilon = 1e-5);
    }
}

//! The stored weights of an array: each device's persistent value, and what a read multiplies by.
//!
//! The read matrix holds w − r − c + write noise (r: the reference of a reference device, c: the
//! mapping centre). When all three vanish the persistent values are read directly, so an ideal or
//! noise-free array keeps a single matrix and stays bit-exact.

use crate::device::Pulser;
use crate::population::Population;
use crate::snapshot::{SnapshotError, SnapshotReader, SnapshotWriter};
use nalgebra::DMatrix;
use rand::Rng;

/// Mutable views of a [`DeviceState`] that chunked updates can share out between threads.
pub(crate) struct Split<'a> {
    /// Persistent device values, column-major.
    pub w: &'a mut [f32],
    /// Read values, when they differ from `w`.
    pub read: Option<&'a mut [f32]>,
    /// Per-device reference r (empty: none).
    pub reference: &'a [f32],
    /// Mapping centre c.
    pub center: f32,
    /// Write-noise standard deviation in weight units.
    pub write_sigma: f32,
}

/// Persistent device values and the matrix reads see.
#[derive(Clone, Debug)]
pub(crate) struct DeviceState {
    /// Persistent device values w (device coordinate, outputs × inputs).
    pub w: DMatrix<f32>,
    /// What reads multiply by, when it differs from `w`.
    read: Option<DMatrix<f32>>,
    /// Per-device reference r (empty: none).
    reference: Vec<f32>,
    /// Mapping centre c.
    center: f32,
    /// Write-noise standard deviation in weight units (write_noise_std·dw_min).
    write_sigma: f32,
}

impl DeviceState {
    /// Zero weights of the given shape.
    pub fn new(
        rows: usize,
        cols: usize,
        reference: Vec<f32>,
        center: f32,
        write_sigma: f32,
    ) -> Self {
        let separate = !reference.is_empty() || center != 0.0 || write_sigma > 0.0;
        Self {
            w: DMatrix::zeros(rows, cols),
            read: separate.then(|| DMatrix::zeros(rows, cols)),
            reference,
            center,
            write_sigma,
        }
    }

    /// Append the persistent and read values to a snapshot (the rest is fixed at construction).
    pub fn save(&self, out: &mut SnapshotWriter) {
        out.tag("device values");
        out.matrix(&self.w);
        out.bool(self.read.is_some());
        if let Some(read) = &self.read {
            out.matrix(read);
        }
    }

    /// Take the values [`DeviceState::save`] wrote into a state of the same shape and kind.
    pub fn restore(&mut self, input: &mut SnapshotReader<'_>) -> Result<(), SnapshotError> {
        input.tag("device values")?;
        input.matrix_into(&mut self.w, "the device values")?;
        let separate = input.bool()?;
        match (&mut self.read, separate) {
            (Some(read), true) => input.matrix_into(read, "the read values"),
            (None, false) => Ok(()),
            _ => Err(input.error(
                "the read values are kept apart from the device values in one array and not the other",
            )),
        }
    }

    /// Split borrows for chunked updates.
    pub fn split(&mut self) -> Split<'_> {
        Split {
            w: self.w.as_mut_slice(),
            read: self.read.as_mut().map(|r| r.as_mut_slice()),
            reference: &self.reference,
            center: self.center,
            write_sigma: self.write_sigma,
        }
    }

    /// The matrix a read multiplies by (apparent weights relative to the mapping centre).
    pub fn read_matrix(&self) -> &DMatrix<f32> {
        self.read.as_ref().unwrap_or(&self.w)
    }

    /// The offset r + c subtracted from device k's value on reading.
    #[inline]
    pub fn offset(&self, k: usize) -> f32 {
        self.reference.get(k).copied().unwrap_or(0.0) + self.center
    }

    /// Refresh device k's read value after its persistent value changed (fresh write noise).
    #[inline]
    pub fn touch<R: Rng + ?Sized>(&mut self, k: usize, write_rng: &mut R) {
        let offset = self.offset(k);
        let sigma = self.write_sigma;
        let w = self.w.as_slice()[k];
        if let Some(read) = self.read.as_mut() {
            let noise = if sigma > 0.0 {
                sigma * crate::rng::normal(write_rng)
            } else {
                0.0
            };
            read.as_mut_slice()[k] = w - offset + noise;
        }
    }

    /// Refresh every read value; `noise` = false keeps the apparent weights equal to the persistent
    /// ones (programming without write noise).
    pub fn refresh_all<R: Rng + ?Sized>(&mut self, write_rng: &mut R, noise: bool) {
        let Some(read) = self.read.as_mut() else {
            return;
        };
        let sigma = if noise { self.write_sigma } else { 0.0 };
        let center = self.center;
        for (k, (r, &w)) in read
            .as_mut_slice()
            .iter_mut()
            .zip(self.w.as_slice())
            .enumerate()
        {
            let offset = self.reference.get(k).copied().unwrap_or(0.0) + center;
            let xi = if sigma > 0.0 {
                crate::rng::normal(write_rng)
            } else {
                0.0
            };
            *r = w - offset + sigma * xi;
        }
    }

    /// Apply |n| pulses (up if n > 0) to device k, one at a time, then refresh its read value.
    #[inline]
    pub fn pulses<R: Rng + ?Sized, S: Rng + ?Sized>(
        &mut self,
        pulser: &Pulser,
        pop: &Population,
        k: usize,
        n: i32,
        rng: &mut R,
        write_rng: &mut S,
    ) {
        let up = n > 0;
        let mut w = self.w.as_slice()[k];
        for _ in 0..n.unsigned_abs() {
            w = pulser.pulse(pop, k, w, up, rng);
        }
        self.w.as_mut_slice()[k] = w;
        self.touch(k, write_rng);
    }

    /// Clip every persistent value to its device's bounds (no-op for an ideal population).
    pub fn clip(&mut self, pop: &Population) {
        if pop.len() == 0 {
            return;
        }
        for ((w, &lo), &hi) in self
            .w
            .as_mut_slice()
            .iter_mut()
            .zip(&pop.b_min)
            .zip(&pop.b_max)
        {
            *w = w.max(lo).min(hi);
        }
    }
}

//! What the array does: reads, updates, programming and ageing (the [`Crossbar`] implementation).

use super::{AnalogArray, Scheme};
use crate::array::{Crossbar, Update, UpdateReport};
use crate::counts::{OpCounts, PulseTally};
use crate::device;
use crate::drift::ProgrammedArray;
use crate::linalg::{Op, gemm};
use crate::snapshot::{SnapshotError, SnapshotReader, SnapshotWriter};
use crate::update::{self, Target};
use nalgebra::DMatrix;
use rand::Rng;

impl AnalogArray {
    pub(super) fn invalidate_inference(&mut self) {
        self.aged = None;
        self.programmed = None;
    }

    /// The desired update in device units: ΔW/scale.
    fn device_delta(&mut self, dw: &DMatrix<f32>) {
        if self.delta.shape() != dw.shape() {
            self.delta = DMatrix::zeros(dw.nrows(), dw.ncols());
        }
        let s = self.scale;
        for (d, &v) in self.delta.as_mut_slice().iter_mut().zip(dw.as_slice()) {
            *d = v / s;
        }
    }

    fn outer_delta(&mut self, x: &DMatrix<f32>, d: &DMatrix<f32>, lr: f32) {
        if self.delta.shape() != (self.rows, self.cols) {
            self.delta = DMatrix::zeros(self.rows, self.cols);
        }
        gemm(-lr / self.scale, d, Op::N, x, Op::T, 0.0, &mut self.delta);
    }

    fn rounding(&mut self, max_pulses: u32, aggregate: bool) -> PulseTally {
        let Some(pulser) = self.pulser.as_ref() else {
            return PulseTally::default();
        };
        let r = update::Rounding {
            pulser,
            pop: &self.pop,
            granularity: self.granularity,
            max_pulses,
            aggregate,
            update_key: self.rng_update.random(),
            write_key: self.rng_write.random(),
        };
        update::stochastic_rounding(self.delta.as_slice(), &mut self.state, &r)
    }

    /// A floating-point write: no pulses, every device written.
    fn written(&self) -> PulseTally {
        PulseTally {
            touched: (self.rows * self.cols) as u64,
            ..PulseTally::default()
        }
    }

    /// Decay and diffusion, once per update call (one mini-batch).
    fn post_update(&mut self) {
        let decays = !self.pop.decay.is_empty();
        let diffuses = !self.pop.diffusion.is_empty();
        if decays {
            device::decay(&self.pop, self.state.w.as_mut_slice());
        }
        if diffuses {
            device::diffuse(&self.pop, self.state.w.as_mut_slice(), &mut self.rng_post);
        }
        if decays || diffuses {
            self.state.refresh_all(&mut self.rng_write, true);
        }
    }
}

impl Crossbar for AnalogArray {
    fn outputs(&self) -> usize {
        self.rows
    }
    fn inputs(&self) -> usize {
        self.cols
    }
    fn read(&mut self, x: &DMatrix<f32>, y: &mut DMatrix<f32>) {
        let (w, comp) = match &self.aged {
            Some((m, c)) => (m, *c),
            None => (self.state.read_matrix(), 1.0),
        };
        let repeats = self
            .fwd
            .read(w, Op::N, self.scale, x, y, &mut self.rng_read);
        if comp != 1.0 {
            *y *= comp;
        }
        let converted = self.fwd.converted();
        let (rows, cols) = (self.rows, self.cols);
        self.counts.read(rows, cols, x.ncols(), true, converted);
        self.counts.repeat(rows, cols, repeats, true);
    }
    fn read_transposed(&mut self, d: &DMatrix<f32>, z: &mut DMatrix<f32>) {
        let (w, comp) = match &self.aged {
            Some((m, c)) => (m, *c),
            None => (self.state.read_matrix(), 1.0),
        };
        let repeats = self
            .bwd
            .read(w, Op::T, self.scale, d, z, &mut self.rng_read);
        if comp != 1.0 {
            *z *= comp;
        }
        let converted = self.bwd.converted();
        let (rows, cols) = (self.rows, self.cols);
        self.counts.read(rows, cols, d.ncols(), false, converted);
        self.counts.repeat(rows, cols, repeats, false);
    }
    fn update(&mut self, update: Update<'_>) -> UpdateReport {
        self.invalidate_inference();
        let pulses = match (self.scheme.clone(), update) {
            (Scheme::Float, Update::Delta(dw)) => {
                assert_eq!(
                    dw.shape(),
                    (self.rows, self.cols),
                    "update: ΔW shape differs from the array"
                );
                if self.identity {
                    self.state.w += dw;
                } else {
                    let s = self.scale;
                    for (w, &v) in self.state.w.as_mut_slice().iter_mut().zip(dw.as_slice()) {
                        *w += v / s;
                    }
                }
                self.state.clip(&self.pop);
                self.state.refresh_all(&mut self.rng_write, true);
                self.written()
            }
            (Scheme::Float, Update::OuterProduct { x, d, lr }) => {
                gemm(-lr / self.scale, d, Op::N, x, Op::T, 1.0, &mut self.state.w);
                self.state.clip(&self.pop);
                self.state.refresh_all(&mut self.rng_write, true);
                self.written()
            }
            (
                Scheme::Rounding {
                    max_pulses,
                    aggregate,
                },
                Update::Delta(dw),
            ) => {
                assert_eq!(
                    dw.shape(),
                    (self.rows, self.cols),
                    "update: ΔW shape differs from the array"
                );
                self.device_delta(dw);
                self.rounding(max_pulses, aggregate)
            }
            (
                Scheme::Rounding {
                    max_pulses,
                    aggregate,
                },
                Update::OuterProduct { x, d, lr },
            ) => {
                self.outer_delta(x, d, lr);
                self.rounding(max_pulses, aggregate)
            }
            // A Delta has no rank-one structure to stream: its pulse counts are rounded
            // stochastically, capped at the train length.
            (Scheme::Coincidence(p), Update::Delta(dw)) => {
                assert_eq!(
                    dw.shape(),
                    (self.rows, self.cols),
                    "update: ΔW shape differs from the array"
                );
                self.device_delta(dw);
                self.rounding(p.desired_bl, false)
            }
            (Scheme::Coincidence(p), Update::OuterProduct { x, d, lr }) => {
                match self.pulser.as_ref() {
                    Some(pulser) => {
                        let mut t = Target {
                            state: &mut self.state,
                            pulser,
                            pop: &self.pop,
                            rng: &mut self.rng_update,
                            write_rng: &mut self.rng_write,
                        };
                        update::pulse_coincidence(
                            x,
                            d,
                            lr / self.scale,
                            &p,
                            self.granularity,
                            &mut t,
                        )
                    }
                    None => PulseTally::default(),
                }
            }
        };
        self.post_update();
        self.counts.update(pulses);
        UpdateReport {
            pulses: pulses.total(),
        }
    }
    fn weights(&self) -> DMatrix<f32> {
        let w = match &self.aged {
            Some((m, _)) => m,
            None => self.state.read_matrix(),
        };
        if self.scale == 1.0 {
            w.clone()
        } else {
            w * self.scale
        }
    }
    fn program(&mut self, weights: &DMatrix<f32>) {
        assert_eq!(
            weights.shape(),
            (self.rows, self.cols),
            "program: weight shape differs from the array"
        );
        self.invalidate_inference();
        if self.identity {
            self.state.w.copy_from(weights);
        } else {
            let s = self.scale;
            for (k, &v) in weights.as_slice().iter().enumerate() {
                let offset = self.state.offset(k);
                self.state.w.as_mut_slice()[k] = v / s + offset;
            }
        }
        self.state.clip(&self.pop);
        self.state
            .refresh_all(&mut self.rng_write, self.write_on_set);
    }
    fn counts(&self) -> OpCounts {
        self.counts
    }
    fn age(&mut self, seconds: f64) {
        let Some(spec) = self.drift.as_ref() else {
            return;
        };
        // A negative or NaN age is no time at all rather than a panic.
        let t = if seconds.is_finite() && seconds > 0.0 {
            seconds
        } else {
            0.0
        };
        if self.programmed.is_none() {
            let v = self.state.read_matrix().as_slice();
            self.programmed = Some(ProgrammedArray::program(spec, v, &mut self.rng_drift));
        }
        let Some(programmed) = self.programmed.as_ref() else {
            return;
        };
        let mut m = DMatrix::zeros(self.rows, self.cols);
        let comp = programmed.age(t, m.as_mut_slice(), &mut self.rng_drift);
        self.aged = Some((m, comp));
    }
    fn save(&self, out: &mut SnapshotWriter) {
        out.tag("analog array");
        self.state.save(out);
        for rng in [
            &self.rng_update,
            &self.rng_write,
            &self.rng_read,
            &self.rng_drift,
            &self.rng_post,
        ] {
            out.rng(rng);
        }
        out.bool(self.programmed.is_some());
        if let Some(p) = &self.programmed {
            p.save(out);
        }
        out.bool(self.aged.is_some());
        if let Some((m, comp)) = &self.aged {
            out.matrix(m);
            out.f32(*comp);
        }
        self.counts.save(out);
    }
    fn restore(&mut self, input: &mut SnapshotReader<'_>) -> Result<(), SnapshotError> {
        input.tag("analog array")?;
        self.state.restore(input)?;
        for rng in [
            &mut self.rng_update,
            &mut self.rng_write,
            &mut self.rng_read,
            &mut self.rng_drift,
            &mut self.rng_post,
        ] {
            *rng = input.rng()?;
        }
        self.programmed = None;
        if input.bool()? {
            let Some(spec) = self.drift.as_ref() else {
                return Err(input.error("programmed conductances for an array without drift"));
            };
            let devices = self.rows * self.cols;
            self.programmed = Some(ProgrammedArray::restore(spec, devices, input)?);
        }
        self.aged = None;
        if input.bool()? {
            let mut m = DMatrix::zeros(self.rows, self.cols);
            input.matrix_into(&mut m, "the aged weights")?;
            self.aged = Some((m, input.f32()?));
        }
        self.counts.restore(input)
    }
}

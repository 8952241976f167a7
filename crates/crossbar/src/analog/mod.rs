//! The analog array: pulsed devices, update scheme, read converters, faults and drift composed
//! behind the [`Crossbar`] trait.
//!
//! Network weights W and device values w are related by W = scale·(w − r − c) (see
//! [`crate::spec::Mapping`]); reads return scale·(converted product), updates are divided by the
//! scale before they reach the devices. An ideal spec takes exactly the arithmetic of
//! [`crate::IdealArray`], so the two agree bit for bit.

mod ops;

use crate::IdealArray;
use crate::array::Crossbar;
use crate::counts::OpCounts;
use crate::device::{self, Pulser};
use crate::drift::ProgrammedArray;
use crate::faults;
use crate::population::Population;
use crate::read::ReadPipeline;
use crate::rng::{purpose, stream};
use crate::spec::{Drift, Hardware, PcmLike, PulseCoincidence, SpecError, UpdateScheme};
use crate::state::DeviceState;
use nalgebra::DMatrix;
use rand::Rng;
use rand_chacha::ChaCha8Rng;

/// The update scheme with its granularity resolved.
#[derive(Clone, Debug)]
enum Scheme {
    Float,
    Rounding { max_pulses: u32, aggregate: bool },
    Coincidence(PulseCoincidence),
}

/// A crossbar of pulsed analog devices read through converters (see the module docs).
#[derive(Clone, Debug)]
pub struct AnalogArray {
    rows: usize,
    cols: usize,
    scale: f32,
    /// True when W = w exactly (scale 1, no centre, no reference), the ideal arithmetic.
    identity: bool,
    scheme: Scheme,
    granularity: f32,
    pulser: Option<Pulser>,
    pop: Population,
    state: DeviceState,
    write_on_set: bool,
    reset_std: f32,
    fwd: ReadPipeline,
    bwd: ReadPipeline,
    drift: Option<PcmLike>,
    programmed: Option<ProgrammedArray>,
    aged: Option<(DMatrix<f32>, f32)>,
    rng_update: ChaCha8Rng,
    rng_write: ChaCha8Rng,
    rng_read: ChaCha8Rng,
    rng_drift: ChaCha8Rng,
    rng_post: ChaCha8Rng,
    delta: DMatrix<f32>,
    counts: OpCounts,
}

/// Mapping centre c and half-range ρ of a device's mean range (c = 0 when 0 is inside it).
fn centre_and_half_range(w_min: f64, w_max: f64) -> (f64, f64) {
    let c = if w_min < 0.0 && w_max > 0.0 {
        0.0
    } else {
        0.5 * (w_min + w_max)
    };
    (c, (w_max - c).min(c - w_min))
}

impl AnalogArray {
    /// An array described by `spec` holding `initial_weights` (outputs × inputs), with every
    /// hidden parameter and noise stream derived from `seed` (use a different seed per layer).
    ///
    /// The weights are programmed directly (clipped to each device's bounds), with write noise if
    /// the device's `apply_write_noise_on_set` says so. Errors if `spec` does not validate.
    pub fn new(
        spec: &Hardware,
        initial_weights: &DMatrix<f32>,
        seed: u64,
    ) -> Result<Self, SpecError> {
        spec.validate()?;
        let (rows, cols) = initial_weights.shape();
        let n = rows * cols;
        let mut pop = Population::sample(&spec.device, n, seed);
        let common = spec.device.common();
        let (center, scale) = match &common {
            None => (0.0, spec.mapping.scale.unwrap_or(1.0)),
            Some(c) => {
                let (centre, half) = centre_and_half_range(c.w_min, c.w_max);
                let max_w = initial_weights.iter().fold(0.0f32, |m, v| m.max(v.abs()));
                let auto = if max_w > 0.0 {
                    f64::from(max_w) / (spec.mapping.max_fraction * half)
                } else {
                    1.0
                };
                (centre, spec.mapping.scale.unwrap_or(auto))
            }
        };
        let center = center as f32;
        let reference = pop.reference.clone();
        let fault_draws = faults::sample(&spec.faults, n, seed);
        faults::apply(&mut pop, &fault_draws, |k| {
            center + reference.get(k).copied().unwrap_or(0.0)
        });
        let write_sigma = common
            .as_ref()
            .map_or(0.0, |c| (c.write_noise_std * c.dw_min) as f32);
        let identity = scale == 1.0 && center == 0.0 && pop.reference.is_empty();
        let state = DeviceState::new(rows, cols, pop.reference.clone(), center, write_sigma);
        let mut io_rng = stream(seed, purpose::IO_POPULATION);
        let xi_rows = ReadPipeline::line_normals(&spec.io, rows, &mut io_rng);
        let xi_cols = ReadPipeline::line_normals(&spec.io, cols, &mut io_rng);
        let scheme = match &spec.update {
            UpdateScheme::FloatingPoint => Scheme::Float,
            UpdateScheme::StochasticRounding(s) => Scheme::Rounding {
                max_pulses: s.max_pulses,
                aggregate: s.aggregate,
            },
            UpdateScheme::PulseCoincidence(p) => Scheme::Coincidence(p.clone()),
        };
        let mut array = Self {
            rows,
            cols,
            scale: scale as f32,
            identity,
            scheme,
            granularity: device::granularity(&spec.device) as f32,
            pulser: Pulser::new(&spec.device),
            pop,
            state,
            write_on_set: common.as_ref().is_some_and(|c| c.apply_write_noise_on_set),
            reset_std: common.as_ref().map_or(0.0, |c| c.reset_std as f32),
            fwd: ReadPipeline::new(&spec.io, rows, &xi_rows, true),
            bwd: ReadPipeline::new(&spec.io, cols, &xi_cols, false),
            drift: spec.drift.as_ref().map(|Drift::PcmLike(p)| p.clone()),
            programmed: None,
            aged: None,
            rng_update: stream(seed, purpose::UPDATE),
            rng_write: stream(seed, purpose::WRITE),
            rng_read: stream(seed, purpose::READ),
            rng_drift: stream(seed, purpose::DRIFT),
            rng_post: stream(seed, purpose::POST_UPDATE),
            delta: DMatrix::zeros(0, 0),
            counts: OpCounts::default(),
        };
        if !spec.io.is_perfect() {
            array.counts.dac_bits = OpCounts::bits_of(spec.io.inp_res);
            array.counts.adc_bits = OpCounts::bits_of(spec.io.out_res);
        }
        array.program(initial_weights);
        Ok(array)
    }

    /// Network weight per device weight unit (the mapping scale).
    pub fn scale(&self) -> f32 {
        self.scale
    }

    /// Pulses applied since construction (the energy proxy).
    pub fn total_pulses(&self) -> u64 {
        self.counts.pulses()
    }

    /// Persistent device values w in the device coordinate (outputs × inputs).
    pub fn device_values(&self) -> &DMatrix<f32> {
        &self.state.w
    }

    /// Each device's bounds (b_min, b_max) in column-major order, or `None` for unbounded devices.
    pub fn device_bounds(&self) -> Option<(&[f32], &[f32])> {
        (self.pop.len() > 0).then_some((self.pop.b_min.as_slice(), self.pop.b_max.as_slice()))
    }

    /// Reset each device of the columns in `cols` with probability `probability`:
    /// w ← b + reset_std·ξ, clipped (aihwkit `reset_columns`). Out-of-range columns are ignored.
    pub fn reset_columns(&mut self, cols: std::ops::Range<usize>, probability: f32) {
        if self.pop.len() == 0 {
            return;
        }
        self.invalidate_inference();
        for j in cols.start.min(self.cols)..cols.end.min(self.cols) {
            for i in 0..self.rows {
                let k = i + j * self.rows;
                if probability >= 1.0 || self.rng_post.random::<f32>() < probability {
                    let bias = self.pop.reset_bias.get(k).copied().unwrap_or(0.0);
                    let xi = crate::rng::normal(&mut self.rng_post);
                    let v = bias + self.reset_std * xi;
                    self.state.w.as_mut_slice()[k] =
                        v.max(self.pop.b_min[k]).min(self.pop.b_max[k]);
                    self.state.touch(k, &mut self.rng_write);
                }
            }
        }
    }
}

/// An array for `spec`: the [`IdealArray`] when the spec is ideal, an [`AnalogArray`] otherwise.
pub fn build(
    spec: &Hardware,
    initial_weights: &DMatrix<f32>,
    seed: u64,
) -> Result<Box<dyn Crossbar>, SpecError> {
    spec.validate()?;
    if spec.is_ideal_array() {
        Ok(Box::new(IdealArray::new(initial_weights.clone())))
    } else {
        Ok(Box::new(AnalogArray::new(spec, initial_weights, seed)?))
    }
}

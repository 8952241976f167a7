//! Device response curves: the weight of N independent devices pulse by pulse, the first plot a
//! device designer looks at (`dyadsim device`).

use crate::device::Pulser;
use crate::population::Population;
use crate::rng::{purpose, stream};
use crate::spec::{Device, SpecError};
use crate::state::DeviceState;

/// Largest number of recorded weights (pulses + 1)·N of one response (400 MB of f32).
pub const MAX_STATES: u64 = 100_000_000;

/// Weights of N devices after every pulse of a programme.
#[derive(Clone, Debug, PartialEq)]
pub struct PulseResponse {
    /// Number of devices N.
    pub devices: usize,
    /// Weights, pulse-major: `w[p·N + i]` is device i after p pulses (p = 0: the start, w = 0).
    pub w: Vec<f32>,
}

/// Summary of N devices at one pulse.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ResponseStats {
    /// Mean weight.
    pub mean: f64,
    /// Standard deviation (N − 1 denominator; 0 for one device).
    pub std: f64,
    /// 5th percentile (nearest rank).
    pub p05: f64,
    /// Median (nearest rank).
    pub p50: f64,
    /// 95th percentile (nearest rank).
    pub p95: f64,
}

impl PulseResponse {
    /// Number of recorded states: total pulses + 1.
    pub fn len(&self) -> usize {
        self.w.len() / self.devices.max(1)
    }

    /// True when nothing was recorded (no devices).
    pub fn is_empty(&self) -> bool {
        self.w.is_empty()
    }

    /// The N weights after `pulse` pulses.
    pub fn at(&self, pulse: usize) -> &[f32] {
        &self.w[pulse * self.devices..(pulse + 1) * self.devices]
    }

    /// Mean, spread and percentiles of the N weights after `pulse` pulses.
    pub fn stats(&self, pulse: usize) -> ResponseStats {
        let mut v: Vec<f64> = self.at(pulse).iter().map(|&x| f64::from(x)).collect();
        let n = v.len();
        let mean = v.iter().sum::<f64>() / n as f64;
        let var = if n > 1 {
            v.iter().map(|x| (x - mean) * (x - mean)).sum::<f64>() / (n - 1) as f64
        } else {
            0.0
        };
        v.sort_by(f64::total_cmp);
        let rank = |q: f64| v[((q * n as f64).ceil() as usize).clamp(1, n) - 1];
        ResponseStats {
            mean,
            std: var.sqrt(),
            p05: rank(0.05),
            p50: rank(0.5),
            p95: rank(0.95),
        }
    }
}

/// Apply `programme` (e.g. `[200, -400, 200]`: 200 up pulses, 400 down, 200 up) to `n_devices`
/// independent devices of `device` starting from weight 0 (clipped into each device's bounds).
///
/// The recorded weight is what a read sees: w − r plus write noise, in device units (no mapping).
/// Errors if the device spec does not validate or is `Ideal` (it takes no pulses), if
/// `n_devices` is 0, or if more than [`MAX_STATES`] weights would be recorded.
pub fn pulse_response(
    device: &Device,
    programme: &[i64],
    n_devices: usize,
    seed: u64,
) -> Result<PulseResponse, SpecError> {
    device.validate("device")?;
    let Some(pulser) = Pulser::new(device) else {
        return Err(SpecError::Inconsistent(
            "an Ideal device takes no pulses: choose a pulsed device model".into(),
        ));
    };
    if n_devices == 0 {
        return Err(SpecError::OutOfRange {
            field: "devices".into(),
            expected: ">= 1".into(),
            value: "0".into(),
        });
    }
    let common = device
        .common()
        .ok_or_else(|| SpecError::Inconsistent("device has no pulse parameters".into()))?;
    // Checked before sampling: the population alone holds a dozen numbers per device.
    let total = programme
        .iter()
        .fold(0u64, |t, p| t.saturating_add(p.unsigned_abs()));
    let states = total.saturating_add(1).saturating_mul(n_devices as u64);
    if states > MAX_STATES {
        return Err(SpecError::OutOfRange {
            field: "pulses × devices".into(),
            expected: format!("<= {MAX_STATES} recorded weights"),
            value: states.to_string(),
        });
    }
    let pop = Population::sample(device, n_devices, seed);
    let write_sigma = (common.write_noise_std * common.dw_min) as f32;
    let mut state = DeviceState::new(1, n_devices, pop.reference.clone(), 0.0, write_sigma);
    for k in 0..n_devices {
        state.w.as_mut_slice()[k] = pop.reference.get(k).copied().unwrap_or(0.0);
    }
    state.clip(&pop);
    let mut rng = stream(seed, purpose::UPDATE);
    let mut write_rng = stream(seed, purpose::WRITE);
    state.refresh_all(&mut write_rng, common.apply_write_noise_on_set);
    let mut w = Vec::with_capacity((total as usize + 1) * n_devices);
    w.extend_from_slice(state.read_matrix().as_slice());
    for &block in programme {
        let direction = if block > 0 { 1 } else { -1 };
        for _ in 0..block.unsigned_abs() {
            for k in 0..n_devices {
                state.pulses(&pulser, &pop, k, direction, &mut rng, &mut write_rng);
            }
            w.extend_from_slice(state.read_matrix().as_slice());
        }
    }
    Ok(PulseResponse {
        devices: n_devices,
        w,
    })
}

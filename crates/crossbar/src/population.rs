//! Device-to-device variation: the hidden parameters of every device, sampled once from the seed.
//!
//! Follows aihwkit's `PulsedRPUDevice::populate` and the model-specific additions. Each parameter
//! family draws from its own ChaCha8 stream, and every draw is made whether or not its spread is
//! zero, so changing one spread (a sweep axis) leaves every other parameter of every device
//! unchanged: points of a sweep see the same device realisation (common random numbers).
//! Arrays are indexed like nalgebra's column-major storage, k = i + j·rows.

use crate::rng::{fill_normal, fill_uniform, stream};
use crate::spec::Device;

/// Stream ids of the parameter families (fixed forever: changing one changes every realisation).
mod streams {
    pub const W_MAX: u64 = 0x100;
    pub const W_MIN: u64 = 0x101;
    pub const GAIN: u64 = 0x102;
    pub const UP_DOWN: u64 = 0x103;
    pub const CORRUPT: u64 = 0x104;
    pub const CORRUPT_VALUE: u64 = 0x105;
    pub const DIFFUSION: u64 = 0x106;
    pub const RESET: u64 = 0x107;
    pub const LIFETIME: u64 = 0x108;
    pub const SHAPE_UP: u64 = 0x109;
    pub const SHAPE_DOWN: u64 = 0x10a;
    pub const REFERENCE: u64 = 0x10b;
}

/// The hidden parameters of every device of one array.
///
/// Empty vectors mean "not used by this model" (`reset_bias`: all zero).
#[derive(Clone, Debug, Default)]
pub(crate) struct Population {
    /// Lower bound b_min of each device (device coordinate).
    pub b_min: Vec<f32>,
    /// Upper bound b_max of each device.
    pub b_max: Vec<f32>,
    /// Up step Δw⁺ of each device (≥ 0 when consistency is enforced).
    pub dw_up: Vec<f32>,
    /// Down step Δw⁻ of each device.
    pub dw_down: Vec<f32>,
    /// Model shape parameter for up pulses: slope k⁺ (linear family) or exponent γ⁺ (PowStep).
    pub p_up: Vec<f32>,
    /// Model shape parameter for down pulses: slope k⁻ or exponent γ⁻.
    pub p_down: Vec<f32>,
    /// Reference r subtracted on reading (SoftBoundsReference).
    pub reference: Vec<f32>,
    /// Value decay relaxes to and reset sets, in the device coordinate.
    pub reset_bias: Vec<f32>,
    /// Decay factor δ = 1 − 1/τ per mini-batch (when lifetime > 0).
    pub decay: Vec<f32>,
    /// Diffusion rate ρ (when diffusion > 0).
    pub diffusion: Vec<f32>,
}

impl Population {
    /// No hidden parameters: an ideal device.
    pub fn ideal() -> Self {
        Self::default()
    }

    /// Number of devices described (0 for an ideal device).
    pub fn len(&self) -> usize {
        self.b_min.len()
    }

    /// Sample `n` devices of `device` from `seed`; an `Ideal` device gets an empty population.
    pub fn sample(device: &Device, n: usize, seed: u64) -> Self {
        let Some(c) = device.common() else {
            return Self::ideal();
        };
        let normals = |id: u64| {
            let mut v = vec![0.0f32; n];
            fill_normal(&mut stream(seed, id), &mut v);
            v
        };
        let (w_min, w_max, dw_min) = (c.w_min as f32, c.w_max as f32, c.dw_min as f32);
        let mut b_max = normals(streams::W_MAX);
        let mut b_min = normals(streams::W_MIN);
        for (hi, lo) in b_max.iter_mut().zip(b_min.iter_mut()) {
            *hi = w_max * (1.0 + c.w_max_dtod as f32 * *hi);
            *lo = w_min * (1.0 + c.w_min_dtod as f32 * *lo);
        }
        let gain_xi = normals(streams::GAIN);
        let r_xi = normals(streams::UP_DOWN);
        let up_bias = if c.up_down > 0.0 {
            0.0
        } else {
            c.up_down as f32
        };
        let down_bias = if c.up_down > 0.0 {
            -c.up_down as f32
        } else {
            0.0
        };
        let mut dw_up = vec![0.0f32; n];
        let mut dw_down = vec![0.0f32; n];
        for k in 0..n {
            let dtod = c.dw_min_dtod as f32;
            let gain = if c.dw_min_dtod_log_normal {
                (dtod * gain_xi[k]).exp()
            } else {
                1.0 + dtod * gain_xi[k]
            };
            let r = c.up_down_dtod as f32 * r_xi[k];
            dw_up[k] = (up_bias + gain + r) * dw_min;
            dw_down[k] = (down_bias + gain - r) * dw_min;
            if c.enforce_consistency {
                dw_up[k] = dw_up[k].abs();
                dw_down[k] = dw_down[k].abs();
                if b_min[k] > b_max[k] {
                    std::mem::swap(&mut b_min[k], &mut b_max[k]);
                }
                b_max[k] = b_max[k].abs();
                b_min[k] = -b_min[k].abs();
            } else if b_min[k] > b_max[k] {
                let m = 0.5 * (b_min[k] + b_max[k]);
                b_min[k] = m;
                b_max[k] = m;
            }
        }
        // Corrupt devices: bounds collapse to a uniform value in the range, steps vanish.
        let mut u = vec![0.0f32; n];
        let mut value = vec![0.0f32; n];
        fill_uniform(&mut stream(seed, streams::CORRUPT), &mut u);
        fill_uniform(&mut stream(seed, streams::CORRUPT_VALUE), &mut value);
        let p = c.corrupt_devices_prob as f32;
        let range = c.corrupt_devices_range.abs() as f32;
        for k in 0..n {
            if p > u[k] {
                let lo = b_min[k].min(b_max[k]).max(-range);
                let hi = b_min[k].max(b_max[k]).min(range);
                let v = lo + (hi - lo) * value[k];
                b_min[k] = v;
                b_max[k] = v;
                dw_up[k] = 0.0;
                dw_down[k] = 0.0;
            }
        }
        let mut pop = Population {
            b_min,
            b_max,
            dw_up,
            dw_down,
            ..Self::default()
        };
        if c.diffusion > 0.0 {
            pop.diffusion = normals(streams::DIFFUSION);
            for v in pop.diffusion.iter_mut() {
                *v = (c.diffusion as f32 * (1.0 + c.diffusion_dtod as f32 * *v)).abs();
            }
        }
        let reset_used = c.reset != 0.0 || c.reset_dtod != 0.0;
        if reset_used || c.lifetime > 0.0 || matches!(device, Device::SoftBoundsReference(_)) {
            pop.reset_bias = normals(streams::RESET);
            for v in pop.reset_bias.iter_mut() {
                *v = c.reset as f32 + c.reset_dtod as f32 * *v;
            }
        }
        if c.lifetime > 0.0 {
            pop.decay = normals(streams::LIFETIME);
            for v in pop.decay.iter_mut() {
                let tau = c.lifetime as f32 * (1.0 + c.lifetime_dtod as f32 * *v);
                *v = if tau > 1.0 { 1.0 - 1.0 / tau } else { 0.0 };
            }
        }
        pop.shape(device, n, seed);
        pop
    }

    /// The model-specific per-device parameters (slopes, exponents, references).
    fn shape(&mut self, device: &Device, n: usize, seed: u64) {
        let normals = |id: u64| {
            let mut v = vec![0.0f32; n];
            fill_normal(&mut stream(seed, id), &mut v);
            v
        };
        match device {
            Device::LinearStep(d) => {
                let (xu, xd) = (normals(streams::SHAPE_UP), normals(streams::SHAPE_DOWN));
                let slope = |gamma: f32, step: f32, w_ref: f32| {
                    if w_ref != 0.0 {
                        -gamma * step / w_ref
                    } else {
                        0.0
                    }
                };
                self.p_up = vec![0.0; n];
                self.p_down = vec![0.0; n];
                for k in 0..n {
                    let mut gu = d.gamma_up as f32 + d.gamma_up_dtod as f32 * xu[k];
                    let mut gd = d.gamma_down as f32 + d.gamma_down_dtod as f32 * xd[k];
                    if !d.allow_increasing {
                        gu = gu.abs();
                        gd = gd.abs();
                    }
                    let (ru, rd) = if d.mean_bound_reference {
                        (d.w_max as f32, d.w_min as f32)
                    } else {
                        (self.b_max[k], self.b_min[k])
                    };
                    self.p_up[k] = slope(gu, self.dw_up[k], ru);
                    self.p_down[k] = slope(gd, self.dw_down[k], rd);
                }
            }
            Device::SoftBounds(_) => self.soft_slopes(),
            Device::SoftBoundsReference(d) => {
                let (xu, xd) = (normals(streams::SHAPE_UP), normals(streams::SHAPE_DOWN));
                for k in 0..n {
                    let (lo, hi, su, sd) =
                        (self.b_min[k], self.b_max[k], self.dw_up[k], self.dw_down[k]);
                    if hi > 0.0 && lo < 0.0 && su > 0.0 && sd > 0.0 {
                        let slope_up = su / hi * (1.0 + d.slope_up_dtod as f32 * xu[k]).abs();
                        let slope_down = -sd / lo * (1.0 + d.slope_down_dtod as f32 * xd[k]).abs();
                        self.b_max[k] = su / slope_up;
                        self.b_min[k] = -sd / slope_down;
                    }
                }
                let mut r = normals(streams::REFERENCE);
                for (k, rk) in r.iter_mut().enumerate() {
                    *rk = d.reference_mean as f32 + d.reference_std as f32 * *rk;
                    let (lo, hi, su, sd) =
                        (self.b_min[k], self.b_max[k], self.dw_up[k], self.dw_down[k]);
                    if d.subtract_symmetry_point && hi > 0.0 && lo < 0.0 {
                        let denom = su / hi - sd / lo;
                        if denom > 0.0 {
                            let sp = (su - sd) / denom;
                            *rk += sp;
                            self.reset_bias[k] += sp;
                        }
                    }
                    // Decay and reset act on the read weight W = w − r, so their target in the
                    // device coordinate is shifted by r.
                    self.reset_bias[k] += *rk;
                }
                self.reference = r;
                self.soft_slopes();
            }
            Device::PowStep(d) => {
                let (xg, xr) = (normals(streams::SHAPE_UP), normals(streams::SHAPE_DOWN));
                let up_bias = if d.pow_up_down > 0.0 {
                    0.0
                } else {
                    d.pow_up_down as f32
                };
                let down_bias = if d.pow_up_down > 0.0 {
                    -d.pow_up_down as f32
                } else {
                    0.0
                };
                let gamma = d.pow_gamma as f32;
                self.p_up = vec![0.0; n];
                self.p_down = vec![0.0; n];
                for k in 0..n {
                    let g = 1.0 + d.pow_gamma_dtod as f32 * xg[k];
                    let r = d.pow_up_down_dtod as f32 * xr[k];
                    // A negative sampled exponent would make the step blow up at the bound.
                    self.p_up[k] = ((up_bias + g + r) * gamma).max(0.0);
                    self.p_down[k] = ((down_bias + g - r) * gamma).max(0.0);
                }
            }
            _ => {}
        }
    }

    /// Soft-bound slopes k⁺ = −Δw⁺/b_max, k⁻ = −Δw⁻/b_min (0 where the bound has the wrong sign).
    fn soft_slopes(&mut self) {
        let n = self.len();
        self.p_up = (0..n)
            .map(|k| {
                if self.b_max[k] > 0.0 {
                    -self.dw_up[k] / self.b_max[k]
                } else {
                    0.0
                }
            })
            .collect();
        self.p_down = (0..n)
            .map(|k| {
                if self.b_min[k] < 0.0 {
                    -self.dw_down[k] / self.b_min[k]
                } else {
                    0.0
                }
            })
            .collect();
    }
}

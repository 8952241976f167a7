//! Per-pulse update rules of the pulsed device models (aihwkit's `update once` functions).
//!
//! A pulse moves one device's value w by a step that depends on the model, the device's hidden
//! parameters and possibly w itself, then clips w to the device's own bounds [b_min, b_max].
//! Decay and diffusion, applied once per mini-batch, live here too. docs/DEVICES.md has the maths.

use crate::population::Population;
use crate::spec::{Device, ExpStep};
use rand::Rng;

/// The model-wide constants of the exponential step.
#[derive(Clone, Debug)]
pub(crate) struct ExpConsts {
    a_up: f32,
    a_down: f32,
    gamma_up: f32,
    gamma_down: f32,
    a: f32,
    b: f32,
    std_add: f32,
    std_slope: f32,
    complex_noise: bool,
}

/// The shape of the step as a function of w.
#[derive(Clone, Debug)]
pub(crate) enum Rule {
    /// Δw± regardless of w.
    Constant,
    /// Δw± + k±·w with per-device slopes k± (LinearStep, SoftBounds, SoftBoundsReference).
    Linear {
        /// Noise multiplies the whole step (true) or only Δw± (false).
        mult: bool,
    },
    /// Exponential step.
    Exp(ExpConsts),
    /// Power step with per-device exponents γ±.
    Pow,
    /// Linear interpolation between node factors.
    Piecewise { up: Vec<f32>, down: Vec<f32> },
}

/// A device model's pulse response: its rule and the cycle-to-cycle spread.
#[derive(Clone, Debug)]
pub(crate) struct Pulser {
    pub rule: Rule,
    /// dw_min_std: relative standard deviation of every step.
    pub sigma: f32,
}

/// The step factors of an exponential-step device at w = 0, (up, down), in units of Δw±.
pub(crate) fn exp_step_factors_at_zero(d: &ExpStep) -> (f64, f64) {
    let up = (1.0 - d.a_up * (d.gamma_up * d.b).exp()).max(0.0);
    let down = (1.0 - d.a_down * (-d.gamma_down * d.b).exp()).max(0.0);
    (up, down)
}

/// The weight granularity Δw_g that update schemes divide by: the mean step near w = 0.
///
/// dw_min for most models; dw_min·0.5^γ for PowStep; for ExpStep the mean of the up and down steps
/// at w = 0 (aihwkit averages the down step with itself, a quirk not reproduced). 1 for `Ideal`.
pub(crate) fn granularity(device: &Device) -> f64 {
    match device {
        Device::Ideal => 1.0,
        Device::PowStep(d) => d.dw_min * 0.5f64.powf(d.pow_gamma),
        Device::ExpStep(d) => {
            let (up, down) = exp_step_factors_at_zero(d);
            d.dw_min * 0.5 * (up + down)
        }
        other => other.common().map_or(1.0, |c| c.dw_min),
    }
}

impl Pulser {
    /// The pulse rule of a device spec; `None` for `Ideal`, which takes no pulses.
    pub fn new(device: &Device) -> Option<Self> {
        let sigma = device.common()?.dw_min_std as f32;
        let rule = match device {
            Device::Ideal => return None,
            Device::ConstantStep(_) => Rule::Constant,
            Device::LinearStep(d) => Rule::Linear { mult: d.mult_noise },
            Device::SoftBounds(d) => Rule::Linear { mult: d.mult_noise },
            Device::SoftBoundsReference(d) => Rule::Linear { mult: d.mult_noise },
            Device::ExpStep(d) => Rule::Exp(ExpConsts {
                a_up: d.a_up as f32,
                a_down: d.a_down as f32,
                gamma_up: d.gamma_up as f32,
                gamma_down: d.gamma_down as f32,
                a: d.a as f32,
                b: d.b as f32,
                std_add: d.dw_min_std_add as f32,
                std_slope: d.dw_min_std_slope as f32,
                complex_noise: d.dw_min_std > 0.0
                    && (d.dw_min_std_add != 0.0 || d.dw_min_std_slope != 0.0),
            }),
            Device::PowStep(_) => Rule::Pow,
            Device::PiecewiseStep(d) => Rule::Piecewise {
                up: d.piecewise_up.iter().map(|&v| v as f32).collect(),
                down: d.piecewise_down.iter().map(|&v| v as f32).collect(),
            },
        };
        Some(Self { rule, sigma })
    }

    /// Device k's value after one pulse (up = towards b_max) from value `w`, clipped to its bounds.
    ///
    /// A device whose bounds coincide (stuck, corrupt or dead) does not move.
    #[inline]
    pub fn pulse<R: Rng + ?Sized>(
        &self,
        pop: &Population,
        k: usize,
        w: f32,
        up: bool,
        rng: &mut R,
    ) -> f32 {
        let (lo, hi) = (pop.b_min[k], pop.b_max[k]);
        if hi <= lo {
            return w;
        }
        let xi: f32 = if self.sigma > 0.0 {
            crate::rng::normal(rng)
        } else {
            0.0
        };
        self.pulse_with(pop, k, w, up, xi)
    }

    /// [`Pulser::pulse`] with its cycle-to-cycle normal ξ given (ignored when dw_min_std = 0).
    #[inline]
    pub fn pulse_with(&self, pop: &Population, k: usize, w: f32, up: bool, xi: f32) -> f32 {
        let (lo, hi) = (pop.b_min[k], pop.b_max[k]);
        if hi <= lo {
            return w;
        }
        let noise = 1.0 + self.sigma * xi;
        let (dwu, dwd) = (pop.dw_up[k], pop.dw_down[k]);
        let next = match &self.rule {
            Rule::Constant => {
                if up {
                    w + dwu * noise
                } else {
                    w - dwd * noise
                }
            }
            Rule::Linear { mult } => {
                let (step, slope) = if up {
                    (dwu, pop.p_up[k])
                } else {
                    (dwd, pop.p_down[k])
                };
                let delta = if *mult {
                    (step + slope * w) * noise
                } else {
                    slope * w + step * noise
                };
                if up { w + delta } else { w - delta }
            }
            Rule::Exp(c) => {
                let z = 2.0 * c.a * w / (hi - lo) + c.b;
                let delta = if up {
                    (1.0 - c.a_up * (c.gamma_up * z).exp()).max(0.0) * dwu
                } else {
                    -(1.0 - c.a_down * (-c.gamma_down * z).exp()).max(0.0) * dwd
                };
                if c.complex_noise {
                    w + delta + self.sigma * (delta.abs() + c.std_add + c.std_slope * w.abs()) * xi
                } else {
                    w + delta * noise
                }
            }
            Rule::Pow => {
                let range = hi - lo;
                if up {
                    w + dwu * ((hi - w) / range).max(0.0).powf(pop.p_up[k]) * noise
                } else {
                    w - dwd * ((w - lo) / range).max(0.0).powf(pop.p_down[k]) * noise
                }
            }
            Rule::Piecewise { up: vu, down: vd } => {
                let f = interpolate(if up { vu } else { vd }, (w - lo) / (hi - lo));
                if up {
                    w + dwu * f * noise
                } else {
                    w - dwd * f * noise
                }
            }
        };
        // max/min rather than clamp: a NaN step must not escape the bounds either.
        next.max(lo).min(hi)
    }
}

impl Pulser {
    /// Device k's value after `n` pulses (up if n > 0) drawn at once, with the exact mean and
    /// variance of n unclipped pulses, then clipped; `None` for models without a closed form
    /// (ExpStep, PowStep, PiecewiseStep). See [`Pulser::train_moments`].
    #[cfg(test)]
    pub fn train<R: Rng + ?Sized>(
        &self,
        pop: &Population,
        k: usize,
        w: f32,
        n: i32,
        rng: &mut R,
    ) -> Option<f32> {
        let (m, v) = self.train_moments(pop, k, w, n)?;
        let next = if v > 0.0 {
            m + v.sqrt() * crate::rng::normal(rng)
        } else {
            m
        };
        Some(next.max(pop.b_min[k]).min(pop.b_max[k]))
    }

    /// Mean and variance of device k's value after `n` unclipped pulses (up if n > 0) from `w`;
    /// `None` for models without a closed form (ExpStep, PowStep, PiecewiseStep).
    ///
    /// One pulse is an affine map w' = a·w + b plus noise, so the moments follow
    /// m' = a·m + b and V' = a²·V + σ²·E[(noise factor)²]. A stuck device, or n = 0, keeps w
    /// with variance 0.
    #[inline]
    pub fn train_moments(&self, pop: &Population, k: usize, w: f32, n: i32) -> Option<(f32, f32)> {
        let mult = match self.rule {
            Rule::Constant => false,
            Rule::Linear { mult } => mult,
            _ => return None,
        };
        let (lo, hi) = (pop.b_min[k], pop.b_max[k]);
        if hi <= lo || n == 0 {
            return Some((w, 0.0));
        }
        let up = n > 0;
        let (c, slope) = match (&self.rule, up) {
            (Rule::Constant, true) => (pop.dw_up[k], 0.0),
            (Rule::Constant, false) => (pop.dw_down[k], 0.0),
            (_, true) => (pop.dw_up[k], pop.p_up[k]),
            (_, false) => (pop.dw_down[k], pop.p_down[k]),
        };
        // Down pulses subtract the step: w' = w − (c + k·w)(1 + σξ).
        let (a, b) = if up {
            (1.0 + slope, c)
        } else {
            (1.0 - slope, -c)
        };
        let s2 = self.sigma * self.sigma;
        let (mut m, mut v) = (w, 0.0f32);
        for _ in 0..n.unsigned_abs() {
            let noise_var = if mult {
                (c + slope * m).powi(2) + slope * slope * v
            } else {
                c * c
            };
            v = a * a * v + s2 * noise_var;
            m = a * m + b;
        }
        Some((m, v))
    }
}

/// The node factor at relative position `x` ∈ [0, 1] of the range, interpolated linearly.
#[inline]
fn interpolate(nodes: &[f32], x: f32) -> f32 {
    let n = nodes.len() - 1;
    if n == 0 {
        return nodes[0];
    }
    let u = (x * n as f32).max(0.0);
    let k = (u.floor() as usize).min(n - 1);
    let t = (u - k as f32).min(1.0);
    (1.0 - t) * nodes[k] + t * nodes[k + 1]
}

/// Decay towards each device's reset value: w ← (w − b)·δ + b, then clip (once per mini-batch).
pub(crate) fn decay(pop: &Population, w: &mut [f32]) {
    for (k, v) in w.iter_mut().enumerate() {
        let b = pop.reset_bias.get(k).copied().unwrap_or(0.0);
        let next = (*v - b) * pop.decay[k] + b;
        *v = next.max(pop.b_min[k]).min(pop.b_max[k]);
    }
}

/// Diffusion: w ← w + ρ·ξ, then clip (once per mini-batch).
pub(crate) fn diffuse<R: Rng + ?Sized>(pop: &Population, w: &mut [f32], rng: &mut R) {
    for (k, v) in w.iter_mut().enumerate() {
        let xi = crate::rng::normal(rng);
        let next = *v + pop.diffusion[k] * xi;
        *v = next.max(pop.b_min[k]).min(pop.b_max[k]);
    }
}

//! The per-pulse step rules of docs/DEVICES.md §3.2 restated in f64, independently of `crossbar`,
//! for a device whose device-to-device spreads are switched off (every device is the nominal one).
//!
//! This is the reference the devices suite holds `crossbar::pulse_response` against; it reads the
//! documentation, not the simulator's code, so an implementation that drifts from the documented
//! formula fails.

use crossbar::spec::Device;

/// Apply `f` to every pulsed variant's parameter struct (all share the aihwkit common fields).
macro_rules! each_pulsed {
    ($device:expr, $d:ident => $body:expr) => {
        match $device {
            Device::Ideal => {}
            Device::ConstantStep($d) => $body,
            Device::LinearStep($d) => $body,
            Device::SoftBounds($d) => $body,
            Device::SoftBoundsReference($d) => $body,
            Device::ExpStep($d) => $body,
            Device::PowStep($d) => $body,
            Device::PiecewiseStep($d) => $body,
        }
    };
}

/// A copy of `device` with the device-to-device spreads of its bounds and shape, its reference
/// spread, corrupt devices and write noise off: every sampled device is then the nominal one.
/// Cycle-to-cycle noise (`dw_min_std`) and the step spreads are kept unless `noise_free`.
pub fn nominal(device: &Device, noise_free: bool) -> Device {
    let mut d = device.clone();
    each_pulsed!(&mut d, p => {
        p.w_min_dtod = 0.0;
        p.w_max_dtod = 0.0;
        p.corrupt_devices_prob = 0.0;
        if noise_free {
            p.dw_min_dtod = 0.0;
            p.up_down_dtod = 0.0;
            p.dw_min_std = 0.0;
            p.write_noise_std = 0.0;
        }
    });
    match &mut d {
        Device::LinearStep(p) => {
            p.gamma_up_dtod = 0.0;
            p.gamma_down_dtod = 0.0;
        }
        Device::SoftBoundsReference(p) => {
            p.slope_up_dtod = 0.0;
            p.slope_down_dtod = 0.0;
            p.reference_std = 0.0;
        }
        Device::PowStep(p) => {
            p.pow_gamma_dtod = 0.0;
            p.pow_up_down_dtod = 0.0;
        }
        _ => {}
    }
    d
}

/// Scale a device's bounds by `factor` (both, so every model's step factor at w = 0 is unchanged).
pub fn widen(device: &mut Device, factor: f64) {
    each_pulsed!(device, p => {
        p.w_min *= factor;
        p.w_max *= factor;
    });
}

/// Set a device's mean bounds.
pub fn set_bounds(device: &mut Device, w_min: f64, w_max: f64) {
    each_pulsed!(device, p => {
        p.w_min = w_min;
        p.w_max = w_max;
    });
}

/// The nominal device of a spec as the documented formulas define it.
#[derive(Clone, Debug)]
pub struct Nominal {
    /// Lower bound b_min.
    pub b_min: f64,
    /// Upper bound b_max.
    pub b_max: f64,
    /// Up step Δw⁺ (before the model's shape factor).
    pub dw_up: f64,
    /// Down step Δw⁻.
    pub dw_down: f64,
    /// The reference r subtracted on reading (SoftBoundsReference), else 0.
    pub reference: f64,
    device: Device,
}

fn f32r(v: f64) -> f64 {
    // The simulator stores parameters as f32; comparing against the same rounded values keeps the
    // check about the formula, not about the parameters' last bits.
    f64::from(v as f32)
}

impl Nominal {
    /// The nominal device (spreads ignored) of a pulsed `device`; `None` for `Ideal`.
    pub fn new(device: &Device) -> Option<Self> {
        let c = device.common()?;
        let up_bias = c.up_down.min(0.0);
        let down_bias = -c.up_down.max(0.0);
        let (mut dw_up, mut dw_down) = ((up_bias + 1.0) * c.dw_min, (down_bias + 1.0) * c.dw_min);
        let (mut b_min, mut b_max) = (f32r(c.w_min), f32r(c.w_max));
        if c.enforce_consistency {
            dw_up = dw_up.abs();
            dw_down = dw_down.abs();
            b_max = b_max.abs();
            b_min = -b_min.abs();
        }
        let mut reference = 0.0;
        if let Device::SoftBoundsReference(p) = device {
            reference = p.reference_mean;
            if p.subtract_symmetry_point && b_max > 0.0 && b_min < 0.0 {
                reference += (dw_up - dw_down) / (dw_up / b_max - dw_down / b_min);
            }
        }
        Some(Self {
            b_min,
            b_max,
            dw_up: f32r(dw_up),
            dw_down: f32r(dw_down),
            reference,
            device: device.clone(),
        })
    }

    /// The deterministic step of one pulse at device value w (positive up, negative down), before
    /// clipping: the §3.2 rule with ξ = 0.
    pub fn step(&self, w: f64, up: bool) -> f64 {
        let (lo, hi) = (self.b_min, self.b_max);
        let (dw, sign) = if up {
            (self.dw_up, 1.0)
        } else {
            (self.dw_down, -1.0)
        };
        let factor = match &self.device {
            Device::Ideal => 0.0,
            Device::ConstantStep(_) => 1.0,
            Device::LinearStep(p) => {
                let (gamma, w_ref) = if up {
                    (
                        p.gamma_up,
                        if p.mean_bound_reference {
                            f32r(p.w_max)
                        } else {
                            hi
                        },
                    )
                } else {
                    (
                        p.gamma_down,
                        if p.mean_bound_reference {
                            f32r(p.w_min)
                        } else {
                            lo
                        },
                    )
                };
                let gamma = if p.allow_increasing {
                    gamma
                } else {
                    gamma.abs()
                };
                let k = if w_ref == 0.0 {
                    0.0
                } else {
                    -gamma * dw / w_ref
                };
                // w += Δw⁺ + k⁺w up; w −= Δw⁻ + k⁻w down.
                return sign * (dw + k * w);
            }
            Device::SoftBounds(_) | Device::SoftBoundsReference(_) => {
                let bound = if up { hi } else { lo };
                if (up && bound > 0.0) || (!up && bound < 0.0) {
                    1.0 - w / bound
                } else {
                    1.0
                }
            }
            Device::ExpStep(p) => {
                let z = 2.0 * p.a * w / (hi - lo) + p.b;
                if up {
                    (1.0 - p.a_up * (p.gamma_up * z).exp()).max(0.0)
                } else {
                    (1.0 - p.a_down * (-p.gamma_down * z).exp()).max(0.0)
                }
            }
            Device::PowStep(p) => {
                let up_bias = p.pow_up_down.min(0.0);
                let down_bias = -p.pow_up_down.max(0.0);
                let gamma = if up {
                    (up_bias + 1.0) * p.pow_gamma
                } else {
                    (down_bias + 1.0) * p.pow_gamma
                }
                .max(0.0);
                let x = if up {
                    (hi - w) / (hi - lo)
                } else {
                    (w - lo) / (hi - lo)
                };
                x.max(0.0).powf(gamma)
            }
            Device::PiecewiseStep(p) => {
                let nodes = if up {
                    &p.piecewise_up
                } else {
                    &p.piecewise_down
                };
                let n = nodes.len() - 1;
                if n == 0 {
                    nodes[0]
                } else {
                    let u = ((w - lo) / (hi - lo) * n as f64).max(0.0);
                    let k = (u.floor() as usize).min(n - 1);
                    let t = (u - k as f64).min(1.0);
                    (1.0 - t) * nodes[k] + t * nodes[k + 1]
                }
            }
        };
        sign * dw * factor
    }

    /// One pulse from w, clipped to the bounds.
    pub fn pulse(&self, w: f64, up: bool) -> f64 {
        (w + self.step(w, up)).clamp(self.b_min, self.b_max)
    }
}

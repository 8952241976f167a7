//! Device models and their parameters, with aihwkit's names, units and Python defaults.
//!
//! Weights are in aihwkit's normalised device domain (dimensionless); "relative" spreads are
//! fractions of the mean (0.3 = 30 %). docs/DEVICES.md states every formula.

use super::{SpecError, check};
use serde::{Deserialize, Serialize};

/// The aihwkit fields every pulsed device shares, written once (doc, name, type, default):
/// `$then!` receives its own arguments in parentheses, then these fields in braces.
macro_rules! with_pulsed_common_fields {
    ($then:ident ! ( $($args:tt)* )) => {
        $then! {
            ( $($args)* )
            {
                /// Mean step per pulse Δw_min (weight units); default 0.001; > 0.
                dw_min: f64 = 0.001,
                /// Device-to-device spread of the step, relative; default 0.3; >= 0.
                dw_min_dtod: f64 = 0.3,
                /// Draw the step gain as exp(dw_min_dtod·ξ) instead of 1 + dw_min_dtod·ξ; default false.
                dw_min_dtod_log_normal: bool = false,
                /// Cycle-to-cycle spread of every pulse's step, relative; default 0.3; >= 0.
                dw_min_std: f64 = 0.3,
                /// Up/down bias: > 0 shrinks down steps, < 0 shrinks up steps; default 0; in [-1, 1].
                up_down: f64 = 0.0,
                /// Device-to-device spread of the up/down bias, relative to dw_min; default 0.01; >= 0.
                up_down_dtod: f64 = 0.01,
                /// Mean lower bound (weight units); default -0.6; <= 0.
                w_min: f64 = -0.6,
                /// Mean upper bound (weight units); default 0.6; >= 0 and > w_min.
                w_max: f64 = 0.6,
                /// Device-to-device spread of the lower bound, relative; default 0.3; >= 0.
                w_min_dtod: f64 = 0.3,
                /// Device-to-device spread of the upper bound, relative; default 0.3; >= 0.
                w_max_dtod: f64 = 0.3,
                /// Repair inconsistent samples (|steps|, swapped bounds) instead of killing the device;
                /// default true (aihwkit's Python default).
                enforce_consistency: bool = true,
                /// Probability that a device is corrupt (stuck at a random value); default 0; in [0, 1].
                corrupt_devices_prob: f64 = 0.0,
                /// Half-width of the range corrupt devices stick in (weight units); default 0.1; >= 0.
                corrupt_devices_range: f64 = 0.1,
                /// Decay time constant in mini-batches (0 = off); default 0; >= 0.
                lifetime: f64 = 0.0,
                /// Device-to-device spread of the lifetime, relative; default 0; >= 0.
                lifetime_dtod: f64 = 0.0,
                /// Diffusion standard deviation per mini-batch (weight units); default 0; >= 0.
                diffusion: f64 = 0.0,
                /// Device-to-device spread of the diffusion rate, relative; default 0; >= 0.
                diffusion_dtod: f64 = 0.0,
                /// Mean value decay relaxes to and reset sets (weight units); default 0.
                reset: f64 = 0.0,
                /// Device-to-device spread of the reset value (weight units); default 0; >= 0.
                reset_dtod: f64 = 0.0,
                /// Cycle-to-cycle spread of a reset (weight units); default 0.01; >= 0.
                reset_std: f64 = 0.01,
                /// Write noise on the apparent weight, in units of dw_min; default 0; >= 0.
                write_noise_std: f64 = 0.0,
                /// Whether programming weights directly also draws write noise; default true.
                apply_write_noise_on_set: bool = true,
            }
        }
    };
}

/// Defines [`PulsedCommon`] from the shared fields.
macro_rules! define_pulsed_common {
    ( () { $( $(#[$cmeta:meta])* $c:ident : $cty:ty = $cdef:expr, )* } ) => {
        /// The parameters every pulsed device shares, copied out of a device spec for population.
        #[derive(Clone, Debug, PartialEq)]
        pub struct PulsedCommon {
            $( $(#[$cmeta])* pub $c: $cty, )*
        }
    };
}

with_pulsed_common_fields!(define_pulsed_common!());

/// Defines a pulsed-device parameter struct from its own fields and the shared ones.
macro_rules! define_pulsed_device {
    (
        (
            $(#[$meta:meta])*
            $name:ident {
                $( $(#[$fmeta:meta])* $field:ident : $ty:ty = $default:expr, )*
            }
        )
        { $( $(#[$cmeta:meta])* $c:ident : $cty:ty = $cdef:expr, )* }
    ) => {
        $(#[$meta])*
        #[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
        #[serde(deny_unknown_fields, default)]
        pub struct $name {
            $( $(#[$cmeta])* pub $c: $cty, )*
            $( $(#[$fmeta])* pub $field: $ty, )*
        }

        impl Default for $name {
            fn default() -> Self {
                Self {
                    $( $c: $cdef, )*
                    $( $field: $default, )*
                }
            }
        }

        impl $name {
            /// The shared pulsed-device parameters.
            pub fn common(&self) -> PulsedCommon {
                PulsedCommon {
                    $( $c: self.$c, )*
                }
            }
        }
    };
}

/// Defines a pulsed-device parameter struct: the shared aihwkit fields plus the model's own.
macro_rules! pulsed_device {
    ( $($t:tt)* ) => {
        with_pulsed_common_fields!(define_pulsed_device!($($t)*));
    };
}

pulsed_device! {
    /// Constant step Δw± per pulse up to hard bounds (aihwkit `ConstantStepDevice`).
    ConstantStep {}
}

pulsed_device! {
    /// Step linear in w: Δw± + k±·w with k± = −γ±·Δw±/w_ref± (aihwkit `LinearStepDevice`).
    LinearStep {
        /// γ⁺: relative step decrease at the upper bound; default 0; finite.
        gamma_up: f64 = 0.0,
        /// γ⁻: relative step decrease at the lower bound; default 0; finite.
        gamma_down: f64 = 0.0,
        /// Device-to-device spread of γ⁺ (absolute); default 0.05; >= 0.
        gamma_up_dtod: f64 = 0.05,
        /// Device-to-device spread of γ⁻ (absolute); default 0.05; >= 0.
        gamma_down_dtod: f64 = 0.05,
        /// Keep the sign of γ±_ij (steps may grow towards a bound); default false (|γ±_ij|).
        allow_increasing: bool = false,
        /// Use the mean bounds w_max/w_min as w_ref (true) or each device's own bounds; default true.
        mean_bound_reference: bool = true,
        /// Multiplicative cycle-to-cycle noise on the whole step (true) or on Δw± only; default true.
        mult_noise: bool = true,
    }
}

pulsed_device! {
    /// Soft bounds: step Δw⁺(1 − w/b_max) up, Δw⁻(1 − w/b_min) down (aihwkit `SoftBoundsDevice`).
    SoftBounds {
        /// Multiplicative cycle-to-cycle noise (true) or additive; default true.
        mult_noise: bool = true,
    }
}

pulsed_device! {
    /// Soft bounds read differentially against a fixed reference r: W = w − r
    /// (aihwkit `SoftBoundsReferenceDevice`).
    SoftBoundsReference {
        /// Multiplicative cycle-to-cycle noise (true) or additive; default false.
        mult_noise: bool = false,
        /// Device-to-device spread of the up slope, relative; default 0; >= 0.
        slope_up_dtod: f64 = 0.0,
        /// Device-to-device spread of the down slope, relative; default 0; >= 0.
        slope_down_dtod: f64 = 0.0,
        /// Mean reference r (weight units); default 0; finite.
        reference_mean: f64 = 0.0,
        /// Device-to-device spread of r (weight units); default 0; >= 0.
        reference_std: f64 = 0.0,
        /// Add each device's symmetry point w* to r (and to the reset value); default false.
        subtract_symmetry_point: bool = false,
    }
}

pulsed_device! {
    /// Exponential step: Δw±·max(1 − A±·e^{±γ±·z}, 0), z = 2a·w/(b_max − b_min) + b
    /// (aihwkit `ExpStepDevice`).
    ExpStep {
        /// A⁺ (aihwkit `A_up`); default 0.00081; finite.
        #[serde(alias = "A_up")]
        a_up: f64 = 0.00081,
        /// A⁻ (aihwkit `A_down`); default 0.36833; finite.
        #[serde(alias = "A_down")]
        a_down: f64 = 0.36833,
        /// γ⁺; default 12.44625; finite.
        gamma_up: f64 = 12.44625,
        /// γ⁻; default 12.78785; finite.
        gamma_down: f64 = 12.78785,
        /// Slope a of z; default 0.244; finite.
        a: f64 = 0.244,
        /// Offset b of z; default 0.2425; finite.
        b: f64 = 0.2425,
        /// Additive part of the complex step noise (weight units, × dw_min_std); default 0; >= 0.
        dw_min_std_add: f64 = 0.0,
        /// State-proportional part of the complex step noise (× dw_min_std·|w|); default 0; >= 0.
        dw_min_std_slope: f64 = 0.0,
    }
}

pulsed_device! {
    /// Power step: Δw⁺·((b_max − w)/(b_max − b_min))^γ⁺ up, Δw⁻·((w − b_min)/(b_max − b_min))^γ⁻
    /// down (aihwkit `PowStepDevice`).
    PowStep {
        /// γ, the exponent; default 1.0; > 0.
        pow_gamma: f64 = 1.0,
        /// Device-to-device spread of γ, relative; default 0.1; >= 0.
        pow_gamma_dtod: f64 = 0.1,
        /// Up/down bias of γ (as `up_down` for the step); default 0; in [-1, 1].
        pow_up_down: f64 = 0.0,
        /// Device-to-device spread of the γ up/down bias, relative; default 0; >= 0.
        pow_up_down_dtod: f64 = 0.0,
    }
}

pulsed_device! {
    /// Step interpolated between n+1 nodes spread evenly over [b_min, b_max]
    /// (aihwkit `PiecewiseStepDevice`).
    PiecewiseStep {
        /// Up-step factors at the nodes (relative to Δw⁺); default `[1.0]`; each >= 0.
        piecewise_up: Vec<f64> = vec![1.0],
        /// Down-step factors at the nodes (relative to Δw⁻); default `[1.0]`; each >= 0, same length.
        piecewise_down: Vec<f64> = vec![1.0],
    }
}

/// A synapse device model; `Ideal` stores exact floating-point weights.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub enum Device {
    /// Exact floating-point weights: no bounds, no steps, no noise.
    #[default]
    Ideal,
    /// See [`ConstantStep`].
    ConstantStep(ConstantStep),
    /// See [`LinearStep`].
    LinearStep(LinearStep),
    /// See [`SoftBounds`].
    SoftBounds(SoftBounds),
    /// See [`SoftBoundsReference`].
    SoftBoundsReference(SoftBoundsReference),
    /// See [`ExpStep`].
    ExpStep(ExpStep),
    /// See [`PowStep`].
    PowStep(PowStep),
    /// See [`PiecewiseStep`].
    PiecewiseStep(PiecewiseStep),
}

impl Device {
    /// The shared pulsed parameters, or `None` for `Ideal`.
    pub fn common(&self) -> Option<PulsedCommon> {
        Some(match self {
            Device::Ideal => return None,
            Device::ConstantStep(d) => d.common(),
            Device::LinearStep(d) => d.common(),
            Device::SoftBounds(d) => d.common(),
            Device::SoftBoundsReference(d) => d.common(),
            Device::ExpStep(d) => d.common(),
            Device::PowStep(d) => d.common(),
            Device::PiecewiseStep(d) => d.common(),
        })
    }

    /// The variant name as written in a file.
    pub fn name(&self) -> &'static str {
        match self {
            Device::Ideal => "Ideal",
            Device::ConstantStep(_) => "ConstantStep",
            Device::LinearStep(_) => "LinearStep",
            Device::SoftBounds(_) => "SoftBounds",
            Device::SoftBoundsReference(_) => "SoftBoundsReference",
            Device::ExpStep(_) => "ExpStep",
            Device::PowStep(_) => "PowStep",
            Device::PiecewiseStep(_) => "PiecewiseStep",
        }
    }

    /// Range-check every parameter; `path` prefixes the field names in errors.
    pub fn validate(&self, path: &str) -> Result<(), SpecError> {
        let Some(c) = self.common() else {
            return Ok(());
        };
        let p = |f: &str| format!("{path}.{f}");
        check::positive(&p("dw_min"), c.dw_min)?;
        check::non_negative(&p("dw_min_dtod"), c.dw_min_dtod)?;
        check::non_negative(&p("dw_min_std"), c.dw_min_std)?;
        check::within(&p("up_down"), c.up_down, -1.0, 1.0)?;
        check::non_negative(&p("up_down_dtod"), c.up_down_dtod)?;
        check::at_most(&p("w_min"), c.w_min, 0.0)?;
        check::non_negative(&p("w_max"), c.w_max)?;
        if c.w_max <= c.w_min {
            return Err(SpecError::OutOfRange {
                field: p("w_max"),
                expected: format!("> w_min = {}", super::shown(c.w_min)),
                value: super::shown(c.w_max),
            });
        }
        check::non_negative(&p("w_min_dtod"), c.w_min_dtod)?;
        check::non_negative(&p("w_max_dtod"), c.w_max_dtod)?;
        check::within(&p("corrupt_devices_prob"), c.corrupt_devices_prob, 0.0, 1.0)?;
        check::non_negative(&p("corrupt_devices_range"), c.corrupt_devices_range)?;
        check::non_negative(&p("lifetime"), c.lifetime)?;
        check::non_negative(&p("lifetime_dtod"), c.lifetime_dtod)?;
        check::non_negative(&p("diffusion"), c.diffusion)?;
        check::non_negative(&p("diffusion_dtod"), c.diffusion_dtod)?;
        check::finite(&p("reset"), c.reset)?;
        check::non_negative(&p("reset_dtod"), c.reset_dtod)?;
        check::non_negative(&p("reset_std"), c.reset_std)?;
        check::non_negative(&p("write_noise_std"), c.write_noise_std)?;
        match self {
            Device::LinearStep(d) => {
                check::finite(&p("gamma_up"), d.gamma_up)?;
                check::finite(&p("gamma_down"), d.gamma_down)?;
                check::non_negative(&p("gamma_up_dtod"), d.gamma_up_dtod)?;
                check::non_negative(&p("gamma_down_dtod"), d.gamma_down_dtod)?;
            }
            Device::SoftBoundsReference(d) => {
                check::non_negative(&p("slope_up_dtod"), d.slope_up_dtod)?;
                check::non_negative(&p("slope_down_dtod"), d.slope_down_dtod)?;
                check::finite(&p("reference_mean"), d.reference_mean)?;
                check::non_negative(&p("reference_std"), d.reference_std)?;
            }
            Device::ExpStep(d) => {
                check::finite(&p("a_up"), d.a_up)?;
                check::finite(&p("a_down"), d.a_down)?;
                check::finite(&p("gamma_up"), d.gamma_up)?;
                check::finite(&p("gamma_down"), d.gamma_down)?;
                check::finite(&p("a"), d.a)?;
                check::finite(&p("b"), d.b)?;
                check::non_negative(&p("dw_min_std_add"), d.dw_min_std_add)?;
                check::non_negative(&p("dw_min_std_slope"), d.dw_min_std_slope)?;
                let g = crate::device::exp_step_factors_at_zero(d);
                if !(g.0 + g.1 > 0.0 && g.0.is_finite() && g.1.is_finite()) {
                    return Err(SpecError::Inconsistent(format!(
                        "{path}: ExpStep steps at w = 0 must be finite and not both zero (up factor {}, down factor {})",
                        g.0, g.1
                    )));
                }
            }
            Device::PowStep(d) => {
                check::positive(&p("pow_gamma"), d.pow_gamma)?;
                check::non_negative(&p("pow_gamma_dtod"), d.pow_gamma_dtod)?;
                check::within(&p("pow_up_down"), d.pow_up_down, -1.0, 1.0)?;
                check::non_negative(&p("pow_up_down_dtod"), d.pow_up_down_dtod)?;
            }
            Device::PiecewiseStep(d) => {
                if d.piecewise_up.is_empty() || d.piecewise_up.len() != d.piecewise_down.len() {
                    return Err(SpecError::Inconsistent(format!(
                        "{path}.piecewise_up and {path}.piecewise_down must be non-empty and of equal length (got {} and {})",
                        d.piecewise_up.len(),
                        d.piecewise_down.len()
                    )));
                }
                for (i, v) in d.piecewise_up.iter().enumerate() {
                    check::non_negative(&p(&format!("piecewise_up[{i}]")), *v)?;
                }
                for (i, v) in d.piecewise_down.iter().enumerate() {
                    check::non_negative(&p(&format!("piecewise_down[{i}]")), *v)?;
                }
            }
            _ => {}
        }
        Ok(())
    }
}

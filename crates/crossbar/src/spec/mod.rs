//! The hardware description: serde types of a `device-models/*.ron` file, and their validation.
//!
//! A file is one [`Hardware`] value:
//! `Hardware(device: ..., update: ..., io: ..., faults: ..., drift: ..., periphery: ..., mapping: ...)`.
//! Field names, units and defaults follow IBM's aihwkit (Rasch et al. 2021), so published parameter
//! sets can be pasted. Every omitted device field takes aihwkit's Python default; every omitted
//! *section* is ideal, so `Hardware(device: ConstantStep((dw_min: 0.01)))` is a complete file.
//! Deserialising validates (a semantic error is a deserialisation error naming the field);
//! values built in code are checked with [`Hardware::validate`].

mod circuit;
mod cost;
mod device;
mod io;

pub use circuit::{Compensation, Drift, Faults, Mapping, PcmLike, Periphery};
pub use cost::{Area, Cost, Energy, Latency};
pub use device::{
    ConstantStep, Device, ExpStep, LinearStep, PiecewiseStep, PowStep, PulsedCommon, SoftBounds,
    SoftBoundsReference,
};
pub use io::{
    BoundManagement, Io, NoiseManagement, PulseCoincidence, StochasticRounding, UpdateScheme,
    WeightNoiseType,
};

use serde::{Deserialize, Serialize};
use thiserror::Error;

/// A hardware description that is out of range or inconsistent.
#[derive(Clone, Debug, PartialEq, Error)]
pub enum SpecError {
    /// A parameter outside its valid range; `field` is the path inside `Hardware`.
    #[error("{field} must be {expected} (got {value})")]
    OutOfRange {
        /// Path of the field, e.g. `device.dw_min`.
        field: String,
        /// The valid range in words, e.g. `> 0`.
        expected: String,
        /// The offending value as written.
        value: String,
    },
    /// Two sections that cannot be combined.
    #[error("{0}")]
    Inconsistent(String),
}

/// A number as messages show it: its shortest round-trip form (of its own type, so an f32 `0.7`
/// stays `0.7`), in scientific notation where the plain form would be long
/// (`1.7976931348623157e308`, `2.2250738585072014e-308`, not 300 digits).
pub fn shown<T>(v: T) -> String
where
    T: Copy + Into<f64> + std::fmt::Display + std::fmt::LowerExp,
{
    let magnitude = v.into().abs();
    if magnitude.is_finite() && magnitude != 0.0 && !(1e-5..1e16).contains(&magnitude) {
        format!("{v:e}")
    } else {
        v.to_string()
    }
}

/// What a message says about `v` against `rule` (a range in words, e.g. `>= 0` or `in [0, 1]`):
/// `must be {rule} (got v)`, or `must be finite (got v)` for NaN and ±∞, which no range of a
/// physical quantity admits (an infinity would satisfy `>= 0`).
pub fn must_be<T>(rule: &str, v: T) -> String
where
    T: Copy + Into<f64> + std::fmt::Display + std::fmt::LowerExp,
{
    if v.into().is_finite() {
        format!("must be {rule} (got {})", shown(v))
    } else {
        format!("must be finite (got {v})")
    }
}

/// Range checks shared by every section: each returns an error naming `path`. A NaN or an
/// infinity fails each of them as "must be finite"; bounds are shown readably ([`shown`]).
pub(crate) mod check {
    use super::{SpecError, shown};

    fn fail(path: &str, expected: &str, v: f64) -> SpecError {
        SpecError::OutOfRange {
            field: path.to_string(),
            expected: if v.is_finite() {
                expected.to_string()
            } else {
                "finite".to_string()
            },
            value: shown(v),
        }
    }

    /// Finite and strictly positive.
    pub fn positive(path: &str, v: f64) -> Result<(), SpecError> {
        if v.is_finite() && v > 0.0 {
            Ok(())
        } else {
            Err(fail(path, "> 0", v))
        }
    }

    /// Finite and not negative.
    pub fn non_negative(path: &str, v: f64) -> Result<(), SpecError> {
        at_least(path, v, 0.0)
    }

    /// Finite and at least `lo`.
    pub fn at_least(path: &str, v: f64, lo: f64) -> Result<(), SpecError> {
        if v.is_finite() && v >= lo {
            Ok(())
        } else {
            Err(fail(path, &format!(">= {}", shown(lo)), v))
        }
    }

    /// Finite and at most `hi`.
    pub fn at_most(path: &str, v: f64, hi: f64) -> Result<(), SpecError> {
        if v.is_finite() && v <= hi {
            Ok(())
        } else {
            Err(fail(path, &format!("<= {}", shown(hi)), v))
        }
    }

    /// Any finite number.
    pub fn finite(path: &str, v: f64) -> Result<(), SpecError> {
        if v.is_finite() {
            Ok(())
        } else {
            Err(fail(path, "finite", v))
        }
    }

    /// Within the closed interval [lo, hi].
    pub fn within(path: &str, v: f64, lo: f64, hi: f64) -> Result<(), SpecError> {
        if v.is_finite() && v >= lo && v <= hi {
            Ok(())
        } else {
            Err(fail(path, &format!("in [{}, {}]", shown(lo), shown(hi)), v))
        }
    }

    /// Within the half-open interval (0, hi]: a positive fraction or share.
    pub fn positive_at_most(path: &str, v: f64, hi: f64) -> Result<(), SpecError> {
        if v.is_finite() && v > 0.0 && v <= hi {
            Ok(())
        } else {
            Err(fail(path, &format!("in (0, {}]", shown(hi)), v))
        }
    }

    /// An integer count within [lo, hi].
    pub fn count(path: &str, v: u32, lo: u32, hi: u32) -> Result<(), SpecError> {
        if (lo..=hi).contains(&v) {
            Ok(())
        } else {
            Err(SpecError::OutOfRange {
                field: path.to_string(),
                expected: format!("in [{lo}, {hi}]"),
                value: v.to_string(),
            })
        }
    }
}

/// One hardware description: the synapse devices, how updates become pulses, the read converters,
/// faults, retention drift, the neuron-circuit mismatch and the weight mapping.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "Unchecked")]
pub struct Hardware {
    /// The synapse device model (default `Ideal`: exact floating-point weights).
    pub device: Device,
    /// How a weight update becomes device pulses (default `FloatingPoint`: exact).
    pub update: UpdateScheme,
    /// The read (MVM) converters and noise; omitted = ideal reads, `io: ()` = aihwkit's defaults.
    pub io: Io,
    /// Stuck-at faults (default none).
    pub faults: Faults,
    /// Retention drift model applied by `age(t)` (default `None`).
    pub drift: Option<Drift>,
    /// Neuron-circuit (dyad periphery) mismatch (default: perfectly matched).
    pub periphery: Periphery,
    /// How a layer's weights map onto the device range (default: initial max|W| at half the range).
    pub mapping: Mapping,
    /// Energy, latency and area per operation (default `None`: costs are not computed).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cost: Option<Cost>,
}

/// The same fields before validation; deserialisation goes through it so that a range error is
/// reported by the parser, with the position of the hardware value.
#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename = "Hardware")]
struct Unchecked {
    #[serde(default)]
    device: Device,
    #[serde(default)]
    update: UpdateScheme,
    #[serde(default = "Io::ideal")]
    io: Io,
    #[serde(default)]
    faults: Faults,
    #[serde(default)]
    drift: Option<Drift>,
    #[serde(default)]
    periphery: Periphery,
    #[serde(default)]
    mapping: Mapping,
    #[serde(default)]
    cost: Option<Cost>,
}

impl TryFrom<Unchecked> for Hardware {
    type Error = SpecError;
    fn try_from(u: Unchecked) -> Result<Self, SpecError> {
        let hw = Hardware {
            device: u.device,
            update: u.update,
            io: u.io,
            faults: u.faults,
            drift: u.drift,
            periphery: u.periphery,
            mapping: u.mapping,
            cost: u.cost,
        };
        hw.validate()?;
        Ok(hw)
    }
}

impl Default for Hardware {
    fn default() -> Self {
        Self::ideal()
    }
}

impl Hardware {
    /// Exact floating-point hardware: every section ideal.
    pub fn ideal() -> Self {
        Self {
            device: Device::Ideal,
            update: UpdateScheme::FloatingPoint,
            io: Io::ideal(),
            faults: Faults::default(),
            drift: None,
            periphery: Periphery::default(),
            mapping: Mapping::default(),
            cost: None,
        }
    }

    /// True when the arrays this describes compute exactly what [`crate::IdealArray`] computes
    /// (the periphery is not part of the array and is not looked at).
    pub fn is_ideal_array(&self) -> bool {
        matches!(self.device, Device::Ideal)
            && matches!(self.update, UpdateScheme::FloatingPoint)
            && self.io.is_perfect()
            && self.faults.is_none()
            && self.drift.is_none()
            && self.mapping.scale.is_none_or(|s| s == 1.0)
    }

    /// Range-check every parameter and the combinations of sections.
    pub fn validate(&self) -> Result<(), SpecError> {
        self.device.validate("device")?;
        self.update.validate("update")?;
        self.io.validate("io")?;
        self.faults.validate("faults")?;
        if let Some(drift) = &self.drift {
            drift.validate("drift")?;
        }
        self.periphery.validate("periphery")?;
        self.mapping.validate("mapping")?;
        if let Some(cost) = &self.cost {
            cost.validate("cost")?;
        }
        if matches!(self.device, Device::Ideal) {
            if !matches!(self.update, UpdateScheme::FloatingPoint) {
                return Err(SpecError::Inconsistent(format!(
                    "update must be FloatingPoint when device is Ideal (got {}): an ideal device has no pulse size",
                    self.update.name()
                )));
            }
            if self.faults.stuck_at_min > 0.0 || self.faults.stuck_at_max > 0.0 {
                return Err(SpecError::Inconsistent(
                    "faults.stuck_at_min and faults.stuck_at_max need a device with bounds (device is Ideal)"
                        .to_string(),
                ));
            }
        }
        Ok(())
    }
}

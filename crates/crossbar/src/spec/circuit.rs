//! Faults, retention drift, the neuron-circuit mismatch and the weight mapping.

use super::{SpecError, check};
use serde::{Deserialize, Serialize};

/// Devices stuck at a bound, sampled once per device from the seed.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Faults {
    /// Fraction of devices stuck at their own lower bound b_min; default 0; in [0, 1].
    pub stuck_at_min: f64,
    /// Fraction of devices stuck at their own upper bound b_max; default 0; in [0, 1].
    pub stuck_at_max: f64,
    /// Fraction of devices stuck at weight 0; default 0; in [0, 1].
    pub stuck_at_zero: f64,
}

impl Faults {
    /// True when no device is faulty.
    pub fn is_none(&self) -> bool {
        self.stuck_at_min == 0.0 && self.stuck_at_max == 0.0 && self.stuck_at_zero == 0.0
    }

    /// Range-check the fractions; they must sum to at most 1.
    pub fn validate(&self, path: &str) -> Result<(), SpecError> {
        check::within(&format!("{path}.stuck_at_min"), self.stuck_at_min, 0.0, 1.0)?;
        check::within(&format!("{path}.stuck_at_max"), self.stuck_at_max, 0.0, 1.0)?;
        check::within(
            &format!("{path}.stuck_at_zero"),
            self.stuck_at_zero,
            0.0,
            1.0,
        )?;
        let sum = self.stuck_at_min + self.stuck_at_max + self.stuck_at_zero;
        check::within(
            &format!("{path}.stuck_at_min + stuck_at_max + stuck_at_zero"),
            sum,
            0.0,
            1.0,
        )
    }
}

/// How drifted outputs are rescaled (aihwkit drift compensation).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum Compensation {
    /// No compensation.
    None,
    /// One factor per array: mean|W| at programming over mean|W| now (the default).
    #[default]
    Global,
}

/// The PCM-like inference model (aihwkit `PCMLikeNoiseModel`, Nandakumar et al. ICECS 2019).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct PcmLike {
    /// Conductance the largest |W| maps to (µS); default 25; > 0.
    pub g_max: f64,
    /// Conductance offset of both devices of a pair (µS); default 0; in [0, g_max).
    pub g_min: f64,
    /// Time of the first read after programming (s); default 20; > 0.
    pub t0: f64,
    /// Read duration of the 1/f noise fit (s); default 250e-9; > 0.
    pub t_read: f64,
    /// Scale of the programming noise; default 1; >= 0.
    pub prog_noise_scale: f64,
    /// Scale of the drift exponent ν; default 1; >= 0.
    pub drift_scale: f64,
    /// Scale of the 1/f read noise; default 1; >= 0.
    pub read_noise_scale: f64,
    /// Output rescaling after drift; default `Global`.
    pub compensation: Compensation,
}

impl Default for PcmLike {
    fn default() -> Self {
        Self {
            g_max: 25.0,
            g_min: 0.0,
            t0: 20.0,
            t_read: 250e-9,
            prog_noise_scale: 1.0,
            drift_scale: 1.0,
            read_noise_scale: 1.0,
            compensation: Compensation::Global,
        }
    }
}

/// A retention (inference) drift model, applied by `Crossbar::age`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum Drift {
    /// See [`PcmLike`].
    PcmLike(PcmLike),
}

impl Drift {
    /// Range-check every parameter.
    pub fn validate(&self, path: &str) -> Result<(), SpecError> {
        let Drift::PcmLike(d) = self;
        let p = |f: &str| format!("{path}.{f}");
        check::positive(&p("g_max"), d.g_max)?;
        check::within(&p("g_min"), d.g_min, 0.0, d.g_max)?;
        if d.g_min >= d.g_max {
            return Err(SpecError::OutOfRange {
                field: p("g_min"),
                expected: format!("< g_max = {}", super::shown(d.g_max)),
                value: super::shown(d.g_min),
            });
        }
        check::positive(&p("t0"), d.t0)?;
        check::positive(&p("t_read"), d.t_read)?;
        check::non_negative(&p("prog_noise_scale"), d.prog_noise_scale)?;
        check::non_negative(&p("drift_scale"), d.drift_scale)?;
        check::non_negative(&p("read_noise_scale"), d.read_noise_scale)
    }
}

/// Mismatch of the dyadic neuron circuit, sampled per neuron into [`crate::NeuronMismatch`].
///
/// The nudging asymmetry α is realised by two circuits: the one mixing the compartments into the
/// mean s̄ gets α + alpha_std·ξ, and the one splitting the top-down signal gets the same deviation
/// plus an independent alpha_split_std·ξ′, so alpha_split_std alone sets the leak ε = α_mix − α_fb.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Periphery {
    /// Spread of α shared by both circuits of a neuron (absolute); default 0; >= 0.
    pub alpha_std: f64,
    /// Extra, independent spread of the split circuit's α (absolute); default 0; >= 0.
    pub alpha_split_std: f64,
    /// Spread of the activation gain gᵢ = 1 + act_gain_std·ξ (relative); default 0; >= 0.
    pub act_gain_std: f64,
    /// Spread of the activation offset oᵢ = act_offset_std·ξ (activation units); default 0; >= 0.
    pub act_offset_std: f64,
    /// Spread of the output nudge-strength gain βᵢ/β = 1 + beta_gain_std·ξ (relative); default 0; >= 0.
    pub beta_gain_std: f64,
    /// Noise added to every compartment update (activation units); default 0; >= 0.
    pub compartment_noise: f64,
    /// Compartment leak rate in circuit mode (1/τ units); default 0; >= 0.
    pub leak: f64,
}

impl Periphery {
    /// Range-check every parameter.
    pub fn validate(&self, path: &str) -> Result<(), SpecError> {
        let p = |f: &str| format!("{path}.{f}");
        check::non_negative(&p("alpha_std"), self.alpha_std)?;
        check::non_negative(&p("alpha_split_std"), self.alpha_split_std)?;
        check::non_negative(&p("act_gain_std"), self.act_gain_std)?;
        check::non_negative(&p("act_offset_std"), self.act_offset_std)?;
        check::non_negative(&p("beta_gain_std"), self.beta_gain_std)?;
        check::non_negative(&p("compartment_noise"), self.compartment_noise)?;
        check::non_negative(&p("leak"), self.leak)
    }
}

/// How a layer's network weights W map onto device weights w: W = scale·(w − c).
///
/// c is 0 for devices whose range contains 0 inside it, and the range midpoint for one-sided
/// devices (w_min = 0 or w_max = 0). Unless `scale` is given, it is chosen when the array is
/// built so that the initial max|W| lands at `max_fraction` of the half-range
/// ρ = min(w_max − c, c − w_min): scale = max|W₀| / (max_fraction·ρ) (1 if W₀ = 0).
/// Ideal devices use scale 1 unless `scale` is given.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Mapping {
    /// Fraction of the half-range the initial max|W| maps to; default 0.5; in (0, 1].
    pub max_fraction: f64,
    /// A fixed scale (network weight per device weight) instead of the rule; default None; > 0.
    pub scale: Option<f64>,
}

impl Default for Mapping {
    fn default() -> Self {
        Self {
            max_fraction: 0.5,
            scale: None,
        }
    }
}

impl Mapping {
    /// Range-check every parameter.
    pub fn validate(&self, path: &str) -> Result<(), SpecError> {
        check::positive_at_most(&format!("{path}.max_fraction"), self.max_fraction, 1.0)?;
        if let Some(s) = self.scale {
            check::positive(&format!("{path}.scale"), s)?;
        }
        Ok(())
    }
}

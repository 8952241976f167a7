//! The read converters (aihwkit `IOParameters`) and the update schemes (aihwkit `UpdateParameters`).

use super::{SpecError, check};
use serde::{Deserialize, Serialize};

/// How the input of a read is scaled into the DAC range (aihwkit `NoiseManagementType`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum NoiseManagement {
    /// No scaling (α = 1).
    None,
    /// α = max|x| per sample, capped at `nm_thres` if that is > 0 (the default).
    #[default]
    AbsMax,
    /// α = max x per sample, capped at `nm_thres` if that is > 0.
    Max,
    /// α = `nm_thres` (1 if `nm_thres` is 0).
    Constant,
}

/// What a forward read does when the ADC saturates (aihwkit `BoundManagementType`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum BoundManagement {
    /// Accept the saturated output.
    None,
    /// Halve the input and read again until nothing saturates or a limit is reached (the default).
    #[default]
    Iterative,
}

/// The output-referred weight read noise (aihwkit `WeightNoiseType`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum WeightNoiseType {
    /// No weight read noise, whatever `w_noise` says.
    None,
    /// y_i += w_noise·‖x̃‖₂·ξ (default here, see docs/DEVICES.md).
    #[default]
    AdditiveConstant,
    /// y_i += w_noise·√(Σ_j |W_ij|·x̃_j²)·ξ.
    #[serde(alias = "PCMRead")]
    PcmRead,
}

/// The read (MVM) pipeline: DAC, analog product with noise, ADC, noise and bound management.
///
/// Omitting the `io` section gives ideal reads; writing `io: ()` gives aihwkit's defaults (a 7-bit
/// DAC, a 9-bit ADC bounded at 12, output noise 0.06). Units: inputs after noise management are
/// in [-inp_bound, inp_bound]; outputs are in units of (device weight × scaled input).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Io {
    /// Bypass every stage (an exact product); default false.
    pub is_perfect: bool,
    /// DAC resolution as a fraction of the full range 2·inp_bound (values > 1 are a number of
    /// steps); 0 = no quantisation; default 1/126 (7 bits); >= 0.
    pub inp_res: f64,
    /// DAC clipping bound; 0 = no clipping; default 1.0; >= 0.
    pub inp_bound: f64,
    /// Gaussian noise added to every DAC output; default 0; >= 0.
    pub inp_noise: f64,
    /// ADC resolution as a fraction of the full range 2·out_bound (values > 1 are a number of
    /// steps); 0 = no quantisation; default 1/510 (9 bits); >= 0.
    pub out_res: f64,
    /// ADC saturation bound; 0 = no saturation; default 12.0; >= 0.
    pub out_bound: f64,
    /// Standard deviation of the additive output noise; default 0.06; >= 0.
    pub out_noise: f64,
    /// Output-to-output spread of out_noise, fixed per output line, relative; default 0; >= 0.
    pub out_noise_std: f64,
    /// Weight read noise scale; default 0; >= 0.
    pub w_noise: f64,
    /// Form of the weight read noise; default `AdditiveConstant`.
    pub w_noise_type: WeightNoiseType,
    /// Input scaling before the DAC; default `AbsMax`.
    pub noise_management: NoiseManagement,
    /// Threshold (or constant) of noise management; 0 = none; default 0; >= 0.
    pub nm_thres: f64,
    /// Saturation handling of forward reads; default `Iterative`.
    pub bound_management: BoundManagement,
    /// Largest input reduction factor of iterative bound management; default 1000; >= 1.
    pub max_bm_factor: f64,
    /// Smallest effective input resolution bound management may reach; default 0.25; > 0.
    pub max_bm_res: f64,
}

impl Default for Io {
    /// aihwkit's default IO parameters.
    fn default() -> Self {
        Self {
            is_perfect: false,
            inp_res: 1.0 / 126.0,
            inp_bound: 1.0,
            inp_noise: 0.0,
            out_res: 1.0 / 510.0,
            out_bound: 12.0,
            out_noise: 0.06,
            out_noise_std: 0.0,
            w_noise: 0.0,
            w_noise_type: WeightNoiseType::AdditiveConstant,
            noise_management: NoiseManagement::AbsMax,
            nm_thres: 0.0,
            bound_management: BoundManagement::Iterative,
            max_bm_factor: 1000.0,
            max_bm_res: 0.25,
        }
    }
}

impl Io {
    /// Exact reads (what an omitted `io` section means).
    pub fn ideal() -> Self {
        Self {
            is_perfect: true,
            ..Self::default()
        }
    }

    /// True when no stage changes the exact product, so reads may skip the pipeline.
    pub fn is_perfect(&self) -> bool {
        self.is_perfect
            || (self.inp_res == 0.0
                && self.inp_bound == 0.0
                && self.inp_noise == 0.0
                && self.out_res == 0.0
                && self.out_bound == 0.0
                && self.out_noise == 0.0
                && (self.w_noise == 0.0 || self.w_noise_type == WeightNoiseType::None))
    }

    /// Range-check every parameter.
    pub fn validate(&self, path: &str) -> Result<(), SpecError> {
        let p = |f: &str| format!("{path}.{f}");
        check::non_negative(&p("inp_res"), self.inp_res)?;
        check::non_negative(&p("inp_bound"), self.inp_bound)?;
        check::non_negative(&p("inp_noise"), self.inp_noise)?;
        check::non_negative(&p("out_res"), self.out_res)?;
        check::non_negative(&p("out_bound"), self.out_bound)?;
        check::non_negative(&p("out_noise"), self.out_noise)?;
        check::non_negative(&p("out_noise_std"), self.out_noise_std)?;
        check::non_negative(&p("w_noise"), self.w_noise)?;
        check::non_negative(&p("nm_thres"), self.nm_thres)?;
        check::at_least(&p("max_bm_factor"), self.max_bm_factor, 1.0)?;
        check::positive(&p("max_bm_res"), self.max_bm_res)?;
        if self.inp_res > 0.0 && self.inp_bound == 0.0 {
            return Err(SpecError::Inconsistent(format!(
                "{path}.inp_res needs a DAC range: {path}.inp_bound must be > 0 when inp_res > 0"
            )));
        }
        if self.out_res > 0.0 && self.out_bound == 0.0 {
            return Err(SpecError::Inconsistent(format!(
                "{path}.out_res needs an ADC range: {path}.out_bound must be > 0 when out_res > 0"
            )));
        }
        Ok(())
    }
}

/// Stochastic rounding of the desired update into pulses: n = ⌊ΔW/Δw_g + U(0,1)⌋, |n| ≤ max_pulses.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct StochasticRounding {
    /// Largest number of pulses one device receives per update; default 31; in [1, 65535].
    pub max_pulses: u32,
    /// Apply a device's n pulses as one draw with the exact mean and variance of n unclipped
    /// pulses, clipped once (ConstantStep, LinearStep, SoftBounds, SoftBoundsReference only; the
    /// other models always pulse one by one). Faster for many pulses; default false (exact).
    pub aggregate: bool,
}

impl Default for StochasticRounding {
    fn default() -> Self {
        Self {
            max_pulses: 31,
            aggregate: false,
        }
    }
}

/// Stochastic pulse trains on rows and columns; a device steps where both fire
/// (aihwkit `PulseType.StochasticCompressed` with its update management).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct PulseCoincidence {
    /// Pulse-train length BL (the maximum under bit-length management); default 31; in [1, 65535].
    pub desired_bl: u32,
    /// Keep BL fixed when bit-length management is off; default true.
    pub fixed_bl: bool,
    /// Balance the row and column probabilities by max|x| and max|d|; default true.
    pub update_management: bool,
    /// Shorten BL per sample to ⌈η·max|x|·max|d|/Δw_g⌉ (forces update management); default true.
    pub update_bl_management: bool,
}

impl Default for PulseCoincidence {
    fn default() -> Self {
        Self {
            desired_bl: 31,
            fixed_bl: true,
            update_management: true,
            update_bl_management: true,
        }
    }
}

/// How a weight update becomes device pulses.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum UpdateScheme {
    /// Add the update exactly (clipped to the device bounds): aihwkit's pulse type `None`.
    #[default]
    FloatingPoint,
    /// See [`StochasticRounding`].
    StochasticRounding(StochasticRounding),
    /// See [`PulseCoincidence`].
    PulseCoincidence(PulseCoincidence),
}

impl UpdateScheme {
    /// The variant name as written in a file.
    pub fn name(&self) -> &'static str {
        match self {
            UpdateScheme::FloatingPoint => "FloatingPoint",
            UpdateScheme::StochasticRounding(_) => "StochasticRounding",
            UpdateScheme::PulseCoincidence(_) => "PulseCoincidence",
        }
    }

    /// Range-check every parameter.
    pub fn validate(&self, path: &str) -> Result<(), SpecError> {
        match self {
            UpdateScheme::FloatingPoint => Ok(()),
            UpdateScheme::StochasticRounding(s) => {
                check::count(&format!("{path}.max_pulses"), s.max_pulses, 1, 65535)
            }
            UpdateScheme::PulseCoincidence(p) => {
                check::count(&format!("{path}.desired_bl"), p.desired_bl, 1, 65535)
            }
        }
    }
}

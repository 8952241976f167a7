//! Which learning algorithm runs and how its dyads settle, as an experiment names it.

use crate::loss::Loss;
use serde::{Deserialize, Serialize};
use thiserror::Error;

pub use crate::dynamics::{Circuit, Damping, Dynamics, HiddenAlpha, NudgeAt, OutputMode};
pub use crate::schedule::Schedule;

/// The learning algorithm.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default, Serialize, Deserialize)]
pub enum AlgorithmKind {
    /// DP⊤, the adjoint (Lagrangian) form of dual propagation: stable for every α.
    #[default]
    DpTop,
    /// The original dual propagation: the α share of the feedback goes to s⁺; stable only at α = ½.
    Dp,
    /// DP with every hidden update averaged with the previous state, damping Lₖ from ‖Wₖ₊₁‖₂.
    DampedDp,
    /// Exact backpropagation of the same network, the baseline.
    Backprop,
    /// Backpropagation on input-adversarial examples x' = x + β·∇ₓℓ (the baseline for α = 0).
    AdversarialBackprop,
}

impl AlgorithmKind {
    /// True for the algorithms that settle dyads (DP, DP⊤, damped DP).
    pub fn settles(self) -> bool {
        matches!(self, Self::DpTop | Self::Dp | Self::DampedDp)
    }
}

/// Options of damped DP.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DampingOptions {
    /// Multiply the damping by |1 − 2α| (the authors' Julia code) rather than 1 (their Python code). Default: true.
    #[serde(default = "yes")]
    pub alpha_factor: bool,
    /// Power-iteration steps for the spectral norms γₖ (≥ 1). Default: 20.
    #[serde(default = "DampingOptions::default_iterations")]
    pub power_iterations: usize,
    /// Settling passes of damped DP, where it needs more than the others (the authors' MLP code:
    /// 15 rounds against 5). Default: `passes`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub passes: Option<usize>,
}

/// Options of the original DP.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DpOptions {
    /// α of every hidden layer, in both the mean and the feedback split (α_fb = 1 − α as for DP),
    /// so that `alpha` acts only through the output dyad: `Some(0.5)` is the authors' "old style"
    /// DP (mode 1 of their MLP code). Default: `alpha` everywhere.
    #[serde(default)]
    pub hidden_alpha: Option<f32>,
}

fn yes() -> bool {
    true
}

impl DampingOptions {
    fn default_iterations() -> usize {
        20
    }
}

impl Default for DampingOptions {
    fn default() -> Self {
        Self {
            alpha_factor: true,
            power_iterations: Self::default_iterations(),
            passes: None,
        }
    }
}

impl DpOptions {
    fn is_default(&self) -> bool {
        *self == Self::default()
    }
}

/// An algorithm with its parameters, as an experiment names it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Algorithm {
    /// Which algorithm.
    pub kind: AlgorithmKind,
    /// Nudging asymmetry α ∈ [0, 1]: the weight of s⁺ in the mean state. Default: 0.5.
    #[serde(default = "Algorithm::default_alpha")]
    pub alpha: f32,
    /// Nudging strength β > 0 (for adversarial backprop: the input step). Default: 0.1.
    #[serde(default = "Algorithm::default_beta")]
    pub beta: f32,
    /// Settling passes K in [1, 10⁷]. Default: 4.
    #[serde(default = "Algorithm::default_passes")]
    pub passes: usize,
    /// Layer order within a pass. Default: `Forward`.
    #[serde(default)]
    pub schedule: Schedule,
    /// Where the explicit output nudge is evaluated. Default: `Auto`.
    #[serde(default)]
    pub nudge_at: NudgeAt,
    /// Stop settling early once the largest compartment change of a pass is below this (off if absent).
    #[serde(default)]
    pub tolerance: Option<f32>,
    /// How the output dyad is nudged. Default: `Explicit`.
    #[serde(default)]
    pub output: OutputMode,
    /// Damped-DP options (read only by `DampedDp`).
    #[serde(default)]
    pub damping: DampingOptions,
    /// DP options (read only by `Dp`).
    #[serde(default, skip_serializing_if = "DpOptions::is_default")]
    pub dp: DpOptions,
    /// Settle in continuous time with these circuit parameters instead of the schedule (off if absent).
    #[serde(default)]
    pub circuit: Option<Circuit>,
    /// Override of α as used in the mean s̄ (default: α), to simulate a leak ε = α_mix − α_fb.
    #[serde(default)]
    pub alpha_mix: Option<f32>,
    /// Override of the feedback split α_fb (default: α for DP⊤, 1 − α for DP).
    #[serde(default)]
    pub alpha_fb: Option<f32>,
    /// Skip unchanged reads and stop at an exact fixed point (see [`Dynamics::skip_unchanged`]). Default: false.
    #[serde(default)]
    pub skip_unchanged: bool,
}

impl Default for Algorithm {
    fn default() -> Self {
        Self {
            kind: AlgorithmKind::DpTop,
            alpha: Self::default_alpha(),
            beta: Self::default_beta(),
            passes: Self::default_passes(),
            schedule: Schedule::Forward,
            nudge_at: NudgeAt::Auto,
            tolerance: None,
            output: OutputMode::Explicit,
            damping: DampingOptions::default(),
            dp: DpOptions::default(),
            circuit: None,
            alpha_mix: None,
            alpha_fb: None,
            skip_unchanged: false,
        }
    }
}

/// A parameter of [`Algorithm`] out of its valid range; [`AlgorithmError::field`] names it.
#[derive(Clone, Debug, PartialEq, Error)]
#[error("{} {}", self.field(), self.expected())]
pub enum AlgorithmError {
    /// α outside [0, 1].
    Alpha(f32),
    /// β not a positive finite number.
    Beta(f32),
    /// K = 0 or K above [`Algorithm::MAX_PASSES`].
    Passes(usize),
    /// A negative or non-finite tolerance.
    Tolerance(f32),
    /// An α override outside [0, 1].
    AlphaOverride {
        /// `alpha_mix` or `alpha_fb`.
        field: &'static str,
        /// The value given.
        value: f32,
    },
    /// The exact MSE output is undefined: its s⁻ denominator 1 − α_fb·β is not positive.
    ExactOutputUndefined {
        /// The feedback split α_fb.
        alpha_fb: f32,
        /// The nudging strength β.
        beta: f32,
    },
    /// The exact output minimises the MSE only.
    ExactNeedsMse(Loss),
    /// Damped DP without power iterations.
    PowerIterations,
    /// Damped DP with zero passes.
    DampedPasses,
    /// A hidden α outside [0, 1].
    HiddenAlpha(f32),
    /// A hidden α together with the α overrides, which would leave the hidden split ambiguous.
    HiddenAlphaWithOverride,
    /// A circuit parameter out of range.
    Circuit {
        /// The field.
        field: &'static str,
        /// What was expected.
        expected: &'static str,
        /// The value given.
        value: f32,
    },
}

impl AlgorithmError {
    /// The path of the offending field inside [`Algorithm`], e.g. `alpha` or `circuit.dt`.
    pub fn field(&self) -> String {
        match self {
            Self::Alpha(_) => "alpha".into(),
            Self::Beta(_) => "beta".into(),
            Self::Passes(_) => "passes".into(),
            Self::Tolerance(_) => "tolerance".into(),
            Self::AlphaOverride { field, .. } => (*field).into(),
            Self::ExactOutputUndefined { .. } | Self::ExactNeedsMse(_) => "output".into(),
            Self::PowerIterations => "damping.power_iterations".into(),
            Self::DampedPasses => "damping.passes".into(),
            Self::HiddenAlpha(_) | Self::HiddenAlphaWithOverride => "dp.hidden_alpha".into(),
            Self::Circuit { field, .. } => format!("circuit.{field}"),
        }
    }

    /// What the field must be and what it was, worded to follow the field's name; a NaN or an
    /// infinity is called what it is (`must be finite (got inf)`), whatever range was asked for.
    pub fn expected(&self) -> String {
        if let Some(v) = self.value().filter(|v| !v.is_finite()) {
            return format!("must be finite (got {v})");
        }
        match self {
            Self::Alpha(v) => format!("must be in [0, 1] (got {v})"),
            Self::Beta(v) => format!("must be a positive finite number (got {v})"),
            Self::Passes(v) => format!("must be in [1, {}] (got {v})", Algorithm::MAX_PASSES),
            Self::Tolerance(v) => format!("must be a positive finite number (got {v})"),
            Self::AlphaOverride { value, .. } => format!("must be in [0, 1] (got {value})"),
            Self::ExactOutputUndefined { alpha_fb, beta } => format!(
                "exact-mse needs alpha_fb * beta < 1 (for DP: (1 - alpha) * beta < 1), got {alpha_fb} * {beta} = {}; use a smaller beta or the explicit output",
                alpha_fb * beta
            ),
            Self::ExactNeedsMse(loss) => format!("exact-mse needs the mse loss (got {loss:?})"),
            Self::PowerIterations | Self::DampedPasses => "must be at least 1 (got 0)".into(),
            Self::HiddenAlpha(v) => format!("must be in [0, 1] (got {v})"),
            Self::HiddenAlphaWithOverride => {
                "cannot be combined with alpha_mix or alpha_fb (they set every layer's split)"
                    .into()
            }
            Self::Circuit {
                expected, value, ..
            } => format!("{expected} (got {value})"),
        }
    }
}

impl AlgorithmError {
    /// The offending number, for the errors about one number.
    fn value(&self) -> Option<f32> {
        match *self {
            Self::Alpha(v) | Self::Beta(v) | Self::Tolerance(v) | Self::HiddenAlpha(v) => Some(v),
            Self::AlphaOverride { value, .. } | Self::Circuit { value, .. } => Some(value),
            _ => None,
        }
    }
}

impl Algorithm {
    /// The most settling passes K a run may ask for (as many as circuit mode's Euler steps): the
    /// residual trace holds one number per pass.
    pub const MAX_PASSES: usize = Circuit::MAX_STEPS;

    fn default_alpha() -> f32 {
        0.5
    }
    fn default_beta() -> f32 {
        0.1
    }
    fn default_passes() -> usize {
        4
    }

    /// Check every parameter's range (without knowing the loss; see [`Algorithm::validate_for`]).
    pub fn validate(&self) -> Result<(), AlgorithmError> {
        if !(0.0..=1.0).contains(&self.alpha) {
            return Err(AlgorithmError::Alpha(self.alpha));
        }
        if !(self.beta.is_finite() && self.beta > 0.0) {
            return Err(AlgorithmError::Beta(self.beta));
        }
        if !(1..=Self::MAX_PASSES).contains(&self.passes) {
            return Err(AlgorithmError::Passes(self.passes));
        }
        if let Some(t) = self.tolerance
            && !(t.is_finite() && t > 0.0)
        {
            return Err(AlgorithmError::Tolerance(t));
        }
        for (field, value) in [("alpha_mix", self.alpha_mix), ("alpha_fb", self.alpha_fb)] {
            if let Some(value) = value
                && !(0.0..=1.0).contains(&value)
            {
                return Err(AlgorithmError::AlphaOverride { field, value });
            }
        }
        if self.kind == AlgorithmKind::DampedDp && self.damping.power_iterations == 0 {
            return Err(AlgorithmError::PowerIterations);
        }
        if self.kind == AlgorithmKind::DampedDp && self.damping.passes == Some(0) {
            return Err(AlgorithmError::DampedPasses);
        }
        if let Some(h) = self.dp.hidden_alpha {
            if !(0.0..=1.0).contains(&h) {
                return Err(AlgorithmError::HiddenAlpha(h));
            }
            if self.alpha_mix.is_some() || self.alpha_fb.is_some() {
                return Err(AlgorithmError::HiddenAlphaWithOverride);
            }
        }
        if let Some(c) = &self.circuit {
            validate_circuit(c)?;
        }
        if self.kind.settles() && self.output == OutputMode::ExactMse {
            let alpha_fb = self.resolved_alpha_fb();
            if alpha_fb * self.beta >= 1.0 {
                return Err(AlgorithmError::ExactOutputUndefined {
                    alpha_fb,
                    beta: self.beta,
                });
            }
        }
        Ok(())
    }

    /// [`Algorithm::validate`] plus the checks that depend on the network's loss.
    pub fn validate_for(&self, loss: Loss) -> Result<(), AlgorithmError> {
        self.validate()?;
        if self.kind.settles()
            && self.resolved_output() == OutputMode::ExactMse
            && loss != Loss::Mse
        {
            return Err(AlgorithmError::ExactNeedsMse(loss));
        }
        Ok(())
    }

    /// The output mode with `Auto` resolved: exact MSE for DP and damped DP, explicit for DP⊤.
    pub fn resolved_output(&self) -> OutputMode {
        match (self.output, self.kind) {
            (OutputMode::Auto, AlgorithmKind::Dp | AlgorithmKind::DampedDp) => OutputMode::ExactMse,
            (OutputMode::Auto, _) => OutputMode::Explicit,
            (o, _) => o,
        }
    }

    /// Why every settle of this algorithm is undefined, if it is: the exact MSE output that
    /// `output: Auto` chose where (1 − α)·β ≥ 1 (for DP). A run records this as its divergence;
    /// an explicit `ExactMse` there is rejected by [`Algorithm::validate`] instead.
    pub fn undefined_output(&self) -> Option<AlgorithmError> {
        let alpha_fb = self.resolved_alpha_fb();
        (self.kind.settles()
            && self.resolved_output() == OutputMode::ExactMse
            && alpha_fb * self.beta >= 1.0)
            .then_some(AlgorithmError::ExactOutputUndefined {
                alpha_fb,
                beta: self.beta,
            })
    }

    fn resolved_alpha_fb(&self) -> f32 {
        self.alpha_fb.unwrap_or(match self.kind {
            AlgorithmKind::DpTop => self.alpha,
            _ => 1.0 - self.alpha,
        })
    }

    /// The settling dynamics of a dual-propagation algorithm (`None` for the backprop baselines).
    pub fn dynamics(&self) -> Option<Dynamics> {
        if !self.kind.settles() {
            return None;
        }
        let nudge_at = match (self.nudge_at, self.kind) {
            (NudgeAt::Auto, AlgorithmKind::DpTop) => NudgeAt::FreePrediction,
            (NudgeAt::Auto, _) => NudgeAt::CurrentDrive,
            (n, _) => n,
        };
        let damping = (self.kind == AlgorithmKind::DampedDp).then(|| Damping {
            scale: if self.damping.alpha_factor {
                (1.0 - 2.0 * self.alpha).abs()
            } else {
                1.0
            },
            power_iterations: self.damping.power_iterations,
        });
        let hidden = match (self.kind, self.dp.hidden_alpha) {
            (AlgorithmKind::Dp, Some(h)) => Some(HiddenAlpha {
                mix: h,
                fb: 1.0 - h,
            }),
            _ => None,
        };
        let passes = match (self.kind, self.damping.passes) {
            (AlgorithmKind::DampedDp, Some(p)) => p,
            _ => self.passes,
        };
        Some(Dynamics {
            alpha_mix: self.alpha_mix.unwrap_or(self.alpha),
            alpha_fb: self.resolved_alpha_fb(),
            hidden,
            beta: self.beta,
            passes,
            schedule: self.schedule,
            nudge_at,
            tolerance: self.tolerance,
            output: self.resolved_output(),
            damping,
            circuit: self.circuit,
            skip_unchanged: self.skip_unchanged,
        })
    }
}

fn validate_circuit(c: &Circuit) -> Result<(), AlgorithmError> {
    let err = |field, expected, value| {
        Err(AlgorithmError::Circuit {
            field,
            expected,
            value,
        })
    };
    if !(c.tau.is_finite() && c.tau > 0.0) {
        return err("tau", "must be a positive finite number", c.tau);
    }
    if !(c.dt.is_finite() && c.dt > 0.0 && c.dt <= c.tau) {
        return err("dt", "must be in (0, tau]", c.dt);
    }
    if !(c.tol.is_finite() && c.tol > 0.0) {
        return err("tol", "must be a positive finite number", c.tol);
    }
    if !(c.t_max.is_finite() && c.t_max >= c.dt) {
        return err("t_max", "must be a finite number at least dt", c.t_max);
    }
    if c.max_steps() > Circuit::MAX_STEPS {
        return err("t_max", "must be at most 1e7 steps of dt", c.t_max);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn non_finite_parameters_are_refused_as_not_finite() {
        let alpha = Algorithm {
            alpha: f32::INFINITY,
            ..Algorithm::default()
        };
        assert_eq!(
            alpha.validate().unwrap_err().to_string(),
            "alpha must be finite (got inf)"
        );
        let circuit = Algorithm {
            circuit: Some(Circuit {
                tau: 1.0,
                dt: f32::NAN,
                tol: 1e-5,
                t_max: 100.0,
            }),
            ..Algorithm::default()
        };
        assert_eq!(
            circuit.validate().unwrap_err().to_string(),
            "circuit.dt must be finite (got NaN)"
        );
        // A finite value out of range keeps its rule.
        let finite = Algorithm {
            alpha: 1.5,
            ..Algorithm::default()
        };
        assert_eq!(
            finite.validate().unwrap_err().to_string(),
            "alpha must be in [0, 1] (got 1.5)"
        );
    }

    #[test]
    fn exact_output_is_rejected_where_undefined() {
        let mut a = Algorithm {
            kind: AlgorithmKind::Dp,
            alpha: 0.0,
            beta: 1.0,
            output: OutputMode::ExactMse,
            ..Algorithm::default()
        };
        let err = a.validate().unwrap_err();
        assert!(matches!(err, AlgorithmError::ExactOutputUndefined { .. }));
        assert!(err.to_string().contains("(1 - alpha) * beta < 1"), "{err}");
        a.beta = 0.99;
        assert_eq!(a.validate(), Ok(()));
        assert_eq!(
            a.validate_for(Loss::CrossEntropy),
            Err(AlgorithmError::ExactNeedsMse(Loss::CrossEntropy))
        );
        a.alpha = 1.0;
        a.beta = 5.0;
        assert_eq!(a.validate_for(Loss::Mse), Ok(()));
    }

    #[test]
    fn dynamics_resolve_the_split_and_the_nudge_point() {
        let a = Algorithm {
            kind: AlgorithmKind::Dp,
            alpha: 0.25,
            ..Algorithm::default()
        };
        let d = a.dynamics().unwrap();
        assert_eq!(
            (d.alpha_mix, d.alpha_fb, d.nudge_at),
            (0.25, 0.75, NudgeAt::CurrentDrive)
        );
        let top = Algorithm {
            kind: AlgorithmKind::DpTop,
            alpha_mix: Some(0.3),
            ..a.clone()
        };
        let d = top.dynamics().unwrap();
        assert_eq!(
            (d.alpha_mix, d.alpha_fb, d.nudge_at),
            (0.3, 0.25, NudgeAt::FreePrediction)
        );
        let damped = Algorithm {
            kind: AlgorithmKind::DampedDp,
            alpha: 1.0,
            ..a
        };
        assert_eq!(damped.dynamics().unwrap().damping.unwrap().scale, 1.0);
        assert!(
            Algorithm {
                kind: AlgorithmKind::Backprop,
                ..Algorithm::default()
            }
            .dynamics()
            .is_none()
        );
    }
}

//! Which learning algorithm runs and how its dyads settle.

use serde::{Deserialize, Serialize};
use thiserror::Error;

/// The learning algorithm.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum AlgorithmKind {
    /// DP⊤, the adjoint (Lagrangian) form of dual propagation: stable for every α.
    DpTop,
    /// The original dual propagation: the α share of the feedback goes to s⁺; stable only at α = ½.
    Dp,
    /// Exact backpropagation of the same network, the baseline.
    Backprop,
}

/// The order in which layers are updated during one settling pass.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Schedule {
    /// Layers 1..L in order, K times.
    Forward,
}

/// Where the output nudge ∇ℓ is evaluated.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default, Serialize, Deserialize)]
pub enum NudgeAt {
    /// At the free forward prediction, once per batch (the authors' Python code).
    #[default]
    FreePrediction,
    /// At the current output drive, every pass (the authors' Julia code).
    CurrentDrive,
}

fn default_schedule() -> Schedule {
    Schedule::Forward
}

/// An algorithm with its parameters, as an experiment names it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Algorithm {
    /// Which algorithm.
    pub kind: AlgorithmKind,
    /// Nudging asymmetry α ∈ [0, 1]: the weight of s⁺ in the mean state.
    #[serde(default = "Algorithm::default_alpha")]
    pub alpha: f32,
    /// Nudging strength β > 0.
    #[serde(default = "Algorithm::default_beta")]
    pub beta: f32,
    /// Settling passes K ≥ 1.
    #[serde(default = "Algorithm::default_passes")]
    pub passes: usize,
    /// Layer order within a pass.
    #[serde(default = "default_schedule")]
    pub schedule: Schedule,
    /// Where the output nudge is evaluated.
    #[serde(default)]
    pub nudge_at: NudgeAt,
    /// Stop settling early once the largest compartment change of a pass is below this (off if absent).
    #[serde(default)]
    pub tolerance: Option<f32>,
}

/// A parameter of [`Algorithm`] out of its valid range.
#[derive(Clone, Debug, PartialEq, Error)]
pub enum AlgorithmError {
    /// α outside [0, 1].
    #[error("alpha must be in [0, 1] (got {0})")]
    Alpha(f32),
    /// β not a positive finite number.
    #[error("beta must be a positive finite number (got {0})")]
    Beta(f32),
    /// K = 0.
    #[error("passes must be at least 1 (got {0})")]
    Passes(usize),
    /// A negative or non-finite tolerance.
    #[error("tolerance must be a positive finite number (got {0})")]
    Tolerance(f32),
}

impl Algorithm {
    fn default_alpha() -> f32 {
        0.5
    }
    fn default_beta() -> f32 {
        0.1
    }
    fn default_passes() -> usize {
        4
    }

    /// Check every parameter's range.
    pub fn validate(&self) -> Result<(), AlgorithmError> {
        if !(0.0..=1.0).contains(&self.alpha) {
            return Err(AlgorithmError::Alpha(self.alpha));
        }
        if !(self.beta.is_finite() && self.beta > 0.0) {
            return Err(AlgorithmError::Beta(self.beta));
        }
        if self.passes == 0 {
            return Err(AlgorithmError::Passes(self.passes));
        }
        if let Some(t) = self.tolerance
            && !(t.is_finite() && t > 0.0)
        {
            return Err(AlgorithmError::Tolerance(t));
        }
        Ok(())
    }

    /// The settling dynamics of a dual-propagation algorithm (`None` for backprop).
    pub fn dynamics(&self) -> Option<Dynamics> {
        let alpha_fb = match self.kind {
            AlgorithmKind::DpTop => self.alpha,
            AlgorithmKind::Dp => 1.0 - self.alpha,
            AlgorithmKind::Backprop => return None,
        };
        Some(Dynamics {
            alpha_mix: self.alpha,
            alpha_fb,
            beta: self.beta,
            passes: self.passes,
            schedule: self.schedule,
            nudge_at: self.nudge_at,
            tolerance: self.tolerance,
        })
    }
}

/// Resolved settling parameters shared by DP and DP⊤.
///
/// Both algorithms use the same mean s̄ = α_mix·s⁺ + (1−α_mix)·s⁻; they differ in how the top-down
/// signal e is split: s⁺ = f(a + (1−α_fb)·e), s⁻ = f(a − α_fb·e). DP⊤ has α_fb = α, DP has
/// α_fb = 1 − α, and the leak ε = α_mix − α_fb is what destabilises DP away from α = ½.
#[derive(Clone, Debug, PartialEq)]
pub struct Dynamics {
    /// Weight of s⁺ in the mean state.
    pub alpha_mix: f32,
    /// Share of the top-down signal given to s⁻ (s⁺ gets the rest).
    pub alpha_fb: f32,
    /// Nudging strength β.
    pub beta: f32,
    /// Maximum number of passes K.
    pub passes: usize,
    /// Layer order within a pass.
    pub schedule: Schedule,
    /// Where ∇ℓ is evaluated.
    pub nudge_at: NudgeAt,
    /// Early-stop threshold on the largest change of a pass.
    pub tolerance: Option<f32>,
}

impl Dynamics {
    /// DP⊤ with the `Forward` schedule and a fixed number of passes.
    pub fn dp_top(alpha: f32, beta: f32, passes: usize) -> Self {
        Self {
            alpha_mix: alpha,
            alpha_fb: alpha,
            beta,
            passes,
            schedule: Schedule::Forward,
            nudge_at: NudgeAt::FreePrediction,
            tolerance: None,
        }
    }

    /// Original DP with the `Forward` schedule and a fixed number of passes.
    pub fn dp(alpha: f32, beta: f32, passes: usize) -> Self {
        Self {
            alpha_fb: 1.0 - alpha,
            ..Self::dp_top(alpha, beta, passes)
        }
    }
}

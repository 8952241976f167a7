//! The resolved settling dynamics shared by DP, DP⊤ and damped DP, and their options.

use crate::schedule::Schedule;
use serde::{Deserialize, Serialize};

/// Where the explicit output nudge ∇ℓ is evaluated.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default, Serialize, Deserialize)]
pub enum NudgeAt {
    /// Chosen by the algorithm: the free prediction for DP⊤, the current drive for DP and damped DP
    /// (as the two forms are defined). A [`Dynamics`] holding `Auto` nudges at the free prediction.
    #[default]
    Auto,
    /// At the free forward prediction, once per batch (the authors' Python code for DP⊤).
    FreePrediction,
    /// At the current output drive, on every output update (the original DP; the authors' Julia code).
    CurrentDrive,
}

/// How the output dyad is nudged.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default, Serialize, Deserialize)]
pub enum OutputMode {
    /// As the authors' MLP code defines each form: `ExactMse` for DP and damped DP, `Explicit` for
    /// DP⊤. Where the exact output is undefined ((1−α)·β ≥ 1 for DP) the run is recorded as
    /// diverged rather than rejected, as a sweep point of their study. A [`Dynamics`] holding
    /// `Auto` nudges explicitly.
    Auto,
    /// s⁺ = a − (1−α_fb)·β·∇ℓ, s⁻ = a + α_fb·β·∇ℓ, with ∇ℓ taken where [`NudgeAt`] says.
    #[default]
    Explicit,
    /// The exact minimiser for MSE: s⁺ = (a + (1−α_fb)·β·y)/(1 + (1−α_fb)·β),
    /// s⁻ = (a − α_fb·β·y)/(1 − α_fb·β); defined only for α_fb·β < 1 (for DP: (1−α)·β < 1).
    ExactMse,
}

/// Damping of the hidden compartment updates (damped DP):
/// s ← f((drive + Lₖ·s_old)/(1 + Lₖ)) with Lₖ = scale·max(0, (γₖ₊₁² − 1)/2).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Damping {
    /// The factor in front of max(0, (γ² − 1)/2): |1 − 2α| (the authors' Julia code) or 1 (their Python code).
    pub scale: f32,
    /// Power-iteration steps used to estimate γₖ₊₁ = ‖Wₖ₊₁‖₂ through array reads, once per batch.
    pub power_iterations: usize,
}

/// Continuous-time settling: τ·ds/dt = −s + target(s) − leak·s (+ noise), integrated by explicit Euler.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Circuit {
    /// Compartment time constant τ (seconds, > 0).
    pub tau: f32,
    /// Euler step (seconds, 0 < dt ≤ τ; dt = τ is the simultaneous (Jacobi) iteration of the updates).
    pub dt: f32,
    /// Stop once max|Δs|·τ/dt (the largest compartment velocity in units of 1/τ) falls below this (> 0).
    pub tol: f32,
    /// Give up at this time (seconds, ≥ dt); the result then reports `converged: false`.
    pub t_max: f32,
}

impl Circuit {
    /// Most Euler steps a circuit may take, so that a typo cannot start a run of days.
    pub const MAX_STEPS: usize = 10_000_000;

    /// Euler steps until t_max.
    pub fn max_steps(&self) -> usize {
        ((self.t_max / self.dt).ceil() as usize).max(1)
    }
}

/// The α of the hidden layers 1..L−1 where it differs from the output's: the authors' "old style"
/// DP keeps α = ½ in every hidden layer and lets α act only through the output dyad.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct HiddenAlpha {
    /// Weight of s⁺ in the hidden layers' mean.
    pub mix: f32,
    /// Share of the hidden layers' top-down signal given to s⁻.
    pub fb: f32,
}

/// Resolved settling parameters shared by DP, DP⊤ and damped DP.
///
/// All use the same mean s̄ = α_mix·s⁺ + (1−α_mix)·s⁻; they differ in how the top-down signal e is
/// split: s⁺ = f(a + (1−α_fb)·e), s⁻ = f(a − α_fb·e). DP⊤ has α_fb = α, DP has α_fb = 1 − α, and
/// the leak ε = α_mix − α_fb is what destabilises DP away from α = ½.
#[derive(Clone, Debug, PartialEq)]
pub struct Dynamics {
    /// Weight of s⁺ in the mean state.
    pub alpha_mix: f32,
    /// Share of the top-down signal given to s⁻ (s⁺ gets the rest).
    pub alpha_fb: f32,
    /// α_mix and α_fb of the hidden layers when they differ from the output's (`None`: the same).
    pub hidden: Option<HiddenAlpha>,
    /// Nudging strength β.
    pub beta: f32,
    /// Maximum number of passes K (schedules only).
    pub passes: usize,
    /// Layer order within a pass.
    pub schedule: Schedule,
    /// Where ∇ℓ is evaluated.
    pub nudge_at: NudgeAt,
    /// Early-stop threshold on the largest change of a pass.
    pub tolerance: Option<f32>,
    /// How the output is nudged.
    pub output: OutputMode,
    /// Damping of hidden updates (damped DP), off if absent.
    pub damping: Option<Damping>,
    /// Integrate in continuous time instead of following the schedule.
    pub circuit: Option<Circuit>,
    /// Skip array reads and updates whose inputs did not change, and stop once a pass changed nothing.
    ///
    /// Bit-identical to the full computation on deterministic arrays; on arrays with read noise a
    /// skipped layer holds its previous read instead of drawing a new one. Default: off.
    pub skip_unchanged: bool,
}

impl Dynamics {
    /// DP⊤ with the `Forward` schedule, explicit nudge at the free prediction and a fixed number of passes.
    pub fn dp_top(alpha: f32, beta: f32, passes: usize) -> Self {
        Self {
            alpha_mix: alpha,
            alpha_fb: alpha,
            hidden: None,
            beta,
            passes,
            schedule: Schedule::Forward,
            nudge_at: NudgeAt::FreePrediction,
            tolerance: None,
            output: OutputMode::Explicit,
            damping: None,
            circuit: None,
            skip_unchanged: false,
        }
    }

    /// Original DP with the `Forward` schedule, explicit nudge at the current drive and a fixed
    /// number of passes.
    pub fn dp(alpha: f32, beta: f32, passes: usize) -> Self {
        Self {
            alpha_fb: 1.0 - alpha,
            nudge_at: NudgeAt::CurrentDrive,
            ..Self::dp_top(alpha, beta, passes)
        }
    }

    /// Damped DP: [`Dynamics::dp`] with damping scale |1 − 2α| (`alpha_factor`) or 1, and 20 power iterations.
    pub fn damped_dp(alpha: f32, beta: f32, passes: usize, alpha_factor: bool) -> Self {
        Self {
            damping: Some(Damping {
                scale: if alpha_factor {
                    (1.0 - 2.0 * alpha).abs()
                } else {
                    1.0
                },
                power_iterations: 20,
            }),
            ..Self::dp(alpha, beta, passes)
        }
    }

    /// The leak ε = α_mix − α_fb (0 for DP⊤, 2α − 1 for DP) of the output dyad.
    pub fn leak(&self) -> f32 {
        self.alpha_mix - self.alpha_fb
    }

    /// (α_mix, α_fb) of layer `k` (1-based) of a network with `depth` layers.
    pub fn split_of(&self, k: usize, depth: usize) -> (f32, f32) {
        match self.hidden {
            Some(h) if k < depth => (h.mix, h.fb),
            _ => (self.alpha_mix, self.alpha_fb),
        }
    }

    /// The nudge point with `Auto` resolved (to the free prediction).
    pub(crate) fn nudge_point(&self) -> NudgeAt {
        match self.nudge_at {
            NudgeAt::Auto => NudgeAt::FreePrediction,
            n => n,
        }
    }
}

//! Learning-rate schedules: the rate of every optimizer step, from the step's index.
//!
//! `WarmupCosine` is optax's `warmup_cosine_decay_schedule` (optax, `optax/schedules/_schedule.py`),
//! the schedule of the paper's training chain (Høier & Zach 2024, `create_train_state` in
//! `src/training_utils.py` of Rasmuskh/dualprop_icml_2024), with lengths in epochs turned into steps
//! by the run's mini-batches per epoch.

use crate::field::FieldError;
use serde::{Deserialize, Serialize};

/// How the learning rate changes over training, e.g. `lr_schedule: WarmupCosine(warmup_epochs: 10,
/// peak: 0.025, floor: 2e-6, decay_epochs: 120, init: 0.001)` or
/// `lr_schedule: Step(every_epochs: 30, factor: 0.1)`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub enum LrSchedule {
    /// `training.learning_rate` at every step (the default).
    #[default]
    Constant,
    /// optax's `warmup_cosine_decay_schedule`, per optimizer step t (0 for the first step), with
    /// W = warmup_epochs × steps per epoch and D = decay_epochs × steps per epoch: linear from
    /// `init` to `peak` for t < W, then `floor + (peak − floor)·½(1 + cos(π·min(t − W, D − W)/(D − W)))`.
    /// As in optax, `decay_epochs` is the length of the whole schedule, warm-up included; after
    /// it the rate stays at `floor`. `training.learning_rate` must equal `peak`.
    WarmupCosine {
        /// Epochs of linear warm-up (≥ 0).
        warmup_epochs: usize,
        /// Rate at the end of the warm-up (> 0; equal to `training.learning_rate`).
        peak: f32,
        /// Rate at the end of the cosine (≥ 0), optax's `end_value`.
        floor: f32,
        /// Epochs from the start to the end of the cosine, warm-up included (> `warmup_epochs`).
        decay_epochs: usize,
        /// Rate of the first step, optax's `init_value` (default 0; the paper's scripts use
        /// 0.001).
        #[serde(default)]
        init: f32,
    },
    /// Step decay: `training.learning_rate × factor^⌊e / every_epochs⌋` during epoch e + 1 (e from 0).
    Step {
        /// Epochs between decays (≥ 1, fewer than `training.epochs`).
        every_epochs: usize,
        /// Multiplier at each decay (finite, > 0, ≠ 1).
        factor: f32,
    },
}

impl LrSchedule {
    /// Whether this is the constant rate (then `experiment.ron` leaves the field out).
    pub fn is_constant(&self) -> bool {
        *self == LrSchedule::Constant
    }

    /// The rate of optimizer step `step` (0-based over the whole run) for a base rate `base` and
    /// `steps_per_epoch` mini-batches per epoch, computed in f64 as optax does in its dtype.
    pub fn rate(&self, base: f32, step: usize, steps_per_epoch: usize) -> f32 {
        match *self {
            LrSchedule::Constant => base,
            LrSchedule::WarmupCosine {
                warmup_epochs,
                peak,
                floor,
                decay_epochs,
                init,
            } => {
                let (peak, floor, init) = (peak as f64, floor as f64, init as f64);
                let warmup = warmup_epochs * steps_per_epoch;
                let decay = decay_epochs * steps_per_epoch;
                if step < warmup {
                    // optax's linear_schedule: (init − peak)·(1 − t/W) + peak.
                    let frac = 1.0 - step as f64 / warmup as f64;
                    ((init - peak) * frac + peak) as f32
                } else {
                    // optax's cosine_decay_schedule with alpha = floor / peak.
                    let length = decay.saturating_sub(warmup).max(1) as f64;
                    let t = ((step - warmup) as f64).min(length);
                    let cosine = 0.5 * (1.0 + (std::f64::consts::PI * t / length).cos());
                    let alpha = if peak == 0.0 { 0.0 } else { floor / peak };
                    (peak * ((1.0 - alpha) * cosine + alpha)) as f32
                }
            }
            LrSchedule::Step {
                every_epochs,
                factor,
            } => {
                let decays = step / steps_per_epoch.max(1) / every_epochs.max(1);
                (base as f64 * (factor as f64).powi(decays.min(i32::MAX as usize) as i32)) as f32
            }
        }
    }

    /// The first range error or setting without effect, its field relative to `training`;
    /// `learning_rate` and `epochs` are the training's.
    pub fn validate(&self, learning_rate: f32, epochs: usize) -> Result<(), FieldError> {
        let fail = |field: &str, message: String| Err(FieldError::new(field, message));
        match *self {
            LrSchedule::Constant => Ok(()),
            LrSchedule::WarmupCosine {
                warmup_epochs,
                peak,
                floor,
                decay_epochs,
                init,
            } => {
                if !(peak.is_finite() && peak > 0.0) {
                    return fail(
                        "lr_schedule.peak",
                        format!("must be a positive finite rate (got {peak})"),
                    );
                }
                for (field, v) in [("lr_schedule.floor", floor), ("lr_schedule.init", init)] {
                    if !(v.is_finite() && v >= 0.0) {
                        return fail(field, format!("must be a finite rate ≥ 0 (got {v})"));
                    }
                }
                if decay_epochs <= warmup_epochs {
                    return fail(
                        "lr_schedule.decay_epochs",
                        format!(
                            "must exceed warmup_epochs ({warmup_epochs}): as in optax it counts the whole schedule, warm-up included (got {decay_epochs})"
                        ),
                    );
                }
                if learning_rate != peak {
                    return fail(
                        "learning_rate",
                        format!(
                            "must equal lr_schedule's peak {peak} with WarmupCosine (got {learning_rate}): the schedule sets the rate of every step, so this value would not be used"
                        ),
                    );
                }
                Ok(())
            }
            LrSchedule::Step {
                every_epochs,
                factor,
            } => {
                if !(factor.is_finite() && factor > 0.0 && factor != 1.0) {
                    return fail(
                        "lr_schedule.factor",
                        format!(
                            "must be finite, > 0 and ≠ 1 (got {factor}); use Constant for no decay"
                        ),
                    );
                }
                if every_epochs == 0 || every_epochs >= epochs {
                    return fail(
                        "lr_schedule.every_epochs",
                        format!(
                            "must be in 1..{epochs} (fewer than training.epochs, got {every_epochs}): otherwise the rate never changes"
                        ),
                    );
                }
                Ok(())
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use approx::assert_relative_eq;
    use std::f64::consts::PI;

    /// The paper's CIFAR-10 schedule with 450 steps per epoch (45000 samples, batch 100).
    fn paper() -> LrSchedule {
        LrSchedule::WarmupCosine {
            warmup_epochs: 10,
            peak: 0.025,
            floor: 2e-6,
            decay_epochs: 120,
            init: 0.001,
        }
    }

    #[test]
    fn warmup_cosine_matches_the_closed_form_at_known_steps() {
        let s = paper();
        let spe = 450;
        let (w, d) = (4500.0, 54000.0);
        let closed = |t: f64| {
            if t < w {
                0.001 + (0.025 - 0.001) * t / w
            } else {
                let c = (t - w).min(d - w);
                2e-6 + (0.025 - 2e-6) * 0.5 * (1.0 + (PI * c / (d - w)).cos())
            }
        };
        for t in [
            0usize, 1, 2250, 4499, 4500, 4501, 29250, 53999, 54000, 58499,
        ] {
            let rel = 1e-6; // f32 rounding of a value computed in f64
            assert_relative_eq!(
                s.rate(0.025, t, spe) as f64,
                closed(t as f64),
                max_relative = rel
            );
        }
        // Landmarks: the first step is init, the end of warm-up is peak, halfway down the cosine
        // is the midpoint, and after decay_epochs the rate stays at the floor.
        assert_eq!(s.rate(0.025, 0, spe), 0.001);
        assert_eq!(s.rate(0.025, 4500, spe), 0.025);
        assert_relative_eq!(
            s.rate(0.025, 4500 + 24750, spe),
            (0.025 + 2e-6) / 2.0,
            max_relative = 1e-6
        );
        assert_relative_eq!(s.rate(0.025, 54000, spe), 2e-6, max_relative = 1e-6);
        assert_relative_eq!(s.rate(0.025, 130 * 450 - 1, spe), 2e-6, max_relative = 1e-6);
    }

    #[test]
    fn warmup_cosine_without_warmup_starts_at_the_peak() {
        let s = LrSchedule::WarmupCosine {
            warmup_epochs: 0,
            peak: 0.1,
            floor: 0.0,
            decay_epochs: 2,
            init: 0.0,
        };
        assert_eq!(s.rate(0.1, 0, 10), 0.1);
        assert_relative_eq!(s.rate(0.1, 10, 10), 0.05, max_relative = 1e-6);
        assert_eq!(s.rate(0.1, 20, 10), 0.0);
    }

    #[test]
    fn step_decay_multiplies_every_few_epochs_and_constant_is_the_base() {
        let s = LrSchedule::Step {
            every_epochs: 2,
            factor: 0.5,
        };
        let spe = 7;
        let rates: Vec<f32> = (0..6).map(|e| s.rate(0.4, e * spe, spe)).collect();
        assert_eq!(rates, [0.4, 0.4, 0.2, 0.2, 0.1, 0.1]);
        assert_eq!(s.rate(0.4, 2 * spe - 1, spe), 0.4);
        assert_eq!(LrSchedule::Constant.rate(0.3, 12345, 7), 0.3);
    }

    #[test]
    fn schedules_that_would_not_act_as_written_are_rejected() {
        assert!(paper().validate(0.025, 130).is_ok());
        let e = paper().validate(0.01, 130).unwrap_err();
        assert_eq!(e.field, "learning_rate");
        let short = LrSchedule::WarmupCosine {
            warmup_epochs: 5,
            peak: 0.1,
            floor: 0.0,
            decay_epochs: 5,
            init: 0.0,
        };
        assert_eq!(
            short.validate(0.1, 10).unwrap_err().field,
            "lr_schedule.decay_epochs"
        );
        let never = LrSchedule::Step {
            every_epochs: 10,
            factor: 0.1,
        };
        assert_eq!(
            never.validate(0.1, 10).unwrap_err().field,
            "lr_schedule.every_epochs"
        );
        let one = LrSchedule::Step {
            every_epochs: 2,
            factor: 1.0,
        };
        assert_eq!(
            one.validate(0.1, 10).unwrap_err().field,
            "lr_schedule.factor"
        );
    }
}

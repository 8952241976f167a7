//! Settings that would silently do nothing: combinations an experiment may write but the
//! simulation would ignore or replace by another behaviour. Each is rejected at load with both
//! fields named and what would take effect instead.

use crate::field::FieldError;
use crate::spec::{Experiment, OptimizerKind};
use crossbar::spec::UpdateScheme;

/// The first setting of `exp` that would have no effect (or a different one than written).
pub fn no_silent_settings(exp: &Experiment) -> Result<(), FieldError> {
    let t = &exp.training;
    if t.optimizer == OptimizerKind::PlainSgd {
        if t.momentum != 0.0 {
            return Err(FieldError::new(
                "training.momentum",
                format!(
                    "must be 0 with training.optimizer PlainSgd (got {}): plain SGD sends the outer product to the devices and keeps no momentum, so the run would train without it; use optimizer Sgd for momentum",
                    t.momentum
                ),
            ));
        }
        if t.weight_decay != 0.0 {
            return Err(FieldError::new(
                "training.weight_decay",
                format!(
                    "must be 0 with training.optimizer PlainSgd (got {}): plain SGD applies no weight decay, so the run would train without it; use optimizer Sgd or Adam for weight decay",
                    t.weight_decay
                ),
            ));
        }
    }
    if t.decay_biases && t.weight_decay == 0.0 {
        return Err(FieldError::new(
            "training.decay_biases",
            "must be false without training.weight_decay (got weight_decay 0): there is no decay to apply to the biases; set weight_decay, or leave decay_biases out",
        ));
    }
    if t.augment == Some(true) && !exp.dataset.is_image() {
        return Err(FieldError::new(
            "training.augment",
            "must not be true on the synthetic task (it has no images to pad, crop and flip): the run would train without augmentation; leave augment out",
        ));
    }
    let hardware = exp.hardware.spec();
    // A hardware sweep is checked per point, where the preset is the hardware and the named
    // presets are gone.
    let hardware_swept =
        exp.sweep.0.iter().any(|a| a.path == "hardware") && !exp.hardware_presets.is_empty();
    if exp.metrics.contains(&crate::metrics::MetricSpec::Cost)
        && !hardware_swept
        && hardware.is_some_and(|hw| hw.cost.is_none())
    {
        return Err(FieldError::new(
            "hardware.cost",
            "must be given when metrics lists Cost (it is None): without a cost model the run has nothing to price its operation counts with; add cost: Some((...)) to the hardware (docs/COSTS.md)",
        ));
    }
    if let Some(hw) = hardware
        && matches!(hw.update, UpdateScheme::PulseCoincidence(_))
        && t.optimizer != OptimizerKind::PlainSgd
    {
        return Err(FieldError::new(
            "hardware.update",
            format!(
                "PulseCoincidence needs training.optimizer PlainSgd (got {:?}): {:?} computes ΔW digitally, and a ΔW has no row and column pulse trains to coincide, so its pulses would be stochastically rounded instead; use optimizer PlainSgd, or update StochasticRounding to say what runs",
                t.optimizer, t.optimizer
            ),
        ));
    }
    Ok(())
}

/// Retention needs a drift model somewhere: in the experiment's hardware or in one of the hardware
/// presets it sweeps (a sweep may compare drifting devices with a drift-free baseline). Checked on
/// the whole experiment, not per point.
pub fn retention_has_drift(exp: &Experiment) -> Result<(), FieldError> {
    let drifts = exp.hardware.spec().is_some_and(|hw| hw.drift.is_some())
        || exp.hardware_presets.values().any(|hw| hw.drift.is_some());
    if exp.retention.is_some() && !drifts {
        return Err(FieldError::new(
            "retention",
            "needs hardware.drift (it is None): without a drift model the weights do not age, so every retention time would measure the trained network unchanged",
        ));
    }
    Ok(())
}

//! Settings that would silently do nothing: combinations an experiment may write but the
//! simulation would ignore or replace by another behaviour. Each is rejected at load with both
//! fields named and what would take effect instead.

use crate::field::FieldError;
use crate::runner::Point;
use crate::spec::{AlgorithmKind, BlockSpec, Experiment, OptimizerKind, PoolRouting};
use crossbar::spec::UpdateScheme;
use dualprop::{DampingOptions, DpOptions};

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
    // The routing is read where the top-down signal passes a pooling into the layer below: at a
    // pooled convolution above the first block (the first block's input is the clamped data).
    let routed = exp
        .network
        .blocks
        .iter()
        .skip(1)
        .any(|b| matches!(b, BlockSpec::Conv { pool: true, .. }));
    if exp.network.pool_routing != PoolRouting::default() && !routed {
        return Err(FieldError::new(
            "network.pool_routing",
            format!(
                "must be left out on a network without a pooled Conv block above the first (got {:?}): it routes the top-down signal through a max-pooling into the layer below, and this network has none, so the setting would do nothing",
                exp.network.pool_routing
            ),
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

/// Options that only one algorithm reads (`algorithm.damping` by `DampedDp`, `algorithm.dp` by
/// `Dp`) must be read by some point of the grid, `points`: with a sweep over `algorithm.kind` (or
/// over `algorithm` presets) the options apply to the points of that kind. Checked on the whole
/// grid, not per point, since the other points ignore them.
pub fn algorithm_options_are_read(exp: &Experiment, points: &[Point]) -> Result<(), FieldError> {
    let kinds: Vec<AlgorithmKind> = points.iter().map(|p| p.experiment.algorithm.kind).collect();
    let options = [
        (
            "damping",
            AlgorithmKind::DampedDp,
            points
                .iter()
                .any(|p| p.experiment.algorithm.damping != DampingOptions::default()),
            exp.algorithm.damping != DampingOptions::default(),
        ),
        (
            "dp",
            AlgorithmKind::Dp,
            points
                .iter()
                .any(|p| p.experiment.algorithm.dp != DpOptions::default()),
            exp.algorithm.dp != DpOptions::default(),
        ),
    ];
    for (name, reader, set_somewhere, set_in_algorithm) in options {
        if !set_somewhere || kinds.contains(&reader) {
            continue;
        }
        let mut run: Vec<String> = Vec::new();
        for k in &kinds {
            let k = format!("{k:?}");
            if !run.contains(&k) {
                run.push(k);
            }
        }
        let message = format!(
            "options are read only by kind {reader:?}, and no point of the experiment runs it (kind {}): they would do nothing; leave {name} out, or run {reader:?} (or sweep algorithm.kind over it)",
            run.join(", ")
        );
        // Name where the setting was written: the algorithm, a sweep axis or a preset.
        let field = format!("algorithm.{name}");
        if set_in_algorithm {
            return Err(FieldError::new(field, message));
        }
        if let Some(axis) = exp
            .sweep
            .0
            .iter()
            .find(|a| a.path.starts_with(&format!("{field}.")))
        {
            return Err(FieldError::new(
                "sweep",
                format!("axis {:?}: {field} {message}", axis.path),
            ));
        }
        let preset = exp.algorithm_presets.iter().find(|(_, a)| match name {
            "damping" => a.damping != DampingOptions::default(),
            _ => a.dp != DpOptions::default(),
        });
        return Err(match preset {
            Some((key, _)) => {
                FieldError::new("algorithm_presets", format!("{key:?}: {field} {message}"))
                    .with_value(key.clone())
            }
            None => FieldError::new(field, message),
        });
    }
    Ok(())
}

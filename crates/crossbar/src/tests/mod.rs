//! Tests of the hardware model against closed forms, statistics and the ideal oracle.
//!
//! Statistical tests use ≥ 10⁴ samples and 5-standard-error tolerances, so a correct model fails
//! one of them with probability well below 10⁻⁵ (and the seeds are fixed, so they are reproducible).

mod bounds;
mod coincidence;
mod converters;
mod counts;
mod determinism;
mod drift;
mod fastpaths;
mod oracle;
mod population;
mod presets;
mod properties;
mod spec;
mod traces;

use crate::device::Pulser;
use crate::population::Population;
use crate::spec::{ConstantStep, Device};

/// Mean and unbiased variance of a sample.
pub(super) fn moments(v: &[f64]) -> (f64, f64) {
    let n = v.len() as f64;
    let mean = v.iter().sum::<f64>() / n;
    let var = v.iter().map(|x| (x - mean) * (x - mean)).sum::<f64>() / (n - 1.0);
    (mean, var)
}

/// Assert |got − want| ≤ 5·se, with a message naming the quantity.
pub(super) fn within_5se(what: &str, got: f64, want: f64, se: f64) {
    assert!(
        (got - want).abs() <= 5.0 * se,
        "{what}: got {got}, expected {want} ± 5·{se}"
    );
}

/// A constant-step device with every spread switched off.
pub(super) fn quiet_constant(dw_min: f64) -> ConstantStep {
    ConstantStep {
        dw_min,
        dw_min_dtod: 0.0,
        dw_min_std: 0.0,
        up_down_dtod: 0.0,
        w_min_dtod: 0.0,
        w_max_dtod: 0.0,
        ..ConstantStep::default()
    }
}

/// Population and pulser of `n` devices of `device`.
pub(super) fn devices(device: &Device, n: usize, seed: u64) -> (Population, Pulser) {
    let pop = Population::sample(device, n, seed);
    let pulser = Pulser::new(device).expect("pulsed device");
    (pop, pulser)
}

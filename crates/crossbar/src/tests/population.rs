//! Device-to-device distributions and per-pulse cycle-to-cycle statistics (≥ 10⁴ samples, 5 SE).

use super::{devices, moments, quiet_constant, within_5se};
use crate::population::Population;
use crate::spec::*;

const N: usize = 40_000;

fn f64s(v: &[f32]) -> Vec<f64> {
    v.iter().map(|&x| f64::from(x)).collect()
}

/// Mean and standard deviation tests of a normal sample N(mean, sd²).
fn check_normal(what: &str, v: &[f64], mean: f64, sd: f64) {
    let n = v.len() as f64;
    let (m, var) = moments(v);
    within_5se(&format!("{what} mean"), m, mean, sd / n.sqrt());
    // SE of the sample variance of a normal sample: σ²·√(2/(n−1)).
    within_5se(
        &format!("{what} variance"),
        var,
        sd * sd,
        sd * sd * (2.0 / (n - 1.0)).sqrt(),
    );
}

#[test]
fn step_bounds_and_asymmetry_are_distributed_as_specified() {
    let d = ConstantStep {
        dw_min: 0.01,
        dw_min_dtod: 0.2,
        up_down: 0.1,
        up_down_dtod: 0.05,
        w_max: 0.8,
        w_min: -0.5,
        w_max_dtod: 0.1,
        w_min_dtod: 0.15,
        ..ConstantStep::default()
    };
    let pop = Population::sample(&Device::ConstantStep(d), N, 11);
    // Δw⁺ = (gain + r)·dw_min, Δw⁻ = (gain − r − up_down)·dw_min: gain ~ N(1, 0.2²), r ~ N(0, 0.05²).
    // Spreads this small never make a step or a bound change sign, so |·| does not bias them.
    let sum: Vec<f64> = pop
        .dw_up
        .iter()
        .zip(&pop.dw_down)
        .map(|(u, d)| f64::from(u + d) / 0.01)
        .collect();
    let diff: Vec<f64> = pop
        .dw_up
        .iter()
        .zip(&pop.dw_down)
        .map(|(u, d)| f64::from(u - d) / 0.01)
        .collect();
    check_normal("(Δw⁺ + Δw⁻)/dw_min", &sum, 2.0 - 0.1, 2.0 * 0.2);
    check_normal("(Δw⁺ − Δw⁻)/dw_min", &diff, 0.1, 2.0 * 0.05);
    check_normal(
        "Δw⁺",
        &f64s(&pop.dw_up),
        0.01,
        0.01 * (0.2f64.powi(2) + 0.05f64.powi(2)).sqrt(),
    );
    check_normal("b_max", &f64s(&pop.b_max), 0.8, 0.08);
    check_normal("b_min", &f64s(&pop.b_min), -0.5, 0.075);
}

#[test]
fn log_normal_step_gain() {
    let d = ConstantStep {
        dw_min: 0.01,
        dw_min_dtod: 0.7,
        dw_min_dtod_log_normal: true,
        up_down_dtod: 0.0,
        ..ConstantStep::default()
    };
    let pop = Population::sample(&Device::ConstantStep(d), N, 12);
    let logs: Vec<f64> = pop
        .dw_up
        .iter()
        .map(|&v| (f64::from(v) / 0.01).ln())
        .collect();
    check_normal("ln(Δw⁺/dw_min)", &logs, 0.0, 0.7);
    assert_eq!(pop.dw_up, pop.dw_down);
}

#[test]
fn one_pulse_step_has_the_cycle_to_cycle_spread() {
    let d = ConstantStep {
        dw_min_std: 0.4,
        ..quiet_constant(0.01)
    };
    let (pop, pulser) = devices(&Device::ConstantStep(d), 1, 13);
    let mut rng = crate::rng::stream(13, 99);
    let up: Vec<f64> = (0..N)
        .map(|_| f64::from(pulser.pulse(&pop, 0, 0.0, true, &mut rng)))
        .collect();
    check_normal("up step", &up, 0.01, 0.004);
    let down: Vec<f64> = (0..N)
        .map(|_| -f64::from(pulser.pulse(&pop, 0, 0.0, false, &mut rng)))
        .collect();
    check_normal("down step", &down, 0.01, 0.004);
}

#[test]
fn additive_and_multiplicative_noise_differ_as_specified() {
    // At w = 0.3 of a soft-bounds device (b_max = 0.6): mean step Δw(1 − w/b_max) = Δw/2 either way,
    // spread σΔw/2 multiplicative, σΔw additive.
    let mk = |mult| SoftBounds {
        dw_min: 0.01,
        dw_min_dtod: 0.0,
        dw_min_std: 0.3,
        up_down_dtod: 0.0,
        w_min_dtod: 0.0,
        w_max_dtod: 0.0,
        mult_noise: mult,
        ..SoftBounds::default()
    };
    for (mult, sd) in [(true, 0.3 * 0.005), (false, 0.3 * 0.01)] {
        let (pop, pulser) = devices(&Device::SoftBounds(mk(mult)), 1, 14);
        let mut rng = crate::rng::stream(14, 99);
        let steps: Vec<f64> = (0..N)
            .map(|_| f64::from(pulser.pulse(&pop, 0, 0.3, true, &mut rng)) - 0.3)
            .collect();
        check_normal(
            &format!("soft-bounds step (mult {mult})"),
            &steps,
            0.005,
            sd,
        );
    }
}

#[test]
fn corrupt_and_stuck_device_fractions() {
    let d = ConstantStep {
        corrupt_devices_prob: 0.1,
        corrupt_devices_range: 0.05,
        ..ConstantStep::default()
    };
    let pop = Population::sample(&Device::ConstantStep(d), N, 15);
    let stuck: Vec<usize> = (0..N).filter(|&k| pop.b_min[k] == pop.b_max[k]).collect();
    let p = 0.1;
    within_5se(
        "corrupt fraction",
        stuck.len() as f64 / N as f64,
        p,
        (p * (1.0 - p) / N as f64).sqrt(),
    );
    assert!(
        stuck
            .iter()
            .all(|&k| pop.b_min[k].abs() <= 0.05 && pop.dw_up[k] == 0.0 && pop.dw_down[k] == 0.0)
    );

    let faults = Faults {
        stuck_at_min: 0.05,
        stuck_at_max: 0.03,
        stuck_at_zero: 0.02,
    };
    let draws = crate::faults::sample(&faults, N, 16);
    for (kind, p) in [
        (crate::faults::Fault::Min, 0.05),
        (crate::faults::Fault::Max, 0.03),
        (crate::faults::Fault::Zero, 0.02),
    ] {
        let f = draws.iter().filter(|d| **d == Some(kind)).count() as f64 / N as f64;
        within_5se(
            &format!("{kind:?} fraction"),
            f,
            p,
            (p * (1.0 - p) / N as f64).sqrt(),
        );
    }
    let mut pop = Population::sample(&Device::ConstantStep(ConstantStep::default()), N, 16);
    let (lo, hi) = (pop.b_min.clone(), pop.b_max.clone());
    crate::faults::apply(&mut pop, &draws, |_| 0.0);
    for (k, d) in draws.iter().enumerate() {
        let want = match d {
            Some(crate::faults::Fault::Min) => Some(lo[k]),
            Some(crate::faults::Fault::Max) => Some(hi[k]),
            Some(crate::faults::Fault::Zero) => Some(0.0),
            None => None,
        };
        match want {
            Some(v) => assert!(pop.b_min[k] == v && pop.b_max[k] == v && pop.dw_up[k] == 0.0),
            None => assert!(pop.b_min[k] < pop.b_max[k]),
        }
    }
}

#[test]
fn decay_and_diffusion_parameters() {
    let d = ConstantStep {
        lifetime: 100.0,
        lifetime_dtod: 0.0,
        diffusion: 0.01,
        diffusion_dtod: 0.0,
        reset: 0.1,
        ..ConstantStep::default()
    };
    let pop = Population::sample(&Device::ConstantStep(d), 10, 17);
    assert!(pop.decay.iter().all(|&v| (v - 0.99).abs() < 1e-7));
    assert!(pop.diffusion.iter().all(|&v| v == 0.01));
    assert!(pop.reset_bias.iter().all(|&v| v == 0.1));
    let mut w = vec![0.5f32; 10];
    crate::device::decay(&pop, &mut w);
    // (w − b)·δ + b = 0.4·0.99 + 0.1, unless clipped to b_max.
    for (k, &v) in w.iter().enumerate() {
        assert!((v - (0.496f32).min(pop.b_max[k])).abs() < 1e-6);
    }
}

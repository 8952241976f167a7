//! Noise-free pulse traces against closed forms, step by step, up and down, into the bounds.

// The loop index is the pulse number p of the closed form, so indexing by it is the clearest form.
#![allow(clippy::needless_range_loop)]

use super::{devices, quiet_constant};
use crate::pulse_response;
use crate::spec::*;

/// Run `programme` on one quiet device and return its trace (p = 0 is the start, w = 0).
fn trace(device: &Device, programme: &[i64]) -> Vec<f64> {
    let r = pulse_response(device, programme, 1, 7).unwrap();
    r.w.iter().map(|&v| f64::from(v)).collect()
}

fn assert_close(what: &str, got: f64, want: f64) {
    // f32 state accumulates one rounding per pulse: 1e-5 relative to the range covers 1000 pulses.
    assert!(
        (got - want).abs() <= 1e-5 * want.abs().max(1.0),
        "{what}: got {got}, want {want}"
    );
}

#[test]
fn constant_step_walks_linearly_and_stops_exactly_at_the_bounds() {
    let d = ConstantStep {
        up_down: 0.2,
        w_max: 0.5,
        w_min: -0.3,
        ..quiet_constant(0.01)
    };
    let w = trace(&Device::ConstantStep(d), &[80, -200]);
    // up_down > 0 shrinks down steps: Δw⁺ = dw_min, Δw⁻ = (1 − 0.2)·dw_min.
    for p in 0..=80 {
        assert_close(&format!("up {p}"), w[p], (0.01 * p as f64).min(0.5));
    }
    assert_eq!(w[80], 0.5, "clipped exactly at b_max");
    for q in 1..=200 {
        assert_close(
            &format!("down {q}"),
            w[80 + q],
            (0.5 - 0.008 * q as f64).max(-0.3),
        );
    }
    assert_eq!(w[280], f64::from(-0.3f32), "clipped exactly at b_min");
}

#[test]
fn response_inputs_are_checked() {
    let d = Device::ConstantStep(quiet_constant(0.01));
    assert!(pulse_response(&Device::Ideal, &[1], 1, 0).is_err());
    assert!(pulse_response(&d, &[1], 0, 0).is_err());
    assert!(pulse_response(&d, &[i64::MIN, i64::MAX], 10, 0).is_err());
    let r = pulse_response(&d, &[2, -1], 3, 0).unwrap();
    assert_eq!((r.len(), r.devices), (4, 3));
    let s = r.stats(2);
    assert!((s.mean - 0.02).abs() < 1e-6 && s.std < 1e-6 && (s.p50 - 0.02).abs() < 1e-6);
}

#[test]
fn negative_up_down_shrinks_up_steps() {
    let d = ConstantStep {
        up_down: -0.5,
        ..quiet_constant(0.01)
    };
    let w = trace(&Device::ConstantStep(d), &[3, -3]);
    assert_close("up", w[3], 0.015);
    assert_close("down", w[6], 0.015 - 0.03);
}

#[test]
fn soft_bounds_approach_the_bounds_geometrically() {
    let base = quiet_constant(0.02);
    let d = SoftBounds {
        dw_min: base.dw_min,
        dw_min_dtod: 0.0,
        dw_min_std: 0.0,
        up_down_dtod: 0.0,
        w_min_dtod: 0.0,
        w_max_dtod: 0.0,
        w_max: 0.8,
        w_min: -0.4,
        ..SoftBounds::default()
    };
    let w = trace(&Device::SoftBounds(d), &[300, -600]);
    // w_{n+1} = w_n + Δw(1 − w_n/b_max)  ⇒  w_n = b_max − (b_max − w_0)(1 − Δw/b_max)^n.
    for p in 0..=300 {
        assert_close(
            &format!("up {p}"),
            w[p],
            0.8 - 0.8 * (1.0 - 0.02 / 0.8f64).powi(p as i32),
        );
    }
    let top = w[300];
    for q in 1..=600 {
        let want = -0.4 + (top + 0.4) * (1.0 - 0.02 / 0.4f64).powi(q as i32);
        assert_close(&format!("down {q}"), w[300 + q], want);
    }
    assert!(w.iter().all(|&v| (-0.4..=0.8).contains(&v)));
}

#[test]
fn linear_step_follows_its_affine_recursion_and_clips() {
    let d = LinearStep {
        dw_min: 0.01,
        dw_min_dtod: 0.0,
        dw_min_std: 0.0,
        up_down_dtod: 0.0,
        w_min_dtod: 0.0,
        w_max_dtod: 0.0,
        gamma_up: 0.5,
        gamma_down: 0.8,
        gamma_up_dtod: 0.0,
        gamma_down_dtod: 0.0,
        w_max: 1.0,
        w_min: -1.0,
        mult_noise: true,
        ..LinearStep::default()
    };
    let w = trace(&Device::LinearStep(d), &[400, -800]);
    // Up: w_{n+1} = (1 + k)w_n + Δw with k = −γ⁺Δw/w_max: w_n = w* − (w* − w_0)(1 + k)^n, w* = w_max/γ⁺,
    // clipped at w_max (the step stays positive there because γ⁺ < 1).
    let (k, star) = (-0.5f64 * 0.01, 1.0f64 / 0.5);
    let mut hit = None;
    for p in 0..=400 {
        let want = (star - star * (1.0 + k).powi(p as i32)).min(1.0);
        assert_close(&format!("up {p}"), w[p], want);
        if want == 1.0 && hit.is_none() {
            hit = Some(p);
        }
    }
    assert!(hit.is_some(), "the up train must reach the bound");
    // Down from w_max: w_{n+1} = (1 + k⁻)w_n − Δw with k⁻ = −γ⁻Δw/w_min, fixed point w_min/γ⁻ < w_min.
    let (kd, star_d) = (-0.8f64 * 0.01 / 1.0, -1.0f64 / 0.8);
    for q in 0..=800 {
        let want = (star_d + (1.0 - star_d) * (1.0 + kd).powi(q as i32)).max(-1.0);
        assert_close(&format!("down {q}"), w[400 + q], want);
    }
    assert_eq!(w[1200], -1.0);
}

#[test]
fn reference_device_reads_relative_to_its_reference() {
    let d = SoftBoundsReference {
        dw_min: 0.05,
        dw_min_dtod: 0.0,
        dw_min_std: 0.0,
        up_down_dtod: 0.0,
        w_min_dtod: 0.0,
        w_max_dtod: 0.0,
        w_max: 1.0,
        w_min: -1.0,
        reference_mean: 0.2,
        ..SoftBoundsReference::default()
    };
    let w = trace(&Device::SoftBoundsReference(d), &[20, -40]);
    // The device starts at w_dev = r = 0.2 (read 0) and steps with soft bounds on w_dev.
    let mut dev = 0.2f64;
    for p in 1..=20 {
        dev += 0.05 * (1.0 - dev);
        assert_close(&format!("up {p}"), w[p], dev - 0.2);
    }
    for q in 1..=40 {
        dev -= 0.05 * (1.0 + dev);
        assert_close(&format!("down {q}"), w[20 + q], dev - 0.2);
    }
}

#[test]
fn symmetry_point_is_subtracted() {
    let d = SoftBoundsReference {
        dw_min: 0.05,
        dw_min_dtod: 0.0,
        dw_min_std: 0.0,
        up_down: 0.2,
        up_down_dtod: 0.0,
        w_min_dtod: 0.0,
        w_max_dtod: 0.0,
        w_max: 1.25,
        w_min: -0.75,
        ..SoftBoundsReference::default()
    };
    // Δw⁺ = 0.05, Δw⁻ = 0.04: w* = (Δw⁺ − Δw⁻)/(Δw⁺/b_max − Δw⁻/b_min).
    let sp = (0.05 - 0.04) / (0.05 / 1.25 + 0.04 / 0.75);
    // Alternating pulses settle within one step of the symmetry point.
    let programme: Vec<i64> = (0..2000).map(|i| if i % 2 == 0 { 1 } else { -1 }).collect();
    let plain = trace(&Device::SoftBoundsReference(d.clone()), &programme);
    assert!(
        (plain.last().unwrap() - sp).abs() < 0.03,
        "reads {} near w* = {sp}",
        plain.last().unwrap()
    );
    let shifted = SoftBoundsReference {
        subtract_symmetry_point: true,
        ..d
    };
    let w = trace(&Device::SoftBoundsReference(shifted), &programme);
    assert!(
        w.last().unwrap().abs() < 0.03,
        "reads {} at the subtracted symmetry point",
        w.last().unwrap()
    );
}

#[test]
fn every_model_matches_its_step_formula_at_every_visited_state() {
    let exp = ExpStep {
        dw_min: 0.01,
        dw_min_dtod: 0.0,
        dw_min_std: 0.0,
        up_down_dtod: 0.0,
        w_min_dtod: 0.0,
        w_max_dtod: 0.0,
        w_min: -1.0,
        w_max: 1.0,
        ..ExpStep::default()
    };
    let (lo, hi) = (-1.0f64, 1.0f64);
    let step_exp = |w: f64, up: bool| {
        let z = 2.0 * exp.a * w / (hi - lo) + exp.b;
        if up {
            0.01 * (1.0 - exp.a_up * (exp.gamma_up * z).exp()).max(0.0)
        } else {
            -0.01 * (1.0 - exp.a_down * (-exp.gamma_down * z).exp()).max(0.0)
        }
    };
    let pow = PowStep {
        dw_min: 0.02,
        dw_min_dtod: 0.0,
        dw_min_std: 0.0,
        up_down_dtod: 0.0,
        w_min_dtod: 0.0,
        w_max_dtod: 0.0,
        w_min: -1.0,
        w_max: 1.0,
        pow_gamma: 2.0,
        pow_gamma_dtod: 0.0,
        ..PowStep::default()
    };
    let step_pow = |w: f64, up: bool| {
        if up {
            0.02 * ((hi - w) / 2.0).powf(2.0)
        } else {
            -0.02 * ((w - lo) / 2.0).powf(2.0)
        }
    };
    let pw = PiecewiseStep {
        dw_min: 0.02,
        dw_min_dtod: 0.0,
        dw_min_std: 0.0,
        up_down_dtod: 0.0,
        w_min_dtod: 0.0,
        w_max_dtod: 0.0,
        w_min: -1.0,
        w_max: 1.0,
        piecewise_up: vec![2.0, 1.0, 0.5],
        piecewise_down: vec![0.5, 1.0, 2.0],
        ..PiecewiseStep::default()
    };
    let step_pw = |w: f64, up: bool| {
        let nodes = if up { [2.0, 1.0, 0.5] } else { [0.5, 1.0, 2.0] };
        let u = ((w - lo) / (hi - lo) * 2.0).max(0.0);
        let k = (u.floor() as usize).min(1);
        let t = (u - k as f64).min(1.0);
        let f = (1.0 - t) * nodes[k] + t * nodes[k + 1];
        if up { 0.02 * f } else { -0.02 * f }
    };
    type Step<'a> = &'a dyn Fn(f64, bool) -> f64;
    let cases: [(Device, Step, &str); 3] = [
        (Device::ExpStep(exp.clone()), &step_exp, "ExpStep"),
        (Device::PowStep(pow.clone()), &step_pow, "PowStep"),
        (Device::PiecewiseStep(pw.clone()), &step_pw, "PiecewiseStep"),
    ];
    for (device, step, name) in cases {
        let w = trace(&device, &[400, -800]);
        for p in 0..1200 {
            let up = p < 400;
            let want = (w[p] + step(w[p], up)).clamp(lo, hi);
            assert!(
                (w[p + 1] - want).abs() <= 2e-6,
                "{name} pulse {p}: {} vs {want}",
                w[p + 1]
            );
        }
        assert!(
            w[400] > 0.5,
            "{name} up train must approach b_max (got {})",
            w[400]
        );
        assert!(
            w[1200] < -0.5,
            "{name} down train must approach b_min (got {})",
            w[1200]
        );
    }
    // PowStep with γ = 1 has the soft-bound closed form over the range b_max − b_min.
    let pow1 = PowStep {
        pow_gamma: 1.0,
        ..pow
    };
    let w = trace(&Device::PowStep(pow1), &[200]);
    for p in 0..=200 {
        assert_close(
            &format!("pow γ=1 up {p}"),
            w[p],
            1.0 - (1.0 - 0.02 / 2.0f64).powi(p as i32),
        );
    }
}

#[test]
fn exp_step_complex_noise_uses_its_own_spread() {
    // With dw_min_std_add set, the spread is σ(|Δ| + add + slope·|w|), not σ·|Δ|: at a state where
    // the deterministic step vanishes the device still moves.
    let exp = ExpStep {
        dw_min: 0.01,
        dw_min_dtod: 0.0,
        dw_min_std: 0.5,
        up_down_dtod: 0.0,
        w_min_dtod: 0.0,
        w_max_dtod: 0.0,
        w_min: -1.0,
        w_max: 1.0,
        a_up: 1e6,
        a_down: 1e6,
        b: 0.0,
        a: 0.0,
        dw_min_std_add: 0.02,
        ..ExpStep::default()
    };
    let (pop, pulser) = devices(&Device::ExpStep(exp), 1, 3);
    let mut rng = crate::rng::stream(1, 1);
    let moved = (0..100)
        .filter(|_| pulser.pulse(&pop, 0, 0.0, true, &mut rng) != 0.0)
        .count();
    assert!(
        moved > 90,
        "complex noise must move a device with zero deterministic step ({moved}/100)"
    );
}

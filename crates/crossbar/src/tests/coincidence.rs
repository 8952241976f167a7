//! Update schemes: expected updates of pulse coincidence and stochastic rounding.

use super::{moments, quiet_constant, within_5se};
use crate::spec::*;
use crate::update::trains;
use crate::{AnalogArray, Crossbar, Update};
use nalgebra::DMatrix;

const TRIALS: usize = 20_000;

/// A 1×1 array of a quiet, practically unbounded constant-step device with unit mapping.
fn single(update: UpdateScheme) -> AnalogArray {
    let spec = Hardware {
        device: Device::ConstantStep(ConstantStep {
            w_max: 1e3,
            w_min: -1e3,
            ..quiet_constant(0.001)
        }),
        update,
        mapping: Mapping {
            scale: Some(1.0),
            ..Mapping::default()
        },
        ..Hardware::ideal()
    };
    AnalogArray::new(&spec, &DMatrix::zeros(1, 1), 5).unwrap()
}

/// Δw of `TRIALS` independent updates of the single device.
fn deltas(a: &mut AnalogArray, update: impl Fn(&mut AnalogArray)) -> Vec<f64> {
    (0..TRIALS)
        .map(|_| {
            let before = a.weights()[(0, 0)];
            update(a);
            f64::from(a.weights()[(0, 0)] - before)
        })
        .collect()
}

#[test]
fn update_management_balances_probabilities() {
    let p = PulseCoincidence::default();
    let t = trains(&p, 0.01, 0.001, 0.5, 0.3);
    // k = η·x·d/g = 1.5 ⇒ BL = 2; both largest probabilities equal √(k/BL).
    assert_eq!(t.bl, 2);
    let (px, pd) = (t.b * 0.5, t.a * 0.3);
    assert!(
        (px - pd).abs() < 1e-6 && (px * pd * 2.0 - 1.5).abs() < 1e-5,
        "p_x {px}, p_d {pd}"
    );
}

#[test]
fn coincidence_expected_update_is_minus_eta_d_x() {
    let mut a = single(UpdateScheme::PulseCoincidence(PulseCoincidence::default()));
    for (xv, dv) in [(0.5f32, 0.3f32), (-0.5, 0.3), (0.2, -0.7)] {
        let x = DMatrix::from_element(1, 1, xv);
        let d = DMatrix::from_element(1, 1, dv);
        let lr = 0.01f32;
        let v = deltas(&mut a, |a| {
            a.update(Update::OuterProduct { x: &x, d: &d, lr });
        });
        // Coincidences per slot are Bernoulli(p_x·p_d) over BL slots: Binomial(BL, q).
        let t = trains(&PulseCoincidence::default(), lr, 0.001, xv.abs(), dv.abs());
        let q = f64::from((t.b * xv.abs()).min(1.0) * (t.a * dv.abs()).min(1.0));
        let sd = 0.001 * (f64::from(t.bl) * q * (1.0 - q)).sqrt();
        let (mean, _) = moments(&v);
        within_5se(
            &format!("E[Δw] at x = {xv}, d = {dv}"),
            mean,
            -f64::from(lr * dv * xv),
            sd / (TRIALS as f64).sqrt(),
        );
    }
}

#[test]
fn coincidence_clips_large_updates_at_the_train_length() {
    let mut a = single(UpdateScheme::PulseCoincidence(PulseCoincidence::default()));
    let x = DMatrix::from_element(1, 1, 1.0f32);
    let d = DMatrix::from_element(1, 1, 1.0f32);
    // η·x·d/g = 100 > BL = 31: every slot fires on both lines, so exactly 31 down pulses.
    for _ in 0..100 {
        let before = a.weights()[(0, 0)];
        let r = a.update(Update::OuterProduct {
            x: &x,
            d: &d,
            lr: 0.1,
        });
        assert_eq!(r.pulses, 31);
        assert!((a.weights()[(0, 0)] - before + 0.031).abs() < 1e-5);
    }
}

#[test]
fn coincidence_on_a_matrix_matches_the_outer_product_in_expectation() {
    let spec = Hardware {
        device: Device::ConstantStep(ConstantStep {
            w_max: 1e3,
            w_min: -1e3,
            ..quiet_constant(0.001)
        }),
        update: UpdateScheme::PulseCoincidence(PulseCoincidence::default()),
        mapping: Mapping {
            scale: Some(1.0),
            ..Mapping::default()
        },
        ..Hardware::ideal()
    };
    let x = DMatrix::from_fn(4, 3, |i, j| 0.25 * i as f32 - 0.3 * j as f32);
    let d = DMatrix::from_fn(3, 3, |i, j| {
        0.2 * (i as f32 + 1.0) * if j == 1 { -1.0 } else { 1.0 }
    });
    let mut a = AnalogArray::new(&spec, &DMatrix::zeros(3, 4), 8).unwrap();
    let reps = 4000;
    for _ in 0..reps {
        a.update(Update::OuterProduct {
            x: &x,
            d: &d,
            lr: 0.005,
        });
    }
    let want = -(&d * x.transpose()) * 0.005 * reps as f32;
    let got = a.weights();
    // Per sample, device (i, j) gets Binomial(BL, q) coincidences with BL·q = η|d_i x_j|/g (no
    // probability saturates here: η·max|x|·max|d|/g = 2.25 < BL), so the variance of the total
    // count is at most its mean, reps·Σ_b η|d_ib x_jb|/g.
    let abs_sum = d.abs() * x.abs().transpose();
    for ((g, w), s) in got.iter().zip(want.iter()).zip(abs_sum.iter()) {
        let sd = 0.001 * (reps as f32 * 0.005 * s / 0.001).sqrt();
        assert!(
            (g - w).abs() <= 5.0 * sd + 1e-4,
            "got {g}, want {w} (sd {sd})"
        );
    }
}

#[test]
fn stochastic_rounding_is_unbiased_and_capped() {
    let mut a = single(UpdateScheme::StochasticRounding(StochasticRounding {
        max_pulses: 5,
        aggregate: false,
    }));
    let dw = DMatrix::from_element(1, 1, 0.0023f32);
    let v = deltas(&mut a, |a| {
        a.update(Update::Delta(&dw));
    });
    // n ∈ {2, 3} with P(3) = 0.3: mean 2.3·dw_min, SD √(0.3·0.7)·dw_min.
    within_5se(
        "E[Δw]",
        moments(&v).0,
        0.0023,
        0.001 * (0.21f64 / TRIALS as f64).sqrt(),
    );
    let big = DMatrix::from_element(1, 1, -0.1f32);
    let before = a.weights()[(0, 0)];
    let r = a.update(Update::Delta(&big));
    assert_eq!(r.pulses, 5);
    // f32 state near |w| ≈ 50 after the trials above: 5 additions of 0.001 round to ≈ 1e-5.
    assert!((a.weights()[(0, 0)] - before + 0.005).abs() < 5e-5 * before.abs().max(1.0));
    let x = DMatrix::from_element(1, 1, 2.0f32);
    let d = DMatrix::from_element(1, 1, -0.5f32);
    let v = deltas(&mut a, |a| {
        a.update(Update::OuterProduct {
            x: &x,
            d: &d,
            lr: 0.0017,
        });
    });
    within_5se(
        "outer E[Δw]",
        moments(&v).0,
        0.0017,
        0.001 * (0.21f64 / TRIALS as f64).sqrt(),
    );
}

#[test]
fn aggregated_trains_have_the_moments_of_single_pulses() {
    use crate::rng::stream;
    use crate::tests::devices;
    // n pulses one by one vs one aggregated draw, far from the bounds: same mean and variance.
    let soft = SoftBounds {
        dw_min: 0.01,
        dw_min_std: 0.5,
        dw_min_dtod: 0.0,
        up_down_dtod: 0.0,
        w_min_dtod: 0.0,
        w_max_dtod: 0.0,
        ..SoftBounds::default()
    };
    let constant = ConstantStep {
        dw_min_std: 0.8,
        ..quiet_constant(0.01)
    };
    let linear_add = LinearStep {
        dw_min: 0.01,
        dw_min_std: 0.5,
        gamma_up: 0.5,
        gamma_down: 0.3,
        mult_noise: false,
        dw_min_dtod: 0.0,
        up_down_dtod: 0.0,
        w_min_dtod: 0.0,
        w_max_dtod: 0.0,
        gamma_up_dtod: 0.0,
        gamma_down_dtod: 0.0,
        ..LinearStep::default()
    };
    for device in [
        Device::SoftBounds(soft),
        Device::ConstantStep(constant),
        Device::LinearStep(linear_add),
    ] {
        let (pop, pulser) = devices(&device, 1, 1);
        for n in [7i32, -12] {
            let mut rng = stream(2, 3);
            let single: Vec<f64> = (0..TRIALS)
                .map(|_| {
                    let mut w = 0.1f32;
                    for _ in 0..n.unsigned_abs() {
                        w = pulser.pulse(&pop, 0, w, n > 0, &mut rng);
                    }
                    f64::from(w)
                })
                .collect();
            let agg: Vec<f64> = (0..TRIALS)
                .map(|_| f64::from(pulser.train(&pop, 0, 0.1, n, &mut rng).unwrap()))
                .collect();
            let (m1, v1) = moments(&single);
            let (m2, v2) = moments(&agg);
            let se_mean = ((v1 + v2) / TRIALS as f64).sqrt();
            within_5se(&format!("{} n = {n} mean", device.name()), m2, m1, se_mean);
            // SE of a difference of two sample variances: √(2/(N−1))·√(v1² + v2²) for near-normal data.
            let se_var = (2.0 / (TRIALS as f64 - 1.0)).sqrt() * (v1 * v1 + v2 * v2).sqrt();
            within_5se(
                &format!("{} n = {n} variance", device.name()),
                v2,
                v1,
                se_var,
            );
        }
    }
    let exp = Device::ExpStep(ExpStep::default());
    let (pop, pulser) = devices(&exp, 1, 1);
    assert!(
        pulser.train(&pop, 0, 0.0, 3, &mut stream(1, 1)).is_none(),
        "ExpStep has no aggregated form"
    );
}

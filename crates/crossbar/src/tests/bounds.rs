//! Invariant: any pulse train keeps every device within its own bounds.

use super::devices;
use crate::spec::*;
use rand::Rng;

/// Every model with large noise; the trains are random, seeded, and long enough to hit both bounds.
pub(super) fn models() -> Vec<Device> {
    let noisy = |c: f64| (0.05, c);
    let (dw, std) = noisy(2.0);
    vec![
        Device::ConstantStep(ConstantStep {
            dw_min: dw,
            dw_min_std: std,
            dw_min_dtod: 0.8,
            up_down: 0.3,
            ..ConstantStep::default()
        }),
        Device::LinearStep(LinearStep {
            dw_min: dw,
            dw_min_std: std,
            gamma_up: 2.0,
            gamma_down: -1.0,
            allow_increasing: true,
            mult_noise: false,
            ..LinearStep::default()
        }),
        Device::SoftBounds(SoftBounds {
            dw_min: dw,
            dw_min_std: std,
            w_max_dtod: 1.5,
            enforce_consistency: false,
            ..SoftBounds::default()
        }),
        Device::SoftBoundsReference(SoftBoundsReference {
            dw_min: dw,
            dw_min_std: std,
            reference_std: 0.3,
            subtract_symmetry_point: true,
            slope_up_dtod: 0.5,
            up_down: 0.4,
            ..SoftBoundsReference::default()
        }),
        Device::ExpStep(ExpStep {
            dw_min: dw,
            dw_min_std: std,
            dw_min_std_add: 0.1,
            dw_min_std_slope: 0.2,
            ..ExpStep::default()
        }),
        Device::ExpStep(ExpStep {
            w_min: 0.0,
            w_max: 2.0,
            dw_min: dw,
            a: -1.0,
            b: 0.0,
            a_up: -27.235,
            a_down: -2.235,
            gamma_up: 2.5,
            gamma_down: 2.5,
            ..ExpStep::default()
        }),
        Device::PowStep(PowStep {
            dw_min: dw,
            dw_min_std: std,
            pow_gamma_dtod: 3.0,
            pow_up_down: 0.5,
            ..PowStep::default()
        }),
        Device::PiecewiseStep(PiecewiseStep {
            dw_min: dw,
            dw_min_std: std,
            piecewise_up: vec![3.0, 0.0, 5.0],
            piecewise_down: vec![0.1, 4.0, 1.0],
            ..PiecewiseStep::default()
        }),
    ]
}

#[test]
fn any_pulse_train_keeps_every_device_within_its_bounds() {
    let n = 64;
    for (m, device) in models().into_iter().enumerate() {
        device.validate("device").unwrap();
        let (pop, pulser) = devices(&device, n, m as u64);
        let mut rng = crate::rng::stream(m as u64, 77);
        for k in 0..n {
            let (lo, hi) = (pop.b_min[k], pop.b_max[k]);
            let mut w = rng.random_range(lo.min(hi)..=hi.max(lo));
            for _ in 0..2000 {
                let up = rng.random_bool(0.5);
                let run = rng.random_range(1..40);
                for _ in 0..run {
                    w = pulser.pulse(&pop, k, w, up, &mut rng);
                    assert!(
                        w >= lo && w <= hi || (lo >= hi),
                        "{} device {k}: {w} outside [{lo}, {hi}]",
                        device.name()
                    );
                    assert!(w.is_finite(), "{} device {k}: non-finite", device.name());
                }
            }
        }
    }
}

//! Same seed, same array and same numbers; different seeds, different realisations.

use crate::periphery::NeuronMismatch;
use crate::spec::*;
use crate::{AnalogArray, Crossbar, Update};
use nalgebra::DMatrix;
use rand::SeedableRng;

fn noisy() -> Hardware {
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../device-models/noisy-reference.ron"
    ))
    .unwrap();
    let mut hw: Hardware = ron::from_str(&text).unwrap();
    hw.faults.stuck_at_zero = 0.05;
    hw.drift = Some(Drift::PcmLike(PcmLike::default()));
    hw
}

fn run(spec: &Hardware, seed: u64) -> (Vec<f32>, Vec<f32>, u64) {
    let w0 = DMatrix::from_fn(16, 10, |i, j| ((i + 2 * j) as f32).sin() * 0.2);
    let x = DMatrix::from_fn(10, 8, |i, j| ((i * j) as f32).cos());
    let d = DMatrix::from_fn(16, 8, |i, j| ((i + j) as f32).sin() * 0.1);
    let mut a = AnalogArray::new(spec, &w0, seed).unwrap();
    let mut y = DMatrix::zeros(16, 8);
    let mut pulses = 0;
    for _ in 0..5 {
        a.read(&x, &mut y);
        pulses += a
            .update(Update::OuterProduct {
                x: &x,
                d: &d,
                lr: 0.1,
            })
            .pulses;
    }
    a.age(3600.0);
    a.read(&x, &mut y);
    (
        a.device_bounds().unwrap().1.to_vec(),
        y.as_slice().to_vec(),
        pulses,
    )
}

#[test]
fn same_seed_same_bits_different_seed_different_realisation() {
    let spec = noisy();
    let (b1, y1, p1) = run(&spec, 7);
    let (b2, y2, p2) = run(&spec, 7);
    assert_eq!((&b1, &y1, p1), (&b2, &y2, p2));
    let (b3, y3, _) = run(&spec, 8);
    assert_ne!(b1, b3);
    assert_ne!(y1, y3);
}

#[test]
fn changing_one_spread_keeps_the_other_hidden_parameters() {
    // Common random numbers: a sweep over dw_min_std must see the same bounds.
    let mut spec = noisy();
    let (b1, _, _) = run(&spec, 7);
    if let Device::SoftBounds(d) = &mut spec.device {
        d.dw_min_std = 0.0;
    }
    let (b2, _, _) = run(&spec, 7);
    assert_eq!(b1, b2);
}

#[test]
fn periphery_sampling_is_seeded_and_has_the_specified_spread() {
    let p = Periphery {
        alpha_std: 0.1,
        alpha_split_std: 0.05,
        act_gain_std: 0.2,
        act_offset_std: 0.03,
        beta_gain_std: 0.1,
        compartment_noise: 0.01,
        leak: 0.5,
    };
    let sizes = [5, 20_000, 3];
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(1);
    let m = p.sample(&sizes, &mut rng);
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(1);
    assert_eq!(m, p.sample(&sizes, &mut rng));
    assert_eq!(m.len(), 2);
    assert_eq!(
        (m[0].alpha_mix_offset.len(), m[1].alpha_mix_offset.len()),
        (20_000, 3)
    );
    assert_eq!((m[0].compartment_noise, m[0].leak), (0.01, 0.5));
    let l = &m[0];
    let n = 20_000.0f64;
    let sd = |v: Vec<f64>| super::moments(&v).1.sqrt();
    let leak: Vec<f64> = l
        .alpha_split_offset
        .iter()
        .zip(l.alpha_mix_offset.iter())
        .map(|(s, m)| f64::from(s - m))
        .collect();
    // Sample SD of a normal sample has SE σ/√(2n).
    super::within_5se(
        "split − mix spread",
        sd(leak),
        0.05,
        0.05 / (2.0 * n).sqrt(),
    );
    super::within_5se(
        "α spread",
        sd(l.alpha_mix_offset.iter().map(|&v| f64::from(v)).collect()),
        0.1,
        0.1 / (2.0 * n).sqrt(),
    );
    super::within_5se(
        "gain spread",
        sd(l.act_gain.iter().map(|&v| f64::from(v)).collect()),
        0.2,
        0.2 / (2.0 * n).sqrt(),
    );
    super::within_5se(
        "offset spread",
        sd(l.act_offset.iter().map(|&v| f64::from(v)).collect()),
        0.03,
        0.03 / (2.0 * n).sqrt(),
    );
    super::within_5se(
        "β gain spread",
        sd(l.beta_gain.iter().map(|&v| f64::from(v)).collect()),
        0.1,
        0.1 / (2.0 * n).sqrt(),
    );
    let nominal = Periphery::default().sample(&sizes, &mut rng);
    assert!(nominal.iter().all(NeuronMismatch::is_nominal));
}

//! The fast update paths: chunked streams independent of the thread count, interleaved pulse
//! trains equal to one-by-one pulses, and the exact Gaussian sum of constant steps.

use super::{moments, within_5se};
use crate::spec::*;
use crate::{AnalogArray, Crossbar, Update};
use nalgebra::DMatrix;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

/// 160 × 150 = 24 000 devices: more than one update chunk.
const ROWS: usize = 160;
const COLS: usize = 150;

fn with_update(device: Device, aggregate: bool) -> Hardware {
    Hardware {
        device,
        update: UpdateScheme::StochasticRounding(StochasticRounding {
            aggregate,
            ..Default::default()
        }),
        io: Io::default(),
        mapping: Mapping {
            scale: Some(1.0),
            ..Mapping::default()
        },
        ..Hardware::ideal()
    }
}

/// Three reads and three updates on a pool of `threads` threads: weights, outputs and pulses.
fn run(spec: &Hardware, threads: usize) -> (Vec<u32>, Vec<u32>, u64) {
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .unwrap();
    pool.install(|| {
        let w0 = DMatrix::from_fn(ROWS, COLS, |i, j| ((i * 3 + j * 7) as f32).sin() * 0.3);
        let dw = DMatrix::from_fn(ROWS, COLS, |i, j| ((i * 5 + j) as f32).cos() * 0.01);
        let x = DMatrix::from_fn(COLS, 20, |i, j| ((i + 3 * j) as f32).sin());
        let mut y = DMatrix::zeros(ROWS, 20);
        let mut a = AnalogArray::new(spec, &w0, 11).unwrap();
        let mut pulses = 0;
        for _ in 0..3 {
            pulses += a.update(Update::Delta(&dw)).pulses;
            a.read(&x, &mut y);
        }
        let bits = |m: &DMatrix<f32>| m.iter().map(|v| v.to_bits()).collect::<Vec<_>>();
        (bits(&a.weights()), bits(&y), pulses)
    })
}

#[test]
fn updates_and_reads_do_not_depend_on_the_thread_count() {
    let soft_written = Device::SoftBounds(SoftBounds {
        write_noise_std: 2.0,
        ..SoftBounds::default()
    });
    let specs = [
        with_update(Device::SoftBounds(SoftBounds::default()), false),
        with_update(soft_written, false),
        with_update(Device::SoftBounds(SoftBounds::default()), true),
        with_update(Device::ConstantStep(ConstantStep::default()), false),
        with_update(Device::ExpStep(ExpStep::default()), false),
        // Outputs saturate: bound management re-reads columns, continuing their input noise.
        Hardware {
            io: Io {
                out_bound: 0.5,
                inp_noise: 0.01,
                ..Io::default()
            },
            ..with_update(Device::SoftBounds(SoftBounds::default()), false)
        },
    ];
    for spec in specs {
        let one = run(&spec, 1);
        assert!(one.2 > 0, "{:?}: no pulses", spec.device);
        assert_eq!(one, run(&spec, 2), "{:?}", spec.device);
        assert_eq!(one, run(&spec, 3), "{:?}", spec.device);
    }
}

/// Without cycle-to-cycle noise the interleaved trains give exactly the bits of one-by-one pulses.
#[test]
fn interleaved_trains_equal_pulses_one_by_one() {
    // dw_min a power of two, requests whole multiples of it: n = m exactly whatever the rounding.
    let g = 2f64.powi(-10);
    let device = Device::SoftBounds(SoftBounds {
        dw_min: g,
        dw_min_std: 0.0,
        ..SoftBounds::default()
    });
    let spec = with_update(device.clone(), false);
    let w0 = DMatrix::from_fn(ROWS, COLS, |i, j| ((i * 3 + j * 7) as f32).sin() * 0.5);
    let m = DMatrix::from_fn(ROWS, COLS, |i, j| ((i * 7 + j * 5) % 13) as i32 - 6);
    let dw = m.map(|v| v as f32 * g as f32);
    let mut a = AnalogArray::new(&spec, &w0, 5).unwrap();
    let expected_pulses: u64 = m.iter().map(|v| u64::from(v.unsigned_abs())).sum();
    assert_eq!(a.update(Update::Delta(&dw)).pulses, expected_pulses);
    let (pop, pulser) = super::devices(&device, ROWS * COLS, 5);
    let mut rng = ChaCha8Rng::seed_from_u64(0);
    for k in 0..ROWS * COLS {
        let mut w = w0.as_slice()[k].max(pop.b_min[k]).min(pop.b_max[k]);
        for _ in 0..m.as_slice()[k].unsigned_abs() {
            w = pulser.pulse(&pop, k, w, m.as_slice()[k] > 0, &mut rng);
        }
        assert_eq!(
            w.to_bits(),
            a.device_values().as_slice()[k].to_bits(),
            "device {k}"
        );
    }
}

/// Final values of `count` identical devices after `n` pulses from `w0` through the array, and
/// the same by one-by-one pulses of the reference rule.
fn both_ways(device: Device, w0: f32, n: i32, count: usize) -> (Vec<f64>, Vec<f64>) {
    let g = 2f64.powi(-10);
    let spec = with_update(device.clone(), false);
    let w = DMatrix::from_element(count, 1, w0);
    let mut a = AnalogArray::new(&spec, &w, 3).unwrap();
    a.update(Update::Delta(&DMatrix::from_element(
        count,
        1,
        n as f32 * g as f32,
    )));
    let fast = a.device_values().iter().map(|&v| f64::from(v)).collect();
    let (pop, pulser) = super::devices(&device, 1, 3);
    let mut rng = ChaCha8Rng::seed_from_u64(99);
    let slow = (0..count)
        .map(|_| {
            let mut v = w0;
            for _ in 0..n.unsigned_abs() {
                v = pulser.pulse(&pop, 0, v, n > 0, &mut rng);
            }
            f64::from(v)
        })
        .collect();
    (fast, slow)
}

fn same_distribution(what: &str, fast: &[f64], slow: &[f64]) {
    let (mf, vf) = moments(fast);
    let (ms, vs) = moments(slow);
    let n = fast.len() as f64;
    within_5se(&format!("{what} mean"), mf, ms, ((vf + vs) / n).sqrt());
    // The standard error of a sample variance is √((m₄ − var²)/n), m₄ the fourth central moment.
    let m4 = |v: &[f64], m: f64| v.iter().map(|x| (x - m).powi(4)).sum::<f64>() / n;
    let se = ((m4(fast, mf) - vf * vf) / n + (m4(slow, ms) - vs * vs) / n).sqrt();
    within_5se(&format!("{what} variance"), vf, vs, se);
}

fn identical(dw_min_std: f64) -> PulsedCommonParts {
    PulsedCommonParts {
        dw_min: 2f64.powi(-10),
        dw_min_std,
    }
}

/// The few common fields these tests set; every device-to-device spread is off.
struct PulsedCommonParts {
    dw_min: f64,
    dw_min_std: f64,
}

fn constant(p: &PulsedCommonParts) -> Device {
    Device::ConstantStep(ConstantStep {
        dw_min: p.dw_min,
        dw_min_std: p.dw_min_std,
        ..super::quiet_constant(p.dw_min)
    })
}

fn soft(p: &PulsedCommonParts) -> Device {
    Device::SoftBounds(SoftBounds {
        dw_min: p.dw_min,
        dw_min_std: p.dw_min_std,
        dw_min_dtod: 0.0,
        up_down_dtod: 0.0,
        w_min_dtod: 0.0,
        w_max_dtod: 0.0,
        ..SoftBounds::default()
    })
}

#[test]
fn the_gaussian_sum_of_constant_steps_is_exact_away_from_the_bounds() {
    let p = identical(0.3);
    let n = 8;
    let (fast, slow) = both_ways(constant(&p), 0.0, n, 20_000);
    // Closed form: mean n·Δw, variance n·(σ·Δw)².
    let (mean, var) = moments(&fast);
    let dw = p.dw_min;
    let count = fast.len() as f64;
    let want_var = f64::from(n) * (0.3 * dw).powi(2);
    within_5se(
        "sum mean",
        mean,
        f64::from(n) * dw,
        (want_var / count).sqrt(),
    );
    within_5se(
        "sum variance",
        var,
        want_var,
        want_var * (2.0 / (count - 1.0)).sqrt(),
    );
    same_distribution("constant step, far from bounds", &fast, &slow);
    // Near the upper bound the pulses are applied one by one and clipped (about half the devices
    // end at the bound).
    let (fast, slow) = both_ways(constant(&p), 0.5925, n, 20_000);
    assert!(fast.iter().all(|&v| v <= 0.6 + 1e-7));
    let at_bound =
        |v: &[f64]| v.iter().filter(|&&x| x >= 0.6 - 1e-7).count() as f64 / v.len() as f64;
    let (pf, ps) = (at_bound(&fast), at_bound(&slow));
    assert!(pf > 0.2 && pf < 0.8, "{pf}");
    within_5se(
        "fraction at the bound",
        pf,
        ps,
        (2.0 * ps * (1.0 - ps) / 20_000.0).sqrt(),
    );
    same_distribution("constant step, at the bound", &fast, &slow);
    // Down pulses.
    let (fast, slow) = both_ways(constant(&p), 0.1, -5, 20_000);
    same_distribution("constant step, down", &fast, &slow);
}

#[test]
fn interleaved_noisy_trains_match_pulses_one_by_one_in_distribution() {
    let p = identical(0.3);
    for (w0, n) in [(0.3, 5), (-0.2, -7), (0.59, 9), (0.0, 1)] {
        let (fast, slow) = both_ways(soft(&p), w0, n, 20_000);
        same_distribution(&format!("soft bounds from {w0}, {n} pulses"), &fast, &slow);
    }
}

//! Read pipeline: DAC and ADC levels and saturation, noise stages, bound management.

use super::{moments, within_5se};
use crate::spec::*;
use crate::{AnalogArray, Crossbar};
use nalgebra::DMatrix;

/// An ideal-device array with identity weights read through `io`.
pub(super) fn identity_array(n: usize, io: Io) -> AnalogArray {
    let spec = Hardware {
        io,
        ..Hardware::ideal()
    };
    AnalogArray::new(&spec, &DMatrix::identity(n, n), 3).unwrap()
}

/// Io with every stage off, to switch one on at a time.
pub(super) fn off() -> Io {
    Io {
        is_perfect: false,
        inp_res: 0.0,
        inp_bound: 0.0,
        inp_noise: 0.0,
        out_res: 0.0,
        out_bound: 0.0,
        out_noise: 0.0,
        out_noise_std: 0.0,
        w_noise: 0.0,
        w_noise_type: WeightNoiseType::AdditiveConstant,
        noise_management: NoiseManagement::None,
        nm_thres: 0.0,
        bound_management: BoundManagement::None,
        max_bm_factor: 1000.0,
        max_bm_res: 0.25,
    }
}

#[test]
fn dac_levels_and_clipping_are_exact() {
    let io = Io {
        inp_res: 1.0 / 126.0,
        inp_bound: 1.0,
        ..off()
    };
    let mut a = identity_array(1, io);
    let step = (2.0 * 1.0 * (1.0f64 / 126.0)) as f32;
    let xs: Vec<f32> = (0..=400).map(|i| -1.5 + i as f32 * 0.0075).collect();
    let x = DMatrix::from_row_slice(1, xs.len(), &xs);
    let mut y = DMatrix::zeros(1, xs.len());
    a.read(&x, &mut y);
    for (v, &xv) in y.iter().zip(&xs) {
        let want = ((xv / step).round_ties_even() * step).clamp(-1.0, 1.0);
        assert_eq!(*v, want, "DAC at {xv}");
    }
    // 63 levels on each side of zero, plus zero.
    let levels: std::collections::BTreeSet<i32> =
        y.iter().map(|v| (v / step).round() as i32).collect();
    assert_eq!(levels.len(), 127);
}

#[test]
fn adc_levels_and_saturation_are_exact() {
    let io = Io {
        out_res: 1.0 / 510.0,
        out_bound: 12.0,
        ..off()
    };
    let mut a = identity_array(1, io);
    let step = (2.0 * 12.0 * (1.0f64 / 510.0)) as f32;
    let xs: Vec<f32> = (0..=600).map(|i| -15.0 + i as f32 * 0.05).collect();
    let x = DMatrix::from_row_slice(1, xs.len(), &xs);
    let mut y = DMatrix::zeros(1, xs.len());
    a.read(&x, &mut y);
    for (v, &xv) in y.iter().zip(&xs) {
        let want = ((xv / step).round_ties_even() * step).clamp(-12.0, 12.0);
        assert_eq!(*v, want, "ADC at {xv}");
    }
    assert_eq!(y[0], -12.0);
    assert_eq!(y[600], 12.0);
}

#[test]
fn noise_management_rescales_around_the_dac() {
    // AbsMax maps max|x| to the DAC bound: the coarse DAC then resolves the largest input exactly.
    let io = Io {
        inp_res: 0.25,
        inp_bound: 1.0,
        noise_management: NoiseManagement::AbsMax,
        ..off()
    };
    let mut a = identity_array(3, io);
    let x = DMatrix::from_column_slice(3, 1, &[8.0, 2.0, -3.1]);
    let mut y = DMatrix::zeros(3, 1);
    a.read(&x, &mut y);
    // x/8 = (1, 0.25, −0.3875) → step 0.5 → (1, 0 [tie to even], −0.5) → ×8.
    assert_eq!(y.as_slice(), &[8.0, 0.0, -4.0]);
}

#[test]
fn iterative_bound_management_recovers_saturated_outputs() {
    let spec = |bm| Hardware {
        io: Io {
            out_bound: 1.0,
            noise_management: NoiseManagement::AbsMax,
            bound_management: bm,
            ..off()
        },
        ..Hardware::ideal()
    };
    let w = DMatrix::from_element(1, 8, 1.0f32);
    let x = DMatrix::from_element(8, 1, 0.5f32);
    let mut y = DMatrix::zeros(1, 1);
    // x/α = 1 per line, W·x̃ = 8 > 1: without management the ADC saturates at 1 (×α = 0.5).
    AnalogArray::new(&spec(BoundManagement::None), &w, 1)
        .unwrap()
        .read(&x, &mut y);
    assert_eq!(y[0], 0.5);
    // Halving three times brings 8 down to 1, which no longer exceeds the bound: exact result 4.
    AnalogArray::new(&spec(BoundManagement::Iterative), &w, 1)
        .unwrap()
        .read(&x, &mut y);
    assert_eq!(y[0], 4.0);
    // Transposed reads have no bound management (as in aihwkit).
    let mut a = AnalogArray::new(&spec(BoundManagement::Iterative), &w.transpose(), 1).unwrap();
    let mut z = DMatrix::zeros(1, 1);
    a.read_transposed(&x, &mut z);
    assert_eq!(z[0], 0.5);
}

#[test]
fn bound_management_stops_at_the_resolution_limit() {
    // With a DAC step Δ = 2/126 the limit is β > 0.25/Δ = 15.75: the last read uses β = 16.
    let io = Io {
        inp_res: 1.0 / 126.0,
        inp_bound: 1.0,
        out_bound: 1.0,
        noise_management: NoiseManagement::AbsMax,
        bound_management: BoundManagement::Iterative,
        ..off()
    };
    let w = DMatrix::from_element(1, 64, 1.0f32);
    let x = DMatrix::from_element(64, 1, 1.0f32);
    let mut y = DMatrix::zeros(1, 1);
    AnalogArray::new(
        &Hardware {
            io,
            ..Hardware::ideal()
        },
        &w,
        1,
    )
    .unwrap()
    .read(&x, &mut y);
    // 1/16 quantises to round(0.0625·63)/63 = 4/63; 64 lines sum to 256/63 > 1: saturated at 1, ×16.
    assert_eq!(y[0], 16.0);
}

#[test]
fn output_and_weight_noise_have_their_specified_spread() {
    let n = 20_000;
    let x = DMatrix::from_element(4, n, 0.5f32);
    let mut y = DMatrix::zeros(4, n);
    let w = DMatrix::from_fn(4, 4, |i, j| if i == j { 0.5 } else { 0.25 });
    let mut a = AnalogArray::new(
        &Hardware {
            io: Io {
                out_noise: 0.06,
                ..off()
            },
            ..Hardware::ideal()
        },
        &w,
        2,
    )
    .unwrap();
    a.read(&x, &mut y);
    let r: Vec<f64> = y.row(0).iter().map(|&v| f64::from(v) - 0.625).collect();
    let (m, var) = moments(&r);
    within_5se("out noise mean", m, 0.0, 0.06 / (n as f64).sqrt());
    within_5se(
        "out noise var",
        var,
        0.0036,
        0.0036 * (2.0 / n as f64).sqrt(),
    );
    // AdditiveConstant: σ = w_noise·‖x̃‖₂ with x̃ = x/max|x| = (1, 1, 1, 1): ‖x̃‖ = 2, ×α = 0.5.
    let io = Io {
        w_noise: 0.1,
        noise_management: NoiseManagement::AbsMax,
        ..off()
    };
    let mut a = AnalogArray::new(
        &Hardware {
            io,
            ..Hardware::ideal()
        },
        &w,
        2,
    )
    .unwrap();
    a.read(&x, &mut y);
    let r: Vec<f64> = y.row(1).iter().map(|&v| f64::from(v) - 0.625).collect();
    within_5se(
        "w noise var",
        moments(&r).1,
        0.01,
        0.01 * (2.0 / n as f64).sqrt(),
    );
    // PcmRead: σ_i = w_noise·√(Σ_j |W_ij| x̃_j²) = 0.1·√1.25, ×α = 0.5.
    let io = Io {
        w_noise: 0.1,
        w_noise_type: WeightNoiseType::PcmRead,
        noise_management: NoiseManagement::AbsMax,
        ..off()
    };
    let mut a = AnalogArray::new(
        &Hardware {
            io,
            ..Hardware::ideal()
        },
        &w,
        2,
    )
    .unwrap();
    a.read(&x, &mut y);
    let r: Vec<f64> = y.row(2).iter().map(|&v| f64::from(v) - 0.625).collect();
    let want = 0.01 * 1.25 * 0.25;
    within_5se(
        "pcm read var",
        moments(&r).1,
        want,
        want * (2.0 / n as f64).sqrt(),
    );
}

//! The ideal array is the oracle: an ideal spec reproduces it bit for bit, and each non-ideality
//! switched on alone changes the numbers.

use super::quiet_constant;
use crate::spec::*;
use crate::{AnalogArray, Crossbar, IdealArray, Update, build};
use nalgebra::DMatrix;

fn w0() -> DMatrix<f32> {
    DMatrix::from_fn(12, 9, |i, j| ((i * 9 + j) as f32 * 0.37).sin() * 0.3)
}
fn xs() -> DMatrix<f32> {
    DMatrix::from_fn(9, 5, |i, j| ((i * 5 + j) as f32 * 0.53).cos())
}
fn ds() -> DMatrix<f32> {
    DMatrix::from_fn(12, 5, |i, j| ((i * 5 + j) as f32 * 0.71).sin() * 0.5)
}

/// Forward read, transposed read, an outer-product and a delta update, reads again, weights.
fn exercise(a: &mut dyn Crossbar) -> Vec<DMatrix<f32>> {
    let (x, d) = (xs(), ds());
    let mut y = DMatrix::zeros(12, 5);
    let mut z = DMatrix::zeros(9, 5);
    a.read(&x, &mut y);
    a.read_transposed(&d, &mut z);
    let mut out = vec![y.clone(), z.clone()];
    a.update(Update::OuterProduct {
        x: &x,
        d: &d,
        lr: 0.05,
    });
    a.update(Update::Delta(&DMatrix::from_fn(12, 9, |i, j| {
        0.01 * (i as f32 - j as f32)
    })));
    a.read(&x, &mut y);
    a.read_transposed(&d, &mut z);
    a.age(1e5);
    out.extend([y, z, a.weights()]);
    out
}

#[test]
fn an_ideal_spec_is_the_ideal_array_bit_for_bit() {
    let want = exercise(&mut IdealArray::new(w0()));
    let mut analog = AnalogArray::new(&Hardware::ideal(), &w0(), 1).unwrap();
    assert_eq!(exercise(&mut analog), want);
    // Every stage present but switched off, and faults/drift sections at zero, are ideal too.
    let zero_io = Hardware {
        io: Io {
            inp_res: 0.0,
            inp_bound: 0.0,
            out_res: 0.0,
            out_bound: 0.0,
            out_noise: 0.0,
            ..Io::default()
        },
        faults: Faults::default(),
        mapping: Mapping {
            scale: Some(1.0),
            max_fraction: 0.3,
        },
        ..Hardware::ideal()
    };
    let mut analog = AnalogArray::new(&zero_io, &w0(), 1).unwrap();
    assert_eq!(exercise(&mut analog), want);
    let mut built = build(&Hardware::ideal(), &w0(), 1).unwrap();
    assert_eq!(exercise(built.as_mut()), want);
}

/// The single non-idealities, each on alone.
fn single_non_idealities() -> Vec<(&'static str, Hardware)> {
    let off = Io {
        inp_res: 0.0,
        inp_bound: 0.0,
        out_res: 0.0,
        out_bound: 0.0,
        out_noise: 0.0,
        ..Io::default()
    };
    let io = |io: Io| Hardware {
        io,
        ..Hardware::ideal()
    };
    let device = |d: Device, u: UpdateScheme| Hardware {
        device: d,
        update: u,
        ..Hardware::ideal()
    };
    let wide = ConstantStep {
        w_max: 10.0,
        w_min: -10.0,
        ..quiet_constant(0.001)
    };
    vec![
        (
            "DAC resolution",
            io(Io {
                inp_res: 1.0 / 14.0,
                inp_bound: 1.0,
                ..off.clone()
            }),
        ),
        (
            "DAC bound",
            io(Io {
                inp_bound: 0.5,
                noise_management: NoiseManagement::None,
                ..off.clone()
            }),
        ),
        (
            "input noise",
            io(Io {
                inp_noise: 0.01,
                ..off.clone()
            }),
        ),
        (
            "ADC resolution",
            io(Io {
                out_res: 1.0 / 30.0,
                out_bound: 12.0,
                ..off.clone()
            }),
        ),
        (
            "ADC bound",
            io(Io {
                out_bound: 0.5,
                bound_management: BoundManagement::None,
                ..off.clone()
            }),
        ),
        (
            "output noise",
            io(Io {
                out_noise: 0.06,
                ..off.clone()
            }),
        ),
        (
            "weight noise",
            io(Io {
                w_noise: 0.02,
                ..off.clone()
            }),
        ),
        (
            "PCM read noise",
            io(Io {
                w_noise: 0.02,
                w_noise_type: WeightNoiseType::PcmRead,
                ..off.clone()
            }),
        ),
        (
            "device bounds",
            Hardware {
                mapping: Mapping {
                    scale: Some(1.0),
                    ..Mapping::default()
                },
                ..device(
                    Device::ConstantStep(ConstantStep {
                        w_max: 0.05,
                        w_min: -0.05,
                        ..quiet_constant(0.001)
                    }),
                    UpdateScheme::FloatingPoint,
                )
            },
        ),
        (
            "stochastic rounding",
            device(
                Device::ConstantStep(wide.clone()),
                UpdateScheme::StochasticRounding(StochasticRounding::default()),
            ),
        ),
        (
            "pulse coincidence",
            device(
                Device::ConstantStep(wide.clone()),
                UpdateScheme::PulseCoincidence(PulseCoincidence::default()),
            ),
        ),
        (
            "cycle-to-cycle noise",
            device(
                Device::ConstantStep(ConstantStep {
                    dw_min_std: 0.5,
                    ..wide.clone()
                }),
                UpdateScheme::StochasticRounding(StochasticRounding::default()),
            ),
        ),
        (
            "device-to-device steps",
            device(
                Device::ConstantStep(ConstantStep {
                    dw_min_dtod: 0.5,
                    ..wide.clone()
                }),
                UpdateScheme::StochasticRounding(StochasticRounding::default()),
            ),
        ),
        (
            "write noise",
            device(
                Device::ConstantStep(ConstantStep {
                    write_noise_std: 5.0,
                    ..wide.clone()
                }),
                UpdateScheme::FloatingPoint,
            ),
        ),
        (
            "decay",
            device(
                Device::ConstantStep(ConstantStep {
                    lifetime: 10.0,
                    ..wide.clone()
                }),
                UpdateScheme::FloatingPoint,
            ),
        ),
        (
            "diffusion",
            device(
                Device::ConstantStep(ConstantStep {
                    diffusion: 0.01,
                    ..wide.clone()
                }),
                UpdateScheme::FloatingPoint,
            ),
        ),
        (
            "stuck at zero",
            Hardware {
                faults: Faults {
                    stuck_at_zero: 0.2,
                    ..Faults::default()
                },
                ..Hardware::ideal()
            },
        ),
        (
            "drift",
            Hardware {
                drift: Some(Drift::PcmLike(PcmLike::default())),
                ..Hardware::ideal()
            },
        ),
    ]
}

#[test]
fn each_non_ideality_alone_changes_the_numbers() {
    let want = exercise(&mut IdealArray::new(w0()));
    for (name, spec) in single_non_idealities() {
        spec.validate().unwrap_or_else(|e| panic!("{name}: {e}"));
        assert!(!spec.is_ideal_array(), "{name} must not count as ideal");
        let got = exercise(&mut AnalogArray::new(&spec, &w0(), 4).unwrap());
        let largest = got
            .iter()
            .zip(&want)
            .map(|(g, w)| (g - w).abs().max())
            .fold(0.0f32, f32::max);
        assert!(largest > 1e-4, "{name} left every number unchanged");
        assert!(
            got.iter().all(|m| m.iter().all(|v| v.is_finite())),
            "{name} produced a non-finite number"
        );
    }
}

#[test]
fn the_mapping_scale_puts_the_largest_weight_at_the_chosen_fraction() {
    let spec = Hardware {
        device: Device::SoftBounds(SoftBounds {
            w_max: 0.8,
            w_min: -0.6,
            ..SoftBounds::default()
        }),
        ..Hardware::ideal()
    };
    let a = AnalogArray::new(&spec, &w0(), 1).unwrap();
    let max_w = w0().iter().fold(0.0f32, |m, v| m.max(v.abs()));
    // Half-range ρ = min(0.8, 0.6) = 0.6, default fraction 0.5.
    assert!((a.scale() - max_w / 0.3).abs() < 1e-6);
    // A one-sided device is read around its midpoint.
    let pcm = Hardware {
        device: Device::ExpStep(ExpStep {
            w_min: 0.0,
            w_max: 2.0,
            w_min_dtod: 0.0,
            w_max_dtod: 0.0,
            ..ExpStep::default()
        }),
        ..Hardware::ideal()
    };
    let a = AnalogArray::new(&pcm, &w0(), 1).unwrap();
    assert!((a.scale() - max_w / 0.5).abs() < 1e-6);
    let w = a.weights();
    assert!(
        (w - w0()).abs().max() < 1e-5,
        "weights survive programming on a one-sided device"
    );
    assert!(a.device_values().iter().all(|&v| (0.0..=2.0).contains(&v)));
}

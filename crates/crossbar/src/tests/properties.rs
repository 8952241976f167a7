//! Property tests: the invariants the other modules check on a few seeded samples, over inputs
//! proptest draws (64 cases each; a failure is shrunk to a minimal case and printed).

use super::bounds::models;
use super::converters::{identity_array, off};
use super::{devices, quiet_constant};
use crate::spec::*;
use crate::{AnalogArray, Crossbar, IdealArray, Update};
use nalgebra::DMatrix;
use proptest::prelude::*;

/// Step of the conservation arrays.
const DW: f64 = 0.01;

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn any_pulse_train_keeps_every_device_within_its_bounds(
        model in 0..models().len(),
        seed in any::<u64>(),
        device in 0usize..16,
        start in 0.0f32..=1.0,
        train in prop::collection::vec((any::<bool>(), 1usize..60), 1..80),
    ) {
        let spec = &models()[model];
        let (pop, pulser) = devices(spec, 16, seed);
        let (lo, hi) = (pop.b_min[device], pop.b_max[device]);
        let mut rng = crate::rng::stream(seed, 77);
        let mut w = lo + start * (hi - lo);
        for (up, run) in train {
            for _ in 0..run {
                w = pulser.pulse(&pop, device, w, up, &mut rng);
                prop_assert!(w.is_finite(), "{}: non-finite weight", spec.name());
                // A device whose sampled bounds crossed is dead and keeps its weight.
                prop_assert!(
                    hi <= lo || (lo <= w && w <= hi),
                    "{}: {w} outside [{lo}, {hi}]",
                    spec.name()
                );
            }
        }
    }

    #[test]
    fn stochastic_rounding_moves_weights_by_whole_steps_and_reports_every_pulse(
        deltas in prop::collection::vec(-0.5f32..0.5, 12),
        seed in any::<u64>(),
        max_pulses in 1u32..64,
    ) {
        let spec = Hardware {
            device: Device::ConstantStep(ConstantStep {
                w_min: -10.0,
                w_max: 10.0,
                ..quiet_constant(DW)
            }),
            update: UpdateScheme::StochasticRounding(StochasticRounding {
                max_pulses,
                aggregate: false,
            }),
            ..Hardware::ideal()
        };
        let mut array = AnalogArray::new(&spec, &DMatrix::zeros(3, 4), seed).unwrap();
        let delta = DMatrix::from_row_slice(3, 4, &deltas);
        let report = array.update(Update::Delta(&delta));
        let mut pulses = 0;
        for (w, d) in array.weights().iter().zip(delta.iter()) {
            let steps = (f64::from(*w) / DW).round();
            prop_assert!((f64::from(*w) - steps * DW).abs() < 1e-5, "{w} is not a whole step");
            // Rounded down or up, never past the cap, never against the requested sign.
            let wanted = (f64::from(*d) / DW).abs().min(f64::from(max_pulses));
            prop_assert!(steps.abs() >= wanted.floor() && steps.abs() <= wanted.ceil());
            prop_assert!(steps == 0.0 || (steps > 0.0) == (*d > 0.0));
            pulses += steps.abs() as u64;
        }
        prop_assert_eq!(report.pulses, pulses);
    }

    #[test]
    fn the_ideal_array_adds_exactly_the_update(
        w0 in prop::collection::vec(-2.0f32..2.0, 6),
        deltas in prop::collection::vec(-1.0f32..1.0, 6),
    ) {
        let (w0, delta) = (
            DMatrix::from_row_slice(2, 3, &w0),
            DMatrix::from_row_slice(2, 3, &deltas),
        );
        let mut array = IdealArray::new(w0.clone());
        let report = array.update(Update::Delta(&delta));
        prop_assert_eq!(array.weights(), w0 + delta);
        prop_assert_eq!(report.pulses, 0);
    }

    #[test]
    fn dac_and_adc_reads_are_monotone_in_the_input(
        inp_levels in 2u32..300,
        out_levels in 2u32..300,
        inp_bound in 0.1f64..4.0,
        out_bound in 0.1f64..20.0,
        mut xs in prop::collection::vec(-6.0f32..6.0, 2..50),
    ) {
        xs.sort_by(f32::total_cmp);
        let io = Io {
            inp_res: 1.0 / f64::from(inp_levels),
            inp_bound,
            out_res: 1.0 / f64::from(out_levels),
            out_bound,
            ..off()
        };
        let mut array = identity_array(1, io);
        let x = DMatrix::from_row_slice(1, xs.len(), &xs);
        let mut y = DMatrix::zeros(1, xs.len());
        array.read(&x, &mut y);
        for pair in y.as_slice().windows(2) {
            prop_assert!(pair[0] <= pair[1], "{} then {}", pair[0], pair[1]);
        }
    }

    #[test]
    fn hardware_descriptions_round_trip_through_ron(
        variant in 0usize..7,
        dw_min in 1e-4f64..0.1,
        w_max in 0.1f64..2.0,
        write_noise_std in 0.0f64..5.0,
        max_pulses in 1u32..1000,
        drift in any::<bool>(),
    ) {
        let names = [
            "ConstantStep", "LinearStep", "SoftBounds", "SoftBoundsReference", "ExpStep", "PowStep",
            "PiecewiseStep",
        ];
        let text = format!(
            "Hardware(device: {}((dw_min: {dw_min:?}, w_min: {:?}, w_max: {w_max:?}, \
             write_noise_std: {write_noise_std:?})), update: StochasticRounding((max_pulses: {max_pulses})), \
             drift: {})",
            names[variant],
            -w_max,
            if drift { "Some(PcmLike(()))" } else { "None" },
        );
        let hw: Hardware = ron::from_str(&text).unwrap();
        prop_assert_eq!(hw.device.name(), names[variant]);
        let again: Hardware = ron::from_str(&ron::to_string(&hw).unwrap()).unwrap();
        prop_assert_eq!(again, hw);
    }
}

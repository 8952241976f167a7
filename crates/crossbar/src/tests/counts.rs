//! Operation counts against closed forms: reads, conversions with their widths, bound-management
//! repeats, pulses by direction, pulse slots and devices touched.

use super::converters::off;
use super::quiet_constant;
use crate::spec::*;
use crate::{AnalogArray, Crossbar, IdealArray, OpCounts, Update};
use nalgebra::DMatrix;

#[test]
fn ideal_arrays_count_reads_but_no_conversions() {
    let mut a = IdealArray::new(DMatrix::from_element(2, 3, 0.5));
    let mut y = DMatrix::zeros(2, 4);
    a.read(&DMatrix::from_element(3, 4, 1.0), &mut y);
    let mut z = DMatrix::zeros(3, 7);
    a.read_transposed(&DMatrix::from_element(2, 7, 1.0), &mut z);
    a.update(Update::Delta(&DMatrix::from_element(2, 3, 0.1)));
    let c = a.counts();
    assert_eq!((c.reads_forward, c.reads_transposed), (4, 7));
    assert_eq!(c.cell_ops, 6 * 11);
    assert_eq!((c.dac_conversions, c.adc_conversions), (0, 0));
    assert_eq!((c.dac_bits, c.adc_bits), (0, 0));
    assert_eq!((c.updates, c.devices_touched, c.pulses()), (1, 6, 0));
}

#[test]
fn converted_reads_count_each_line_with_the_converter_widths() {
    let spec = Hardware {
        io: Io::default(),
        ..Hardware::ideal()
    };
    let mut a = AnalogArray::new(&spec, &DMatrix::from_element(2, 3, 0.1), 1).unwrap();
    let mut y = DMatrix::zeros(2, 4);
    a.read(&DMatrix::from_element(3, 4, 0.5), &mut y);
    let mut z = DMatrix::zeros(3, 5);
    a.read_transposed(&DMatrix::from_element(2, 5, 0.5), &mut z);
    let c = a.counts();
    // Forward: 3 inputs through DACs and 2 outputs through ADCs per vector; transposed the other
    // way round. aihwkit's defaults are a 7-bit DAC and a 9-bit ADC.
    assert_eq!(c.dac_conversions, 3 * 4 + 2 * 5);
    assert_eq!(c.adc_conversions, 2 * 4 + 3 * 5);
    assert_eq!((c.dac_bits, c.adc_bits), (7, 9));
    assert_eq!(c.bm_repeats, 0);
}

#[test]
fn bound_management_repeats_count_as_reads_of_single_vectors() {
    // Every output is 4 at full input; the ADC saturates at 1.5, so bound management halves the
    // input twice (4/2 = 2 still saturates, 4/4 = 1 does not): two repeats per vector.
    let io = Io {
        inp_res: 1.0 / 126.0,
        inp_bound: 1.0,
        out_res: 1.0 / 510.0,
        out_bound: 1.5,
        noise_management: NoiseManagement::AbsMax,
        bound_management: BoundManagement::Iterative,
        ..off()
    };
    let spec = Hardware {
        io,
        ..Hardware::ideal()
    };
    let mut a = AnalogArray::new(&spec, &DMatrix::from_element(2, 4, 1.0), 1).unwrap();
    let mut y = DMatrix::zeros(2, 3);
    a.read(&DMatrix::from_element(4, 3, 1.0), &mut y);
    // Within the DAC's step at a quarter of the input (2/126 on 0.25, 6.3 %) of the exact 4.
    approx::assert_relative_eq!(y, DMatrix::from_element(2, 3, 4.0), max_relative = 0.065);
    let c = a.counts();
    assert_eq!((c.reads_forward, c.bm_repeats), (3, 6));
    assert_eq!(c.cell_ops, 8 * (3 + 6));
    assert_eq!(c.dac_conversions, 4 * (3 + 6));
    assert_eq!(c.adc_conversions, 2 * (3 + 6));
}

fn pulsed(update: UpdateScheme, rows: usize, cols: usize) -> AnalogArray {
    let spec = Hardware {
        device: Device::ConstantStep(ConstantStep {
            w_max: 1e3,
            w_min: -1e3,
            ..quiet_constant(0.25)
        }),
        update,
        mapping: Mapping {
            scale: Some(1.0),
            ..Mapping::default()
        },
        ..Hardware::ideal()
    };
    AnalogArray::new(&spec, &DMatrix::zeros(rows, cols), 5).unwrap()
}

#[test]
fn stochastic_rounding_counts_pulses_by_direction_and_devices_touched() {
    let mut a = pulsed(
        UpdateScheme::StochasticRounding(StochasticRounding::default()),
        2,
        3,
    );
    // Whole multiples of the step round to themselves: 3 up, 2 down, 1 up, and three untouched.
    let dw = DMatrix::from_row_slice(2, 3, &[0.75, 0.0, -0.5, 0.0, 0.25, 0.0]);
    let report = a.update(Update::Delta(&dw));
    let c = a.counts();
    assert_eq!((c.pulses_up, c.pulses_down), (4, 2));
    assert_eq!(report.pulses, c.pulses());
    assert_eq!((c.devices_touched, c.pulse_slots, c.updates), (3, 3, 1));
}

#[test]
fn saturated_pulse_coincidence_pulses_every_device_in_every_slot() {
    let mut a = pulsed(
        UpdateScheme::PulseCoincidence(PulseCoincidence::default()),
        2,
        3,
    );
    // η·max|x|·max|d|/Δw = 400 > BL = 31: every probability saturates at 1, so every device gets
    // one pulse in each of the 31 slots of each of the 2 samples; x·d > 0 with η > 0 steps down.
    let x = DMatrix::from_element(3, 2, 1.0);
    let d = DMatrix::from_element(2, 2, 1.0);
    let report = a.update(Update::OuterProduct {
        x: &x,
        d: &d,
        lr: 100.0,
    });
    let c = a.counts();
    assert_eq!((c.pulses_up, c.pulses_down), (0, 6 * 31 * 2));
    assert_eq!(report.pulses, c.pulses());
    assert_eq!((c.devices_touched, c.pulse_slots), (6, 62));
}

#[test]
fn counting_changes_no_bit_of_a_noisy_read() {
    // Two arrays from the same seed: one whose counts are looked at between reads, one not.
    let spec = Hardware {
        io: Io {
            out_noise: 0.1,
            ..Io::default()
        },
        ..Hardware::ideal()
    };
    let w = DMatrix::from_fn(3, 4, |i, j| 0.1 * (i as f32 - j as f32));
    let x = DMatrix::from_fn(4, 2, |i, j| (i + j) as f32 * 0.3);
    let (mut a, mut b) = (
        AnalogArray::new(&spec, &w, 9).unwrap(),
        AnalogArray::new(&spec, &w, 9).unwrap(),
    );
    let (mut ya, mut yb) = (DMatrix::zeros(3, 2), DMatrix::zeros(3, 2));
    let mut seen = OpCounts::default();
    for _ in 0..3 {
        a.read(&x, &mut ya);
        seen += a.counts();
        b.read(&x, &mut yb);
        assert_eq!(ya, yb);
    }
    assert_eq!(seen.reads_forward, 2 + 4 + 6);
}

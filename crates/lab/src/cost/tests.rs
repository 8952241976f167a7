use super::*;
use crossbar::spec::{Area, Energy as UnitEnergy, Latency};

fn model() -> Cost {
    Cost {
        energy: UnitEnergy {
            cell_read: 2e-15,
            dac_per_bit: 3e-15,
            adc_fom: 5e-15,
            pulse: 7e-14,
            compartment: 11e-15,
            digital_op: 13e-13,
            memory_byte: 17e-13,
        },
        latency: Latency {
            read: 80e-9,
            conversion: 2e-9,
            pulse: 1e-9,
            settle: 5e-9,
            digital_op: 1e-10,
        },
        area: Area {
            cell: 0.5,
            adc: 1000.0,
            dac: 30.0,
            neuron: 200.0,
        },
        columns_per_adc: 8,
    }
}

fn counts() -> Counts {
    Counts {
        arrays: OpCounts {
            reads_forward: 10,
            reads_transposed: 6,
            cell_ops: 1000,
            dac_conversions: 100,
            adc_conversions: 50,
            dac_bits: 7,
            adc_bits: 9,
            bm_repeats: 2,
            pulses_up: 30,
            pulses_down: 12,
            pulse_slots: 4,
            devices_touched: 20,
            updates: 2,
        },
        net: NetCounts {
            compartment_updates: 400,
            settle_passes: 8,
            settle_time_constants: 24.0,
            digital_ops: 90,
            memory_written: 16,
            memory_read: 8,
            derivative_evals: 0,
        },
    }
}

#[test]
fn energy_is_the_sum_of_counts_times_unit_costs() {
    let e = energy(&counts(), &model());
    let tol = 1e-12;
    approx::assert_relative_eq!(e.read, 1000.0 * 2e-15, max_relative = tol);
    let convert = 100.0 * 7.0 * 3e-15 + 50.0 * 512.0 * 5e-15;
    approx::assert_relative_eq!(e.convert, convert, max_relative = tol);
    approx::assert_relative_eq!(e.write, 42.0 * 7e-14, max_relative = tol);
    approx::assert_relative_eq!(e.neuron, 400.0 * 11e-15, max_relative = tol);
    let digital = 90.0 * 13e-13 + 24.0 * 17e-13;
    approx::assert_relative_eq!(e.digital, digital, max_relative = tol);
    let total = 1000.0 * 2e-15 + convert + 42.0 * 7e-14 + 400.0 * 11e-15 + digital;
    approx::assert_relative_eq!(e.total(), total, max_relative = tol);
}

#[test]
fn converters_of_zero_bits_cost_nothing() {
    let mut c = counts();
    c.arrays.dac_bits = 0;
    c.arrays.adc_bits = 0;
    assert_eq!(energy(&c, &model()).convert, 0.0);
    // Without ADCs a read is its integration time alone.
    let t = latency(&c, &model());
    let expected = 18.0 * 80e-9 + 4.0 * 1e-9 + 24.0 * 5e-9 + 90.0 * 1e-10;
    approx::assert_relative_eq!(t, expected, max_relative = 1e-12);
}

#[test]
fn latency_follows_the_adc_sharing() {
    let c = counts();
    let mut m = model();
    let base = 4.0 * 1e-9 + 24.0 * 5e-9 + 90.0 * 1e-10;
    // 16 reads and 2 repeats, each integrating and then converting 8 lines one after another.
    let eight = 18.0 * (80e-9 + 8.0 * 2e-9) + base;
    approx::assert_relative_eq!(latency(&c, &m), eight, max_relative = 1e-12);
    m.columns_per_adc = 1;
    let one = 18.0 * (80e-9 + 2e-9) + base;
    approx::assert_relative_eq!(latency(&c, &m), one, max_relative = 1e-12);
}

#[test]
fn area_counts_cells_converters_and_neurons() {
    let m = model();
    // 4-10-3: 40 + 30 cells; DACs on 14 + 13 lines; ADCs ⌈10/8⌉+⌈4/8⌉ + ⌈3/8⌉+⌈10/8⌉ = 3 + 3;
    // 13 neurons.
    let um2 = 70.0 * 0.5 + 27.0 * 30.0 + 6.0 * 1000.0 + 13.0 * 200.0;
    approx::assert_relative_eq!(
        area_mm2(&[4, 10, 3], true, &m),
        um2 * 1e-6,
        max_relative = 1e-12
    );
    let bare = 70.0 * 0.5 + 13.0 * 200.0;
    approx::assert_relative_eq!(
        area_mm2(&[4, 10, 3], false, &m),
        bare * 1e-6,
        max_relative = 1e-12
    );
}

#[test]
fn columns_give_per_sample_values() {
    let mut out = BTreeMap::new();
    columns(&counts(), &model(), 4, &mut out);
    assert_eq!(out.len(), COLUMNS.len());
    approx::assert_relative_eq!(out["energy_per_sample_j"], out["energy_j"] / 4.0);
    approx::assert_relative_eq!(out["latency_per_sample_s"], out["latency_s"] / 4.0);
    assert_eq!(out["reads"], 16.0);
    assert_eq!(out["pulses"], 42.0);
    assert_eq!(out["compartment_updates"], 400.0);
}

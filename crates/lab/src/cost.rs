//! What training cost: energy, latency and area from the exact operation counts of a run and the
//! hardware's cost model (docs/COSTS.md states every formula and the source of every default).
//!
//! The arrays count their reads, conversions and pulses ([`crossbar::OpCounts`]), the network its
//! compartment updates, settling, digital operations and memory traffic ([`dualprop::NetCounts`]);
//! here the counts of a stretch of training meet the unit costs.

use crate::job::Net;
use crossbar::OpCounts;
use crossbar::spec::Cost;
use dualprop::NetCounts;
use std::collections::BTreeMap;

/// Everything counted so far by a network and its arrays.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Counts {
    /// The arrays' counts, summed over layers.
    pub arrays: OpCounts,
    /// The network side.
    pub net: NetCounts,
}

impl Counts {
    /// The current cumulative counts of `net`.
    pub fn of(net: &Net) -> Self {
        let mut arrays = OpCounts::default();
        for layer in &net.layers {
            arrays += layer.array.counts();
        }
        Self {
            arrays,
            net: net.counts,
        }
    }

    /// What happened between `earlier` and `self`.
    pub fn since(&self, earlier: &Counts) -> Self {
        Self {
            arrays: self.arrays - earlier.arrays,
            net: self.net.since(&earlier.net),
        }
    }
}

/// Energy by operation class, in joules.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Energy {
    /// Array reads: cell operations × energy per cell read.
    pub read: f64,
    /// DAC and ADC conversions.
    pub convert: f64,
    /// Programming pulses.
    pub write: f64,
    /// Neuron compartment updates.
    pub neuron: f64,
    /// Digital operations and memory traffic of the periphery.
    pub digital: f64,
}

impl Energy {
    /// The sum of every class.
    pub fn total(&self) -> f64 {
        self.read + self.convert + self.write + self.neuron + self.digital
    }
}

/// E_dac(bits) = dac_per_bit·bits, E_adc(bits) = adc_fom·2^bits; a converter of 0 bits (none, or
/// one that does not quantise) costs nothing.
fn conversion_energy(c: &OpCounts, cost: &Cost) -> f64 {
    let dac = f64::from(c.dac_bits) * cost.energy.dac_per_bit;
    let adc = if c.adc_bits > 0 {
        cost.energy.adc_fom * 2f64.powi(c.adc_bits as i32)
    } else {
        0.0
    };
    c.dac_conversions as f64 * dac + c.adc_conversions as f64 * adc
}

/// The energy of `c` under `cost`: Σ count × unit energy, per class.
pub fn energy(c: &Counts, cost: &Cost) -> Energy {
    let e = &cost.energy;
    let (a, n) = (&c.arrays, &c.net);
    Energy {
        read: a.cell_ops as f64 * e.cell_read,
        convert: conversion_energy(a, cost),
        write: a.pulses() as f64 * e.pulse,
        neuron: n.compartment_updates as f64 * e.compartment,
        digital: n.digital_ops as f64 * e.digital_op
            + (n.memory_written + n.memory_read) as f64 * e.memory_byte,
    }
}

/// The time `c` took under `cost`, everything in sequence: each vector read (and bound-management
/// repeat) integrates, then its `columns_per_adc` lines share an ADC one after the other; pulse
/// slots; the neuron circuits' time constants; digital operations one at a time.
pub fn latency(c: &Counts, cost: &Cost) -> f64 {
    let l = &cost.latency;
    let (a, n) = (&c.arrays, &c.net);
    let conversion = if a.adc_bits > 0 {
        f64::from(cost.columns_per_adc) * l.conversion
    } else {
        0.0
    };
    (a.reads() + a.bm_repeats) as f64 * (l.read + conversion)
        + a.pulse_slots as f64 * l.pulse
        + n.settle_time_constants * l.settle
        + n.digital_ops as f64 * l.digital_op
}

/// Silicon area of a network of widths `sizes` in mm²: rows × cols cells per layer; with
/// converters (`converted`), one DAC per line and one ADC per `columns_per_adc` lines on both
/// sides of every array (reads run both ways); one neuron circuit per hidden and output neuron.
pub fn area_mm2(sizes: &[usize], converted: bool, cost: &Cost) -> f64 {
    let a = &cost.area;
    let m = cost.columns_per_adc as usize;
    let mut um2 = 0.0;
    for pair in sizes.windows(2) {
        let (cols, rows) = (pair[0], pair[1]);
        um2 += (rows * cols) as f64 * a.cell;
        if converted {
            um2 += (rows + cols) as f64 * a.dac;
            um2 += (rows.div_ceil(m) + cols.div_ceil(m)) as f64 * a.adc;
        }
    }
    um2 += sizes.iter().skip(1).sum::<usize>() as f64 * a.neuron;
    um2 * 1e-6
}

/// The metrics.csv columns of the `Cost` metric, in order.
pub const COLUMNS: [&str; 15] = [
    "energy_j",
    "latency_s",
    "energy_read_j",
    "energy_convert_j",
    "energy_write_j",
    "energy_neuron_j",
    "energy_digital_j",
    "reads",
    "cell_ops",
    "dac_conversions",
    "adc_conversions",
    "pulses",
    "compartment_updates",
    "energy_per_sample_j",
    "latency_per_sample_s",
];

/// The column written once per run, on the epoch-0 row.
pub const AREA_COLUMN: &str = "area_mm2";

/// The per-epoch columns for the counts `c` of an epoch that trained on `samples` samples.
pub fn columns(c: &Counts, cost: &Cost, samples: usize, out: &mut BTreeMap<String, f64>) {
    let e = energy(c, cost);
    let t = latency(c, cost);
    let per = 1.0 / samples.max(1) as f64;
    let a = &c.arrays;
    let values = [
        e.total(),
        t,
        e.read,
        e.convert,
        e.write,
        e.neuron,
        e.digital,
        a.reads() as f64,
        a.cell_ops as f64,
        a.dac_conversions as f64,
        a.adc_conversions as f64,
        a.pulses() as f64,
        c.net.compartment_updates as f64,
        e.total() * per,
        t * per,
    ];
    for (name, v) in COLUMNS.iter().zip(values) {
        out.insert((*name).to_owned(), v);
    }
}

/// The totals over every epoch of a run (the training it took to reach its final accuracy), by
/// column name: the sums of the per-epoch columns, per-sample values excluded.
pub fn totals(epochs: &[crate::job::EpochMetrics]) -> Option<BTreeMap<String, f64>> {
    let mut out = BTreeMap::new();
    for name in &COLUMNS[..13] {
        let mut any = false;
        let mut sum = 0.0;
        for m in epochs {
            if let Some(v) = m.extra.get(*name) {
                sum += v;
                any = true;
            }
        }
        if !any {
            return None;
        }
        out.insert((*name).to_owned(), sum);
    }
    if let Some(area) = epochs.first().and_then(|m| m.extra.get(AREA_COLUMN)) {
        out.insert(AREA_COLUMN.to_owned(), *area);
    }
    Some(out)
}

#[cfg(test)]
mod tests;

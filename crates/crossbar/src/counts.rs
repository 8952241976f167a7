//! Operation counts: what an array actually did, tallied where it happens.
//!
//! Every read, conversion and pulse is counted by the array that performs it, so the counts of a
//! run are exact however settling ended (early stop, skipped reads, bound-management repeats).
//! Counting is plain integer additions outside the inner loops: it never changes a result.

use crate::snapshot::{SnapshotError, SnapshotReader, SnapshotWriter};
use serde::{Deserialize, Serialize};
use std::ops::{Add, AddAssign, Sub};

/// Cumulative operation counts of one array (or, summed, of a network's arrays).
///
/// Reads count vectors (one column of a batch is one vector read); a cell operation is one
/// multiply-accumulate of one device, rows × cols per vector read. Conversions count one per
/// converted line: a forward read of an outputs × inputs array converts `inputs` values in DACs and
/// `outputs` values in ADCs (transposed: the other way round). Bound-management repeats re-read one
/// vector with a reduced input and count its cell operations and conversions again.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct OpCounts {
    /// Forward vector reads W·x.
    pub reads_forward: u64,
    /// Transposed vector reads Wᵀ·d.
    pub reads_transposed: u64,
    /// Device multiply-accumulates, rows × cols per vector read and per repeat.
    pub cell_ops: u64,
    /// Input (DAC) conversions.
    pub dac_conversions: u64,
    /// Output (ADC) conversions.
    pub adc_conversions: u64,
    /// Resolution of the DACs in bits (0: no DAC, or one that does not quantise).
    pub dac_bits: u32,
    /// Resolution of the ADCs in bits (0: no ADC, or one that does not quantise).
    pub adc_bits: u32,
    /// Vector re-reads of iterative bound management.
    pub bm_repeats: u64,
    /// Programming pulses that raise a device's weight.
    pub pulses_up: u64,
    /// Programming pulses that lower a device's weight.
    pub pulses_down: u64,
    /// Pulse slots: the time steps the pulses of the updates needed with every device of an array
    /// pulsed in parallel (stochastic rounding: the largest pulse count of any device per update;
    /// pulse coincidence: the train length BL of every sample).
    pub pulse_slots: u64,
    /// Devices written per update, summed over updates (pulsed: devices that received at least
    /// one pulse; floating-point updates write every device).
    pub devices_touched: u64,
    /// Update calls (one per mini-batch and layer).
    pub updates: u64,
}

impl OpCounts {
    /// Append every count to a snapshot (see [`crate::snapshot`]).
    pub fn save(&self, out: &mut SnapshotWriter) {
        out.tag("counts");
        for v in self.fields() {
            out.u64(v);
        }
    }

    /// Take the counts [`OpCounts::save`] wrote.
    pub fn restore(&mut self, input: &mut SnapshotReader<'_>) -> Result<(), SnapshotError> {
        input.tag("counts")?;
        let mut v = [0u64; 13];
        for x in &mut v {
            *x = input.u64()?;
        }
        let bits = |input: &SnapshotReader<'_>, b: u64| {
            u32::try_from(b).map_err(|_| input.error(format!("{b} converter bits")))
        };
        *self = Self {
            reads_forward: v[0],
            reads_transposed: v[1],
            cell_ops: v[2],
            dac_conversions: v[3],
            adc_conversions: v[4],
            dac_bits: bits(input, v[5])?,
            adc_bits: bits(input, v[6])?,
            bm_repeats: v[7],
            pulses_up: v[8],
            pulses_down: v[9],
            pulse_slots: v[10],
            devices_touched: v[11],
            updates: v[12],
        };
        Ok(())
    }

    /// Every field, in declaration order (destructured, so a new field cannot be forgotten here).
    fn fields(&self) -> [u64; 13] {
        let Self {
            reads_forward,
            reads_transposed,
            cell_ops,
            dac_conversions,
            adc_conversions,
            dac_bits,
            adc_bits,
            bm_repeats,
            pulses_up,
            pulses_down,
            pulse_slots,
            devices_touched,
            updates,
        } = *self;
        [
            reads_forward,
            reads_transposed,
            cell_ops,
            dac_conversions,
            adc_conversions,
            u64::from(dac_bits),
            u64::from(adc_bits),
            bm_repeats,
            pulses_up,
            pulses_down,
            pulse_slots,
            devices_touched,
            updates,
        ]
    }

    /// All vector reads, forward and transposed (bound-management repeats not included).
    pub fn reads(&self) -> u64 {
        self.reads_forward + self.reads_transposed
    }

    /// All programming pulses.
    pub fn pulses(&self) -> u64 {
        self.pulses_up + self.pulses_down
    }

    /// The bits of `res` as a converter resolution (a fraction of the range, or a number of
    /// steps if > 1): ⌈log₂(steps + 1)⌉, 0 when `res` is 0 (no quantisation).
    pub fn bits_of(res: f64) -> u32 {
        if res <= 0.0 || !res.is_finite() {
            return 0;
        }
        let steps = if res > 1.0 { res } else { 1.0 / res };
        (steps.round() + 1.0).log2().ceil() as u32
    }

    /// Count `batch` vector reads of a `rows` × `cols` array (`forward`: W·x, else Wᵀ·d), with
    /// converters when `converted`.
    pub(crate) fn read(
        &mut self,
        rows: usize,
        cols: usize,
        batch: usize,
        forward: bool,
        converted: bool,
    ) {
        let b = batch as u64;
        if forward {
            self.reads_forward += b;
        } else {
            self.reads_transposed += b;
        }
        self.cell_ops += (rows * cols) as u64 * b;
        if converted {
            let (n_in, n_out) = if forward { (cols, rows) } else { (rows, cols) };
            self.dac_conversions += n_in as u64 * b;
            self.adc_conversions += n_out as u64 * b;
        }
    }

    /// Count `repeats` bound-management re-reads of single vectors, as [`OpCounts::read`] does.
    pub(crate) fn repeat(&mut self, rows: usize, cols: usize, repeats: u64, forward: bool) {
        let (n_in, n_out) = if forward { (cols, rows) } else { (rows, cols) };
        self.bm_repeats += repeats;
        self.cell_ops += (rows * cols) as u64 * repeats;
        self.dac_conversions += n_in as u64 * repeats;
        self.adc_conversions += n_out as u64 * repeats;
    }

    /// Count one update call and its pulses.
    pub(crate) fn update(&mut self, pulses: PulseTally) {
        self.updates += 1;
        self.pulses_up += pulses.up;
        self.pulses_down += pulses.down;
        self.pulse_slots += pulses.slots;
        self.devices_touched += pulses.touched;
    }
}

impl AddAssign for OpCounts {
    /// Sums every count; the converter widths are the wider of the two.
    fn add_assign(&mut self, o: Self) {
        self.reads_forward += o.reads_forward;
        self.reads_transposed += o.reads_transposed;
        self.cell_ops += o.cell_ops;
        self.dac_conversions += o.dac_conversions;
        self.adc_conversions += o.adc_conversions;
        self.dac_bits = self.dac_bits.max(o.dac_bits);
        self.adc_bits = self.adc_bits.max(o.adc_bits);
        self.bm_repeats += o.bm_repeats;
        self.pulses_up += o.pulses_up;
        self.pulses_down += o.pulses_down;
        self.pulse_slots += o.pulse_slots;
        self.devices_touched += o.devices_touched;
        self.updates += o.updates;
    }
}

impl Add for OpCounts {
    type Output = Self;
    fn add(mut self, o: Self) -> Self {
        self += o;
        self
    }
}

impl Sub for OpCounts {
    type Output = Self;
    /// What happened between two snapshots of the same arrays (`self` the later one); the
    /// converter widths are kept.
    fn sub(self, o: Self) -> Self {
        Self {
            reads_forward: self.reads_forward - o.reads_forward,
            reads_transposed: self.reads_transposed - o.reads_transposed,
            cell_ops: self.cell_ops - o.cell_ops,
            dac_conversions: self.dac_conversions - o.dac_conversions,
            adc_conversions: self.adc_conversions - o.adc_conversions,
            dac_bits: self.dac_bits,
            adc_bits: self.adc_bits,
            bm_repeats: self.bm_repeats - o.bm_repeats,
            pulses_up: self.pulses_up - o.pulses_up,
            pulses_down: self.pulses_down - o.pulses_down,
            pulse_slots: self.pulse_slots - o.pulse_slots,
            devices_touched: self.devices_touched - o.devices_touched,
            updates: self.updates - o.updates,
        }
    }
}

/// The pulses of one update by direction, the devices they reached and the slots they took
/// (summed over chunks, slots the largest of any chunk).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct PulseTally {
    pub up: u64,
    pub down: u64,
    pub touched: u64,
    pub slots: u64,
}

impl PulseTally {
    /// Record `n` pulses (up if n > 0) to one device.
    #[inline]
    pub fn device(&mut self, n: i32) {
        if n > 0 {
            self.up += u64::from(n.unsigned_abs());
        } else {
            self.down += u64::from(n.unsigned_abs());
        }
        self.touched += u64::from(n != 0);
        self.slots = self.slots.max(u64::from(n.unsigned_abs()));
    }

    /// Every pulse, up and down.
    pub fn total(&self) -> u64 {
        self.up + self.down
    }
}

impl std::iter::Sum for PulseTally {
    fn sum<I: Iterator<Item = Self>>(iter: I) -> Self {
        iter.fold(Self::default(), |a, b| Self {
            up: a.up + b.up,
            down: a.down + b.down,
            touched: a.touched + b.touched,
            slots: a.slots.max(b.slots),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn converter_bits_follow_the_resolution() {
        assert_eq!(OpCounts::bits_of(1.0 / 126.0), 7);
        assert_eq!(OpCounts::bits_of(1.0 / 510.0), 9);
        assert_eq!(OpCounts::bits_of(255.0), 8);
        assert_eq!(OpCounts::bits_of(0.0), 0);
    }

    #[test]
    fn snapshots_subtract_to_what_happened_between_them() {
        let mut a = OpCounts::default();
        a.read(3, 4, 2, true, true);
        let before = a;
        a.read(3, 4, 5, false, true);
        a.repeat(3, 4, 2, true);
        let d = a - before;
        assert_eq!(d.reads_transposed, 5);
        assert_eq!(d.reads_forward, 0);
        assert_eq!(d.cell_ops, 12 * 5 + 12 * 2);
        assert_eq!(d.dac_conversions, 3 * 5 + 4 * 2);
        assert_eq!(d.adc_conversions, 4 * 5 + 3 * 2);
        assert_eq!(d.bm_repeats, 2);
    }
}

//! Memory budget: what a run, a gradient check or a device characterisation needs at least, checked
//! against the memory the machine has free before anything is allocated.
//!
//! Sizes are multiplied with overflow checks, so a width of 2⁶² is an error rather than a
//! wrapped-around product. The estimates are lower bounds (they count the big matrices, not every
//! buffer): a request they reject cannot run here; one they pass may still be tight.

use crate::field::FieldError;

/// Bytes of one stored number (the state and weights are f32).
const F32: u64 = 4;

/// Where the limit came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Source {
    /// `MemAvailable` in /proc/meminfo (Linux).
    MemAvailable,
    /// [`FALLBACK_BYTES`], on systems without /proc/meminfo.
    Fallback,
}

/// The limit assumed where /proc/meminfo cannot be read: 16 GiB.
pub const FALLBACK_BYTES: u64 = 16 << 30;

/// Memory free for a new allocation, and where that number came from.
pub fn available() -> (u64, Source) {
    std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|text| mem_available(&text))
        .map_or((FALLBACK_BYTES, Source::Fallback), |bytes| {
            (bytes, Source::MemAvailable)
        })
}

/// `MemAvailable` of a /proc/meminfo text, in bytes.
pub fn mem_available(meminfo: &str) -> Option<u64> {
    let line = meminfo
        .lines()
        .find_map(|l| l.strip_prefix("MemAvailable:"))?;
    let kib: u64 = line.trim().strip_suffix("kB")?.trim().parse().ok()?;
    kib.checked_mul(1024)
}

/// A byte count for messages: `3.1 GB`.
pub fn show(bytes: u64) -> String {
    let b = bytes as f64;
    match bytes {
        0..1_000_000 => format!("{:.1} kB", b / 1e3),
        1_000_000..1_000_000_000 => format!("{:.1} MB", b / 1e6),
        1_000_000_000..1_000_000_000_000 => format!("{:.1} GB", b / 1e9),
        _ => format!("{:.1} TB", b / 1e12),
    }
}

/// `a × b × …` or an error naming `field` when the product does not fit in 64 bits.
pub fn product(field: &str, factors: &[u64]) -> Result<u64, FieldError> {
    factors
        .iter()
        .try_fold(1u64, |acc, &f| acc.checked_mul(f))
        .ok_or_else(|| too_large(field, "the size does not fit in 64 bits"))
}

/// `a + b` or an error naming `field`.
pub fn sum(field: &str, a: u64, b: u64) -> Result<u64, FieldError> {
    a.checked_add(b)
        .ok_or_else(|| too_large(field, "the size does not fit in 64 bits"))
}

fn too_large(field: &str, why: &str) -> FieldError {
    FieldError::new(field, format!("is too large: {why}"))
}

/// Reject `bytes` needed because of `field` when it exceeds `limit` (from [`available`]).
pub fn fits(field: &str, what: &str, bytes: u64, limit: (u64, Source)) -> Result<(), FieldError> {
    if bytes <= limit.0 {
        return Ok(());
    }
    let source = match limit.1 {
        Source::MemAvailable => "MemAvailable in /proc/meminfo",
        Source::Fallback => "the assumed limit where /proc/meminfo is missing",
    };
    Err(too_large(
        field,
        &format!(
            "{what} needs at least {} of memory, more than the {} available ({source})",
            show(bytes),
            show(limit.0)
        ),
    ))
}

/// Numbers a network of `widths` keeps per weight and per unit of a batch column: weights,
/// gradient estimate and update (3 per weight, +1 for momentum, +2 for Adam, +3 on analog arrays
/// for the device values, their read copy and per-device parameters); per neuron and sample, the
/// dyads' compartments, drives and targets (10).
pub struct NetworkSize<'a> {
    /// Widths from input to output.
    pub widths: &'a [usize],
    /// Samples per batch.
    pub batch: usize,
    /// Settling passes (one residual per pass is traced).
    pub passes: usize,
    /// Extra numbers kept per weight by the optimiser (momentum 1, Adam 2).
    pub optimizer_copies: u64,
    /// True when the arrays are not ideal (device values are kept besides the weights).
    pub analog: bool,
}

impl NetworkSize<'_> {
    /// Bytes needed, or an error naming the experiment field (`network.layers`,
    /// `training.batch_size`, `algorithm.passes`) whose size overflows.
    pub fn bytes(&self, fields: [&str; 3]) -> Result<u64, FieldError> {
        let [layers, batch, passes] = fields;
        let per_weight = 3 + self.optimizer_copies + if self.analog { 3 } else { 0 };
        let mut weights = 0u64;
        for pair in self.widths.windows(2) {
            let n = product(layers, &[pair[0] as u64, pair[1] as u64])?;
            weights = sum(layers, weights, n)?;
        }
        let weights = product(layers, &[weights, per_weight, F32])?;
        let neurons = self
            .widths
            .iter()
            .try_fold(0u64, |acc, &w| acc.checked_add(w as u64))
            .ok_or_else(|| too_large(layers, "the size does not fit in 64 bits"))?;
        let state = product(batch, &[neurons, self.batch as u64, 10, F32])?;
        let trace = product(passes, &[self.passes as u64, F32])?;
        sum(layers, sum(batch, weights, state)?, trace)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mem_available_is_read_in_kib() {
        let text = "MemTotal:       16318128 kB\nMemFree:  1 kB\nMemAvailable:    8000000 kB\n";
        assert_eq!(mem_available(text), Some(8_192_000_000));
        assert_eq!(mem_available("MemTotal: 5 kB\n"), None);
    }

    #[test]
    fn widths_whose_product_overflows_are_too_large() {
        let size = NetworkSize {
            widths: &[64, 1 << 62, 10],
            batch: 1,
            passes: 1,
            optimizer_copies: 0,
            analog: false,
        };
        let err = size.bytes(["layers", "batch", "passes"]).unwrap_err();
        assert_eq!(err.field, "layers");
    }

    #[test]
    fn network_bytes_count_weights_state_and_trace() {
        // 64·16 + 16·10 = 1184 weights × 3 copies; 90 neurons × 8 samples × 10; 5 passes.
        let size = NetworkSize {
            widths: &[64, 16, 10],
            batch: 8,
            passes: 5,
            optimizer_copies: 0,
            analog: false,
        };
        let bytes = size.bytes(["l", "b", "p"]).unwrap();
        assert_eq!(bytes, 4 * (1184 * 3 + 90 * 8 * 10 + 5));
    }

    #[test]
    fn a_request_beyond_the_limit_names_field_and_estimate() {
        let err = fits(
            "devices",
            "the response",
            3_000_000_000,
            (1_000_000_000, Source::Fallback),
        )
        .unwrap_err();
        assert_eq!(err.field, "devices");
        assert!(err.message.contains("3.0 GB"), "{}", err.message);
        assert!(fits("devices", "x", 10, (10, Source::MemAvailable)).is_ok());
    }
}

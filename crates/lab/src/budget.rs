//! Memory budget: what a run, a gradient check or a device characterisation needs at least, checked
//! against the memory the machine has free before anything is allocated.
//!
//! Sizes are multiplied with overflow checks, so a width of 2⁶² is an error rather than a
//! wrapped-around product. The estimates are lower bounds (they count the big matrices, not every
//! buffer): a request they reject cannot run here; one they pass may still be tight.

use crate::field::FieldError;
use dualprop::block::{Block, ConvShape};

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

/// Samples `lab::job` evaluates a split in at a time; the evaluation's buffers are sized by it.
pub const EVALUATION_CHUNK: usize = 1000;

/// What a network of `widths` (and `blocks`) keeps in memory for a batch: numbers per weight
/// (+3 on analog arrays for the device values, their read copy and per-device parameters), numbers
/// per unit and sample (the dyads' compartments, drives and targets, the backprop buffers), sets of
/// convolution buffers at the batch size (im2col patches and their transposed read, the
/// convolution's output and its un-pooled signal, C_in·k·k + C_out numbers twice per position and
/// sample, and the pooling routing), the evaluation's chunk and the residual trace.
pub struct NetworkSize<'a> {
    /// Widths (units per layer) from input to output.
    pub widths: &'a [usize],
    /// The block of every layer; empty for a dense network.
    pub blocks: &'a [Block],
    /// Samples per batch.
    pub batch: usize,
    /// Settling passes (one residual per pass is traced).
    pub passes: usize,
    /// Numbers kept per weight besides the device state (the array's weights, gradients, the
    /// optimiser's moments and update).
    pub per_weight: u64,
    /// Numbers kept per unit of every layer and sample of a batch.
    pub per_unit: u64,
    /// Owners of convolution buffers at the batch size (dyads, optimiser, backprop).
    pub conv_copies: u64,
    /// Samples of an evaluation chunk, whose forward pass holds one layer's buffers at a time
    /// (0: no evaluation).
    pub evaluation: usize,
    /// True when the arrays are not ideal (device values are kept besides the weights).
    pub analog: bool,
}

/// The bytes of a [`NetworkSize`] by what holds them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Parts {
    /// Weights and everything kept per weight.
    pub weights: u64,
    /// Per unit and sample: compartments, drives, targets, backprop buffers.
    pub state: u64,
    /// The convolution buffers at the batch size.
    pub conv: u64,
    /// The largest layer of an evaluation chunk's forward pass.
    pub evaluation: u64,
    /// The residual trace.
    pub trace: u64,
}

impl NetworkSize<'_> {
    /// What one training run (`lab::job::train`) allocates: per weight the array's weights, the
    /// optimiser's gradient estimate, two moments and update (allocated for every kind) and the
    /// run's backprop gradient (6); per unit and sample the dyads (9) and backprop buffers (3), +1
    /// for plain SGD's factor; convolution buffers for the dyads and the optimiser (DP-like
    /// algorithms) or for backprop; an evaluation chunk of [`EVALUATION_CHUNK`] samples.
    pub fn training<'a>(
        widths: &'a [usize],
        blocks: &'a [Block],
        batch: usize,
        passes: usize,
        plain_sgd: bool,
        settles: bool,
        analog: bool,
    ) -> NetworkSize<'a> {
        NetworkSize {
            widths,
            blocks,
            batch,
            passes,
            per_weight: 6,
            per_unit: 12 + u64::from(plain_sgd),
            conv_copies: if settles { 2 } else { 1 },
            evaluation: EVALUATION_CHUNK,
            analog,
        }
    }

    /// What a gradient check allocates: per weight the array's weights, its ideal copy and two
    /// gradients (4); per unit and sample the dyads (9) and two backprop buffers (6); convolution
    /// buffers for the dyads and the reference backprop.
    pub fn gradcheck<'a>(
        widths: &'a [usize],
        blocks: &'a [Block],
        batch: usize,
        passes: usize,
        analog: bool,
    ) -> NetworkSize<'a> {
        NetworkSize {
            widths,
            blocks,
            batch,
            passes,
            per_weight: 4,
            per_unit: 15,
            conv_copies: 2,
            evaluation: 0,
            analog,
        }
    }

    /// Bytes needed, or an error naming the experiment field (`network.layers`,
    /// `training.batch_size`, `algorithm.passes`) whose size overflows.
    pub fn bytes(&self, fields: [&str; 3]) -> Result<u64, FieldError> {
        let p = self.parts(fields)?;
        let [layers, batch, passes] = fields;
        let network = sum(layers, p.weights, p.evaluation)?;
        let run = sum(batch, sum(batch, p.state, p.conv)?, network)?;
        sum(passes, run, p.trace)
    }

    /// The bytes by what holds them; errors as [`NetworkSize::bytes`].
    pub fn parts(&self, fields: [&str; 3]) -> Result<Parts, FieldError> {
        let [layers, batch, passes] = fields;
        let per_weight = self.per_weight + if self.analog { 3 } else { 0 };
        let mut weights = 0u64;
        let mut conv = 0u64;
        let mut widest = 0u64;
        for (k, pair) in self.widths.windows(2).enumerate() {
            let (below, units) = (pair[0] as u64, pair[1] as u64);
            let (n, buffers, forward) = match self.blocks.get(k).and_then(Block::conv) {
                Some(s) => conv_sizes(layers, s)?,
                None => (product(layers, &[below, units])?, 0, 0),
            };
            weights = sum(layers, weights, n)?;
            conv = sum(layers, conv, buffers)?;
            // The forward pass of layer k holds the layer below, the drive and the response.
            let layer = sum(layers, sum(layers, below, 2 * units)?, forward)?;
            widest = widest.max(layer);
        }
        let weights = product(layers, &[weights, per_weight, F32])?;
        let neurons = self
            .widths
            .iter()
            .try_fold(0u64, |acc, &w| acc.checked_add(w as u64))
            .ok_or_else(|| too_large(layers, "the size does not fit in 64 bits"))?;
        let state = product(batch, &[neurons, self.batch as u64, self.per_unit, F32])?;
        let conv = product(batch, &[conv, self.batch as u64, self.conv_copies, F32])?;
        // The evaluated chunk itself and its copy fed to the first layer.
        let input = self.widths.first().map_or(0, |&w| w as u64);
        let evaluation = match self.evaluation {
            0 => 0,
            chunk => product(layers, &[sum(layers, widest, input)?, chunk as u64, F32])?,
        };
        let trace = product(passes, &[self.passes as u64, F32])?;
        Ok(Parts {
            weights,
            state,
            conv,
            evaluation,
            trace,
        })
    }
}

/// A convolution block's weights (C_out × C_in·k·k), the numbers of its buffers per sample during
/// training: patches and their transposed read (2·C_in·k·k per position), the convolution's output
/// and the un-pooled signal (2·C_out per position), and the pooling's routing and scratch (2 per
/// pooled unit); and those of a forward read alone, as an evaluation holds them (C_in·k·k + C_out
/// per position and the routing).
fn conv_sizes(field: &str, s: &ConvShape) -> Result<(u64, u64, u64), FieldError> {
    let k = s.kernel as u64;
    let patch = product(field, &[s.input.channels as u64, k, k])?;
    let c = s.channels as u64;
    let weights = product(field, &[c, patch])?;
    let (h, w) = (
        (s.input.height as u64).div_ceil(s.stride as u64),
        (s.input.width as u64).div_ceil(s.stride as u64),
    );
    let positions = product(field, &[h, w])?;
    let per_position = product(field, &[2, sum(field, patch, c)?])?;
    let pooled = if s.pool {
        product(field, &[2, h / 2, w / 2, c])?
    } else {
        0
    };
    let buffers = sum(field, product(field, &[per_position, positions])?, pooled)?;
    let forward = sum(
        field,
        product(field, &[sum(field, patch, c)?, positions])?,
        pooled / 2,
    )?;
    Ok((weights, buffers, forward))
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
        let size = NetworkSize::gradcheck(&[64, 1 << 62, 10], &[], 1, 1, false);
        let err = size.bytes(["layers", "batch", "passes"]).unwrap_err();
        assert_eq!(err.field, "layers");
    }

    #[test]
    fn network_bytes_count_weights_state_and_trace() {
        // 64·16 + 16·10 = 1184 weights × 4 copies; 90 neurons × 8 samples × 15; 5 passes.
        let size = NetworkSize::gradcheck(&[64, 16, 10], &[], 8, 5, false);
        let bytes = size.bytes(["l", "b", "p"]).unwrap();
        assert_eq!(bytes, 4 * (1184 * 4 + 90 * 8 * 15 + 5));
        // A run adds its evaluation chunk: the input twice and the widest layer's forward pass,
        // 64 + 2·16 (layer 1), per sample.
        let run = NetworkSize::training(&[64, 16, 10], &[], 8, 5, false, true, false);
        let parts = run.parts(["l", "b", "p"]).unwrap();
        assert_eq!(parts.evaluation, 4 * 1000 * (64 + 64 + 2 * 16));
        assert_eq!(parts.weights, 4 * 1184 * 6);
        assert_eq!(parts.conv, 0);
    }

    /// VGG16 on 32×32×3 with 10 classes, as the `vgg16-dptop` benchmark builds it.
    fn vgg16() -> (Vec<Block>, Vec<usize>) {
        let input = dualprop::Image {
            height: 32,
            width: 32,
            channels: 3,
        };
        dualprop::block::resolve(input, &dualprop::block::vgg16(10)).unwrap()
    }

    #[test]
    fn vgg16_at_batch_16_fits_and_is_counted_as_the_benchmark_measures() {
        let (blocks, sizes) = vgg16();
        let fields = ["network.blocks", "training.batch_size", "algorithm.passes"];
        let run = NetworkSize::training(&sizes, &blocks, 16, 16, false, true, false);
        let bytes = run.bytes(fields).unwrap();
        // A closed form of the large terms, counted by hand from the architecture:
        // - 33 625 792 weights (14 710 464 in the 13 kernels C_out × C_in·9, 18 915 328 in the
        //   dense 512-4096-4096-10), 6 numbers each;
        // - every convolution's im2col patches and their transposed read, 2·C_in·9 numbers per
        //   position and sample: 3 336 192 per sample over the 13 blocks (conv 2's 576 × 1024 the
        //   largest), for the dyads and the optimiser at 16 samples;
        // - evaluation in chunks of 1000 samples, one block at a time: conv 2's patches and
        //   output, (576 + 64) × 1024 per sample.
        // Compartments, convolution outputs and routing are left out, so the estimate lies above
        // it, and within a factor 2 if nothing large is miscounted.
        let closed =
            4.0 * (6.0 * 33_625_792.0 + 2.0 * 16.0 * 3_336_192.0 + 1000.0 * 640.0 * 1024.0);
        let ratio = bytes as f64 / closed;
        assert!(
            (0.5..=2.0).contains(&ratio),
            "{bytes} vs {closed}: ratio {ratio}"
        );
        // It fits a 16 GiB machine.
        assert!(
            fits(
                "training.batch_size",
                "one run",
                bytes,
                (16 << 30, Source::Fallback)
            )
            .is_ok()
        );
        // The benchmark's step alone (the network and the optimiser's 4 copies of the weights, the
        // dyads' 9 numbers per unit, their convolution buffers and the optimiser's, no evaluation)
        // peaked at 1.3 GB (VmHWM, `bench::conv::VGG16_BATCH`); the same count of it agrees within
        // a factor 2 (the process's code, data and allocator slack come on top).
        let step = NetworkSize {
            per_weight: 5,
            per_unit: 9,
            evaluation: 0,
            ..run
        };
        let ratio = step.bytes(fields).unwrap() as f64 / 1.3e9;
        assert!((0.5..=2.0).contains(&ratio), "ratio {ratio}");
    }

    #[test]
    fn a_convolution_too_wide_for_memory_is_refused_naming_its_blocks() {
        let err = crate::load::experiment_from_str(
            r#"Experiment(
                name: "too-wide",
                dataset: Cifar10((dir: "cifar")),
                network: (input: (32, 32, 3), blocks: [Conv(channels: 100000, kernel: 3), Conv(channels: 100000, kernel: 3, pool: true), Dense(10)]),
                algorithm: (kind: DpTop),
                training: (epochs: 1, batch_size: 1, learning_rate: 0.1),
            )"#,
            std::path::Path::new("too-wide.ron"),
        )
        .unwrap_err();
        // 9·10¹⁰ weights of the second kernel alone, 6 numbers each, are 2 TB; its patches of
        // 9·10⁵ numbers per position, evaluated 1000 samples at a time, are 7 TB more.
        match err {
            crate::LabError::Invalid { field, message, .. } => {
                assert_eq!(field, "network.blocks");
                assert!(message.contains("the network needs at least"), "{message}");
                assert!(message.contains(" TB"), "{message}");
            }
            other => panic!("{other:?}"),
        }
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

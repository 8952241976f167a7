//! Checkpoints of a run between mini-batches, so that a run stopped by a job's time limit, a
//! signal or a crash continues from its last checkpoint instead of from the start.
//!
//! A checkpoint holds what training changed: the arrays' device values, noise-stream positions and
//! counts, the biases, the optimiser's moments, the shuffled order with its stream, the step count,
//! the metrics measured so far and, within an epoch, the epoch's running sums and its counts at
//! the start. Everything else (the network's devices, the data, the probe
//! images) is realised again from the experiment and the seed, as at the start of a run, so the
//! continued run is bit for bit the run that was never stopped. The file also carries the run's
//! configuration (the runner's run key), and one written for another configuration is refused.

use crate::cost::Counts;
use crate::error::{LabError, Result};
use crate::job::{EpochMetrics, Net};
use crate::metrics::EpochTally;
use crossbar::{SnapshotError, SnapshotReader, SnapshotWriter};
use dualprop::optimizer::Optimizer;
use rand_chacha::ChaCha8Rng;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// First bytes of every checkpoint file.
const MAGIC: &[u8] = b"dyadsim run checkpoint\n";
/// Layout version: bumped whenever what is saved or its order changes. Version 2 ends with a
/// checksum of everything before it; version 1 (without one) is still read.
const VERSION: u64 = 2;
/// The last version without a checksum.
const UNCHECKED_VERSION: u64 = 1;
/// Bytes of the trailing checksum.
const CHECKSUM_LEN: usize = 8;

/// 64-bit FNV-1a of `bytes`: any flipped byte changes it (and any flipped bit of a byte).
fn checksum(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, &b| {
        (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3)
    })
}

/// The file name of the checkpoint of run (point, seed), beside its record in `runs/`.
pub fn file_name(point: usize, seed: u64) -> String {
    format!("point{point:05}-seed{seed}.checkpoint")
}

/// The (point, seed) a file name claims, when it follows [`file_name`]'s scheme.
pub fn parse_file_name(name: &str) -> Option<(usize, u64)> {
    let stem = name.strip_suffix(".checkpoint")?;
    crate::results::parse_record_name(&format!("{stem}.json"))
}

/// Where a run keeps its checkpoint and how often it writes one.
#[derive(Clone, Debug)]
pub struct Checkpoints {
    /// The checkpoint file.
    pub path: PathBuf,
    /// What the run is (the runner's run key): a checkpoint of anything else is refused.
    pub key: String,
    /// Write a checkpoint at the first mini-batch boundary once this much time has passed since
    /// the run (or its last checkpoint) started; zero writes one after every epoch instead;
    /// `None` writes none (an existing checkpoint is still continued from).
    pub every: Option<Duration>,
}

/// Where in its training a run stands: at mini-batch `batch` of epoch `epoch` (1-based), with
/// `batch` = 0 meaning before the epoch shuffled its order.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Position {
    /// The epoch in progress.
    pub epoch: usize,
    /// The next mini-batch of that epoch.
    pub batch: usize,
}

/// What an epoch in progress has summed so far.
pub struct EpochSoFar {
    /// The running sums of the epoch's settling and pulses.
    pub tally: EpochTally,
    /// The network's and arrays' counts when the epoch started.
    pub start: Counts,
}

/// What a run had done when its checkpoint was written.
pub struct Resumed {
    /// Where it continues.
    pub at: Position,
    /// Mini-batch steps taken (the learning-rate schedule's position).
    pub step: usize,
    /// The shuffle stream.
    pub shuffle: ChaCha8Rng,
    /// The training order (this epoch's when `at.batch` > 0).
    pub order: Vec<usize>,
    /// Metrics of epochs 0 to `at.epoch` − 1.
    pub epochs: Vec<EpochMetrics>,
    /// The epoch in progress, when `at.batch` > 0.
    pub so_far: Option<EpochSoFar>,
}

/// The state of a run to restore into, built as at the start of the run.
pub struct RunState<'a> {
    /// The network (its arrays, biases and counts).
    pub net: &'a mut Net,
    /// The optimiser.
    pub optimizer: &'a mut Optimizer,
    /// The training order, whose length the checkpoint must have.
    pub order_len: usize,
    /// Mini-batches per epoch.
    pub batches: usize,
}

/// The state of a run to save, borrowed from the training loop.
pub struct Saved<'a> {
    /// Where the run stands.
    pub at: Position,
    /// Mini-batch steps taken.
    pub step: usize,
    /// The network.
    pub net: &'a Net,
    /// The optimiser.
    pub optimizer: &'a Optimizer,
    /// The shuffle stream.
    pub shuffle: &'a ChaCha8Rng,
    /// The training order.
    pub order: &'a [usize],
    /// Metrics of epochs 0 to `at.epoch` − 1.
    pub epochs: &'a [EpochMetrics],
    /// The epoch in progress, when `at.batch` > 0.
    pub so_far: Option<(&'a EpochTally, &'a Counts)>,
}

/// When the next checkpoint is due.
pub struct Schedule {
    every: Duration,
    since: Instant,
}

impl Schedule {
    /// A schedule counting from now.
    pub fn start(every: Duration) -> Self {
        Self {
            every,
            since: Instant::now(),
        }
    }

    /// Whether checkpoints may fall between the mini-batches of an epoch: only with a positive
    /// interval (zero means one after every epoch).
    pub fn within_epochs(&self) -> bool {
        !self.every.is_zero()
    }

    /// True when enough time passed since the start or the last checkpoint; restarts the count.
    pub fn due(&mut self) -> bool {
        let due = self.since.elapsed() >= self.every;
        if due {
            self.since = Instant::now();
        }
        due
    }
}

impl Checkpoints {
    /// Write the checkpoint of a run (atomically: the previous checkpoint stays until the new one
    /// is complete).
    pub fn save(&self, state: &Saved<'_>) -> Result<()> {
        let metrics = encode_metrics(state.epochs).map_err(|e| LabError::Encode {
            path: self.path.clone(),
            message: e.to_string(),
        })?;
        let mut out = SnapshotWriter::new();
        out.bytes(MAGIC);
        out.u64(VERSION);
        out.bytes(self.key.as_bytes());
        out.tag("run");
        out.u64(state.at.epoch as u64);
        out.u64(state.at.batch as u64);
        out.u64(state.step as u64);
        out.rng(state.shuffle);
        out.u64(state.order.len() as u64);
        for &i in state.order {
            out.u64(i as u64);
        }
        out.bytes(&metrics);
        if let Some((tally, start)) = state.so_far {
            save_tally(tally, &mut out);
            start.arrays.save(&mut out);
            start.net.save(&mut out);
        }
        state.net.save(&mut out);
        state.optimizer.save(&mut out);
        let mut bytes = out.into_bytes();
        let sum = checksum(&bytes);
        bytes.extend_from_slice(&sum.to_le_bytes());
        crate::results::write_atomic(&self.path, &bytes)
    }

    /// The checkpoint's bytes, at most `limit` of them; `None` when there is none. Anything but a
    /// regular file (a folder, a FIFO, a device, a link to one), a larger file or one that cannot
    /// be read is bad input naming the file, refused before it is opened where possible.
    fn read(&self, limit: u64) -> Result<Option<Vec<u8>>> {
        crate::files::read_regular(&self.path, "checkpoint", limit, DELETE_ADVICE)
    }

    fn bad(&self, message: String) -> LabError {
        LabError::Data {
            path: self.path.clone(),
            message: format!("{message}; {DELETE_ADVICE}"),
        }
    }

    /// The checked payload of `bytes`: the magic, a version this dyadsim reads, an intact
    /// checksum and the run key of this run; returns the reader positioned after the key.
    fn open<'b>(&self, bytes: &'b [u8]) -> Result<SnapshotReader<'b>> {
        let corrupt = |e: SnapshotError| {
            self.bad(format!("not a checkpoint this run can continue from ({e})"))
        };
        let mut input = SnapshotReader::new(bytes);
        if input.bytes_value().ok() != Some(MAGIC) {
            return Err(self.bad("not a dyadsim checkpoint".into()));
        }
        let version = input.u64().map_err(corrupt)?;
        let payload = match version {
            VERSION => {
                let Some(body) = bytes.len().checked_sub(CHECKSUM_LEN) else {
                    return Err(self.bad("truncated (it ends before its checksum)".into()));
                };
                let stored = u64::from_le_bytes(bytes[body..].try_into().expect("8 bytes"));
                if checksum(&bytes[..body]) != stored {
                    return Err(self.bad(
                        "corrupt: its checksum does not match its contents (a changed or truncated file)"
                            .into(),
                    ));
                }
                &bytes[..body]
            }
            UNCHECKED_VERSION => bytes,
            _ => {
                return Err(self.bad(format!(
                    "written in checkpoint format {version}, which this dyadsim ({VERSION}) does not read"
                )));
            }
        };
        let mut input = SnapshotReader::new(payload);
        input.bytes_value().map_err(corrupt)?;
        input.u64().map_err(corrupt)?;
        let written = String::from_utf8_lossy(input.bytes_value().map_err(corrupt)?);
        let written = match upgraded(&written) {
            Some(key) if written != self.key => key,
            _ => written.into_owned(),
        };
        if written != self.key {
            let changed = changed_field(&written, &self.key)
                .map(|difference| format!(": {difference}"))
                .unwrap_or_default();
            return Err(self.bad(format!(
                "written for another configuration of this run (the experiment changed since{changed})"
            )));
        }
        Ok(input)
    }

    /// Check the checkpoint, if there is one, as far as it can be without the run's network:
    /// a regular file, intact, of this run. The runner calls it for every run before any trains,
    /// so that a broken checkpoint is reported before hours of other runs.
    pub fn verify(&self) -> Result<()> {
        if let Some(bytes) = self.read(u64::MAX)? {
            self.open(&bytes)?;
        }
        Ok(())
    }

    /// Restore the run's state from its checkpoint into `state`, built as at the start of a run of
    /// `epochs` epochs; `None` when there is no checkpoint.
    pub fn load(&self, state: &mut RunState<'_>, epochs: usize) -> Result<Option<Resumed>> {
        let Some(bytes) = self.read(size_limit(state, epochs))? else {
            return Ok(None);
        };
        self.load_bytes(&bytes, state, epochs).map(Some)
    }

    /// [`Checkpoints::load`] of checkpoint contents already read (`self.path` names them in
    /// errors): every byte string is either a checkpoint of this run or an error, never a panic.
    pub fn load_bytes(
        &self,
        bytes: &[u8],
        state: &mut RunState<'_>,
        epochs: usize,
    ) -> Result<Resumed> {
        let corrupt = |e: SnapshotError| {
            self.bad(format!("not a checkpoint this run can continue from ({e})"))
        };
        let mut input = self.open(bytes)?;
        let resumed = restore(&mut input, state, epochs).map_err(corrupt)?;
        input.finish().map_err(corrupt)?;
        Ok(resumed)
    }

    /// Remove the checkpoint once the run's record is written.
    pub fn remove(&self) -> Result<()> {
        match std::fs::remove_file(&self.path) {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(source) => Err(LabError::Io {
                path: self.path.clone(),
                source,
            }),
        }
    }
}

/// The metrics block of a checkpoint: the epochs' metrics as JSON, non-finite values spelled as
/// in run records ([`crate::floats`]), so a run whose untrained loss overflows still continues.
pub(crate) fn encode_metrics(epochs: &[EpochMetrics]) -> serde_json::Result<Vec<u8>> {
    serde_json::to_vec(epochs)
}

/// The epochs' metrics of a checkpoint's metrics block.
pub(crate) fn decode_metrics(bytes: &[u8]) -> serde_json::Result<Vec<EpochMetrics>> {
    serde_json::from_slice(bytes)
}

/// What to do with a checkpoint that cannot be continued from.
const DELETE_ADVICE: &str = "delete this checkpoint to run that run again from its start";

/// The most bytes a checkpoint of the run in `state` can take: twice its network's and optimiser's
/// state (the arrays' counts at an epoch's start are saved beside them), its order, 64 KiB of
/// metrics per epoch and 1 MiB for the rest. A longer file is not a checkpoint of this run, and
/// reading it could exhaust the memory.
fn size_limit(state: &RunState<'_>, epochs: usize) -> u64 {
    let mut out = SnapshotWriter::new();
    state.net.save(&mut out);
    state.optimizer.save(&mut out);
    let state_bytes = out.into_bytes().len() as u64;
    2 * state_bytes + 8 * state.order_len as u64 + 65_536 * (epochs as u64 + 1) + (1 << 20)
}

fn restore(
    input: &mut SnapshotReader<'_>,
    state: &mut RunState<'_>,
    planned: usize,
) -> std::result::Result<Resumed, SnapshotError> {
    input.tag("run")?;
    let epoch = input.usize()?;
    let batch = input.usize()?;
    if epoch == 0 || epoch > planned || batch >= state.batches.max(1) || (epoch == 1 && batch == 0)
    {
        return Err(input.error(format!(
            "saved at mini-batch {batch} of epoch {epoch}, where the run trains {} mini-batches in each of epochs 1 to {planned}",
            state.batches
        )));
    }
    let step = input.usize()?;
    let shuffle = input.rng()?;
    let n = input.usize()?;
    if n != state.order_len {
        return Err(input.error(format!(
            "an order of {n} training images where the run trains {}",
            state.order_len
        )));
    }
    let mut order = Vec::with_capacity(n);
    let mut seen = vec![false; n];
    for _ in 0..n {
        let i = input.usize()?;
        if i >= n || std::mem::replace(&mut seen[i], true) {
            return Err(input.error(format!(
                "the training order is not a permutation of 0..{n} (at {i})"
            )));
        }
        order.push(i);
    }
    let metrics = input.bytes_value()?;
    let epochs = decode_metrics(metrics)
        .map_err(|e| input.error(format!("the metrics do not read: {e}")))?;
    if epochs.len() != epoch {
        return Err(input.error(format!(
            "{} epochs of metrics for a run saved in epoch {epoch}",
            epochs.len()
        )));
    }
    let so_far = if batch > 0 {
        let tally = restore_tally(input)?;
        let mut start = Counts::default();
        start.arrays.restore(input)?;
        start.net.restore(input)?;
        Some(EpochSoFar { tally, start })
    } else {
        None
    };
    state.net.restore(input)?;
    state.optimizer.restore(input)?;
    Ok(Resumed {
        at: Position { epoch, batch },
        step,
        shuffle,
        order,
        epochs,
        so_far,
    })
}

/// The running sums of an epoch in progress (its counts and samples are set when it ends).
fn save_tally(t: &EpochTally, out: &mut SnapshotWriter) {
    out.tag("epoch so far");
    out.u64(t.batches as u64);
    out.f64(t.passes);
    out.f64(t.residual);
    out.u64(t.unconverged as u64);
    out.f64(t.time);
    out.u64(t.pulses);
}

fn restore_tally(input: &mut SnapshotReader<'_>) -> std::result::Result<EpochTally, SnapshotError> {
    input.tag("epoch so far")?;
    Ok(EpochTally {
        batches: input.usize()?,
        passes: input.f64()?,
        residual: input.f64()?,
        unconverged: input.usize()?,
        time: input.f64()?,
        pulses: input.u64()?,
        ..EpochTally::default()
    })
}

/// The checkpoint files in `runs`, by the (point, seed) their names claim.
pub fn files_in(runs: &Path) -> Result<Vec<((usize, u64), PathBuf)>> {
    if !runs.is_dir() {
        return Ok(Vec::new());
    }
    let io = |source| LabError::Io {
        path: runs.to_owned(),
        source,
    };
    let mut out = Vec::new();
    for entry in std::fs::read_dir(runs).map_err(io)? {
        let path = entry.map_err(io)?.path();
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        if let Some(run) = parse_file_name(&name)
            && path.is_file()
        {
            out.push((run, path));
        }
    }
    out.sort();
    Ok(out)
}

/// A run key as this dyadsim writes it, from one an earlier version wrote: fields added since
/// take their defaults, so a newer dyadsim continues a checkpoint whose experiment it would run
/// the same way. `None` when the key is not one [`crate::runner::canonical`] wrote.
fn upgraded(written: &str) -> Option<String> {
    let (experiment, rest) = written.split_once('\n')?;
    let experiment: crate::spec::Experiment = serde_json::from_str(experiment).ok()?;
    Some(format!(
        "{}\n{rest}",
        crate::runner::canonical(&experiment).ok()?
    ))
}

/// The first field in which the experiment of a checkpoint's run key differs from the current
/// one, e.g. `training.epochs: 10 in the checkpoint, 12 now`, so a refused checkpoint says what
/// changed; `None` when a key is not one [`crate::runner::canonical`] wrote.
fn changed_field(written: &str, current: &str) -> Option<String> {
    let (written_exp, written_rest) = written.split_once('\n')?;
    let (current_exp, current_rest) = current.split_once('\n')?;
    let a: serde_json::Value = serde_json::from_str(written_exp).ok()?;
    let b: serde_json::Value = serde_json::from_str(current_exp).ok()?;
    match crate::diff::first(&a, &b) {
        Some(difference) => Some(
            difference
                .replace("in the folder", "in the checkpoint")
                .replace("in the file", "now"),
        ),
        None => (written_rest != current_rest)
            .then(|| format!("{written_rest} in the checkpoint, {current_rest} now")),
    }
}

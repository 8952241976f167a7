//! One training run: build the network, train it epoch by epoch, measure it.

use crate::checkpoint::{self, Checkpoints, Position, RunState, Saved};
use crate::dataset::{Dataset, Split};
use crate::error::{LabError, Result};
use crate::metrics::{EpochTally, MetricSpec, Probe, input_range};
use crate::seed::{Purpose, augment_stream, stream};
use crate::spec::Experiment;
use crossbar::Crossbar;
use datasets::transform::{Crop, augment_batch};
use dualprop::loss::accuracy;
use dualprop::{AlgorithmKind, Backprop, Dyads, Gradients, Network, Optimizer, settle};
use nalgebra::DMatrix;
use rand::seq::SliceRandom;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::Path;

/// The network type every run uses: layers on whatever hardware the experiment describes.
pub type Net = Network<Box<dyn Crossbar>>;

/// Loss and accuracy on both splits after an epoch (epoch 0 = before training).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct EpochMetrics {
    /// Epochs completed.
    pub epoch: usize,
    /// Mean loss on the training split.
    #[serde(with = "crate::floats")]
    pub train_loss: f64,
    /// Accuracy on the training split, a fraction in [0, 1].
    #[serde(with = "crate::floats")]
    pub train_acc: f64,
    /// Mean loss on the test split.
    #[serde(with = "crate::floats")]
    pub test_loss: f64,
    /// Accuracy on the test split, a fraction in [0, 1].
    #[serde(with = "crate::floats")]
    pub test_acc: f64,
    /// The experiment's further metrics by metrics.csv column name.
    #[serde(
        default,
        skip_serializing_if = "BTreeMap::is_empty",
        with = "crate::floats::map"
    )]
    pub extra: BTreeMap<String, f64>,
}

/// Why a run was stopped and recorded as diverged.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum DivergenceKind {
    /// A compartment, the loss or a gradient became NaN or infinite (`non-finite`; the only
    /// kind records written before blow-up detection can hold, hence the default).
    #[default]
    NonFinite,
    /// The training loss exceeded `training.blow_up` times its epoch-0 value (`blow-up`).
    BlowUp,
}

impl DivergenceKind {
    /// The name written to summary.json and metrics.csv: `non-finite` or `blow-up`.
    pub fn name(self) -> &'static str {
        match self {
            DivergenceKind::NonFinite => "non-finite",
            DivergenceKind::BlowUp => "blow-up",
        }
    }
}

/// Where and why a run diverged.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Divergence {
    /// 1-based epoch.
    pub epoch: usize,
    /// 0-based mini-batch within that epoch (the last one when an epoch's evaluation found it).
    pub batch: usize,
    /// Which rule stopped the run.
    #[serde(default)]
    pub kind: DivergenceKind,
    /// What happened, in words.
    pub reason: String,
}

/// Test metrics of the trained network after its weights drifted for `t` seconds.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RetentionPoint {
    /// Time since programming (s).
    #[serde(with = "crate::floats")]
    pub t: f64,
    /// Mean test loss.
    #[serde(with = "crate::floats")]
    pub test_loss: f64,
    /// Test accuracy, a fraction in [0, 1].
    #[serde(with = "crate::floats")]
    pub test_acc: f64,
}

/// The outcome of a run: its metrics per epoch and whether it diverged.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RunOutcome {
    /// Metrics from epoch 0 to the last completed epoch.
    pub epochs: Vec<EpochMetrics>,
    /// Set when training stopped on a non-finite value.
    pub divergence: Option<Divergence>,
    /// Test metrics at the retention times (empty unless asked for and training converged).
    pub retention: Vec<RetentionPoint>,
}

/// Progress reports from a run; every method has an empty default.
pub trait Observer: Sync {
    /// A mini-batch finished.
    fn batch(&self, _done: usize, _total: usize) {}
    /// An epoch finished and was measured.
    fn epoch(&self, _metrics: &EpochMetrics) {}
    /// The run continues from a checkpoint at mini-batch `batch` (0-based) of epoch `epoch`, with
    /// `done` of its mini-batches behind it.
    fn resumed(&self, _epoch: usize, _batch: usize, _done: usize) {}
    /// Asked between mini-batches: true abandons the run (its results are not recorded).
    fn should_stop(&self) -> bool {
        false
    }
}

/// An observer that ignores everything.
pub struct Silent;
impl Observer for Silent {}

/// Build the network of `exp` for replicate `replicate` with [`crate::network::realise`]: the
/// devices depend on (seed, replicate) only, so every point of a sweep sees the same devices for a
/// given seed.
pub fn build_network(exp: &Experiment, replicate: u64) -> Result<Net> {
    let invalid = |field: &str, message: String| LabError::Invalid {
        path: Path::new(&exp.name).to_owned(),
        position: None,
        field: field.into(),
        message,
    };
    let hardware = exp
        .hardware
        .spec()
        .ok_or_else(|| invalid("hardware", "the hardware file was not loaded".into()))?;
    crate::network::realise_spec(&exp.network, hardware, exp.seed, replicate)
        .map_err(|e| invalid(e.field(), e.to_string()))
}

/// Check that the network's input and output widths fit the dataset, and a network of blocks
/// reads the data's image shape; `path` is the experiment file, where a field is located.
pub fn check_shapes(exp: &Experiment, data: &Dataset, path: &Path) -> Result<()> {
    crate::network::check_input(&exp.network, data.image, &data.name).map_err(|e| {
        let text = crate::error::read_input(path).unwrap_or_default();
        crate::load::placed(e, &text, path)
    })?;
    let layers = &exp.network.layers;
    let (first, last) = (layers[0], *layers.last().unwrap_or(&0));
    if first != data.inputs() || last != data.outputs() {
        return Err(LabError::Invalid {
            path: path.to_owned(),
            position: None,
            field: "network.layers".into(),
            message: format!(
                "must start with the dataset's {} inputs and end with its {} outputs (got {layers:?})",
                data.inputs(),
                data.outputs()
            ),
        });
    }
    // A batch larger than the split is rejected rather than clamped: the file would state a
    // batch size the run does not use (see docs/RELIABILITY.md, "Validation limits").
    let swept = exp
        .sweep
        .0
        .iter()
        .filter(|a| a.path == "training.batch_size")
        .flat_map(|a| a.values.iter().filter_map(|v| v.as_u64()));
    let largest = swept
        .map(|b| usize::try_from(b).unwrap_or(usize::MAX))
        .chain([exp.training.batch_size])
        .max()
        .unwrap_or(0);
    let all = data.train.len();
    let n = crate::validation::train_count(all, exp.training.validation);
    if let Some(f) = exp.training.validation
        && (n == 0 || n == all)
    {
        return Err(LabError::Invalid {
            path: path.to_owned(),
            position: None,
            field: "training.validation".into(),
            message: format!(
                "leaves {n} of the training split's {all} samples to train and {} to validate (got {f}): both need at least one",
                all - n
            ),
        });
    }
    if exp.training.augments(&exp.dataset) && data.image.is_none() {
        return Err(LabError::Invalid {
            path: path.to_owned(),
            position: None,
            field: "training.augment".into(),
            message: format!(
                "needs images, and the dataset {} has none: the augmentation would do nothing; leave augment out",
                data.name
            ),
        });
    }
    if largest > n {
        return Err(LabError::Invalid {
            path: path.to_owned(),
            position: None,
            field: "training.batch_size".into(),
            message: format!(
                "must be at most the training split's {n} samples (got {largest}); use {n} for full-batch training"
            ),
        });
    }
    Ok(())
}

/// Mean loss and accuracy of `net` on `split`, evaluated in chunks.
pub fn evaluate(net: &mut Net, split: &Split) -> (f64, f64) {
    evaluate_range(net, split, 0..split.len())
}

/// Mean loss and accuracy of `net` on the samples `range` of `split`, evaluated in chunks.
pub fn evaluate_range(net: &mut Net, split: &Split, range: std::ops::Range<usize>) -> (f64, f64) {
    const CHUNK: usize = 1000;
    let (mut loss, mut hits) = (0.0, 0.0);
    let (mut start, end) = (range.start, range.end);
    let n = end - start;
    while start < end {
        let len = CHUNK.min(end - start);
        let x = split.x.columns(start, len).into_owned();
        let y = split.y.columns(start, len).into_owned();
        let out = net.predict(&x);
        loss += net.loss.value(&out, &y) * len as f64;
        hits += accuracy(&out, &y) * len as f64;
        start += len;
    }
    (loss / n.max(1) as f64, hits / n.max(1) as f64)
}

/// Loss and accuracy on the first `n_train` training samples and the test split, and on the
/// held-out rest of the training split when there is one (`val_loss`, `val_acc`).
fn measure(net: &mut Net, data: &Dataset, n_train: usize, epoch: usize) -> EpochMetrics {
    let (train_loss, train_acc) = evaluate_range(net, &data.train, 0..n_train);
    let (test_loss, test_acc) = evaluate(net, &data.test);
    let mut extra = BTreeMap::new();
    if n_train < data.train.len() {
        let (val_loss, val_acc) = evaluate_range(net, &data.train, n_train..data.train.len());
        extra.insert(crate::validation::VAL_LOSS.to_owned(), val_loss);
        extra.insert(crate::validation::VAL_ACC.to_owned(), val_acc);
    }
    EpochMetrics {
        epoch,
        train_loss,
        train_acc,
        test_loss,
        test_acc,
        extra,
    }
}

fn all_finite(g: &Gradients) -> bool {
    g.weights.iter().all(|w| w.iter().all(|v| v.is_finite()))
        && g.biases.iter().all(|b| b.iter().all(|v| v.is_finite()))
}

fn diverged(
    epochs: Vec<EpochMetrics>,
    epoch: usize,
    batch: usize,
    kind: DivergenceKind,
    reason: String,
) -> RunOutcome {
    RunOutcome {
        epochs,
        divergence: Some(Divergence {
            epoch,
            batch,
            kind,
            reason,
        }),
        retention: Vec::new(),
    }
}

/// Train replicate `replicate` of `exp` on `data`, reporting progress to `observer`.
pub fn train(
    exp: &Experiment,
    data: &Dataset,
    replicate: u64,
    observer: &dyn Observer,
) -> Result<RunOutcome> {
    train_with(exp, data, replicate, observer, None)
}

/// [`train`], continuing from the checkpoint in `checkpoints` if there is one and writing one
/// between mini-batches as often as it says (see [`crate::checkpoint`]). The outcome is bit for bit
/// that of [`train`]; the caller removes the checkpoint once the outcome is recorded.
pub fn train_with(
    exp: &Experiment,
    data: &Dataset,
    replicate: u64,
    observer: &dyn Observer,
    checkpoints: Option<&Checkpoints>,
) -> Result<RunOutcome> {
    let mut net = build_network(exp, replicate)?;
    let sizes = exp.network.layers.clone();
    let t = &exp.training;
    let alg = &exp.algorithm;
    let mut optimizer = Optimizer::for_network(
        t.optimizer,
        t.learning_rate,
        t.momentum,
        t.weight_decay,
        &net,
    )
    .with_bias_decay(t.decay_biases);
    let mut dyads = Dyads::new(&sizes, t.batch_size);
    let mut backprop = Backprop::new(&sizes, t.batch_size);
    let mut grads = Gradients::for_network(&net);
    let dynamics = alg.dynamics();
    let mut shuffle = stream(exp.seed, replicate, Purpose::Shuffle);
    let n_train = crate::validation::train_count(data.train.len(), t.validation);
    let mut order: Vec<usize> = (0..n_train).collect();
    let batches = order.len().div_ceil(t.batch_size);
    let (mut x, mut y) = (DMatrix::zeros(0, 0), DMatrix::zeros(0, 0));
    let probe = probe(exp, data, n_train, replicate);
    let augment = data.image.filter(|_| t.augments(&exp.dataset));
    let (mut crops, mut batch_crops, mut scratch) = (Vec::new(), Vec::new(), Vec::new());
    let mut step = 0;

    let mut tally = EpochTally::default();
    let resumed = match checkpoints {
        Some(c) => {
            let mut state = RunState {
                net: &mut net,
                optimizer: &mut optimizer,
                order_len: order.len(),
                batches,
            };
            c.load(&mut state, t.epochs)?
        }
        None => None,
    };
    let (mut epochs, first_epoch, mut so_far) = match resumed {
        Some(r) => {
            (shuffle, order, step) = (r.shuffle, r.order, r.step);
            let at = r.at;
            observer.resumed(at.epoch, at.batch, (at.epoch - 1) * batches + at.batch);
            let so_far = r.so_far.map(|s| (at.batch, s));
            (r.epochs, at.epoch, so_far)
        }
        None => {
            let first = measure_epoch(&mut net, data, n_train, 0, exp, &probe, &tally);
            observer.epoch(&first);
            (vec![first], 1, None)
        }
    };
    if let Some(undefined) = alg.undefined_output() {
        let reason = format!("the exact MSE output is undefined, nothing can settle: {undefined}");
        // The exact output's fixed point lies at infinity: settling would produce no finite state.
        return Ok(diverged(epochs, 1, 0, DivergenceKind::NonFinite, reason));
    }
    let mut schedule = checkpoints.and_then(|c| c.every.map(checkpoint::Schedule::start));
    for epoch in first_epoch..=t.epochs {
        // An epoch continued from a checkpoint has shuffled its order already.
        let (first_batch, start) = match so_far.take() {
            Some((batch, s)) => {
                tally = s.tally;
                (batch, s.start)
            }
            None => {
                order.shuffle(&mut shuffle);
                tally = EpochTally::default();
                (0, crate::cost::Counts::of(&net))
            }
        };
        if augment.is_some() {
            crops = Crop::draws(&mut augment_stream(exp.seed, replicate, epoch), n_train);
        }
        for (batch, idx) in order.chunks(t.batch_size).enumerate().skip(first_batch) {
            if let (Some(c), Some(due)) = (checkpoints, schedule.as_mut())
                && batch > first_batch
                && due.within_epochs()
                && due.due()
            {
                c.save(&Saved {
                    at: Position { epoch, batch },
                    step,
                    net: &net,
                    optimizer: &optimizer,
                    shuffle: &shuffle,
                    order: &order,
                    epochs: &epochs,
                    so_far: Some((&tally, &start)),
                })?;
            }
            if observer.should_stop() {
                return Err(LabError::Interrupted);
            }
            data.train.gather(idx, &mut x, &mut y);
            if let Some(shape) = augment {
                batch_crops.clear();
                batch_crops.extend(idx.iter().map(|&i| crops[i]));
                augment_batch(&mut x, shape, &batch_crops, &mut scratch);
            }
            if !t.lr_schedule.is_constant() {
                optimizer.set_learning_rate(t.lr_schedule.rate(t.learning_rate, step, batches));
            }
            step += 1;
            let pulses = match (&dynamics, alg.kind) {
                (Some(dynamics), _) => {
                    let settled = settle(&mut net, &mut dyads, &x, &y, dynamics);
                    tally.batches += 1;
                    tally.passes += settled.passes as f64;
                    tally.residual += settled.residual as f64;
                    tally.unconverged += usize::from(!settled.converged);
                    tally.time += settled.time.unwrap_or(0.0) as f64;
                    if settled.diverged || !settled.residual.is_finite() {
                        let reason = "settling diverged (a compartment became NaN or infinite)";
                        return Ok(diverged(
                            epochs,
                            epoch,
                            batch,
                            DivergenceKind::NonFinite,
                            reason.into(),
                        ));
                    }
                    optimizer.step_local(&mut net, &dyads, dynamics.beta)
                }
                (None, kind) => {
                    let loss = if kind == AlgorithmKind::AdversarialBackprop {
                        backprop.adversarial_gradient(&mut net, &x, &y, alg.beta, &mut grads)
                    } else {
                        backprop.weight_gradient(&mut net, &x, &y, &mut grads)
                    };
                    if !loss.is_finite() || !all_finite(&grads) {
                        let reason = "training loss or gradient became NaN or infinite";
                        return Ok(diverged(
                            epochs,
                            epoch,
                            batch,
                            DivergenceKind::NonFinite,
                            reason.into(),
                        ));
                    }
                    optimizer.step_backprop(&mut net, &backprop, &grads)
                }
            };
            tally.pulses += pulses;
            observer.batch((epoch - 1) * batches + batch + 1, t.epochs * batches);
        }
        // Taken before evaluation and diagnostics, which read the arrays too.
        tally.counts = crate::cost::Counts::of(&net).since(&start);
        tally.samples = order.len();
        let metrics = measure_epoch(&mut net, data, n_train, epoch, exp, &probe, &tally);
        let finite = metrics.train_loss.is_finite() && metrics.test_loss.is_finite();
        observer.epoch(&metrics);
        epochs.push(metrics);
        let last_batch = batches.saturating_sub(1);
        if !finite {
            let reason = "evaluation loss became NaN or infinite".to_owned();
            let kind = DivergenceKind::NonFinite;
            return Ok(diverged(epochs, epoch, last_batch, kind, reason));
        }
        if let Some(reason) = blow_up(&epochs, t.blow_up) {
            let kind = DivergenceKind::BlowUp;
            return Ok(diverged(epochs, epoch, last_batch, kind, reason));
        }
        if let (Some(c), Some(due)) = (checkpoints, schedule.as_mut())
            && epoch < t.epochs
            && due.due()
        {
            c.save(&Saved {
                at: Position {
                    epoch: epoch + 1,
                    batch: 0,
                },
                step,
                net: &net,
                optimizer: &optimizer,
                shuffle: &shuffle,
                order: &order,
                epochs: &epochs,
                so_far: None,
            })?;
        }
    }
    let retention = match &exp.retention {
        Some(r) => r
            .times
            .iter()
            .map(|&t| {
                for layer in &mut net.layers {
                    layer.array.age(t);
                }
                let (test_loss, test_acc) = evaluate(&mut net, &data.test);
                RetentionPoint {
                    t,
                    test_loss,
                    test_acc,
                }
            })
            .collect(),
        None => Vec::new(),
    };
    Ok(RunOutcome {
        epochs,
        divergence: None,
        retention,
    })
}

/// The blow-up rule: why the run counts as diverged when its last training loss exceeds `factor`
/// times the epoch-0 value (a positive epoch-0 loss; `None` turns the rule off).
fn blow_up(epochs: &[EpochMetrics], factor: Option<f64>) -> Option<String> {
    let (factor, first, last) = (factor?, epochs.first()?, epochs.last()?);
    let (l0, l) = (first.train_loss, last.train_loss);
    (l0 > 0.0 && l > factor * l0).then(|| {
        format!(
            "training loss {l:.4e} exceeds training.blow_up = {factor} × its epoch-0 value {l0:.4e}"
        )
    })
}

/// Loss and accuracy on both splits, then the experiment's further metrics when those are finite.
fn measure_epoch(
    net: &mut Net,
    data: &Dataset,
    n_train: usize,
    epoch: usize,
    exp: &Experiment,
    probe: &Probe,
    tally: &EpochTally,
) -> EpochMetrics {
    let mut metrics = measure(net, data, n_train, epoch);
    let hardware = exp.hardware.spec();
    if metrics.train_loss.is_finite() && metrics.test_loss.is_finite() {
        let alg = &exp.algorithm;
        crate::metrics::measure(
            &exp.metrics,
            net,
            alg,
            probe,
            &data.test,
            tally,
            &mut metrics.extra,
        );
    }
    if let (0, Some(hw), Some(cost)) = (epoch, hardware, &probe.cost)
        && exp.metrics.contains(&MetricSpec::Cost)
    {
        let converted = !hw.io.is_perfect();
        let area = crate::cost::area_mm2(&exp.network.layers, converted, cost);
        metrics
            .extra
            .insert(crate::cost::AREA_COLUMN.to_owned(), area);
    }
    metrics
}

/// The run's fixed probe batch for gradient diagnostics, drawn from the `Probe` stream out of the
/// first `n_train` training samples (those it trains on).
fn probe(exp: &Experiment, data: &Dataset, n_train: usize, replicate: u64) -> Probe {
    let n = exp
        .metrics
        .iter()
        .find_map(|m| match m {
            MetricSpec::GradientCosine { probe } => Some(*probe),
            _ => None,
        })
        .unwrap_or(0)
        .min(n_train);
    let mut rng = stream(exp.seed, replicate, Purpose::Probe);
    let idx = rand::seq::index::sample(&mut rng, n_train, n).into_vec();
    let (mut x, mut y) = (DMatrix::zeros(0, 0), DMatrix::zeros(0, 0));
    data.train.gather(&idx, &mut x, &mut y);
    Probe {
        x,
        y,
        range: input_range(&data.train),
        cost: exp.hardware.spec().and_then(|h| h.cost.clone()),
    }
}

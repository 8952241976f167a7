//! Running an experiment: every (point, replicate seed) pair, resumably, into a results folder.

use crate::checkpoint::{self, Checkpoints};
use crate::dataset::Dataset;
use crate::error::{LabError, Result};
use crate::field::FieldError;
use crate::job::{self, EpochMetrics, Observer};
use crate::results::{self, RunRecord};
use crate::spec::{Algorithm, AlgorithmKind, Experiment};
use rayon::prelude::*;
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

/// One point of the experiment grid: the experiment with the point's parameters applied.
#[derive(Clone, Debug)]
pub struct Point {
    /// Index in the grid.
    pub index: usize,
    /// The swept parameters, by field path.
    pub params: BTreeMap<String, Value>,
    /// The experiment as this point runs it.
    pub experiment: Experiment,
}

/// The grid of a loaded experiment, an invalid point reported against the experiment's file.
pub fn grid(exp: &Experiment) -> Result<Vec<Point>> {
    points(exp).map_err(|e| LabError::Invalid {
        path: exp.source.clone().unwrap_or_default(),
        position: None,
        field: e.field,
        message: e.message,
    })
}

/// The grid of an experiment (a single point when nothing is swept), every point validated.
pub fn points(exp: &Experiment) -> std::result::Result<Vec<Point>, FieldError> {
    (0..exp.sweep.len())
        .map(|index| {
            let params = exp.sweep.params(index);
            let mut experiment = crate::sweep::apply(exp, &params)
                .map_err(|message| FieldError::new("sweep", message))?;
            let source = exp.source.clone().unwrap_or_default();
            crate::hardware::resolve_with(&mut experiment.hardware, &exp.hardware_presets, &source)
                .map_err(|e| FieldError::new("sweep", format!("hardware: {e}")))?;
            // The point's hardware is inline now; the named presets are the whole grid's.
            experiment.hardware_presets.clear();
            crate::load::validate(&experiment).map_err(|e| {
                let shown: Vec<String> = params.iter().map(|(p, v)| format!("{p} = {v}")).collect();
                e.note(&format!("at sweep point {index} ({})", shown.join(", ")))
            })?;
            Ok(Point {
                index,
                params,
                experiment,
            })
        })
        .collect()
}

/// A share of the grid: points whose index is `index` modulo `count`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Shard {
    /// This shard, in 0..count.
    pub index: usize,
    /// Number of shards.
    pub count: usize,
}

impl Shard {
    /// Parse `i/n` with i < n.
    pub fn parse(text: &str) -> Result<Self> {
        let bad = || {
            LabError::option(
                "shard",
                format!("must be i/n with 0 ≤ i < n (got {text:?})"),
            )
        };
        let (i, n) = text.split_once('/').ok_or_else(bad)?;
        let (index, count) = (
            i.trim().parse().map_err(|_| bad())?,
            n.trim().parse().map_err(|_| bad())?,
        );
        if count == 0 || index >= count {
            return Err(bad());
        }
        crate::limits::SHARDS
            .check("shard", count)
            .map_err(|e| LabError::option("shard", format!("{text:?}: n {}", e.message)))?;
        Ok(Self { index, count })
    }

    /// True when grid point `point` belongs to this shard.
    pub fn owns(&self, point: usize) -> bool {
        point % self.count == self.index
    }
}

/// How to run.
#[derive(Clone, Debug)]
pub struct RunOptions {
    /// Results folder.
    pub out: PathBuf,
    /// Discard earlier results in `out` instead of resuming.
    pub fresh: bool,
    /// Worker threads for points (None: all cores).
    pub threads: Option<usize>,
    /// Run only this share of the grid.
    pub shard: Option<Shard>,
    /// Write a checkpoint of every run in flight at the first mini-batch boundary once this much
    /// time passed since its last one (zero: after every epoch), and continue runs from their
    /// checkpoints; `None` writes none (a run with a checkpoint still continues from it, and
    /// removes it once its record is written).
    pub checkpoint_every: Option<std::time::Duration>,
}

/// Progress of a whole experiment; every method has an empty default.
pub trait RunObserver: Sync {
    /// The plan: runs to do now, runs already done, epochs per run, batches per epoch.
    fn planned(&self, _todo: usize, _done: usize, _epochs: usize, _batches: usize) {}
    /// A mini-batch of run (point, seed) finished.
    fn batch(&self, _point: usize, _seed: u64) {}
    /// An epoch of run (point, seed) was measured.
    fn epoch(&self, _point: usize, _seed: u64, _metrics: &EpochMetrics) {}
    /// Run (point, seed) continues from its checkpoint at mini-batch `batch` (0-based) of epoch
    /// `epoch`, with `done` mini-batches behind it.
    fn resumed(&self, _point: usize, _seed: u64, _epoch: usize, _batch: usize, _done: usize) {}
    /// A run finished and its record is on disk.
    fn finished(&self, _record: &RunRecord) {}
    /// Asked between mini-batches: true stops every run in flight, as if the process were killed.
    fn should_stop(&self) -> bool {
        false
    }
}

struct RunProgress<'a> {
    point: usize,
    seed: u64,
    inner: &'a dyn RunObserver,
}

impl Observer for RunProgress<'_> {
    fn batch(&self, _done: usize, _total: usize) {
        self.inner.batch(self.point, self.seed);
    }
    fn epoch(&self, metrics: &EpochMetrics) {
        self.inner.epoch(self.point, self.seed, metrics);
    }
    fn resumed(&self, epoch: usize, batch: usize, done: usize) {
        self.inner
            .resumed(self.point, self.seed, epoch, batch, done);
    }
    fn should_stop(&self) -> bool {
        self.inner.should_stop()
    }
}

/// The resolved experiment as RON, the form stored in `experiment.ron`.
pub fn resolved_ron(exp: &Experiment) -> Result<String> {
    let config = ron::ser::PrettyConfig::new().struct_names(true);
    ron::ser::to_string_pretty(exp, config).map_err(|e| LabError::Encode {
        path: "experiment.ron".into(),
        message: e.to_string(),
    })
}

/// The runs of the grid of `exp` (every point with every replicate seed) that `records` lack,
/// in (point, seed) order.
///
/// The grid of a tolerance search is its probes: every point the records hold.
pub fn missing(exp: &Experiment, records: &[RunRecord]) -> Vec<(usize, u64)> {
    let present: BTreeSet<(usize, u64)> = records.iter().map(|r| (r.point, r.seed)).collect();
    if exp.tolerance.is_some() {
        let points: BTreeSet<usize> = records.iter().map(|r| r.point).collect();
        return points
            .into_iter()
            .flat_map(|p| exp.seeds.iter().map(move |&s| (p, s)))
            .filter(|run| !present.contains(run))
            .collect();
    }
    (0..exp.sweep.len())
        .flat_map(|p| exp.seeds.iter().map(move |&s| (p, s)))
        .filter(|run| !present.contains(run))
        .collect()
}

/// Run every missing (point, seed) of `exp` on `data` and return all records of the folder.
///
/// The caller holds the folder's [`lock`](crate::lock::lock). Runs go in parallel; each is seeded only by (experiment seed, replicate seed, purpose), so the
/// records do not depend on the thread count or on the order in which runs finish.
pub fn run(
    exp: &Experiment,
    grid: &[Point],
    data: &Dataset,
    opts: &RunOptions,
    observer: &dyn RunObserver,
) -> Result<Vec<RunRecord>> {
    let started = std::time::Instant::now();
    // A resumed folder keeps counting the time spent on it before.
    let earlier_time = if opts.fresh {
        0.0
    } else {
        results::recorded_wall_time(&opts.out).unwrap_or(0.0)
    };
    let wall_time = || Some(earlier_time + started.elapsed().as_secs_f64());
    if let Some(n) = opts.threads {
        crate::limits::THREADS
            .check("threads", n)
            .map_err(LabError::Option)?;
    }
    crate::folder::prepare(&opts.out, exp, opts.fresh)?;
    // A caller's own grid is checked record by record only; the records of a tolerance search
    // (which grows its grid round by round) are checked as probes of its range.
    let own_grid =
        grid.len() == exp.sweep.len() && grid.iter().all(|p| p.params == exp.sweep.params(p.index));
    let existing = if own_grid || exp.tolerance.is_some() {
        results::load_records_of(&opts.out, exp)?
    } else {
        results::load_records(&opts.out)?
    };
    let done: BTreeSet<(usize, u64)> = existing.iter().map(|r| (r.point, r.seed)).collect();
    // A run killed after its record was written and before its checkpoint was removed left the
    // checkpoint behind; it is ours and will never be read.
    for (run, path) in checkpoint::files_in(&results::records_dir(&opts.out))? {
        if done.contains(&run) {
            std::fs::remove_file(&path).map_err(|source| LabError::Io { path, source })?;
        }
    }
    let todo: Vec<(&Point, u64)> = grid
        .iter()
        .filter(|p| opts.shard.is_none_or(|s| s.owns(p.index)))
        .flat_map(|p| exp.seeds.iter().map(move |&s| (p, s)))
        .filter(|(p, s)| !done.contains(&(p.index, *s)))
        .collect();
    // Points that differ only in parameters their algorithm ignores share one run.
    let keys: BTreeMap<usize, String> = grid
        .iter()
        .map(|p| Ok((p.index, canonical(&p.experiment)?)))
        .collect::<Result<_>>()?;
    let mut groups: Vec<(u64, Vec<&Point>)> = Vec::new();
    for (point, seed) in todo.iter().copied() {
        let key = &keys[&point.index];
        match groups
            .iter_mut()
            .find(|(s, members)| *s == seed && keys[&members[0].index] == *key)
        {
            Some((_, members)) => members.push(point),
            None => groups.push((seed, vec![point])),
        }
    }
    let trained = groups
        .iter()
        .filter(|(seed, members)| {
            !existing
                .iter()
                .any(|r| r.seed == *seed && keys.get(&r.point) == Some(&keys[&members[0].index]))
        })
        .count();
    let checkpoints_of = |point: usize, seed: u64, key: &str| Checkpoints {
        path: results::records_dir(&opts.out).join(checkpoint::file_name(point, seed)),
        key: format!("{key}\nreplicate seed {seed}"),
        every: opts.checkpoint_every,
    };
    // Every checkpoint is checked before any run trains: a broken one is reported at once, not
    // after the hours the other runs take.
    for (seed, members) in &groups {
        checkpoints_of(members[0].index, *seed, &keys[&members[0].index]).verify()?;
    }
    let batches = data.train.len().div_ceil(exp.training.batch_size);
    observer.planned(trained, done.len(), exp.training.epochs, batches);
    let axes = exp.record_axes();
    let records = Mutex::new(existing);
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(opts.threads.unwrap_or(0))
        .build()
        .map_err(|e| LabError::ThreadPool {
            threads: opts.threads.unwrap_or(0),
            message: e.to_string(),
        })?;
    let outcomes: Vec<Result<()>> = pool.install(|| {
        groups
            .par_iter()
            .map(|(seed, members)| {
                let (seed, first) = (*seed, members[0]);
                let key = &keys[&first.index];
                let earlier = records
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .iter()
                    .find(|r| r.seed == seed && keys.get(&r.point) == Some(key))
                    .cloned();
                let mut finished_checkpoint = None;
                let template = match earlier {
                    Some(record) => record,
                    None => {
                        if observer.should_stop() {
                            return Err(LabError::Interrupted);
                        }
                        let progress = RunProgress {
                            point: first.index,
                            seed,
                            inner: observer,
                        };
                        let checkpoints = checkpoints_of(first.index, seed, key);
                        let outcome = job::train_with(
                            &first.experiment,
                            data,
                            seed,
                            &progress,
                            Some(&checkpoints),
                        )?;
                        finished_checkpoint = Some(checkpoints);
                        RunRecord {
                            schema: results::SCHEMA,
                            point: first.index,
                            seed,
                            params: first.params.clone(),
                            epochs: outcome.epochs,
                            divergence: outcome.divergence,
                            retention: outcome.retention,
                        }
                    }
                };
                for point in members {
                    let record = RunRecord {
                        point: point.index,
                        params: point.params.clone(),
                        ..template.clone()
                    };
                    results::save_record(&opts.out, &record)?;
                    let mut all = records.lock().unwrap_or_else(|e| e.into_inner());
                    all.push(record.clone());
                    all.sort_by_key(|r| (r.point, r.seed));
                    let complete = missing(exp, &all).is_empty();
                    results::write_tables(&opts.out, &all, &axes, complete, wall_time())?;
                    drop(all);
                    observer.finished(&record);
                }
                // Only once every record of the run is on disk.
                if let Some(c) = finished_checkpoint {
                    c.remove()?;
                }
                Ok(())
            })
            .collect()
    });
    outcomes.into_iter().collect::<Result<Vec<()>>>()?;
    let all = records.into_inner().unwrap_or_else(|e| e.into_inner());
    results::write_tables(
        &opts.out,
        &all,
        &axes,
        missing(exp, &all).is_empty(),
        wall_time(),
    )?;
    Ok(all)
}

/// The experiment's [computed part](crate::folder::computed_part) with every parameter its
/// algorithm ignores set to its default, as a comparable key: points with equal keys train the
/// same network from the same streams, so they share a run, and a checkpoint carries it.
/// A failure to encode is an error, not an empty key (which would merge every point into one run).
pub fn canonical(exp: &Experiment) -> Result<String> {
    let mut e = crate::folder::computed_part(exp);
    let defaults = Algorithm::default();
    let a = &mut e.algorithm;
    match a.kind {
        AlgorithmKind::Backprop | AlgorithmKind::AdversarialBackprop => {
            let beta = a.beta;
            *a = Algorithm {
                kind: a.kind,
                ..defaults
            };
            if a.kind == AlgorithmKind::AdversarialBackprop {
                a.beta = beta;
            }
        }
        AlgorithmKind::Dp | AlgorithmKind::DpTop => a.damping = defaults.damping,
        AlgorithmKind::DampedDp => {}
    }
    serde_json::to_string(&e).map_err(|err| LabError::Encode {
        path: exp.name.clone().into(),
        message: format!("the experiment cannot be encoded as a run key: {err}"),
    })
}

/// What [`merge`] combined.
#[derive(Clone, Debug)]
pub struct Merged {
    /// Every record now in the target folder, by (point, seed).
    pub records: Vec<RunRecord>,
    /// The runs of the grid that none of the folders holds, by (point, seed).
    pub missing: Vec<(usize, u64)>,
}

/// Combine the records of several results folders of the same experiment into `out`.
///
/// The caller holds the [`lock`](crate::lock::lock) of `out` and of every folder in `dirs`. Every
/// record is checked against the experiment; two folders holding different records of the same
/// run are an error naming both.
pub fn merge(dirs: &[PathBuf], out: &Path) -> Result<Merged> {
    let first = dirs
        .first()
        .ok_or_else(|| LabError::option("dirs", "must name at least one results folder"))?;
    let exp = crate::load::experiment(&first.join(crate::folder::EXPERIMENT))?;
    let mut all: BTreeMap<(usize, u64), (RunRecord, &PathBuf)> = BTreeMap::new();
    // The merged folder reports the time its shards spent, where each shard reported one.
    let times: Vec<Option<f64>> = dirs
        .iter()
        .map(|d| results::recorded_wall_time(d))
        .collect();
    let wall_time = times.iter().copied().sum::<Option<f64>>();
    for dir in dirs {
        let other = crate::load::experiment(&dir.join(crate::folder::EXPERIMENT))?;
        if let Some(difference) = crate::folder::first_difference(&exp, &other) {
            return Err(LabError::Conflict {
                path: dir.to_owned(),
                message: format!(
                    "holds results of a different experiment than {} ({})",
                    first.display(),
                    difference
                        .replace("in the folder", "in the first")
                        .replace("in the file", "in this one")
                ),
            });
        }
        for r in results::load_records_of(dir, &exp)? {
            let key = (r.point, r.seed);
            if let Some((known, from)) = all.get(&key) {
                // Compared as JSON: a diverged run's NaN losses are equal records, not different ones.
                if serde_json::to_value(known).ok() != serde_json::to_value(&r).ok() {
                    return Err(LabError::Conflict {
                        path: dir.to_owned(),
                        message: format!(
                            "holds another record of point {} seed {} ({}) than {}; keep the one to trust and delete the other",
                            r.point,
                            r.seed,
                            results::record_name(r.point, r.seed),
                            from.display(),
                        ),
                    });
                }
                continue;
            }
            all.insert(key, (r, dir));
        }
    }
    let records: Vec<RunRecord> = all.into_values().map(|(r, _)| r).collect();
    let missing = missing(&exp, &records);
    crate::folder::prepare_beside(out, &exp, false, dirs)?;
    for r in &records {
        results::save_record(out, r)?;
    }
    results::write_tables(
        out,
        &records,
        &exp.record_axes(),
        missing.is_empty(),
        wall_time,
    )?;
    Ok(Merged { records, missing })
}

/// An observer that reports nothing.
pub struct Quiet;
impl RunObserver for Quiet {}

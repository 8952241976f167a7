//! Golden regressions: a seeded run's results stored with the experiment that produced them, and
//! the comparison of a fresh run against them, metric by metric.
//!
//! The project's goldens (tests/golden/) pin shortened runs of experiments/*.ron; users pin their
//! own experiments, unshortened, with `dyadsim check --pin FILE --golden DIR`. A golden is only
//! ever rewritten on request (`--update`), after its diff has been shown.
//!
//! A user's golden names its experiment relative to its own folder, so that the two can move
//! together; a comparison whose experiment or hardware file is missing fails, unless the stored
//! experiment is re-run on purpose. Comparisons are exact (every value within a relative
//! tolerance) or statistical (every final mean over seeds within K seed spreads).

use super::diff::{
    ALL_ROWS, DETAIL_LINES, Moved, Shift, diff_in, diff_summary, diff_table_capped, fewest_seeds,
    shift_summary, shift_table, shifts,
};
use super::{Check, Criterion};
use crate::dataset::{self, DatasetSpec};
use crate::error::{LabError, Result};
use crate::job::{self, Silent};
use crate::results::{RunRecord, summary_json, write_atomic};
use crate::spec::Experiment;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

const SUITE: &str = "golden";
/// Work budget of a project golden, in multiply-accumulates × settling passes: about a few
/// seconds; quickstart shortened to 2 epochs costs 1e8, and the five goldens within budget run in
/// about 4 s together on 2 cores.
const BUDGET: f64 = 2e9;

/// What a golden file holds.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Golden {
    /// The experiment file the run came from (re-read on comparison, so that changed device
    /// models and parameters show up): relative to the golden's folder when `source_base` says
    /// so; else (goldens pinned by older versions) absolute or relative to the working directory
    /// of the pin, and in the project's goldens relative to the source tree.
    pub source: PathBuf,
    /// What a relative `source` is relative to (absent: the older forms above).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source_base: Option<SourceBase>,
    /// How the experiment was shortened for the project suite (`None` for users' goldens).
    pub shortened: Option<String>,
    /// The experiment as it ran, resolved (hardware inline), in RON.
    pub experiment: String,
    /// Every run: metrics per epoch, divergence, retention.
    pub records: Vec<RunRecord>,
    /// summary.json of the run, for reading.
    pub summary: serde_json::Value,
}

/// What a golden's `source` is relative to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum SourceBase {
    /// The folder holding the golden file.
    #[serde(rename = "golden folder")]
    GoldenFolder,
}

/// How goldens are compared with fresh runs.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Comparison {
    /// Relative tolerance of every value (the exact mode); in the statistical mode, what counts
    /// as moved, and the tolerance of the run-level entries (epochs completed, divergence).
    pub rtol: f64,
    /// The statistical mode: a metric fails only when its mean over seeds at the last epoch
    /// moves by more than this many standard deviations of the golden's seeds.
    pub max_sigma: Option<f64>,
    /// Compare the last epoch of every run alone (the statistical mode always does).
    pub final_only: bool,
    /// Every detail row, not only the first [`DETAIL_LINES`] of each golden.
    pub details: bool,
    /// Re-run the experiment stored in a golden whose experiment file or hardware file is
    /// missing, instead of failing.
    pub allow_missing_source: bool,
}

impl Comparison {
    /// Refuse a negative or non-finite `max_sigma`.
    pub fn validate(&self) -> Result<()> {
        match self.max_sigma {
            Some(k) if !(k.is_finite() && k >= 0.0) => Err(LabError::option(
                "max_sigma",
                crate::field::must_be("a number ≥ 0", k),
            )),
            _ => Ok(()),
        }
    }

    fn limit(&self) -> Option<usize> {
        (!self.details).then_some(DETAIL_LINES)
    }
}

/// Run every (point, replicate seed) of `exp`, in parallel, collected in grid order.
pub fn run_records(exp: &Experiment) -> Result<Vec<RunRecord>> {
    let source = exp.source.clone().unwrap_or_default();
    let data = dataset::load(&exp.dataset, &source)?;
    job::check_shapes(exp, &data, &source)?;
    let grid = crate::runner::grid(exp)?;
    let todo: Vec<_> = grid
        .iter()
        .flat_map(|p| exp.seeds.iter().map(move |&s| (p, s)))
        .collect();
    todo.par_iter()
        .map(|&(p, seed)| {
            let outcome = job::train(&p.experiment, &data, seed, &Silent)?;
            Ok(RunRecord {
                schema: crate::results::SCHEMA,
                point: p.index,
                seed,
                params: p.params.clone(),
                epochs: outcome.epochs,
                divergence: outcome.divergence,
                retention: outcome.retention,
            })
        })
        .collect()
}

/// A further shortening step: what it does, and the edit (false when it changed nothing).
type Step = (&'static str, fn(&mut Experiment) -> bool);

/// The project's short version of an experiment: at most 2 epochs, the first replicate seed, and
/// for MNIST-like data 1000 training and 500 test images. The digits and synthetic data are used
/// whole (the digits have no subset option; a synthetic task is as large as its file says).
/// While that is still beyond the work budget, further steps apply in turn: every sweep axis
/// keeps only its first and last value (the extremes are where a change shows first), then one
/// epoch, then 200 training and 100 test images. Each step taken is named in the returned text.
pub fn shorten(exp: &Experiment) -> (Experiment, String) {
    let mut e = exp.clone();
    e.training.epochs = e.training.epochs.min(2);
    e.seeds.truncate(1);
    let mut how = format!("{} epochs, seed {:?}", e.training.epochs, e.seeds);
    how.push_str(if cap_images(&mut e, 1000, 500) {
        ", 1000 train / 500 test images"
    } else {
        ", whole dataset"
    });
    let steps: [Step; 3] = [
        ("sweep axes cut to their first and last values", |e| {
            let mut cut = false;
            for axis in &mut e.sweep.0 {
                if axis.values.len() > 2 {
                    let last = axis.values.pop();
                    axis.values.truncate(1);
                    axis.values.extend(last);
                    cut = true;
                }
            }
            cut
        }),
        ("1 epoch", |e| {
            let more = e.training.epochs > 1;
            e.training.epochs = 1;
            more
        }),
        ("200 train / 100 test images", |e| cap_images(e, 200, 100)),
    ];
    for (what, step) in steps {
        if cost(&e) <= BUDGET {
            break;
        }
        if step(&mut e) {
            how.push_str(", ");
            how.push_str(what);
        }
    }
    (e, how)
}

/// Cap the subsets of MNIST-like data at `train` and `test` images; false for data without
/// subsets.
fn cap_images(e: &mut Experiment, train: usize, test: usize) -> bool {
    let cap = |n: &mut Option<usize>, m: usize| *n = Some(n.map_or(m, |v| v.min(m)));
    let (train_subset, test_subset) = match &mut e.dataset {
        DatasetSpec::Mnist(s) => (&mut s.train_subset, &mut s.test_subset),
        DatasetSpec::FashionMnist(s) => (&mut s.train_subset, &mut s.test_subset),
        DatasetSpec::Cifar10(s) | DatasetSpec::Cifar100(s) => {
            (&mut s.train_subset, &mut s.test_subset)
        }
        _ => return false,
    };
    cap(train_subset, train);
    cap(test_subset, test);
    true
}

/// Estimated work of a run: points × seeds × epochs × samples × multiply-adds of one read of every
/// array × (passes + 2).
fn cost(exp: &Experiment) -> f64 {
    let samples = match &exp.dataset {
        DatasetSpec::Digits => 1347.0,
        DatasetSpec::Mnist(s) => s.train_subset.unwrap_or(60_000) as f64,
        DatasetSpec::FashionMnist(s) => s.train_subset.unwrap_or(60_000) as f64,
        DatasetSpec::Cifar10(s) | DatasetSpec::Cifar100(s) => {
            s.train_subset.unwrap_or(50_000) as f64
        }
        DatasetSpec::Synthetic(s) => s.train as f64,
    };
    let weights = crate::network::macs_per_read(&exp.network);
    let passes = exp.algorithm.passes as f64 + 2.0;
    (exp.sweep.len() * exp.seeds.len()) as f64
        * exp.training.epochs as f64
        * samples
        * weights
        * passes
}

fn read(path: &Path) -> Result<Golden> {
    let text = crate::error::read_input(path)?;
    read_str(&text, path)
}

fn read_str(text: &str, path: &Path) -> Result<Golden> {
    serde_json::from_str(text).map_err(|e| LabError::Data {
        path: path.to_owned(),
        message: format!("not a golden file ({e}); pin it again"),
    })
}

fn write(path: &Path, g: &Golden) -> Result<()> {
    let json = serde_json::to_vec_pretty(g).map_err(|e| LabError::Encode {
        path: path.to_owned(),
        message: e.to_string(),
    })?;
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(|source| LabError::Io {
            path: dir.to_owned(),
            source,
        })?;
    }
    write_atomic(path, &json)
}

/// `file` relative to the folder `dir` (both made absolute, the folders with their links
/// resolved), so that the two can move together; absolute where they share no root.
fn relative_to(file: &Path, dir: &Path) -> PathBuf {
    let real = |p: &Path| {
        p.canonicalize()
            .or_else(|_| std::path::absolute(p))
            .unwrap_or_else(|_| p.to_owned())
    };
    let file = match (file.parent(), file.file_name()) {
        (Some(parent), Some(name)) => {
            let parent = if parent.as_os_str().is_empty() {
                Path::new(".")
            } else {
                parent
            };
            real(parent).join(name)
        }
        _ => real(file),
    };
    let (file, dir) = (tidy(&file), tidy(&real(dir)));
    let f: Vec<_> = file.components().collect();
    let d: Vec<_> = dir.components().collect();
    let common = f.iter().zip(&d).take_while(|(a, b)| a == b).count();
    if common == 0 {
        return file;
    }
    let mut rel = PathBuf::new();
    for _ in common..d.len() {
        rel.push("..");
    }
    for c in &f[common..] {
        rel.push(c);
    }
    rel
}

/// `path` with `.` removed and each `..` cancelling the name before it, for messages.
fn tidy(path: &Path) -> PathBuf {
    use std::path::Component;
    let mut out: Vec<Component> = Vec::new();
    for c in path.components() {
        match c {
            Component::CurDir => {}
            Component::ParentDir if matches!(out.last(), Some(Component::Normal(_))) => {
                out.pop();
            }
            c => out.push(c),
        }
    }
    if out.is_empty() {
        return PathBuf::from(".");
    }
    out.iter().collect()
}

fn golden_of(
    exp: &Experiment,
    shortened: Option<String>,
    records: Vec<RunRecord>,
    folder: Option<&Path>,
) -> Result<Golden> {
    // A golden pins results, not timings.
    let summary = summary_json(&records, None);
    let source = exp.source.clone().unwrap_or_default();
    let (source, source_base) = match (&shortened, folder) {
        // The project's goldens are committed: name their experiment relative to the source tree.
        (Some(_), _) => match super::find_root(&source) {
            Some(root) => (
                source
                    .strip_prefix(&root)
                    .map(Path::to_owned)
                    .unwrap_or(source.clone()),
                None,
            ),
            None => (source, None),
        },
        (None, Some(dir)) => (relative_to(&source, dir), Some(SourceBase::GoldenFolder)),
        (None, None) => (source, None),
    };
    Ok(Golden {
        source,
        source_base,
        shortened,
        experiment: crate::runner::resolved_ron(exp)?,
        records,
        summary,
    })
}

/// Refuse the statistical mode for a golden with fewer than two seeds at some point: there is
/// no spread to measure a change by.
fn require_seeds(path: &Path, g: &Golden, how: &Comparison) -> Result<()> {
    let seeds = fewest_seeds(&g.records);
    match how.max_sigma {
        Some(k) if seeds < 2 => Err(LabError::Data {
            path: path.to_owned(),
            message: format!(
                "holds {seeds} seed(s) per point: --max-sigma {k} measures a change against the spread over seeds, which needs at least 2; pin an experiment with more seeds (e.g. `seeds: [0, 1, 2]`), or compare exactly (--rtol)"
            ),
        }),
        _ => Ok(()),
    }
}

/// Refuse, before anything runs, a comparison of the goldens in `dir` (else the project's:
/// those of the source tree `root`, else those built in) that `how` cannot make: the statistical
/// mode on a golden of one seed.
pub fn preflight(dir: Option<&Path>, root: Option<&Path>, how: &Comparison) -> Result<()> {
    if how.max_sigma.is_none() {
        return Ok(());
    }
    let folder = match (dir, root) {
        (Some(dir), _) => Some(dir.to_owned()),
        (None, Some(root)) => Some(root.join("tests").join("golden")),
        (None, None) => None,
    };
    match folder {
        Some(folder) => {
            for path in super::files_with_extension(&folder, "json")? {
                require_seeds(&path, &read(&path)?, how)?;
            }
        }
        None => {
            for (stem, text) in crate::builtin::GOLDENS {
                let path = Path::new("tests/golden").join(format!("{stem}.json"));
                require_seeds(&path, &read_str(text, &path)?, how)?;
            }
        }
    }
    Ok(())
}

/// A golden and the fresh run it is compared with.
struct Target<'a> {
    /// The golden's name in checks and moved values.
    label: &'a str,
    /// The golden file.
    path: &'a Path,
    stored: &'a Golden,
    /// The experiment to run.
    exp: &'a Experiment,
    shortened: Option<String>,
    /// The folder of a user's golden: a rewritten golden names its source relative to it.
    folder: Option<&'a Path>,
    /// The golden is in an older form than this version writes (`--update` rewrites it).
    outdated: bool,
}

/// What comparing one golden found.
struct Compared {
    check: Check,
    moved: Vec<Moved>,
    shifts: Vec<Shift>,
}

/// Compare a fresh run of `exp` with the golden at `path` (rewriting it if `update`).
fn compare(
    label: &str,
    path: &Path,
    exp: &Experiment,
    shortened: Option<String>,
    how: &Comparison,
    update: bool,
) -> Result<Compared> {
    let stored = read_str(
        &std::fs::read_to_string(path).map_err(|source| LabError::Io {
            path: path.to_owned(),
            source,
        })?,
        path,
    )?;
    let target = Target {
        label,
        path,
        stored: &stored,
        exp,
        shortened,
        folder: None,
        outdated: false,
    };
    compare_with(&target, how, update)
}

/// The first line where two resolved experiments differ, in words; empty when they agree.
fn experiment_change(stored: &str, fresh: &str) -> String {
    if fresh == stored {
        return String::new();
    }
    let (i, (a, b)) = stored
        .lines()
        .zip(fresh.lines())
        .enumerate()
        .find(|(_, (a, b))| a != b)
        .unwrap_or((0, ("", "")));
    format!(
        "the resolved experiment changed since it was pinned (line {}: {:?} → {:?})\n",
        i + 1,
        a.trim(),
        b.trim()
    )
}

fn compare_with(t: &Target, how: &Comparison, update: bool) -> Result<Compared> {
    require_seeds(t.path, t.stored, how)?;
    let records = run_records(t.exp)?;
    let old = &t.stored.records;
    let final_only = how.final_only || how.max_sigma.is_some();
    let moved = diff_in(t.label, old, &records, how.rtol, final_only);
    let all_shifts = match how.max_sigma {
        Some(_) => shifts(t.label, old, &records),
        None => Vec::new(),
    };
    let fresh = golden_of(t.exp, t.shortened.clone(), records, t.folder)?;
    let mut detail = experiment_change(&t.stored.experiment, &fresh.experiment);
    let rtol = how.rtol;
    let (name, value, tolerance, shifts) = match how.max_sigma {
        None => {
            let scope = if final_only { " in the last epoch" } else { "" };
            if !moved.is_empty() {
                detail.push_str(&format!(
                    "{} value(s) moved beyond {rtol:e} relative{scope}:\n{}details:\n{}",
                    moved.len(),
                    diff_summary(&moved, old),
                    diff_table_capped(&moved, how.limit(), ALL_ROWS)
                ));
            }
            let worst = moved.iter().map(Moved::relative).fold(0.0, f64::max);
            let name = format!("{}: largest relative change{scope}", t.label);
            (name, worst, rtol, Vec::new())
        }
        Some(k) => {
            let changed: Vec<Shift> = all_shifts.into_iter().filter(|s| s.sigmas > 0.0).collect();
            let (run_level, single): (Vec<Moved>, Vec<Moved>) =
                moved.iter().cloned().partition(Moved::is_run_level);
            detail.push_str(&format!(
                "means over {} seeds at the last epoch, against {k} × the spread of the golden's seeds:\n",
                fewest_seeds(old)
            ));
            if changed.is_empty() {
                detail.push_str("no mean moved\n");
            } else {
                detail.push_str(&shift_summary(&changed, k));
            }
            if !run_level.is_empty() {
                detail.push_str(&format!(
                    "{} run-level value(s) moved (compared exactly):\n{}",
                    run_level.len(),
                    diff_summary(&run_level, old)
                ));
            }
            if !changed.is_empty() {
                detail.push_str(&format!("details:\n{}", shift_table(&changed, how.limit())));
            }
            if !single.is_empty() {
                detail.push_str(&format!(
                    "{} value(s) of single runs moved beyond {rtol:e} relative in the last epoch (listed under \"moved\" in --json)\n",
                    single.len()
                ));
            }
            let worst = changed.iter().map(|s| s.sigmas).fold(0.0, f64::max);
            let worst = if run_level.is_empty() {
                worst
            } else {
                f64::INFINITY
            };
            let name = format!("{}: largest shift of a final mean in seed spreads", t.label);
            (name, worst, k, changed)
        }
    };
    let mut check = Check::new(
        SUITE,
        name,
        value,
        Criterion::AtMost,
        tolerance,
        detail.trim_end().to_owned(),
    );
    if update && (!moved.is_empty() || fresh.experiment != t.stored.experiment || t.outdated) {
        write(t.path, &fresh)?;
        check.name.push_str(" (golden updated)");
        check.pass = true;
    }
    Ok(Compared {
        check,
        moved,
        shifts,
    })
}

/// What a golden suite found: its checks, every value that moved, and notes on what was left out.
#[derive(Debug, Default)]
pub struct Outcome {
    /// One check per golden.
    pub checks: Vec<Check>,
    /// Every value that moved beyond tolerance, over all goldens.
    pub moved: Vec<Moved>,
    /// In the statistical mode, every mean over seeds that moved, over all goldens.
    pub shifts: Vec<Shift>,
    /// What was left out and why.
    pub notes: Vec<String>,
}

impl Outcome {
    fn add(&mut self, c: Compared) {
        self.checks.push(c.check);
        self.moved.extend(c.moved);
        self.shifts.extend(c.shifts);
    }
}

/// The project's goldens: every experiments/*.ron of the source tree `root`, shortened, against
/// `tests/golden/<name>.json`, and every short configuration `tests/golden/<name>.ron` (for
/// experiments too long even when shortened), as it is; without a source tree, the goldens built
/// into dyadsim, each re-run from the resolved experiment it stores.
pub fn project(root: Option<&Path>, how: &Comparison, update: bool) -> Result<Outcome> {
    let Some(root) = root else {
        if update {
            return Err(LabError::option(
                "root",
                "is unknown: updating the project's goldens needs the dyadsim source tree",
            ));
        }
        return builtin(how);
    };
    let dir = root.join("experiments");
    let files = super::ron_files(&dir)?;
    let mut outcome = Outcome::default();
    for file in files {
        let exp = crate::load::experiment(&file)?;
        let (short, how_short) = shorten(&exp);
        let stem = stem_of(&file);
        if cost(&short) > BUDGET {
            outcome.notes.push(format!("{stem}: left out of the golden suite, too long even shortened ({how_short}: ~{:.0e} operations)", cost(&short)));
            continue;
        }
        project_one(
            root,
            &file,
            &stem,
            short,
            how_short,
            how,
            update,
            &mut outcome,
        )?;
    }
    let golden_dir = root.join("tests").join("golden");
    for file in super::ron_files(&golden_dir)? {
        let exp = crate::load::experiment(&file)?;
        let stem = stem_of(&file);
        let how_short = format!("a short configuration, tests/golden/{stem}.ron");
        project_one(
            root,
            &file,
            &stem,
            exp,
            how_short,
            how,
            update,
            &mut outcome,
        )?;
    }
    Ok(outcome)
}

/// The project's goldens as built into the binary, for `dyadsim check` outside the source tree.
fn builtin(how: &Comparison) -> Result<Outcome> {
    let mut outcome = Outcome::default();
    for (stem, text) in crate::builtin::GOLDENS {
        let path = Path::new("tests/golden").join(format!("{stem}.json"));
        let stored = read_str(text, &path)?;
        let source = Path::new("experiments").join(format!("{stem}.ron"));
        let exp = crate::load::experiment_from_str(&stored.experiment, &source)?;
        if let Err(e) = dataset::load(&exp.dataset, &source) {
            outcome.notes.push(format!(
                "{stem}: left out of the golden suite, its data is not available ({e})"
            ));
            continue;
        }
        let target = Target {
            label: stem,
            path: &path,
            stored: &stored,
            exp: &exp,
            shortened: stored.shortened.clone(),
            folder: None,
            outdated: false,
        };
        outcome.add(compare_with(&target, how, false)?);
    }
    outcome.notes.push(
        "no source tree here: compared the goldens built into dyadsim, each re-run from the experiment it stores".into(),
    );
    Ok(outcome)
}

fn stem_of(file: &Path) -> String {
    file.file_stem()
        .and_then(|s| s.to_str())
        .unwrap_or("experiment")
        .to_owned()
}

/// Compare (or pin, when missing and `update`) the project golden `tests/golden/<stem>.json` of
/// the short run `short` of `file`.
#[allow(clippy::too_many_arguments)]
fn project_one(
    root: &Path,
    file: &Path,
    stem: &str,
    short: Experiment,
    how_short: String,
    how: &Comparison,
    update: bool,
    outcome: &mut Outcome,
) -> Result<()> {
    if let Err(e) = dataset::load(&short.dataset, file) {
        outcome.notes.push(format!(
            "{stem}: left out of the golden suite, its data is not available ({e})"
        ));
        return Ok(());
    }
    let path = root
        .join("tests")
        .join("golden")
        .join(format!("{stem}.json"));
    if !path.exists() {
        if update {
            write(
                &path,
                &golden_of(&short, Some(how_short), run_records(&short)?, None)?,
            )?;
            outcome
                .notes
                .push(format!("{stem}: pinned a new golden at {}", path.display()));
        } else {
            outcome.checks.push(Check::flag(
                SUITE,
                format!("{stem}: golden exists"),
                false,
                format!(
                    "no {}; create it with `dyadsim check --suite golden --update`",
                    path.display()
                ),
            ));
        }
        return Ok(());
    }
    outcome.add(compare(stem, &path, &short, Some(how_short), how, update)?);
    Ok(())
}

/// Where a golden's experiment is looked for, in order: relative to the golden's folder (the
/// current form); for older goldens, the path as stored (absolute, or from the working
/// directory), then from the golden's folder, then (a project golden) from the source tree
/// holding the folder.
fn source_candidates(g: &Golden, dir: &Path) -> Vec<PathBuf> {
    match g.source_base {
        Some(SourceBase::GoldenFolder) => vec![dir.join(&g.source)],
        None => {
            let mut tried = vec![g.source.clone()];
            if g.source.is_relative() {
                tried.push(dir.join(&g.source));
                if g.shortened.is_some()
                    && let Some(root) = super::find_root(&tidy(
                        &std::path::absolute(dir).unwrap_or_else(|_| dir.to_owned()),
                    ))
                {
                    tried.push(root.join(&g.source));
                }
            }
            tried.dedup();
            tried
        }
    }
}

/// The experiment a golden was pinned from, as it reads now.
enum Source {
    /// Read, with its hardware files.
    Found(Box<Experiment>),
    /// A file it needs is not there.
    Missing {
        /// The missing file.
        file: PathBuf,
        /// What the file is, in words.
        what: String,
        /// The experiment file, where it was found (else where it should be).
        experiment: PathBuf,
    },
}

fn source_experiment(g: &Golden, dir: &Path) -> Result<Source> {
    let tried = source_candidates(g, dir);
    let Some(file) = tried.iter().find(|p| p.exists()) else {
        let what = match g.source_base {
            Some(_) => format!(
                "the experiment the golden was pinned from, stored as {} relative to the golden's folder",
                g.source.display()
            ),
            None if tried.len() == 1 => "the experiment the golden was pinned from".into(),
            None => format!(
                "the experiment the golden was pinned from; looked for at {}",
                tried
                    .iter()
                    .map(|p| tidy(p).display().to_string())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        };
        return Ok(Source::Missing {
            file: tidy(&tried[0]),
            what,
            experiment: tried[0].clone(),
        });
    };
    match crate::load::experiment(file) {
        Ok(exp) => Ok(Source::Found(Box::new(exp))),
        Err(LabError::Io { path, source }) if source.kind() == std::io::ErrorKind::NotFound => {
            Ok(Source::Missing {
                file: tidy(&path),
                what: format!("a hardware file {} names", tidy(file).display()),
                experiment: file.clone(),
            })
        }
        Err(e) => Err(e),
    }
}

/// Users' goldens: every *.json in `dir`, re-run from its experiment file and compared. A
/// missing experiment or hardware file fails the golden's check, unless `how` allows the
/// experiment stored in the golden to be re-run instead.
pub fn compare_dir(dir: &Path, how: &Comparison, update: bool) -> Result<Outcome> {
    let files = super::files_with_extension(dir, "json")?;
    if files.is_empty() {
        return Err(LabError::option(
            "golden",
            format!("{} holds no golden files", dir.display()),
        ));
    }
    let mut goldens = Vec::new();
    for path in files {
        let g = read(&path)?;
        require_seeds(&path, &g, how)?;
        goldens.push((path, g));
    }
    let mut outcome = Outcome::default();
    for (path, g) in &goldens {
        let stem = path
            .file_stem()
            .and_then(|s| s.to_str())
            .unwrap_or("golden")
            .to_owned();
        let (exp, stored_copy) = match source_experiment(g, dir)? {
            Source::Found(exp) => (*exp, false),
            Source::Missing {
                file,
                what,
                experiment,
            } => {
                let missing = format!("missing {} ({what})", file.display());
                if !how.allow_missing_source {
                    outcome.checks.push(Check::flag(
                        SUITE,
                        format!("{stem}: source files present"),
                        false,
                        format!(
                            "{missing}: the golden cannot tell whether it still holds. Restore the file, pin the golden again (`dyadsim check --pin EXPERIMENT.ron --golden {} --update`), or pass --allow-missing-source to re-run the experiment stored in the golden",
                            dir.display()
                        ),
                    ));
                    continue;
                }
                outcome.notes.push(format!(
                    "{stem}: {missing}; re-ran the experiment stored in the golden (--allow-missing-source)"
                ));
                (
                    crate::load::experiment_from_str(&g.experiment, &experiment)?,
                    true,
                )
            }
        };
        let outdated = g.source_base.is_none() && g.shortened.is_none();
        if outdated && !update {
            outcome.notes.push(format!(
                "{stem}: the golden names its experiment {} in the older form (absolute, or from the working directory of the pin); `--update` rewrites it relative to the golden's folder, so that the two can move together",
                g.source.display()
            ));
        }
        let exp = match &g.shortened {
            Some(_) => shorten(&exp).0,
            None => exp,
        };
        let target = Target {
            label: &stem,
            path,
            stored: g,
            exp: &exp,
            shortened: g.shortened.clone(),
            folder: Some(dir),
            outdated,
        };
        let mut compared = compare_with(&target, how, update)?;
        if stored_copy {
            compared.check.name.push_str(" (stored experiment)");
        }
        outcome.add(compared);
    }
    Ok(outcome)
}

/// Pin a seeded run of the experiment at `experiment` in `dir` as `<name>.json`, naming the
/// experiment relative to `dir`; refuses to replace an existing golden unless `update`, and then
/// returns the diff against it (its first detail rows, all of them with `details`).
pub fn pin(
    experiment: &Path,
    dir: &Path,
    rtol: f64,
    update: bool,
    details: bool,
) -> Result<String> {
    let exp = crate::load::experiment(experiment)?;
    let stem = experiment
        .file_stem()
        .and_then(|s| s.to_str())
        .unwrap_or("experiment");
    let path = dir.join(format!("{stem}.json"));
    let previous = path.exists().then(|| read(&path)).transpose()?;
    let mut exp = exp;
    if let Ok(abs) = std::path::absolute(experiment) {
        exp.source = Some(abs);
    }
    let records = run_records(&exp)?;
    let mut text = String::new();
    if let Some(old) = &previous {
        let moved = diff_in(stem, &old.records, &records, rtol, false);
        let diff_text = if moved.is_empty() {
            format!("nothing moved beyond {rtol:e} relative since the last pin\n")
        } else {
            format!(
                "{} value(s) moved beyond {rtol:e} relative since the last pin:\n{}details:\n{}",
                moved.len(),
                diff_summary(&moved, &old.records),
                diff_table_capped(&moved, (!details).then_some(DETAIL_LINES), "--details")
            )
        };
        if !update {
            return Err(LabError::AlreadyPinned {
                path,
                diff: diff_text.trim_end().to_owned(),
            });
        }
        text.push_str(&diff_text);
    }
    let runs = records.len();
    // The folder must exist for the experiment's path to be taken relative to it.
    std::fs::create_dir_all(dir).map_err(|source| LabError::Io {
        path: dir.to_owned(),
        source,
    })?;
    let golden = golden_of(&exp, None, records, Some(dir))?;
    write(&path, &golden)?;
    text.push_str(&format!(
        "pinned {runs} run(s) of {} in {} (the experiment named as {}, relative to the golden's folder)\n",
        experiment.display(),
        path.display(),
        golden.source.display()
    ));
    Ok(text)
}

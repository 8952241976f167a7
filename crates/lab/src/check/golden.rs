//! Golden regressions: a seeded run's results stored with the experiment that produced them, and
//! the comparison of a fresh run against them, metric by metric.
//!
//! The project's goldens (tests/golden/) pin shortened runs of experiments/*.ron; users pin their
//! own experiments, unshortened, with `dyadsim check --pin FILE --golden DIR`. A golden is only
//! ever rewritten on request (`--update`), after its diff has been shown.

use super::diff::{Moved, diff, diff_summary, diff_table};
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
    /// models and parameters show up).
    pub source: PathBuf,
    /// How the experiment was shortened for the project suite (`None` for users' goldens).
    pub shortened: Option<String>,
    /// The experiment as it ran, resolved (hardware inline), in RON.
    pub experiment: String,
    /// Every run: metrics per epoch, divergence, retention.
    pub records: Vec<RunRecord>,
    /// summary.json of the run, for reading.
    pub summary: serde_json::Value,
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

fn golden_of(
    exp: &Experiment,
    shortened: Option<String>,
    records: Vec<RunRecord>,
) -> Result<Golden> {
    // A golden pins results, not timings.
    let summary = summary_json(&records, None);
    let source = exp.source.clone().unwrap_or_default();
    // The project's goldens are committed: name their experiment relative to the source tree.
    let source = match (&shortened, super::find_root(&source)) {
        (Some(_), Some(root)) => source
            .strip_prefix(&root)
            .map(Path::to_owned)
            .unwrap_or(source.clone()),
        _ => source,
    };
    Ok(Golden {
        source,
        shortened,
        experiment: crate::runner::resolved_ron(exp)?,
        records,
        summary,
    })
}

/// Compare a fresh run of `exp` with the golden at `path` (rewriting it if `update`); returns the
/// check and every value that moved.
fn compare(
    label: &str,
    path: &Path,
    exp: &Experiment,
    shortened: Option<String>,
    rtol: f64,
    update: bool,
) -> Result<(Check, Vec<Moved>)> {
    let stored = read_str(
        &std::fs::read_to_string(path).map_err(|source| LabError::Io {
            path: path.to_owned(),
            source,
        })?,
        path,
    )?;
    compare_with(label, path, &stored, exp, shortened, rtol, update)
}

fn compare_with(
    label: &str,
    path: &Path,
    stored: &Golden,
    exp: &Experiment,
    shortened: Option<String>,
    rtol: f64,
    update: bool,
) -> Result<(Check, Vec<Moved>)> {
    let records = run_records(exp)?;
    let moved = diff(label, &stored.records, &records, rtol);
    let worst = moved.iter().map(Moved::relative).fold(0.0, f64::max);
    let fresh = golden_of(exp, shortened, records)?;
    let mut detail = String::new();
    if fresh.experiment != stored.experiment {
        let (i, (a, b)) = stored
            .experiment
            .lines()
            .zip(fresh.experiment.lines())
            .enumerate()
            .find(|(_, (a, b))| a != b)
            .unwrap_or((0, ("", "")));
        detail.push_str(&format!(
            "the resolved experiment changed since it was pinned (line {}: {:?} → {:?})\n",
            i + 1,
            a.trim(),
            b.trim()
        ));
    }
    if !moved.is_empty() {
        detail.push_str(&format!(
            "{} value(s) moved beyond {rtol:e} relative:\n{}details:\n{}",
            moved.len(),
            diff_summary(&moved, &stored.records),
            diff_table(&moved)
        ));
    }
    let mut check = Check::new(
        SUITE,
        format!("{label}: largest relative change"),
        worst,
        Criterion::AtMost,
        rtol,
        detail.trim_end().to_owned(),
    );
    if update && (!moved.is_empty() || fresh.experiment != stored.experiment) {
        write(path, &fresh)?;
        check.name.push_str(" (golden updated)");
        check.pass = true;
    }
    Ok((check, moved))
}

/// What a golden suite found: its checks, every value that moved, and notes on what was left out.
#[derive(Debug, Default)]
pub struct Outcome {
    /// One check per golden.
    pub checks: Vec<Check>,
    /// Every value that moved beyond tolerance, over all goldens.
    pub moved: Vec<Moved>,
    /// What was left out and why.
    pub notes: Vec<String>,
}

impl Outcome {
    fn add(&mut self, (check, moved): (Check, Vec<Moved>)) {
        self.checks.push(check);
        self.moved.extend(moved);
    }
}

/// The project's goldens: every experiments/*.ron of the source tree `root`, shortened, against
/// `tests/golden/<name>.json`, and every short configuration `tests/golden/<name>.ron` (for
/// experiments too long even when shortened), as it is; without a source tree, the goldens built
/// into dyadsim, each re-run from the resolved experiment it stores.
pub fn project(root: Option<&Path>, rtol: f64, update: bool) -> Result<Outcome> {
    let Some(root) = root else {
        if update {
            return Err(LabError::option(
                "root",
                "is unknown: updating the project's goldens needs the dyadsim source tree",
            ));
        }
        return builtin();
    };
    let dir = root.join("experiments");
    let files = super::ron_files(&dir)?;
    let mut outcome = Outcome::default();
    for file in files {
        let exp = crate::load::experiment(&file)?;
        let (short, how) = shorten(&exp);
        let stem = stem_of(&file);
        if cost(&short) > BUDGET {
            outcome.notes.push(format!("{stem}: left out of the golden suite, too long even shortened ({how}: ~{:.0e} operations)", cost(&short)));
            continue;
        }
        project_one(root, &file, &stem, short, how, rtol, update, &mut outcome)?;
    }
    let golden_dir = root.join("tests").join("golden");
    for file in super::ron_files(&golden_dir)? {
        let exp = crate::load::experiment(&file)?;
        let stem = stem_of(&file);
        let how = format!("a short configuration, tests/golden/{stem}.ron");
        project_one(root, &file, &stem, exp, how, rtol, update, &mut outcome)?;
    }
    Ok(outcome)
}

/// The project's goldens as built into the binary, for `dyadsim check` outside the source tree.
fn builtin() -> Result<Outcome> {
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
        let shortened = stored.shortened.clone();
        outcome.add(compare_with(
            stem, &path, &stored, &exp, shortened, 1e-9, false,
        )?);
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
    how: String,
    rtol: f64,
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
            write(&path, &golden_of(&short, Some(how), run_records(&short)?)?)?;
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
    outcome.add(compare(stem, &path, &short, Some(how), rtol, update)?);
    Ok(())
}

/// Users' goldens: every *.json in `dir`, re-run from its experiment file (or, if that is gone,
/// from the stored experiment) and compared.
pub fn compare_dir(dir: &Path, rtol: f64, update: bool) -> Result<Outcome> {
    let files = super::files_with_extension(dir, "json")?;
    if files.is_empty() {
        return Err(LabError::option(
            "golden",
            format!("{} holds no golden files", dir.display()),
        ));
    }
    let mut outcome = Outcome::default();
    for path in files {
        let g = read(&path)?;
        let stem = path
            .file_stem()
            .and_then(|s| s.to_str())
            .unwrap_or("golden")
            .to_owned();
        let exp = if g.source.exists() {
            crate::load::experiment(&g.source)?
        } else {
            outcome.notes.push(format!(
                "{stem}: {} is gone; re-ran the stored experiment",
                g.source.display()
            ));
            crate::load::experiment_from_str(&g.experiment, &g.source)?
        };
        let exp = match &g.shortened {
            Some(_) => shorten(&exp).0,
            None => exp,
        };
        outcome.add(compare_with(
            &stem,
            &path,
            &g,
            &exp,
            g.shortened.clone(),
            rtol,
            update,
        )?);
    }
    Ok(outcome)
}

/// Pin a seeded run of the experiment at `experiment` in `dir` as `<name>.json`; refuses to replace
/// an existing golden unless `update`, and then returns the diff against it.
pub fn pin(experiment: &Path, dir: &Path, rtol: f64, update: bool) -> Result<String> {
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
        let moved = diff(stem, &old.records, &records, rtol);
        let diff_text = if moved.is_empty() {
            format!("nothing moved beyond {rtol:e} relative since the last pin\n")
        } else {
            format!(
                "{} value(s) moved beyond {rtol:e} relative since the last pin:\n{}details:\n{}",
                moved.len(),
                diff_summary(&moved, &old.records),
                diff_table(&moved)
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
    write(&path, &golden_of(&exp, None, records)?)?;
    text.push_str(&format!(
        "pinned {runs} run(s) of {} in {}\n",
        experiment.display(),
        path.display()
    ));
    Ok(text)
}

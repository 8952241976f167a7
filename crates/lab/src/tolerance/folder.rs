//! A tolerance search's results folder: the experiment it stores (the search as its
//! `tolerance:` section, so the folder holds one search and its experiment.ron repeats it),
//! what its records may be, how a folder of an earlier dyadsim is brought to this form, and the
//! search's report rebuilt from the records alone (for `plot` and `merge`).

use super::probes::Points;
use super::{Params, Plan, ToleranceReport, search};
use crate::error::{LabError, Result};
use crate::results::RunRecord;
use crate::runner;
use crate::spec::Experiment;
use crate::sweep::{Axis, Sweep};
use serde_json::Value;
use std::path::{Path, PathBuf};

/// The report of the search a results folder holds, rebuilt from its records alone: the search
/// is stepped through again with every probe's metric read from the records instead of trained,
/// with the probes per round that the folder's `tolerance.json` names (else each count the
/// records answer, from one up). Nothing trains; a search the records do not finish is an error
/// that says how to finish it.
///
/// `sources` are further folders whose `tolerance.json` may name the probes per round, after
/// `dir`'s own: the folders a merge combined into `dir`, which has none of its own yet.
pub fn replay(dir: &Path, exp: &Experiment, sources: &[PathBuf]) -> Result<ToleranceReport> {
    let spec = exp.tolerance.as_ref().ok_or_else(|| LabError::Data {
        path: dir.join(crate::folder::EXPERIMENT),
        message: "has no tolerance section".into(),
    })?;
    let source = exp.source.clone().unwrap_or_default();
    let plan = Plan::resolve(exp, spec).map_err(|e| LabError::Invalid {
        path: source,
        position: None,
        field: format!("tolerance.{}", e.field),
        message: e.message,
    })?;
    let stored = stored_experiment(exp, &plan);
    let records = crate::results::load_records_of(dir, &stored)?;
    let named = std::iter::once(dir)
        .chain(sources.iter().map(PathBuf::as_path))
        .find_map(|d| {
            std::fs::read_to_string(d.join("tolerance.json"))
                .ok()
                .and_then(|t| serde_json::from_str::<Value>(&t).ok())
                .and_then(|j| j["probes_per_round"].as_u64())
                .and_then(|k| usize::try_from(k).ok())
                .filter(|k| (1..=crate::limits::THREADS.max).contains(k))
        });
    let counts = named
        .into_iter()
        .chain((1..=crate::limits::THREADS.max).filter(|k| Some(*k) != named));
    for k in counts {
        let mut points = Points::new(&stored, &plan, &records);
        let mut read = |probes: &[(usize, Params)], _: &Points| -> Result<Vec<RunRecord>> {
            let complete = probes.iter().all(|(index, _)| {
                plan.seeds
                    .iter()
                    .all(|&s| records.iter().any(|r| r.point == *index && r.seed == s))
            });
            if complete {
                Ok(records.clone())
            } else {
                Err(LabError::Interrupted)
            }
        };
        match search(&plan, k, &mut points, dir, &mut read) {
            Err(LabError::Interrupted) => continue,
            other => return other,
        }
    }
    Err(LabError::Data {
        path: dir.to_owned(),
        message: format!(
            "holds an unfinished tolerance search (its records complete no search); finish it with `dyadsim run {} --out {}`",
            dir.join(crate::folder::EXPERIMENT).display(),
            dir.display()
        ),
    })
}

/// Make `out` ready for the search `plan` of `exp` before anything trains, as the runner does for
/// a grid: refuse a folder that is not dyadsim's or that holds another experiment or another
/// search (unless `fresh`, which discards its results), and store the search's experiment.
/// A folder of this search written by an earlier dyadsim is brought to today's form first.
///
/// Call with the folder's [`lock`](crate::lock::lock) held.
pub fn prepare_folder(out: &Path, exp: &Experiment, plan: &Plan, fresh: bool) -> Result<()> {
    let stored = stored_experiment(exp, plan);
    if !fresh {
        upgrade_earlier_folder(out, &stored, plan)?;
    }
    crate::folder::prepare(out, &stored, fresh)
}

/// A search of an earlier dyadsim stored its experiment without the tolerance section, with the
/// reference as the only value of the axis' sweep. When `out` holds such a form of `stored`,
/// it is rewritten as `stored`, so that its records are reused rather than refused.
fn upgrade_earlier_folder(out: &Path, stored: &Experiment, plan: &Plan) -> Result<()> {
    let path = out.join(crate::folder::EXPERIMENT);
    let Ok(folder) = crate::load::experiment(&path) else {
        return Ok(());
    };
    let Some(last) = folder.sweep.0.last() else {
        return Ok(());
    };
    let reference = match last.values.as_slice() {
        [v] if folder.tolerance.is_none() && last.path == plan.axis => v.clone(),
        _ => return Ok(()),
    };
    if reference.as_f64().map(|r| plan.shown(r)) != Some(plan.reference) {
        return Ok(());
    }
    let mut earlier = Experiment {
        tolerance: None,
        ..stored.clone()
    };
    earlier.sweep.0.push(Axis {
        path: plan.axis.clone(),
        values: vec![reference],
    });
    if crate::folder::first_difference(&folder, &earlier).is_some() {
        return Ok(());
    }
    crate::results::write_atomic(&path, runner::resolved_ron(stored)?.as_bytes())
}

/// The experiment as stored in the results folder: the file's, its sweep cut to the compare and
/// across axes with the values searched, the plan's seeds, and the plan as its tolerance section
/// (every default filled in), so that the folder's `experiment.ron` repeats exactly this search.
pub fn stored_experiment(exp: &Experiment, plan: &Plan) -> Experiment {
    let mut axes = Vec::new();
    for (path, values) in [&plan.compare, &plan.across].into_iter().flatten() {
        axes.push(Axis {
            path: path.clone(),
            values: values.clone(),
        });
    }
    Experiment {
        sweep: Sweep(axes),
        seeds: plan.seeds.clone(),
        tolerance: Some(plan.spec()),
        ..exp.clone()
    }
}

//! A results folder as dyadsim's own: recognising it, preparing it for a run, and cleaning up.
//!
//! dyadsim deletes or overwrites only what it can prove it wrote: a folder is its own when it
//! holds an `experiment.ron` that reads as an experiment, or when it is new (absent, or holding
//! nothing but a lock file, leftovers of interrupted writes and an empty `runs/`). Anything else is
//! refused. Within its own folder it removes only record files named `runs/point{P}-seed{S}.json`,
//! checkpoints named `runs/point{P}-seed{S}.checkpoint`, the tables it rebuilds and its own
//! temporary files.

use crate::error::{LabError, Result};
use crate::results;
use crate::spec::Experiment;
use std::path::{Path, PathBuf};

/// The experiment of a results folder, resolved and self-contained.
pub const EXPERIMENT: &str = "experiment.ron";

/// What a folder is to dyadsim.
#[derive(Debug)]
pub enum Ownership {
    /// Absent or empty: dyadsim may create its files there.
    New,
    /// A results folder of dyadsim, with the experiment its `experiment.ron` holds.
    Ours(Box<Experiment>),
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> LabError + '_ {
    move |source| LabError::Io {
        path: path.to_owned(),
        source,
    }
}

fn file_names(dir: &Path) -> Result<Vec<(String, PathBuf)>> {
    let mut names = Vec::new();
    for entry in std::fs::read_dir(dir).map_err(io(dir))? {
        let path = entry.map_err(io(dir))?.path();
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        names.push((name, path));
    }
    Ok(names)
}

/// What a command does with a folder it locks: this decides whether the folder may be new, and
/// what the message about a folder that is not dyadsim's advises.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Role {
    /// Results are written into it (the output of a run, a search or a merge); it may be new.
    Output,
    /// One of the folders a merge combines: read, never written; it must be a results folder.
    MergeSource,
    /// A results folder whose figures are redrawn from its records; it must be one already.
    Figures,
}

impl Role {
    /// What the command needs the folder to be, for the message that refuses it.
    pub fn needs(self) -> &'static str {
        match self {
            Role::Output => {
                "dyadsim writes only into a new or empty folder or a results folder of its own (holding experiment.ron)"
            }
            Role::MergeSource => {
                "a merge combines results folders of dyadsim, each holding the experiment.ron and runs/ that a run wrote"
            }
            Role::Figures => {
                "figures are drawn only from a results folder of dyadsim, holding the experiment.ron and runs/ that a run wrote"
            }
        }
    }
}

/// Decide whether `dir` is dyadsim's to write into; refuse (an input error) when it is not.
pub fn recognise(dir: &Path) -> Result<Ownership> {
    recognise_beside(dir, &[])
}

/// [`recognise`], for a folder that may also hold `sources`: the results folders a merge combines
/// into it (`dyadsim merge runs/x/shard* --out runs/x`).
pub fn recognise_beside(dir: &Path, sources: &[PathBuf]) -> Result<Ownership> {
    recognise_as(dir, sources, Role::Output)
}

/// [`recognise_beside`] for a folder of `role`: a folder that is read ([`Role::MergeSource`],
/// [`Role::Figures`]) must be a results folder already, never a new one.
pub fn recognise_as(dir: &Path, sources: &[PathBuf], role: Role) -> Result<Ownership> {
    let canonical: Vec<PathBuf> = sources
        .iter()
        .filter_map(|s| std::fs::canonicalize(s).ok())
        .collect();
    let is_source = |path: &Path| std::fs::canonicalize(path).is_ok_and(|p| canonical.contains(&p));
    let refuse = |reason: String| {
        Err(LabError::Foreign {
            path: dir.to_owned(),
            reason,
            role,
        })
    };
    let new = |reason: &str| match role {
        Role::Output => Ok(Ownership::New),
        Role::MergeSource | Role::Figures => refuse(reason.to_owned()),
    };
    match std::fs::metadata(dir) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return new("does not exist"),
        Err(source) => {
            return Err(LabError::Io {
                path: dir.to_owned(),
                source,
            });
        }
        Ok(m) if !m.is_dir() => return refuse("is not a folder".into()),
        Ok(_) => {}
    }
    let stored = dir.join(EXPERIMENT);
    if stored.exists() {
        return match crate::load::experiment(&stored) {
            Ok(exp) => Ok(Ownership::Ours(Box::new(exp))),
            Err(e) => refuse(format!(
                "holds an experiment.ron this dyadsim cannot read ({e}), so it is not recognisably a results folder"
            )),
        };
    }
    for (name, path) in file_names(dir)? {
        let empty_runs = name == "runs"
            && path.is_dir()
            && file_names(&path)?
                .iter()
                .all(|(n, _)| results::is_temporary(n));
        if !(name == crate::lock::LOCK
            || results::is_temporary(&name)
            || empty_runs
            || is_source(&path))
        {
            return refuse(format!(
                "is not empty ({name:?}) and holds no experiment.ron, so it is not a results folder"
            ));
        }
    }
    new("holds no experiment.ron, so it is not a results folder")
}

/// Remove temporary files left in `dir` and its `runs/` by an interrupted process. Call only with
/// the folder's lock held: then no temporary file there belongs to a live writer.
pub fn remove_stale_temporaries(dir: &Path) -> Result<()> {
    for folder in [dir.to_owned(), results::records_dir(dir)] {
        if !folder.is_dir() {
            continue;
        }
        for (name, path) in file_names(&folder)? {
            if results::is_temporary(&name) && path.is_file() {
                std::fs::remove_file(&path).map_err(io(&path))?;
            }
        }
    }
    Ok(())
}

/// Forget the results of `dir`: its run records and checkpoints (only files named as such) and
/// the tables rebuilt from them. Other files are left where they are.
fn discard_results(dir: &Path) -> Result<()> {
    let runs = results::records_dir(dir);
    if std::fs::symlink_metadata(&runs).is_ok_and(|m| m.file_type().is_symlink()) {
        return Err(LabError::Conflict {
            path: runs,
            message: "is a symbolic link: --fresh deletes only what dyadsim wrote inside this \
                      folder and does not follow links out of it; replace the link by a folder \
                      or choose another --out"
                .into(),
        });
    }
    if runs.is_dir() {
        for (name, path) in file_names(&runs)? {
            let ours = results::parse_record_name(&name).is_some()
                || crate::checkpoint::parse_file_name(&name).is_some();
            if ours && path.is_file() {
                std::fs::remove_file(&path).map_err(io(&path))?;
            }
        }
    }
    for table in results::TABLES {
        let path = dir.join(table);
        if path.is_file() {
            std::fs::remove_file(&path).map_err(io(&path))?;
        }
    }
    Ok(())
}

/// True when `dir` holds at least one file named as a run record or a run's checkpoint.
fn has_records(dir: &Path) -> Result<bool> {
    let runs = results::records_dir(dir);
    if !runs.is_dir() {
        return Ok(false);
    }
    Ok(file_names(&runs)?.iter().any(|(n, _)| {
        results::parse_record_name(n).is_some() || crate::checkpoint::parse_file_name(n).is_some()
    }))
}

/// What of an experiment determines its records: everything but its name, the figures it asks
/// for (and how they are labelled and rendered) and the file it came from, so that editing `plots`,
/// `labels` or `figures` keeps a folder's results.
fn results_part(exp: &Experiment) -> serde_json::Value {
    serde_json::to_value(computed_part(exp)).unwrap_or_default()
}

/// The experiment without what changes nothing a run computes: its name, its figures (and how
/// they are labelled and rendered) and the file it came from.
pub fn computed_part(exp: &Experiment) -> Experiment {
    Experiment {
        name: String::new(),
        plots: Vec::new(),
        labels: Default::default(),
        figures: Default::default(),
        source: None,
        ..exp.clone()
    }
}

/// The first field in which `stored` and `exp` would produce different records, e.g.
/// `algorithm.alpha: 0.5 in the folder, 0.25 in the file`; None when they produce the same.
pub fn first_difference(stored: &Experiment, exp: &Experiment) -> Option<String> {
    crate::diff::first(&results_part(stored), &results_part(exp))
}

/// Make `dir` ready for `exp`: refuse a folder that is not dyadsim's or that holds records of an
/// experiment with different results (unless `fresh`), discard earlier results when `fresh`, clear
/// leftovers of interrupted writes, and store the resolved experiment.
///
/// Call with the folder's [`lock`](crate::lock::lock) held.
pub fn prepare(dir: &Path, exp: &Experiment, fresh: bool) -> Result<()> {
    prepare_beside(dir, exp, fresh, &[])
}

/// [`prepare`] for the target of a merge, which may hold the merged folders (`sources`).
pub fn prepare_beside(
    dir: &Path,
    exp: &Experiment,
    fresh: bool,
    sources: &[PathBuf],
) -> Result<()> {
    let ownership = recognise_beside(dir, sources)?;
    if fresh {
        discard_results(dir)?;
    } else if let Ownership::Ours(stored) = &ownership
        && let Some(difference) = first_difference(stored, exp)
        && has_records(dir)?
    {
        return Err(LabError::OtherExperiment {
            path: dir.to_owned(),
            difference,
        });
    }
    std::fs::create_dir_all(dir).map_err(io(dir))?;
    remove_stale_temporaries(dir)?;
    // experiment.ron first: a folder with records always says what they are results of.
    results::write_atomic(
        &dir.join(EXPERIMENT),
        crate::runner::resolved_ron(exp)?.as_bytes(),
    )?;
    let runs = results::records_dir(dir);
    match std::fs::metadata(&runs) {
        Ok(meta) if meta.is_dir() => Ok(()),
        Ok(meta) => Err(LabError::Conflict {
            path: runs,
            message: format!(
                "is {}, where dyadsim keeps the folder of run records; move it away",
                crate::files::kind(&meta)
            ),
        }),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            if std::fs::symlink_metadata(&runs).is_ok() {
                return Err(LabError::Conflict {
                    path: runs,
                    message: "is a symbolic link to nothing, where dyadsim keeps the folder of \
                              run records; move it away"
                        .into(),
                });
            }
            std::fs::create_dir_all(&runs).map_err(io(&runs))
        }
        Err(e) => Err(not_a_records_folder(&runs, &e)),
    }
}

/// The error for a `runs/` that cannot be used as the folder of run records (a file, a link to
/// nothing or in a loop, a folder without permission), as bad input naming it.
pub fn not_a_records_folder(runs: &Path, e: &std::io::Error) -> LabError {
    LabError::Conflict {
        path: runs.to_owned(),
        message: format!(
            "cannot be used as the folder of run records ({e}); move it away or fix its permissions"
        ),
    }
}

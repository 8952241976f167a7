//! The tolerance finder: how far can a non-ideality go before the metric drops more than D below
//! the reference design?
//!
//! A [`Plan`] (from an experiment's `tolerance: (...)` section or the flags of `dyadsim
//! tolerance`) names an axis, a reference value and one or two far ends. Each direction is a
//! [`search::Search`]: bracket, then k-section with k probes per round. Every probe is an ordinary
//! point run by [`crate::runner::run`] into one results folder, so records, resuming after a kill
//! and determinism are the runner's; a probe's point index is taken from the records when the same
//! parameters ran before, so a repeated command trains nothing. The decision at a probe is the
//! paired one-sided bound of [`stats`].

mod checks;
pub mod figures;
mod folder;
pub mod output;
mod probes;
pub mod search;
pub mod spec;
pub mod stats;

pub use folder::{prepare_folder, replay, stored_experiment};
pub use search::{Found, Outcome, Scale};
pub use spec::{Choice, Plan, ToleranceSpec};

use crate::dataset::Dataset;
use crate::error::{LabError, Result};
use crate::results::RunRecord;
use crate::runner::{self, Point, RunObserver, RunOptions};
use crate::spec::Experiment;

use probes::{Points, metric_values};
use search::Search;
use serde_json::Value;
use stats::Summary;
use std::path::{Path, PathBuf};

/// Where and how to run the probes.
#[derive(Clone, Debug)]
pub struct ToleranceOptions {
    /// Results folder: run records, metrics.csv and the tolerance files.
    pub out: PathBuf,
    /// Discard earlier records in `out` instead of reusing them.
    pub fresh: bool,
    /// Worker threads (None: all cores); also the probes per round of each search.
    pub threads: Option<usize>,
}

/// Which way a search goes from the reference.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Direction {
    /// Towards larger values.
    Up,
    /// Towards smaller values.
    Down,
}

impl Direction {
    /// `"up"` or `"down"`.
    pub fn name(self) -> &'static str {
        match self {
            Direction::Up => "up",
            Direction::Down => "down",
        }
    }
}

/// The metric at one probed value of one (compare, across) combination.
#[derive(Clone, Debug, PartialEq)]
pub struct ProbeResult {
    /// The compared axis' value (null without `compare`).
    pub compare: Value,
    /// The across axis' value (null without `across`).
    pub across: Value,
    /// The probed axis value.
    pub value: f64,
    /// The metric over the seeds.
    pub summary: Summary,
    /// The upper confidence bound on the mean drop (0 at the reference).
    pub bound: f64,
    /// Within the allowed drop (true at the reference).
    pub pass: bool,
    /// This probe is the reference.
    pub reference: bool,
}

/// The answer of one direction of one (compare, across) combination.
#[derive(Clone, Debug, PartialEq)]
pub struct SearchResult {
    /// The compared axis' value (null without `compare`).
    pub compare: Value,
    /// The across axis' value (null without `across`).
    pub across: Value,
    /// Which way.
    pub direction: Direction,
    /// Tolerance, bracket, monotonicity and outcome.
    pub found: Found,
    /// The reference's metric for this combination.
    pub reference: Summary,
    /// The allowed drop in the metric's units.
    pub allowed: f64,
    /// Values probed by this search (the reference not counted).
    pub probes: usize,
    /// Points a grid of the same resolution would need on this side (the reference not counted).
    pub grid_points: usize,
}

/// Everything a tolerance search found.
#[derive(Clone, Debug, PartialEq)]
pub struct ToleranceReport {
    /// The checked search.
    pub plan: Plan,
    /// One result per (across, compare, direction), in that order.
    pub results: Vec<SearchResult>,
    /// Every probe, references first, in the order probed.
    pub probes: Vec<ProbeResult>,
    /// Training runs the search used: distinct points × seeds (runs reused from an earlier command
    /// included).
    pub runs: usize,
    /// Runs a grid of the same resolution over the same ranges would take.
    pub grid_runs: usize,
    /// Probes per round of each direction (the thread count of the search), on which the probed
    /// values depend.
    pub probes_per_round: usize,
}

/// Run the search `plan` of `exp` on `data` into `opts.out`, reusing finished records there.
///
/// The caller holds the folder's [`lock`](crate::lock::lock) for the whole search. The folder's
/// `experiment.ron` stores `exp` with the plan as its `tolerance:` section, so a folder holds one
/// search: another one (any field of its section differing) is refused like another experiment
/// (unless `fresh`), and `dyadsim run DIR/experiment.ron` repeats this one.
pub fn run(
    exp: &Experiment,
    plan: &Plan,
    data: &Dataset,
    opts: &ToleranceOptions,
    observer: &dyn RunObserver,
) -> Result<ToleranceReport> {
    if let Some(n) = opts.threads {
        crate::limits::THREADS
            .check("threads", n)
            .map_err(LabError::Option)?;
    }
    plan.check_seeds().map_err(LabError::Option)?;
    let stored = stored_experiment(exp, plan);
    let k = opts
        .threads
        .unwrap_or_else(rayon::current_num_threads)
        .max(1);
    prepare_folder(&opts.out, exp, plan, opts.fresh)?;
    let records = if opts.fresh {
        Vec::new()
    } else {
        crate::results::load_records_of(&opts.out, &stored)?
    };
    let mut points = Points::new(&stored, plan, &records);
    // Every end must be a valid experiment before anything trains.
    for combo in &combinations(plan) {
        for &v in std::iter::once(&plan.reference).chain(&plan.ends) {
            let (index, params) = points.probe(combo, v);
            points.point(index, &params)?;
        }
    }
    points.used.clear();
    let mut round = 0;
    let mut train = |probes: &[(usize, Params)], points: &Points| -> Result<Vec<RunRecord>> {
        let grid = probes
            .iter()
            .map(|(index, params)| points.point(*index, params))
            .collect::<Result<Vec<Point>>>()?;
        let run_opts = RunOptions {
            out: opts.out.clone(),
            fresh: opts.fresh && round == 0,
            threads: opts.threads,
            shard: None,
            checkpoint_every: None,
        };
        round += 1;
        runner::run(&stored, &grid, data, &run_opts, observer)
    };
    search(plan, k, &mut points, &opts.out, &mut train)
}

/// The parameters of one probe, by field path.
type Params = std::collections::BTreeMap<String, Value>;

/// What gives a round's records: given its probes, (point index, parameters) each once, it trains
/// them or reads them back, and returns every record of the folder.
type RoundRecords<'a> = dyn FnMut(&[(usize, Params)], &Points) -> Result<Vec<RunRecord>> + 'a;

/// Step the searches of `plan` with `k` probes per round, getting each round's records from
/// `records` (which trains them, or reads them back).
fn search(
    plan: &Plan,
    k: usize,
    points: &mut Points,
    out: &Path,
    records: &mut RoundRecords,
) -> Result<ToleranceReport> {
    let combos = combinations(plan);
    let mut searches: Vec<(usize, Direction, Search)> = Vec::new();
    for c in 0..combos.len() {
        for &end in &plan.ends {
            let dir = if end > plan.reference {
                Direction::Up
            } else {
                Direction::Down
            };
            let s = Search::new(plan.reference, end, plan.scale, plan.resolution, k);
            searches.push((c, dir, s));
        }
    }
    let mut probes: Vec<ProbeResult> = Vec::new();
    let mut references: Vec<Option<(Vec<f64>, Summary)>> = vec![None; combos.len()];
    for round in 0.. {
        let asked: Vec<Vec<f64>> = searches.iter().map(|(_, _, s)| s.next()).collect();
        if asked.iter().all(Vec::is_empty) {
            break;
        }
        let mut grid: Vec<(usize, Params)> = Vec::new();
        let mut push = |p: (usize, Params)| {
            if !grid.iter().any(|q| q.0 == p.0) {
                grid.push(p);
            }
        };
        if round == 0 {
            for combo in &combos {
                push(points.probe(combo, plan.reference));
            }
        }
        for ((c, _, _), values) in searches.iter().zip(&asked) {
            for &v in values {
                push(points.probe(&combos[*c], v));
            }
        }
        let records = records(&grid, points)?;
        if round == 0 {
            for (c, combo) in combos.iter().enumerate() {
                let index = points.probe(combo, plan.reference).0;
                let values = metric_values(&records, index, plan, out)?;
                let summary = stats::summarise(&values);
                if summary.diverged > 0 || summary.n == 0 {
                    return Err(LabError::Data {
                        path: out.to_owned(),
                        message: format!(
                            "the reference ({} = {}{}) diverged in {} of {} seeds; a tolerance needs a reference that trains",
                            plan.axis,
                            plan.reference,
                            label(combo),
                            summary.diverged,
                            values.len()
                        ),
                    });
                }
                probes.push(ProbeResult {
                    compare: combo.0.clone(),
                    across: combo.1.clone(),
                    value: plan.reference,
                    summary: summary.clone(),
                    bound: 0.0,
                    pass: true,
                    reference: true,
                });
                references[c] = Some((values, summary));
            }
        }
        for ((c, _, search), values) in searches.iter_mut().zip(&asked) {
            let (reference, ref_summary) = references[*c].as_ref().expect("measured in round 0");
            let allowed = allowed_drop(plan, ref_summary);
            for &v in values {
                let index = points.probe(&combos[*c], v).0;
                let measured = metric_values(&records, index, plan, out)?;
                let (bound, pass) = stats::paired_pass(
                    reference,
                    &measured,
                    plan.higher_is_better,
                    allowed,
                    plan.confidence,
                );
                search.record(v, pass);
                let value = plan.shown(v);
                let seen = probes.iter().any(|p| {
                    p.value == value && p.compare == combos[*c].0 && p.across == combos[*c].1
                });
                if !seen {
                    probes.push(ProbeResult {
                        compare: combos[*c].0.clone(),
                        across: combos[*c].1.clone(),
                        value,
                        summary: stats::summarise(&measured),
                        bound,
                        pass,
                        reference: false,
                    });
                }
            }
        }
    }
    let results = searches
        .iter()
        .map(|(c, direction, s)| {
            let (_, summary) = references[*c].as_ref().expect("measured in round 0");
            let mut found = s.result().expect("every search finished");
            found.tolerance = plan.shown(found.tolerance);
            found.bracket = (
                plan.shown(found.bracket.0),
                found.bracket.1.map(|f| plan.shown(f)),
            );
            SearchResult {
                compare: combos[*c].0.clone(),
                across: combos[*c].1.clone(),
                direction: *direction,
                found,
                reference: summary.clone(),
                allowed: allowed_drop(plan, summary),
                probes: s.probes(),
                grid_points: s.grid_points() - 1,
            }
        })
        .collect::<Vec<_>>();
    let seeds = plan.seeds.len();
    let grid_runs =
        combos.len() * seeds + results.iter().map(|r| r.grid_points * seeds).sum::<usize>();
    Ok(ToleranceReport {
        plan: plan.clone(),
        results,
        runs: points.used.len() * seeds,
        probes,
        grid_runs,
        probes_per_round: k,
    })
}

fn allowed_drop(plan: &Plan, reference: &Summary) -> f64 {
    if plan.relative {
        plan.max_drop * reference.mean.abs()
    } else {
        plan.max_drop
    }
}

/// A (compare value, across value) pair; null where the search has no such axis.
type Combo = (Value, Value);

/// Every (compare, across) combination, across values outermost.
fn combinations(plan: &Plan) -> Vec<Combo> {
    let values = |axis: &Option<(String, Vec<Value>)>| {
        axis.as_ref()
            .map_or_else(|| vec![Value::Null], |(_, v)| v.clone())
    };
    let mut combos = Vec::new();
    for a in values(&plan.across) {
        for c in values(&plan.compare) {
            combos.push((c.clone(), a.clone()));
        }
    }
    combos
}

fn label(combo: &Combo) -> String {
    let mut parts = Vec::new();
    for v in [&combo.0, &combo.1] {
        if !v.is_null() {
            parts.push(crate::report::value_label(v));
        }
    }
    if parts.is_empty() {
        String::new()
    } else {
        format!(", {}", parts.join(", "))
    }
}

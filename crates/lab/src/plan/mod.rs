//! Sizing a sharded run before submitting it: how many runs the grid holds, how they fall into
//! shards, and how long each shard takes.
//!
//! The count follows the runner exactly: a shard owns the points whose index is `i` modulo `n`,
//! and within a shard, points that differ only in parameters their algorithm ignores share one
//! training run ([`runner::canonical`]). Shards do not see each other, so such points split across
//! shards are trained once per shard: the shards' runs can add up to more than the unsharded run's.
//!
//! The time is an estimate from [`cost`]: one training step and one forward pass of every distinct
//! configuration, timed on this machine on one thread, scaled by the epochs and batches of a run;
//! a shard's runs are then laid on `threads` workers in the runner's order, each run on one worker.

pub mod cost;

use crate::dataset::Dataset;
use crate::error::{LabError, Result};
use crate::runner::{self, Point, Shard};
use crate::spec::Experiment;
use cost::RunCost;
use std::collections::BTreeMap;

/// One shard of a plan.
#[derive(Clone, Debug, PartialEq)]
pub struct ShardPlan {
    /// The shard (`--shard index/count`).
    pub shard: Shard,
    /// Grid points the shard owns.
    pub points: usize,
    /// Records it writes (points × seeds).
    pub records: usize,
    /// Training runs it does (records less those shared by points that differ only in ignored
    /// parameters).
    pub runs: usize,
    /// Estimated wall time (s) with the plan's threads.
    pub seconds: f64,
}

/// What running an experiment in shards takes.
#[derive(Clone, Debug, PartialEq)]
pub struct Plan {
    /// Grid points.
    pub points: usize,
    /// Replicate seeds per point.
    pub seeds: usize,
    /// Training runs of the unsharded experiment.
    pub runs: usize,
    /// Worker threads per shard the times assume.
    pub threads: usize,
    /// One entry per shard, in index order.
    pub shards: Vec<ShardPlan>,
    /// The cost of one run of every distinct configuration, in the order first met in the grid.
    pub costs: Vec<RunCost>,
}

impl Plan {
    /// Records of the whole experiment (points × seeds): what a complete merged folder holds.
    pub fn records(&self) -> usize {
        self.points * self.seeds
    }
}

/// The training runs of `grid` a runner restricted to `shard` does, in the order it starts them:
/// (replicate seed, the points sharing the run).
pub fn runs<'a>(
    exp: &Experiment,
    grid: &'a [Point],
    shard: Option<Shard>,
) -> Result<Vec<(u64, Vec<&'a Point>)>> {
    let members: Vec<usize> = (0..grid.len())
        .filter(|&i| shard.is_none_or(|s| s.owns(grid[i].index)))
        .collect();
    Ok(runs_keyed(exp, grid, &run_keys(grid)?, &members))
}

/// The run key of every point of `grid`, in grid order.
fn run_keys(grid: &[Point]) -> Result<Vec<String>> {
    grid.iter()
        .map(|p| runner::canonical(&p.experiment))
        .collect()
}

/// [`runs`] of the grid positions `members` (in grid order), with the points' run keys computed
/// once: a plan of many shards asks for every shard, each holding a few points.
fn runs_keyed<'a>(
    exp: &Experiment,
    grid: &'a [Point],
    keys: &[String],
    members: &[usize],
) -> Vec<(u64, Vec<&'a Point>)> {
    let mut groups: Vec<(u64, Vec<&Point>)> = Vec::new();
    let mut first: BTreeMap<(u64, &str), usize> = BTreeMap::new();
    for &i in members {
        let point = &grid[i];
        for &seed in &exp.seeds {
            match first.get(&(seed, keys[i].as_str())) {
                Some(&g) => groups[g].1.push(point),
                None => {
                    first.insert((seed, keys[i].as_str()), groups.len());
                    groups.push((seed, vec![point]));
                }
            }
        }
    }
    groups
}

/// Plan `exp` over `shards` shards of `threads` workers each, timing its configurations on `data`.
pub fn plan(
    exp: &Experiment,
    grid: &[Point],
    data: &Dataset,
    shards: usize,
    threads: usize,
) -> Result<Plan> {
    crate::limits::SHARDS
        .check("shards", shards)
        .map_err(LabError::Option)?;
    crate::limits::THREADS
        .check("threads", threads)
        .map_err(LabError::Option)?;
    let replicate = *exp.seeds.first().ok_or_else(|| LabError::Invalid {
        path: exp.source.clone().unwrap_or_default(),
        position: None,
        field: "seeds".into(),
        message: "must list at least one replicate seed".into(),
    })?;
    // Time each distinct configuration once, whatever its seed: the seed changes no shape.
    let mut costs: Vec<RunCost> = Vec::new();
    let mut cost_of: BTreeMap<String, usize> = BTreeMap::new();
    let mut seconds: BTreeMap<usize, f64> = BTreeMap::new();
    let keys = run_keys(grid)?;
    for (point, key) in grid.iter().zip(&keys) {
        let c = match cost_of.get(key) {
            Some(&c) => c,
            None => {
                costs.push(cost::measure(&point.experiment, data, replicate)?);
                cost_of.insert(key.clone(), costs.len() - 1);
                costs.len() - 1
            }
        };
        seconds.insert(point.index, costs[c].seconds);
    }
    // One pass over the grid puts every point into its shard.
    let mut members: Vec<Vec<usize>> = vec![Vec::new(); shards];
    for (i, p) in grid.iter().enumerate() {
        members[p.index % shards].push(i);
    }
    let shards = (0..shards)
        .map(|index| {
            let shard = Shard {
                index,
                count: shards,
            };
            let runs = runs_keyed(exp, grid, &keys, &members[index]);
            let times: Vec<f64> = runs.iter().map(|(_, m)| seconds[&m[0].index]).collect();
            let points = members[index].len();
            Ok(ShardPlan {
                shard,
                points,
                records: points * exp.seeds.len(),
                runs: runs.len(),
                seconds: makespan(&times, threads),
            })
        })
        .collect::<Result<_>>()?;
    Ok(Plan {
        points: grid.len(),
        seeds: exp.seeds.len(),
        runs: runs_keyed(exp, grid, &keys, &(0..grid.len()).collect::<Vec<_>>()).len(),
        threads,
        shards,
        costs,
    })
}

/// Wall time of jobs started in order, each on the worker that is free first.
fn makespan(jobs: &[f64], workers: usize) -> f64 {
    let mut free = vec![0.0_f64; workers.max(1)];
    for &job in jobs {
        let earliest = free
            .iter_mut()
            .min_by(|a, b| a.total_cmp(b))
            .expect("at least one worker");
        *earliest += job;
    }
    free.into_iter().fold(0.0, f64::max)
}

#[cfg(test)]
mod tests;

//! `dyadsim plan`: the runs of an experiment per shard and an estimate of each shard's wall time.

use crate::cli::PlanArgs;
use anyhow::Result;
use lab::plan::Plan;
use lab::{dataset, load};
use std::io::Write;

/// Load the experiment, time its configurations and print the plan.
pub fn run(args: &PlanArgs, w: &mut (dyn Write + Send)) -> Result<u8> {
    let path = &args.experiment;
    let exp = load::experiment(path)?;
    let data = dataset::load(&exp.dataset, path)?;
    lab::job::check_shapes(&exp, &data, path)?;
    let grid = lab::runner::grid(&exp)?;
    let plan = lab::plan::plan(&exp, &grid, &data, args.shards, args.threads)?;
    print(&exp.name, &plan, w)?;
    Ok(crate::SUCCESS)
}

fn print(name: &str, plan: &Plan, w: &mut (dyn Write + Send)) -> std::io::Result<()> {
    let n = plan.shards.len();
    writeln!(
        w,
        "{name}: {} points × {} seeds = {} records, {} training runs \
         (points that differ only in parameters their algorithm ignores share a run)",
        plan.points,
        plan.seeds,
        plan.records(),
        plan.runs
    )?;
    writeln!(
        w,
        "{n} shards (run --shard i/{n} --threads {}):",
        plan.threads
    )?;
    writeln!(
        w,
        "shard      points  records     runs  estimated wall time"
    )?;
    for s in &plan.shards {
        writeln!(
            w,
            "{:<9} {:>7} {:>8} {:>8}  {}",
            format!("{}/{}", s.shard.index, s.shard.count),
            s.points,
            s.records,
            s.runs,
            duration(s.seconds)
        )?;
    }
    let trained: usize = plan.shards.iter().map(|s| s.runs).sum();
    let longest = plan.shards.iter().map(|s| s.seconds).fold(0.0, f64::max);
    writeln!(
        w,
        "the shards train {trained} runs in all{}; the longest shard takes about {}",
        if trained > plan.runs {
            format!(
                " ({} more than unsharded: points sharing a run fell into different shards)",
                trained - plan.runs
            )
        } else {
            String::new()
        },
        duration(longest)
    )?;
    let steps: Vec<f64> = plan.costs.iter().map(|c| c.step_s).collect();
    let runs: Vec<f64> = plan.costs.iter().map(|c| c.seconds).collect();
    writeln!(
        w,
        "how it is estimated: one training step ({}) and one forward pass of a batch were timed on \
         one thread of this machine for each of the {} distinct configurations (the fastest of 5 after \
         a warm-up); a run is epochs × batches steps plus forward passes over both splits after \
         every epoch and before the first ({} per run)",
        range(&steps, |s| format!("{:.2} ms", 1e3 * s)),
        plan.costs.len(),
        range(&runs, duration),
    )?;
    writeln!(
        w,
        "what it assumes about threads: each run keeps one thread busy and a shard starts its runs \
         in grid order on --threads {} workers; a run does not speed up with spare threads, and a \
         cluster node's core may be faster or slower than this one",
        plan.threads
    )?;
    if plan.costs.iter().any(|c| c.untimed_metrics) {
        writeln!(
            w,
            "not included: the experiment's further metrics (gradient cosines, Lipschitz \
             estimates, adversarial accuracy, ...), measured after every epoch; allow for them"
        )?;
    }
    Ok(())
}

/// "a" or "a–b" for the smallest and largest of `values`.
fn range(values: &[f64], show: impl Fn(f64) -> String) -> String {
    let lo = values.iter().copied().fold(f64::INFINITY, f64::min);
    let hi = values.iter().copied().fold(0.0, f64::max);
    if values.is_empty() || show(lo) == show(hi) {
        show(hi)
    } else {
        format!("{} to {}", show(lo), show(hi))
    }
}

/// Seconds as "35 ms", "4.2 s", "12 s", "4 min 05 s", "3 h 07 min" or "2 d 05 h".
fn duration(seconds: f64) -> String {
    let s = seconds.round() as u64;
    if seconds < 0.001 {
        "under 1 ms".to_owned()
    } else if seconds < 1.0 {
        format!("{:.0} ms", 1e3 * seconds)
    } else if seconds < 10.0 {
        format!("{seconds:.1} s")
    } else if s < 60 {
        format!("{s} s")
    } else if s < 3600 {
        format!("{} min {:02} s", s / 60, s % 60)
    } else if s < 86_400 {
        format!("{} h {:02} min", s / 3600, (s % 3600) / 60)
    } else {
        format!("{} d {:02} h", s / 86_400, (s % 86_400) / 3600)
    }
}

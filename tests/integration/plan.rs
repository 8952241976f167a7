//! `dyadsim plan`: runs per shard exactly as the runner does them, a positive and finite time
//! estimate, and the shipped Slurm example whose sweep it sizes.

use lab::runner::{self, RunObserver, RunOptions, Shard};
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use tests::{dyadsim, root, scratch};

/// Backprop ignores α: its three points share one run per seed; DP⊤ trains each of its three.
const SWEEP: &str = r#"Experiment(
    name: "plan-sweep",
    network: (layers: [64, 16, 10], loss: Mse),
    algorithm: (kind: DpTop, alpha: 0.5, beta: 0.2, passes: 3),
    training: (epochs: 2, batch_size: 64, learning_rate: 0.05, momentum: 0.5),
    seed: 11,
    seeds: [0, 1],
    sweep: {"algorithm.kind": ["Backprop", "DpTop"], "algorithm.alpha": [0.0, 0.5, 1.0]},
)
"#;

/// The (shard, points, records, runs) rows of plan's table.
fn rows(stdout: &str) -> Vec<(String, usize, usize, usize)> {
    stdout
        .lines()
        .filter(|l| {
            let first = l.split_whitespace().next().unwrap_or("");
            first.contains('/') && first.starts_with(|c: char| c.is_ascii_digit())
        })
        .map(|l| {
            let f: Vec<&str> = l.split_whitespace().collect();
            let n = |i: usize| f[i].parse::<usize>().unwrap_or_else(|e| panic!("{l}: {e}"));
            (f[0].to_owned(), n(1), n(2), n(3))
        })
        .collect()
}

fn row(shard: &str, points: usize, records: usize, runs: usize) -> (String, usize, usize, usize) {
    (shard.to_owned(), points, records, runs)
}

#[test]
fn plan_counts_runs_after_sharing_and_per_shard() {
    let dir = scratch("plan-counts");
    let exp = dir.join("exp.ron");
    std::fs::write(&exp, SWEEP).unwrap();
    let out = dyadsim(&["plan", exp.to_str().unwrap(), "--shards", "2"]);
    assert_eq!(out.code, 0, "{out:?}");
    assert!(
        out.stdout.starts_with(
            "plan-sweep: 6 points × 2 seeds = 12 records, 8 training runs (points that differ"
        ),
        "{}",
        out.stdout
    );
    // Shard 0 holds points 0, 2 (Backprop at α = 0 and 1: one run) and 4 (DP⊤ α = ½); shard 1 holds
    // Backprop α = ½ and DP⊤ α = 0 and 1.
    assert_eq!(
        rows(&out.stdout),
        [row("0/2", 3, 6, 4), row("1/2", 3, 6, 6)]
    );
    assert!(
        out.stdout
            .contains("the shards train 10 runs in all (2 more than unsharded"),
        "{}",
        out.stdout
    );
    assert!(out.stdout.contains("--threads 1 workers"), "{}", out.stdout);
}

#[test]
fn plan_sizes_the_slurm_test_sweep() {
    let sweep = root().join("tests/cluster/sweep.ron");
    let out = dyadsim(&["plan", sweep.to_str().unwrap(), "--shards", "4"]);
    assert_eq!(out.code, 0, "{out:?}");
    assert!(
        out.stdout
            .starts_with("cluster-sweep: 10 points × 2 seeds = 20 records, 12 training runs"),
        "{}",
        out.stdout
    );
    // tests/cluster/slurm.sh cancels shard 1 after fewer than its 6 runs.
    assert_eq!(
        rows(&out.stdout),
        [
            row("0/4", 3, 6, 4),
            row("1/4", 3, 6, 6),
            row("2/4", 2, 4, 4),
            row("3/4", 2, 4, 4)
        ]
    );
}

#[test]
fn plan_rejects_zero_shards_and_threads_as_bad_input() {
    let sweep = root().join("tests/cluster/sweep.ron");
    for flag in ["--shards", "--threads"] {
        let out = dyadsim(&["plan", sweep.to_str().unwrap(), flag, "0"]);
        assert_eq!(out.code, 2, "{out:?}");
        assert!(
            out.stderr.contains(flag) && out.stderr.contains("must be at least 1 (got 0)"),
            "{}",
            out.stderr
        );
    }
}

/// Counts the runs a runner plans, then stops it before it trains anything.
struct Planned(AtomicUsize);
impl RunObserver for Planned {
    fn planned(&self, todo: usize, _done: usize, _epochs: usize, _batches: usize) {
        self.0.store(todo, Ordering::SeqCst);
    }
    fn should_stop(&self) -> bool {
        true
    }
}

#[test]
fn plan_runs_per_shard_are_the_runs_the_runner_trains() {
    let dir = scratch("plan-runner");
    let path = dir.join("exp.ron");
    std::fs::write(&path, SWEEP).unwrap();
    let exp = lab::load::experiment(&path).unwrap();
    let data = lab::dataset::load(&exp.dataset, &path).unwrap();
    let grid = runner::points(&exp).unwrap();
    for count in 1..=4 {
        let plan = lab::plan::plan(&exp, &grid, &data, count, 2).unwrap();
        for s in &plan.shards {
            let observer = Planned(AtomicUsize::new(usize::MAX));
            let opts = RunOptions {
                out: dir.join(format!("shard{}-of-{count}", s.shard.index)),
                fresh: true,
                threads: Some(1),
                shard: Some(Shard {
                    index: s.shard.index,
                    count,
                }),
                checkpoint_every: None,
            };
            let stopped = runner::run(&exp, &grid, &data, &opts, &observer);
            assert!(matches!(stopped, Err(lab::LabError::Interrupted)));
            assert_eq!(observer.0.into_inner(), s.runs, "shard {:?}", s.shard);
            assert!(s.seconds.is_finite() && s.seconds > 0.0, "{s:?}");
        }
        assert_eq!(plan.runs, 8);
        assert_eq!(plan.records(), 12);
    }
}

#[test]
fn shipped_array_script_submits_one_task_per_shard() {
    let dir = root().join("examples/slurm");
    let script = std::fs::read_to_string(dir.join("array.sbatch")).unwrap();
    let setting = |name: &str| {
        let prefix = format!("{name}=${{{name}:-");
        let line = script.lines().find(|l| l.starts_with(&prefix)).unwrap();
        line[prefix.len()..line.find('}').unwrap()].to_owned()
    };
    let shards: usize = setting("SHARDS").parse().unwrap();
    assert!(
        script.contains(&format!("#SBATCH --array=0-{}\n", shards - 1)),
        "--array must cover SHARDS={shards}"
    );
    let experiment = setting("EXPERIMENT");
    assert!(root().join(&experiment).is_file(), "{experiment}");
    for file in ["array.sbatch", "merge.sbatch", "submit.sh"] {
        let text = std::fs::read_to_string(dir.join(file)).unwrap();
        assert!(text.starts_with("#!/bin/bash\n"), "{file}");
        assert!(Path::new(&dir.join(file)).is_file());
    }
}

/// A convolutional experiment: the step is timed on the arrays' own shapes (C_out × C_in·k·k), not
/// on the units per layer its blocks give.
const CONV: &str = r#"Experiment(
    name: "plan-conv",
    network: (input: (8, 8, 1), blocks: [Conv(channels: 4, kernel: 3, pool: true), Dense(16), Dense(10)]),
    algorithm: (kind: DpTop, alpha: 0.5, beta: 0.1, passes: 3),
    training: (epochs: 2, batch_size: 32, optimizer: Adam, learning_rate: 0.001),
    seeds: [0, 1],
    sweep: {"algorithm.kind": ["Backprop", "DpTop"]},
)
"#;

#[test]
fn plan_times_a_convolutional_experiment() {
    let dir = scratch("plan-conv");
    let path = dir.join("conv.ron");
    std::fs::write(&path, CONV).unwrap();
    let out = dyadsim(&["plan", path.to_str().unwrap(), "--shards", "2"]);
    assert_eq!(out.code, 0, "{out:?}");
    assert_eq!(
        rows(&out.stdout),
        [row("0/2", 1, 2, 2), row("1/2", 1, 2, 2)]
    );
    let exp = lab::load::experiment(&path).unwrap();
    let data = lab::dataset::load(&exp.dataset, &path).unwrap();
    let grid = runner::points(&exp).unwrap();
    let plan = lab::plan::plan(&exp, &grid, &data, 1, 1).unwrap();
    assert_eq!(plan.costs.len(), 2, "backprop and DP⊤ are timed apart");
    for c in &plan.costs {
        assert!(c.step_s.is_finite() && c.step_s > 0.0, "{c:?}");
        assert!(c.forward_s.is_finite() && c.forward_s > 0.0, "{c:?}");
        // 2 epochs of ⌈1347 / 32⌉ = 43 batches.
        assert_eq!(c.steps, 2 * data.train.len().div_ceil(32), "{c:?}");
    }
}

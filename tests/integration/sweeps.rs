//! Sweeps: determinism across thread counts, resuming after a kill, shards, divergence, path errors.

use lab::runner::{RunObserver, RunOptions, Shard};
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use tests::{dyadsim, scratch};

const SWEEP: &str = r#"Experiment(
    name: "small-sweep",
    network: (layers: [64, 16, 10], loss: Mse),
    algorithm: (kind: DpTop, alpha: 0.5, beta: 0.2, passes: 3),
    training: (epochs: 2, batch_size: 64, learning_rate: 0.05, momentum: 0.5),
    seed: 11,
    seeds: [0, 1],
    sweep: {"algorithm.alpha": [0.0, 1.0], "algorithm.kind": ["Dp", "DpTop"]},
)
"#;

fn write_experiment(dir: &Path, text: &str) -> String {
    let path = dir.join("exp.ron");
    std::fs::write(&path, text).unwrap();
    path.to_str().unwrap().to_owned()
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// A results file without the wall time, which differs between reruns of the same runs.
fn results(path: &Path) -> String {
    tests::without_timings(&read(path))
}

#[test]
fn metrics_are_bit_identical_for_one_and_two_threads() {
    let dir = scratch("threads");
    let exp = write_experiment(&dir, SWEEP);
    let one = dir.join("one");
    let two = dir.join("two");
    let a = dyadsim(&[
        "run",
        &exp,
        "--out",
        one.to_str().unwrap(),
        "--threads",
        "1",
    ]);
    assert_eq!(a.code, 0, "{a:?}");
    assert!(
        a.stdout.contains("4 points × 2 seeds = 8 runs"),
        "{}",
        a.stdout
    );
    let b = dyadsim(&[
        "run",
        &exp,
        "--out",
        two.to_str().unwrap(),
        "--threads",
        "2",
    ]);
    assert_eq!(b.code, 0, "{b:?}");
    let csv = read(&one.join("metrics.csv"));
    assert_eq!(csv, read(&two.join("metrics.csv")));
    assert_eq!(
        results(&one.join("summary.json")),
        results(&two.join("summary.json"))
    );
    // 4 points × 2 seeds × 3 epochs, and one column per axis named by its path.
    assert_eq!(csv.lines().count(), 1 + 4 * 2 * 3);
    assert!(
        csv.lines()
            .next()
            .unwrap()
            .ends_with(",algorithm.alpha,algorithm.kind")
    );
    // Common random numbers: a point's seed-0 run starts from the same weights as every other
    // point's, so the untrained (epoch 0) metrics agree across the grid.
    let untrained: Vec<Vec<&str>> = csv
        .lines()
        .skip(1)
        .map(|l| l.split(',').collect::<Vec<_>>())
        .filter(|cols| cols[1] == "0" && cols[2] == "0")
        .map(|cols| cols[3..7].to_vec())
        .collect();
    assert_eq!(untrained.len(), 4);
    assert!(
        untrained.iter().all(|m| *m == untrained[0]),
        "{untrained:?}"
    );
}

/// Stops every run in flight once `after` runs have finished, as a kill would.
struct KillAfter {
    after: usize,
    finished: AtomicUsize,
}

impl RunObserver for KillAfter {
    fn finished(&self, _record: &lab::results::RunRecord) {
        self.finished.fetch_add(1, Ordering::SeqCst);
    }
    fn should_stop(&self) -> bool {
        self.finished.load(Ordering::SeqCst) >= self.after
    }
}

#[test]
fn a_killed_run_resumes_to_the_uninterrupted_result() {
    let dir = scratch("resume");
    let exp_path = write_experiment(&dir, SWEEP);
    let exp = lab::load::experiment(Path::new(&exp_path)).unwrap();
    let data = lab::dataset::load(&exp.dataset, Path::new(&exp_path)).unwrap();
    let grid = lab::runner::points(&exp).unwrap();
    let killed = dir.join("killed");
    let observer = KillAfter {
        after: 3,
        finished: AtomicUsize::new(0),
    };
    let opts = RunOptions {
        out: killed.clone(),
        fresh: false,
        threads: Some(2),
        shard: None,
        checkpoint_every: None,
    };
    let err = lab::runner::run(&exp, &grid, &data, &opts, &observer).unwrap_err();
    assert!(matches!(err, lab::LabError::Interrupted), "{err}");
    let partial = lab::results::load_records(&killed).unwrap();
    assert!(
        (3..8).contains(&partial.len()),
        "{} runs survived",
        partial.len()
    );

    let resumed = dyadsim(&["run", &exp_path, "--out", killed.to_str().unwrap()]);
    assert_eq!(resumed.code, 0, "{resumed:?}");
    assert!(resumed.stdout.contains("resuming"), "{}", resumed.stdout);
    let whole = dir.join("whole");
    let full = dyadsim(&["run", &exp_path, "--out", whole.to_str().unwrap()]);
    assert_eq!(full.code, 0, "{full:?}");
    assert_eq!(
        read(&killed.join("metrics.csv")),
        read(&whole.join("metrics.csv"))
    );
    assert_eq!(
        results(&killed.join("summary.json")),
        results(&whole.join("summary.json"))
    );
}

/// Figures are not results: a folder resumes (and merges) after the experiment's plots were
/// edited, but not after anything that changes a run.
#[test]
fn editing_plots_keeps_the_results_and_editing_training_does_not() {
    let dir = scratch("edit-plots");
    let out = dir.join("out");
    let out = out.to_str().unwrap();
    let first = dyadsim(&["run", &write_experiment(&dir, SWEEP), "--out", out]);
    assert_eq!(first.code, 0, "{first:?}");
    let records = read(&dir.join("out/metrics.csv"));
    let replotted = SWEEP.replace(
        "    seeds: [0, 1],\n",
        "    seeds: [0, 1],\n    plots: [Final(x: \"algorithm.alpha\", lines: Some(\"algorithm.kind\"))],\n",
    );
    assert_ne!(replotted, SWEEP);
    let again = dyadsim(&["run", &write_experiment(&dir, &replotted), "--out", out]);
    assert_eq!(again.code, 0, "{again:?}");
    assert!(again.stdout.contains("resuming"), "{}", again.stdout);
    assert_eq!(read(&dir.join("out/metrics.csv")), records);
    assert!(
        dir.join("out/final-test_acc-vs-algorithm_alpha.png")
            .exists()
    );
    let longer = replotted.replace("epochs: 2,", "epochs: 3,");
    let refused = dyadsim(&["run", &write_experiment(&dir, &longer), "--out", out]);
    assert_eq!(refused.code, 2, "{refused:?}");
    assert!(
        refused.stderr.contains("different experiment"),
        "{}",
        refused.stderr
    );
}

#[test]
fn merged_shards_equal_the_unsharded_run() {
    let dir = scratch("shards");
    let exp = write_experiment(&dir, SWEEP);
    let (s0, s1, whole) = (dir.join("s0"), dir.join("s1"), dir.join("whole"));
    for (shard, out) in [("0/2", &s0), ("1/2", &s1)] {
        let r = dyadsim(&[
            "run",
            &exp,
            "--shard",
            shard,
            "--out",
            out.to_str().unwrap(),
        ]);
        assert_eq!(r.code, 0, "{r:?}");
    }
    assert_eq!(lab::results::load_records(&s0).unwrap().len(), 4);
    let r = dyadsim(&["run", &exp, "--out", whole.to_str().unwrap()]);
    assert_eq!(r.code, 0, "{r:?}");
    let merged = dir.join("merged");
    let m = dyadsim(&[
        "merge",
        s0.to_str().unwrap(),
        s1.to_str().unwrap(),
        "--out",
        merged.to_str().unwrap(),
    ]);
    assert_eq!(m.code, 0, "{m:?}");
    assert_eq!(
        read(&merged.join("metrics.csv")),
        read(&whole.join("metrics.csv"))
    );
    assert_eq!(
        results(&merged.join("summary.json")),
        results(&whole.join("summary.json"))
    );
    assert!(merged.join("convergence.png").exists());
}

#[test]
fn shard_syntax_is_checked() {
    assert!(Shard::parse("2/2").is_err());
    assert!(Shard::parse("1").is_err());
    assert_eq!(Shard::parse("1/3").unwrap(), Shard { index: 1, count: 3 });
    let out = dyadsim(&["run", "experiments/quickstart.ron", "--shard", "3/2"]);
    assert_eq!(out.code, 2, "{out:?}");
}

#[test]
fn a_diverging_point_is_recorded_and_the_sweep_completes() {
    let dir = scratch("diverge");
    let exp = write_experiment(
        &dir,
        r#"Experiment(
    name: "diverge",
    network: (layers: [64, 32, 10], loss: Mse),
    algorithm: (kind: Dp, alpha: 1.0, beta: 0.9, passes: 20),
    training: (epochs: 2, batch_size: 32, learning_rate: 2.0, momentum: 0.9),
    sweep: {"algorithm.alpha": [0.5, 1.0]},
)"#,
    );
    let out = dir.join("out");
    let r = dyadsim(&["run", &exp, "--out", out.to_str().unwrap()]);
    assert_eq!(r.code, 0, "{r:?}");
    let summary: serde_json::Value =
        serde_json::from_str(&read(&out.join("summary.json"))).unwrap();
    let points = summary["points"].as_array().unwrap();
    assert_eq!(points.len(), 2);
    let diverged = &points[1];
    assert_eq!(diverged["params"]["algorithm.alpha"], 1.0);
    assert_eq!(diverged["diverged"], "non-finite", "{summary}");
    assert!(diverged["divergence"]["epoch"].as_u64().unwrap() >= 1);
    assert!(diverged["divergence"]["batch"].is_u64());
}

#[test]
fn sweep_path_errors_are_reported_before_training() {
    let dir = scratch("sweep-errors");
    for (bad, expect) in [
        (r#""algorithm.alpah": [0.1]"#, "alpah"),
        (r#""algorithm.alpha": ["high"]"#, "high"),
        (r#""algorithm.alpha": [0.5, 1.5]"#, "algorithm.alpha"),
        (r#""network.width": [3]"#, "width"),
    ] {
        let text = SWEEP.replace(
            r#""algorithm.alpha": [0.0, 1.0], "algorithm.kind": ["Dp", "DpTop"]"#,
            bad,
        );
        let exp = write_experiment(&dir, &text);
        let out = dir.join("never");
        let r = dyadsim(&["run", &exp, "--out", out.to_str().unwrap()]);
        assert_eq!(r.code, 2, "{bad}: {r:?}");
        assert!(r.stderr.contains(expect), "{bad}: {}", r.stderr);
        assert!(!out.join("runs").exists(), "{bad}: nothing may run");
    }
}

#[test]
fn points_that_differ_only_in_ignored_parameters_share_one_run() {
    let dir = scratch("shared-runs");
    let exp = write_experiment(
        &dir,
        &SWEEP.replace(
            r#""algorithm.alpha": [0.0, 1.0], "algorithm.kind": ["Dp", "DpTop"]"#,
            r#""algorithm.kind": ["Backprop", "DpTop"], "algorithm.alpha": [0.0, 1.0]"#,
        ),
    );
    let out = dir.join("out");
    let r = dyadsim(&["run", &exp, "--out", out.to_str().unwrap()]);
    assert_eq!(r.code, 0, "{r:?}");
    let csv = read(&out.join("metrics.csv"));
    let metrics_of = |point: &str| -> Vec<String> {
        csv.lines()
            .skip(1)
            .map(|l| l.split(',').collect::<Vec<_>>())
            .filter(|c| c[0] == point)
            .map(|c| c[1..7].join(","))
            .collect()
    };
    // Backprop ignores α: points 0 and 1 are one run; DP⊤ at α = 0 and α = 1 are two.
    assert_eq!(metrics_of("0"), metrics_of("1"));
    assert_ne!(metrics_of("2"), metrics_of("3"));
    assert_eq!(lab::results::load_records(&out).unwrap().len(), 8);
}

//! Sizes beyond what the machine can hold are refused up front with exit 2, the field and the
//! memory estimate, never an abort or a segfault (docs/RELIABILITY.md, "Validation limits").

use std::path::Path;
use tests::{dyadsim, root, scratch};

const GOOD: &str = r#"Experiment(
    name: "tiny",
    network: (layers: [64, 16, 10]),
    algorithm: (kind: DpTop, alpha: 0.0, beta: 0.1, passes: 2),
    training: (epochs: 1, batch_size: 64, learning_rate: 0.05),
)
"#;

fn run_with(name: &str, text: &str) -> tests::Output {
    let dir = scratch(name);
    let path = dir.join("exp.ron");
    std::fs::write(&path, text).unwrap();
    let out = dir.join("out");
    let result = dyadsim(&[
        "run",
        path.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ]);
    if result.code != 0 {
        assert!(!out.exists(), "nothing may be written for refused input");
    }
    result
}

fn refused(out: &tests::Output, field: &str) {
    assert_eq!(out.code, 2, "{out:?}");
    assert!(out.stderr.contains(field), "{}", out.stderr);
    assert!(
        !out.stdout.contains("epoch"),
        "trained before refusing: {}",
        out.stdout
    );
}

#[test]
fn a_layer_width_of_a_billion_is_refused_with_the_memory_it_needs() {
    let out = run_with(
        "width-1e9",
        &GOOD.replace("[64, 16, 10]", "[64, 1000000000, 10]"),
    );
    refused(&out, "network.layers");
    assert!(out.stderr.contains("needs at least"), "{}", out.stderr);
    assert!(
        out.stderr.contains("B of memory, more than"),
        "{}",
        out.stderr
    );
    assert!(out.stderr.contains("exp.ron:3:"), "{}", out.stderr);
}

#[test]
fn a_layer_width_of_2_pow_62_is_refused_not_a_segfault() {
    let out = run_with(
        "width-2e62",
        &GOOD.replace("[64, 16, 10]", "[64, 4611686018427387904, 10]"),
    );
    refused(&out, "network.layers");
}

#[test]
fn a_batch_of_ten_million_is_refused() {
    let out = run_with(
        "batch-1e7",
        &GOOD.replace("batch_size: 64", "batch_size: 10000000"),
    );
    refused(&out, "training.batch_size");
}

#[test]
fn a_batch_larger_than_the_training_split_is_refused() {
    let out = run_with(
        "batch-split",
        &GOOD.replace("batch_size: 64", "batch_size: 2000"),
    );
    refused(&out, "training.batch_size");
    assert!(out.stderr.contains("1347"), "{}", out.stderr);
}

#[test]
fn a_batch_of_the_whole_training_split_runs() {
    let out = run_with(
        "batch-whole",
        &GOOD.replace("batch_size: 64", "batch_size: 1347"),
    );
    assert_eq!(out.code, 0, "{out:?}");
}

#[test]
fn a_trillion_settling_passes_are_refused() {
    let out = run_with(
        "passes-1e12",
        &GOOD.replace("passes: 2", "passes: 1000000000000"),
    );
    refused(&out, "algorithm.passes");
    assert!(out.stderr.contains("exp.ron:4:"), "{}", out.stderr);
}

fn device(name: &str, devices: &str) -> tests::Output {
    let dir = scratch(name);
    let hw = root().join("device-models/ecram-tang2018.ron");
    let out = dyadsim(&[
        "device",
        hw.to_str().unwrap(),
        "--devices",
        devices,
        "--out",
        dir.join("out").to_str().unwrap(),
    ]);
    assert!(
        !dir.join("out").exists(),
        "nothing may be written for refused input"
    );
    out
}

#[test]
fn a_billion_devices_are_refused_with_the_memory_they_need() {
    let out = device("devices-1e9", "1000000000");
    assert_eq!(out.code, 2, "{out:?}");
    assert!(out.stderr.contains("--devices"), "{}", out.stderr);
    assert!(out.stderr.contains("needs at least"), "{}", out.stderr);
}

#[test]
fn a_hundred_million_devices_are_refused_before_any_device_is_sampled() {
    // 10⁸ devices × 801 recorded weights: 320 GB of trace, refused before the population (3 GB)
    // is sampled.
    let out = device("devices-1e8", "100000000");
    assert_eq!(out.code, 2, "{out:?}");
    assert!(out.stderr.contains("--devices"), "{}", out.stderr);
}

#[test]
fn gradcheck_with_a_billion_wide_layer_is_refused() {
    let out = dyadsim(&["gradcheck", "--layers", "64,1000000000,10"]);
    assert_eq!(out.code, 2, "{out:?}");
    assert!(out.stderr.contains("--layers"), "{}", out.stderr);
    assert!(out.stderr.contains("needs at least"), "{}", out.stderr);
}

#[test]
fn gradcheck_with_a_trillion_passes_is_refused() {
    let out = dyadsim(&["gradcheck", "--passes", "1000000000000"]);
    assert_eq!(out.code, 2, "{out:?}");
    assert!(
        out.stderr.contains("--passes must be in [1, 10000000]"),
        "{}",
        out.stderr
    );
}

#[test]
fn a_hundred_thousand_threads_are_refused_before_any_is_started() {
    for command in ["run", "bench"] {
        let args: Vec<&str> = match command {
            "run" => vec!["run", "experiments/quickstart.ron", "--threads", "100000"],
            _ => vec!["bench", "--quick", "--threads", "100000"],
        };
        let out = dyadsim(&args);
        assert_eq!(out.code, 2, "{command}: {out:?}");
        assert!(out.stderr.contains("--threads"), "{}", out.stderr);
        assert!(out.stderr.contains("1024"), "{}", out.stderr);
    }
    let zero = dyadsim(&["run", "experiments/quickstart.ron", "--threads", "0"]);
    assert_eq!(zero.code, 2, "{zero:?}");
}

/// A refused count: exit 2 within seconds, naming the flag and its limit.
fn refused_count(args: &[&str], flag: &str, limit: &str) {
    let started = std::time::Instant::now();
    let out = dyadsim(args);
    assert_eq!(out.code, 2, "{args:?}: {out:?}");
    assert!(
        out.stderr.contains(flag) && out.stderr.contains(limit),
        "{args:?}: {}",
        out.stderr
    );
    assert!(
        started.elapsed() < std::time::Duration::from_secs(10),
        "{args:?} took {:?} to refuse",
        started.elapsed()
    );
}

#[test]
fn every_count_is_bounded_by_one_limit_table_before_anything_starts() {
    let dir = scratch("counts");
    let exp = dir.join("exp.ron");
    std::fs::write(
        &exp,
        GOOD.replace("passes: 2),", "passes: 2),\n    seeds: [0, 1],"),
    )
    .unwrap();
    let exp = exp.to_str().unwrap();
    let out = dir.join("out");
    let out = out.to_str().unwrap();
    let tolerance = [
        "tolerance",
        exp,
        "--axis",
        "algorithm.alpha",
        "--to",
        "1",
        "--out",
        out,
    ];
    let with = |extra: &[&'static str]| {
        let mut v: Vec<&str> = tolerance.to_vec();
        v.extend_from_slice(extra);
        v
    };
    for seeds in ["1000000000000", "10000000000", "10001"] {
        refused_count(&with(&["--seeds", seeds]), "--seeds", "at most 10000");
    }
    refused_count(&with(&["--threads", "5000"]), "--threads", "at most 1024");
    for shards in ["1000000000", "18446744073709551615", "100001"] {
        refused_count(
            &["plan", exp, "--shards", shards],
            "--shards",
            "at most 100000",
        );
    }
    refused_count(
        &["plan", exp, "--threads", "5000"],
        "--threads",
        "at most 1024",
    );
    refused_count(
        &["plan", exp, "--threads", "-1"],
        "--threads",
        "whole number",
    );
    refused_count(
        &["run", exp, "--out", out, "--shard", "0/1000000000"],
        "--shard",
        "at most 100000",
    );
    refused_count(
        &["bench", "--quick", "--threads", "5000"],
        "--threads",
        "at most 1024",
    );
    assert!(!Path::new(out).exists(), "a refused count wrote {out}");
    // The same limit for a tolerance section's seeds, with its line and column.
    let section = dir.join("section.ron");
    std::fs::write(
        &section,
        GOOD.replace(
            "passes: 2),",
            "passes: 2),\n    seeds: [0, 1],\n    tolerance: (axis: \"algorithm.alpha\", to: 1.0, seeds: Some(1000000000000)),",
        ),
    )
    .unwrap();
    let run = dyadsim(&["run", section.to_str().unwrap(), "--out", out]);
    assert_eq!(run.code, 2, "{run:?}");
    assert!(
        run.stderr.contains("section.ron:6:")
            && run.stderr.contains("tolerance.seeds must be at most 10000"),
        "{}",
        run.stderr
    );
    for limit in lab::limits::ALL {
        assert!(limit.max < usize::MAX / 2 && limit.min >= 1, "{limit:?}");
    }
}

//! Settings that would do nothing are refused at load, naming the field with its line and column,
//! while the defaults every results folder's experiment.ron writes out still load.

use std::path::Path;
use tests::{dyadsim, scratch};

const BASE: &str = r#"Experiment(
    name: "silent",
    network: (layers: [64, 16, 10]),
    algorithm: (kind: DpTop),
    training: (epochs: 1, batch_size: 64, learning_rate: 0.05),
)
"#;

/// `dyadsim run` of `text` into a fresh folder of `dir`.
fn run(dir: &Path, name: &str, text: &str) -> tests::Output {
    let path = dir.join(format!("{name}.ron"));
    std::fs::write(&path, text).unwrap();
    let out = dir.join(name);
    dyadsim(&[
        "run",
        path.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
        "-q",
    ])
}

/// Refused with exit 2 at `position` (`name.ron:line:`) before anything trains, the message
/// holding every needle.
fn refused(out: &tests::Output, position: &str, needles: &[&str]) {
    assert_eq!(out.code, 2, "{out:?}");
    assert!(out.stderr.contains(position), "{position}: {}", out.stderr);
    for needle in needles {
        assert!(out.stderr.contains(needle), "{needle}: {}", out.stderr);
    }
}

/// The folder's own experiment.ron (every default written out) runs again into the folder.
fn reruns_from_its_folder(dir: &Path, name: &str) {
    let folder = dir.join(name);
    let out = dyadsim(&[
        "run",
        folder.join("experiment.ron").to_str().unwrap(),
        "--out",
        folder.to_str().unwrap(),
        "-q",
    ]);
    assert_eq!(out.code, 0, "{name}: {out:?}");
}

#[test]
fn pool_routing_without_a_pooling_above_the_first_block_is_refused() {
    let dir = scratch("silent-pool-routing");
    let dense = BASE.replace("[64, 16, 10]", "[64, 16, 10], pool_routing: MeanState");
    refused(
        &run(&dir, "dense", &dense),
        "dense.ron:3:",
        &["network.pool_routing", "MeanState", "would do nothing"],
    );
    // The first block's routing would steer the signal into the clamped input: it is never read.
    let first_only = BASE.replace(
        "layers: [64, 16, 10]",
        "input: (8, 8, 1), blocks: [Conv(channels: 4, kernel: 3, pool: true), Dense(10)], pool_routing: MeanState",
    );
    refused(
        &run(&dir, "first", &first_only),
        "first.ron:3:",
        &["network.pool_routing"],
    );
    let pooled_twice = BASE.replace(
        "layers: [64, 16, 10]",
        "input: (8, 8, 1), blocks: [Conv(channels: 4, kernel: 3, pool: true), Conv(channels: 4, kernel: 3, pool: true), Dense(10)], pool_routing: MeanState",
    );
    let out = run(&dir, "twice", &pooled_twice);
    assert_eq!(out.code, 0, "{out:?}");
    reruns_from_its_folder(&dir, "twice");
}

#[test]
fn damping_and_dp_options_no_point_runs_are_refused() {
    let dir = scratch("silent-algorithm-options");
    for (name, options, field) in [
        (
            "damping",
            "damping: (alpha_factor: true, power_iterations: 3, passes: Some(15))",
            "algorithm.damping",
        ),
        ("dp", "dp: (hidden_alpha: Some(0.5))", "algorithm.dp"),
    ] {
        let text = BASE.replace("(kind: DpTop)", &format!("(kind: DpTop, {options})"));
        refused(
            &run(&dir, name, &text),
            &format!("{name}.ron:4:"),
            &[field, "read only by kind", "DpTop"],
        );
        // The backprop baselines read neither.
        let backprop = text.replace("kind: DpTop", "kind: Backprop");
        refused(
            &run(&dir, &format!("{name}-bp"), &backprop),
            &format!("{name}-bp.ron:4:"),
            &[field, "Backprop"],
        );
    }
    // A sweep of damping options on DP⊤ sweeps nothing.
    let swept = BASE.replace(
        "    training:",
        "    sweep: {\"algorithm.damping.power_iterations\": [3, 20]},\n    training:",
    );
    refused(
        &run(&dir, "swept", &swept),
        "swept.ron:5:",
        &["algorithm.damping.power_iterations", "DampedDp"],
    );
    // With a sweep over algorithm.kind the options apply to the points of their kind.
    let both = BASE
        .replace(
            "(kind: DpTop)",
            "(kind: DpTop, dp: (hidden_alpha: Some(0.5)), damping: (alpha_factor: true, power_iterations: 3))",
        )
        .replace(
            "    training:",
            "    sweep: {\"algorithm.kind\": [\"Dp\", \"DampedDp\", \"DpTop\"]},\n    training:",
        );
    let out = run(&dir, "kinds", &both);
    assert_eq!(out.code, 0, "{out:?}");
    reruns_from_its_folder(&dir, "kinds");
    // The defaults, which every experiment.ron writes out, load on any kind.
    let out = run(&dir, "plain", BASE);
    assert_eq!(out.code, 0, "{out:?}");
    let resolved = std::fs::read_to_string(dir.join("plain/experiment.ron")).unwrap();
    assert!(resolved.contains("damping:"), "{resolved}");
    reruns_from_its_folder(&dir, "plain");
}

#[test]
fn a_subset_seed_without_a_subset_is_refused_at_load() {
    let dir = scratch("silent-subset-seed");
    let text = BASE.replace(
        "    network:",
        "    dataset: Mnist((dir: \"absent\", subset_seed: Some(3))),\n    network:",
    );
    refused(
        &run(&dir, "seed", &text),
        "seed.ron:3:",
        &["dataset.subset_seed", "no subset to draw"],
    );
}

#[test]
fn aggregate_on_a_device_that_pulses_one_by_one_is_refused() {
    let dir = scratch("silent-aggregate");
    let hardware = |device: &str| {
        BASE.replace(
            "    training:",
            &format!(
                "    hardware: Hardware(device: {device}((dw_min: 0.002)), update: StochasticRounding((aggregate: true))),\n    training:"
            ),
        )
    };
    for device in ["ExpStep", "PowStep", "PiecewiseStep"] {
        refused(
            &run(&dir, device, &hardware(device)),
            &format!("{device}.ron:5:"),
            &["update.aggregate", device, "one by one"],
        );
    }
    // A device file says the same, naming the file.
    let file = dir.join("exp-step.ron");
    std::fs::write(
        &file,
        "Hardware(device: ExpStep(()), update: StochasticRounding((aggregate: true)))",
    )
    .unwrap();
    let text = BASE.replace(
        "    training:",
        "    hardware: \"exp-step.ron\",\n    training:",
    );
    refused(
        &run(&dir, "file", &text),
        "exp-step.ron",
        &["update.aggregate"],
    );
    let out = run(&dir, "soft", &hardware("SoftBounds"));
    assert_eq!(out.code, 0, "{out:?}");
    reruns_from_its_folder(&dir, "soft");
}

#[test]
fn perfect_reads_with_read_noise_settings_are_refused() {
    let dir = scratch("silent-is-perfect");
    let hardware = |io: &str| {
        BASE.replace(
            "    training:",
            &format!(
                "    hardware: Hardware(device: SoftBounds((dw_min: 0.002)), update: StochasticRounding(()), io: ({io})),\n    training:"
            ),
        )
    };
    for (io, field) in [
        ("is_perfect: true, out_noise: 0.1", "io.out_noise"),
        ("is_perfect: true, w_noise: 0.02", "io.w_noise"),
        ("out_res: 0.0, is_perfect: true", "io.out_res"),
    ] {
        refused(
            &run(&dir, "perfect", &hardware(io)),
            "perfect.ron:5:",
            &[field, "is_perfect: true", "no effect"],
        );
    }
    // A sweep of read noise on perfect reads sweeps nothing: each point is refused.
    let swept = BASE.replace(
        "    training:",
        "    hardware: Hardware(device: SoftBounds((dw_min: 0.002)), update: StochasticRounding(())),\n    sweep: {\"hardware.io.out_noise\": [0.0, 0.1]},\n    training:",
    );
    refused(&run(&dir, "swept", &swept), "swept.ron", &["io.out_noise"]);
    // is_perfect alone, and every default beside it (as experiment.ron writes them), load.
    let out = run(&dir, "alone", &hardware("is_perfect: true"));
    assert_eq!(out.code, 0, "{out:?}");
    let resolved = std::fs::read_to_string(dir.join("alone/experiment.ron")).unwrap();
    assert!(resolved.contains("out_noise: 0.06"), "{resolved}");
    reruns_from_its_folder(&dir, "alone");
}

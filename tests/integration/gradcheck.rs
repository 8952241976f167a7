//! `dyadsim gradcheck --experiment`: the gradient check of an experiment's own network, data and
//! algorithm, convolutions included.

use tests::{dyadsim, scratch};

/// The embedded 8×8 digits read as (8, 8, 1) images by two pooled convolutions (8×8 → 4×4 → 2×2)
/// and a linear output; tanh is smooth, so no ReLU kink within the nudge spoils the limit, and
/// β = 0.5 with α = 1 (one-sided nudging, first-order error) is far from it.
const CONV: &str = r#"Experiment(
    name: "gradcheck-conv",
    network: (
        input: (8, 8, 1),
        blocks: [Conv(channels: 4, kernel: 3, pool: true), Conv(channels: 8, kernel: 3, pool: true), Dense(10)],
        activation: Tanh,
        loss: CrossEntropy,
        init: LecunNormal,
    ),
    algorithm: (kind: DpTop, alpha: 1.0, beta: 0.5, passes: 8),
    training: (epochs: 1, batch_size: 16, learning_rate: 0.05),
    seed: 5,
)"#;

fn check(args: &[&str]) -> serde_json::Value {
    let dir = scratch("gradcheck-conv");
    let exp = dir.join("conv.ron");
    std::fs::write(&exp, CONV).unwrap();
    let mut all = vec!["gradcheck", "--experiment", exp.to_str().unwrap(), "--json"];
    all.extend_from_slice(args);
    let out = dyadsim(&all);
    assert_eq!(out.code, 0, "{out:?}");
    serde_json::from_str(out.stdout.trim()).unwrap()
}

fn column(report: &serde_json::Value, key: &str) -> Vec<f64> {
    report["layers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l[key].as_f64().unwrap())
        .collect()
}

#[test]
fn gradcheck_of_a_conv_experiment_agrees_with_backprop_per_block() {
    // β = 1e-3 from the command line: DP⊤'s estimate is backprop's gradient to O(β) plus f32
    // rounding of δ = s⁺ − s⁻ (~1e-7/β = 1e-4 relative), so every block's cosine is within 1e-3
    // of 1; the max-pooling routing can only differ for a sample whose two largest pre-pool values
    // lie within the nudge of each other.
    let near = check(&["--beta", "1e-3"]);
    assert_eq!(near["converged"], true, "{near}");
    let cosines = column(&near, "cosine");
    assert_eq!(cosines.len(), 3, "one row per block: {near}");
    for (k, c) in cosines.iter().enumerate() {
        assert!(*c >= 0.999, "block {}: cosine {c}", k + 1);
    }
    // The file's own β = 0.5 is read when no flag overrides it: its first-order bias is at least
    // ten times the error at β = 1e-3 in the worst block.
    let far = check(&[]);
    let worst = |r: &serde_json::Value| column(r, "rel_err").into_iter().fold(0.0, f64::max);
    assert!(worst(&far) > 10.0 * worst(&near), "{far} vs {near}");
}

#[test]
fn gradcheck_experiment_refuses_flags_the_file_decides() {
    let dir = scratch("gradcheck-conv-flags");
    let exp = dir.join("conv.ron");
    std::fs::write(&exp, CONV).unwrap();
    let path = exp.to_str().unwrap();
    let out = dyadsim(&["gradcheck", "--experiment", path, "--layers", "64,10"]);
    assert_eq!(out.code, 2, "{out:?}");
    assert!(
        out.stderr.contains("--experiment") && out.stderr.contains("--layers"),
        "{}",
        out.stderr
    );
    // A batch beyond the training split is the flag's fault.
    let out = dyadsim(&["gradcheck", "--experiment", path, "--batch", "100000"]);
    assert_eq!(out.code, 2, "{out:?}");
    assert!(
        out.stderr.contains("--batch must be in [1, "),
        "{}",
        out.stderr
    );
}

#[test]
fn gradcheck_experiment_reads_through_the_files_hardware_seeded_as_a_run() {
    let dir = scratch("gradcheck-conv-hardware");
    let exp = dir.join("noisy.ron");
    let hardware = tests::root().join("device-models/noisy-reference.ron");
    let text = CONV.replace(
        "    seed: 5,",
        &format!(
            "    seed: 5,\n    hardware: {:?},",
            hardware.to_str().unwrap()
        ),
    );
    std::fs::write(&exp, text).unwrap();
    let path = exp.to_str().unwrap();
    let run = |extra: &[&str]| {
        let mut args = vec!["gradcheck", "--experiment", path, "--beta", "0.1", "--json"];
        args.extend_from_slice(extra);
        let out = dyadsim(&args);
        assert_eq!(out.code, 0, "{out:?}");
        out.stdout
    };
    let first = run(&[]);
    // The same devices and read noise streams for the same seed, other devices for another.
    assert_eq!(first, run(&[]));
    assert_ne!(first, run(&["--seed", "6"]));
    // The converters' noise enters δ as noise/β, so the estimate is off the ideal one's, yet
    // still a descent direction in every block.
    let report: serde_json::Value = serde_json::from_str(first.trim()).unwrap();
    let cosines = column(&report, "cosine");
    assert!(cosines.iter().all(|&c| c > 0.0), "{report}");
    assert!(cosines.iter().any(|&c| c < 0.9999), "{report}");
}

/// A small dense experiment with `extra` fields spliced in, written to `dir/name.ron`.
fn dense(dir: &std::path::Path, name: &str, algorithm: &str, extra: &str) -> String {
    let path = dir.join(format!("{name}.ron"));
    std::fs::write(
        &path,
        format!(
            "Experiment(name: \"g\", network: (layers: [64, 16, 10]), algorithm: ({algorithm}),\n training: (epochs: 1, batch_size: 64, learning_rate: 0.05),\n {extra})\n"
        ),
    )
    .unwrap();
    path.to_str().unwrap().to_owned()
}

fn report(args: &[&str]) -> serde_json::Value {
    let mut all = vec!["gradcheck", "--json"];
    all.extend_from_slice(args);
    let out = dyadsim(&all);
    assert_eq!(out.code, 0, "{out:?}");
    serde_json::from_str(out.stdout.trim()).unwrap()
}

#[test]
fn gradcheck_experiment_checks_the_chosen_point_of_its_grid_and_names_it() {
    let dir = scratch("gradcheck-point");
    let ecram = tests::root().join("device-models/ecram-tang2018-rounding.ron");
    let ideal = tests::root().join("device-models/ideal.ron");
    let (ecram, ideal) = (ecram.to_str().unwrap(), ideal.to_str().unwrap());
    let swept = dense(
        &dir,
        "swept",
        "kind: DpTop",
        &format!("sweep: {{\"hardware\": [{ecram:?}, {ideal:?}]}},"),
    );
    let on_ecram = dense(
        &dir,
        "ecram",
        "kind: DpTop",
        &format!("hardware: {ecram:?},"),
    );
    let on_ideal = dense(&dir, "ideal", "kind: DpTop", "");
    // Point 0 (the default) reads through the swept ECRAM arrays as the file naming it does, point
    // 1 through the ideal ones; each report names its point and parameters.
    let first = report(&["--experiment", &swept]);
    assert_eq!(
        first["layers"],
        report(&["--experiment", &on_ecram])["layers"]
    );
    assert_ne!(
        first["layers"],
        report(&["--experiment", &on_ideal])["layers"]
    );
    assert_eq!(first["point"]["index"], 0, "{first}");
    assert_eq!(first["point"]["of"], 2, "{first}");
    assert_eq!(
        first["point"]["params"]["hardware"], "ecram-tang2018-rounding",
        "{first}"
    );
    let second = report(&["--experiment", &swept, "--point", "1"]);
    assert_eq!(
        second["layers"],
        report(&["--experiment", &on_ideal])["layers"]
    );
    assert_eq!(second["point"]["params"]["hardware"], "ideal", "{second}");
    // The table says it too; a file without a sweep is its point 0 of 1.
    let out = dyadsim(&["gradcheck", "--experiment", &swept, "--point", "1"]);
    assert_eq!(out.code, 0, "{out:?}");
    assert!(
        out.stdout
            .starts_with("point 1 of 2: hardware = \"ideal\"\n"),
        "{}",
        out.stdout
    );
    let out = dyadsim(&["gradcheck", "--experiment", &on_ideal]);
    assert!(out.stdout.starts_with("point 0 of 1:"), "{}", out.stdout);
    // A point outside the grid, and --point without an experiment, are refused.
    let out = dyadsim(&["gradcheck", "--experiment", &swept, "--point", "2"]);
    assert_eq!(out.code, 2, "{out:?}");
    assert!(
        out.stderr.contains("--point must be in [0, 1]") && out.stderr.contains("grid of 2"),
        "{}",
        out.stderr
    );
    let out = dyadsim(&["gradcheck", "--point", "0"]);
    assert_eq!(out.code, 2, "{out:?}");
    assert!(out.stderr.contains("--experiment"), "{}", out.stderr);
    // The random network has no point.
    assert!(report(&["--layers", "64,10"]).get("point").is_none());
}

#[test]
fn gradcheck_experiment_refuses_flags_its_algorithm_does_not_read() {
    let dir = scratch("gradcheck-inapplicable");
    let backprop = dense(&dir, "backprop", "kind: Backprop", "");
    for (flag, value) in [
        ("--alpha", "0.3"),
        ("--beta", "0.5"),
        ("--passes", "7"),
        ("--alpha-fb", "0.2"),
    ] {
        let out = dyadsim(&["gradcheck", "--experiment", &backprop, flag, value]);
        assert_eq!(out.code, 2, "{flag}: {out:?}");
        assert!(
            out.stderr
                .contains(&format!("{flag} does not apply to point 0"))
                && out.stderr.contains("Backprop"),
            "{flag}: {}",
            out.stderr
        );
    }
    // Adversarial backprop reads β as its input step, and nothing else of the nudging.
    let adversarial = dense(&dir, "adversarial", "kind: AdversarialBackprop", "");
    report(&["--experiment", &adversarial, "--beta", "0.05"]);
    let out = dyadsim(&["gradcheck", "--experiment", &adversarial, "--alpha", "0.3"]);
    assert_eq!(out.code, 2, "{out:?}");
    // Circuit mode settles for t_max / dt Euler steps, damped DP for damping.passes if given.
    let circuit = dense(
        &dir,
        "circuit",
        "kind: DpTop, circuit: Some((tau: 1.0, dt: 0.2, tol: 1e-5, t_max: 100.0))",
        "",
    );
    let damped = dense(
        &dir,
        "damped",
        "kind: DampedDp, damping: (alpha_factor: true, power_iterations: 3, passes: Some(15))",
        "",
    );
    for (path, passes, why) in [
        (&circuit, "1", "continuous time"),
        (&circuit, "100000", "continuous time"),
        (&damped, "7", "damping.passes"),
    ] {
        let out = dyadsim(&["gradcheck", "--experiment", path, "--passes", passes]);
        assert_eq!(out.code, 2, "{out:?}");
        assert!(
            out.stderr.contains("--passes does not apply") && out.stderr.contains(why),
            "{}",
            out.stderr
        );
    }
    // Where the algorithm reads them, the flags still override the file.
    let dptop = dense(&dir, "dptop", "kind: DpTop, beta: 0.5", "");
    assert_ne!(
        report(&["--experiment", &dptop])["layers"],
        report(&["--experiment", &dptop, "--beta", "0.01", "--passes", "8"])["layers"]
    );
    report(&["--experiment", &circuit, "--alpha", "0.3", "--beta", "0.05"]);
}

//! `dyadsim check`: the fidelity suite end to end, a broken device file, and users' goldens.

use tests::{dyadsim, scratch};

#[test]
fn the_whole_suite_passes_with_a_finite_value_for_every_check() {
    // The default, exact tolerance: the products sum in an order that follows the shapes alone,
    // so the goldens reproduce bit for bit on every x86-64 processor with AVX2 and FMA.
    let out = dyadsim(&["check", "--suite", "all", "--json"]);
    assert_eq!(out.code, 0, "{}\n{}", out.stdout, out.stderr);
    let report: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
    let checks = report["checks"].as_array().unwrap();
    for suite in ["gradient", "devices", "dynamics", "bits", "golden"] {
        assert!(
            checks.iter().any(|c| c["suite"] == suite),
            "no {suite} checks"
        );
    }
    for c in checks {
        let value = c["value"].as_f64().unwrap_or(f64::NAN);
        assert!(value.is_finite() && value < f64::MAX, "{c}");
        assert!(
            c["tolerance"].as_f64().is_some() && c["name"].is_string(),
            "{c}"
        );
        assert_eq!(c["pass"], true, "{c}");
    }
}

#[test]
fn a_device_whose_steps_do_not_match_its_declared_model_fails_by_name() {
    let dir = scratch("check-broken-device");
    let file = dir.join("broken-step.ron");
    // A step spread of 200 %: the consistency repair folds the negative steps, so the mean step
    // is 1.79·dw_min instead of the dw_min the file declares.
    std::fs::write(
        &file,
        "Hardware(device: ConstantStep((dw_min: 0.01, dw_min_dtod: 2.0)))",
    )
    .unwrap();
    let out = dyadsim(&[
        "check",
        "--suite",
        "devices",
        "--hardware",
        file.to_str().unwrap(),
    ]);
    assert_eq!(out.code, 1, "{}\n{}", out.stdout, out.stderr);
    let failing: Vec<&str> = out.stdout.lines().filter(|l| l.ends_with("FAIL")).collect();
    assert!(
        failing
            .iter()
            .any(|l| l.contains("broken-step.ron ConstantStep: mean up step")),
        "{}",
        out.stdout
    );
    // The noise-free rule itself is right: only the moments fail.
    assert!(
        out.stdout
            .lines()
            .any(|l| l.contains("noise-free step rule") && l.ends_with("PASS"))
    );
}

#[test]
fn a_perturbed_golden_is_reported_with_its_diff_and_updated_only_on_request() {
    let dir = scratch("check-golden");
    let exp = dir.join("tiny.ron");
    std::fs::write(
        &exp,
        r#"Experiment(
    name: "tiny",
    network: (layers: [64, 16, 10], activation: Tanh, loss: Mse),
    algorithm: (kind: DpTop, alpha: 1.0, beta: 0.05, passes: 3),
    training: (epochs: 2, batch_size: 50, learning_rate: 0.05),
    seed: 4,
)"#,
    )
    .unwrap();
    let goldens = dir.join("goldens");
    let g = goldens.to_str().unwrap();
    let pinned = dyadsim(&["check", "--pin", exp.to_str().unwrap(), "--golden", g]);
    assert_eq!(pinned.code, 0, "{pinned:?}");
    let again = dyadsim(&["check", "--pin", exp.to_str().unwrap(), "--golden", g]);
    assert_eq!(again.code, 2, "re-pinning needs --update: {again:?}");
    assert!(
        again.stderr.contains("Its diff against a fresh run")
            && again.stderr.contains("nothing moved"),
        "the refusal shows the diff it promises: {again:?}"
    );
    let same = dyadsim(&["check", "--golden", g]);
    assert_eq!(same.code, 0, "{same:?}");

    let file = goldens.join("tiny.json");
    let mut golden: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&file).unwrap()).unwrap();
    let stored = golden["records"][0]["epochs"][1]["test_acc"]
        .as_f64()
        .unwrap();
    golden["records"][0]["epochs"][1]["test_acc"] = serde_json::json!(stored + 0.01);
    std::fs::write(&file, serde_json::to_vec_pretty(&golden).unwrap()).unwrap();

    let moved = dyadsim(&["check", "--golden", g]);
    assert_eq!(moved.code, 1, "{moved:?}");
    let row = moved
        .stdout
        .lines()
        .find(|l| l.trim_start().starts_with("test_acc") && !l.contains("moved"))
        .unwrap_or_else(|| panic!("no diff row: {}", moved.stdout));
    let cells: Vec<&str> = row.split_whitespace().collect();
    // metric, run (no sweep: the seed alone), epoch, old, new, relative change
    assert_eq!(&cells[1..4], ["seed", "0", "1"], "{row}");
    assert_eq!(cells[4].parse::<f64>().unwrap(), stored + 0.01);
    assert_eq!(cells[5].parse::<f64>().unwrap(), stored);
    assert!(
        !moved.stdout.contains("train_loss "),
        "only the edited metric moved: {}",
        moved.stdout
    );

    // A summary per metric comes before the details.
    let summary = moved
        .stdout
        .find("test_acc: 1 value(s) moved; largest change")
        .unwrap_or_else(|| panic!("no summary line: {}", moved.stdout));
    assert!(summary < moved.stdout.find("details:").unwrap());
    let json = dyadsim(&["check", "--golden", g, "--json"]);
    assert_eq!(json.code, 1, "{json:?}");
    let report: serde_json::Value = serde_json::from_str(&json.stdout).unwrap();
    assert_eq!(
        report["moved"],
        serde_json::json!([{
            "golden": "tiny", "metric": "test_acc", "point": 0, "params": {}, "seed": 0, "epoch": 1,
            "old": stored + 0.01, "new": stored,
        }])
    );

    let updated = dyadsim(&["check", "--golden", g, "--update"]);
    assert_eq!(updated.code, 0, "{updated:?}");
    assert!(
        updated.stdout.contains("test_acc"),
        "the diff is shown before updating"
    );
    assert_eq!(dyadsim(&["check", "--golden", g]).code, 0);
}

#[test]
fn the_built_in_suites_need_no_source_tree() {
    use lab::check::{CheckOptions, Suite, run};
    let opts = |suite| CheckOptions {
        suite,
        hardware: None,
        golden: None,
        rtol: 1e-9,
        max_sigma: None,
        final_only: false,
        details: false,
        allow_missing_source: false,
        update: false,
        root: None,
    };
    let devices = run(&opts(Suite::Devices)).unwrap();
    let presets = std::fs::read_dir(tests::root().join("device-models"))
        .unwrap()
        .count();
    assert!(presets > 5);
    assert!(devices.passed(), "{}", devices.table());
    assert!(devices.checks.len() >= presets, "{}", devices.table());
    let golden = run(&opts(Suite::Golden)).unwrap();
    assert!(golden.passed(), "{}", golden.table());
    assert!(
        golden
            .checks
            .iter()
            .any(|c| c.name.starts_with("quickstart")),
        "{}",
        golden.table()
    );
    assert!(
        golden
            .notes
            .iter()
            .any(|n| n.contains("built into dyadsim"))
    );
}

#[test]
fn epochs_completed_count_training_epochs_not_records() {
    use lab::check::diff::diff;
    use lab::job::EpochMetrics;
    use lab::results::RunRecord;
    let epoch = |epoch| EpochMetrics {
        epoch,
        train_loss: 1.0,
        train_acc: 0.5,
        test_loss: 1.0,
        test_acc: 0.5,
        extra: Default::default(),
    };
    let run = |epochs: usize| RunRecord {
        schema: lab::results::SCHEMA,
        point: 0,
        seed: 0,
        params: Default::default(),
        epochs: (0..=epochs).map(epoch).collect(),
        divergence: None,
        retention: Vec::new(),
    };
    let moved = diff("g", &[run(2)], &[run(3)], 1e-9);
    let completed = moved
        .iter()
        .find(|m| m.metric == "epochs completed")
        .unwrap();
    assert_eq!((completed.old, completed.new), (2.0, 3.0));
}

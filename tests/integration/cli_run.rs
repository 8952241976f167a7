//! `dyadsim run` and `dyadsim gradcheck` end to end.

use tests::{dyadsim, scratch};

#[test]
fn run_writes_every_results_file_with_the_stated_columns() {
    let dir = scratch("run-e2e");
    let exp = dir.join("two-epochs.ron");
    std::fs::write(
        &exp,
        r#"Experiment(
    name: "two-epochs",
    network: (layers: [64, 32, 10], activation: Tanh, loss: Mse),
    algorithm: (kind: DpTop, alpha: 1.0, beta: 0.05, passes: 3),
    training: (epochs: 2, batch_size: 50, learning_rate: 0.05, momentum: 0.5),
    seed: 3,
)"#,
    )
    .unwrap();
    let out_dir = dir.join("results");
    let out = dyadsim(&[
        "run",
        exp.to_str().unwrap(),
        "--out",
        out_dir.to_str().unwrap(),
    ]);
    assert_eq!(out.code, 0, "{out:?}");
    assert!(out.stdout.contains("epoch   2"), "{}", out.stdout);

    let mut csv = csv::Reader::from_path(out_dir.join("metrics.csv")).unwrap();
    let header: Vec<String> = csv.headers().unwrap().iter().map(str::to_owned).collect();
    assert_eq!(
        header,
        [
            "point",
            "seed",
            "epoch",
            "train_loss",
            "train_acc",
            "test_loss",
            "test_acc",
            "diverged"
        ]
    );
    let rows: Vec<csv::StringRecord> = csv.records().map(Result::unwrap).collect();
    assert_eq!(rows.len(), 3, "epochs 0, 1 and 2");
    for (e, row) in rows.iter().enumerate() {
        assert_eq!(&row[2], e.to_string());
        assert_eq!(&row[7], "", "a run that trained to the end did not diverge");
        for col in 3..7 {
            let v: f64 = row[col].parse().unwrap();
            assert!(v.is_finite() && v >= 0.0);
        }
        let acc: f64 = row[6].parse().unwrap();
        assert!(acc <= 1.0);
    }

    let summary: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out_dir.join("summary.json")).unwrap())
            .unwrap();
    let point = &summary["points"][0];
    assert_eq!(point["point"], 0);
    assert_eq!(point["seed"], 0);
    assert_eq!(point["diverged"], false);
    assert!(point["params"].is_object());
    for key in ["train_loss", "train_acc", "test_loss", "test_acc"] {
        assert!(point["final"][key].is_f64(), "final.{key}");
    }
    let test_acc = point["final"]["test_acc"].as_f64().unwrap();
    assert!(
        (0.0..=1.0).contains(&test_acc) && test_acc > 0.5,
        "two epochs already learn: {test_acc}"
    );
    assert_eq!(rows[2][6].parse::<f64>().unwrap(), test_acc);

    for file in ["convergence.png", "convergence.svg", "experiment.ron"] {
        let len = std::fs::metadata(out_dir.join(file)).unwrap().len();
        assert!(len > 100, "{file} is {len} bytes");
    }
    // The resolved experiment is itself a valid experiment with the defaults filled in.
    let resolved = std::fs::read_to_string(out_dir.join("experiment.ron")).unwrap();
    assert!(resolved.contains("optimizer: Sgd"), "{resolved}");
    let again = dir.join("again");
    let exp2 = dir.join("resolved.ron");
    std::fs::write(&exp2, &resolved).unwrap();
    let out = dyadsim(&[
        "run",
        exp2.to_str().unwrap(),
        "--out",
        again.to_str().unwrap(),
    ]);
    assert_eq!(out.code, 0, "{out:?}");
    assert_eq!(
        std::fs::read(out_dir.join("metrics.csv")).unwrap(),
        std::fs::read(again.join("metrics.csv")).unwrap(),
        "the resolved experiment reproduces the run bit for bit"
    );
}

#[test]
fn gradcheck_json_reports_aligned_layers() {
    let out = dyadsim(&[
        "gradcheck",
        "--alpha",
        "0",
        "--beta",
        "1e-3",
        "--layers",
        "64,32,16,10",
        "--passes",
        "6",
        "--json",
    ]);
    assert_eq!(out.code, 0, "{out:?}");
    let v: serde_json::Value = serde_json::from_str(out.stdout.trim()).unwrap();
    let layers = v["layers"].as_array().unwrap();
    assert_eq!(layers.len(), 3);
    for (i, l) in layers.iter().enumerate() {
        assert_eq!(l["layer"], i + 1);
        assert!(l["cosine"].as_f64().unwrap() > 0.9999, "{l}");
        assert!(l["rel_err"].as_f64().unwrap() < 1e-2, "{l}");
    }
}

#[test]
fn gradcheck_without_a_tolerance_does_not_call_a_growing_state_converged() {
    // Issue 11: this run once reported "converged": true with a residual of 1.3e13.
    let out = dyadsim(&[
        "gradcheck",
        "--algorithm",
        "dp",
        "--alpha",
        "0",
        "--beta",
        "1",
        "--layers",
        "64,128,128,10",
        "--loss",
        "mse",
        "--output",
        "explicit",
        "--passes",
        "60",
        "--weight-scale",
        "2",
        "--seed",
        "5",
        "--json",
    ]);
    assert_eq!(out.code, 0, "{out:?}");
    let v: serde_json::Value = serde_json::from_str(out.stdout.trim()).unwrap();
    let (residual, tolerance) = (
        v["residual"].as_f64().unwrap(),
        v["tolerance"].as_f64().unwrap(),
    );
    assert_eq!(v["diverged"], false, "{v}");
    assert_eq!(v["converged"], false, "{v}");
    assert!(residual > 1e12 && residual > tolerance, "{v}");
    // The same check that settles reports a bound it met.
    let settled = dyadsim(&["gradcheck", "--passes", "10", "--json"]);
    let v: serde_json::Value = serde_json::from_str(settled.stdout.trim()).unwrap();
    assert_eq!(v["converged"], true, "{v}");
    assert!(
        v["residual"].as_f64().unwrap() <= v["tolerance"].as_f64().unwrap(),
        "{v}"
    );
}

#[test]
fn gradcheck_shows_dp_failing_to_settle_where_dp_top_settles() {
    // Strong coupling (weights ×2), MSE and β = 1: the paper's stability claim on the CLI.
    let check = |algorithm: &str, alpha: &str| {
        let out = dyadsim(&[
            "gradcheck",
            "--algorithm",
            algorithm,
            "--alpha",
            alpha,
            "--beta",
            "1",
            "--loss",
            "mse",
            "--layers",
            "64,128,128,10",
            "--weight-scale",
            "2",
            "--passes",
            "300",
            "--json",
        ]);
        assert_eq!(out.code, 0, "{out:?}");
        let v: serde_json::Value = serde_json::from_str(out.stdout.trim()).unwrap();
        // A diverged residual is NaN, which JSON writes as null; the key is always there.
        for key in ["converged", "diverged", "passes", "residual"] {
            assert!(v.get(key).is_some(), "{key} missing: {v}");
        }
        assert!(v["layers"][0].get("leak").is_some(), "{v}");
        v
    };
    let dp = check("dp", "0");
    assert!(
        dp["diverged"] == true || dp["converged"] == false,
        "DP at α = 0 settles: {dp}"
    );
    for alpha in ["0", "0.5", "1"] {
        let top = check("dp-top", alpha);
        assert_eq!(top["converged"], true, "DP⊤ at α = {alpha}: {top}");
    }
}

#[test]
fn gradcheck_rejects_an_undefined_exact_output() {
    let out = dyadsim(&[
        "gradcheck",
        "--algorithm",
        "dp",
        "--alpha",
        "0",
        "--beta",
        "1.5",
        "--loss",
        "mse",
        "--output",
        "exact-mse",
    ]);
    assert_eq!(out.code, 2, "{out:?}");
}

#[test]
fn points_csv_and_summary_aggregate_each_point_over_its_seeds() {
    let dir = scratch("points-csv");
    let exp = dir.join("seeds.ron");
    std::fs::write(
        &exp,
        r#"Experiment(
    name: "seeds",
    network: (layers: [64, 16, 10], activation: Tanh, loss: Mse),
    algorithm: (kind: DpTop, alpha: 0.5, beta: 0.05, passes: 2),
    training: (epochs: 1, batch_size: 100, learning_rate: 0.05),
    metrics: [Settling],
    seeds: [0, 1, 2],
    sweep: {"algorithm.alpha": [0.0, 1.0]},
)"#,
    )
    .unwrap();
    let out_dir = dir.join("results");
    let out = dyadsim(&[
        "run",
        exp.to_str().unwrap(),
        "--out",
        out_dir.to_str().unwrap(),
    ]);
    assert_eq!(out.code, 0, "{out:?}");

    let metrics = std::fs::read_to_string(out_dir.join("metrics.csv")).unwrap();
    let mut csv = csv::Reader::from_path(out_dir.join("points.csv")).unwrap();
    let header: Vec<String> = csv.headers().unwrap().iter().map(str::to_owned).collect();
    assert_eq!(
        header[..6],
        [
            "point",
            "algorithm.alpha",
            "seeds",
            "diverged",
            "train_loss_mean",
            "train_loss_std"
        ]
    );
    assert!(
        header.iter().any(|h| h == "settle_passes_mean"),
        "{header:?}"
    );
    let rows: Vec<csv::StringRecord> = csv.records().map(Result::unwrap).collect();
    assert_eq!(rows.len(), 2, "one row per sweep point");
    let col = |name: &str| header.iter().position(|h| h == name).unwrap();
    // Recompute point 1's mean and sample std of the final test accuracy from metrics.csv.
    let mut per_seed = csv::Reader::from_reader(metrics.as_bytes());
    let mheader: Vec<String> = per_seed
        .headers()
        .unwrap()
        .iter()
        .map(str::to_owned)
        .collect();
    let acc_col = mheader.iter().position(|h| h == "test_acc").unwrap();
    let finals: Vec<f64> = per_seed
        .records()
        .map(Result::unwrap)
        .filter(|r| &r[0] == "1" && &r[2] == "1")
        .map(|r| r[acc_col].parse().unwrap())
        .collect();
    assert_eq!(finals.len(), 3);
    let mean = finals.iter().sum::<f64>() / 3.0;
    let std = (finals.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / 2.0).sqrt();
    let row = &rows[1];
    assert_eq!((&row[1], &row[2], &row[3]), ("1.0", "3", "0"));
    let got_mean: f64 = row[col("test_acc_mean")].parse().unwrap();
    let got_std: f64 = row[col("test_acc_std")].parse().unwrap();
    assert!((got_mean - mean).abs() < 1e-12, "{got_mean} vs {mean}");
    assert!((got_std - std).abs() < 1e-12, "{got_std} vs {std}");

    let summary: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out_dir.join("summary.json")).unwrap())
            .unwrap();
    assert_eq!(summary["version"], env!("CARGO_PKG_VERSION"));
    assert!(summary["wall_time_s"].as_f64().unwrap() > 0.0);
    assert!(summary["points"][0]["final"]["settle_passes"].is_number());
    let agg = &summary["aggregates"][1];
    assert_eq!(agg["seeds"], 3);
    assert_eq!(agg["diverged"], 0);
    assert_eq!(agg["metrics"]["test_acc"]["n"], 3);
    assert!((agg["metrics"]["test_acc"]["mean"].as_f64().unwrap() - mean).abs() < 1e-12);
}

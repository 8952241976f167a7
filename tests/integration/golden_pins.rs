//! Users' goldens kept in their own CI: a golden folder that moves with its experiment, missing
//! experiment and hardware files, the statistical mode, --final-only, the cap on detail rows
//! and rows named by their parameters.

use serde_json::{Value, json};
use std::path::{Path, PathBuf};
use tests::{Output, dyadsim, scratch};

/// The base metrics, the first word of a detail row.
const METRICS: [&str; 4] = ["train_loss", "train_acc", "test_loss", "test_acc"];

/// A project folder `dir` holding `device.ron` (ideal hardware) and `tiny.ron` (digits 64-16-10,
/// 2 epochs, `seeds`, `sweep` RON or empty), pinned into `dir/goldens`; returns the experiment.
fn project(dir: &Path, seeds: &str, sweep: &str) -> PathBuf {
    std::fs::create_dir_all(dir).unwrap();
    std::fs::write(dir.join("device.ron"), "Hardware()").unwrap();
    let exp = dir.join("tiny.ron");
    std::fs::write(
        &exp,
        format!(
            r#"Experiment(
    name: "tiny",
    network: (layers: [64, 16, 10], activation: Tanh, loss: Mse),
    algorithm: (kind: DpTop, alpha: 1.0, beta: 0.05, passes: 3),
    hardware: "device.ron",
    training: (epochs: 2, batch_size: 50, learning_rate: 0.05),
    seeds: {seeds},
    {sweep}
    seed: 4,
)"#
        ),
    )
    .unwrap();
    let pinned = check(&["--pin", s(&exp), "--golden", s(&dir.join("goldens"))]);
    assert_eq!(pinned.code, 0, "{pinned:?}");
    exp
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

fn check(args: &[&str]) -> Output {
    let mut all = vec!["check"];
    all.extend_from_slice(args);
    dyadsim(&all)
}

fn compare(goldens: &Path, flags: &[&str]) -> Output {
    let mut args = vec!["--golden", s(goldens)];
    args.extend_from_slice(flags);
    check(&args)
}

fn read_golden(file: &Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(file).unwrap()).unwrap()
}

fn write_golden(file: &Path, g: &Value) {
    std::fs::write(file, serde_json::to_vec_pretty(g).unwrap()).unwrap();
}

/// The rows of the detail tables: lines whose first word is a metric (summary lines have a colon).
fn detail_rows(out: &str) -> Vec<&str> {
    out.lines()
        .filter(|l| {
            l.split_whitespace()
                .next()
                .is_some_and(|w| METRICS.contains(&w))
        })
        .collect()
}

/// The number in "N value(s) moved beyond".
fn moved_count(out: &str) -> usize {
    let at = out
        .find(" value(s) moved beyond")
        .unwrap_or_else(|| panic!("no count: {out}"));
    out[..at]
        .rsplit(char::is_whitespace)
        .next()
        .unwrap()
        .parse()
        .unwrap()
}

#[test]
fn a_golden_folder_moved_with_its_experiment_still_finds_it() {
    let root = scratch("pins-moved");
    project(&root.join("a"), "[0]", "");
    let golden = read_golden(&root.join("a/goldens/tiny.json"));
    assert_eq!(golden["source"], "../tiny.ron", "{}", golden["source"]);
    assert_eq!(golden["source_base"], "golden folder");

    std::fs::rename(root.join("a"), root.join("b")).unwrap();
    let out = compare(&root.join("b/goldens"), &[]);
    assert_eq!(out.code, 0, "{out:?}");
    assert!(
        out.stdout.contains("tiny: largest relative change"),
        "{out:?}"
    );
    assert!(!out.stdout.contains("stored experiment"), "{out:?}");
}

#[test]
fn an_edited_device_file_is_found_after_the_folder_moved() {
    let root = scratch("pins-moved-device");
    project(&root.join("a"), "[0]", "");
    std::fs::rename(root.join("a"), root.join("b")).unwrap();
    std::fs::write(root.join("b/device.ron"), "Hardware(io: (out_noise: 0.01))").unwrap();
    let out = compare(&root.join("b/goldens"), &[]);
    assert_eq!(out.code, 1, "{out:?}");
    assert!(
        out.stdout
            .contains("the resolved experiment changed since it was pinned"),
        "{}",
        out.stdout
    );
    assert!(
        out.stdout
            .lines()
            .any(|l| l.contains("tiny: largest relative change") && l.ends_with("FAIL"))
    );
}

#[test]
fn a_missing_experiment_fails_by_name_unless_the_stored_one_is_allowed() {
    let root = scratch("pins-missing-source");
    let exp = project(&root, "[0]", "");
    std::fs::remove_file(&exp).unwrap();
    let goldens = root.join("goldens");
    let out = compare(&goldens, &[]);
    assert_eq!(out.code, 1, "a missing source is never a pass: {out:?}");
    let failed = out
        .stdout
        .lines()
        .find(|l| l.ends_with("FAIL"))
        .unwrap_or_else(|| panic!("{}", out.stdout));
    assert!(failed.contains("tiny: source files present"), "{failed}");
    assert!(
        out.stdout.contains(&format!("missing {}", exp.display())),
        "names the file: {}",
        out.stdout
    );
    assert!(
        out.stdout.contains("--allow-missing-source"),
        "{}",
        out.stdout
    );

    let allowed = compare(&goldens, &["--allow-missing-source"]);
    assert_eq!(allowed.code, 0, "{allowed:?}");
    assert!(
        allowed.stdout.lines().any(|l| l
            .contains("tiny: largest relative change (stored experiment)")
            && l.ends_with("PASS")),
        "{}",
        allowed.stdout
    );
    assert!(
        allowed
            .stdout
            .contains("re-ran the experiment stored in the golden"),
        "{}",
        allowed.stdout
    );
    let json = compare(&goldens, &["--json"]);
    assert_eq!(json.code, 1, "{json:?}");
    let report: Value = serde_json::from_str(&json.stdout).unwrap();
    assert_eq!(report["checks"][0]["pass"], false);
    assert!(
        report["checks"][0]["detail"]
            .as_str()
            .unwrap()
            .contains(s(&exp)),
        "{report}"
    );
}

#[test]
fn a_missing_hardware_file_fails_by_name() {
    let root = scratch("pins-missing-hardware");
    project(&root, "[0]", "");
    std::fs::remove_file(root.join("device.ron")).unwrap();
    let goldens = root.join("goldens");
    let out = compare(&goldens, &[]);
    assert_eq!(out.code, 1, "{out:?}");
    assert!(
        out.stdout.contains(&format!(
            "missing {} (a hardware file {} names)",
            root.join("device.ron").display(),
            root.join("tiny.ron").display()
        )),
        "{}",
        out.stdout
    );
    let allowed = compare(&goldens, &["--allow-missing-source"]);
    assert_eq!(allowed.code, 0, "{allowed:?}");
    assert!(
        allowed.stdout.contains("(stored experiment)"),
        "{allowed:?}"
    );
}

#[test]
fn goldens_of_the_older_form_are_read_and_fail_once_their_experiment_moved() {
    let root = scratch("pins-older-form");
    let exp = project(&root.join("a"), "[0]", "");
    let file = root.join("a/goldens/tiny.json");
    let mut golden = read_golden(&file);
    // As pinned before the path was relative: absolute, and no base.
    golden.as_object_mut().unwrap().remove("source_base");
    golden["source"] = json!(exp);
    write_golden(&file, &golden);
    let out = compare(&root.join("a/goldens"), &[]);
    assert_eq!(out.code, 0, "{out:?}");
    assert!(out.stdout.contains("in the older form"), "{}", out.stdout);

    std::fs::rename(root.join("a"), root.join("b")).unwrap();
    let out = compare(&root.join("b/goldens"), &[]);
    assert_eq!(out.code, 1, "{out:?}");
    assert!(
        out.stdout.contains(&format!("missing {}", exp.display())),
        "{}",
        out.stdout
    );
    // Back in place, --update rewrites it in the current form, which then moves with the folder.
    std::fs::rename(root.join("b"), root.join("a")).unwrap();
    let updated = compare(&root.join("a/goldens"), &["--update"]);
    assert_eq!(updated.code, 0, "{updated:?}");
    assert!(updated.stdout.contains("(golden updated)"), "{updated:?}");
    let golden = read_golden(&file);
    assert_eq!(golden["source_base"], "golden folder");
    assert_eq!(golden["source"], "../tiny.ron");
    std::fs::rename(root.join("a"), root.join("b")).unwrap();
    let out = compare(&root.join("b/goldens"), &[]);
    assert_eq!(out.code, 0, "{out:?}");
    assert!(!out.stdout.contains("older form"), "{}", out.stdout);
}

#[test]
fn the_statistical_mode_measures_a_final_mean_against_the_seed_spread() {
    let root = scratch("pins-sigma");
    project(&root, "[0, 1, 2]", "");
    let goldens = root.join("goldens");
    let file = goldens.join("tiny.json");
    let pinned = read_golden(&file);
    let last = |g: &Value, seed: usize| {
        g["records"][seed]["epochs"][2]["test_loss"]
            .as_f64()
            .unwrap()
    };
    let values: Vec<f64> = (0..3).map(|i| last(&pinned, i)).collect();
    let mean = values.iter().sum::<f64>() / 3.0;
    let sd = (values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / 2.0).sqrt();
    assert!(sd > 0.0);

    // Every seed's final test loss moved by the same amount: the spread stays, the mean moves.
    let shifted = |by: f64| {
        let mut g = pinned.clone();
        for i in 0..3 {
            g["records"][i]["epochs"][2]["test_loss"] = json!(last(&pinned, i) + by);
        }
        write_golden(&file, &g);
    };
    shifted(0.1 * sd);
    let exact = compare(&goldens, &[]);
    assert_eq!(exact.code, 1, "{exact:?}");
    let within = compare(&goldens, &["--max-sigma", "3", "--json"]);
    assert_eq!(within.code, 0, "{within:?}");
    let report: Value = serde_json::from_str(&within.stdout).unwrap();
    let check = &report["checks"][0];
    assert_eq!(check["tolerance"], 3.0);
    let value = check["value"].as_f64().unwrap();
    assert!((value - 0.1).abs() < 1e-6, "{check}");
    assert_eq!(report["shifts"][0]["metric"], "test_loss", "{report}");
    assert_eq!(report["shifts"][0]["seeds"], 3);
    assert!((report["shifts"][0]["sigma"].as_f64().unwrap() - sd).abs() < 1e-12 * sd.max(1.0));

    shifted(10.0 * sd);
    assert_eq!(compare(&goldens, &[]).code, 1);
    let beyond = compare(&goldens, &["--max-sigma", "3"]);
    assert_eq!(beyond.code, 1, "{beyond:?}");
    assert!(
        beyond.stdout.contains("test_loss: mean over 3 seeds")
            && beyond.stdout.contains("1 of 1 point(s) beyond 3"),
        "{}",
        beyond.stdout
    );

    // Real changes of the hardware: a little read noise stays within the spread of the seeds,
    // much of it does not.
    write_golden(&file, &pinned);
    std::fs::write(root.join("device.ron"), "Hardware(io: (out_noise: 0.01))").unwrap();
    assert_eq!(compare(&goldens, &[]).code, 1);
    let small = compare(&goldens, &["--max-sigma", "3"]);
    assert_eq!(small.code, 0, "{small:?}");
    std::fs::write(root.join("device.ron"), "Hardware(io: (out_noise: 0.5))").unwrap();
    assert_eq!(compare(&goldens, &["--max-sigma", "3"]).code, 1);
}

#[test]
fn the_statistical_mode_refuses_one_seed_and_bad_values() {
    let root = scratch("pins-sigma-refused");
    project(&root, "[0]", "");
    let goldens = root.join("goldens");
    let one = compare(&goldens, &["--max-sigma", "3"]);
    assert_eq!(one.code, 2, "{one:?}");
    assert!(
        one.stderr.contains(s(&goldens.join("tiny.json"))) && one.stderr.contains("1 seed(s)"),
        "names the golden: {one:?}"
    );
    for bad in ["-1", "NaN", "inf"] {
        let out = compare(&goldens, &["--max-sigma", bad]);
        assert_eq!(out.code, 2, "{bad}: {out:?}");
        assert!(out.stderr.contains("--max-sigma"), "{bad}: {out:?}");
    }
}

#[test]
fn final_only_compares_the_last_epoch_alone() {
    let root = scratch("pins-final-only");
    project(&root, "[0]", "");
    let goldens = root.join("goldens");
    let file = goldens.join("tiny.json");
    let pinned = read_golden(&file);
    let mut g = pinned.clone();
    let v = g["records"][0]["epochs"][1]["test_acc"].as_f64().unwrap();
    g["records"][0]["epochs"][1]["test_acc"] = json!(v + 0.01);
    write_golden(&file, &g);
    assert_eq!(compare(&goldens, &[]).code, 1);
    let last = compare(&goldens, &["--final-only"]);
    assert_eq!(last.code, 0, "an earlier epoch is not compared: {last:?}");
    assert!(last.stdout.contains("in the last epoch"), "{}", last.stdout);

    let mut g = pinned.clone();
    let v = g["records"][0]["epochs"][2]["test_acc"].as_f64().unwrap();
    g["records"][0]["epochs"][2]["test_acc"] = json!(v + 0.01);
    write_golden(&file, &g);
    let last = compare(&goldens, &["--final-only"]);
    assert_eq!(last.code, 1, "{last:?}");
    let rows = detail_rows(&last.stdout);
    assert_eq!(rows.len(), 1, "{}", last.stdout);
    assert!(rows[0].contains("test_acc"), "{}", rows[0]);
}

#[test]
fn the_terminal_shows_twenty_detail_rows_and_details_or_json_show_all() {
    let root = scratch("pins-cap");
    project(
        &root,
        "[0, 1]",
        r#"sweep: {"algorithm.beta": [0.05, 0.1]},"#,
    );
    // Read noise moves nearly every value of every run.
    std::fs::write(root.join("device.ron"), "Hardware(io: (out_noise: 0.01))").unwrap();
    let goldens = root.join("goldens");
    let out = compare(&goldens, &[]);
    assert_eq!(out.code, 1, "{out:?}");
    let n = moved_count(&out.stdout);
    assert!(n > 20, "{}", out.stdout);
    assert_eq!(detail_rows(&out.stdout).len(), 20, "{}", out.stdout);
    assert!(
        out.stdout.contains(&format!(
            "… and {} more; all of them with --details (or in --json)",
            n - 20
        )),
        "{}",
        out.stdout
    );
    // The summary comes first, one line per metric.
    for m in METRICS {
        assert!(
            out.stdout.contains(&format!("{m}: ")),
            "{m}: {}",
            out.stdout
        );
    }

    let all = compare(&goldens, &["--details"]);
    assert_eq!(all.code, 1);
    assert_eq!(detail_rows(&all.stdout).len(), n, "{}", all.stdout);
    assert!(!all.stdout.contains("more; all of them"));

    let json = compare(&goldens, &["--json"]);
    assert_eq!(json.code, 1);
    let report: Value = serde_json::from_str(&json.stdout).unwrap();
    let moved = report["moved"].as_array().unwrap();
    assert_eq!(moved.len(), n);
    for m in moved {
        for key in [
            "golden", "metric", "point", "params", "seed", "epoch", "old", "new",
        ] {
            assert!(m.get(key).is_some(), "{key} in {m}");
        }
    }
    assert!(report["notes"].is_null() || report["notes"].is_array());
    let detail = report["checks"][0]["detail"].as_str().unwrap();
    assert_eq!(
        detail_rows(detail).len(),
        n,
        "the JSON detail holds every row"
    );
}

#[test]
fn rows_name_points_by_their_parameters() {
    let root = scratch("pins-params");
    project(
        &root,
        "[0, 1]",
        r#"sweep: {"algorithm.beta": [0.05, 0.1]},"#,
    );
    let goldens = root.join("goldens");
    let file = goldens.join("tiny.json");
    let mut g = read_golden(&file);
    let records = g["records"].as_array_mut().unwrap();
    let r = records
        .iter_mut()
        .find(|r| r["point"] == 1 && r["seed"] == 1)
        .unwrap();
    assert_eq!(r["params"], json!({"algorithm.beta": 0.1}));
    let v = r["epochs"][2]["test_acc"].as_f64().unwrap();
    r["epochs"][2]["test_acc"] = json!(v - 0.02);
    write_golden(&file, &g);

    let out = compare(&goldens, &[]);
    assert_eq!(out.code, 1, "{out:?}");
    let rows = detail_rows(&out.stdout);
    assert_eq!(rows.len(), 1, "{}", out.stdout);
    let cells: Vec<&str> = rows[0].split_whitespace().collect();
    assert_eq!(
        &cells[..5],
        ["test_acc", "beta=0.1", "seed", "1", "2"],
        "{}",
        rows[0]
    );
    assert!(
        out.stdout.contains("largest change +2.0000e-2")
            && out.stdout.contains(" at beta=0.1 seed 1 epoch 2"),
        "the summary names the run too: {}",
        out.stdout
    );
    assert!(!out.stdout.contains("point 1"), "{}", out.stdout);

    let json = compare(&goldens, &["--json"]);
    let report: Value = serde_json::from_str(&json.stdout).unwrap();
    assert_eq!(report["moved"][0]["point"], 1);
    assert_eq!(report["moved"][0]["params"], json!({"algorithm.beta": 0.1}));

    // The statistical mode names the point without a seed.
    let stat = compare(&goldens, &["--max-sigma", "3"]);
    assert!(
        stat.stdout
            .lines()
            .any(|l| l.trim_start().starts_with("test_acc") && l.contains("beta=0.1 ")),
        "{}",
        stat.stdout
    );
}

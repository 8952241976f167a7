//! `dyadsim tolerance` and the `tolerance:` section end to end on the embedded digits.

use lab::runner::RunObserver;
use serde_json::Value;
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use tests::{dyadsim, scratch};

/// The setting of experiments/alpha-tolerance.ron, small enough for seconds: at β = 0.7 this
/// three-layer network trains with DP⊤ at every α, while DP diverges towards α = 1.
const ALPHA: &str = r#"Experiment(
    name: "alpha",
    network: (layers: [64, 64, 64, 10], activation: Relu, loss: Mse),
    algorithm: (kind: DpTop, alpha: 0.5, beta: 0.7, passes: 8),
    training: (epochs: 10, batch_size: 32, learning_rate: 0.05, momentum: 0.9),
    seed: 7,
    seeds: [0, 1],
)"#;

/// A network that trains in milliseconds; DP at α = 1 still fails in it.
const TINY: &str = r#"Experiment(
    name: "tiny",
    network: (layers: [64, 16, 10], activation: Relu, loss: Mse),
    algorithm: (kind: Dp, alpha: 0.5, beta: 2.0, passes: 8),
    training: (epochs: 3, batch_size: 32, learning_rate: 0.05, momentum: 0.9),
    seed: 7,
    seeds: [0, 1],
)"#;

fn write(dir: &Path, name: &str, text: &str) -> String {
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path.to_str().unwrap().to_owned()
}

fn read_json(path: &Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn result<'a>(json: &'a Value, compare: &str, direction: &str) -> &'a Value {
    json["results"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["compare"] == compare && r["direction"] == direction)
        .unwrap_or_else(|| panic!("no result for {compare} {direction}: {json}"))
}

#[test]
fn dp_top_alpha_tolerance_covers_the_unit_interval_where_dp_does_not() {
    let dir = scratch("tolerance-alpha");
    let exp = write(&dir, "alpha.ron", ALPHA);
    let out = dir.join("out");
    let run = dyadsim(&[
        "tolerance",
        &exp,
        "--axis",
        "algorithm.alpha",
        "--around",
        "0.5",
        "--from",
        "0",
        "--to",
        "1",
        "--max-drop",
        "0.05",
        "--resolution",
        "0.02",
        "--compare",
        "algorithm.kind=Dp,DpTop",
        "--threads",
        "2",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_eq!(run.code, 0, "{run:?}");
    let json = read_json(&out.join("tolerance.json"));
    for direction in ["down", "up"] {
        let top = result(&json, "DpTop", direction);
        assert_eq!(top["outcome"], "never_fails", "{top}");
        assert_eq!(top["bracket"][1], Value::Null);
    }
    assert_eq!(result(&json, "DpTop", "down")["tolerance"], 0.0);
    assert_eq!(result(&json, "DpTop", "up")["tolerance"], 1.0);
    // DP fails before α = 1; its bracket is within the resolution.
    let dp = result(&json, "Dp", "up");
    assert_eq!(dp["outcome"], "found", "{dp}");
    let (pass, fail) = (
        dp["bracket"][0].as_f64().unwrap(),
        dp["bracket"][1].as_f64().unwrap(),
    );
    assert!(
        pass > 0.5 && fail < 1.0 && fail - pass <= 0.02 + 1e-9,
        "{dp}"
    );
    assert!(
        run.stdout
            .contains("DP⊤ tolerates nudging asymmetry α ∈ [0.00, 1.00]"),
        "{}",
        run.stdout
    );
    // The run count is reported and well below a grid of the same resolution (51 α × 2 × 2 seeds).
    let (runs, grid) = (
        json["runs"].as_u64().unwrap(),
        json["grid_runs"].as_u64().unwrap(),
    );
    assert_eq!(grid, 2 * 51 * 2);
    assert!(runs * 4 < grid, "{runs} runs against a grid of {grid}");
    assert!(
        run.stdout.contains(&format!("{runs} runs")),
        "{}",
        run.stdout
    );
    // One CSV row per probe, the reference included, and the JSON's documented fields.
    let probes = json["probes"].as_array().unwrap();
    let rows = csv::Reader::from_path(out.join("tolerance.csv"))
        .unwrap()
        .records()
        .count();
    assert_eq!(rows, probes.len());
    assert_eq!(runs as usize, probes.len() * 2);
    for key in ["value", "mean", "std", "n", "diverged", "pass"] {
        assert!(
            probes[0].get(key).is_some(),
            "probe lacks {key}: {}",
            probes[0]
        );
    }
    for key in ["value", "mean", "std", "n"] {
        assert!(
            json["reference"].get(key).is_some(),
            "reference lacks {key}"
        );
    }
    assert_eq!(json["axis"], "algorithm.alpha");
    assert_eq!(json["max_drop"], 0.05);
    assert!(out.join("tolerance.png").exists() && out.join("tolerance.svg").exists());
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
fn a_killed_tolerance_search_resumes_to_the_same_answer_and_a_repeat_trains_nothing() {
    let dir = scratch("tolerance-resume");
    let exp_path = write(&dir, "tiny.ron", TINY);
    let args = |out: &Path| -> Vec<String> {
        [
            "tolerance",
            &exp_path,
            "--axis",
            "algorithm.alpha",
            "--to",
            "1",
            "--resolution",
            "0.05",
            "--max-drop",
            "0.05",
            "--threads",
            "2",
            "--out",
            out.to_str().unwrap(),
        ]
        .map(str::to_owned)
        .to_vec()
    };
    let run = |out: &Path| {
        let a = args(out);
        dyadsim(&a.iter().map(String::as_str).collect::<Vec<_>>())
    };
    // Kill the search in its second round through the library, then finish it from the CLI.
    let killed = dir.join("killed");
    let exp = lab::load::experiment(Path::new(&exp_path)).unwrap();
    let data = lab::dataset::load(&exp.dataset, Path::new(&exp_path)).unwrap();
    let spec = lab::tolerance::ToleranceSpec {
        axis: "algorithm.alpha".into(),
        from: None,
        to: Some(1.0),
        around: None,
        max_drop: 0.05,
        relative: false,
        metric: "test_acc".into(),
        seeds: None,
        confidence: 0.95,
        resolution: Some(0.05),
        scale: None,
        compare: None,
        across: None,
    };
    let plan = lab::tolerance::Plan::resolve(&exp, &spec).unwrap();
    let opts = lab::tolerance::ToleranceOptions {
        out: killed.clone(),
        fresh: false,
        threads: Some(2),
    };
    let observer = KillAfter {
        after: 7,
        finished: AtomicUsize::new(0),
    };
    let err = lab::tolerance::run(&exp, &plan, &data, &opts, &observer).unwrap_err();
    assert!(matches!(err, lab::LabError::Interrupted), "{err}");
    let partial = lab::results::load_records(&killed).unwrap().len();
    assert!((7..14).contains(&partial), "{partial} runs survived");

    let resumed = run(&killed);
    assert_eq!(resumed.code, 0, "{resumed:?}");
    let whole = dir.join("whole");
    let fresh = run(&whole);
    assert_eq!(fresh.code, 0, "{fresh:?}");
    assert_eq!(
        read_json(&killed.join("tolerance.json")),
        read_json(&whole.join("tolerance.json"))
    );
    let json = read_json(&whole.join("tolerance.json"));
    let dp = &json["results"][0];
    assert_eq!(dp["outcome"], "found", "{json}");
    assert!(dp["bracket"][1].as_f64().unwrap() <= 1.0);

    // The same command again finds every probe on disk.
    let again = run(&whole);
    assert_eq!(again.code, 0, "{again:?}");
    let rounds: Vec<&str> = again
        .stdout
        .lines()
        .filter(|l| l.starts_with("round"))
        .collect();
    assert!(!rounds.is_empty());
    assert!(
        rounds.iter().all(|l| l.contains(": 0 runs to train")),
        "{}",
        again.stdout
    );
    assert_eq!(read_json(&whole.join("tolerance.json")), json);
}

#[test]
fn tolerance_section_runs_through_dyadsim_run_and_bad_settings_exit_2() {
    let dir = scratch("tolerance-section");
    let section = TINY.replace(
        "seeds: [0, 1],",
        "seeds: [0, 1],\n    tolerance: (axis: \"algorithm.alpha\", to: 1.0, resolution: 0.25, max_drop: 0.05),",
    );
    let exp = write(&dir, "section.ron", &section);
    let out = dir.join("out");
    let run = dyadsim(&[
        "run",
        &exp,
        "--out",
        out.to_str().unwrap(),
        "--threads",
        "2",
    ]);
    assert_eq!(run.code, 0, "{run:?}");
    assert!(
        run.stdout
            .contains("tolerates nudging asymmetry α ∈ [0.50, "),
        "{}",
        run.stdout
    );
    assert!(out.join("tolerance.json").exists());

    let bad = write(
        &dir,
        "bad.ron",
        &section.replace("max_drop: 0.05", "max_drop: 0.05, confidence: 1.5"),
    );
    let run = dyadsim(&["run", &bad, "--out", out.to_str().unwrap()]);
    assert_eq!(run.code, 2, "{run:?}");
    assert!(
        run.stderr.contains("bad.ron:") && run.stderr.contains("tolerance.confidence"),
        "{}",
        run.stderr
    );

    let flags = dyadsim(&[
        "tolerance",
        &exp,
        "--axis",
        "algorithm.alpha",
        "--around",
        "0.5",
    ]);
    assert_eq!(flags.code, 2, "{flags:?}");
    assert!(flags.stderr.contains("--around"), "{}", flags.stderr);
    let range = dyadsim(&[
        "tolerance",
        &exp,
        "--axis",
        "algorithm.alpha",
        "--to",
        "1.5",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_eq!(range.code, 2, "{range:?}");
    assert!(range.stderr.contains("alpha"), "{}", range.stderr);
}

//! Results folders: only dyadsim's own folders and files are deleted or overwritten, hardware
//! sweeps are self-contained, folders are locked, records are checked, merges say what is missing.

use std::path::{Path, PathBuf};
use tests::{dyadsim, root, scratch};

const SMALL: &str = r#"Experiment(
    name: "small",
    network: (layers: [64, 8, 10], loss: Mse),
    algorithm: (kind: DpTop, alpha: 0.5, beta: 0.2, passes: 3),
    training: (epochs: 2, batch_size: 128, learning_rate: 0.05),
    seed: 3,
    seeds: [0, 1],
    sweep: {"algorithm.alpha": [0.0, 1.0]},
)
"#;

/// A sweep over two device-models files named relative to the experiment, as
/// experiments/nudging-asymmetry.ron does.
const HARDWARE_SWEEP: &str = r#"Experiment(
    name: "hardware-sweep",
    network: (layers: [64, 8, 10], loss: Mse),
    algorithm: (kind: DpTop, alpha: 0.5, beta: 0.2, passes: 3),
    training: (epochs: 2, batch_size: 128, learning_rate: 0.05),
    seed: 5,
    seeds: [0],
    sweep: {
        "hardware": ["../device-models/ideal.ron", "../device-models/ecram-tang2018-rounding.ron"],
        "algorithm.alpha": [0.0, 1.0],
    },
)
"#;

fn write(path: &Path, text: &str) -> String {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, text).unwrap();
    path.to_str().unwrap().to_owned()
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn s(path: &Path) -> &str {
    path.to_str().unwrap()
}

/// A finished run of SMALL in `dir/out`; returns (experiment file, results folder).
fn small_run(dir: &Path) -> (String, PathBuf) {
    let exp = write(&dir.join("small.ron"), SMALL);
    let out = dir.join("out");
    let r = dyadsim(&["run", &exp, "--out", s(&out)]);
    assert_eq!(r.code, 0, "{r:?}");
    (exp, out)
}

fn record(out: &Path, point: usize, seed: u64) -> PathBuf {
    out.join("runs")
        .join(lab::results::record_name(point, seed))
}

#[test]
fn fresh_refuses_a_folder_that_is_not_a_results_folder() {
    let dir = scratch("fresh-foreign");
    let exp = write(&dir.join("small.ron"), SMALL);
    let proj = dir.join("proj");
    let other = write(&proj.join("runs/other-study/data.txt"), "not dyadsim's");
    let notes = write(&proj.join("metrics.csv"), "someone else's table");
    for args in [vec!["--fresh"], vec![]] {
        let mut argv = vec!["run", &exp, "--out", s(&proj)];
        argv.extend(args);
        let r = dyadsim(&argv);
        assert_eq!(r.code, 2, "{r:?}");
        assert!(r.stderr.contains("not a results folder"), "{}", r.stderr);
        assert_eq!(read(Path::new(&other)), "not dyadsim's");
        assert_eq!(read(Path::new(&notes)), "someone else's table");
        assert!(!proj.join("experiment.ron").exists());
        assert!(!proj.join(lab::lock::LOCK).exists());
    }
}

#[test]
fn fresh_removes_only_the_record_files_it_wrote() {
    let dir = scratch("fresh-own");
    let (exp, out) = small_run(&dir);
    let foreign = write(&out.join("runs/notes.json"), "{\"mine\": true}");
    let beside = write(&out.join("README.txt"), "about this folder");
    let old = read(&record(&out, 1, 1));
    let r = dyadsim(&["run", &exp, "--out", s(&out), "--fresh"]);
    assert_eq!(r.code, 0, "{r:?}");
    assert!(!r.stdout.contains("resuming"), "{}", r.stdout);
    assert_eq!(read(Path::new(&foreign)), "{\"mine\": true}");
    assert_eq!(read(Path::new(&beside)), "about this folder");
    assert_eq!(
        read(&record(&out, 1, 1)),
        old,
        "the same seeds give the same record"
    );
}

#[test]
fn experiment_name_must_be_a_plain_file_name() {
    let dir = scratch("names");
    for name in ["..", ".", "", "a/b", "a\\\\b"] {
        let text = SMALL.replace("name: \"small\"", &format!("name: \"{name}\""));
        let exp = write(&dir.join("named.ron"), &text);
        let r = dyadsim(&["run", &exp, "--out", s(&dir.join("never"))]);
        assert_eq!(r.code, 2, "{name:?}: {r:?}");
        assert!(
            r.stderr.contains("named.ron:2:5: name"),
            "{name:?}: {}",
            r.stderr
        );
        assert!(!dir.join("never").exists());
    }
}

/// The hardware sweep of `dir/exps/hw.ron` with its device-models files beside it.
fn hardware_sweep(dir: &Path) -> String {
    for preset in ["ideal", "ecram-tang2018-rounding"] {
        let text = read(&root().join(format!("device-models/{preset}.ron")));
        write(&dir.join(format!("device-models/{preset}.ron")), &text);
    }
    write(&dir.join("exps/hw.ron"), HARDWARE_SWEEP)
}

#[test]
fn a_hardware_sweep_folder_resumes_replots_and_reruns_from_its_own_experiment() {
    let dir = scratch("hardware-sweep");
    let exp = hardware_sweep(&dir);
    let out = dir.join("out");
    // Half the grid first, as a killed run leaves it.
    let half = dyadsim(&["run", &exp, "--out", s(&out), "--shard", "0/2"]);
    assert_eq!(half.code, 0, "{half:?}");
    let resumed = dyadsim(&["run", &exp, "--out", s(&out)]);
    assert_eq!(resumed.code, 0, "{resumed:?}");
    assert!(resumed.stdout.contains("resuming"), "{}", resumed.stdout);
    let stored = read(&out.join("experiment.ron"));
    assert!(!stored.contains("device-models"), "{stored}");
    assert!(stored.contains("hardware_presets"), "{stored}");
    let summary: serde_json::Value =
        serde_json::from_str(&read(&out.join("summary.json"))).unwrap();
    let labels: Vec<&str> = summary["points"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["params"]["hardware"].as_str().unwrap())
        .collect();
    assert_eq!(
        labels,
        [
            "ideal",
            "ideal",
            "ecram-tang2018-rounding",
            "ecram-tang2018-rounding"
        ]
    );
    assert_eq!(summary["complete"], true);

    // The device-models files are gone: the folder needs nothing but itself.
    std::fs::remove_dir_all(dir.join("device-models")).unwrap();
    let plot = dyadsim(&["plot", s(&out)]);
    assert_eq!(plot.code, 0, "{plot:?}");
    let again = dir.join("again");
    let rerun = dyadsim(&["run", s(&out.join("experiment.ron")), "--out", s(&again)]);
    assert_eq!(rerun.code, 0, "{rerun:?}");
    assert_eq!(
        read(&again.join("metrics.csv")),
        read(&out.join("metrics.csv"))
    );
    let resumed_in_place = dyadsim(&["run", s(&out.join("experiment.ron")), "--out", s(&out)]);
    assert_eq!(resumed_in_place.code, 0, "{resumed_in_place:?}");
}

#[test]
fn a_refused_resume_names_the_first_field_that_differs() {
    let dir = scratch("resume-diff");
    let (_, out) = small_run(&dir);
    let changed = write(
        &dir.join("changed.ron"),
        &SMALL.replace("beta: 0.2,", "beta: 0.25,"),
    );
    let r = dyadsim(&["run", &changed, "--out", s(&out)]);
    assert_eq!(r.code, 2, "{r:?}");
    assert!(
        r.stderr
            .contains("algorithm.beta: 0.2 in the folder, 0.25 in the file"),
        "{}",
        r.stderr
    );
    let renamed = write(
        &dir.join("renamed.ron"),
        &SMALL.replace("name: \"small\"", "name: \"other-name\""),
    );
    let r = dyadsim(&["run", &renamed, "--out", s(&out)]);
    assert_eq!(r.code, 0, "a name does not change results: {r:?}");
}

#[test]
fn a_locked_folder_is_refused_naming_the_holder() {
    let dir = scratch("locked");
    let (exp, out) = small_run(&dir);
    let lock = lab::lock::lock(&out, "dyadsim run held-by-test.ron").unwrap();
    for argv in [
        vec!["run", exp.as_str(), "--out", s(&out)],
        vec!["plot", s(&out)],
        vec!["merge", s(&out)],
    ] {
        let r = dyadsim(&argv);
        assert_eq!(r.code, 2, "{argv:?}: {r:?}");
        let holder = format!("process {} on ", std::process::id());
        assert!(
            r.stderr.contains(&holder) && r.stderr.contains("held-by-test.ron"),
            "{argv:?}: {}",
            r.stderr
        );
    }
    drop(lock);
    let r = dyadsim(&["plot", s(&out)]);
    assert_eq!(r.code, 0, "released when dropped: {r:?}");
}

/// Run `dyadsim plot` on a copy of `out` whose record (0, 0) was replaced by `bytes` (or `edit`ed).
fn plot_with_record(out: &Path, name: &str, bytes: Vec<u8>, file: &str) -> tests::Output {
    let copy = out.with_file_name(name);
    let _ = std::fs::remove_dir_all(&copy);
    std::fs::create_dir_all(copy.join("runs")).unwrap();
    for entry in std::fs::read_dir(out.join("runs")).unwrap() {
        let path = entry.unwrap().path();
        std::fs::copy(&path, copy.join("runs").join(path.file_name().unwrap())).unwrap();
    }
    std::fs::copy(out.join("experiment.ron"), copy.join("experiment.ron")).unwrap();
    std::fs::write(copy.join("runs").join(file), bytes).unwrap();
    dyadsim(&["plot", s(&copy)])
}

fn edited(out: &Path, edit: impl Fn(&mut serde_json::Value)) -> Vec<u8> {
    let mut v: serde_json::Value = serde_json::from_str(&read(&record(out, 0, 0))).unwrap();
    edit(&mut v);
    serde_json::to_vec_pretty(&v).unwrap()
}

#[test]
fn records_that_do_not_belong_to_the_experiment_are_refused_naming_the_file() {
    let dir = scratch("bad-records");
    let (_, out) = small_run(&dir);
    // 500 bytes of a fixed pseudo-random sequence (not UTF-8, not JSON).
    let mut x = 0x9E37_79B9_7F4A_7C15_u64;
    let noise: Vec<u8> = (0..500)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x >> 56) as u8
        })
        .collect();
    let other_point = read(&record(&out, 1, 0)).into_bytes();
    let cases: Vec<(&str, Vec<u8>, &str, &str)> = vec![
        (
            "noise",
            noise,
            "point00000-seed0.json",
            "not a readable run record",
        ),
        (
            "short",
            edited(&out, |v| {
                v["epochs"].as_array_mut().unwrap().pop();
            }),
            "point00000-seed0.json",
            "2 epoch(s) of metrics where the experiment has 3",
        ),
        (
            "outside",
            edited(&out, |v| v["point"] = 7.into()),
            "point00007-seed0.json",
            "point 7 is outside the grid of 2 points",
        ),
        (
            "seed",
            edited(&out, |v| v["seed"] = 5.into()),
            "point00000-seed5.json",
            "seed 5 is not one of the experiment's seeds",
        ),
        (
            "misnamed",
            other_point,
            "point00000-seed0.json",
            "holds the run of point 1 seed 0, but its name says point 0 seed 0",
        ),
        (
            "params",
            edited(&out, |v| v["params"]["algorithm.alpha"] = 1.0.into()),
            "point00000-seed0.json",
            "are not those of point 0",
        ),
        (
            "schema",
            edited(&out, |v| v["schema"] = 9.into()),
            "point00000-seed0.json",
            "layout version 9",
        ),
        (
            "unpadded",
            read(&record(&out, 0, 0)).into_bytes(),
            "point0-seed0.json",
            "expected point00000-seed0.json",
        ),
    ];
    for (name, bytes, file, expect) in cases {
        let r = plot_with_record(&out, name, bytes, file);
        assert_eq!(r.code, 2, "{name}: {r:?}");
        assert!(r.stderr.contains(file), "{name}: {}", r.stderr);
        assert!(r.stderr.contains(expect), "{name}: {}", r.stderr);
        assert!(r.stderr.contains("delete"), "{name}: {}", r.stderr);
    }
    // A diverged run may stop early.
    let diverged = edited(&out, |v| {
        v["epochs"].as_array_mut().unwrap().pop();
        v["divergence"] = serde_json::json!({"epoch": 2, "batch": 0, "reason": "non-finite"});
    });
    let r = plot_with_record(&out, "diverged", diverged, "point00000-seed0.json");
    assert_eq!(r.code, 0, "{r:?}");
}

#[test]
fn records_written_before_the_schema_field_still_load() {
    let folder = root().join("results/paper-mlp-fmnist");
    let exp = lab::load::experiment(&folder.join("experiment.ron")).unwrap();
    let records = lab::results::load_records_of(&folder, &exp).unwrap();
    let files = std::fs::read_dir(folder.join("runs")).unwrap().count();
    assert_eq!(records.len(), files);
    assert!(records.iter().all(|r| r.schema == lab::results::SCHEMA));
}

#[test]
fn merge_of_an_incomplete_set_lists_the_missing_runs_and_says_incomplete() {
    let dir = scratch("merge-incomplete");
    let exp = write(&dir.join("small.ron"), SMALL);
    let s0 = dir.join("s0");
    let r = dyadsim(&["run", &exp, "--out", s(&s0), "--shard", "0/2"]);
    assert_eq!(r.code, 0, "{r:?}");
    let summary = |d: &Path| -> serde_json::Value {
        serde_json::from_str(&read(&d.join("summary.json"))).unwrap()
    };
    assert_eq!(summary(&s0)["complete"], false);
    let merged = dir.join("merged");
    let m = dyadsim(&["merge", s(&s0), "--out", s(&merged)]);
    assert_eq!(m.code, 0, "{m:?}");
    assert!(
        m.stdout
            .contains("2 run(s) of the grid missing (point 1 seed 0, point 1 seed 1)"),
        "{}",
        m.stdout
    );
    assert_eq!(summary(&merged)["complete"], false);
    let whole = dir.join("whole");
    let r = dyadsim(&["run", &exp, "--out", s(&whole)]);
    assert_eq!(r.code, 0, "{r:?}");
    assert_eq!(summary(&whole)["complete"], true);
    let m = dyadsim(&["merge", s(&s0), s(&whole), "--out", s(&merged)]);
    assert_eq!(m.code, 0, "{m:?}");
    assert!(!m.stdout.contains("missing"), "{}", m.stdout);
    assert_eq!(summary(&merged)["complete"], true);
}

#[test]
fn merge_refuses_different_records_of_one_run_naming_both_folders() {
    let dir = scratch("merge-conflict");
    let (_, out) = small_run(&dir);
    let twin = dir.join("twin");
    let r = dyadsim(&["merge", s(&out), "--out", s(&twin)]);
    assert_eq!(r.code, 0, "{r:?}");
    let path = record(&twin, 1, 0);
    let mut v: serde_json::Value = serde_json::from_str(&read(&path)).unwrap();
    v["epochs"][2]["test_acc"] = 0.123.into();
    std::fs::write(&path, serde_json::to_vec_pretty(&v).unwrap()).unwrap();
    let merged = dir.join("merged");
    let m = dyadsim(&["merge", s(&out), s(&twin), "--out", s(&merged)]);
    assert_eq!(m.code, 2, "{m:?}");
    assert!(
        m.stderr.contains(s(&out)) && m.stderr.contains(s(&twin)),
        "{}",
        m.stderr
    );
    assert!(m.stderr.contains("point 1 seed 0"), "{}", m.stderr);
}

#[test]
fn hardware_presets_must_be_used_and_their_names_unambiguous() {
    let dir = scratch("presets");
    let exp = hardware_sweep(&dir);
    let ideal = read(&dir.join("device-models/ideal.ron"));
    // An inline preset named by the axis is used as it is.
    let named = HARDWARE_SWEEP
        .replace("\"../device-models/ideal.ron\"", "\"mine\"")
        .replace(
            "    seeds: [0],\n",
            &format!("    seeds: [0],\n    hardware_presets: {{\"mine\": {ideal}}},\n"),
        );
    let loaded = lab::load::experiment_from_str(&named, Path::new(&exp)).unwrap();
    let keys: Vec<&String> = loaded.hardware_presets.keys().collect();
    assert_eq!(keys, ["ecram-tang2018-rounding", "mine"]);
    // A preset no value names would silently do nothing.
    let unused = named.replace("\"mine\", ", "");
    let err = lab::load::experiment_from_str(&unused, Path::new(&exp)).unwrap_err();
    assert!(
        err.to_string()
            .contains("hardware_presets.mine is named by no value"),
        "{err}"
    );
    // Two different files with one stem cannot both be labelled by it.
    write(
        &dir.join("other/ideal.ron"),
        &read(&dir.join("device-models/ecram-tang2018-rounding.ron")),
    );
    let clash = HARDWARE_SWEEP.replace(
        "\"../device-models/ecram-tang2018-rounding.ron\"",
        "\"../other/ideal.ron\"",
    );
    let err = lab::load::experiment_from_str(&clash, Path::new(&exp)).unwrap_err();
    assert!(
        err.to_string()
            .contains("are both named \"ideal\" but differ"),
        "{err}"
    );
    assert!(err.to_string().starts_with(&format!("{exp}:")), "{err}");
}

#[test]
fn merge_into_the_folder_holding_its_shards_is_allowed() {
    let dir = tests::scratch("merge-into-parent");
    let exp = dir.join("e.ron");
    std::fs::write(
        &exp,
        r#"Experiment(
    name: "m",
    network: (layers: [64, 16, 10], activation: Tanh, loss: Mse),
    algorithm: (kind: DpTop, alpha: 0.5, beta: 0.05, passes: 2),
    training: (epochs: 1, batch_size: 100, learning_rate: 0.05),
    sweep: {"algorithm.alpha": [0.0, 1.0]},
)"#,
    )
    .unwrap();
    let parent = dir.join("x");
    let shards: Vec<String> = (0..2)
        .map(|i| {
            parent
                .join(format!("shard{i}"))
                .to_str()
                .unwrap()
                .to_owned()
        })
        .collect();
    for (i, shard) in shards.iter().enumerate() {
        let r = tests::dyadsim(&[
            "run",
            exp.to_str().unwrap(),
            "--out",
            shard,
            "--shard",
            &format!("{i}/2"),
        ]);
        assert_eq!(r.code, 0, "{r:?}");
    }
    let r = tests::dyadsim(&[
        "merge",
        &shards[0],
        &shards[1],
        "--out",
        parent.to_str().unwrap(),
    ]);
    assert_eq!(r.code, 0, "{r:?}");
    assert!(parent.join("summary.json").exists());
    // Anything else in the target still makes it a folder that is not dyadsim's.
    let other = dir.join("y");
    std::fs::create_dir_all(&other).unwrap();
    std::fs::write(other.join("notes.txt"), "mine").unwrap();
    let r = tests::dyadsim(&["merge", &shards[0], "--out", other.to_str().unwrap()]);
    assert_eq!(r.code, 2, "{r:?}");
    assert_eq!(
        std::fs::read_to_string(other.join("notes.txt")).unwrap(),
        "mine"
    );
}

#[test]
fn a_folder_refused_as_input_is_not_blamed_on_out_and_is_never_created() {
    // Issue 27, F19: "choose another --out" only where the folder is the one written into.
    let dir = scratch("foreign-roles");
    let (exp, out) = small_run(&dir);
    let afile = write(&dir.join("afile"), "x");
    let merged = dir.join("m");
    let absent = dir.join("absent");
    let refused = |args: &[&str], says: &[&str]| {
        let r = dyadsim(args);
        assert_eq!(r.code, 2, "{args:?}: {r:?}");
        for part in says {
            assert!(r.stderr.contains(part), "{args:?}: {}", r.stderr);
        }
        r.stderr
    };
    // A merge's input shard: a file, or a folder that does not exist.
    for (input, what) in [
        (afile.as_str(), "is not a folder"),
        (s(&absent), "does not exist"),
    ] {
        let message = refused(
            &["merge", s(&out), input, "--out", s(&merged)],
            &[
                &format!("{input} {what}"),
                "a merge combines results folders",
            ],
        );
        assert!(!message.contains("--out"), "{message}");
        assert!(!merged.exists() && !absent.exists());
    }
    // The merge's target is chosen by --out.
    refused(
        &["merge", s(&out), "--out", &afile],
        &["afile is not a folder", "choose another --out"],
    );
    refused(
        &["run", &exp, "--out", &afile],
        &["afile is not a folder", "choose another --out"],
    );
    // plot has no --out: a folder it cannot read as results is refused as that.
    let message = refused(
        &["plot", s(&absent)],
        &[
            "absent does not exist",
            "figures are drawn only from a results folder",
        ],
    );
    assert!(!message.contains("--out"), "{message}");
    assert!(
        !absent.exists(),
        "plot created the folder it was asked to read"
    );
    let text = read(&out.join("experiment.ron"));
    std::fs::write(out.join("experiment.ron"), &text[..100]).unwrap();
    let message = refused(
        &["plot", s(&out)],
        &[
            "holds an experiment.ron this dyadsim cannot read",
            "figures are drawn only from a results folder",
        ],
    );
    assert!(!message.contains("--out"), "{message}");
}

#[test]
fn merge_of_folders_without_a_finished_run_succeeds_and_lists_every_run_missing() {
    // Issue 27, F20: such a merge wrote the tables and then exited 2, "no finished runs to plot".
    let dir = scratch("merge-empty");
    let (exp, out) = small_run(&dir);
    for seed in 0..2 {
        for point in 0..2 {
            std::fs::remove_file(record(&out, point, seed)).unwrap();
        }
    }
    let merged = dir.join("m");
    let r = dyadsim(&["merge", s(&out), "--out", s(&merged)]);
    assert_eq!(r.code, 0, "{r:?}");
    assert!(r.stdout.contains("merged 0 runs into"), "{}", r.stdout);
    assert!(
        r.stdout.contains(
            "4 run(s) of the grid missing (point 0 seed 0, point 0 seed 1, point 1 seed 0, point 1 seed 1)"
        ),
        "{}",
        r.stdout
    );
    assert!(r.stdout.contains("no figures"), "{}", r.stdout);
    let summary: serde_json::Value =
        serde_json::from_str(&read(&merged.join("summary.json"))).unwrap();
    assert_eq!(summary["complete"], false);
    assert_eq!(summary["points"], serde_json::json!([]));
    assert_eq!(read(&merged.join("metrics.csv")).lines().count(), 1);
    // The merged folder is a results folder: the shards merged into it later complete it.
    let r = dyadsim(&["run", &exp, "--out", s(&out)]);
    assert_eq!(r.code, 0, "{r:?}");
    let r = dyadsim(&["merge", s(&out), "--out", s(&merged)]);
    assert_eq!(r.code, 0, "{r:?}");
    assert!(!r.stdout.contains("missing"), "{}", r.stdout);
}

//! A tolerance search's results folder is a results folder: one search holds it (locked while it
//! runs, another search refused), `plot`, `merge` and `run DIR/experiment.ron` work on it, and the
//! values of an f32 axis are written as the file writes them (docs/RELIABILITY.md).

use serde_json::Value;
use std::path::{Path, PathBuf};
use tests::{dyadsim, scratch};

/// A network that trains in milliseconds (as in `tolerance.rs`), with β = 0.7, which an f32 holds
/// as 0.699999988079071.
const TINY: &str = r#"Experiment(
    name: "tiny",
    network: (layers: [64, 16, 10], activation: Relu, loss: Mse),
    algorithm: (kind: Dp, alpha: 0.5, beta: 0.7, passes: 8),
    training: (epochs: 3, batch_size: 32, learning_rate: 0.05, momentum: 0.9),
    seed: 7,
    seeds: [0, 1],
)"#;

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path
}

fn search(exp: &Path, out: &Path, to: &str) -> tests::Output {
    dyadsim(&[
        "tolerance",
        s(exp),
        "--axis",
        "algorithm.alpha",
        "--to",
        to,
        "--resolution",
        "0.1",
        "--max-drop",
        "0.05",
        "--threads",
        "2",
        "--out",
        s(out),
    ])
}

/// Every file of `runs/` with its bytes, sorted by name.
fn records(out: &Path) -> Vec<(String, Vec<u8>)> {
    let mut files: Vec<(String, Vec<u8>)> = std::fs::read_dir(out.join("runs"))
        .unwrap()
        .map(|e| {
            let p = e.unwrap().path();
            (
                p.file_name().unwrap().to_string_lossy().into_owned(),
                std::fs::read(&p).unwrap(),
            )
        })
        .collect();
    files.sort();
    files
}

fn json(path: &Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

#[test]
fn a_tolerance_search_holds_the_folder_lock_and_a_second_search_run_or_plot_is_refused() {
    let dir = scratch("tolerance-locked");
    let exp = write(&dir, "tiny.ron", TINY);
    let section = write(
        &dir,
        "section.ron",
        &TINY.replace(
            "seeds: [0, 1],",
            "seeds: [0, 1],\n    tolerance: (axis: \"algorithm.alpha\", to: 1.0, resolution: 0.25),",
        ),
    );
    let out = dir.join("out");
    let lock = lab::lock::lock(&out, "dyadsim tolerance held-by-test.ron").unwrap();
    for argv in [
        vec![
            "tolerance",
            s(&exp),
            "--axis",
            "algorithm.alpha",
            "--to",
            "1",
            "--out",
            s(&out),
        ],
        vec!["run", s(&section), "--out", s(&out)],
        vec!["plot", s(&out)],
    ] {
        let r = dyadsim(&argv);
        assert_eq!(r.code, 2, "{argv:?}: {r:?}");
        let holder = format!("process {} on ", std::process::id());
        // A plot of a folder the search has not yet written its experiment.ron into is refused
        // earlier, as not (yet) a results folder.
        assert!(
            (r.stderr.contains(&holder) && r.stderr.contains("held-by-test.ron"))
                || (argv[0] == "plot" && r.stderr.contains("not a results folder")),
            "{argv:?}: {}",
            r.stderr
        );
        assert!(!r.stdout.contains("round"), "trained: {}", r.stdout);
    }
    assert!(!out.join("runs").exists(), "a refused search wrote runs/");
    drop(lock);
    let r = dyadsim(&["run", s(&section), "--out", s(&out), "--threads", "2"]);
    assert_eq!(r.code, 0, "released when dropped: {r:?}");
    // The search's own process held the lock, and names itself in it.
    let holder = std::fs::read_to_string(out.join(lab::lock::LOCK)).unwrap();
    assert!(holder.contains("dyadsim run "), "{holder}");
}

#[test]
fn another_tolerance_search_into_a_folder_is_refused_naming_the_field_and_leaves_its_records() {
    let dir = scratch("tolerance-another");
    let exp = write(&dir, "tiny.ron", TINY);
    let out = dir.join("out");
    let first = search(&exp, &out, "1");
    assert_eq!(first.code, 0, "{first:?}");
    let before = records(&out);
    let answer = std::fs::read(out.join("tolerance.json")).unwrap();
    // The same axis and reference, the other way: its probes would take the first one's names.
    let other = search(&exp, &out, "0");
    assert_eq!(other.code, 2, "{other:?}");
    assert!(
        other
            .stderr
            .contains("tolerance.to: 1 in the folder, 0 in the file")
            && other.stderr.contains("--fresh"),
        "{}",
        other.stderr
    );
    assert!(!other.stdout.contains("round"), "{}", other.stdout);
    assert_eq!(records(&out), before, "the first search's records changed");
    assert_eq!(std::fs::read(out.join("tolerance.json")).unwrap(), answer);
    // The same search again trains nothing and finds the same answer.
    let again = search(&exp, &out, "1");
    assert_eq!(again.code, 0, "{again:?}");
    assert!(
        again
            .stdout
            .lines()
            .filter(|l| l.starts_with("round"))
            .all(|l| l.contains(": 0 runs to train")),
        "{}",
        again.stdout
    );
    assert_eq!(std::fs::read(out.join("tolerance.json")).unwrap(), answer);
}

#[test]
fn a_tolerance_folder_plots_merges_and_reruns_from_its_own_experiment() {
    let dir = scratch("tolerance-folder");
    let exp = write(&dir, "tiny.ron", TINY);
    let out = dir.join("out");
    let r = search(&exp, &out, "1");
    assert_eq!(r.code, 0, "{r:?}");
    let answer = json(&out.join("tolerance.json"));
    assert_eq!(answer["probes_per_round"], 2);
    let stored = lab::load::experiment(&out.join("experiment.ron")).unwrap();
    let section = stored
        .tolerance
        .as_ref()
        .expect("experiment.ron keeps the search");
    assert_eq!(
        (section.from, section.to, section.resolution),
        (Some(0.5), Some(1.0), Some(0.1))
    );

    std::fs::remove_file(out.join("tolerance.png")).unwrap();
    let plot = dyadsim(&["plot", s(&out)]);
    assert_eq!(plot.code, 0, "{plot:?}");
    assert!(out.join("tolerance.png").exists() && out.join("tolerance.svg").exists());

    let merged = dir.join("merged");
    let merge = dyadsim(&["merge", s(&out), "--out", s(&merged)]);
    assert_eq!(merge.code, 0, "{merge:?}");
    assert_eq!(json(&merged.join("tolerance.json")), answer);
    assert_eq!(records(&merged), records(&out));
    assert_eq!(json(&merged.join("summary.json"))["complete"], true);

    // Another thread count finds the search in the folder without training anything.
    let rerun = dyadsim(&[
        "run",
        s(&out.join("experiment.ron")),
        "--out",
        s(&out),
        "--threads",
        "2",
    ]);
    assert_eq!(rerun.code, 0, "{rerun:?}");
    let rounds: Vec<&str> = rerun
        .stdout
        .lines()
        .filter(|l| l.starts_with("round"))
        .collect();
    assert!(
        !rounds.is_empty() && rounds.iter().all(|l| l.contains(": 0 runs to train")),
        "{}",
        rerun.stdout
    );
    assert_eq!(json(&out.join("tolerance.json")), answer);
    // A search that never fails probes the far end and, with 2 per round, one more value; one
    // probe per round would have stopped at the far end. The merge replays the sources' search.
    let open = dir.join("open");
    let mut argv = vec![
        "tolerance",
        s(&exp),
        "--axis",
        "algorithm.alpha",
        "--to",
        "1",
        "--max-drop",
        "1",
        "--threads",
        "2",
        "--out",
        s(&open),
    ];
    assert_eq!(dyadsim(&argv).code, 0);
    let open_merged = dir.join("open-merged");
    let merge = dyadsim(&["merge", s(&open), "--out", s(&open_merged)]);
    assert_eq!(merge.code, 0, "{merge:?}");
    let answer_open = json(&open.join("tolerance.json"));
    assert_eq!(
        answer_open["results"][0]["outcome"], "never_fails",
        "{answer_open}"
    );
    assert_eq!(json(&open_merged.join("tolerance.json")), answer_open);
    argv.clear();
    for (argv, what) in [
        (vec!["plot", s(&out)], "plot"),
        (vec!["plot", s(&merged)], "plot of the merge"),
    ] {
        let r = dyadsim(&argv);
        assert_eq!(r.code, 0, "{what}: {r:?}");
        assert!(
            !r.stderr.contains("does not belong"),
            "{what}: {}",
            r.stderr
        );
    }
}

#[test]
fn a_tolerance_folder_of_an_earlier_version_is_updated_and_its_records_reused() {
    let dir = scratch("tolerance-earlier");
    let exp = write(&dir, "tiny.ron", TINY);
    let out = dir.join("out");
    assert_eq!(search(&exp, &out, "1").code, 0);
    let answer = json(&out.join("tolerance.json"));
    // Earlier versions stored the reference as the axis' only sweep value, no tolerance section.
    let path = out.join("experiment.ron");
    let mut earlier = lab::load::experiment(&path).unwrap();
    earlier.tolerance = None;
    earlier.sweep.0.push(lab::sweep::Axis {
        path: "algorithm.alpha".into(),
        values: vec![Value::from(0.5)],
    });
    std::fs::write(&path, lab::runner::resolved_ron(&earlier).unwrap()).unwrap();
    let before = records(&out);

    let plot = dyadsim(&["plot", s(&out)]);
    assert_eq!(plot.code, 2, "{plot:?}");
    assert!(
        plot.stderr
            .contains("tolerance search of an earlier dyadsim")
            && plot.stderr.contains("run the search's command again"),
        "{}",
        plot.stderr
    );
    let again = search(&exp, &out, "1");
    assert_eq!(again.code, 0, "{again:?}");
    assert!(
        again
            .stdout
            .lines()
            .filter(|l| l.starts_with("round"))
            .all(|l| l.contains(": 0 runs to train")),
        "{}",
        again.stdout
    );
    assert_eq!(records(&out), before);
    assert_eq!(json(&out.join("tolerance.json")), answer);
    assert!(lab::load::experiment(&path).unwrap().tolerance.is_some());
    assert_eq!(dyadsim(&["plot", s(&out)]).code, 0);
}

#[test]
fn f32_tolerance_values_are_written_in_their_shortest_form() {
    let dir = scratch("tolerance-f32");
    let exp = write(&dir, "tiny.ron", TINY);
    let out = dir.join("out");
    let r = dyadsim(&[
        "tolerance",
        s(&exp),
        "--axis",
        "algorithm.beta",
        "--to",
        "2",
        "--resolution",
        "0.3",
        "--threads",
        "2",
        "--out",
        s(&out),
    ]);
    assert_eq!(r.code, 0, "{r:?}");
    assert!(
        r.stdout
            .contains("tolerance of algorithm.beta from 0.7 towards [2.0]"),
        "{}",
        r.stdout
    );
    let mut texts = vec![r.stdout.clone()];
    for file in [
        "tolerance.json",
        "tolerance.csv",
        "experiment.ron",
        "summary.json",
        "metrics.csv",
    ] {
        texts.push(std::fs::read_to_string(out.join(file)).unwrap());
    }
    for (name, bytes) in records(&out) {
        texts.push(format!("{name}: {}", String::from_utf8(bytes).unwrap()));
    }
    for text in &texts {
        assert!(!text.contains("0.69999998"), "a widened f32: {text}");
    }
    // Every probe value is the shortest decimal of its f32, as the file would write it.
    let answer = json(&out.join("tolerance.json"));
    let probes = answer["probes"].as_array().unwrap();
    assert!(probes.len() > 2, "{answer}");
    for p in probes {
        let v = p["value"].as_f64().unwrap();
        assert_eq!((v as f32).to_string().parse::<f64>().unwrap(), v, "{p}");
    }
    assert_eq!(answer["reference"]["value"], 0.7);
    assert_eq!(
        json(&out.join("summary.json"))["points"][0]["params"]["algorithm.beta"],
        0.7
    );
}

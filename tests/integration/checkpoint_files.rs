//! What stands where a checkpoint belongs is checked before it is trusted: a FIFO, a device, a
//! folder or a changed byte is refused naming the file (exit 2, never a hang or a bare system
//! error), every checkpoint of a grid is checked before any run trains, `--checkpoint-minutes
//! never` still continues from one, and neither `runs/` nor `--fresh` is followed out of the
//! results folder.

use lab::checkpoint::{Checkpoints, file_name};
use lab::job::{EpochMetrics, Observer, train_with};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;
use tests::{dyadsim, scratch};

/// Stops a run at the first mini-batch after epoch `after` was measured.
struct StopAfter(usize, AtomicUsize);

impl Observer for StopAfter {
    fn epoch(&self, m: &EpochMetrics) {
        self.1.store(m.epoch, Ordering::SeqCst);
    }
    fn should_stop(&self) -> bool {
        self.1.load(Ordering::SeqCst) >= self.0
    }
}

/// A two-seed digits experiment of 4 epochs (a fraction of a second a run).
const EXPERIMENT: &str = r#"Experiment(name: "cf", network: (layers: [64, 16, 10]),
  algorithm: (kind: DpTop, alpha: 0.5, beta: 0.1, passes: 2),
  training: (epochs: 4, batch_size: 64, learning_rate: 0.05, momentum: 0.9), seed: 1, seeds: [0, 1])"#;

/// `dir/cf.ron` and `dir/out` prepared as a run stopped after epoch 1 of point 0 seed 0 leaves
/// it: experiment.ron and that run's checkpoint. Returns (experiment file, out, checkpoint).
fn stopped_run(dir: &Path) -> (PathBuf, PathBuf, PathBuf) {
    let file = dir.join("cf.ron");
    std::fs::write(&file, EXPERIMENT).unwrap();
    let out = dir.join("out");
    // A fresh folder of the experiment, emptied of its records.
    let r = dyadsim(&[
        "run",
        file.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
        "-q",
    ]);
    assert_eq!(r.code, 0, "{r:?}");
    for entry in std::fs::read_dir(out.join("runs")).unwrap() {
        std::fs::remove_file(entry.unwrap().path()).unwrap();
    }
    let loaded = lab::load::experiment(&file).unwrap();
    let p = lab::runner::grid(&loaded).unwrap().swap_remove(0);
    let data = lab::dataset::load(&p.experiment.dataset, dir).unwrap();
    let c = Checkpoints {
        path: out.join("runs").join(file_name(0, 0)),
        key: format!(
            "{}\nreplicate seed 0",
            lab::runner::canonical(&p.experiment).unwrap()
        ),
        every: Some(Duration::ZERO),
    };
    let stop = StopAfter(1, AtomicUsize::new(0));
    assert!(train_with(&p.experiment, &data, 0, &stop, Some(&c)).is_err());
    assert!(c.path.is_file());
    (file, out, c.path)
}

fn run(file: &Path, out: &Path, extra: &[&str]) -> tests::Output {
    let mut args = vec![
        "run",
        file.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ];
    args.extend_from_slice(extra);
    dyadsim(&args)
}

fn records(out: &Path) -> usize {
    std::fs::read_dir(out.join("runs"))
        .unwrap()
        .filter(|e| {
            e.as_ref()
                .unwrap()
                .file_name()
                .to_string_lossy()
                .ends_with(".json")
        })
        .count()
}

#[test]
fn a_checkpoint_that_is_a_fifo_a_device_or_a_folder_is_refused_at_once_naming_it() {
    let dir = scratch("checkpoint-not-a-file");
    let (file, out, checkpoint) = stopped_run(&dir);
    std::fs::remove_file(&checkpoint).unwrap();
    let refused = |what: &str| {
        let r = run(&file, &out, &["-q"]);
        assert_eq!(r.code, 2, "{what}: {r:?}");
        assert!(
            r.stderr.contains(&checkpoint.display().to_string())
                && r.stderr.contains(what)
                && r.stderr.contains("delete this checkpoint"),
            "{what}: {r:?}"
        );
        assert_eq!(records(&out), 0, "{what}: a run trained before the refusal");
    };
    std::os::unix::fs::symlink("/dev/zero", &checkpoint).unwrap();
    refused("is a device");
    std::fs::remove_file(&checkpoint).unwrap();
    std::fs::create_dir(&checkpoint).unwrap();
    refused("is a folder");
    std::fs::remove_dir(&checkpoint).unwrap();
    std::os::unix::fs::symlink(dir.join("nothing"), &checkpoint).unwrap();
    refused("symbolic link to nothing");
    std::fs::remove_file(&checkpoint).unwrap();
    let fifo = std::process::Command::new("mkfifo")
        .arg(&checkpoint)
        .status();
    if fifo.is_ok_and(|s| s.success()) {
        refused("FIFO");
    }
}

#[test]
fn a_checkpoint_with_any_byte_changed_is_refused_by_its_checksum() {
    let dir = scratch("checkpoint-checksum");
    let (file, out, checkpoint) = stopped_run(&dir);
    let bytes = std::fs::read(&checkpoint).unwrap();
    // The run key's length, inside the key, inside the stored metrics, among the device values
    // and the last byte of the payload.
    let len = bytes.len();
    for at in [39, 60, len / 3, len / 2, len - 9] {
        let mut changed = bytes.clone();
        changed[at] ^= 0x01;
        std::fs::write(&checkpoint, &changed).unwrap();
        let r = run(&file, &out, &["-q"]);
        assert_eq!(r.code, 2, "byte {at}: {r:?}");
        assert!(
            r.stderr.contains("checksum does not match"),
            "byte {at}: {r:?}"
        );
        assert_eq!(
            records(&out),
            0,
            "byte {at}: a run trained before the refusal"
        );
    }
    std::fs::write(&checkpoint, &bytes).unwrap();
    let r = run(&file, &out, &["-q"]);
    assert_eq!(r.code, 0, "the intact checkpoint: {r:?}");
}

#[test]
fn a_broken_checkpoint_is_reported_before_any_run_of_the_grid_trains() {
    let dir = scratch("checkpoint-first");
    let (file, out, checkpoint) = stopped_run(&dir);
    std::fs::write(&checkpoint, b"").unwrap();
    let r = run(&file, &out, &["--threads", "1"]);
    assert_eq!(r.code, 2, "{r:?}");
    assert!(
        !r.stdout.contains("seed 1 epoch"),
        "seed 1 trained first: {r:?}"
    );
    assert_eq!(records(&out), 0);
}

#[test]
fn checkpoint_minutes_never_continues_from_a_checkpoint_and_removes_it() {
    let dir = scratch("checkpoint-never");
    let (file, out, checkpoint) = stopped_run(&dir);
    let r = run(
        &file,
        &out,
        &["--checkpoint-minutes", "never", "--threads", "1"],
    );
    assert_eq!(r.code, 0, "{r:?}");
    assert!(
        r.stdout
            .contains("continues from its checkpoint after epoch 1"),
        "{r:?}"
    );
    assert!(!checkpoint.exists(), "the finished run's checkpoint stays");
    // The continued run is the uninterrupted one.
    let straight = dir.join("straight");
    assert_eq!(run(&file, &straight, &["-q"]).code, 0);
    let record = |d: &Path| std::fs::read_to_string(d.join("runs/point00000-seed0.json")).unwrap();
    assert_eq!(
        tests::without_timings(&record(&out)),
        tests::without_timings(&record(&straight))
    );
}

#[test]
fn fresh_does_not_follow_a_runs_link_out_of_the_folder() {
    let dir = scratch("fresh-link");
    let file = dir.join("cf.ron");
    std::fs::write(&file, EXPERIMENT).unwrap();
    let out = dir.join("out");
    assert_eq!(run(&file, &out, &["-q"]).code, 0);
    let elsewhere = dir.join("elsewhere");
    std::fs::create_dir(&elsewhere).unwrap();
    std::fs::write(elsewhere.join("point00000-seed7.json"), "{}").unwrap();
    std::fs::remove_dir_all(out.join("runs")).unwrap();
    std::os::unix::fs::symlink(&elsewhere, out.join("runs")).unwrap();
    let r = run(&file, &out, &["-q", "--fresh"]);
    assert_eq!(r.code, 2, "{r:?}");
    assert!(r.stderr.contains("symbolic link"), "{r:?}");
    assert!(elsewhere.join("point00000-seed7.json").is_file());
}

#[test]
fn a_runs_that_is_not_a_folder_is_bad_input_naming_it() {
    let dir = scratch("runs-not-a-folder");
    let file = dir.join("cf.ron");
    std::fs::write(&file, EXPERIMENT).unwrap();
    let out = dir.join("out");
    assert_eq!(run(&file, &out, &["-q"]).code, 0);
    let runs = out.join("runs");
    std::fs::remove_dir_all(&runs).unwrap();
    let cases: [(&str, &dyn Fn()); 3] = [
        ("is a file", &|| std::fs::write(&runs, "x").unwrap()),
        ("is a device", &|| {
            std::os::unix::fs::symlink("/dev/null", &runs).unwrap()
        }),
        ("symbolic link to nothing", &|| {
            std::os::unix::fs::symlink(out.join("nowhere"), &runs).unwrap()
        }),
    ];
    for (what, make) in cases {
        make();
        let r = run(&file, &out, &["-q"]);
        assert_eq!(r.code, 2, "{what}: {r:?}");
        assert!(
            r.stderr.contains(&runs.display().to_string()) && r.stderr.contains(what),
            "{what}: {r:?}"
        );
        std::fs::remove_file(&runs).unwrap();
    }
}

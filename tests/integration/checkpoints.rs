//! Checkpoints between epochs: a run stopped after any epoch and continued from its checkpoint ends
//! bit for bit where the uninterrupted run ends, on every kind of hardware and network; broken or
//! foreign checkpoints are refused with the file named; the runner removes a run's checkpoint once
//! its record is written, and `--fresh` removes them too.

use lab::checkpoint::{Checkpoints, file_name};
use lab::job::{EpochMetrics, Observer, RunOutcome, Silent, train, train_with};
use lab::spec::Experiment;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;
use tests::{dyadsim, root, scratch};

/// Stops the run at the first mini-batch after epoch `after` was measured, or after `batches`
/// mini-batches.
struct StopAfter {
    after: usize,
    batches: usize,
    measured: AtomicUsize,
    done: AtomicUsize,
}

impl StopAfter {
    fn epoch(after: usize) -> Self {
        Self {
            after,
            batches: usize::MAX,
            measured: AtomicUsize::new(0),
            done: AtomicUsize::new(0),
        }
    }

    fn batches(batches: usize) -> Self {
        Self {
            batches,
            ..Self::epoch(usize::MAX)
        }
    }
}

impl Observer for StopAfter {
    fn batch(&self, done: usize, _total: usize) {
        self.done.store(done, Ordering::SeqCst);
    }
    fn epoch(&self, m: &EpochMetrics) {
        self.measured.store(m.epoch, Ordering::SeqCst);
    }
    fn should_stop(&self) -> bool {
        self.measured.load(Ordering::SeqCst) >= self.after
            || self.done.load(Ordering::SeqCst) >= self.batches
    }
}

/// Where a test stops a run: after an epoch (checkpoints after every epoch) or in the middle of
/// one (a checkpoint at every mini-batch).
#[derive(Clone, Copy, Debug)]
enum Stop {
    AfterEpoch(usize),
    AfterBatches(usize),
}

/// Point `point` of a shipped experiment (or of `text`), shortened to `epochs` epochs.
fn point(text: Option<&str>, file: &str, point: usize, epochs: usize) -> Experiment {
    let path = root().join("experiments").join(file);
    let text = match text {
        Some(t) => t.to_owned(),
        None => std::fs::read_to_string(&path).unwrap(),
    };
    let exp = lab::load::experiment_from_str(&text, &path).unwrap();
    let mut exp = lab::runner::grid(&exp)
        .unwrap()
        .swap_remove(point)
        .experiment;
    exp.training.epochs = epochs;
    exp
}

fn shown(o: &RunOutcome) -> String {
    // Debug prints every float in its shortest exact form, so equal text is equal bits (and a NaN
    // equals a NaN, as a diverged run's losses should).
    format!("{o:?}")
}

/// Train `exp` straight through, then stopped at each of `stops` and continued.
fn continues_bit_for_bit(name: &str, exp: &Experiment, stops: &[Stop]) {
    let dir = scratch(&format!("checkpoint-{name}"));
    let data = lab::dataset::load(&exp.dataset, &root().join("experiments")).unwrap();
    let straight = shown(&train(exp, &data, 0, &Silent).unwrap());
    for (i, &at) in stops.iter().enumerate() {
        let (stop, every) = match at {
            Stop::AfterEpoch(e) => (StopAfter::epoch(e), Duration::ZERO),
            Stop::AfterBatches(b) => (StopAfter::batches(b), Duration::from_nanos(1)),
        };
        let c = Checkpoints {
            path: dir.join(file_name(0, i as u64)),
            key: format!("{name} run"),
            every: Some(every),
        };
        let err = train_with(exp, &data, 0, &stop, Some(&c)).unwrap_err();
        assert!(matches!(err, lab::LabError::Interrupted), "{name}: {err}");
        assert!(c.path.is_file(), "{name}: no checkpoint at {at:?}");
        let resumed = StopAfter::epoch(usize::MAX);
        let continued = train_with(exp, &data, 0, &resumed, Some(&c)).unwrap();
        assert_eq!(
            resumed.measured.load(Ordering::SeqCst),
            exp.training.epochs,
            "{name}: the continued run measures the epochs from where it stopped"
        );
        assert!(
            shown(&continued) == straight,
            "{name}: the run continued from {at:?} differs from the run never stopped"
        );
    }
}

#[test]
fn pulsed_devices_with_write_noise_and_variation_continue_bit_for_bit() {
    // write_noise_std 30, dw_min_dtod 0.5: every stream of a pulsed array is drawn from.
    let exp = point(None, "device-noise-convergence.ron", 4, 3);
    continues_bit_for_bit(
        "pulsed",
        &exp,
        &[
            Stop::AfterEpoch(1),
            Stop::AfterEpoch(2),
            Stop::AfterBatches(50),
        ],
    );
}

#[test]
fn neuron_mismatch_continues_bit_for_bit() {
    let text = std::fs::read_to_string(root().join("experiments/periphery-mismatch.ron"))
        .unwrap()
        .replace(
            "periphery: (alpha_std: 0.05)",
            "periphery: (alpha_std: 0.05, compartment_noise: 0.01)",
        );
    assert!(text.contains("compartment_noise"));
    let exp = point(Some(&text), "periphery-mismatch.ron", 7, 3);
    continues_bit_for_bit("mismatch", &exp, &[Stop::AfterBatches(20)]);
}

#[test]
fn drift_after_training_continues_bit_for_bit() {
    let exp = point(None, "drift-retention.ron", 0, 2);
    assert!(exp.retention.is_some());
    continues_bit_for_bit("drift", &exp, &[Stop::AfterEpoch(1)]);
}

#[test]
fn convolutions_on_noisy_arrays_with_adam_a_schedule_and_validation_continue_bit_for_bit() {
    let text = r#"Experiment(
    name: "conv-checkpoint",
    dataset: Digits,
    network: (
        input: (8, 8, 1),
        blocks: [Conv(channels: 4, kernel: 3, pool: true), Dense(16), Dense(10)],
        init: LecunNormal,
    ),
    algorithm: (kind: DpTop, alpha: 0.0, beta: 0.1, passes: 3),
    training: (
        epochs: 3, batch_size: 64, optimizer: Adam, learning_rate: 0.003, validation: 0.1,
        lr_schedule: WarmupCosine(warmup_epochs: 1, peak: 0.003, floor: 1e-5, decay_epochs: 3),
    ),
    seed: 2,
    hardware: Hardware(
        device: LinearStep((dw_min: 0.002, w_max: 1.17, w_min: -0.83, gamma_up: 0.12, gamma_down: 0.5, dw_min_std: 0.3)),
        update: StochasticRounding(()),
        io: (),
    ),
    sweep: {"algorithm.kind": ["DpTop", "Backprop"]},
)"#;
    for p in [0, 1] {
        let exp = point(Some(text), "conv-checkpoint.ron", p, 3);
        continues_bit_for_bit(
            &format!("conv{p}"),
            &exp,
            &[Stop::AfterEpoch(2), Stop::AfterBatches(25)],
        );
    }
}

#[test]
fn circuit_mode_continues_bit_for_bit() {
    let text = r#"Experiment(
    name: "circuit-checkpoint",
    dataset: Digits,
    network: (layers: [64, 20, 10]),
    algorithm: (kind: DpTop, alpha: 0.5, beta: 0.1, circuit: Some((tau: 1e-6, dt: 2e-7, tol: 1e-3, t_max: 2e-5))),
    training: (epochs: 2, batch_size: 128, learning_rate: 0.05, momentum: 0.9),
    seed: 6,
    hardware: Hardware(periphery: (compartment_noise: 0.01)),
)"#;
    let exp = point(Some(text), "circuit-checkpoint.ron", 0, 2);
    continues_bit_for_bit(
        "circuit",
        &exp,
        &[Stop::AfterEpoch(1), Stop::AfterBatches(13)],
    );
}

/// A checkpoint written for one run.
fn written_checkpoint(dir: &Path) -> (Experiment, lab::dataset::Dataset, Checkpoints) {
    let exp = point(None, "quickstart.ron", 0, 3);
    let data = lab::dataset::load(&exp.dataset, &root().join("experiments")).unwrap();
    let c = Checkpoints {
        path: dir.join(file_name(0, 0)),
        key: "quickstart".into(),
        every: Some(Duration::ZERO),
    };
    let stop = StopAfter::epoch(1);
    assert!(train_with(&exp, &data, 0, &stop, Some(&c)).is_err());
    (exp, data, c)
}

#[test]
fn broken_and_foreign_checkpoints_are_refused_naming_the_file() {
    let dir = scratch("checkpoint-refused");
    let (exp, data, c) = written_checkpoint(&dir);
    let bytes = std::fs::read(&c.path).unwrap();
    let refused = |c: &Checkpoints| {
        let err = train_with(&exp, &data, 0, &Silent, Some(c)).unwrap_err();
        let text = err.to_string();
        assert!(matches!(err, lab::LabError::Data { .. }), "{text}");
        assert!(text.contains(&c.path.display().to_string()), "{text}");
        assert!(text.contains("delete this checkpoint"), "{text}");
        text
    };
    let other = Checkpoints {
        key: "another run".into(),
        ..c.clone()
    };
    assert!(refused(&other).contains("another configuration"));
    std::fs::write(&c.path, &bytes[..bytes.len() / 2]).unwrap();
    assert!(refused(&c).contains("checksum does not match"));
    std::fs::write(&c.path, b"{\"not\": \"a checkpoint\"}").unwrap();
    assert!(refused(&c).contains("not a dyadsim checkpoint"));
    // A checkpoint of a differently shaped network of the same key.
    std::fs::write(&c.path, &bytes).unwrap();
    let mut wider = exp.clone();
    wider.network.layers[1] += 1;
    let err = train_with(&wider, &data, 0, &Silent, Some(&c)).unwrap_err();
    assert!(err.to_string().contains("rows where"), "{err}");
}

#[test]
fn figure_settings_leave_a_checkpoint_valid_and_a_changed_setting_is_named() {
    let dir = scratch("checkpoint-changed");
    let exp = point(None, "quickstart.ron", 0, 3);
    let data = lab::dataset::load(&exp.dataset, &root().join("experiments")).unwrap();
    let key = |e: &Experiment| format!("{}\nreplicate seed 0", lab::runner::canonical(e).unwrap());
    let c = Checkpoints {
        path: dir.join(file_name(0, 0)),
        key: key(&exp),
        every: Some(Duration::ZERO),
    };
    assert!(train_with(&exp, &data, 0, &StopAfter::epoch(1), Some(&c)).is_err());
    // Figures added or restyled while the run was stopped: the run continues.
    let mut restyled = exp.clone();
    restyled.plots.push(lab::spec::PlotSpec::Convergence {
        axis: None,
        from_epoch: 1,
    });
    restyled.labels.insert("algorithm.alpha".into(), "α".into());
    restyled.figures.dpi = 300;
    assert_eq!(key(&restyled), c.key);
    let continued = train_with(&restyled, &data, 0, &Silent, Some(&c)).unwrap();
    let straight = train_with(&exp, &data, 0, &Silent, None).unwrap();
    assert_eq!(shown(&continued), shown(&straight));
    // A changed training setting is refused, naming the field.
    let _ = std::fs::remove_file(&c.path);
    assert!(train_with(&exp, &data, 0, &StopAfter::epoch(1), Some(&c)).is_err());
    let mut faster = exp.clone();
    faster.training.learning_rate *= 2.0;
    let changed = Checkpoints {
        key: key(&faster),
        ..c.clone()
    };
    let err = train_with(&faster, &data, 0, &Silent, Some(&changed)).unwrap_err();
    assert!(
        err.to_string().contains(
            "the experiment changed since: training.learning_rate: 0.05 in the checkpoint, 0.1 now)"
        ),
        "{err}"
    );
}

#[test]
fn a_checkpoint_written_before_a_defaulted_field_existed_continues() {
    let dir = scratch("checkpoint-upgraded");
    let mut exp = point(None, "quickstart.ron", 0, 3);
    exp.seed = 0;
    let data = lab::dataset::load(&exp.dataset, &root().join("experiments")).unwrap();
    let key = format!(
        "{}\nreplicate seed 0",
        lab::runner::canonical(&exp).unwrap()
    );
    // The key as a dyadsim without the `seed` field (whose default is 0) wrote it.
    let (json, rest) = key.split_once('\n').unwrap();
    let mut older: serde_json::Value = serde_json::from_str(json).unwrap();
    assert!(older.as_object_mut().unwrap().remove("seed").is_some());
    let older = format!("{older}\n{rest}");
    assert_ne!(older, key);
    let written = Checkpoints {
        path: dir.join(file_name(0, 0)),
        key: older,
        every: Some(Duration::ZERO),
    };
    assert!(train_with(&exp, &data, 0, &StopAfter::epoch(1), Some(&written)).is_err());
    let now = Checkpoints {
        key,
        ..written.clone()
    };
    let continued = train_with(&exp, &data, 0, &Silent, Some(&now)).unwrap();
    let straight = train_with(&exp, &data, 0, &Silent, None).unwrap();
    assert_eq!(shown(&continued), shown(&straight));
}

/// Run keys read back as experiments give the same keys, for every shipped experiment's points,
/// so a checkpoint's key can be brought up to date when fields were added since it was written.
#[test]
fn run_keys_read_back_as_the_experiments_they_were_made_from() {
    let mut checked = 0;
    for entry in std::fs::read_dir(root().join("experiments")).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_none_or(|e| e != "ron") {
            continue;
        }
        let exp = lab::load::experiment(&path).unwrap();
        for p in lab::runner::grid(&exp).unwrap() {
            let key = lab::runner::canonical(&p.experiment).unwrap();
            let back: Experiment =
                serde_json::from_str(&key).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            assert_eq!(
                lab::runner::canonical(&back).unwrap(),
                key,
                "{}",
                path.display()
            );
            checked += 1;
        }
    }
    assert!(checked > 50, "only {checked} points");
}

fn checkpoints_in(runs: &Path) -> Vec<PathBuf> {
    lab::checkpoint::files_in(runs)
        .unwrap()
        .into_iter()
        .map(|(_, p)| p)
        .collect()
}

#[test]
fn the_runner_continues_from_a_checkpoint_and_removes_it_with_the_record_written() {
    let dir = scratch("checkpoint-runner");
    let exp = root().join("experiments/quickstart.ron");
    let (exp_s, out_s) = (exp.to_str().unwrap(), dir.join("out"));
    let out = out_s.to_str().unwrap();
    let straight = dir.join("straight");
    let r = dyadsim(&["run", exp_s, "--out", straight.to_str().unwrap(), "-q"]);
    assert_eq!(r.code, 0, "{r:?}");
    // A checkpoint after epoch 1 in the runner's place, as a stopped run leaves it.
    let runs = out_s.join("runs");
    std::fs::create_dir_all(&runs).unwrap();
    std::fs::copy(
        straight.join("experiment.ron"),
        out_s.join("experiment.ron"),
    )
    .unwrap();
    let loaded = lab::load::experiment(&exp).unwrap();
    let p = lab::runner::grid(&loaded).unwrap().swap_remove(0);
    let data = lab::dataset::load(&p.experiment.dataset, &root().join("experiments")).unwrap();
    let c = Checkpoints {
        path: runs.join(file_name(0, 0)),
        key: format!(
            "{}\nreplicate seed 0",
            lab::runner::canonical(&p.experiment).unwrap()
        ),
        every: Some(Duration::ZERO),
    };
    let stop = StopAfter::epoch(1);
    assert!(train_with(&p.experiment, &data, 0, &stop, Some(&c)).is_err());
    let r = dyadsim(&["run", exp_s, "--out", out, "--checkpoint-minutes", "0"]);
    assert_eq!(r.code, 0, "{r:?}");
    assert!(
        r.stdout
            .contains("continues from its checkpoint after epoch 1"),
        "{r:?}"
    );
    assert!(
        !r.stdout.contains("epoch   1 "),
        "epoch 1 was measured again: {r:?}"
    );
    assert!(
        checkpoints_in(&runs).is_empty(),
        "the finished run's checkpoint stays"
    );
    let record = |d: &Path| std::fs::read_to_string(d.join("runs/point00000-seed0.json")).unwrap();
    assert_eq!(record(&out_s), record(&straight));
    // --fresh forgets checkpoints with the records.
    std::fs::write(runs.join(file_name(0, 0)), b"stale").unwrap();
    std::fs::write(runs.join("notes.checkpoint"), b"not ours").unwrap();
    let r = dyadsim(&["run", exp_s, "--out", out, "--fresh", "-q"]);
    assert_eq!(r.code, 0, "{r:?}");
    assert!(checkpoints_in(&runs).is_empty());
    assert!(
        runs.join("notes.checkpoint").is_file(),
        "a file dyadsim did not write was removed"
    );
    // A bad flag value is an input error naming the flag.
    for (bad, why) in [
        (
            "=-3",
            "must be a number of minutes ≥ 0 (at most 1000000) or `never`",
        ),
        ("=soon", "number of minutes"),
    ] {
        let flag = format!("--checkpoint-minutes{bad}");
        let r = dyadsim(&["run", exp_s, "--out", out, &flag]);
        assert_eq!(r.code, 2, "{r:?}");
        assert!(
            r.stderr.contains("--checkpoint-minutes") && r.stderr.contains(why),
            "{r:?}"
        );
    }
}

//! Training as the paper ran it, end to end on small generated CIFAR-10 files: augmentation,
//! validation split, best-validation epoch and learning-rate schedule.

use std::path::Path;
use tests::{dyadsim, scratch, write_cifar10};

/// The experiment: a linear layer on 3072 inputs, backprop, a two-point sweep; `training` is
/// spliced in.
fn experiment(training: &str) -> String {
    format!(
        r#"Experiment(
    name: "cifar-tiny",
    dataset: Cifar10((dir: "data")),
    network: (layers: [3072, 16, 10], activation: Relu, loss: CrossEntropy),
    algorithm: (kind: DpTop, alpha: 0.5, beta: 0.1, passes: 3),
    training: ({training}),
    sweep: {{"training.momentum": [0.0, 0.9]}},
    seed: 4,
)"#
    )
}

const PAPER_LIKE: &str = "epochs: 3, batch_size: 4, learning_rate: 0.02, validation: 0.2, \
    lr_schedule: WarmupCosine(warmup_epochs: 1, peak: 0.02, floor: 0.0001, decay_epochs: 3, init: 0.002)";

fn run(dir: &Path, name: &str, training: &str, threads: &str) -> std::path::PathBuf {
    let exp = dir.join(format!("{name}.ron"));
    std::fs::write(&exp, experiment(training)).unwrap();
    let out = dir.join(name);
    let o = dyadsim(&[
        "run",
        exp.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
        "--threads",
        threads,
    ]);
    assert_eq!(o.code, 0, "{o:?}");
    out
}

#[test]
fn cifar_training_with_augmentation_validation_and_schedule_is_thread_count_independent() {
    let dir = scratch("cifar-training");
    write_cifar10(&dir.join("data"));
    let one = run(&dir, "one", PAPER_LIKE, "1");
    let two = run(&dir, "two", PAPER_LIKE, "2");
    let csv = std::fs::read_to_string(one.join("metrics.csv")).unwrap();
    assert_eq!(
        csv,
        std::fs::read_to_string(two.join("metrics.csv")).unwrap()
    );
    let header = csv.lines().next().unwrap();
    assert!(header.contains(",val_acc,val_loss,"), "{header}");
    // 30 training images: 24 train (a batch of 4 gives 6 steps per epoch), 6 validate.
    let summary: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(one.join("summary.json")).unwrap()).unwrap();
    for p in summary["points"].as_array().unwrap() {
        let best = &p["best_validation"];
        let epoch = best["epoch"].as_u64().unwrap();
        assert!((1..=3).contains(&epoch), "{best}");
        let val = best["val_acc"].as_f64().unwrap();
        // Accuracies over 6 validation images are multiples of 1/6.
        assert!((val * 6.0 - (val * 6.0).round()).abs() < 1e-9, "{val}");
        assert!(best["test_acc"].as_f64().unwrap() <= 1.0);
    }
    for a in summary["aggregates"].as_array().unwrap() {
        assert_eq!(a["best_validation_test_acc"]["n"], 1, "{a}");
    }

    // Augmentation is on by default for CIFAR: turning it off changes training (and nothing else
    // of epoch 0).
    let plain = run(&dir, "plain", &format!("{PAPER_LIKE}, augment: false"), "1");
    let plain_csv = std::fs::read_to_string(plain.join("metrics.csv")).unwrap();
    let row = |csv: &str, n: usize| csv.lines().nth(n).unwrap().to_owned();
    assert_eq!(
        row(&csv, 1),
        row(&plain_csv, 1),
        "epoch 0 is before any augmentation"
    );
    assert_ne!(
        row(&csv, 2),
        row(&plain_csv, 2),
        "epoch 1 trained on other images"
    );
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn training_settings_that_cannot_act_are_exit_2_errors_naming_the_field() {
    let dir = scratch("cifar-settings");
    write_cifar10(&dir.join("data"));
    let check = |name: &str, text: String, expected: &[&str]| {
        let exp = dir.join(format!("{name}.ron"));
        std::fs::write(&exp, text).unwrap();
        let out = dir.join(format!("{name}-out"));
        let o = dyadsim(&["run", exp.to_str().unwrap(), "--out", out.to_str().unwrap()]);
        assert_eq!(o.code, 2, "{name}: {o:?}");
        for e in expected {
            assert!(o.stderr.contains(e), "{name}: {e:?} not in {}", o.stderr);
        }
    };
    check(
        "missing",
        experiment("epochs: 1, batch_size: 4, learning_rate: 0.02").replace("\"data\"", "\"none\""),
        &[
            "data_batch_1.bin: not found",
            "https://www.cs.toronto.edu/~kriz/cifar.html",
        ],
    );
    check(
        "fraction",
        experiment("epochs: 1, batch_size: 4, learning_rate: 0.02, validation: 1.5"),
        &["training.validation", "(0, 1)"],
    );
    check(
        "peak",
        experiment(
            "epochs: 2, batch_size: 4, learning_rate: 0.1, \
             lr_schedule: WarmupCosine(warmup_epochs: 0, peak: 0.02, floor: 0.0, decay_epochs: 2)",
        ),
        &["training.learning_rate", "peak"],
    );
    check(
        "synthetic",
        r#"Experiment(
    name: "s",
    dataset: Synthetic((inputs: 4, outputs: 2)),
    network: (layers: [4, 2]),
    algorithm: (kind: Backprop),
    training: (epochs: 1, batch_size: 4, learning_rate: 0.1, augment: true),
)"#
        .into(),
        &["training.augment", "no images"],
    );
    check(
        "too-few",
        experiment("epochs: 1, batch_size: 4, learning_rate: 0.02, validation: 0.001"),
        &["training.validation", "0 to validate"],
    );
    std::fs::remove_dir_all(dir).unwrap();
}

#[cfg(unix)]
#[test]
fn a_folder_or_device_where_a_cifar_file_belongs_exits_2_saying_what_is_there() {
    let dir = scratch("cifar-not-a-file");
    write_cifar10(&dir.join("data"));
    let exp = dir.join("c.ron");
    std::fs::write(
        &exp,
        experiment("epochs: 1, batch_size: 5, learning_rate: 0.01"),
    )
    .unwrap();
    let out = dir.join("out");
    let batch = dir.join("data/data_batch_1.bin");
    let refused = |what: &str| {
        let r = dyadsim(&["run", exp.to_str().unwrap(), "--out", out.to_str().unwrap()]);
        assert_eq!(r.code, 2, "{r:?}");
        assert!(
            r.stderr
                .contains(&format!("data_batch_1.bin: is {what}, not a regular file")),
            "{what}: {}",
            r.stderr
        );
        assert!(!r.stderr.contains("not found"), "{}", r.stderr);
    };
    std::fs::remove_file(&batch).unwrap();
    std::fs::create_dir(&batch).unwrap();
    refused("a folder");
    std::fs::remove_dir(&batch).unwrap();
    std::os::unix::fs::symlink("/dev/zero", &batch).unwrap();
    refused("a device");
}

#[test]
fn a_train_subset_larger_than_the_training_files_names_their_total_and_every_file() {
    let dir = scratch("cifar-subset-total");
    write_cifar10(&dir.join("data"));
    let text = experiment("epochs: 1, batch_size: 5, learning_rate: 0.01").replace(
        r#"(dir: "data")"#,
        r#"(dir: "data", train_subset: Some(31))"#,
    );
    let exp = dir.join("c.ron");
    std::fs::write(&exp, text).unwrap();
    let out = dir.join("out");
    let r = dyadsim(&["run", exp.to_str().unwrap(), "--out", out.to_str().unwrap()]);
    assert_eq!(r.code, 2, "{r:?}");
    assert!(
        r.stderr.contains("at most the 30 samples of the 5 files ")
            && r.stderr.contains("data_batch_1.bin, data_batch_2.bin")
            && r.stderr.contains("and data_batch_5.bin (got 31)"),
        "{}",
        r.stderr
    );
}

//! A network of blocks reads the data in their own image shape: `network.input` is checked against
//! the dataset's (height, width, channels), not only against its number of inputs, and data that
//! are no images take no `input` at all.

use std::path::Path;
use tests::{dyadsim, scratch, write_cifar10};

/// An experiment on `dataset` with `network` spliced in; `training` extra fields appended.
fn experiment(dataset: &str, network: &str, training: &str) -> String {
    format!(
        "Experiment(\n    name: \"shape\",\n    dataset: {dataset},\n    network: ({network}),\n    \
         algorithm: (kind: DpTop),\n    training: (epochs: 1, batch_size: 4, learning_rate: 0.05{training}),\n)\n"
    )
}

/// `dyadsim ARGS... FILE` on `text` written to `dir/exp.ron` (with a fresh `--out` for `run`).
fn command(dir: &Path, args: &[&str], text: &str) -> tests::Output {
    static RUNS: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let path = dir.join("exp.ron");
    std::fs::write(&path, text).unwrap();
    let n = RUNS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let out = dir.join(format!("out{n}"));
    let mut all: Vec<&str> = args.to_vec();
    all.push(path.to_str().unwrap());
    if args == ["run"] {
        all.extend(["--out", out.to_str().unwrap()]);
    }
    dyadsim(&all)
}

/// Refused with exit 2 before anything runs, naming `network.input` at line 4 with `needles`.
fn refused(out: &tests::Output, needles: &[&str]) {
    assert_eq!(out.code, 2, "{out:?}");
    assert!(out.stderr.contains("exp.ron:4:"), "{}", out.stderr);
    assert!(out.stderr.contains("network.input"), "{}", out.stderr);
    for needle in needles {
        assert!(out.stderr.contains(needle), "{needle}: {}", out.stderr);
    }
    assert!(!out.stdout.contains("epoch"), "trained: {}", out.stdout);
}

/// Minimal MNIST-style IDX files of `n` 4×4 images in `dir`.
fn write_idx(dir: &Path, n: u32) {
    std::fs::create_dir_all(dir).unwrap();
    let images = |n: u32| {
        let mut b = vec![0, 0, 8, 3];
        for d in [n, 4, 4] {
            b.extend(d.to_be_bytes());
        }
        b.extend((0..n * 16).map(|i| (i * 7 % 256) as u8));
        b
    };
    let labels = |n: u32| {
        let mut b = vec![0, 0, 8, 1];
        b.extend(n.to_be_bytes());
        b.extend((0..n).map(|i| (i % 10) as u8));
        b
    };
    for (name, bytes) in [
        ("train-images-idx3-ubyte", images(n)),
        ("train-labels-idx1-ubyte", labels(n)),
        ("t10k-images-idx3-ubyte", images(n)),
        ("t10k-labels-idx1-ubyte", labels(n)),
    ] {
        std::fs::write(dir.join(name), bytes).unwrap();
    }
}

#[test]
fn network_input_must_be_the_datasets_image_shape_not_only_its_size() {
    let dir = scratch("input-shape");
    let conv = "blocks: [Conv(channels: 2, kernel: 3, pool: true), Dense(10)]";
    let pointwise = "blocks: [Conv(channels: 2, kernel: 1), Dense(10)]";
    // The 64 pixels of the 8×8 digits read as 4×16 or 1×1×64, with and without augmentation
    // (which pads, crops and flips the images in their true shape).
    for (network, training) in [
        (format!("input: (4, 16, 1), {conv}"), ""),
        (format!("input: (4, 16, 1), {conv}"), ", augment: true"),
        (format!("input: (1, 1, 64), {pointwise}"), ""),
    ] {
        let out = command(&dir, &["run"], &experiment("Digits", &network, training));
        refused(&out, &["(8, 8, 1)", "64 inputs"]);
    }
    // CIFAR's 32×32×3 as 96×32×1, checked before a file is read.
    let cifar = experiment(
        "Cifar10((dir: \"absent\"))",
        &format!("input: (96, 32, 1), {conv}"),
        "",
    );
    refused(&command(&dir, &["run"], &cifar), &["(32, 32, 3)"]);
    // An IDX file's header gives its shape, read when the data load: 4×4 images as 2×8.
    write_idx(&dir.join("idx"), 12);
    let idx = |input: &str| {
        experiment(
            "Mnist((dir: \"idx\"))",
            &format!("input: {input}, {conv}"),
            "",
        )
    };
    refused(&command(&dir, &["run"], &idx("(2, 8, 1)")), &["(4, 4, 1)"]);
    // The true shapes run.
    let out = command(&dir, &["run"], &idx("(4, 4, 1)"));
    assert_eq!(out.code, 0, "{out:?}");
    let digits = experiment(
        "Digits",
        &format!("input: (8, 8, 1), {conv}"),
        ", augment: true",
    );
    assert_eq!(command(&dir, &["run"], &digits).code, 0);
    write_cifar10(&dir.join("cifar"));
    let cifar = experiment(
        "Cifar10((dir: \"cifar\"))",
        &format!("input: (32, 32, 3), {conv}"),
        "",
    );
    let out = command(&dir, &["run"], &cifar);
    assert_eq!(out.code, 0, "{out:?}");
}

#[test]
fn network_input_on_the_synthetic_task_is_refused_by_run_and_plan() {
    let dir = scratch("input-synthetic");
    let small = experiment(
        "Synthetic((inputs: 16, outputs: 10))",
        "input: (4, 4, 1), blocks: [Conv(channels: 2, kernel: 3, pool: true), Dense(10)]",
        "",
    );
    let vgg = experiment(
        "Synthetic((inputs: 3072, outputs: 10))",
        "input: (32, 32, 3), preset: Vgg16",
        "",
    );
    for args in [&["run"][..], &["plan"][..]] {
        for text in [&small, &vgg] {
            refused(
                &command(&dir, args, text),
                &["synthetic", "not images", "layers"],
            );
        }
    }
    // The same task as a dense network runs.
    let dense = experiment(
        "Synthetic((inputs: 16, outputs: 10))",
        "layers: [16, 8, 10]",
        "",
    );
    assert_eq!(command(&dir, &["run"], &dense).code, 0);
}

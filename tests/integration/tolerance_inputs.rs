//! Bad input to a tolerance search is refused before anything trains, with exit 2 and a message
//! under the flag or the file field that set the value (with its line and column), never as the
//! file's `sweep` (docs/RELIABILITY.md).

use std::path::{Path, PathBuf};
use tests::{dyadsim, scratch};

const TINY: &str = r#"Experiment(
    name: "tiny",
    network: (layers: [64, 16, 10], activation: Relu, loss: Mse),
    algorithm: (kind: Dp, alpha: 0.5, beta: 2.0, passes: 8),
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

/// The experiment with a `tolerance:` section of `fields`.
fn with_section(fields: &str) -> String {
    TINY.replace(
        "seeds: [0, 1],",
        &format!("seeds: [0, 1],\n    tolerance: (axis: \"algorithm.alpha\", {fields}),"),
    )
}

/// Exit 2, `wanted` in the message, no mention of the sweep, nothing trained or written.
fn refused(r: &tests::Output, out: &Path, wanted: &[&str]) {
    assert_eq!(r.code, 2, "{r:?}");
    for w in wanted {
        assert!(r.stderr.contains(w), "{w:?} not in: {}", r.stderr);
    }
    assert!(!r.stderr.contains("sweep values"), "{}", r.stderr);
    assert!(!r.stdout.contains("round"), "trained: {}", r.stdout);
    assert!(!out.exists(), "a refused search wrote {}", out.display());
}

#[test]
fn non_finite_numbers_in_a_tolerance_section_are_named_with_line_and_column() {
    let dir = scratch("tolerance-non-finite");
    let out = dir.join("out");
    for (i, (fields, field, shown)) in [
        ("to: 1.0, max_drop: NaN", "tolerance.max_drop", "NaN"),
        ("to: 1.0, max_drop: inf", "tolerance.max_drop", "inf"),
        ("to: 1.0, confidence: NaN", "tolerance.confidence", "NaN"),
        ("to: inf", "tolerance.to", "inf"),
        ("to: 1.0, resolution: -inf", "tolerance.resolution", "-inf"),
    ]
    .into_iter()
    .enumerate()
    {
        let exp = write(&dir, &format!("t{i}.ron"), &with_section(fields));
        let r = dyadsim(&["run", s(&exp), "--out", s(&out)]);
        let message = format!("{field} must be finite (got {shown})");
        refused(&r, &out, &[&format!("t{i}.ron:8:"), &message]);
    }
}

#[test]
fn one_seed_is_refused_since_a_tolerance_bound_needs_two() {
    let dir = scratch("tolerance-one-seed");
    let out = dir.join("out");
    let exp = write(&dir, "tiny.ron", TINY);
    let flag = dyadsim(&[
        "tolerance",
        s(&exp),
        "--axis",
        "algorithm.alpha",
        "--to",
        "1",
        "--seeds",
        "1",
        "--out",
        s(&out),
    ]);
    refused(&flag, &out, &["--seeds", "at least 2", "confidence bound"]);

    let section = write(
        &dir,
        "section.ron",
        &with_section("to: 1.0, seeds: Some(1)"),
    );
    let r = dyadsim(&["run", s(&section), "--out", s(&out)]);
    refused(
        &r,
        &out,
        &["section.ron:8:", "tolerance.seeds must be at least 2"],
    );

    // One seed in the file's list and none in the section: the list is named, with its place.
    let one = with_section("to: 1.0").replace("seeds: [0, 1],", "seeds: [0],");
    let one = write(&dir, "one.ron", &one);
    let r = dyadsim(&["run", s(&one), "--out", s(&out)]);
    refused(
        &r,
        &out,
        &["one.ron:7:", "seeds lists 1 replicate seed", "at least 2"],
    );
    let r = dyadsim(&[
        "tolerance",
        s(&one),
        "--axis",
        "algorithm.alpha",
        "--to",
        "1",
        "--out",
        s(&out),
    ]);
    refused(&r, &out, &["one.ron:7:", "pass --seeds 2 or more"]);
    // The file still loads for its grid: a golden pins a one-seed copy of a tolerance experiment.
    assert!(lab::load::experiment(&one).is_ok());
}

#[test]
fn tolerance_errors_name_the_flag_that_set_the_value() {
    let dir = scratch("tolerance-flags");
    let out = dir.join("out");
    let exp = write(&dir, "tiny.ron", TINY);
    for (flags, wanted) in [
        (
            vec!["--axis", "algorithm.passes", "--to", "1"],
            vec!["error: --axis \"algorithm.passes\" takes whole numbers"],
        ),
        (
            vec!["--axis", "training.batch_size", "--to", "8"],
            vec!["error: --axis \"training.batch_size\" takes whole numbers"],
        ),
        (
            vec!["--axis", "training.epochs", "--to", "8"],
            vec!["error: --axis \"training.epochs\" takes whole numbers"],
        ),
        (
            vec![
                "--axis",
                "algorithm.alpha",
                "--to",
                "1",
                "--compare",
                "algorithm.foo",
            ],
            vec![
                "error: --compare \"algorithm.foo\" does not exist",
                "no field \"foo\"",
            ],
        ),
        (
            vec![
                "--axis",
                "algorithm.alpha",
                "--to",
                "1",
                "--compare",
                "algorithm.kind=Foo",
            ],
            vec![
                "error: --compare algorithm.kind = \"Foo\"",
                "unknown variant `Foo`",
            ],
        ),
        (
            vec![
                "--axis",
                "algorithm.alpha",
                "--to",
                "1",
                "--across",
                "hardware.io.out_noise=-1",
            ],
            vec![
                "error: --across hardware.io.out_noise = -1",
                "out_noise must be >= 0",
            ],
        ),
        (
            vec!["--axis", "algorithm.alpha", "--to", "inf"],
            vec!["error: --to must be finite (got inf)"],
        ),
        (
            vec!["--axis", "algorithm.alpha", "--to", "1.5"],
            vec![
                "error: --to 1.5 gives an invalid experiment",
                "alpha must be in [0, 1]",
            ],
        ),
        (
            vec![
                "--axis",
                "algorithm.alpha",
                "--around",
                "0.5",
                "--from",
                "-0.5",
                "--to",
                "1",
            ],
            vec!["error: --from -0.5 gives an invalid experiment"],
        ),
    ] {
        let mut argv = vec!["tolerance", s(&exp), "--out", s(&out)];
        argv.extend(flags);
        let r = dyadsim(&argv);
        refused(&r, &out, &wanted);
        assert!(!r.stderr.contains("tiny.ron"), "{argv:?}: {}", r.stderr);
    }
    // The same values in a file are named as its fields, with line and column.
    for (fields, wanted) in [
        ("to: 1.5", "tolerance.to 1.5 gives an invalid experiment"),
        (
            "to: 1.0, compare: (path: \"algorithm.foo\", values: [1])",
            "tolerance.compare \"algorithm.foo\" does not exist",
        ),
    ] {
        let section = write(&dir, "section.ron", &with_section(fields));
        let r = dyadsim(&["run", s(&section), "--out", s(&out)]);
        refused(&r, &out, &["section.ron:8:", wanted]);
    }
}

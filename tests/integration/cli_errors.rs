//! Bad input gets a clear message naming file, position or field, and exit code 2.

use tests::{dyadsim, scratch};

const GOOD: &str = r#"Experiment(
    name: "tiny",
    network: (layers: [64, 16, 10]),
    algorithm: (kind: DpTop, alpha: 0.0, beta: 0.1, passes: 2),
    training: (epochs: 1, batch_size: 64, learning_rate: 0.05),
)
"#;

fn run_with(name: &str, text: &str) -> tests::Output {
    let dir = scratch(name);
    let path = dir.join("exp.ron");
    std::fs::write(&path, text).unwrap();
    let out = dir.join("out");
    dyadsim(&[
        "run",
        path.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ])
}

#[test]
fn typo_in_a_field_names_file_line_and_column() {
    let out = run_with("typo", &GOOD.replace("alpha: 0.0", "alpah: 0.0"));
    assert_eq!(out.code, 2, "{out:?}");
    assert!(out.stderr.contains("exp.ron:4:"), "{}", out.stderr);
    assert!(out.stderr.contains("alpah"), "{}", out.stderr);
}

#[test]
fn wrong_type_names_file_line_and_column() {
    let out = run_with("wrong-type", &GOOD.replace("epochs: 1", "epochs: \"one\""));
    assert_eq!(out.code, 2, "{out:?}");
    assert!(out.stderr.contains("exp.ron:5:"), "{}", out.stderr);
}

#[test]
fn alpha_out_of_range_names_the_field_and_value() {
    let out = run_with("alpha", &GOOD.replace("alpha: 0.0", "alpha: 1.5"));
    assert_eq!(out.code, 2, "{out:?}");
    assert!(out.stderr.contains("exp.ron:4:"), "{}", out.stderr);
    assert!(out.stderr.contains("algorithm.alpha"), "{}", out.stderr);
    assert!(out.stderr.contains("1.5"), "{}", out.stderr);
}

#[test]
fn missing_file_is_bad_input() {
    let out = dyadsim(&["run", "/nonexistent/dyadsim/exp.ron"]);
    assert_eq!(out.code, 2, "{out:?}");
    assert!(
        out.stderr.contains("/nonexistent/dyadsim/exp.ron"),
        "{}",
        out.stderr
    );
}

#[test]
fn layers_that_do_not_fit_the_data_are_bad_input() {
    let out = run_with("shape", &GOOD.replace("[64, 16, 10]", "[63, 16, 10]"));
    assert_eq!(out.code, 2, "{out:?}");
    assert!(out.stderr.contains("network.layers"), "{}", out.stderr);
}

#[test]
fn unknown_flag_is_bad_input() {
    let out = dyadsim(&["gradcheck", "--alpah", "0.5"]);
    assert_eq!(out.code, 2, "{out:?}");
}

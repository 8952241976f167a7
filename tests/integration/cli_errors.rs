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

fn scratch_file(name: &str, file: &str, bytes: &[u8]) -> std::path::PathBuf {
    let path = scratch(name).join(file);
    std::fs::write(&path, bytes).unwrap();
    path
}

#[test]
fn a_binary_experiment_file_is_bad_input_naming_the_path() {
    let path = scratch_file("binary", "exp.ron", &[0xff, 0xfe, 0x00, 0x01, 0x80, 0x81]);
    let out = dyadsim(&["run", path.to_str().unwrap()]);
    assert_eq!(out.code, 2, "{out:?}");
    assert!(
        out.stderr.contains(path.to_str().unwrap()),
        "{}",
        out.stderr
    );
    assert!(out.stderr.contains("UTF-8"), "{}", out.stderr);
}

#[test]
fn a_directory_given_as_the_experiment_is_bad_input_naming_the_path() {
    let dir = scratch("dir-as-file");
    let out = dyadsim(&["run", dir.to_str().unwrap()]);
    assert_eq!(out.code, 2, "{out:?}");
    assert!(out.stderr.contains(dir.to_str().unwrap()), "{}", out.stderr);
    assert!(out.stderr.contains("directory"), "{}", out.stderr);
}

#[test]
fn a_hardware_path_that_is_a_directory_is_bad_input_naming_the_path() {
    let dir = scratch("hardware-dir");
    let hw = dir.join("hw.ron");
    std::fs::create_dir(&hw).unwrap();
    let text = GOOD.replace(
        "training:",
        &format!("hardware: {:?},\n    training:", hw.to_str().unwrap()),
    );
    let out = run_with("hardware-dir-exp", &text);
    assert_eq!(out.code, 2, "{out:?}");
    assert!(out.stderr.contains(hw.to_str().unwrap()), "{}", out.stderr);
    let device = dyadsim(&["device", hw.to_str().unwrap()]);
    assert_eq!(device.code, 2, "{device:?}");
}

#[test]
fn an_os_error_is_printed_once() {
    let out = dyadsim(&["run", "/nonexistent/dyadsim/exp.ron"]);
    assert_eq!(out.code, 2, "{out:?}");
    assert_eq!(out.stderr.matches("os error").count(), 1, "{}", out.stderr);
}

#[test]
fn plain_sgd_with_momentum_is_refused_naming_both_fields() {
    let out = run_with(
        "plain-momentum",
        &GOOD.replace(
            "learning_rate: 0.05",
            "learning_rate: 0.05, optimizer: PlainSgd, momentum: 0.9",
        ),
    );
    assert_eq!(out.code, 2, "{out:?}");
    assert!(out.stderr.contains("training.momentum"), "{}", out.stderr);
    assert!(out.stderr.contains("PlainSgd"), "{}", out.stderr);
    assert!(out.stderr.contains("exp.ron:5:"), "{}", out.stderr);
}

#[test]
fn plain_sgd_with_weight_decay_is_refused_naming_both_fields() {
    let out = run_with(
        "plain-decay",
        &GOOD.replace(
            "learning_rate: 0.05",
            "learning_rate: 0.05, optimizer: PlainSgd, weight_decay: 0.001",
        ),
    );
    assert_eq!(out.code, 2, "{out:?}");
    assert!(
        out.stderr.contains("training.weight_decay"),
        "{}",
        out.stderr
    );
    assert!(out.stderr.contains("PlainSgd"), "{}", out.stderr);
}

#[test]
fn bias_decay_without_weight_decay_is_refused_naming_both_fields() {
    let out = run_with(
        "bias-decay",
        &GOOD.replace(
            "learning_rate: 0.05",
            "learning_rate: 0.05, decay_biases: true",
        ),
    );
    assert_eq!(out.code, 2, "{out:?}");
    assert!(
        out.stderr.contains("training.decay_biases"),
        "{}",
        out.stderr
    );
    assert!(out.stderr.contains("weight_decay"), "{}", out.stderr);
}

#[test]
fn pulse_coincidence_with_a_digital_optimiser_is_refused_naming_both_fields() {
    let hw = tests::root().join("device-models/ecram-tang2018.ron");
    for optimizer in ["Sgd, momentum: 0.9", "Adam"] {
        let text = GOOD
            .replace(
                "learning_rate: 0.05",
                &format!("learning_rate: 0.05, optimizer: {optimizer}"),
            )
            .replace(
                "training:",
                &format!("hardware: {:?},\n    training:", hw.to_str().unwrap()),
            );
        let out = run_with("coincidence-digital", &text);
        assert_eq!(out.code, 2, "{optimizer}: {out:?}");
        assert!(out.stderr.contains("hardware.update"), "{}", out.stderr);
        assert!(out.stderr.contains("training.optimizer"), "{}", out.stderr);
        assert!(
            out.stderr.contains("stochastically rounded"),
            "{}",
            out.stderr
        );
    }
}

#[test]
fn retention_without_a_drift_model_is_refused() {
    let out = run_with(
        "retention-no-drift",
        &GOOD.replace(")\n", "    retention: (times: [1, 3600]),\n)\n"),
    );
    assert_eq!(out.code, 2, "{out:?}");
    assert!(out.stderr.contains("retention"), "{}", out.stderr);
    assert!(out.stderr.contains("hardware.drift"), "{}", out.stderr);
}

const SWEPT: &str = r#"Experiment(
    name: "tiny",
    network: (layers: [64, 16, 10]),
    algorithm: (kind: DpTop, alpha: 0.0, beta: 0.1, passes: 2),
    training: (epochs: 1, batch_size: 64, learning_rate: 0.05),
    sweep: {"algorithm.alpha": [0.0, 1.0]},
    plots: [
        Final(x: "algorithm.alpha", metric: "test_acc"),
    ],
)
"#;

#[test]
fn an_unknown_plot_axis_is_refused_at_load_with_line_and_column() {
    let out = run_with(
        "plot-axis",
        &SWEPT.replace("x: \"algorithm.alpha\"", "x: \"algorithm.alpah\""),
    );
    assert_eq!(out.code, 2, "{out:?}");
    assert!(out.stderr.contains("exp.ron:8:18"), "{}", out.stderr);
    assert!(out.stderr.contains("algorithm.alpah"), "{}", out.stderr);
    assert!(
        !out.stdout.contains("epoch"),
        "trained before refusing: {}",
        out.stdout
    );
}

#[test]
fn an_unknown_plot_metric_is_refused_at_load_with_line_and_column() {
    let out = run_with(
        "plot-metric",
        &SWEPT.replace("\"test_acc\"", "\"settle_passes\""),
    );
    assert_eq!(out.code, 2, "{out:?}");
    assert!(out.stderr.contains("exp.ron:8:"), "{}", out.stderr);
    assert!(out.stderr.contains("settle_passes"), "{}", out.stderr);
    assert!(
        !out.stdout.contains("epoch"),
        "trained before refusing: {}",
        out.stdout
    );
}

#[test]
fn gradcheck_names_the_flag_of_an_option_out_of_range() {
    let out = dyadsim(&["gradcheck", "--alpha", "1.5"]);
    assert_eq!(out.code, 2, "{out:?}");
    assert!(
        out.stderr.contains("--alpha must be in [0, 1] (got 1.5)"),
        "{}",
        out.stderr
    );
    let out = dyadsim(&["gradcheck", "--circuit", "--dt", "5"]);
    assert_eq!(out.code, 2, "{out:?}");
    assert!(
        out.stderr.contains("--dt must be in (0, tau]"),
        "{}",
        out.stderr
    );
}

#[test]
fn a_negative_checkpoint_interval_is_refused_in_words_not_as_an_unknown_argument() {
    let dir = scratch("checkpoint-minus");
    let path = dir.join("exp.ron");
    std::fs::write(&path, GOOD).unwrap();
    let out = dir.join("out");
    // ASCII hyphen-minus and the Unicode minus sign, alone and as --flag=value.
    for value in ["-1", "\u{2212}1", "-0.5"] {
        for argv in [
            vec![
                "run",
                path.to_str().unwrap(),
                "--out",
                out.to_str().unwrap(),
                "--checkpoint-minutes",
                value,
            ],
            vec![
                "run",
                path.to_str().unwrap(),
                "--out",
                out.to_str().unwrap(),
                &format!("--checkpoint-minutes={value}"),
            ],
        ] {
            let r = dyadsim(&argv);
            assert_eq!(r.code, 2, "{argv:?}: {r:?}");
            assert!(
                r.stderr.contains("--checkpoint-minutes")
                    && r.stderr.contains("≥ 0")
                    && r.stderr.contains("never"),
                "{}",
                r.stderr
            );
            assert!(
                !r.stderr.contains("unexpected argument") && !r.stderr.contains("tip:"),
                "{}",
                r.stderr
            );
        }
    }
    assert!(!out.exists());
}

#[test]
fn non_finite_values_are_refused_as_not_finite_and_bounds_read_plainly() {
    let soft =
        "hardware: Hardware(device: SoftBounds((dw_min: 0.002)), update: StochasticRounding(()),";
    let with_hardware = |rest: &str| {
        GOOD.replace(
            "    training:",
            &format!("    {soft} {rest}),\n    training:"),
        )
    };
    let cost = "cost: Some((energy: (cell_read: inf, dac_per_bit: 1e-14, pulse: 1e-15, compartment: 1e-14), latency: (pulse: 5e-9, conversion: 1e-9, settle: 1e-8, digital_op: 1e-9), area: (cell: 0.04, adc: 1000.0, dac: 50.0, neuron: 100.0), columns_per_adc: 8))";
    for (name, text, message) in [
        (
            "inf-out-noise",
            with_hardware("io: (out_noise: inf)"),
            "exp.ron:5:",
        ),
        ("inf-cost", with_hardware(cost), "exp.ron:5:"),
        (
            "max-bm-factor",
            with_hardware("io: (max_bm_factor: 0.5)"),
            "io.max_bm_factor must be >= 1 (got 0.5)",
        ),
        (
            "max-fraction",
            with_hardware("mapping: (max_fraction: 0.0)"),
            "mapping.max_fraction must be in (0, 1] (got 0)",
        ),
        (
            "inf-alpha",
            GOOD.replace("alpha: 0.0", "alpha: inf"),
            "algorithm.alpha must be finite (got inf)",
        ),
        (
            "nan-momentum",
            GOOD.replace("learning_rate: 0.05", "learning_rate: 0.05, momentum: NaN"),
            "training.momentum must be finite (got NaN)",
        ),
    ] {
        let out = run_with(name, &text);
        assert_eq!(out.code, 2, "{name}: {out:?}");
        assert!(out.stderr.contains(message), "{name}: {}", out.stderr);
        // No 300-digit bound, no rule an infinity satisfies.
        assert!(out.stderr.len() < 400, "{name}: {}", out.stderr);
        assert!(!out.stderr.contains(">= 0 (got inf)"), "{}", out.stderr);
    }
    let out = run_with("inf-out-noise", &with_hardware("io: (out_noise: inf)"));
    assert!(
        out.stderr.contains("io.out_noise must be finite (got inf)"),
        "{}",
        out.stderr
    );
    let out = run_with("inf-cost", &with_hardware(cost));
    assert!(
        out.stderr
            .contains("cost.energy.cell_read must be finite (got inf)"),
        "{}",
        out.stderr
    );
    // Flags say the same.
    let out = dyadsim(&["gradcheck", "--weight-scale", "inf"]);
    assert_eq!(out.code, 2, "{out:?}");
    assert!(
        out.stderr
            .contains("--weight-scale must be finite (got inf)"),
        "{}",
        out.stderr
    );
    let out = dyadsim(&["check", "--suite", "gradient", "--rtol", "inf"]);
    assert_eq!(out.code, 2, "{out:?}");
    assert!(
        out.stderr.contains("--rtol must be finite (got inf)"),
        "{}",
        out.stderr
    );
}

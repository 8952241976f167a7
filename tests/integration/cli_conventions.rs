//! The command line behaves like one: help and version on standard output, plain text when not on
//! a terminal, the Unicode minus accepted, quiet runs, per-point final tables.

use tests::{dyadsim, scratch};

#[test]
fn help_and_version_go_to_standard_output_and_exit_zero() {
    for args in [
        &["--help"][..],
        &["--version"],
        &["run", "--help"],
        &["help", "check"],
    ] {
        let r = dyadsim(args);
        assert_eq!(r.code, 0, "{args:?}: {r:?}");
        assert!(r.stderr.is_empty(), "{args:?}: {r:?}");
        assert!(!r.stdout.is_empty(), "{args:?}");
    }
    assert_eq!(
        dyadsim(&["--version"]).stdout.trim(),
        format!("dyadsim {}", env!("CARGO_PKG_VERSION"))
    );
}

#[test]
fn usage_errors_carry_no_colour_codes_off_a_terminal() {
    let r = dyadsim(&["run", "--no-such-flag"]);
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("--no-such-flag"), "{r:?}");
    assert!(
        !r.stderr.contains('\u{1b}'),
        "escape codes in {:?}",
        r.stderr
    );
    assert!(!dyadsim(&["--help"]).stdout.contains('\u{1b}'));
}

#[test]
fn the_unicode_minus_is_read_as_a_minus_sign() {
    assert_eq!(
        dyadsim::ascii_minus("+200,\u{2212}400,+200".into()),
        std::ffi::OsString::from("+200,-400,+200")
    );
    assert_eq!(
        dyadsim::ascii_minus("--alpha=\u{2212}0.5".into()),
        std::ffi::OsString::from("--alpha=-0.5")
    );
    // Text that is not a number keeps its typography.
    assert_eq!(
        dyadsim::ascii_minus("α \u{2212} ½".into()),
        std::ffi::OsString::from("α \u{2212} ½")
    );
    let dir = scratch("unicode-minus");
    let hw = tests::root().join("device-models/reram-es.ron");
    let r = dyadsim(&[
        "device",
        hw.to_str().unwrap(),
        "--pulses",
        "+20,\u{2212}40,+20",
        "--devices",
        "2",
        "--out",
        dir.to_str().unwrap(),
    ]);
    assert_eq!(r.code, 0, "{r:?}");
    // A negative value reaches the range check that names it, not the flag parser.
    let r = dyadsim(&["gradcheck", "--alpha", "\u{2212}0.5"]);
    assert_eq!(r.code, 2, "{r:?}");
    assert!(
        r.stderr.contains("alpha") && r.stderr.contains("-0.5"),
        "{r:?}"
    );
}

#[test]
fn quiet_runs_print_only_the_final_table_per_point() {
    let dir = scratch("quiet");
    let exp = dir.join("q.ron");
    std::fs::write(
        &exp,
        r#"Experiment(
    name: "q",
    network: (layers: [64, 16, 10], activation: Tanh, loss: Mse),
    algorithm: (kind: DpTop, alpha: 0.5, beta: 0.05, passes: 2),
    training: (epochs: 2, batch_size: 100, learning_rate: 0.05),
    seeds: [0, 1],
    sweep: {"algorithm.alpha": [0.0, 1.0]},
)"#,
    )
    .unwrap();
    let out = dir.join("out");
    let loud = dyadsim(&["run", exp.to_str().unwrap(), "--out", out.to_str().unwrap()]);
    assert_eq!(loud.code, 0, "{loud:?}");
    // Per-epoch lines name the run by its parameters.
    assert!(
        loud.stdout.contains("alpha=1.0 seed 1 epoch   2"),
        "{}",
        loud.stdout
    );
    let quiet = dyadsim(&[
        "run",
        exp.to_str().unwrap(),
        "--out",
        dir.join("quiet").to_str().unwrap(),
        "--quiet",
    ]);
    assert_eq!(quiet.code, 0, "{quiet:?}");
    assert!(!quiet.stdout.contains("epoch"), "{}", quiet.stdout);
    let table: Vec<&str> = quiet
        .stdout
        .lines()
        .skip_while(|l| !l.starts_with("final metrics per point"))
        .collect();
    assert!(
        table[0].contains("mean ± std over up to 2 seeds"),
        "{table:?}"
    );
    assert!(table[1].starts_with("point") && table[1].contains("test accuracy"));
    assert!(
        table[2].starts_with("alpha=0.0") && table[2].contains(" ± "),
        "{table:?}"
    );
    assert!(
        table[3].starts_with("alpha=1.0") && table[3].ends_with("0/2"),
        "{table:?}"
    );
}

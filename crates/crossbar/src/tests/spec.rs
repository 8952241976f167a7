//! Parsing and validation of hardware descriptions.

use crate::spec::*;

fn parse(text: &str) -> Result<Hardware, ron::error::SpannedError> {
    ron::from_str(text)
}

#[test]
fn minimal_file_takes_aihwkit_defaults_and_ideal_sections() {
    let hw = parse("Hardware(device: ConstantStep((dw_min: 0.01)))").unwrap();
    let Device::ConstantStep(d) = &hw.device else {
        panic!("wrong variant")
    };
    assert_eq!(d.dw_min, 0.01);
    assert_eq!(d.dw_min_dtod, 0.3);
    assert_eq!(d.w_max, 0.6);
    assert_eq!(d.w_min, -0.6);
    assert_eq!(d.up_down_dtod, 0.01);
    assert!(d.enforce_consistency);
    assert_eq!(d.reset_std, 0.01);
    assert_eq!(hw.update, UpdateScheme::FloatingPoint);
    assert!(hw.io.is_perfect());
    assert!(hw.faults.is_none());
    assert!(hw.drift.is_none());
    assert_eq!(hw.periphery, Periphery::default());
    assert_eq!(parse("Hardware()").unwrap(), Hardware::ideal());
    assert!(Hardware::ideal().is_ideal_array());
}

#[test]
fn the_issue_examples_parse() {
    let text = "Hardware(device: SoftBounds((dw_min: 0.001, up_down: 0.0, w_min: -0.6, w_max: 0.6, dw_min_dtod: 0.3, \
        up_down_dtod: 0.01, w_min_dtod: 0.3, w_max_dtod: 0.3, dw_min_std: 0.3)), \
        drift: Some(PcmLike((g_max: 25.0, t0: 20.0, t_read: 250e-9, prog_noise_scale: 1.0, drift_scale: 1.0, \
        read_noise_scale: 1.0, compensation: Global))))";
    let hw = parse(text).unwrap();
    assert_eq!(hw.device, Device::SoftBounds(SoftBounds::default()));
    assert_eq!(hw.drift, Some(Drift::PcmLike(PcmLike::default())));
}

#[test]
fn empty_io_section_means_aihwkit_defaults() {
    let hw = parse("Hardware(io: ())").unwrap();
    assert_eq!(hw.io, Io::default());
    assert!(!hw.io.is_perfect());
    assert_eq!(hw.io.inp_res, 1.0 / 126.0);
    assert_eq!(hw.io.out_res, 1.0 / 510.0);
    assert_eq!(hw.io.out_bound, 12.0);
    assert_eq!(hw.io.out_noise, 0.06);
    assert_eq!(hw.io.max_bm_factor, 1000.0);
}

#[test]
fn model_specific_defaults_follow_aihwkit() {
    let hw = parse("Hardware(device: ExpStep(()), update: PulseCoincidence(()))").unwrap();
    let Device::ExpStep(e) = &hw.device else {
        panic!()
    };
    assert_eq!(
        (e.a_up, e.a_down, e.gamma_up, e.gamma_down, e.a, e.b),
        (0.00081, 0.36833, 12.44625, 12.78785, 0.244, 0.2425)
    );
    let UpdateScheme::PulseCoincidence(p) = &hw.update else {
        panic!()
    };
    assert_eq!(
        (
            p.desired_bl,
            p.fixed_bl,
            p.update_management,
            p.update_bl_management
        ),
        (31, true, true, true)
    );
    let Device::LinearStep(l) = parse("Hardware(device: LinearStep(()))").unwrap().device else {
        panic!()
    };
    assert_eq!(
        (
            l.gamma_up,
            l.gamma_up_dtod,
            l.mult_noise,
            l.mean_bound_reference
        ),
        (0.0, 0.05, true, true)
    );
    let Device::SoftBoundsReference(r) = parse("Hardware(device: SoftBoundsReference(()))")
        .unwrap()
        .device
    else {
        panic!()
    };
    assert!(!r.mult_noise && !r.subtract_symmetry_point);
    let Device::PowStep(p) = parse("Hardware(device: PowStep(()))").unwrap().device else {
        panic!()
    };
    assert_eq!((p.pow_gamma, p.pow_gamma_dtod), (1.0, 0.1));
    let Device::PiecewiseStep(p) = parse("Hardware(device: PiecewiseStep(()))").unwrap().device
    else {
        panic!()
    };
    assert_eq!(p.piecewise_up, vec![1.0]);
}

#[test]
fn aihwkit_capitalised_names_are_accepted() {
    let hw = parse("Hardware(device: ExpStep((A_up: -1.0, A_down: -0.5)), io: (w_noise_type: PCMRead, w_noise: 0.01))").unwrap();
    let Device::ExpStep(e) = &hw.device else {
        panic!()
    };
    assert_eq!((e.a_up, e.a_down), (-1.0, -0.5));
    assert_eq!(hw.io.w_noise_type, WeightNoiseType::PcmRead);
}

#[test]
fn unknown_fields_are_rejected_with_their_name() {
    let err = parse("Hardware(device: ConstantStep((dw_mni: 0.01)))")
        .unwrap_err()
        .to_string();
    assert!(err.contains("dw_mni"), "{err}");
    let err = parse("Hardware(ios: ())").unwrap_err().to_string();
    assert!(err.contains("ios"), "{err}");
}

#[test]
fn range_errors_name_the_field_and_value() {
    let err = parse("Hardware(device: ConstantStep((dw_min: -0.1)))")
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("device.dw_min must be > 0 (got -0.1)"),
        "{err}"
    );
    let mut hw = Hardware::ideal();
    hw.io.out_noise = f64::NAN;
    hw.io.is_perfect = false;
    assert_eq!(
        hw.validate().unwrap_err().to_string(),
        "io.out_noise must be finite (got NaN)"
    );
    let cases: Vec<(&str, &str)> = vec![
        (
            "Hardware(device: SoftBounds((w_min: 0.2)))",
            "device.w_min must be <= 0",
        ),
        (
            "Hardware(device: SoftBounds((w_max: -0.1)))",
            "device.w_max must be >= 0",
        ),
        (
            "Hardware(device: LinearStep((corrupt_devices_prob: 1.5)))",
            "device.corrupt_devices_prob",
        ),
        (
            "Hardware(device: PowStep((pow_gamma: 0.0)))",
            "device.pow_gamma must be > 0",
        ),
        (
            "Hardware(device: PiecewiseStep((piecewise_up: [1.0, 2.0])))",
            "equal length",
        ),
        (
            "Hardware(device: PiecewiseStep((piecewise_up: [1.0, -2.0], piecewise_down: [1.0, 1.0])))",
            "piecewise_up[1]",
        ),
        (
            "Hardware(device: ConstantStep(()), update: StochasticRounding((max_pulses: 0)))",
            "update.max_pulses",
        ),
        (
            "Hardware(device: ConstantStep(()), update: PulseCoincidence((desired_bl: 0)))",
            "update.desired_bl",
        ),
        (
            "Hardware(update: StochasticRounding(()))",
            "update must be FloatingPoint when device is Ideal",
        ),
        (
            "Hardware(faults: (stuck_at_zero: 0.7, stuck_at_max: 0.0, stuck_at_min: 0.0), device: SoftBounds((w_max: 1.0)))",
            "",
        ),
        (
            "Hardware(device: SoftBounds(()), faults: (stuck_at_zero: 0.7, stuck_at_max: 0.6))",
            "faults.stuck_at_min + stuck_at_max + stuck_at_zero",
        ),
        (
            "Hardware(faults: (stuck_at_max: 0.1))",
            "need a device with bounds",
        ),
        (
            "Hardware(drift: Some(PcmLike((g_max: -1.0))))",
            "drift.g_max must be > 0",
        ),
        (
            "Hardware(drift: Some(PcmLike((t0: 0.0))))",
            "drift.t0 must be > 0",
        ),
        (
            "Hardware(periphery: (alpha_std: -0.1))",
            "periphery.alpha_std must be >= 0",
        ),
        (
            "Hardware(mapping: (max_fraction: 1.5))",
            "mapping.max_fraction",
        ),
        (
            "Hardware(mapping: (scale: Some(0.0)))",
            "mapping.scale must be > 0",
        ),
        (
            "Hardware(io: (inp_bound: 0.0))",
            "io.inp_bound must be > 0 when inp_res > 0",
        ),
        ("Hardware(io: (max_bm_factor: 0.5))", "io.max_bm_factor"),
        (
            "Hardware(device: ExpStep((a_up: 10.0, a_down: 10.0, b: 0.0)))",
            "ExpStep steps at w = 0",
        ),
    ];
    for (text, needle) in cases {
        match parse(text) {
            Ok(_) => assert!(needle.is_empty(), "{text} should fail with {needle}"),
            Err(e) => {
                assert!(!needle.is_empty(), "{text} should parse: {e}");
                assert!(e.to_string().contains(needle), "{text}: {e}");
            }
        }
    }
}

#[test]
fn non_finite_values_are_refused_as_not_finite_and_bounds_read_plainly() {
    let err = |text: &str| parse(text).unwrap_err().to_string();
    // An infinity satisfies ">= 0" and "in [1, f64::MAX]" as a rule of words; it must be named
    // for what it is.
    for (text, message) in [
        (
            "Hardware(device: SoftBounds(()), io: (out_noise: inf))",
            "io.out_noise must be finite (got inf)",
        ),
        (
            "Hardware(device: SoftBounds(()), io: (max_bm_factor: inf))",
            "io.max_bm_factor must be finite (got inf)",
        ),
        (
            "Hardware(device: SoftBounds((w_max: inf)))",
            "device.w_max must be finite (got inf)",
        ),
        (
            "Hardware(device: SoftBounds((w_min: -inf)))",
            "device.w_min must be finite (got -inf)",
        ),
        (
            "Hardware(device: SoftBounds((dw_min: NaN)))",
            "device.dw_min must be finite (got NaN)",
        ),
        (
            "Hardware(mapping: (max_fraction: inf))",
            "mapping.max_fraction must be finite (got inf)",
        ),
    ] {
        assert!(err(text).contains(message), "{text}: {}", err(text));
    }
    // Bounds at the ends of the f64 range are written as the rule they stand for.
    for (text, message) in [
        (
            "Hardware(device: SoftBounds(()), io: (max_bm_factor: 0.5))",
            "io.max_bm_factor must be >= 1 (got 0.5)",
        ),
        (
            "Hardware(mapping: (max_fraction: 0.0))",
            "mapping.max_fraction must be in (0, 1] (got 0)",
        ),
        (
            "Hardware(mapping: (max_fraction: 1.5))",
            "mapping.max_fraction must be in (0, 1] (got 1.5)",
        ),
        (
            "Hardware(device: SoftBounds((w_min: 0.2)))",
            "device.w_min must be <= 0 (got 0.2)",
        ),
        (
            "Hardware(device: SoftBounds((w_max: -0.1)))",
            "device.w_max must be >= 0 (got -0.1)",
        ),
        // A huge value is shown in scientific notation, not as 300 digits.
        (
            "Hardware(device: SoftBounds((w_min: 1e300)))",
            "device.w_min must be <= 0 (got 1e300)",
        ),
    ] {
        let e = err(text);
        assert!(e.contains(message), "{text}: {e}");
        assert!(e.len() < 200, "{text}: {e}");
    }
    assert_eq!(shown(f64::MAX), "1.7976931348623157e308");
    assert_eq!(shown(f64::MIN_POSITIVE), "2.2250738585072014e-308");
    assert_eq!(shown(0.06), "0.06");
    assert_eq!(shown(1000.0), "1000");
    assert_eq!(must_be(">= 0", f64::INFINITY), "must be finite (got inf)");
    assert_eq!(must_be(">= 0", -1.0), "must be >= 0 (got -1)");
}

#[test]
fn a_spec_survives_a_round_trip() {
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../device-models/reram-om.ron"
    ))
    .unwrap();
    let hw: Hardware = ron::from_str(&text).unwrap();
    let again: Hardware = ron::from_str(&ron::to_string(&hw).unwrap()).unwrap();
    assert_eq!(hw, again);
}

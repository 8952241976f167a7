//! Training on non-ideal hardware end to end: the ideal file is exact, every non-ideality matters,
//! seeds are reproducible, and a published device still learns.

use std::path::Path;
use tests::{dyadsim, root, scratch};

fn experiment(hardware: &str, extra: &str) -> String {
    format!(
        r#"Experiment(
    name: "hw",
    network: (layers: [64, 24, 10]),
    algorithm: (kind: DpTop, alpha: 0.0, beta: 0.1, passes: 2),
    training: (epochs: 1, batch_size: 64, learning_rate: 0.05, momentum: 0.5),
    seed: 4,
    hardware: {hardware},
    {extra}
)"#
    )
}

/// Run an experiment text and return its metrics.csv.
fn metrics(dir: &Path, name: &str, text: &str) -> String {
    let exp = dir.join(format!("{name}.ron"));
    std::fs::write(&exp, text).unwrap();
    let out = dir.join(name);
    let r = dyadsim(&[
        "run",
        exp.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
        "--fresh",
    ]);
    assert_eq!(r.code, 0, "{name}: {r:?}");
    std::fs::read_to_string(out.join("metrics.csv")).unwrap()
}

#[test]
fn the_ideal_file_is_the_ideal_path_and_each_non_ideality_alone_changes_the_result() {
    let dir = scratch("hardware-switches");
    let ideal_file = root().join("device-models/ideal.ron");
    let plain = metrics(&dir, "plain", &experiment("Hardware()", ""));
    let from_file = metrics(
        &dir,
        "file",
        &experiment(&format!("{:?}", ideal_file.to_str().unwrap()), ""),
    );
    assert_eq!(
        plain, from_file,
        "device-models/ideal.ron must be exactly the ideal path"
    );
    for (name, hw) in [
        (
            "device",
            "Hardware(device: ConstantStep((dw_min: 0.002, dw_min_dtod: 0.0, dw_min_std: 0.0, up_down_dtod: 0.0, w_min_dtod: 0.0, w_max_dtod: 0.0)))",
        ),
        (
            "c2c",
            "Hardware(device: ConstantStep((dw_min: 0.002, dw_min_dtod: 0.0, dw_min_std: 0.3, up_down_dtod: 0.0, w_min_dtod: 0.0, w_max_dtod: 0.0)))",
        ),
        (
            "out-noise",
            "Hardware(io: (out_noise: 0.06, inp_res: 0.0, out_res: 0.0, w_noise: 0.0))",
        ),
        ("dac-adc", "Hardware(io: (out_noise: 0.0, w_noise: 0.0))"),
        ("stuck", "Hardware(faults: (stuck_at_zero: 0.1))"),
        ("periphery-gain", "Hardware(periphery: (act_gain_std: 0.1))"),
        (
            "periphery-leak",
            "Hardware(periphery: (alpha_split_std: 0.2))",
        ),
    ] {
        let m = metrics(&dir, name, &experiment(hw, ""));
        assert_ne!(
            m, plain,
            "{name} switched on alone must change the trained network"
        );
    }
}

#[test]
fn drift_changes_accuracy_after_training_and_only_then() {
    let dir = scratch("hardware-drift");
    let pcm = root().join("device-models/pcm-inference-drift.ron");
    let m = metrics(
        &dir,
        "drift",
        &experiment(
            &format!("{:?}", pcm.to_str().unwrap()),
            "retention: (times: [1.0, 31536000.0]),",
        ),
    );
    assert!(m.lines().count() == 3);
    let retention = std::fs::read_to_string(dir.join("drift/retention.csv")).unwrap();
    let rows: Vec<Vec<&str>> = retention
        .lines()
        .skip(1)
        .map(|l| l.split(',').collect())
        .collect();
    assert_eq!(rows.len(), 2);
    assert_eq!(rows[0][2], "1");
    let (early, late): (f64, f64) = (rows[0][3].parse().unwrap(), rows[1][3].parse().unwrap());
    assert!(early.is_finite() && late.is_finite());
    assert_ne!(early, late, "a year of drift moves the test loss");
}

#[test]
fn a_seed_reproduces_a_noisy_run_and_another_seed_differs() {
    let dir = scratch("hardware-seeds");
    let noisy = root().join("device-models/noisy-reference.ron");
    let hw = format!("{:?}", noisy.to_str().unwrap());
    let a = metrics(&dir, "a", &experiment(&hw, ""));
    let b = metrics(&dir, "b", &experiment(&hw, ""));
    assert_eq!(a, b);
    let c = metrics(
        &dir,
        "c",
        &experiment(&hw, "").replace("seed: 4", "seed: 5"),
    );
    assert_ne!(a, c);
}

#[test]
fn the_quickstart_network_still_learns_on_li_ecram() {
    let dir = scratch("hardware-ecram");
    let quickstart = std::fs::read_to_string(root().join("experiments/quickstart.ron")).unwrap();
    let ecram = root().join("device-models/ecram-tang2018-rounding.ron");
    let text = quickstart.replace(
        "seed: 1,",
        &format!("seed: 1,\n    hardware: {:?},", ecram.to_str().unwrap()),
    );
    let exp = dir.join("ecram.ron");
    std::fs::write(&exp, text).unwrap();
    let out = dir.join("out");
    let r = dyadsim(&["run", exp.to_str().unwrap(), "--out", out.to_str().unwrap()]);
    assert_eq!(r.code, 0, "{r:?}");
    let summary: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("summary.json")).unwrap()).unwrap();
    let acc = summary["points"][0]["final"]["test_acc"].as_f64().unwrap();
    assert!(acc >= 0.9, "quickstart on ECRAM reached {acc}");
}

#[test]
fn device_overlays_presets_with_steps_states_and_conductance_units() {
    let dir = scratch("hardware-device-overlay");
    let ecram = root().join("device-models/ecram-tang2018.ron");
    let cap = root().join("device-models/capacitor-li2018.ron");
    let pcm = root().join("device-models/pcm-inference-drift.ron");
    let r = dyadsim(&[
        "device",
        ecram.to_str().unwrap(),
        cap.to_str().unwrap(),
        pcm.to_str().unwrap(),
        "--devices",
        "5",
        "--pulses",
        "+20,-20",
        "--drift",
        "--out",
        dir.to_str().unwrap(),
    ]);
    assert_eq!(r.code, 0, "{r:?}");
    let csv = std::fs::read_to_string(dir.join("response.csv")).unwrap();
    assert!(csv.starts_with("preset,pulse,mean,std"), "{csv}");
    // 41 states of the programme (0..=40) per pulsed preset; the PCM inference preset has no pulses.
    assert_eq!(
        csv.lines()
            .filter(|l| l.starts_with("ecram-tang2018,"))
            .count(),
        41
    );
    assert_eq!(
        csv.lines()
            .filter(|l| l.starts_with("capacitor-li2018,"))
            .count(),
        41
    );
    let svg = std::fs::read_to_string(dir.join("response.svg")).unwrap();
    // ECRAM: dw_min = 0.002 over w in [-0.8276, 1.1724], i.e. 1000 states.
    assert!(
        svg.contains("ecram-tang2018: Δw = 0.002, ≈ 1000 states"),
        "{svg}"
    );
    assert!(svg.contains("capacitor-li2018: Δw = 0.005"), "{svg}");
    assert!(svg.contains("mean ± std over 5 devices"), "{svg}");
    let drift = std::fs::read_to_string(dir.join("drift.svg")).unwrap();
    assert!(drift.contains("conductance (µS)"), "{drift}");
    // Targets 0.1, 0.5 and 1 of g_max = 25 µS.
    assert!(drift.contains("programmed to 12.5 µS"), "{drift}");
}

//! Divergence: a loss that blows up is recorded like one that turns NaN, with the reason in
//! summary.json and metrics.csv; the blow-up factor is configurable and can be turned off.

use tests::{dyadsim, scratch};

/// A linear 64→10 layer trained by backprop with a learning rate far past stability: the MSE loss
/// grows about 10⁴× per epoch (0.98 → 1.3e4 → 5.6e8 → 2.3e13 → 9.8e17) while staying finite, and
/// the accuracy stays at chance.
fn exploding(blow_up: &str) -> String {
    format!(
        r#"Experiment(
    name: "exploding",
    network: (layers: [64, 10], activation: Identity, loss: Mse),
    algorithm: (kind: Backprop),
    training: (epochs: 4, batch_size: 256, learning_rate: 0.3{blow_up}),
)"#
    )
}

/// Run `text`; return summary.json's one point and metrics.csv's rows (header first).
fn run(name: &str, text: &str) -> (serde_json::Value, Vec<Vec<String>>) {
    let dir = scratch(name);
    let exp = dir.join("exp.ron");
    std::fs::write(&exp, text).unwrap();
    let out = dir.join("out");
    let r = dyadsim(&["run", exp.to_str().unwrap(), "--out", out.to_str().unwrap()]);
    assert_eq!(r.code, 0, "{r:?}");
    let summary: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("summary.json")).unwrap()).unwrap();
    let csv = std::fs::read_to_string(out.join("metrics.csv")).unwrap();
    let rows = csv
        .lines()
        .map(|l| l.split(',').map(str::to_owned).collect())
        .collect();
    (summary["points"][0].clone(), rows)
}

fn column(rows: &[Vec<String>], name: &str) -> Vec<String> {
    let at = rows[0].iter().position(|c| c == name).unwrap();
    rows[1..].iter().map(|r| r[at].clone()).collect()
}

#[test]
fn a_loss_that_blows_up_is_recorded_as_diverged_with_its_reason() {
    let (point, rows) = run("blow-up-default", &exploding(""));
    assert_eq!(point["diverged"], "blow-up", "{point}");
    assert_eq!(point["divergence"]["epoch"], 1, "{point}");
    let reason = point["divergence"]["reason"].as_str().unwrap();
    assert!(reason.contains("training.blow_up = 100"), "{reason}");
    // Training stopped at the epoch that crossed 100× the epoch-0 loss.
    assert_eq!(column(&rows, "epoch"), ["0", "1"]);
    assert_eq!(column(&rows, "diverged"), ["blow-up", "blow-up"]);
    let loss: Vec<f64> = column(&rows, "train_loss")
        .iter()
        .map(|v| v.parse().unwrap())
        .collect();
    assert!(loss[1].is_finite() && loss[1] > 100.0 * loss[0], "{loss:?}");
}

#[test]
fn the_blow_up_factor_is_configurable_and_can_be_turned_off() {
    // 10⁶×: epoch 1 (1.3e4 ≈ 1.3e4× the start) passes, epoch 2 (5.6e8) does not.
    let (point, rows) = run("blow-up-1e6", &exploding(", blow_up: 1e6"));
    assert_eq!(point["diverged"], "blow-up", "{point}");
    assert_eq!(point["divergence"]["epoch"], 2, "{point}");
    assert_eq!(column(&rows, "epoch"), ["0", "1", "2"]);
    let (point, rows) = run("blow-up-off", &exploding(", blow_up: None"));
    assert_eq!(point["diverged"], false, "{point}");
    assert!(point.get("divergence").is_none(), "{point}");
    assert_eq!(column(&rows, "epoch"), ["0", "1", "2", "3", "4"]);
    assert!(column(&rows, "diverged").iter().all(String::is_empty));
}

#[test]
fn a_blow_up_factor_of_at_most_one_is_rejected_naming_the_field() {
    for bad in ["1.0", "0.5", "-3.0"] {
        let dir = scratch(&format!("blow-up-bad{bad}"));
        let exp = dir.join("exp.ron");
        std::fs::write(&exp, exploding(&format!(", blow_up: {bad}"))).unwrap();
        let out = dir.join("out");
        let r = dyadsim(&["run", exp.to_str().unwrap(), "--out", out.to_str().unwrap()]);
        assert_eq!(r.code, 2, "{r:?}");
        assert!(
            r.stderr.contains("training.blow_up") && r.stderr.contains("> 1"),
            "{}",
            r.stderr
        );
        assert!(!out.exists());
    }
}

#[test]
fn a_record_written_before_blow_up_detection_reads_as_non_finite() {
    let text = r#"{"point": 0, "seed": 0, "params": {},
        "epochs": [{"epoch": 0, "train_loss": 1.0, "train_acc": 0.1, "test_loss": 1.0, "test_acc": 0.1}],
        "divergence": {"epoch": 1, "batch": 3, "reason": "training loss or gradient became NaN or infinite"}}"#;
    let path = std::path::Path::new("runs/point00000-seed0.json");
    let record = lab::results::parse_record(text, path).unwrap();
    let d = record.divergence.as_ref().unwrap();
    assert_eq!(d.kind, lab::job::DivergenceKind::NonFinite);
    let summary = lab::results::summary_json(&[record], None);
    assert_eq!(summary["points"][0]["diverged"], "non-finite");
}

/// Issue 27, F2: weights drawn with a standard deviation of 10¹⁹ overflow f32 before training, so
/// the epoch-0 losses are NaN and settling diverges in the first mini-batch.
const OVERFLOWING: &str = r#"Experiment(name: "d", network: (layers: [64, 32, 10], init: Normal(1e19)),
    algorithm: (kind: DpTop), training: (epochs: 1, batch_size: 32, learning_rate: 0.01))"#;

#[test]
fn a_record_with_non_finite_losses_resumes_plots_and_merges() {
    let dir = scratch("non-finite-record");
    let exp = dir.join("d.ron");
    std::fs::write(&exp, OVERFLOWING).unwrap();
    let (exp, out, merged) = (
        exp.to_str().unwrap(),
        dir.join("r"),
        dir.join("m").to_str().unwrap().to_owned(),
    );
    let out = out.to_str().unwrap();
    let r = dyadsim(&["run", exp, "--out", out, "-q"]);
    assert_eq!(r.code, 0, "{r:?}");
    let record = std::fs::read_to_string(dir.join("r/runs/point00000-seed0.json")).unwrap();
    assert!(record.contains(r#""train_loss": "NaN""#), "{record}");
    assert!(!record.contains("null"), "{record}");
    let csv = std::fs::read_to_string(dir.join("r/metrics.csv")).unwrap();
    // The same run again finds its record and has nothing to do; plot and merge read it too.
    for args in [
        vec!["run", exp, "--out", out, "-q"],
        vec!["plot", out],
        vec!["merge", out, "--out", &merged],
    ] {
        let r = dyadsim(&args);
        assert_eq!(r.code, 0, "{args:?}: {r:?}");
    }
    assert_eq!(
        std::fs::read_to_string(dir.join("r/metrics.csv")).unwrap(),
        csv
    );
    assert_eq!(
        std::fs::read_to_string(dir.join("m/metrics.csv")).unwrap(),
        csv
    );
    assert_eq!(
        std::fs::read_to_string(dir.join("m/runs/point00000-seed0.json")).unwrap(),
        record
    );
    let row = csv.lines().nth(1).unwrap();
    assert!(row.starts_with("0,0,0,NaN,"), "{csv}");
}

#[test]
fn a_record_written_with_null_for_a_non_finite_value_still_reads() {
    // dyadsim wrote null for NaN and infinities before they had a spelling of their own.
    let text = r#"{"schema": 1, "point": 0, "seed": 0, "params": {},
        "epochs": [{"epoch": 0, "train_loss": null, "train_acc": 0.1, "test_loss": null, "test_acc": 0.1,
                    "extra": {"area_mm2": null}}],
        "divergence": {"epoch": 1, "batch": 0, "kind": "non-finite", "reason": "settling diverged"}}"#;
    let path = std::path::Path::new("runs/point00000-seed0.json");
    let record = lab::results::parse_record(text, path).unwrap();
    let m = &record.epochs[0];
    assert!(m.train_loss.is_nan() && m.test_loss.is_nan() && m.extra["area_mm2"].is_nan());
    let written = serde_json::to_string(&record).unwrap();
    assert!(written.contains(r#""train_loss":"NaN""#), "{written}");
}

#[test]
fn an_area_that_overflows_is_recorded_as_infinite_and_the_folder_resumes() {
    // Cells of 10³⁰⁶ µm² each: the array's area overflows f64 while training stays finite.
    let text = r#"Experiment(name: "c", network: (layers: [64, 16, 10]), algorithm: (kind: DpTop),
    training: (epochs: 1, batch_size: 64, learning_rate: 0.05), metrics: [Cost],
    hardware: Hardware(cost: Some((
        energy: (cell_read: 3.2e-15, dac_per_bit: 1e-14, pulse: 1e-15, compartment: 1e-14),
        latency: (pulse: 5e-9, conversion: 1e-9, settle: 1e-8, digital_op: 1e-9),
        area: (cell: 1e306, adc: 1000.0, dac: 50.0, neuron: 100.0), columns_per_adc: 8))))"#;
    let dir = scratch("overflowing-area");
    let exp = dir.join("c.ron");
    std::fs::write(&exp, text).unwrap();
    let out = dir.join("r");
    let args = ["run", exp.to_str().unwrap(), "--out", out.to_str().unwrap()];
    let r = dyadsim(&args);
    assert_eq!(r.code, 0, "{r:?}");
    let summary: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("summary.json")).unwrap()).unwrap();
    assert_eq!(summary["points"][0]["cost"]["area_mm2"], "inf", "{summary}");
    let r = dyadsim(&args);
    assert_eq!(r.code, 0, "{r:?}");
    let r = dyadsim(&["plot", out.to_str().unwrap()]);
    assert_eq!(r.code, 0, "{r:?}");
}

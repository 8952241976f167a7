//! Every metric on a convolutional network: one epoch of a small pooled and strided CNN on the
//! digits, with every metric kind, on ideal arrays and on noisy Li-ECRAM arrays (stochastic rounding
//! of the digital SGD step), settled by a schedule and in continuous time.

use lab::metrics::MetricSpec;
use tests::{dyadsim, scratch};

const COST: &str = "cost: Some((
            energy: (cell_read: 3.2e-15, dac_per_bit: 1e-14, pulse: 1e-15, compartment: 1e-14),
            latency: (pulse: 5e-9, conversion: 1e-9, settle: 1e-8, digital_op: 1e-9),
            area: (cell: 0.01, adc: 1000.0, dac: 50.0, neuron: 100.0),
            columns_per_adc: 8,
        ))";

fn experiment() -> String {
    format!(
        r#"Experiment(
    name: "conv-metrics",
    dataset: Digits,
    network: (
        input: (8, 8, 1),
        blocks: [Conv(channels: 4, kernel: 3, pool: true), Conv(channels: 6, kernel: 3, stride: 2), Dense(16), Dense(10)],
        init: LecunNormal,
    ),
    algorithm: (kind: DpTop, alpha: 0.5, beta: 0.1, passes: 4),
    training: (epochs: 1, batch_size: 32, optimizer: Sgd, learning_rate: 0.05, momentum: 0.9),
    hardware_presets: {{
        "ideal": Hardware(device: Ideal, {COST}),
        "ecram": Hardware(
            device: LinearStep((
                dw_min: 0.002, up_down: 0.0, w_max: 1.1724, w_min: -0.8276, mult_noise: true,
                gamma_up: 0.1153, gamma_down: 0.5085, dw_min_dtod: 0.1, up_down_dtod: 0.01,
                w_max_dtod: 0.05, w_min_dtod: 0.05, gamma_up_dtod: 0.05, gamma_down_dtod: 0.05,
                dw_min_std: 0.3, write_noise_std: 0.0, mean_bound_reference: true,
            )),
            update: StochasticRounding((max_pulses: 31)),
            io: (),
            {COST},
        ),
    }},
    algorithm_presets: {{
        "schedule": (kind: DpTop, alpha: 0.5, beta: 0.1, passes: 4),
        "circuit": (kind: DpTop, alpha: 0.5, beta: 0.1, circuit: Some((tau: 1e-6, dt: 2e-7, tol: 1e-3, t_max: 2e-5))),
        "backprop": (kind: Backprop),
    }},
    sweep: {{"hardware": ["ideal", "ecram"], "algorithm": ["schedule", "circuit", "backprop"]}},
    seed: 3,
    metrics: [
        GradientCosine(probe: 50),
        Lipschitz(samples: 100),
        Fgsm(epsilons: [0.05]),
        Pgd(epsilons: [0.05], steps: 3),
        Settling,
        Pulses,
        Cost,
    ],
)"#
    )
}

/// The metric kinds of [`experiment`], whose columns metrics.csv must hold.
fn metrics() -> Vec<MetricSpec> {
    vec![
        MetricSpec::GradientCosine { probe: 50 },
        MetricSpec::Lipschitz { samples: 100 },
        MetricSpec::Fgsm {
            epsilons: vec![0.05],
        },
        MetricSpec::Pgd {
            epsilons: vec![0.05],
            steps: 3,
        },
        MetricSpec::Settling,
        MetricSpec::Pulses,
        MetricSpec::Cost,
    ]
}

/// Every column every metric promises is written and finite, for the four blocks, on every row —
/// except the two the format documents as partial: `settle_time` exists in circuit mode only, and
/// `area_mm2` is on the epoch-0 row only. The numbers are checked where they are known: backprop
/// on ideal arrays is its own reference (cosine 1), the Jacobian and weight-product bounds stay
/// below the layer product, and only the ECRAM arrays receive pulses.
#[test]
fn every_metric_is_finite_on_a_convolutional_network() {
    let dir = scratch("conv-metrics");
    let exp = dir.join("conv-metrics.ron");
    std::fs::write(&exp, experiment()).unwrap();
    let out = dir.join("out");
    let o = dyadsim(&["run", exp.to_str().unwrap(), "--out", out.to_str().unwrap()]);
    assert_eq!(o.code, 0, "{o:?}");
    // The first line names the swept algorithms and the blocks, not the base algorithm.
    assert!(
        o.stdout.starts_with(
            "conv-metrics: schedule, circuit, backprop on 8×8×1 → conv 4 3×3 + pool → \
             conv 6 3×3 stride 2 → 16 → 10, "
        ),
        "{o:?}"
    );
    assert!(o.stdout.contains("\n6 points × 1 seed = 6 runs\n"), "{o:?}");
    let mut reader = csv::Reader::from_path(out.join("metrics.csv")).unwrap();
    let header: Vec<String> = reader.headers().unwrap().iter().map(String::from).collect();
    let rows: Vec<Vec<String>> = reader
        .records()
        .map(|r| r.unwrap().iter().map(String::from).collect())
        .collect();
    assert_eq!(rows.len(), 2 * 3 * 2, "six runs, epochs 0 and 1");
    let col = |name: &str| {
        header
            .iter()
            .position(|h| h == name)
            .unwrap_or_else(|| panic!("column {name} missing from {header:?}"))
    };
    let value = |row: &[String], name: &str| -> Option<f64> {
        let cell = &row[col(name)];
        (!cell.is_empty()).then(|| {
            cell.parse()
                .unwrap_or_else(|_| panic!("{name} = {cell:?} is not a number"))
        })
    };
    let columns: Vec<String> = metrics().iter().flat_map(|m| m.columns(4)).collect();
    assert!(columns.contains(&"cosine_l4".to_owned()) && columns.len() > 30);
    for row in &rows {
        let (hardware, algorithm) = (&row[col("hardware")], &row[col("algorithm")]);
        let epoch = value(row, "epoch").unwrap();
        let point = format!("{hardware}/{algorithm} epoch {epoch}");
        for name in &columns {
            let expected = match name.as_str() {
                "settle_time" => algorithm == "circuit",
                "area_mm2" => epoch == 0.0,
                _ => true,
            };
            let v = value(row, name);
            assert_eq!(v.is_some(), expected, "{point}: {name} = {v:?}");
            if let Some(v) = v {
                assert!(v.is_finite(), "{point}: {name} = {v}");
            }
        }
        let lipschitz = |n: &str| value(row, &format!("lipschitz_{n}")).unwrap();
        let bound = lipschitz("layer_product") * (1.0 + 1e-5);
        assert!(
            lipschitz("jacobian") > 0.0 && lipschitz("jacobian") <= bound,
            "{point}"
        );
        assert!(lipschitz("weight_product") <= bound, "{point}");
        if hardware == "ideal" && algorithm == "backprop" {
            for k in 1..=4 {
                let c = value(row, &format!("cosine_l{k}")).unwrap();
                assert!((c - 1.0).abs() < 1e-9, "{point}: cosine_l{k} = {c}");
            }
        }
        let pulses = value(row, "pulses").unwrap();
        assert_eq!(
            pulses > 0.0,
            hardware == "ecram" && epoch == 1.0,
            "{point}: {pulses} pulses"
        );
    }
}

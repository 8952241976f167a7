//! Counting what training does changes nothing it does: the same run with and without the `Cost`
//! metric trains to the same bits.

use tests::{dyadsim, scratch};

/// A small DP⊤ run on ideal arrays that carry a cost model; `metrics` is spliced in.
fn experiment(metrics: &str) -> String {
    format!(
        r#"Experiment(
    name: "cost-or-not",
    dataset: Digits,
    network: (layers: [64, 16, 10], activation: Relu, loss: CrossEntropy),
    algorithm: (kind: DpTop, alpha: 0.0, beta: 0.1, passes: 3),
    training: (epochs: 2, batch_size: 16, optimizer: Adam, learning_rate: 0.003),
    hardware: Hardware(
        device: Ideal,
        cost: Some((
            energy: (cell_read: 3.2e-15, dac_per_bit: 1e-14, pulse: 1e-13, compartment: 1e-14),
            latency: (conversion: 1e-9, settle: 1e-8, digital_op: 1e-9),
            area: (cell: 0.04, adc: 1000.0, dac: 50.0, neuron: 100.0),
            columns_per_adc: 8,
        )),
    ),
    sweep: {{"algorithm.alpha": [0.0, 1.0]}},
    seeds: [0, 1],
    seed: 9,
    metrics: [{metrics}],
)"#
    )
}

/// The columns every run writes, in order, from metrics.csv.
fn base_columns(csv: &str) -> Vec<Vec<String>> {
    let mut lines = csv.lines();
    let header: Vec<&str> = lines.next().expect("a header").split(',').collect();
    let keep: Vec<usize> = [
        "point",
        "seed",
        "epoch",
        "train_loss",
        "train_acc",
        "test_loss",
        "test_acc",
    ]
    .iter()
    .map(|c| {
        header
            .iter()
            .position(|h| h == c)
            .unwrap_or_else(|| panic!("{c} in {header:?}"))
    })
    .collect();
    lines
        .map(|l| {
            let cells: Vec<&str> = l.split(',').collect();
            keep.iter().map(|&i| cells[i].to_owned()).collect()
        })
        .collect()
}

#[test]
fn runs_with_and_without_cost_are_bit_identical_on_ideal_hardware() {
    let dir = scratch("cost-or-not");
    let mut tables = Vec::new();
    for (name, metrics) in [("with", "Cost"), ("without", "")] {
        let exp = dir.join(format!("{name}.ron"));
        std::fs::write(&exp, experiment(metrics)).unwrap();
        let out = dir.join(name);
        let o = dyadsim(&["run", exp.to_str().unwrap(), "--out", out.to_str().unwrap()]);
        assert_eq!(o.code, 0, "{o:?}");
        let csv = std::fs::read_to_string(out.join("metrics.csv")).unwrap();
        if metrics == "Cost" {
            assert!(csv.lines().next().unwrap().contains("energy_j"), "{csv}");
        }
        tables.push(base_columns(&csv));
    }
    assert_eq!(
        tables[0].len(),
        2 * 2 * 3,
        "2 points × 2 seeds × epochs 0..=2"
    );
    assert_eq!(tables[0], tables[1]);
}

//! Every shipped experiment file loads and validates.

use tests::root;

#[test]
fn every_experiment_file_loads() {
    let dir = root().join("experiments");
    let mut n = 0;
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "ron") {
            lab::load::experiment(&path).unwrap_or_else(|e| panic!("{e}"));
            n += 1;
        }
    }
    assert!(n >= 1);
}

#[test]
fn the_paper_mlp_golden_is_the_paper_experiment_shortened() {
    assert_shortened("paper-mlp-fmnist");
}

#[test]
fn the_cnn_golden_is_the_cnn_experiment_shortened() {
    assert_shortened("cnn-fmnist");
}

/// tests/golden/<stem>-short.ron differs from experiments/<stem>.ron only in its name, data subset,
/// epochs, seeds and swept values, and sweeps only values the experiment runs.
fn assert_shortened(stem: &str) {
    let full = lab::load::experiment(&root().join(format!("experiments/{stem}.ron"))).unwrap();
    let short_path = root().join(format!("tests/golden/{stem}-short.ron"));
    let mut short = lab::load::experiment(&short_path).unwrap();
    // Every swept value of the short run is one the experiment runs.
    for axis in &short.sweep.0 {
        let values = &full
            .sweep
            .0
            .iter()
            .find(|a| a.path == axis.path)
            .unwrap()
            .values;
        assert!(
            axis.values.iter().all(|v| values.contains(v)),
            "{}",
            axis.path
        );
    }
    assert!(short.seeds.iter().all(|s| full.seeds.contains(s)));
    // Apart from the shortened fields, the two are the same configuration.
    short.name = full.name.clone();
    short.dataset = full.dataset.clone();
    short.training.epochs = full.training.epochs;
    short.seeds = full.seeds.clone();
    short.sweep = full.sweep.clone();
    short.source = full.source.clone();
    assert_eq!(short, full);
}

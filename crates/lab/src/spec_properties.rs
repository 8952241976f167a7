//! Property test: every experiment, whatever its values, survives the trip to RON and back (the
//! resolved form stored with results and goldens is re-read by `check --golden` and `merge`).

use crate::load::experiment_from_str;
use crate::runner::resolved_ron;
use proptest::prelude::*;
use std::path::Path;

/// Datasets of every kind, with their options.
const DATASETS: [&str; 4] = [
    "Digits",
    "Synthetic((inputs: 8, outputs: 3, train: 40, test: 20, noise: 0.25, task: Regression, seed: 4))",
    "Mnist((dir: \"data/mnist\", train_subset: Some(100), subset_seed: Some(3), normalize: Standardize))",
    "FashionMnist((test_subset: Some(50)))",
];

/// Hardware sections of every kind.
const HARDWARE: [&str; 5] = [
    "Hardware()",
    "Hardware(device: LinearStep(()), update: StochasticRounding((aggregate: true)), io: (is_perfect: true))",
    "Hardware(device: SoftBounds((dw_min: 0.002)), update: StochasticRounding(()))",
    "Hardware(device: ConstantStep(()), update: PulseCoincidence((desired_bl: 15)), periphery: (alpha_std: 0.1))",
    "Hardware(device: PowStep(()), drift: Some(PcmLike(())))",
];

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    #[test]
    fn experiments_round_trip_through_their_resolved_ron(
        dataset in 0..DATASETS.len(),
        hardware in 0..HARDWARE.len(),
        kind in prop::sample::select(vec!["Dp", "DpTop", "DampedDp", "Backprop"]),
        alpha in 0.0f32..=1.0,
        beta in 1e-3f32..1.0,
        passes in 1usize..20,
        seed in any::<u64>(),
        epochs in 1usize..50,
        learning_rate in 1e-4f32..1.0,
        swept in prop::collection::vec(1e-3f64..1.0, 1..4),
    ) {
        let sweep: Vec<String> = swept.iter().map(|v| format!("{v:?}")).collect();
        let text = format!(
            r#"Experiment(
                name: "round-trip",
                dataset: {},
                network: (layers: [8, 6, 3], activation: Tanh, loss: Mse),
                algorithm: (kind: {kind}, alpha: {alpha:?}, beta: {beta:?}, passes: {passes}),
                training: (epochs: {epochs}, batch_size: 4, optimizer: PlainSgd, learning_rate: {learning_rate:?}),
                seed: {seed},
                seeds: [0, 1],
                hardware: {},
                sweep: {{"algorithm.beta": [{}]}},
            )"#,
            DATASETS[dataset],
            HARDWARE[hardware],
            sweep.join(", ")
        );
        let source = Path::new("round-trip.ron");
        let exp = experiment_from_str(&text, source).unwrap();
        let ron = resolved_ron(&exp).unwrap();
        let again = experiment_from_str(&ron, source).unwrap();
        prop_assert_eq!(resolved_ron(&again).unwrap(), ron);
        prop_assert_eq!(again.seed, seed);
        prop_assert_eq!(again.sweep.len(), swept.len());
    }
}

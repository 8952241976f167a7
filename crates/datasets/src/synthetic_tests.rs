//! Tests of the synthetic teacher task through [`load`].

use super::tests::load;
use super::*;
use std::path::Path;

fn synthetic(seed: u64, task: Task) -> SyntheticSpec {
    SyntheticSpec {
        inputs: 12,
        hidden: 20,
        outputs: 5,
        train: 3000,
        test: 600,
        noise: 0.1,
        task,
        seed,
    }
}

fn generate(spec: &SyntheticSpec) -> Dataset {
    load(&DatasetSpec::Synthetic(spec.clone()), Path::new("x.ron")).unwrap()
}

#[test]
fn the_synthetic_task_is_a_function_of_its_seed() {
    let a = generate(&synthetic(3, Task::Classification));
    let b = generate(&synthetic(3, Task::Classification));
    let c = generate(&synthetic(4, Task::Classification));
    assert_eq!(
        (a.inputs(), a.outputs(), a.train.len(), a.test.len()),
        (12, 5, 3000, 600)
    );
    assert_eq!(
        (a.train.x.clone(), a.train.y.clone()),
        (b.train.x, b.train.y)
    );
    assert_eq!(a.test.y, b.test.y);
    assert_ne!(a.train.x, c.train.x);
    assert_ne!(a.train.y, c.train.y);
    // The splits are separate streams: a shorter training split is a prefix and leaves the test
    // split as it was.
    let short = generate(&SyntheticSpec {
        train: 100,
        ..synthetic(3, Task::Classification)
    });
    assert_eq!(short.train.x, a.train.x.columns(0, 100));
    assert_eq!(short.test.x, a.test.x);
    // Inputs are standard normal: mean within 5 standard errors of 0, variance near 1.
    let n = a.train.x.len() as f64;
    let mean = a.train.x.iter().map(|&v| v as f64).sum::<f64>() / n;
    let var = a.train.x.iter().map(|&v| (v as f64).powi(2)).sum::<f64>() / n - mean * mean;
    assert!(mean.abs() < 5.0 / n.sqrt(), "{mean}");
    assert!((var - 1.0).abs() < 5.0 * (2.0 / n).sqrt(), "{var}");
}

#[test]
fn synthetic_classes_are_one_hot_and_near_balanced() {
    for seed in 0..5 {
        let d = generate(&synthetic(seed, Task::Classification));
        assert!(
            d.train
                .y
                .column_iter()
                .all(|c| c.sum() == 1.0 && c.max() == 1.0)
        );
        for c in 0..5 {
            let share = d.train.y.row(c).sum() / d.train.len() as f32;
            assert!(
                (0.05..0.5).contains(&share),
                "seed {seed}, class {c}: {share}"
            );
        }
    }
}

#[test]
fn synthetic_regression_targets_are_the_noisy_teacher() {
    let clean = generate(&SyntheticSpec {
        noise: 0.0,
        ..synthetic(7, Task::Regression)
    });
    let noisy = generate(&synthetic(7, Task::Regression));
    assert_eq!(clean.outputs(), 5);
    assert!(
        noisy
            .train
            .y
            .iter()
            .chain(noisy.test.y.iter())
            .all(|v| v.is_finite())
    );
    assert_eq!(clean.train.x, noisy.train.x);
    let residual = &noisy.train.y - &clean.train.y;
    let n = residual.len() as f64;
    let std = (residual.iter().map(|&r| (r as f64).powi(2)).sum::<f64>() / n).sqrt();
    assert!((std - 0.1).abs() < 5.0 * 0.1 / (2.0 * n).sqrt(), "{std}");
    let spread = clean
        .train
        .y
        .iter()
        .map(|&v| (v as f64).powi(2))
        .sum::<f64>()
        / n;
    assert!(spread > 0.05, "the teacher's outputs vary: {spread}");
}

#[test]
fn out_of_range_synthetic_fields_are_named() {
    let cases = [
        (
            SyntheticSpec {
                inputs: 0,
                ..Default::default()
            },
            "inputs",
        ),
        (
            SyntheticSpec {
                outputs: 1,
                ..Default::default()
            },
            "outputs",
        ),
        (
            SyntheticSpec {
                noise: f64::NAN,
                ..Default::default()
            },
            "noise",
        ),
        (
            SyntheticSpec {
                train: usize::MAX,
                ..Default::default()
            },
            "train",
        ),
    ];
    for (spec, expected) in cases {
        match load(&DatasetSpec::Synthetic(spec), Path::new("e.ron")) {
            Err(DataError::Invalid { field, .. }) => assert_eq!(field, expected),
            other => panic!("expected an error on {expected}, got {other:?}"),
        }
    }
    let one_output = SyntheticSpec {
        outputs: 1,
        task: Task::Regression,
        ..Default::default()
    };
    assert!(one_output.validate().is_ok());
}

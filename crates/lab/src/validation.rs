//! The validation split and the best-validation epoch, as the paper's code does them.
//!
//! `training.validation: f` holds out the last fraction f of the training split, in file order:
//! the paper's code takes `train[:90%]` for training and `train[90%:]` for validation from the
//! same TFDS split (Høier & Zach 2024, `get_cifar10` in `src/training_utils.py` of
//! Rasmuskh/dualprop_icml_2024), so no random draw is involved. The best epoch is the first with
//! the highest validation accuracy (their `val_accuracy > best_accuracy`), over epochs ≥ 1.

use crate::job::EpochMetrics;
use serde::Serialize;

/// metrics.csv column of the validation loss.
pub const VAL_LOSS: &str = "val_loss";
/// metrics.csv column of the validation accuracy.
pub const VAL_ACC: &str = "val_acc";
/// The final metric of figures: the test accuracy of the best-validation epoch (summary.json's
/// `best_validation` and `best_validation_test_acc`), the number the paper reports.
pub const BEST_VALIDATION_TEST_ACC: &str = "best_validation_test_acc";

/// Training samples kept for training when `fraction` of `n` is held out: the boundary n·(1 − f)
/// rounded to the nearest sample (as TFDS rounds percent slices); all `n` without validation.
pub fn train_count(n: usize, fraction: Option<f64>) -> usize {
    match fraction {
        Some(f) => ((n as f64) * (1.0 - f)).round() as usize,
        None => n,
    }
}

/// The epoch whose model the paper reports: the first epoch ≥ 1 with the highest finite
/// validation accuracy, with its validation and test accuracy.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct BestEpoch {
    /// Epochs completed (1-based).
    pub epoch: usize,
    /// Validation accuracy of that epoch, a fraction in [0, 1].
    pub val_acc: f64,
    /// Test accuracy of that epoch, a fraction in [0, 1].
    pub test_acc: f64,
}

/// The best-validation epoch of a run's metrics; `None` without validation or before epoch 1.
pub fn best_epoch(epochs: &[EpochMetrics]) -> Option<BestEpoch> {
    let mut best: Option<BestEpoch> = None;
    for m in epochs.iter().filter(|m| m.epoch >= 1) {
        let Some(&val_acc) = m.extra.get(VAL_ACC) else {
            continue;
        };
        if val_acc.is_finite() && best.is_none_or(|b| val_acc > b.val_acc) {
            best = Some(BestEpoch {
                epoch: m.epoch,
                val_acc,
                test_acc: m.test_acc,
            });
        }
    }
    best
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    fn epoch(epoch: usize, val: Option<f64>, test_acc: f64) -> EpochMetrics {
        EpochMetrics {
            epoch,
            train_loss: 1.0,
            train_acc: 0.5,
            test_loss: 1.0,
            test_acc,
            extra: val
                .map(|v| BTreeMap::from([(VAL_ACC.to_owned(), v)]))
                .unwrap_or_default(),
        }
    }

    #[test]
    fn the_split_holds_out_the_rounded_last_fraction() {
        // The paper's CIFAR-10 split: 45000 to train, 5000 to validate.
        assert_eq!(train_count(50_000, Some(0.1)), 45_000);
        assert_eq!(train_count(50_000, None), 50_000);
        // 15 × 0.9 = 13.5 rounds away from zero: 14 train, 1 validates.
        assert_eq!(train_count(15, Some(0.1)), 14);
        assert_eq!(train_count(1347, Some(0.25)), 1010);
    }

    #[test]
    fn the_best_epoch_is_the_first_with_the_highest_validation_accuracy() {
        let epochs = [
            epoch(0, Some(0.9), 0.1), // before training: never chosen
            epoch(1, Some(0.5), 0.4),
            epoch(2, Some(0.7), 0.6),
            epoch(3, Some(f64::NAN), 0.9),
            epoch(4, Some(0.7), 0.8), // a tie keeps the earlier epoch
            epoch(5, Some(0.6), 0.7),
        ];
        let best = best_epoch(&epochs).unwrap();
        assert_eq!(
            best,
            BestEpoch {
                epoch: 2,
                val_acc: 0.7,
                test_acc: 0.6
            }
        );
        assert_eq!(best_epoch(&[epoch(0, Some(0.3), 0.2)]), None);
        assert_eq!(
            best_epoch(&[epoch(0, None, 0.2), epoch(1, None, 0.4)]),
            None
        );
    }
}

//! The UCI optical digits, embedded.
//!
//! E. Alpaydin and C. Kaynak, "Optical Recognition of Handwritten Digits", UCI Machine Learning
//! Repository, 1998, doi:10.24432/C50P49 (CC BY 4.0). The embedded file is the 1797-image copy that
//! scikit-learn ships: 8×8 images with pixels 0..16, one row per image, the label last.

use super::{Dataset, Split, one_hot};
use flate2::read::GzDecoder;
use nalgebra::DMatrix;
use rand::{RngCore, SeedableRng};
use rand_chacha::ChaCha8Rng;
use std::io::Read;

/// The ten digits.
pub(crate) const CLASSES: usize = 10;

const DIGITS_GZ: &[u8] = include_bytes!("../data/uci-optdigits-8x8.csv.gz");

/// Images in the training split.
pub const DIGITS_TRAIN: usize = 1347;
/// Images in the test split.
pub const DIGITS_TEST: usize = 450;
/// Seed of the fixed permutation that splits the file (the year the data set was published).
const SPLIT_SEED: u64 = 1998;

/// The file's row order is grouped by writer, so a split by row order tests on unseen writers only;
/// a fixed random permutation gives both splits the same mix. Fisher–Yates on ChaCha8 draws is
/// written out so that the split never changes with a library version.
fn split_order(n: usize) -> Vec<usize> {
    let mut rng = ChaCha8Rng::seed_from_u64(SPLIT_SEED);
    let mut order: Vec<usize> = (0..n).collect();
    for i in (1..n).rev() {
        let j = (rng.next_u64() % (i as u64 + 1)) as usize;
        order.swap(i, j);
    }
    order
}

/// The embedded digits, pixels scaled to [0, 1], split by a fixed permutation of the rows: the first
/// 1347 rows of the permutation train, the other 450 test.
pub fn digits() -> Dataset {
    let mut text = String::new();
    GzDecoder::new(DIGITS_GZ)
        .read_to_string(&mut text)
        .expect("the embedded digits file is valid gzip text");
    let mut pixels = Vec::with_capacity(64 * (DIGITS_TRAIN + DIGITS_TEST));
    let mut labels = Vec::with_capacity(DIGITS_TRAIN + DIGITS_TEST);
    for line in text.lines().filter(|l| !l.trim().is_empty()) {
        let values: Vec<u8> = line
            .split(',')
            .map(|v| {
                v.trim()
                    .parse()
                    .expect("the embedded digits file holds integers")
            })
            .collect();
        assert_eq!(values.len(), 65, "the embedded digits file has 65 columns");
        pixels.extend(values[..64].iter().map(|&p| p as f32 / 16.0));
        labels.push(values[64]);
    }
    assert_eq!(labels.len(), DIGITS_TRAIN + DIGITS_TEST);
    let x = DMatrix::from_column_slice(64, labels.len(), &pixels);
    let y = one_hot(&labels, CLASSES);
    let order = split_order(labels.len());
    let split = |from: usize, to: usize| Split {
        x: x.select_columns(&order[from..to]),
        y: y.select_columns(&order[from..to]),
    };
    Dataset {
        name: "digits".into(),
        train: split(0, DIGITS_TRAIN),
        test: split(DIGITS_TRAIN, DIGITS_TRAIN + DIGITS_TEST),
        image: Some(crate::ImageShape::new(8, 8, 1)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digits_have_the_documented_shape_and_range() {
        let d = digits();
        assert_eq!((d.inputs(), d.outputs()), (64, 10));
        assert_eq!((d.train.len(), d.test.len()), (DIGITS_TRAIN, DIGITS_TEST));
        assert!(d.train.x.iter().all(|&p| (0.0..=1.0).contains(&p)));
        assert_eq!(d.train.x.max(), 1.0);
        // Every class appears in both splits, about a tenth each.
        for split in [&d.train, &d.test] {
            for c in 0..10 {
                let n = split.y.row(c).sum() as usize;
                assert!(n * 10 > split.len() * 8 / 10 && n * 10 < split.len() * 12 / 10);
            }
        }
        // Together the splits hold every image of the file exactly once: 178 zeros among them.
        assert_eq!(d.train.y.row(0).sum() + d.test.y.row(0).sum(), 178.0);
        let total: f32 = d.train.x.sum() + d.test.x.sum();
        let first_image_sum = [
            0, 0, 5, 13, 9, 1, 0, 0, 0, 0, 13, 15, 10, 15, 5, 0, 0, 3, 15, 2, 0, 11, 8, 0, 0, 4,
            12, 0, 0, 8, 8, 0, 0, 5, 8, 0, 0, 9, 8, 0, 0, 4, 11, 0, 1, 12, 7, 0, 0, 2, 14, 5, 10,
            12, 0, 0, 0, 0, 6, 13, 10, 0, 0, 0,
        ]
        .iter()
        .sum::<i32>() as f32
            / 16.0;
        let found = (0..d.train.len()).any(|j| {
            d.train.y[(0, j)] == 1.0 && (d.train.x.column(j).sum() - first_image_sum).abs() < 1e-4
        }) || (0..d.test.len()).any(|j| {
            d.test.y[(0, j)] == 1.0 && (d.test.x.column(j).sum() - first_image_sum).abs() < 1e-4
        });
        assert!(
            found,
            "the file's first image (a 0) is in one of the splits"
        );
        assert!(total > 0.0);
    }
}

//! Datasets: what an experiment trains on, as matrices whose columns are samples.

mod digits;

pub use digits::{DIGITS_TEST, DIGITS_TRAIN, digits};

use nalgebra::DMatrix;
use serde::{Deserialize, Serialize};

/// Which data an experiment uses.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum DatasetSpec {
    /// The UCI optical digits (8×8, 10 classes) embedded in the binary: the first 1347 rows train,
    /// the last 450 test; pixels 0..16 scaled to [0, 1].
    Digits,
}

/// A labelled split: inputs (features × n) and one-hot targets (classes × n).
#[derive(Clone, Debug)]
pub struct Split {
    /// Inputs, one column per sample.
    pub x: DMatrix<f32>,
    /// Targets, one column per sample (one-hot for classification).
    pub y: DMatrix<f32>,
}

impl Split {
    /// Number of samples.
    pub fn len(&self) -> usize {
        self.x.ncols()
    }

    /// True when the split holds no sample.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Copy the samples `idx` into the preallocated batch matrices (resized if the batch is shorter).
    pub fn gather(&self, idx: &[usize], x: &mut DMatrix<f32>, y: &mut DMatrix<f32>) {
        if x.ncols() != idx.len() {
            *x = DMatrix::zeros(self.x.nrows(), idx.len());
            *y = DMatrix::zeros(self.y.nrows(), idx.len());
        }
        for (j, &i) in idx.iter().enumerate() {
            x.column_mut(j).copy_from(&self.x.column(i));
            y.column_mut(j).copy_from(&self.y.column(i));
        }
    }
}

/// A train/test pair with its name and shape.
#[derive(Clone, Debug)]
pub struct Dataset {
    /// Short name for reports.
    pub name: String,
    /// Training split.
    pub train: Split,
    /// Test split.
    pub test: Split,
}

impl Dataset {
    /// Number of input features.
    pub fn inputs(&self) -> usize {
        self.train.x.nrows()
    }

    /// Number of outputs (classes).
    pub fn outputs(&self) -> usize {
        self.train.y.nrows()
    }
}

/// One-hot targets for `labels` with `classes` rows.
pub fn one_hot(labels: &[u8], classes: usize) -> DMatrix<f32> {
    let mut y = DMatrix::zeros(classes, labels.len());
    for (j, &l) in labels.iter().enumerate() {
        y[(l as usize, j)] = 1.0;
    }
    y
}

/// Load the dataset `spec` names; relative paths are resolved against the folder of `source`
/// (the experiment file).
pub fn load(spec: &DatasetSpec, source: &std::path::Path) -> crate::Result<Dataset> {
    let _ = source;
    match spec {
        DatasetSpec::Digits => Ok(digits()),
    }
}

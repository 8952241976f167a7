//! Datasets: what an experiment trains on, as matrices whose columns are samples.
//!
//! The crate knows nothing of hardware or learning: a [`DatasetSpec`] goes in, a [`Dataset`] of
//! train and test matrices comes out, and every failure is a [`DataError`] naming the file or field.
//!
//! The embedded UCI digits are the default; MNIST and Fashion-MNIST come from IDX files (see
//! [`idx`]), CIFAR-10 and CIFAR-100 from their binary files ([`CifarSpec`]); [`SyntheticSpec`]
//! generates a teacher-network task of any size. Images are stored channel-last and carry their
//! shape ([`ImageShape`]); [`transform`] holds their normalisation and augmentation.
//! docs/DATA.md says where each comes from and how it is split and scaled.

pub mod cifar;
mod digits;
mod error;
mod files;
pub mod idx;
mod mnist;
mod synthetic;
pub mod transform;

pub use cifar::{CIFAR_SHAPE, CifarLabels, CifarSet, CifarSpec};
pub use digits::{DIGITS_TEST, DIGITS_TRAIN, digits};
pub use mnist::{
    FASHION_MNIST_DIR, FashionMnistFiles, FashionMnistSpec, IDX_CLASSES, IdxSet, MnistFiles,
    MnistSpec,
};
pub use synthetic::{SyntheticSpec, Task};
pub use transform::{ImageShape, Normalize};

pub use error::{DataError, Result};
use nalgebra::DMatrix;
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};
use std::path::Path;

/// Which data an experiment uses, e.g. `dataset: Digits`,
/// `dataset: FashionMnist((train_subset: Some(10000)))`, `dataset: Mnist((dir: "../data/mnist"))`
/// `dataset: Cifar10((dir: "../data/cifar-10-batches-bin"))`
/// or `dataset: Synthetic((inputs: 100, outputs: 10, task: Classification))`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum DatasetSpec {
    /// The UCI optical digits (8×8, 10 classes) embedded in the binary: a fixed permutation of the
    /// rows puts 1347 images in training and 450 in test; pixels 0..16 scaled to [0, 1].
    Digits,
    /// MNIST (28×28, 10 classes) from IDX files in a folder of your choice.
    Mnist(MnistSpec),
    /// Fashion-MNIST (28×28, 10 classes) from IDX files, by default those of the Debian package
    /// `dataset-fashion-mnist`.
    FashionMnist(FashionMnistSpec),
    /// CIFAR-10 (32×32×3, 10 classes; Krizhevsky 2009) from its binary files.
    Cifar10(CifarSpec),
    /// CIFAR-100 (32×32×3, 100 fine or 20 coarse classes) from its binary files.
    Cifar100(CifarSpec),
    /// A task labelled by a fixed random teacher network.
    Synthetic(SyntheticSpec),
}

impl DatasetSpec {
    /// The first out-of-range field, as [`DataError::Invalid`] with the field's path inside this
    /// description, so the caller can report it with its position before anything runs.
    pub fn validate(&self) -> Result<()> {
        match self {
            DatasetSpec::Digits => Ok(()),
            DatasetSpec::Mnist(s) => s.validate(),
            DatasetSpec::FashionMnist(s) => s.validate(),
            DatasetSpec::Cifar10(s) => s.validate(CifarSet::Ten),
            DatasetSpec::Cifar100(s) => s.validate(CifarSet::Hundred),
            DatasetSpec::Synthetic(s) => s.validate(),
        }
    }

    /// Number of outputs the data have, known without reading them: the classes, or the targets
    /// of a regression task.
    pub fn outputs(&self) -> usize {
        match self {
            DatasetSpec::Digits => digits::CLASSES,
            DatasetSpec::Mnist(_) | DatasetSpec::FashionMnist(_) => IDX_CLASSES,
            DatasetSpec::Cifar10(s) => s.classes(CifarSet::Ten),
            DatasetSpec::Cifar100(s) => s.classes(CifarSet::Hundred),
            DatasetSpec::Synthetic(s) => s.outputs,
        }
    }

    /// The shape of every image, where it is known without reading the files: the digits (8×8×1)
    /// and CIFAR (32×32×3); `None` for MNIST-style IDX files, whose shape their header gives, and
    /// for the synthetic task, which has no images ([`DatasetSpec::is_image`]).
    pub fn known_image(&self) -> Option<ImageShape> {
        match self {
            DatasetSpec::Digits => Some(ImageShape::new(8, 8, 1)),
            DatasetSpec::Cifar10(_) | DatasetSpec::Cifar100(_) => Some(CIFAR_SHAPE),
            DatasetSpec::Mnist(_) | DatasetSpec::FashionMnist(_) | DatasetSpec::Synthetic(_) => {
                None
            }
        }
    }

    /// A short name of the data for messages, as the loaded [`Dataset::name`] says it.
    pub fn name(&self) -> &'static str {
        match self {
            DatasetSpec::Digits => "digits",
            DatasetSpec::Mnist(_) => "mnist",
            DatasetSpec::FashionMnist(_) => "fashion-mnist",
            DatasetSpec::Cifar10(_) => "cifar-10",
            DatasetSpec::Cifar100(_) => "cifar-100",
            DatasetSpec::Synthetic(_) => "synthetic",
        }
    }

    /// Whether the data are images (and so have an [`ImageShape`] once loaded): every dataset but
    /// the synthetic task.
    pub fn is_image(&self) -> bool {
        !matches!(self, DatasetSpec::Synthetic(_))
    }

    /// Whether the paper trains on this dataset with augmentation: CIFAR yes, the others no (the
    /// paper's code turns it off for MNIST and Fashion-MNIST).
    pub fn augments_by_default(&self) -> bool {
        matches!(self, DatasetSpec::Cifar10(_) | DatasetSpec::Cifar100(_))
    }
}

/// A random stream a dataset draws from, named by what it draws. Independent streams per part
/// mean that a longer training split leaves the teacher and the test split unchanged, and noise
/// leaves the inputs unchanged.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DataStream {
    /// The synthetic teacher's weights.
    Teacher,
    /// The synthetic training inputs.
    TrainInputs,
    /// The synthetic test inputs.
    TestInputs,
    /// The noise on the synthetic training outputs.
    TrainNoise,
    /// The noise on the synthetic test outputs.
    TestNoise,
    /// The inputs that fit the whitening of the synthetic teacher's outputs.
    Calibration,
    /// Which samples a seeded subset of an IDX file keeps.
    Subset,
}

impl DataStream {
    /// Every part, in the order of [`DataStream::index`].
    pub const ALL: [DataStream; 7] = [
        DataStream::Teacher,
        DataStream::TrainInputs,
        DataStream::TestInputs,
        DataStream::TrainNoise,
        DataStream::TestNoise,
        DataStream::Calibration,
        DataStream::Subset,
    ];

    /// A distinct small number per part, for the caller's stream derivation.
    pub fn index(self) -> u64 {
        self as u64
    }
}

/// Where a dataset's random numbers come from: the stream `part` of the seed a spec names
/// (`SyntheticSpec::seed`, `subset_seed`). The crate has no seeding scheme of its own; the caller
/// passes its own (`lab::seed::data_stream`), so every random stream of an experiment is derived in
/// one place.
pub type Streams<'a> = &'a dyn Fn(u64, DataStream) -> ChaCha8Rng;

/// A labelled split: inputs (features × n) and targets (outputs × n).
#[derive(Clone, Debug)]
pub struct Split {
    /// Inputs, one column per sample.
    pub x: DMatrix<f32>,
    /// Targets, one column per sample: one-hot for classification, real values for a synthetic
    /// regression task.
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
    /// The shape of each input as an image (channel-last), or `None` for data that are no
    /// images (the synthetic task).
    pub image: Option<ImageShape>,
}

impl Dataset {
    /// Number of input features.
    pub fn inputs(&self) -> usize {
        self.train.x.nrows()
    }

    /// Number of outputs (classes, or targets of a regression task).
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
/// (the file that names the dataset); random draws come from `streams`.
pub fn load(spec: &DatasetSpec, source: &Path, streams: Streams) -> Result<Dataset> {
    spec.validate()?;
    match spec {
        DatasetSpec::Digits => Ok(digits()),
        DatasetSpec::Mnist(s) => s.load(source, streams),
        DatasetSpec::FashionMnist(s) => s.load(source, streams),
        DatasetSpec::Cifar10(s) => s.load(CifarSet::Ten, source, streams),
        DatasetSpec::Cifar100(s) => s.load(CifarSet::Hundred, source, streams),
        DatasetSpec::Synthetic(s) => Ok(synthetic::generate(s, streams)),
    }
}

#[cfg(test)]
mod cifar_tests;
#[cfg(test)]
mod synthetic_tests;
#[cfg(test)]
mod tests;

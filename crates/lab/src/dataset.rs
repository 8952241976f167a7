//! The datasets an experiment trains on: the `datasets` crate, with its errors placed in the
//! experiment file that names the dataset.

pub use datasets::{
    CIFAR_SHAPE, CifarLabels, CifarSpec, DIGITS_TEST, DIGITS_TRAIN, DataError, DataStream, Dataset,
    DatasetSpec, FASHION_MNIST_DIR, FashionMnistSpec, IDX_CLASSES, ImageShape, MnistSpec,
    Normalize, Split, SyntheticSpec, Task, digits, idx, one_hot, transform,
};

use crate::error::{LabError, Result};
use std::path::Path;

/// Load the dataset `spec` names; relative paths are resolved against the folder of `source`
/// (the experiment file), which also names the experiment in errors about its fields; random
/// draws come from [`crate::seed::data_stream`].
pub fn load(spec: &DatasetSpec, source: &Path) -> Result<Dataset> {
    datasets::load(spec, source, &crate::seed::data_stream).map_err(|e| from_data_error(e, source))
}

/// The experiment crate's form of a dataset error: a field error names the experiment file and
/// the field's path from the experiment's root (`dataset.train_subset`).
pub fn from_data_error(error: DataError, source: &Path) -> LabError {
    match error {
        DataError::Io { path, source } => LabError::Io { path, source },
        DataError::Data { path, message } => LabError::Data { path, message },
        DataError::Invalid { field, message } => LabError::Invalid {
            path: source.to_owned(),
            position: None,
            field: format!("dataset.{field}"),
            message,
        },
    }
}

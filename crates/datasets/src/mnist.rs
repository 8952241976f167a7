//! MNIST and Fashion-MNIST from their four IDX files, plain or gzipped.

use super::{DataStream, Dataset, Split, Streams, idx, one_hot};
use crate::error::{DataError, Result};
use nalgebra::DMatrix;
use rand::RngCore;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

/// Classes of MNIST and Fashion-MNIST; a label ≥ 10 is an error.
pub const IDX_CLASSES: usize = 10;

/// Where the Debian package `dataset-fashion-mnist` installs Fashion-MNIST.
pub const FASHION_MNIST_DIR: &str = "/usr/share/datasets/fashion-mnist";

/// How pixels (0..255) become inputs.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum Normalize {
    /// Pixel / 255, in [0, 1] (the default).
    #[default]
    UnitInterval,
    /// (pixel − mean) / std with one mean and one standard deviation over every pixel of the
    /// training split actually used (after `train_subset`); the test split uses the same two
    /// numbers. A single pair rather than one per pixel, because MNIST's border pixels are always 0.
    Standardize,
}

/// MNIST-style IDX files in a folder: `train-images-idx3-ubyte`, `train-labels-idx1-ubyte`,
/// `t10k-images-idx3-ubyte`, `t10k-labels-idx1-ubyte`, each plain or with `.gz` appended.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MnistSpec {
    /// Folder of the four files (required); a relative path is relative to the experiment file.
    pub dir: PathBuf,
    /// Use only this many training samples, `Some(n)` with n ≥ 1 (default `None`: all 60000).
    #[serde(default)]
    pub train_subset: Option<usize>,
    /// Use only this many test samples, `Some(n)` with n ≥ 1 (default `None`: all 10000).
    #[serde(default)]
    pub test_subset: Option<usize>,
    /// How subsets are chosen (default `None`: the first n samples of each file;
    /// `Some(seed)`: n samples drawn without replacement from the `Subset` stream of `seed`, kept
    /// in file order).
    #[serde(default)]
    pub subset_seed: Option<u64>,
    /// Pixel scaling (default `UnitInterval`: pixel / 255).
    #[serde(default)]
    pub normalize: Normalize,
}

/// Fashion-MNIST (Zalando Research, MIT licence): the same files and options as [`MnistSpec`], with
/// a default folder.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FashionMnistSpec {
    /// Folder of the four files (default `"/usr/share/datasets/fashion-mnist"`, where
    /// `apt-get install dataset-fashion-mnist` puts them); a relative path is relative to the
    /// experiment file.
    #[serde(default = "fashion_dir")]
    pub dir: PathBuf,
    /// Use only this many training samples, `Some(n)` with n ≥ 1 (default `None`: all 60000).
    #[serde(default)]
    pub train_subset: Option<usize>,
    /// Use only this many test samples, `Some(n)` with n ≥ 1 (default `None`: all 10000).
    #[serde(default)]
    pub test_subset: Option<usize>,
    /// How subsets are chosen (default `None`: the first n; `Some(seed)`: a seeded sample in file
    /// order, as for [`MnistSpec::subset_seed`]).
    #[serde(default)]
    pub subset_seed: Option<u64>,
    /// Pixel scaling (default `UnitInterval`: pixel / 255).
    #[serde(default)]
    pub normalize: Normalize,
}

fn fashion_dir() -> PathBuf {
    PathBuf::from(FASHION_MNIST_DIR)
}

impl Default for FashionMnistSpec {
    fn default() -> Self {
        Self {
            dir: fashion_dir(),
            train_subset: None,
            test_subset: None,
            subset_seed: None,
            normalize: Normalize::UnitInterval,
        }
    }
}

/// What both specs share, with the folder resolved and the advice for a missing file.
pub(super) struct IdxSet<'a> {
    pub name: &'a str,
    pub dir: PathBuf,
    pub train_subset: Option<usize>,
    pub test_subset: Option<usize>,
    pub subset_seed: Option<u64>,
    pub normalize: Normalize,
    pub missing_hint: &'a str,
}

/// A relative `dir` is relative to the folder of the experiment file `source`.
pub(super) fn resolve(dir: &Path, source: &Path) -> PathBuf {
    match source.parent() {
        Some(parent) if dir.is_relative() => parent.join(dir),
        _ => dir.to_owned(),
    }
}

/// The file `stem` in `dir`, plain preferred over gzipped (it decodes faster).
fn find(dir: &Path, stem: &str, hint: &str) -> Result<PathBuf> {
    let plain = dir.join(stem);
    let gz = dir.join(format!("{stem}.gz"));
    if plain.is_file() {
        Ok(plain)
    } else if gz.is_file() {
        Ok(gz)
    } else {
        Err(DataError::Data {
            path: plain,
            message: format!("not found (nor {stem}.gz); {hint}"),
        })
    }
}

/// Images (count × rows × columns) and their labels, checked against each other.
struct RawSplit {
    images: idx::IdxArray,
    labels: Vec<u8>,
    images_path: PathBuf,
}

fn read_split(dir: &Path, prefix: &str, hint: &str) -> Result<RawSplit> {
    let images_path = find(dir, &format!("{prefix}-images-idx3-ubyte"), hint)?;
    let labels_path = find(dir, &format!("{prefix}-labels-idx1-ubyte"), hint)?;
    let images = idx::read(&images_path)?;
    let labels = idx::read(&labels_path)?;
    let fail = |path: &Path, message: String| {
        Err(DataError::Data {
            path: path.to_owned(),
            message,
        })
    };
    if images.dims().len() != 3 {
        return fail(
            &images_path,
            format!(
                "expected images of 3 dimensions (count, rows, columns), found dimensions {:?}",
                images.dims()
            ),
        );
    }
    if images.dims().contains(&0) {
        return fail(
            &images_path,
            format!("holds no pixels (dimensions {:?})", images.dims()),
        );
    }
    if labels.dims().len() != 1 {
        return fail(
            &labels_path,
            format!(
                "expected labels of 1 dimension, found dimensions {:?}",
                labels.dims()
            ),
        );
    }
    if labels.dims()[0] != images.dims()[0] {
        return fail(
            &labels_path,
            format!(
                "holds {} labels, expected one per image of {} ({})",
                labels.dims()[0],
                images_path.display(),
                images.dims()[0]
            ),
        );
    }
    if let Some((i, &l)) = labels
        .data()
        .iter()
        .enumerate()
        .find(|(_, l)| **l as usize >= IDX_CLASSES)
    {
        return fail(
            &labels_path,
            format!("label {i} is {l}, expected a class in 0..{IDX_CLASSES}"),
        );
    }
    Ok(RawSplit {
        labels: labels.data().to_vec(),
        images,
        images_path,
    })
}

/// Indices of the samples to keep: all, the first n, or n drawn by a seeded partial Fisher–Yates
/// (written out so that the choice never changes with a library version), sorted.
fn choose(count: usize, subset: Option<usize>, seed: Option<u64>, streams: Streams) -> Vec<usize> {
    let n = subset.map_or(count, |n| n.min(count));
    let mut all: Vec<usize> = (0..count).collect();
    if let (Some(seed), true) = (seed, n < count) {
        let mut rng = streams(seed, DataStream::Subset);
        for i in 0..n {
            let j = i + (rng.next_u64() % (count - i) as u64) as usize;
            all.swap(i, j);
        }
        all.truncate(n);
        all.sort_unstable();
    }
    all.truncate(n);
    all
}

/// Inputs (one column per kept image) through a 256-entry table, and one-hot targets.
fn build(raw: &RawSplit, keep: &[usize], table: &[f32; 256]) -> Split {
    let pixels = raw.images.dims()[1] * raw.images.dims()[2];
    let data = raw.images.data();
    // IDX images are stored one after the other, which is exactly a column-major matrix with one
    // column per image: a single pass fills it.
    let mut x = Vec::with_capacity(pixels * keep.len());
    for &i in keep {
        x.extend(
            data[i * pixels..(i + 1) * pixels]
                .iter()
                .map(|&p| table[p as usize]),
        );
    }
    let labels: Vec<u8> = keep.iter().map(|&i| raw.labels[i]).collect();
    Split {
        x: DMatrix::from_vec(pixels, keep.len(), x),
        y: one_hot(&labels, IDX_CLASSES),
    }
}

/// Mean and standard deviation of the kept images' pixels, from a histogram (exact and one pass).
fn pixel_moments(raw: &RawSplit, keep: &[usize]) -> (f64, f64) {
    let pixels = raw.images.dims()[1] * raw.images.dims()[2];
    let mut histogram = [0u64; 256];
    for &i in keep {
        for &p in &raw.images.data()[i * pixels..(i + 1) * pixels] {
            histogram[p as usize] += 1;
        }
    }
    let n = (pixels * keep.len()) as f64;
    let mean = (0..256)
        .map(|v| v as f64 * histogram[v] as f64)
        .sum::<f64>()
        / n;
    let var = (0..256)
        .map(|v| (v as f64 - mean).powi(2) * histogram[v] as f64)
        .sum::<f64>()
        / n;
    (mean, var.sqrt())
}

/// Load both splits of an MNIST-style folder.
pub(super) fn load(set: &IdxSet, streams: Streams) -> Result<Dataset> {
    let (train, test) = rayon::join(
        || read_split(&set.dir, "train", set.missing_hint),
        || read_split(&set.dir, "t10k", set.missing_hint),
    );
    let (train, test) = (train?, test?);
    if train.images.dims()[1..] != test.images.dims()[1..] {
        return Err(DataError::Data {
            path: test.images_path.clone(),
            message: format!(
                "images are {:?} pixels, expected the training images' {:?}",
                &test.images.dims()[1..],
                &train.images.dims()[1..]
            ),
        });
    }
    let mut kept = Vec::with_capacity(2);
    for (raw, subset, field) in [
        (&train, set.train_subset, "train_subset"),
        (&test, set.test_subset, "test_subset"),
    ] {
        let count = raw.images.dims()[0];
        if let Some(n) = subset.filter(|&n| n > count) {
            return Err(DataError::Invalid {
                field: field.to_owned(),
                message: format!(
                    "must be at most the {count} samples of {} (got {n})",
                    raw.images_path.display()
                ),
            });
        }
        kept.push(choose(count, subset, set.subset_seed, streams));
    }
    let (shift, scale) = match set.normalize {
        Normalize::UnitInterval => (0.0, 255.0),
        Normalize::Standardize => match pixel_moments(&train, &kept[0]) {
            (mean, std) if std > 0.0 => (mean, std),
            (mean, _) => {
                return Err(DataError::Data {
                    path: train.images_path.clone(),
                    message: format!(
                        "cannot standardize: every training pixel is {mean}, the standard deviation is 0"
                    ),
                });
            }
        },
    };
    let table: [f32; 256] = std::array::from_fn(|p| ((p as f64 - shift) / scale) as f32);
    Ok(Dataset {
        name: set.name.to_owned(),
        train: build(&train, &kept[0], &table),
        test: build(&test, &kept[1], &table),
    })
}

//! MNIST and Fashion-MNIST from their four IDX files, plain or gzipped.

use super::{DataStream, Dataset, Split, Streams, idx, one_hot};
use crate::error::{DataError, Result};
use crate::transform::{ImageShape, Normalize, channel_moments};
use nalgebra::DMatrix;
use rand::RngCore;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

/// Classes of MNIST and Fashion-MNIST; a label ≥ 10 is an error.
pub const IDX_CLASSES: usize = 10;

/// Where the Debian package `dataset-fashion-mnist` installs Fashion-MNIST.
pub const FASHION_MNIST_DIR: &str = "/usr/share/datasets/fashion-mnist";

/// Which MNIST-style set a description ([`MnistSpec`], [`FashionMnistSpec`]) names: its name,
/// default folder, advice for a missing file and the normalisation constants of the paper's code.
pub trait IdxSet {
    /// Short name for reports, e.g. `mnist`.
    const NAME: &'static str;
    /// What to do when a file is missing.
    const MISSING_HINT: &'static str;
    /// Mean and standard deviation of pixel / 255 used by the paper's code for
    /// [`Normalize::Paper`] (Høier & Zach 2024, `get_mnist`/`get_fashionmnist` in
    /// `src/training_utils.py` of Rasmuskh/dualprop_icml_2024).
    const PAPER: (f64, f64);
    /// The folder when `dir` is not written; empty when the set has none (then `dir` is required).
    fn default_dir() -> PathBuf;
}

/// MNIST (LeCun et al. 1998): no standard folder, `dir` is required.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct MnistFiles;

impl IdxSet for MnistFiles {
    const NAME: &'static str = "mnist";
    const MISSING_HINT: &'static str = "point dir at a folder with the MNIST IDX files \
        (train-images-idx3-ubyte, train-labels-idx1-ubyte, t10k-images-idx3-ubyte, \
        t10k-labels-idx1-ubyte, each optionally .gz)";
    const PAPER: (f64, f64) = (0.1307, 0.3081);
    fn default_dir() -> PathBuf {
        PathBuf::new()
    }
}

/// Fashion-MNIST (Zalando Research, MIT licence), by default from the Debian package.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct FashionMnistFiles;

impl IdxSet for FashionMnistFiles {
    const NAME: &'static str = "fashion-mnist";
    const MISSING_HINT: &'static str = "install it with `apt-get install dataset-fashion-mnist` \
        (files in /usr/share/datasets/fashion-mnist), or point dir at a folder with the \
        Fashion-MNIST IDX files";
    const PAPER: (f64, f64) = (0.2860, 0.3530);
    fn default_dir() -> PathBuf {
        PathBuf::from(FASHION_MNIST_DIR)
    }
}

/// Declares an MNIST-style description: one list of fields for [`MnistSpec`] and
/// [`FashionMnistSpec`], two types so that each keeps its own name in experiment files (RON checks
/// a struct's name when it is written, as `experiment.ron` does). They differ only in the folder
/// used when `dir` is not written, which their [`IdxSet`] gives.
macro_rules! idx_spec {
    ($(#[$doc:meta])* $name:ident, $set:ty, $default_dir:literal) => {
        $(#[$doc])*
        #[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
        #[serde(deny_unknown_fields)]
        pub struct $name {
            /// Folder of the four files; a relative path is relative to the experiment file.
            /// Required for MNIST; for Fashion-MNIST the default is
            /// `"/usr/share/datasets/fashion-mnist"`, where `apt-get install dataset-fashion-mnist`
            /// puts them.
            #[serde(default = $default_dir)]
            pub dir: PathBuf,
            /// Use only this many training samples, `Some(n)` with n ≥ 1 (default `None`: all 60000).
            #[serde(default)]
            pub train_subset: Option<usize>,
            /// Use only this many test samples, `Some(n)` with n ≥ 1 (default `None`: all 10000).
            #[serde(default)]
            pub test_subset: Option<usize>,
            /// How subsets are chosen (default `None`: the first n samples of each file;
            /// `Some(seed)`: n samples drawn without replacement from the `Subset` stream of
            /// `seed`, kept in file order); `Some` needs a subset.
            #[serde(default)]
            pub subset_seed: Option<u64>,
            /// Pixel scaling (default `UnitInterval`: pixel / 255).
            #[serde(default)]
            pub normalize: Normalize,
        }

        impl $name {
            /// All samples of the files in `dir`, pixels scaled to [0, 1].
            pub fn new(dir: impl Into<PathBuf>) -> Self {
                Self {
                    dir: dir.into(),
                    train_subset: None,
                    test_subset: None,
                    subset_seed: None,
                    normalize: Normalize::UnitInterval,
                }
            }

            /// The first out-of-range field, its path relative to the description.
            pub fn validate(&self) -> Result<()> {
                validate_idx::<$set>(
                    &self.dir,
                    (self.train_subset, self.test_subset, self.subset_seed),
                )
            }

            /// Load both splits; a relative `dir` is relative to the folder of `source`.
            pub(super) fn load(&self, source: &Path, streams: Streams) -> Result<Dataset> {
                let options = (self.train_subset, self.test_subset, self.subset_seed);
                load_set::<$set>(&self.dir, options, self.normalize, source, streams)
            }
        }

        impl Default for $name {
            fn default() -> Self {
                Self::new(<$set as IdxSet>::default_dir())
            }
        }
    };
}

idx_spec!(
    /// MNIST-style IDX files in a folder: `train-images-idx3-ubyte`, `train-labels-idx1-ubyte`,
    /// `t10k-images-idx3-ubyte`, `t10k-labels-idx1-ubyte`, each plain or with `.gz` appended.
    MnistSpec,
    MnistFiles,
    "mnist_dir"
);

idx_spec!(
    /// Fashion-MNIST (Zalando Research, MIT licence): the same files and options as [`MnistSpec`],
    /// with a default folder.
    FashionMnistSpec,
    FashionMnistFiles,
    "fashion_dir"
);

fn mnist_dir() -> PathBuf {
    MnistFiles::default_dir()
}

fn fashion_dir() -> PathBuf {
    FashionMnistFiles::default_dir()
}

/// `dir` is given (or defaulted) and the (train subset, test subset, subset seed) `options` are
/// valid (see [`validate_subsets`]).
fn validate_idx<F: IdxSet>(
    dir: &Path,
    options: (Option<usize>, Option<usize>, Option<u64>),
) -> Result<()> {
    if dir.as_os_str().is_empty() {
        return Err(DataError::invalid(
            "dir",
            format!("is required for {}: {}", F::NAME, F::MISSING_HINT),
        ));
    }
    validate_subsets(options.0, options.1, options.2)
}

/// Load the set `F` from `dir` (relative to the folder of `source`) with (train subset, test
/// subset, subset seed) `options`.
fn load_set<F: IdxSet>(
    dir: &Path,
    options: (Option<usize>, Option<usize>, Option<u64>),
    normalize: Normalize,
    source: &Path,
    streams: Streams,
) -> Result<Dataset> {
    let (mean, std) = F::PAPER;
    let set = Files {
        name: F::NAME,
        dir: resolve(dir, source),
        train_subset: options.0,
        test_subset: options.1,
        subset_seed: options.2,
        normalize,
        paper: (255.0 * mean, 255.0 * std),
        missing_hint: F::MISSING_HINT,
    };
    load(&set, streams)
}

/// Subsets hold at least one sample when given, and a subset seed has a subset to draw.
pub(super) fn validate_subsets(
    train: Option<usize>,
    test: Option<usize>,
    seed: Option<u64>,
) -> Result<()> {
    for (field, n) in [("train_subset", train), ("test_subset", test)] {
        if n == Some(0) {
            return Err(DataError::invalid(
                field,
                "must be Some(n) with n ≥ 1, or None for all samples (got Some(0))",
            ));
        }
    }
    if let Some(seed) = seed
        && train.is_none()
        && test.is_none()
    {
        return Err(DataError::invalid(
            "subset_seed",
            format!(
                "must be None without train_subset or test_subset (got Some({seed})): every sample is used, so there is no subset to draw; give a subset, or leave subset_seed out"
            ),
        ));
    }
    Ok(())
}

/// What both sets share, with the folder resolved and the advice for a missing file.
struct Files<'a> {
    name: &'a str,
    dir: PathBuf,
    train_subset: Option<usize>,
    test_subset: Option<usize>,
    subset_seed: Option<u64>,
    normalize: Normalize,
    /// (shift, scale) in pixel units of [`Normalize::Paper`].
    paper: (f64, f64),
    missing_hint: &'a str,
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
    if crate::files::is_regular(&plain, hint)? {
        Ok(plain)
    } else if crate::files::is_regular(&gz, hint)? {
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

/// Indices of the samples of a split of `count` samples to keep, or an error on the field `field`
/// when its subset asks for more samples than the split holds; `files` names the file or files
/// that hold them (`data/train-images-idx3-ubyte`).
pub(super) fn keep(
    count: usize,
    subset: Option<usize>,
    seed: Option<u64>,
    field: &str,
    files: &str,
    streams: Streams,
) -> Result<Vec<usize>> {
    if let Some(n) = subset.filter(|&n| n > count) {
        return Err(DataError::Invalid {
            field: field.to_owned(),
            message: format!("must be at most the {count} samples of {files} (got {n})"),
        });
    }
    Ok(choose(count, subset, seed, streams))
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

/// Mean and standard deviation of the kept images' pixels (one channel).
fn pixel_moments(raw: &RawSplit, keep: &[usize]) -> (f64, f64) {
    let pixels = raw.images.dims()[1] * raw.images.dims()[2];
    let data = raw.images.data();
    let images = keep.iter().map(|&i| &data[i * pixels..(i + 1) * pixels]);
    let m = channel_moments(images, 1)[0];
    (m.mean, m.std)
}

/// Load both splits of an MNIST-style folder.
fn load(set: &Files, streams: Streams) -> Result<Dataset> {
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
        let path = &raw.images_path;
        let files = path.display().to_string();
        kept.push(keep(
            count,
            subset,
            set.subset_seed,
            field,
            &files,
            streams,
        )?);
    }
    let (shift, scale) = match set.normalize {
        Normalize::UnitInterval => (0.0, 255.0),
        Normalize::Paper => set.paper,
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
    let dims = train.images.dims();
    Ok(Dataset {
        name: set.name.to_owned(),
        train: build(&train, &kept[0], &table),
        test: build(&test, &kept[1], &table),
        image: Some(ImageShape::new(dims[1], dims[2], 1)),
    })
}

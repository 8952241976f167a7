//! CIFAR-10 and CIFAR-100 (Krizhevsky 2009) from their binary version.
//!
//! CIFAR-10: `data_batch_1.bin` … `data_batch_5.bin` (training) and `test_batch.bin`, records of
//! 1 label byte and 3072 pixel bytes. CIFAR-100: `train.bin` and `test.bin`, records of a coarse
//! label byte, a fine label byte and 3072 pixel bytes. The pixels of a record are three planes
//! (R, G, B) of 32×32 bytes, row-major; they are turned channel-last on load
//! (see [`crate::transform`]).

use super::{Dataset, Split, Streams, one_hot};
use crate::error::{DataError, Result};
use crate::mnist::{keep, resolve, validate_subsets};
use crate::transform::{ChannelMoments, from_unit_constants};
use crate::transform::{ImageShape, Normalize, channel_moments, channel_tables};
use nalgebra::DMatrix;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

/// The shape of every CIFAR image.
pub const CIFAR_SHAPE: ImageShape = ImageShape {
    height: 32,
    width: 32,
    channels: 3,
};

/// Where to get the files, for the error about a missing one.
const CIFAR_HINT: &str = "download the binary version from \
    https://www.cs.toronto.edu/~kriz/cifar.html (cifar-10-binary.tar.gz or \
    cifar-100-binary.tar.gz), unpack it and point dir at the folder holding the .bin files";

/// Which labels of CIFAR-100 are the classes.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum CifarLabels {
    /// The 100 fine classes (the default, as the paper).
    #[default]
    Fine,
    /// The 20 coarse superclasses (CIFAR-100 only).
    Coarse,
}

/// CIFAR-10 or CIFAR-100 files in a folder, e.g. `Cifar10((dir: "../data/cifar-10-batches-bin"))`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CifarSpec {
    /// Folder of the .bin files (required); a relative path is relative to the experiment file.
    pub dir: PathBuf,
    /// Use only this many training samples, `Some(n)` with n ≥ 1 (default `None`: all 50000).
    #[serde(default)]
    pub train_subset: Option<usize>,
    /// Use only this many test samples, `Some(n)` with n ≥ 1 (default `None`: all 10000).
    #[serde(default)]
    pub test_subset: Option<usize>,
    /// How subsets are chosen (default `None`: the first n samples in file order; `Some(seed)`: a
    /// seeded sample kept in file order, as for MNIST); `Some` needs a subset.
    #[serde(default)]
    pub subset_seed: Option<u64>,
    /// Pixel scaling (default `Paper`: the per-channel constants of the paper's code).
    #[serde(default = "paper")]
    pub normalize: Normalize,
    /// The classes of CIFAR-100: `Fine` (default, 100 classes) or `Coarse` (20); CIFAR-10 has
    /// only `Fine`.
    #[serde(default, skip_serializing_if = "is_fine")]
    pub labels: CifarLabels,
}

fn paper() -> Normalize {
    Normalize::Paper
}

fn is_fine(labels: &CifarLabels) -> bool {
    *labels == CifarLabels::Fine
}

/// The two sets: file names, record layout and the paper's normalisation constants.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CifarSet {
    /// 10 classes, five training files.
    Ten,
    /// 100 fine or 20 coarse classes, one training file.
    Hundred,
}

impl CifarSet {
    fn name(self) -> &'static str {
        match self {
            CifarSet::Ten => "cifar-10",
            CifarSet::Hundred => "cifar-100",
        }
    }

    fn train_files(self) -> Vec<String> {
        match self {
            CifarSet::Ten => (1..=5).map(|i| format!("data_batch_{i}.bin")).collect(),
            CifarSet::Hundred => vec!["train.bin".into()],
        }
    }

    fn test_file(self) -> &'static str {
        match self {
            CifarSet::Ten => "test_batch.bin",
            CifarSet::Hundred => "test.bin",
        }
    }

    /// Label bytes before the pixels of each record.
    fn label_bytes(self) -> usize {
        match self {
            CifarSet::Ten => 1,
            CifarSet::Hundred => 2,
        }
    }

    /// Mean and standard deviation of pixel / 255 per channel in the paper's code (Høier & Zach
    /// 2024, `get_cifar10`/`get_cifar100` in `src/training_utils.py` of
    /// Rasmuskh/dualprop_icml_2024).
    fn paper(self) -> ([f64; 3], [f64; 3]) {
        match self {
            CifarSet::Ten => ([0.4914, 0.4822, 0.4465], [0.2023, 0.1994, 0.2010]),
            CifarSet::Hundred => ([0.5074, 0.4867, 0.4411], [0.2011, 0.1987, 0.2025]),
        }
    }
}

impl CifarSpec {
    /// All samples of the files in `dir`, normalised with the paper's constants, fine labels.
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        Self {
            dir: dir.into(),
            train_subset: None,
            test_subset: None,
            subset_seed: None,
            normalize: Normalize::Paper,
            labels: CifarLabels::Fine,
        }
    }

    /// The first out-of-range field for the set `set`, its path relative to the description.
    pub fn validate(&self, set: CifarSet) -> Result<()> {
        if set == CifarSet::Ten && self.labels == CifarLabels::Coarse {
            return Err(DataError::invalid(
                "labels",
                "must be Fine for Cifar10 (got Coarse): CIFAR-10 has no coarse labels, use Cifar100 for the 20 superclasses",
            ));
        }
        validate_subsets(self.train_subset, self.test_subset, self.subset_seed)
    }

    pub(crate) fn classes(&self, set: CifarSet) -> usize {
        match (set, self.labels) {
            (CifarSet::Ten, _) => 10,
            (CifarSet::Hundred, CifarLabels::Fine) => 100,
            (CifarSet::Hundred, CifarLabels::Coarse) => 20,
        }
    }

    /// Load both splits of `set`; a relative `dir` is relative to the folder of `source`.
    pub(super) fn load(&self, set: CifarSet, source: &Path, streams: Streams) -> Result<Dataset> {
        let dir = resolve(&self.dir, source);
        let classes = self.classes(set);
        let read = |name: &str| read_file(&dir.join(name), set, self.labels, classes);
        let train_files = set.train_files();
        let (train, test) = rayon::join(
            || {
                let parts = train_files.iter().map(|f| read(f));
                parts.collect::<Result<Vec<Records>>>()
            },
            || read(set.test_file()),
        );
        let train = Records::concat(train?);
        let test = test?;
        let train_path = dir.join(&train_files[0]);
        let test_path = dir.join(set.test_file());
        let seed = self.subset_seed;
        let keep_train = keep(
            train.len(),
            self.train_subset,
            seed,
            "train_subset",
            &files_in(&dir, &train_files),
            streams,
        )?;
        let keep_test = keep(
            test.len(),
            self.test_subset,
            seed,
            "test_subset",
            &test_path.display().to_string(),
            streams,
        )?;
        let shift_scale: Vec<(f64, f64)> = match self.normalize {
            Normalize::UnitInterval => vec![(0.0, 255.0); 3],
            Normalize::Paper => {
                let (mean, std) = set.paper();
                from_unit_constants(&mean, &std)
            }
            Normalize::Standardize => {
                let moments = channel_moments(keep_train.iter().map(|&i| train.image(i)), 3);
                if let Some(c) = moments.iter().position(|m| m.std <= 0.0) {
                    return Err(DataError::Data {
                        path: train_path,
                        message: format!(
                            "cannot standardize: every training pixel of channel {c} is {}, the standard deviation is 0",
                            moments[c].mean
                        ),
                    });
                }
                moments
                    .iter()
                    .map(|&ChannelMoments { mean, std }| (mean, std))
                    .collect()
            }
        };
        let tables = channel_tables(&shift_scale);
        Ok(Dataset {
            name: set.name().to_owned(),
            train: train.split(&keep_train, &tables, classes),
            test: test.split(&keep_test, &tables, classes),
            image: Some(CIFAR_SHAPE),
        })
    }
}

/// The files `names` in `dir`, for messages: `dir/train.bin`, or for several
/// `the 5 files dir/data_batch_1.bin, data_batch_2.bin, … and data_batch_5.bin`.
fn files_in(dir: &Path, names: &[String]) -> String {
    match names {
        [] => dir.display().to_string(),
        [one] => dir.join(one).display().to_string(),
        [first, middle @ .., last] => {
            let mut text = format!("the {} files {}", names.len(), dir.join(first).display());
            for name in middle {
                text.push_str(&format!(", {name}"));
            }
            format!("{text} and {last}")
        }
    }
}

/// Images (channel-last bytes, one after the other) and their labels.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Records {
    /// The images' bytes, channel-last, one image of `CIFAR_SHAPE.units()` bytes after the other.
    pub pixels: Vec<u8>,
    /// One label per image.
    pub labels: Vec<u8>,
}

impl Records {
    fn len(&self) -> usize {
        self.labels.len()
    }

    fn image(&self, i: usize) -> &[u8] {
        let n = CIFAR_SHAPE.units();
        &self.pixels[i * n..(i + 1) * n]
    }

    fn concat(parts: Vec<Records>) -> Records {
        let mut all = Records {
            pixels: Vec::with_capacity(parts.iter().map(|p| p.pixels.len()).sum()),
            labels: Vec::new(),
        };
        for p in parts {
            all.pixels.extend_from_slice(&p.pixels);
            all.labels.extend_from_slice(&p.labels);
        }
        all
    }

    /// Inputs (one column per kept image) through one table per channel, and one-hot targets.
    fn split(&self, keep: &[usize], tables: &[[f32; 256]], classes: usize) -> Split {
        let units = CIFAR_SHAPE.units();
        let mut x = Vec::with_capacity(units * keep.len());
        for &i in keep {
            let image = self.image(i);
            x.extend(
                image
                    .iter()
                    .enumerate()
                    .map(|(k, &p)| tables[k % 3][p as usize]),
            );
        }
        let labels: Vec<u8> = keep.iter().map(|&i| self.labels[i]).collect();
        Split {
            x: DMatrix::from_vec(units, keep.len(), x),
            y: one_hot(&labels, classes),
        }
    }
}

/// Read one binary file of `set`: whole records, labels in range, planes turned channel-last.
fn read_file(path: &Path, set: CifarSet, labels: CifarLabels, classes: usize) -> Result<Records> {
    if !crate::files::is_regular(path, CIFAR_HINT)? {
        return Err(DataError::Data {
            path: path.to_owned(),
            message: format!("not found; {CIFAR_HINT}"),
        });
    }
    let raw = std::fs::read(path).map_err(|source| DataError::Io {
        path: path.to_owned(),
        source,
    })?;
    decode(&raw, path, set, labels, classes)
}

/// Decode the bytes of one binary file of `set` (read from `path`, which errors name): whole
/// records, labels in 0..`classes`, planes turned channel-last.
pub fn decode(
    raw: &[u8],
    path: &Path,
    set: CifarSet,
    labels: CifarLabels,
    classes: usize,
) -> Result<Records> {
    let fail = |message: String| DataError::Data {
        path: path.to_owned(),
        message,
    };
    let head = set.label_bytes();
    let record = head + CIFAR_SHAPE.units();
    if raw.is_empty() {
        return Err(fail(format!(
            "is empty, expected records of {record} bytes; {CIFAR_HINT}"
        )));
    }
    if raw.len() % record != 0 {
        let whole = raw.len() / record;
        return Err(fail(format!(
            "truncated or corrupt: {} bytes is not a whole number of {record}-byte records; record {whole} starts at byte {} and is cut off after {} bytes",
            raw.len(),
            whole * record,
            raw.len() - whole * record
        )));
    }
    // CIFAR-100 stores the coarse label first, then the fine one.
    let label_at = match labels {
        CifarLabels::Coarse => 0,
        CifarLabels::Fine => head - 1,
    };
    let n = raw.len() / record;
    let plane = CIFAR_SHAPE.height * CIFAR_SHAPE.width;
    let mut out = Records {
        pixels: vec![0; n * CIFAR_SHAPE.units()],
        labels: Vec::with_capacity(n),
    };
    for (i, rec) in raw.chunks_exact(record).enumerate() {
        let label = rec[label_at];
        if label as usize >= classes {
            return Err(fail(format!(
                "record {i} (byte {}) has label {label}, expected a class in 0..{classes}; the file is corrupt or not of this set",
                i * record + label_at
            )));
        }
        out.labels.push(label);
        let image = &mut out.pixels[i * CIFAR_SHAPE.units()..(i + 1) * CIFAR_SHAPE.units()];
        for (c, plane_bytes) in rec[head..].chunks_exact(plane).enumerate() {
            // Plane c holds pixel (y, x) at y·W + x; channel-last puts it at (y·W + x)·C + c.
            for (k, &p) in plane_bytes.iter().enumerate() {
                image[k * CIFAR_SHAPE.channels + c] = p;
            }
        }
    }
    Ok(out)
}

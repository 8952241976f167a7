//! Tests of the CIFAR loaders on small files in the binary format, and of the image transforms.

use super::tests::{load, plain_streams};
use super::transform::{AUGMENT_PAD, Crop, augment_batch, augment_image};
use super::*;
use approx::assert_relative_eq;
use std::path::PathBuf;

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("dyadsim-cifar-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(dir.join("exp")).unwrap();
    dir
}

/// The byte of image `i` at (channel `c`, row `y`, column `x`): distinct enough that a transposed
/// or shifted layout cannot match.
fn pixel(i: usize, c: usize, y: usize, x: usize) -> u8 {
    ((i * 7 + c * 50 + y * 3 + x * 5) % 256) as u8
}

/// Records of images `from..from + n`: the label bytes `labels(i)`, then R, G, B planes.
fn records(from: usize, n: usize, labels: impl Fn(usize) -> Vec<u8>) -> Vec<u8> {
    let mut out = Vec::new();
    for i in from..from + n {
        out.extend(labels(i));
        for c in 0..3 {
            for y in 0..32 {
                for x in 0..32 {
                    out.push(pixel(i, c, y, x));
                }
            }
        }
    }
    out
}

/// A CIFAR-10 folder: five training files of `per_file` images (image i has label i mod 10) and
/// a test file of `test` images.
fn write_cifar10(dir: &Path, per_file: usize, test: usize) {
    std::fs::create_dir_all(dir).unwrap();
    for b in 0..5 {
        let bytes = records(b * per_file, per_file, |i| vec![(i % 10) as u8]);
        std::fs::write(dir.join(format!("data_batch_{}.bin", b + 1)), bytes).unwrap();
    }
    let bytes = records(1000, test, |i| vec![(i % 10) as u8]);
    std::fs::write(dir.join("test_batch.bin"), bytes).unwrap();
}

/// A CIFAR-100 folder: image i has coarse label i mod 20 and fine label (3·i) mod 100.
fn write_cifar100(dir: &Path, train: usize, test: usize) {
    std::fs::create_dir_all(dir).unwrap();
    let labels = |i: usize| vec![(i % 20) as u8, (3 * i % 100) as u8];
    std::fs::write(dir.join("train.bin"), records(0, train, labels)).unwrap();
    std::fs::write(dir.join("test.bin"), records(1000, test, labels)).unwrap();
}

fn unit(dir: &str) -> CifarSpec {
    CifarSpec {
        normalize: Normalize::UnitInterval,
        ..CifarSpec::new(dir)
    }
}

fn label_of(split: &Split, j: usize) -> usize {
    (0..split.y.nrows())
        .find(|&c| split.y[(c, j)] == 1.0)
        .unwrap()
}

#[test]
fn cifar10_files_load_channel_last_in_file_order() {
    let root = scratch("ten");
    write_cifar10(&root.join("data"), 3, 4);
    let source = root.join("exp/x.ron");
    let d = load(&DatasetSpec::Cifar10(unit("../data")), &source).unwrap();
    assert_eq!(d.name, "cifar-10");
    assert_eq!(d.image, Some(ImageShape::new(32, 32, 3)));
    assert_eq!((d.inputs(), d.outputs()), (3072, 10));
    assert_eq!((d.train.len(), d.test.len()), (15, 4));
    let shape = d.image.unwrap();
    // A known pixel: image 7 (third file, second record), green plane, row 5, column 30, sits at
    // unit (5·32 + 30)·3 + 1 = 571.
    assert_eq!(shape.index(5, 30, 1), 571);
    assert_eq!(d.train.x[(571, 7)], pixel(7, 1, 5, 30) as f32 / 255.0);
    for j in 0..15 {
        assert_eq!(label_of(&d.train, j), j % 10);
        for (y, x, c) in [(0, 0, 0), (31, 31, 2), (12, 3, 1)] {
            let expected = pixel(j, c, y, x) as f32 / 255.0;
            assert_eq!(d.train.x[(shape.index(y, x, c), j)], expected);
        }
    }
    assert_eq!(
        d.test.x[(shape.index(1, 2, 2), 3)],
        pixel(1003, 2, 1, 2) as f32 / 255.0
    );
    std::fs::remove_dir_all(root).unwrap();
}

#[test]
fn cifar100_reads_fine_labels_by_default_and_coarse_on_request() {
    let root = scratch("hundred");
    write_cifar100(&root.join("data"), 30, 5);
    let source = root.join("exp/x.ron");
    let fine = load(&DatasetSpec::Cifar100(unit("../data")), &source).unwrap();
    assert_eq!((fine.name.as_str(), fine.outputs()), ("cifar-100", 100));
    let coarse_spec = CifarSpec {
        labels: CifarLabels::Coarse,
        ..unit("../data")
    };
    let coarse = load(&DatasetSpec::Cifar100(coarse_spec.clone()), &source).unwrap();
    assert_eq!(coarse.outputs(), 20);
    for j in 0..30 {
        assert_eq!(label_of(&fine.train, j), 3 * j % 100);
        assert_eq!(label_of(&coarse.train, j), j % 20);
    }
    // The pixels follow the two label bytes.
    assert_eq!(fine.train.x[(2, 4)], pixel(4, 2, 0, 0) as f32 / 255.0);
    // CIFAR-10 has no coarse labels: saying Coarse would do nothing, so it is an error.
    let e = DatasetSpec::Cifar10(coarse_spec).validate().unwrap_err();
    assert!(
        matches!(&e, DataError::Invalid { field, .. } if field == "labels"),
        "{e}"
    );
    std::fs::remove_dir_all(root).unwrap();
}

fn data_message(result: Result<Dataset>) -> String {
    match result {
        Err(e @ DataError::Data { .. }) => e.to_string(),
        other => panic!("expected a data error, got {other:?}"),
    }
}

#[test]
fn missing_truncated_and_corrupt_files_are_errors_naming_file_and_position() {
    let root = scratch("broken");
    let source = root.join("exp/x.ron");
    let dir = root.join("data");
    let spec = DatasetSpec::Cifar10(CifarSpec::new("../data"));
    let m = data_message(load(&spec, &source));
    assert!(m.contains("data_batch_1.bin: not found"), "{m}");
    assert!(
        m.contains("https://www.cs.toronto.edu/~kriz/cifar.html"),
        "{m}"
    );
    assert!(m.contains("binary"), "{m}");

    write_cifar10(&dir, 2, 2);
    let batch3 = dir.join("data_batch_3.bin");
    let raw = std::fs::read(&batch3).unwrap();
    std::fs::write(&batch3, &raw[..3073 + 100]).unwrap();
    let m = data_message(load(&spec, &source));
    assert!(
        m.contains("data_batch_3.bin: truncated or corrupt: 3173 bytes"),
        "{m}"
    );
    assert!(m.contains("record 1 starts at byte 3073"), "{m}");

    write_cifar10(&dir, 2, 2);
    let mut raw = std::fs::read(dir.join("test_batch.bin")).unwrap();
    raw[3073] = 10;
    std::fs::write(dir.join("test_batch.bin"), &raw).unwrap();
    let m = data_message(load(&spec, &source));
    assert!(
        m.contains("test_batch.bin: record 1 (byte 3073) has label 10"),
        "{m}"
    );

    write_cifar10(&dir, 2, 2);
    std::fs::write(dir.join("test_batch.bin"), []).unwrap();
    assert!(data_message(load(&spec, &source)).contains("test_batch.bin: is empty"));

    // A CIFAR-10 file read as CIFAR-100 has 3073-byte records: not whole 3074-byte ones.
    let wrong = root.join("wrong");
    std::fs::create_dir_all(&wrong).unwrap();
    std::fs::copy(dir.join("data_batch_1.bin"), wrong.join("train.bin")).unwrap();
    std::fs::copy(dir.join("data_batch_1.bin"), wrong.join("test.bin")).unwrap();
    let m = data_message(load(
        &DatasetSpec::Cifar100(CifarSpec::new("../wrong")),
        &source,
    ));
    assert!(m.contains("train.bin: truncated or corrupt"), "{m}");
    std::fs::remove_dir_all(root).unwrap();
}

#[test]
fn normalisation_uses_the_paper_constants_or_per_channel_training_statistics() {
    let root = scratch("normalise");
    write_cifar10(&root.join("data"), 4, 3);
    let source = root.join("exp/x.ron");
    let paper = load(&DatasetSpec::Cifar10(CifarSpec::new("../data")), &source).unwrap();
    let shape = CIFAR_SHAPE;
    let (mean, std) = ([0.4914, 0.4822, 0.4465], [0.2023, 0.1994, 0.2010]);
    for c in 0..3 {
        let p = pixel(2, c, 4, 9) as f64;
        let expected = (p / 255.0 - mean[c]) / std[c];
        assert_relative_eq!(
            paper.train.x[(shape.index(4, 9, c), 2)] as f64,
            expected,
            max_relative = 1e-6
        );
    }
    let spec = CifarSpec {
        normalize: Normalize::Standardize,
        ..CifarSpec::new("../data")
    };
    let s = load(&DatasetSpec::Cifar10(spec), &source).unwrap();
    for c in 0..3 {
        let values: Vec<f64> = (0..s.train.len())
            .flat_map(|j| (0..1024).map(move |k| (j, k * 3 + c)))
            .map(|(j, u)| s.train.x[(u, j)] as f64)
            .collect();
        let n = values.len() as f64;
        let m = values.iter().sum::<f64>() / n;
        let var = values.iter().map(|v| (v - m).powi(2)).sum::<f64>() / n;
        // f32 inputs of a few units: the sums carry about 1e-7 relative error per term.
        assert_relative_eq!(m, 0.0, epsilon = 1e-5);
        assert_relative_eq!(var, 1.0, epsilon = 1e-5);
    }
    std::fs::remove_dir_all(root).unwrap();
}

/// A 3×5×2 image whose value names its position: 100·y + 10·x + c + 1 (never 0).
fn numbered() -> (ImageShape, Vec<f32>) {
    let shape = ImageShape::new(3, 5, 2);
    let mut v = vec![0.0; shape.units()];
    for y in 0..3 {
        for x in 0..5 {
            for c in 0..2 {
                v[shape.index(y, x, c)] = (100 * y + 10 * x + c + 1) as f32;
            }
        }
    }
    (shape, v)
}

#[test]
fn a_crop_shifts_within_the_zero_padded_image_and_a_flip_mirrors_exactly() {
    let (shape, src) = numbered();
    let mut dst = vec![f32::NAN; shape.units()];
    augment_image(&src, &mut dst, shape, Crop::IDENTITY);
    assert_eq!(dst, src);
    let pad = AUGMENT_PAD;
    for dy in 0..=2 * pad {
        for dx in 0..=2 * pad {
            for flip in [false, true] {
                augment_image(&src, &mut dst, shape, Crop { dy, dx, flip });
                for y in 0..3 {
                    for x in 0..5 {
                        let cx = if flip { 4 - x } else { x };
                        let (sy, sx) = (y + dy, cx + dx);
                        for c in 0..2 {
                            let inside =
                                (pad..pad + 3).contains(&sy) && (pad..pad + 5).contains(&sx);
                            let expected = if inside {
                                src[shape.index(sy - pad, sx - pad, c)]
                            } else {
                                0.0
                            };
                            assert_eq!(dst[shape.index(y, x, c)], expected);
                        }
                    }
                }
            }
        }
    }
    // The flip alone is the exact mirror image.
    let flip = Crop {
        flip: true,
        ..Crop::IDENTITY
    };
    augment_image(&src, &mut dst, shape, flip);
    for y in 0..3 {
        for x in 0..5 {
            assert_eq!(dst[shape.index(y, x, 1)], src[shape.index(y, 4 - x, 1)]);
        }
    }
    // A batch applies each column's own crop.
    let mut batch = DMatrix::from_fn(shape.units(), 2, |i, _| src[i]);
    let crops = [Crop::IDENTITY, flip];
    augment_batch(&mut batch, shape, &crops, &mut Vec::new());
    assert_eq!(batch.column(0).as_slice(), &src[..]);
    assert_eq!(batch.column(1).as_slice(), &dst[..]);
}

#[test]
fn crop_draws_are_in_bounds_uniform_and_repeat_with_the_stream() {
    let n = 81_000;
    let draws = Crop::draws(&mut plain_streams(5, DataStream::Subset), n);
    assert_eq!(
        draws,
        Crop::draws(&mut plain_streams(5, DataStream::Subset), n)
    );
    assert_ne!(
        draws,
        Crop::draws(&mut plain_streams(6, DataStream::Subset), n)
    );
    let side = 2 * AUGMENT_PAD + 1;
    let mut counts = vec![0usize; side * side * 2];
    for d in &draws {
        assert!(d.dy < side && d.dx < side);
        counts[(d.dy * side + d.dx) * 2 + usize::from(d.flip)] += 1;
    }
    // 162 equally likely outcomes of 500 expected each: a binomial standard error of
    // √(500·(1 − 1/162)) ≈ 22.3; 5 σ fails a correct draw with probability below 1e-4 over all
    // 162 cells.
    for &c in &counts {
        assert!((c as f64 - 500.0).abs() < 5.0 * 22.3, "{counts:?}");
    }
}

#[cfg(unix)]
#[test]
fn a_folder_fifo_or_device_where_a_cifar_file_belongs_is_named_as_what_it_is() {
    let root = scratch("not-regular");
    let source = root.join("exp/x.ron");
    let dir = root.join("data");
    let spec = DatasetSpec::Cifar10(CifarSpec::new("../data"));
    write_cifar10(&dir, 2, 2);
    let batch = dir.join("data_batch_1.bin");
    let refused = |what: &str| {
        let m = data_message(load(&spec, &source));
        assert!(
            m.contains(&format!("data_batch_1.bin: is {what}, not a regular file")),
            "{what}: {m}"
        );
        assert!(!m.contains("not found"), "{m}");
    };
    std::fs::remove_file(&batch).unwrap();
    std::fs::create_dir(&batch).unwrap();
    refused("a folder");
    std::fs::remove_dir(&batch).unwrap();
    std::os::unix::fs::symlink("/dev/zero", &batch).unwrap();
    refused("a device");
    std::fs::remove_file(&batch).unwrap();
    let fifo = std::process::Command::new("mkfifo").arg(&batch).status();
    if fifo.is_ok_and(|s| s.success()) {
        // Refused before it is opened: a FIFO with no writer would block the loader forever.
        refused("a FIFO (named pipe)");
        std::fs::remove_file(&batch).unwrap();
    }
    std::os::unix::fs::symlink(dir.join("nothing"), &batch).unwrap();
    let m = data_message(load(&spec, &source));
    assert!(
        m.contains("data_batch_1.bin: is a symbolic link to nothing"),
        "{m}"
    );
    std::fs::remove_file(&batch).unwrap();
    let m = data_message(load(&spec, &source));
    assert!(m.contains("data_batch_1.bin: not found"), "{m}");
    std::fs::remove_dir_all(root).unwrap();
}

#[test]
fn a_train_subset_beyond_the_training_files_names_the_total_and_every_file() {
    let root = scratch("subset-total");
    let source = root.join("exp/x.ron");
    write_cifar10(&root.join("data"), 3, 2);
    let spec = DatasetSpec::Cifar10(CifarSpec {
        train_subset: Some(16),
        ..unit("../data")
    });
    let e = load(&spec, &source).unwrap_err();
    assert!(matches!(&e, DataError::Invalid { field, .. } if field == "train_subset"));
    let m = e.to_string();
    assert!(m.contains("at most the 15 samples of the 5 files "), "{m}");
    assert!(
        m.contains("data_batch_1.bin, data_batch_2.bin, data_batch_3.bin, data_batch_4.bin and data_batch_5.bin (got 16)"),
        "{m}"
    );
    let spec = DatasetSpec::Cifar10(CifarSpec {
        test_subset: Some(3),
        ..unit("../data")
    });
    let m = load(&spec, &source).unwrap_err().to_string();
    assert!(
        m.contains("at most the 2 samples of ") && m.contains("test_batch.bin (got 3)"),
        "{m}"
    );
    std::fs::remove_dir_all(root).unwrap();
}

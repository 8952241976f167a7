//! Tests of the dataset loaders through [`load`], the path every experiment takes.

use super::*;
use approx::assert_relative_eq;
use rand::SeedableRng;
use std::path::PathBuf;

/// Streams for the crate's own tests: the seed and the part's index, plainly. (Experiments use
/// `lab::seed::data_stream`, which lives above this crate.)
pub(crate) fn plain_streams(seed: u64, part: DataStream) -> ChaCha8Rng {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    rng.set_stream(part.index() + 1);
    rng
}

/// [`super::load`] with [`plain_streams`].
pub(crate) fn load(spec: &DatasetSpec, source: &Path) -> Result<Dataset> {
    super::load(spec, source, &plain_streams)
}

/// A fresh scratch folder with an `exp/` subfolder standing in for the experiment's folder.
fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("dyadsim-dataset-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(dir.join("exp")).unwrap();
    dir
}

const ROWS: usize = 3;
const COLS: usize = 4;

fn pixel(image: usize, k: usize) -> u8 {
    ((image * 13 + k * 7) % 256) as u8
}

/// Write a tiny MNIST-style folder: `train` and `test` images of 3×4 pixels, label = index mod 10.
fn write_set(dir: &Path, train: usize, test: usize, gzip: [bool; 2]) {
    std::fs::create_dir_all(dir).unwrap();
    for (prefix, n, gz) in [("train", train, gzip[0]), ("t10k", test, gzip[1])] {
        let ext = if gz { ".gz" } else { "" };
        let images: Vec<u8> = (0..n)
            .flat_map(|i| (0..ROWS * COLS).map(move |k| pixel(i, k)))
            .collect();
        let labels: Vec<u8> = (0..n).map(|i| (i % 10) as u8).collect();
        let images_path = dir.join(format!("{prefix}-images-idx3-ubyte{ext}"));
        idx::write(&images_path, &[n, ROWS, COLS], &images, gz).unwrap();
        let labels_path = dir.join(format!("{prefix}-labels-idx1-ubyte{ext}"));
        idx::write(&labels_path, &[n], &labels, gz).unwrap();
    }
}

fn mnist(dir: &str) -> MnistSpec {
    MnistSpec::new(dir)
}

fn data_message(result: Result<Dataset>) -> String {
    match result {
        Err(e @ DataError::Data { .. }) => e.to_string(),
        other => panic!("expected a data error, got {other:?}"),
    }
}

#[test]
fn small_idx_files_load_plain_and_gzipped_relative_to_the_experiment() {
    let root = scratch("round-trip");
    let source = root.join("exp/x.ron");
    for gzip in [[false, false], [true, true], [true, false]] {
        let data_dir = root.join(format!("data-{}-{}", gzip[0], gzip[1]));
        write_set(&data_dir, 20, 7, gzip);
        let rel = format!("../data-{}-{}", gzip[0], gzip[1]);
        let d = load(&DatasetSpec::Mnist(mnist(&rel)), &source).unwrap();
        assert_eq!(d.name, "mnist");
        assert_eq!((d.inputs(), d.outputs()), (ROWS * COLS, 10));
        assert_eq!((d.train.len(), d.test.len()), (20, 7));
        for (split, n) in [(&d.train, 20), (&d.test, 7)] {
            for i in 0..n {
                for k in 0..ROWS * COLS {
                    assert_eq!(split.x[(k, i)], pixel(i, k) as f32 / 255.0);
                }
                assert_eq!(split.y.column(i).sum(), 1.0);
                assert_eq!(split.y[(i % 10, i)], 1.0);
            }
        }
    }
    std::fs::remove_dir_all(root).unwrap();
}

#[test]
fn subsets_take_the_first_n_or_a_seeded_sample_and_standardize_uses_the_training_split() {
    let root = scratch("subsets");
    write_set(&root.join("data"), 50, 30, [false, true]);
    let source = root.join("exp/x.ron");
    let first = MnistSpec {
        train_subset: Some(12),
        test_subset: Some(5),
        ..mnist("../data")
    };
    let d = load(&DatasetSpec::Mnist(first.clone()), &source).unwrap();
    assert_eq!((d.train.len(), d.test.len()), (12, 5));
    assert_eq!(d.train.x[(0, 11)], pixel(11, 0) as f32 / 255.0);

    let seeded = |seed| {
        let spec = MnistSpec {
            subset_seed: Some(seed),
            ..first.clone()
        };
        load(&DatasetSpec::Mnist(spec), &source).unwrap()
    };
    let (a, b, c) = (seeded(1), seeded(1), seeded(2));
    assert_eq!(a.train.x, b.train.x);
    assert_ne!(a.train.x, c.train.x);
    assert_ne!(a.train.x, d.train.x);
    assert_eq!(a.train.len(), 12);

    let spec = MnistSpec {
        normalize: Normalize::Standardize,
        ..first.clone()
    };
    let s = load(&DatasetSpec::Mnist(spec), &source).unwrap();
    let n = s.train.x.len() as f64;
    let mean = s.train.x.iter().map(|&v| v as f64).sum::<f64>() / n;
    let var = s
        .train
        .x
        .iter()
        .map(|&v| (v as f64 - mean).powi(2))
        .sum::<f64>()
        / n;
    assert_relative_eq!(mean, 0.0, epsilon = 1e-6);
    assert_relative_eq!(var, 1.0, epsilon = 1e-5);
    // The test split is mapped by the same affine function of the pixel.
    let slope = (s.test.x[(1, 0)] - s.test.x[(0, 0)]) / (d.test.x[(1, 0)] - d.test.x[(0, 0)]);
    let expected =
        (s.train.x[(1, 0)] - s.train.x[(0, 0)]) / (d.train.x[(1, 0)] - d.train.x[(0, 0)]);
    assert_relative_eq!(slope, expected, max_relative = 1e-4);

    let too_many = MnistSpec {
        train_subset: Some(51),
        ..mnist("../data")
    };
    let e = load(&DatasetSpec::Mnist(too_many), &source).unwrap_err();
    assert!(matches!(&e, DataError::Invalid { field, .. } if field == "train_subset"));
    assert!(e.to_string().contains("at most the 50 samples"), "{e}");
    let zero = MnistSpec {
        test_subset: Some(0),
        ..mnist("../data")
    };
    assert!(load(&DatasetSpec::Mnist(zero), &source).is_err());
    std::fs::remove_dir_all(root).unwrap();
}

#[test]
fn missing_files_say_how_to_get_them() {
    let root = scratch("missing");
    let source = root.join("exp/x.ron");
    let fashion = FashionMnistSpec {
        dir: root.join("nowhere"),
        ..FashionMnistSpec::default()
    };
    let m = data_message(load(&DatasetSpec::FashionMnist(fashion), &source));
    assert!(
        m.contains("train-images-idx3-ubyte: not found (nor train-images-idx3-ubyte.gz)"),
        "{m}"
    );
    assert!(m.contains("apt-get install dataset-fashion-mnist"), "{m}");
    write_set(&root.join("data"), 4, 3, [true, false]);
    std::fs::remove_file(root.join("data/t10k-labels-idx1-ubyte")).unwrap();
    let m = data_message(load(&DatasetSpec::Mnist(mnist("../data")), &source));
    assert!(m.contains("t10k-labels-idx1-ubyte: not found"), "{m}");
    assert!(
        m.contains("point dir at a folder with the MNIST IDX files"),
        "{m}"
    );
    std::fs::remove_dir_all(root).unwrap();
}

#[test]
fn inconsistent_files_are_data_errors_naming_the_file() {
    let root = scratch("inconsistent");
    let source = root.join("exp/x.ron");
    let dir = root.join("data");
    let load_here = || data_message(load(&DatasetSpec::Mnist(mnist("../data")), &source));

    write_set(&dir, 6, 3, [false, false]);
    idx::write(&dir.join("train-labels-idx1-ubyte"), &[5], &[0; 5], false).unwrap();
    let m = load_here();
    assert!(
        m.contains("train-labels-idx1-ubyte: holds 5 labels, expected one per image"),
        "{m}"
    );

    write_set(&dir, 6, 3, [false, false]);
    idx::write(
        &dir.join("t10k-labels-idx1-ubyte"),
        &[3],
        &[1, 10, 2],
        false,
    )
    .unwrap();
    let m = load_here();
    assert!(
        m.contains("label 1 is 10, expected a class in 0..10"),
        "{m}"
    );

    write_set(&dir, 6, 3, [false, false]);
    idx::write(
        &dir.join("t10k-images-idx3-ubyte"),
        &[3, 2, 2],
        &[0; 12],
        false,
    )
    .unwrap();
    assert!(load_here().contains("expected the training images' [3, 4]"));

    write_set(&dir, 6, 3, [false, false]);
    let raw = std::fs::read(dir.join("train-images-idx3-ubyte")).unwrap();
    std::fs::write(dir.join("train-images-idx3-ubyte"), &raw[..raw.len() - 1]).unwrap();
    let m = load_here();
    assert!(m.contains("train-images-idx3-ubyte: truncated"), "{m}");

    let mut wrong = raw;
    wrong[2] = 0x0c;
    std::fs::write(dir.join("train-images-idx3-ubyte"), &wrong).unwrap();
    assert!(load_here().contains("unsupported IDX value type 0x0c"));
    idx::write(&dir.join("train-images-idx3-ubyte"), &[0, 3, 4], &[], false).unwrap();
    idx::write(&dir.join("train-labels-idx1-ubyte"), &[0], &[], false).unwrap();
    assert!(load_here().contains("holds no pixels"));
    wrong[0] = 0x1f;
    std::fs::write(dir.join("train-images-idx3-ubyte"), &wrong).unwrap();
    assert!(load_here().contains("wrong magic number"));
    std::fs::remove_dir_all(root).unwrap();
}

/// The real Fashion-MNIST, when the Debian package is installed (CI installs it).
#[test]
fn fashion_mnist_from_the_debian_package_has_its_documented_shape() {
    if !Path::new(FASHION_MNIST_DIR).is_dir() {
        println!(
            "note: {FASHION_MNIST_DIR} absent, skipped (apt-get install dataset-fashion-mnist)"
        );
        return;
    }
    let spec = DatasetSpec::FashionMnist(FashionMnistSpec::default());
    let d = load(&spec, Path::new("experiments/x.ron")).unwrap();
    assert_eq!(d.name, "fashion-mnist");
    assert_eq!((d.inputs(), d.outputs()), (784, 10));
    assert_eq!((d.train.len(), d.test.len()), (60000, 10000));
    for c in 0..10 {
        assert_eq!(d.train.y.row(c).sum(), 6000.0);
        assert_eq!(d.test.y.row(c).sum(), 1000.0);
    }
    assert!(d.train.x.iter().all(|p| (0.0..=1.0).contains(p)));
    assert_eq!(d.train.x.max(), 1.0);
}

#[test]
fn dataset_specs_parse_from_ron_with_defaults_and_reject_typos() {
    let parse = |text: &str| ron::from_str::<DatasetSpec>(text);
    assert_eq!(parse("Digits").unwrap(), DatasetSpec::Digits);
    assert_eq!(
        parse("FashionMnist(())").unwrap(),
        DatasetSpec::FashionMnist(FashionMnistSpec::default())
    );
    assert_eq!(
        parse(r#"Mnist((dir: "m", train_subset: Some(100), normalize: Standardize))"#).unwrap(),
        DatasetSpec::Mnist(MnistSpec {
            train_subset: Some(100),
            normalize: Normalize::Standardize,
            ..mnist("m")
        })
    );
    assert_eq!(
        parse("Synthetic((inputs: 100, task: Regression))").unwrap(),
        DatasetSpec::Synthetic(SyntheticSpec {
            inputs: 100,
            task: Task::Regression,
            ..Default::default()
        })
    );
    // MNIST has no standard folder: `dir` is required, and Fashion-MNIST's default stays.
    let e = parse("Mnist(())").unwrap().validate().unwrap_err();
    assert!(
        matches!(&e, DataError::Invalid { field, .. } if field == "dir"),
        "{e}"
    );
    assert!(e.to_string().contains("point dir at a folder"), "{e}");
    assert_eq!(
        FashionMnistSpec::default().dir,
        PathBuf::from("/usr/share/datasets/fashion-mnist")
    );
    let typo = parse(r#"Mnist((dir: "m", train_subst: Some(1)))"#).unwrap_err();
    assert!(typo.to_string().contains("train_subst"), "{typo}");
    assert!(parse("Synthetic((nosie: 0.1))").is_err());
    // experiment.ron writes struct names: each spec keeps its own.
    let named = ron::ser::PrettyConfig::new().struct_names(true);
    let text = ron::ser::to_string_pretty(&FashionMnistSpec::default(), named.clone()).unwrap();
    assert!(text.starts_with("FashionMnistSpec("), "{text}");
    assert_eq!(
        ron::from_str::<FashionMnistSpec>(&text).unwrap(),
        FashionMnistSpec::default()
    );
    let text = ron::ser::to_string_pretty(&MnistSpec::new("m"), named).unwrap();
    assert!(text.starts_with("MnistSpec("), "{text}");
    // What the results record reads back as the same spec.
    for spec in [
        DatasetSpec::Digits,
        DatasetSpec::FashionMnist(FashionMnistSpec::default()),
        DatasetSpec::Synthetic(SyntheticSpec::default()),
    ] {
        assert_eq!(parse(&ron::to_string(&spec).unwrap()).unwrap(), spec);
    }
}

#[test]
fn a_subset_seed_without_a_subset_is_refused() {
    let parse = |text: &str| ron::from_str::<DatasetSpec>(text);
    for text in [
        r#"Mnist((dir: "m", subset_seed: Some(3)))"#,
        "FashionMnist((subset_seed: Some(3)))",
        r#"Cifar10((dir: "c", subset_seed: Some(3)))"#,
    ] {
        let e = parse(text).unwrap().validate().unwrap_err();
        assert!(
            matches!(&e, DataError::Invalid { field, .. } if field == "subset_seed"),
            "{text}: {e}"
        );
        assert!(e.to_string().contains("no subset to draw"), "{text}: {e}");
    }
    // With a subset of either split the seed chooses it; None is always allowed.
    for text in [
        r#"Mnist((dir: "m", train_subset: Some(10), subset_seed: Some(3)))"#,
        r#"Cifar10((dir: "c", test_subset: Some(10), subset_seed: Some(3)))"#,
        r#"Mnist((dir: "m", subset_seed: None))"#,
    ] {
        assert!(parse(text).unwrap().validate().is_ok(), "{text}");
    }
}

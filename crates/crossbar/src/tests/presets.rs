//! Every shipped hardware file parses, validates and runs a read and an update.

use crate::spec::Hardware;
use crate::{AnalogArray, Crossbar, Update};
use nalgebra::DMatrix;

#[test]
fn every_device_model_file_parses_validates_and_runs() {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../../device-models");
    let mut names: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    names.sort();
    let expected = [
        "capacitor-li2018",
        "dyadic-periphery",
        "ecram-mo-kim2019",
        "ecram-tang2018",
        "gokmen-vlasov",
        "ideal",
        "idealized",
        "noisy-reference",
        "pcm-inference-drift",
        "pcm-nandakumar2020",
        "reram-es",
        "reram-hfo2",
        "reram-om",
        "reram-sb",
    ];
    for name in expected {
        assert!(
            names.iter().any(|p| p.file_stem().unwrap() == name),
            "device-models/{name}.ron is missing"
        );
    }
    let w0 = DMatrix::from_fn(6, 5, |i, j| 0.05 * (i as f32 - j as f32));
    let x = DMatrix::from_fn(5, 3, |i, j| 0.2 * (i + j) as f32 - 0.3);
    let d = DMatrix::from_fn(6, 3, |i, j| 0.1 * (i as f32 - j as f32));
    for path in names
        .iter()
        .filter(|p| p.extension().is_some_and(|e| e == "ron"))
    {
        let text = std::fs::read_to_string(path).unwrap();
        assert!(
            text.trim_start().starts_with("//"),
            "{} must open with a comment citing its source",
            path.display()
        );
        let hw: Hardware =
            ron::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        hw.validate().unwrap();
        let mut a = AnalogArray::new(&hw, &w0, 1).unwrap();
        let mut y = DMatrix::zeros(6, 3);
        a.read(&x, &mut y);
        a.update(Update::OuterProduct {
            x: &x,
            d: &d,
            lr: 0.01,
        });
        a.update(Update::Delta(&DMatrix::from_element(6, 5, 0.001)));
        a.age(3600.0);
        a.read(&x, &mut y);
        assert!(
            y.iter().all(|v| v.is_finite()),
            "{}: non-finite read",
            path.display()
        );
        assert!(
            a.weights().iter().all(|v| v.is_finite()),
            "{}: non-finite weights",
            path.display()
        );
    }
}

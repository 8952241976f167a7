//! CIFAR-10 and CIFAR-100 binary file content: every length, label byte and set; the first input
//! byte chooses the set and the label kind, the rest is the file.
#![no_main]

use datasets::{CIFAR_SHAPE, CifarLabels, CifarSet};
use libfuzzer_sys::fuzz_target;
use std::path::Path;

fuzz_target!(|data: &[u8]| {
    let Some((&choice, raw)) = data.split_first() else {
        return;
    };
    let (set, labels, classes) = match choice % 3 {
        0 => (CifarSet::Ten, CifarLabels::Fine, 10),
        1 => (CifarSet::Hundred, CifarLabels::Fine, 100),
        _ => (CifarSet::Hundred, CifarLabels::Coarse, 20),
    };
    if let Ok(records) = datasets::cifar::decode(raw, Path::new("fuzz.bin"), set, labels, classes) {
        assert_eq!(
            records.pixels.len(),
            records.labels.len() * CIFAR_SHAPE.units()
        );
        assert!(records.labels.iter().all(|&l| usize::from(l) < classes));
    }
});

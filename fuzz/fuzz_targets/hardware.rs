//! Hardware (device-models) RON text: parse and validate; a valid description is then built into a
//! small array that reads, updates and ages, so odd but valid parameters are exercised too.
#![no_main]

use crossbar::Update;
use libfuzzer_sys::fuzz_target;
use nalgebra::DMatrix;
use std::path::Path;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(hw) = lab::hardware::parse(text, Path::new("device-models/fuzz-input.ron")) else {
        return;
    };
    let w = DMatrix::from_row_slice(3, 2, &[0.1, -0.2, 0.3, 0.0, -0.05, 0.4]);
    let Ok(mut array) = crossbar::build(&hw, &w, 7) else {
        return;
    };
    let x = DMatrix::from_row_slice(2, 2, &[1.0, -0.5, 0.25, 2.0]);
    let mut y = DMatrix::zeros(3, 2);
    array.read(&x, &mut y);
    let d = DMatrix::from_row_slice(3, 2, &[0.1, 0.0, -0.3, 0.2, 0.05, -0.1]);
    let mut z = DMatrix::zeros(2, 2);
    array.read_transposed(&d, &mut z);
    array.update(Update::OuterProduct {
        x: &x,
        d: &d,
        lr: 0.1,
    });
    let delta = DMatrix::from_element(3, 2, 0.01);
    array.update(Update::Delta(&delta));
    array.age(3600.0);
    array.read(&x, &mut y);
    let _ = array.weights();
});

//! Experiment RON text through lab's load entry: parse, resolve hardware, validate, expand the grid,
//! then serialise it the way a results folder stores it. Any panic or abort is a bug.
#![no_main]

use libfuzzer_sys::fuzz_target;
use std::path::Path;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    // Named as if it lay in experiments/, so relative hardware paths of the seeds resolve when the
    // target runs from the workspace root (fuzz/run.sh does).
    if let Ok(exp) = lab::load::experiment_from_str(text, Path::new("experiments/fuzz-input.ron")) {
        let _ = lab::runner::canonical(&exp);
        let _ = lab::runner::resolved_ron(&exp);
    }
});

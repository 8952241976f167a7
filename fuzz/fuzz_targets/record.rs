//! Run-record JSON as the runner loads it from `runs/`, then turned into the tables and summary
//! every results folder is rebuilt with.
#![no_main]

use libfuzzer_sys::fuzz_target;
use std::path::Path;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(record) = lab::results::parse_record(text, Path::new("runs/point00000-seed0.json")) {
        let records = [record];
        let axes = ["algorithm.alpha".to_owned()];
        let _ = lab::results::metrics_csv(&records, &axes);
        let _ = lab::results::retention_csv(&records, &axes);
        let _ = lab::results::summary_json(&records, None);
    }
});

//! IDX file content, plain or gzipped (detected by the gzip magic, as for files on disk).
#![no_main]

use libfuzzer_sys::fuzz_target;
use std::path::Path;

fuzz_target!(|data: &[u8]| {
    if let Ok(array) = datasets::idx::decode(data.to_vec(), Path::new("fuzz.idx")) {
        let count: usize = array.dims().iter().product();
        assert_eq!(array.data().len(), count);
    }
});

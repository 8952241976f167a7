//! The `device --times` parser (drift read-out times in seconds, comma-separated).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(times) = lab::device::parse_list("--times", text) {
        assert!(!times.is_empty() && times.iter().all(|t| t.is_finite() && *t >= 0.0));
    }
});

//! The `device --pulses` parser (signed pulse counts like `+200,-400,+200`).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(programme) = lab::device::parse_programme(text) {
        assert!(!programme.is_empty() && programme.iter().any(|&p| p != 0));
    }
});

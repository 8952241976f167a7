//! The `run --shard i/n` parser.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(shard) = lab::runner::Shard::parse(text) {
        assert!(shard.index < shard.count);
        assert!(shard.owns(shard.index));
    }
});

//! libFuzzer entry for `fuzz_props::seatmap_ops`: the property lives there, so
//! that `cargo test --workspace` replays this target's corpus and
//! artifacts through the same check (`fuzz-props/tests/corpus.rs`).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| fuzz_props::seatmap_ops(data));

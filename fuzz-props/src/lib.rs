//! The fuzz targets' property checks, one function per target, each taking
//! the raw bytes libFuzzer hands over. The targets in `fuzz/` are one-line
//! wrappers around them, and `tests/corpus.rs` replays every file of
//! `fuzz/corpus/<target>/` and `fuzz/artifacts/<target>/` through them in
//! the normal `cargo test --workspace`, so the checks and their inputs
//! cannot rot while nobody runs a fuzzer.
//!
//! - [`seatmap_ops`]: seatcore's `SeatMap` against a `Vec<bool>` model;
//! - [`protocol_stream`]: bytes cut into reads through seatnet's framing and
//!   request handling, checked reply by reply;
//! - [`framing_chunks`]: any chunking of a stream, with pauses within the
//!   grace period, gives the same requests as one write (the grace rule).
//!
//! Both stream checks drive the framer as the server does, on made-up time
//! (`drive.rs`).
//!
//! Every check panics (with a message) when its property fails, and
//! returns quietly on any input it cannot use, so that anything libFuzzer
//! makes is a valid test.

#![forbid(unsafe_code)]

mod drive;
mod framing_chunks;
mod protocol_stream;
mod reads;
mod seatmap_ops;

pub use framing_chunks::framing_chunks;
pub use protocol_stream::protocol_stream;
pub use seatmap_ops::seatmap_ops;

/// A target's property check: panics if the property fails on the input.
pub type Check = fn(&[u8]);

/// Every target: its name (the directory under `fuzz/corpus/` and
/// `fuzz/artifacts/`) and its check.
pub const TARGETS: &[(&str, Check)] = &[
    ("seatmap_ops", seatmap_ops),
    ("protocol_stream", protocol_stream),
    ("framing_chunks", framing_chunks),
];

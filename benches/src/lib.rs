//! Baselines that the benchmarks compare seatcore against, and the harness
//! that times them.
//!
//! # The contenders
//!
//! Every contender implements [`SeatStore`] (reserve one, release one, a
//! per-seat list, any `n` seats), so every benchmark case runs against each:
//!
//! - [`seatcore::SeatMap`]: the library under test;
//! - [`StdMutexSeats`]: the original program's design ported straight to
//!   Rust, a `std::sync::Mutex<Vec<bool>>` behind one global lock;
//! - [`LockedBitset`]: a `parking_lot::Mutex` around a plain `Vec<u64>`
//!   bitset, the obvious "just lock a bitset" alternative;
//! - [`BareAtomic`]: the physical limit, a bare `fetch_or` / `fetch_and` on
//!   an `AtomicU64` with no error reporting at all;
//! - [`LinearScan`]: for the summary benchmark, an atomic bitset whose
//!   search reads word after word from a given start, as seatcore did
//!   before its summary level.
//!
//! # The harness
//!
//! - [`short_runs`]: the criterion settings of every bench file;
//! - [`Crew`]: worker threads started once per benchmark, released together
//!   by a barrier, so only the concurrent section is timed;
//! - [`fill`], [`sample`]: an exact, reproducible share of a store's seats;
//! - [`Churn`]: the summary benchmark's loop (take one seat, free another
//!   reserved seat) over any [`OneSeatSearch`].

mod bare_atomic;
mod bits;
mod churn;
mod crew;
mod fill;
mod linear_scan;
mod locked_bitset;
mod settings;
mod std_mutex;
mod store;

pub use bare_atomic::BareAtomic;
pub use churn::{Churn, OneSeatSearch};
pub use crew::Crew;
pub use fill::{fill, sample};
pub use linear_scan::LinearScan;
pub use locked_bitset::LockedBitset;
pub use settings::short_runs;
pub use std_mutex::StdMutexSeats;
pub use store::SeatStore;

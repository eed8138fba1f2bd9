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
//!   an `AtomicU64` with no error reporting at all.
//!
//! # The harness
//!
//! - [`Crew`]: worker threads started once per benchmark, released together
//!   by a barrier, so only the concurrent section is timed;
//! - [`fill`]: reserves an exact, reproducible share of a store's seats.

mod bare_atomic;
mod bits;
mod crew;
mod fill;
mod locked_bitset;
mod std_mutex;
mod store;

pub use bare_atomic::BareAtomic;
pub use crew::Crew;
pub use fill::fill;
pub use locked_bitset::LockedBitset;
pub use std_mutex::StdMutexSeats;
pub use store::SeatStore;

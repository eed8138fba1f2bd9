//! A lock-free seat inventory: seats are bits of `AtomicU64` words, and every
//! reservation is a compare-and-swap or atomic read-modify-write on them.
//!
//! # The map
//!
//! - [`SeatMap`]: a fixed number of seats, numbered **from 0**, shared by
//!   any number of threads without locks. One bit per seat.
//! - [`Snapshot`]: a plain copy of a map, to inspect at leisure, or its
//!   saved words, to rebuild it ([`SeatMap::from_snapshot`]).
//!
//! # Operations and what they return
//!
//! - exact seats: [`SeatMap::reserve`], [`SeatMap::release`] (one atomic
//!   operation each, wait-free) and their list forms
//!   [`SeatMap::reserve_each`] / [`SeatMap::release_each`] (and `_into`
//!   forms that fill a caller's buffer), which report a [`ReserveOutcome`] /
//!   [`ReleaseOutcome`] per seat;
//! - all or nothing: [`SeatMap::reserve_all`] for a list,
//!   [`SeatMap::reserve_range`] for a run; [`SeatMap::release_range`];
//! - searches: [`SeatMap::reserve_any`] (sorted runs of seats) and
//!   [`SeatMap::reserve_adjacent`], with `_at` forms that pin the start;
//! - queries: [`SeatMap::is_reserved`], [`SeatMap::free_count`],
//!   [`SeatMap::free_seats`], [`SeatMap::free_runs`],
//!   [`SeatMap::snapshot`], …
//! - exclusive setters for replay: [`SeatMap::set_mut`],
//!   [`SeatMap::set_range_mut`], [`SeatMap::clear`];
//! - errors, one type per kind of operation: [`ReserveError`],
//!   [`ReleaseError`], [`AllOrNothingError`], [`RangeError`],
//!   [`SearchError`], [`OutOfRange`] (queries), [`CapacityError`],
//!   [`SnapshotError`]. No input makes the map panic: a seat off the map is
//!   reported, never used as an index.
//!
//! [`SeatMap`]'s docs state the **ordering contract** (whoever wins a seat
//! sees everything its previous holder did before freeing it) and the
//! **sequence-number rule** for journaling.
//!
//! # Example
//!
//! ```
//! use seatcore::{ReserveOutcome::*, SeatMap};
//!
//! let theatre = SeatMap::new(500)?;
//! assert_eq!(theatre.reserve_each(&[4, 9, 4]), [Reserved, Reserved, Taken]);
//! let party = theatre.reserve_adjacent(6)?;          // six seats in a row
//! let singles = theatre.reserve_any(3)?;             // three seats anywhere, as runs
//! assert_eq!(theatre.free_count(), 500 - 2 - 6 - 3);
//! for run in singles {
//!     theatre.release_range(run)?;
//! }
//! assert!(party.clone().all(|seat| theatre.is_reserved(seat).unwrap()));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # Implementation map
//!
//! - `layout`: which word and bit a seat is (all index arithmetic);
//! - `sync`: the one trait every atomic goes through, so loom can check the
//!   real code with no special build flags;
//! - `raw`: the engine, by kind of operation (`words` for the shared
//!   primitives, `claim`, `all_or_nothing`, `range`, `search`, `summary`,
//!   `query`, `exclusive`);
//! - `hint`: the per-thread, per-map start of searches;
//! - `map`, `snapshot`, `outcome`, `error`: the public types.
//!
//! `docs/design.md` in the repository explains the layout, every memory
//! ordering, the all-or-nothing protocol and why no seat is ever
//! double-booked.

#![forbid(unsafe_code)]
#![deny(missing_docs)]

mod error;
mod hint;
mod layout;
mod map;
mod outcome;
mod raw;
mod snapshot;
mod sync;

#[cfg(test)]
mod tests;

/// The README's example runs as a doctest, so it cannot drift from the API.
#[cfg(doctest)]
#[doc = include_str!("../../README.md")]
struct ReadmeDoctests;

pub use error::{
    AllOrNothingError, CapacityError, OutOfRange, RangeError, ReleaseError, ReserveError,
    SearchError, SnapshotError,
};
pub use map::SeatMap;
pub use outcome::{ReleaseOutcome, ReserveOutcome};
pub use snapshot::Snapshot;

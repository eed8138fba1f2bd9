//! A lock-free seat inventory: seats are bits of `AtomicU64` words, and every
//! reservation is a compare-and-swap or atomic read-modify-write on them.
//!
//! # The map
//!
//! - [`SeatMap`]: a fixed number of seats, numbered **from 0**, shared by
//!   any number of threads without locks. One bit per seat.
//! - [`Snapshot`]: a plain copy of a map, to inspect at leisure.
//!
//! # Operations and what they return
//!
//! - exact seats: [`SeatMap::reserve`], [`SeatMap::release`] (one atomic
//!   operation each, wait-free) and their list forms
//!   [`SeatMap::reserve_each`] / [`SeatMap::release_each`], which report a
//!   [`ReserveOutcome`] / [`ReleaseOutcome`] per seat;
//! - all or nothing: [`SeatMap::reserve_all`], failing with
//!   [`AllOrNothingError`];
//! - searches: [`SeatMap::reserve_any`] and [`SeatMap::reserve_adjacent`],
//!   failing with [`NotEnough`];
//! - queries: [`SeatMap::is_reserved`], [`SeatMap::free_count`],
//!   [`SeatMap::free_seats`], [`SeatMap::snapshot`], …
//! - errors: [`SeatError`] for one seat, [`CapacityError`] at construction.
//!   No input makes the map panic: a seat off the map is reported, never
//!   used as an index.
//!
//! # Example
//!
//! ```
//! use seatcore::{ReserveOutcome::*, SeatMap};
//!
//! let theatre = SeatMap::new(500)?;
//! assert_eq!(theatre.reserve_each(&[4, 9, 4]), [Reserved, Reserved, Taken]);
//! let party = theatre.reserve_adjacent(6)?;          // six seats in a row
//! let singles = theatre.reserve_any(3)?;             // three seats anywhere
//! assert_eq!(theatre.free_count(), 500 - 2 - 6 - 3);
//! theatre.release_each(&singles);
//! assert!(party.clone().all(|seat| theatre.is_reserved(seat).unwrap()));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # Implementation map
//!
//! - `layout`: which word and bit a seat is (all index arithmetic);
//! - `sync`: the one trait every atomic goes through, so loom can check the
//!   real code with no special build flags;
//! - `raw`: the engine, by kind of operation (`claim`, `all_or_nothing`,
//!   `search`, `query`);
//! - `hint`: the per-thread start of searches;
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

pub use error::{AllOrNothingError, CapacityError, NotEnough, SeatError};
pub use map::SeatMap;
pub use outcome::{ReleaseOutcome, ReserveOutcome};
pub use snapshot::Snapshot;

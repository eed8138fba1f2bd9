//! The engine, written once over any [`AtomicWord`].
//!
//! [`RawSeatMap`] holds the words and implements every operation; the public
//! [`SeatMap`](crate::SeatMap) is this type with `std`'s `AtomicU64`, and the
//! loom models run this type with loom's. Operations are split by kind:
//!
//! - [`words`]: the shared primitives: find a seat's word, claim and give
//!   back a group of bits in one word, group a list of seats by word;
//! - [`claim`]: one seat, or a per-seat list (one read-modify-write per word);
//! - [`all_or_nothing`]: a list claimed whole or not at all (one CAS per word,
//!   words in ascending order, rolled back on conflict);
//! - [`range`]: a contiguous run, claimed whole or released (one RMW per word);
//! - [`search`]: any `n` free seats, or `n` adjacent ones;
//! - [`summary`]: the hint levels above the seat words that let searches
//!   skip full regions of huge maps;
//! - [`query`]: counts, membership and iteration (plain loads);
//! - [`exclusive`]: `&mut self` setters for building and replaying maps
//!   (no atomic operations).

mod all_or_nothing;
mod claim;
mod exclusive;
mod query;
mod range;
mod search;
mod summary;
mod words;

pub(crate) use query::{FreeRuns, SeatBits};

use crate::error::CapacityError;
use crate::layout::words_for;
use crate::sync::AtomicWord;
use summary::Summary;

/// A fixed-capacity bitset of seats, 1 bit per seat (1 = reserved).
pub(crate) struct RawSeatMap<W> {
    /// `ceil(capacity / 64)` words; seat `s` is bit `s % 64` of word `s / 64`
    /// (see [`crate::layout`]). Bits past `capacity` in the last word stay 0.
    words: Box<[W]>,
    /// Hints over `words`: which words may have a free seat.
    summary: Summary<W>,
    /// Number of seats; seats are `0..capacity`. Never 0.
    capacity: u64,
}

impl<W: AtomicWord> RawSeatMap<W> {
    /// A map of `capacity` free seats.
    pub(crate) fn new(capacity: u64) -> Result<Self, CapacityError> {
        if capacity == 0 {
            return Err(CapacityError::Zero);
        }
        let too_large = CapacityError::TooLarge {
            requested: capacity,
        };
        let count = usize::try_from(words_for(capacity)).map_err(|_| too_large)?;
        let words = try_boxed_words(count).ok_or(too_large)?;
        let summary = Summary::new(count).ok_or(too_large)?;
        Ok(RawSeatMap {
            words,
            summary,
            capacity,
        })
    }

    /// Number of seats.
    #[inline]
    pub(crate) fn capacity(&self) -> u64 {
        self.capacity
    }

    /// Number of words.
    #[inline]
    pub(crate) fn word_count(&self) -> usize {
        self.words.len()
    }
}

/// `count` zero words, or `None` if the memory cannot be had: a capacity
/// too large for this machine is an error, never an allocation abort.
pub(super) fn try_boxed_words<W: AtomicWord>(count: usize) -> Option<Box<[W]>> {
    let mut words = Vec::new();
    words.try_reserve_exact(count).ok()?;
    words.extend((0..count).map(|_| W::new(0)));
    Some(words.into_boxed_slice())
}

//! The engine, written once over any [`AtomicWord`].
//!
//! [`RawSeatMap`] holds the words and implements every operation; the public
//! [`SeatMap`](crate::SeatMap) is this type with `std`'s `AtomicU64`, and the
//! loom models run this type with loom's. Operations are split by kind:
//!
//! - [`claim`]: one seat, or a per-seat list (one read-modify-write per word);
//! - [`all_or_nothing`]: a list claimed whole or not at all (one CAS per word,
//!   words in ascending order, rolled back on conflict);
//! - [`search`]: any `n` free seats, or `n` adjacent ones;
//! - [`query`]: counts, membership and iteration (plain loads).

mod all_or_nothing;
mod claim;
mod query;
mod search;

pub(crate) use query::SeatBits;

use crate::error::CapacityError;
use crate::layout::words_for;
use crate::sync::AtomicWord;

/// A fixed-capacity bitset of seats, 1 bit per seat (1 = reserved).
pub(crate) struct RawSeatMap<W> {
    /// `ceil(capacity / 64)` words; seat `s` is bit `s % 64` of word `s / 64`
    /// (see [`crate::layout`]). Bits past `capacity` in the last word stay 0.
    words: Box<[W]>,
    /// Number of seats; seats are `0..capacity`. Never 0.
    capacity: u64,
}

impl<W: AtomicWord> RawSeatMap<W> {
    /// A map of `capacity` free seats.
    pub(crate) fn new(capacity: u64) -> Result<Self, CapacityError> {
        let error = CapacityError {
            requested: capacity,
        };
        if capacity == 0 {
            return Err(error);
        }
        let count = usize::try_from(words_for(capacity)).map_err(|_| error)?;
        // Ask for the memory up front so that a capacity too large for this
        // machine is a `CapacityError`, not an allocation-failure abort.
        let mut words = Vec::new();
        words.try_reserve_exact(count).map_err(|_| error)?;
        words.extend((0..count).map(|_| W::new(0)));
        let words = words.into_boxed_slice();
        Ok(RawSeatMap { words, capacity })
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

    /// Frees every seat. Exclusive access, so no atomic operation is needed.
    pub(crate) fn clear(&mut self) {
        for word in self.words.iter_mut() {
            word.set_exclusive(0);
        }
    }
}

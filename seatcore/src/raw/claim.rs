//! Exact seats: one seat, or a per-seat list with one outcome per seat.
//!
//! Orderings, for every function here:
//!
//! - a claim (`fetch_or`) is `Acquire`: it pairs with the `Release` of the
//!   `fetch_and` that last freed the seat, so the new holder sees everything
//!   the previous holder did before giving the seat up, as with a mutex. A
//!   claim publishes nothing (the holder writes its own data after it), so it
//!   needs no `Release`;
//! - a release (`fetch_and`) is `Release`, for the same pairing.
//!
//! Whatever the ordering, the read-modify-write itself always acts on the
//! latest value of the word (its place in the word's modification order), so
//! of two claims on one free bit exactly one sees it 0: that is what makes a
//! seat impossible to double-book, and it needs no ordering at all.

use super::RawSeatMap;
use crate::error::{ReleaseError, ReserveError};
use crate::layout::mask_of;
use crate::outcome::{ReleaseOutcome, ReserveOutcome};
use crate::sync::{AtomicWord, Ordering};

impl<W: AtomicWord> RawSeatMap<W> {
    /// Reserves `seat`: one `fetch_or`, wait-free. The summary is not
    /// touched: a full word's summary bit is cleared lazily by searches.
    #[inline]
    pub(crate) fn reserve(&self, seat: u64) -> Result<(), ReserveError> {
        let Some(word) = self.word_index(seat) else {
            return Err(ReserveError::OutOfRange {
                seat,
                capacity: self.capacity,
            });
        };
        let mask = mask_of(seat);
        // Acquire: pairs with the Release of the release that freed it.
        let before = self.words[word].fetch_or(mask, Ordering::Acquire);
        if before & mask == 0 {
            Ok(())
        } else {
            Err(ReserveError::Taken { seat })
        }
    }

    /// Releases `seat`: one `fetch_and`, wait-free (plus a summary update
    /// when the word was full, which is rare and bounded by the levels).
    #[inline]
    pub(crate) fn release(&self, seat: u64) -> Result<(), ReleaseError> {
        let Some(word) = self.word_index(seat) else {
            return Err(ReleaseError::OutOfRange {
                seat,
                capacity: self.capacity,
            });
        };
        let mask = mask_of(seat);
        // Release ordering inside `free_bits`.
        if self.free_bits(word, mask) & mask != 0 {
            Ok(())
        } else {
            Err(ReleaseError::NotReserved { seat })
        }
    }

    /// Reserves every free seat of `seats`, one `fetch_or` per word touched,
    /// writing one outcome per seat, in request order, into `outcomes`
    /// (cleared first). A repeated seat is reserved by its first copy and
    /// reported `Taken` for the later ones.
    pub(crate) fn reserve_each_into(&self, seats: &[u64], outcomes: &mut Vec<ReserveOutcome>) {
        outcomes.clear();
        outcomes.resize(seats.len(), ReserveOutcome::OutOfRange);
        self.for_each_word_group(seats, |word, mask, group| {
            // Acquire: as in `reserve`.
            let before = self.words[word].fetch_or(mask, Ordering::Acquire);
            // Bits that were 0 before are ours; hand each to the first copy
            // of its seat (the group keeps request order).
            let mut won = mask & !before;
            for &i in group {
                let bit = mask_of(seats[i]);
                outcomes[i] = if won & bit != 0 {
                    won &= !bit;
                    ReserveOutcome::Reserved
                } else {
                    ReserveOutcome::Taken
                };
            }
        });
    }

    /// Releases every reserved seat of `seats`, one `fetch_and` per word
    /// touched, writing one outcome per seat, in request order, into
    /// `outcomes` (cleared first).
    pub(crate) fn release_each_into(&self, seats: &[u64], outcomes: &mut Vec<ReleaseOutcome>) {
        outcomes.clear();
        outcomes.resize(seats.len(), ReleaseOutcome::OutOfRange);
        self.for_each_word_group(seats, |word, mask, group| {
            // Release ordering inside `free_bits`.
            let mut freed = mask & self.free_bits(word, mask);
            for &i in group {
                let bit = mask_of(seats[i]);
                outcomes[i] = if freed & bit != 0 {
                    freed &= !bit;
                    ReleaseOutcome::Released
                } else {
                    ReleaseOutcome::NotReserved
                };
            }
        });
    }

    /// `reserve_each_into` with a fresh vector (for the tests).
    #[cfg(test)]
    pub(crate) fn reserve_each(&self, seats: &[u64]) -> Vec<ReserveOutcome> {
        let mut outcomes = Vec::new();
        self.reserve_each_into(seats, &mut outcomes);
        outcomes
    }

    /// `release_each_into` with a fresh vector (for the tests).
    #[cfg(test)]
    pub(crate) fn release_each(&self, seats: &[u64]) -> Vec<ReleaseOutcome> {
        let mut outcomes = Vec::new();
        self.release_each_into(seats, &mut outcomes);
        outcomes
    }
}

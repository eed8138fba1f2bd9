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
use crate::error::SeatError;
use crate::layout::{mask_of, word_of};
use crate::outcome::{ReleaseOutcome, ReserveOutcome};
use crate::sync::{AtomicWord, Ordering};

impl<W: AtomicWord> RawSeatMap<W> {
    /// Reserves `seat`: one `fetch_or`, wait-free.
    #[inline]
    pub(crate) fn reserve(&self, seat: u64) -> Result<(), SeatError> {
        let word = self.word_for(seat)?;
        let mask = mask_of(seat);
        // Acquire: pairs with the Release of the release that freed it.
        let before = word.fetch_or(mask, Ordering::Acquire);
        if before & mask == 0 {
            Ok(())
        } else {
            Err(SeatError::Taken { seat })
        }
    }

    /// Releases `seat`: one `fetch_and`, wait-free.
    #[inline]
    pub(crate) fn release(&self, seat: u64) -> Result<(), SeatError> {
        let word = self.word_for(seat)?;
        let mask = mask_of(seat);
        // Release: pairs with the Acquire of the next claim of this seat.
        let before = word.fetch_and(!mask, Ordering::Release);
        if before & mask != 0 {
            Ok(())
        } else {
            Err(SeatError::NotReserved { seat })
        }
    }

    /// Reserves every free seat of `seats`, one `fetch_or` per word touched.
    /// One outcome per seat, in request order; a repeated seat is reserved
    /// by its first copy and reported `Taken` for the later ones.
    pub(crate) fn reserve_each(&self, seats: &[u64]) -> Vec<ReserveOutcome> {
        let mut outcomes = vec![ReserveOutcome::OutOfRange; seats.len()];
        for group in self
            .positions_by_word(seats)
            .chunk_by(|&a, &b| same_word(seats, a, b))
        {
            let word = &self.words[word_of(seats[group[0]])];
            let mask = group.iter().fold(0, |mask, &i| mask | mask_of(seats[i]));
            // Acquire: as in `reserve`.
            let before = word.fetch_or(mask, Ordering::Acquire);
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
        }
        outcomes
    }

    /// Releases every reserved seat of `seats`, one `fetch_and` per word
    /// touched. One outcome per seat, in request order.
    pub(crate) fn release_each(&self, seats: &[u64]) -> Vec<ReleaseOutcome> {
        let mut outcomes = vec![ReleaseOutcome::OutOfRange; seats.len()];
        for group in self
            .positions_by_word(seats)
            .chunk_by(|&a, &b| same_word(seats, a, b))
        {
            let word = &self.words[word_of(seats[group[0]])];
            let mask = group.iter().fold(0, |mask, &i| mask | mask_of(seats[i]));
            // Release: as in `release`.
            let before = word.fetch_and(!mask, Ordering::Release);
            let mut freed = mask & before;
            for &i in group {
                let bit = mask_of(seats[i]);
                outcomes[i] = if freed & bit != 0 {
                    freed &= !bit;
                    ReleaseOutcome::Released
                } else {
                    ReleaseOutcome::NotReserved
                };
            }
        }
        outcomes
    }

    /// The word holding `seat`, or `OutOfRange`.
    #[inline]
    pub(super) fn word_for(&self, seat: u64) -> Result<&W, SeatError> {
        if seat < self.capacity {
            Ok(&self.words[word_of(seat)])
        } else {
            Err(SeatError::OutOfRange {
                seat,
                capacity: self.capacity,
            })
        }
    }

    /// Positions (indices into `seats`) of the in-range seats, grouped by
    /// word. The sort is stable, so within a word positions keep request
    /// order.
    fn positions_by_word(&self, seats: &[u64]) -> Vec<usize> {
        let mut positions: Vec<usize> = (0..seats.len())
            .filter(|&i| seats[i] < self.capacity)
            .collect();
        positions.sort_by_key(|&i| word_of(seats[i]));
        positions
    }
}

/// Whether positions `a` and `b` of `seats` fall in the same word.
fn same_word(seats: &[u64], a: usize, b: usize) -> bool {
    word_of(seats[a]) == word_of(seats[b])
}

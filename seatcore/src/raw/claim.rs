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
        self.for_each_word_group(seats, |word, mask, group| {
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
        });
        outcomes
    }

    /// Releases every reserved seat of `seats`, one `fetch_and` per word
    /// touched. One outcome per seat, in request order.
    pub(crate) fn release_each(&self, seats: &[u64]) -> Vec<ReleaseOutcome> {
        let mut outcomes = vec![ReleaseOutcome::OutOfRange; seats.len()];
        self.for_each_word_group(seats, |word, mask, group| {
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
        });
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

    /// Calls `apply(word, mask, positions)` once per word that in-range
    /// seats of `seats` fall in: `mask` has their bits, `positions` their
    /// indices into `seats`, in request order.
    fn for_each_word_group(&self, seats: &[u64], mut apply: impl FnMut(&W, u64, &[usize])) {
        if seats.len() <= SHORT_LIST {
            self.group_short_list(seats, &mut apply);
        } else {
            let mut positions: Vec<usize> = (0..seats.len())
                .filter(|&i| seats[i] < self.capacity)
                .collect();
            self.apply_by_word(seats, &mut positions, apply);
        }
    }

    /// Short lists, the usual request: gather each word's positions in one
    /// pass over the rest of the list, words in order of first appearance.
    /// At most `SHORT_LIST²` comparisons, no sort and no allocation.
    fn group_short_list(&self, seats: &[u64], apply: &mut impl FnMut(&W, u64, &[usize])) {
        // Bit `i` set: position `i` is already in a group. (Out-of-range
        // positions are skipped by the range check instead.)
        let mut grouped: u32 = 0;
        let mut group = [0; SHORT_LIST];
        for first in 0..seats.len() {
            if grouped & (1 << first) != 0 || seats[first] >= self.capacity {
                continue;
            }
            let word = word_of(seats[first]);
            let (mut len, mut mask) = (0, 0);
            for (i, &seat) in seats.iter().enumerate().skip(first) {
                if seat < self.capacity && word_of(seat) == word {
                    grouped |= 1 << i;
                    group[len] = i;
                    len += 1;
                    mask |= mask_of(seat);
                }
            }
            apply(&self.words[word], mask, &group[..len]);
        }
    }

    /// Longer lists: a stable sort of the positions by word, then one
    /// `apply` per run of equal words.
    fn apply_by_word(
        &self,
        seats: &[u64],
        positions: &mut [usize],
        mut apply: impl FnMut(&W, u64, &[usize]),
    ) {
        // Stable: within a word, positions keep request order.
        positions.sort_by_key(|&i| word_of(seats[i]));
        for group in positions.chunk_by(|&a, &b| same_word(seats, a, b)) {
            let word = &self.words[word_of(seats[group[0]])];
            let mask = group.iter().fold(0, |mask, &i| mask | mask_of(seats[i]));
            apply(word, mask, group);
        }
    }
}

/// Lists up to this long are grouped by word without sorting or allocating
/// (a `u32` records which positions are done).
const SHORT_LIST: usize = 16;

/// Whether positions `a` and `b` of `seats` fall in the same word.
fn same_word(seats: &[u64], a: usize, b: usize) -> bool {
    word_of(seats[a]) == word_of(seats[b])
}

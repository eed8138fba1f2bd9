//! Contiguous runs of seats: one read-modify-write per word, no allocation
//! whatever the length.
//!
//! `reserve_range` is all or nothing exactly as `reserve_all` is (one CAS
//! per word, ascending, the claimed words given back on conflict; see
//! `all_or_nothing.rs`); `release_range` frees every reserved seat of the
//! run with one `fetch_and` per word. `claim_range` and `release_groups`
//! are also what `reserve_adjacent` claims with and what a failed search
//! gives back with (`search.rs`).

use std::ops::Range;

use super::RawSeatMap;
use super::words::{WordClaim, range_groups};
use crate::error::RangeError;
use crate::layout::{first_seat_of, word_of};
use crate::sync::AtomicWord;

impl<W: AtomicWord> RawSeatMap<W> {
    /// Reserves every seat of `range`, or none. An empty range succeeds.
    pub(crate) fn reserve_range(&self, range: Range<u64>) -> Result<(), RangeError> {
        self.check_range(&range)?;
        if range.is_empty() {
            return Ok(());
        }
        self.claim_range(&range)
            .map_err(|seat| RangeError::Conflict { seat })
    }

    /// Frees every reserved seat of `range`; returns how many were reserved.
    pub(crate) fn release_range(&self, range: Range<u64>) -> Result<u64, RangeError> {
        self.check_range(&range)?;
        Ok(self.release_groups(&range))
    }

    /// Claims every seat of the non-empty, in-range `range` (one CAS per
    /// word, ascending) or none: `Err` with the lowest taken seat of the
    /// word where it failed, after giving back the words before it.
    pub(super) fn claim_range(&self, range: &Range<u64>) -> Result<(), u64> {
        for group in range_groups(range) {
            if let Err(seen) = self.claim_word(group) {
                self.release_groups(&(range.start..first_seat_of(group.word).max(range.start)));
                return Err(
                    first_seat_of(group.word) + u64::from((seen & group.mask).trailing_zeros())
                );
            }
        }
        Ok(())
    }

    /// One `fetch_and` per word of the in-range `range` (every release,
    /// rollback and give-back of a run goes through here); the number of
    /// seats that were reserved.
    pub(super) fn release_groups(&self, range: &Range<u64>) -> u64 {
        if range.is_empty() {
            return 0;
        }
        range_groups(range)
            .map(|WordClaim { word, mask }| {
                // Release ordering inside `free_bits`.
                u64::from((self.free_bits(word, mask) & mask).count_ones())
            })
            .sum()
    }

    /// `range` must lie within the map (an empty range anywhere up to the
    /// capacity is fine).
    pub(super) fn check_range(&self, range: &Range<u64>) -> Result<(), RangeError> {
        if range.start > range.end || range.end > self.capacity {
            return Err(RangeError::OutOfRange {
                range: range.clone(),
                capacity: self.capacity,
            });
        }
        Ok(())
    }
}

/// The words a non-empty range touches (for the exclusive setters).
pub(super) fn words_of(range: &Range<u64>) -> Range<usize> {
    word_of(range.start)..word_of(range.end - 1) + 1
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_of_a_range() {
        assert_eq!(words_of(&(0..1)), 0..1);
        assert_eq!(words_of(&(63..65)), 0..2);
        assert_eq!(words_of(&(64..128)), 1..2);
    }
}

//! Exclusive access (`&mut self`): building a map from saved words and
//! replaying a journal need no atomic operation at all, since nobody else
//! can be looking. The summary is kept exact for every word touched.

use std::ops::Range;

use super::RawSeatMap;
use super::range::words_of;
use crate::error::{OutOfRange, RangeError};
use crate::layout::{mask_of, range_mask};
use crate::sync::AtomicWord;

impl<W: AtomicWord> RawSeatMap<W> {
    /// Frees every seat.
    pub(crate) fn clear(&mut self) {
        for index in 0..self.words.len() {
            self.words[index].set_exclusive(0);
            self.resummarize_mut(index);
        }
    }

    /// Sets `seat` reserved or free; returns whether it was reserved.
    pub(crate) fn set_mut(&mut self, seat: u64, reserved: bool) -> Result<bool, OutOfRange> {
        let index = self.word_index(seat).ok_or(OutOfRange {
            seat,
            capacity: self.capacity,
        })?;
        let mask = mask_of(seat);
        let word = &mut self.words[index];
        let before = word.get_exclusive();
        word.set_exclusive(if reserved {
            before | mask
        } else {
            before & !mask
        });
        self.resummarize_mut(index);
        Ok(before & mask != 0)
    }

    /// Sets every seat of `range` reserved or free; returns how many seats
    /// changed.
    pub(crate) fn set_range_mut(
        &mut self,
        range: Range<u64>,
        reserved: bool,
    ) -> Result<u64, RangeError> {
        self.check_range(&range)?;
        if range.is_empty() {
            return Ok(0);
        }
        let mut changed = 0;
        for index in words_of(&range) {
            let mask = range_mask(index, &range);
            let word = &mut self.words[index];
            let before = word.get_exclusive();
            let after = if reserved {
                before | mask
            } else {
                before & !mask
            };
            changed += u64::from((before ^ after).count_ones());
            word.set_exclusive(after);
            self.resummarize_mut(index);
        }
        Ok(changed)
    }

    /// Overwrites every word with `words` (exactly `word_count()` of them,
    /// no bit past the capacity: the caller, `Snapshot`, checked).
    pub(crate) fn load_words_mut(&mut self, words: &[u64]) {
        debug_assert_eq!(words.len(), self.words.len());
        for (index, &value) in words.iter().enumerate() {
            self.words[index].set_exclusive(value);
            self.resummarize_mut(index);
        }
    }
}

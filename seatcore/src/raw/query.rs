//! Queries: plain loads, one per word, never a read-modify-write.
//!
//! Each word is read atomically, but a query that reads several words is not
//! a snapshot of one instant: claims and releases may land between its
//! loads. Every load is `Acquire`, pairing with the `Release` of the release
//! that freed a seat, so a caller that sees a seat free also sees what its
//! last holder did before giving it up.

use std::ops::Range;

use super::RawSeatMap;
use crate::error::OutOfRange;
use crate::layout::{bit_of, first_seat_of, low_mask, mask_of, valid_bits, word_of};
use crate::sync::{AtomicWord, Ordering};

impl<W: AtomicWord> RawSeatMap<W> {
    /// Whether `seat` is reserved right now.
    #[inline]
    pub(crate) fn is_reserved(&self, seat: u64) -> Result<bool, OutOfRange> {
        let index = self.word_index(seat).ok_or(OutOfRange {
            seat,
            capacity: self.capacity,
        })?;
        // Acquire: see the module docs.
        Ok(self.words[index].load(Ordering::Acquire) & mask_of(seat) != 0)
    }

    /// How many seats are reserved (not atomic across words).
    pub(crate) fn reserved_count(&self) -> u64 {
        self.words
            .iter()
            // Acquire: see the module docs.
            .map(|word| u64::from(word.load(Ordering::Acquire).count_ones()))
            .sum()
    }

    /// How many seats are free (not atomic across words).
    pub(crate) fn free_count(&self) -> u64 {
        self.capacity - self.reserved_count()
    }

    /// Word `index` as it is now, reserved bits set.
    #[inline]
    pub(crate) fn load_word(&self, index: usize) -> u64 {
        // Acquire: see the module docs.
        self.words[index].load(Ordering::Acquire)
    }

    /// Copies every word (each one atomically, not all at one instant).
    pub(crate) fn copy_words(&self) -> Vec<u64> {
        (0..self.words.len()).map(|i| self.load_word(i)).collect()
    }
}

/// Iterates the seats whose bit is `want` (true = reserved), reading one
/// word at a time from `load`, lowest seat first.
pub(crate) struct SeatBits<F> {
    load: F,
    capacity: u64,
    word_count: usize,
    want_reserved: bool,
    /// The word being walked and its remaining matching bits.
    index: usize,
    pending: u64,
}

impl<F: FnMut(usize) -> u64> SeatBits<F> {
    pub(crate) fn new(load: F, capacity: u64, word_count: usize, want_reserved: bool) -> Self {
        SeatBits {
            load,
            capacity,
            word_count,
            want_reserved,
            index: 0,
            pending: 0,
        }
        .primed()
    }

    fn primed(mut self) -> Self {
        if self.word_count > 0 {
            self.pending = self.matching(0);
        }
        self
    }

    fn matching(&mut self, index: usize) -> u64 {
        let word = (self.load)(index);
        let bits = if self.want_reserved { word } else { !word };
        bits & valid_bits(index, self.capacity)
    }
}

impl<F: FnMut(usize) -> u64> Iterator for SeatBits<F> {
    type Item = u64;

    fn next(&mut self) -> Option<u64> {
        while self.pending == 0 {
            self.index += 1;
            if self.index >= self.word_count {
                return None;
            }
            self.pending = self.matching(self.index);
        }
        let seat = first_seat_of(self.index) + u64::from(self.pending.trailing_zeros());
        // Clear the lowest set bit: that seat is now yielded.
        self.pending &= self.pending - 1;
        Some(seat)
    }
}

/// Iterates the maximal runs of free seats at or after a starting seat,
/// ascending, reading each word once from `load` (a run that spans words
/// reads on until it ends).
pub(crate) struct FreeRuns<F> {
    load: F,
    capacity: u64,
    word_count: usize,
    /// The word being walked and its free bits not yet yielded.
    index: usize,
    pending: u64,
}

impl<F: FnMut(usize) -> u64> FreeRuns<F> {
    pub(crate) fn new(load: F, capacity: u64, word_count: usize, from: u64) -> Self {
        let mut runs = FreeRuns {
            load,
            capacity,
            word_count,
            index: word_count,
            pending: 0,
        };
        if from < capacity {
            runs.index = word_of(from);
            runs.pending = runs.free(runs.index) & !low_mask(u64::from(bit_of(from)));
        }
        runs
    }

    fn free(&mut self, index: usize) -> u64 {
        !(self.load)(index) & valid_bits(index, self.capacity)
    }
}

impl<F: FnMut(usize) -> u64> Iterator for FreeRuns<F> {
    type Item = Range<u64>;

    fn next(&mut self) -> Option<Range<u64>> {
        while self.pending == 0 {
            self.index += 1;
            if self.index >= self.word_count {
                return None;
            }
            self.pending = self.free(self.index);
        }
        let low = self.pending.trailing_zeros();
        let len = (self.pending >> low).trailing_ones();
        let start = first_seat_of(self.index) + u64::from(low);
        if low + len < 64 {
            // The run ends inside this word.
            self.pending &= !(low_mask(u64::from(len)) << low);
            return Some(start..start + u64::from(len));
        }
        // The run reaches the end of the word: follow it into the next ones.
        let mut end = first_seat_of(self.index + 1);
        self.pending = 0;
        loop {
            self.index += 1;
            if self.index >= self.word_count {
                return Some(start..end.min(self.capacity));
            }
            let free = self.free(self.index);
            let ones = free.trailing_ones();
            end += u64::from(ones);
            if ones < 64 {
                self.pending = free & !low_mask(u64::from(ones));
                return Some(start..end);
            }
        }
    }
}

//! Queries: plain loads, one per word, never a read-modify-write.
//!
//! Each word is read atomically, but a query that reads several words is not
//! a snapshot of one instant: claims and releases may land between its
//! loads. Every load is `Acquire`, pairing with the `Release` of the release
//! that freed a seat, so a caller that sees a seat free also sees what its
//! last holder did before giving it up.

use super::RawSeatMap;
use crate::error::SeatError;
use crate::layout::{first_seat_of, mask_of, valid_bits};
use crate::sync::{AtomicWord, Ordering};

impl<W: AtomicWord> RawSeatMap<W> {
    /// Whether `seat` is reserved right now.
    #[inline]
    pub(crate) fn is_reserved(&self, seat: u64) -> Result<bool, SeatError> {
        let word = self.word_for(seat)?;
        // Acquire: see the module docs.
        Ok(word.load(Ordering::Acquire) & mask_of(seat) != 0)
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

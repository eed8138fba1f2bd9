//! [`Snapshot`]: a plain copy of a map's words.

use crate::error::SeatError;
use crate::layout::{mask_of, word_of};
use crate::raw::SeatBits;

/// A copy of a [`SeatMap`](crate::SeatMap)'s seats, taken by
/// [`SeatMap::snapshot`](crate::SeatMap::snapshot).
///
/// Each 64-seat word was copied atomically, but different words may have
/// been copied at different instants while others were reserving.
///
/// # Examples
///
/// ```
/// let map = seatcore::SeatMap::new(3)?;
/// map.reserve(1)?;
/// let snap = map.snapshot();
/// assert_eq!(snap.free_seats().collect::<Vec<_>>(), [0, 2]);
/// assert_eq!(snap.is_reserved(1), Ok(true));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Snapshot {
    words: Vec<u64>,
    capacity: u64,
}

impl Snapshot {
    pub(crate) fn new(words: Vec<u64>, capacity: u64) -> Self {
        Snapshot { words, capacity }
    }

    /// The number of seats of the map it was taken from.
    #[must_use]
    pub fn capacity(&self) -> u64 {
        self.capacity
    }

    /// Whether `seat` was reserved.
    ///
    /// # Errors
    ///
    /// [`SeatError::OutOfRange`] if `seat >= capacity()`.
    pub fn is_reserved(&self, seat: u64) -> Result<bool, SeatError> {
        if seat >= self.capacity {
            return Err(SeatError::OutOfRange {
                seat,
                capacity: self.capacity,
            });
        }
        Ok(self.words[word_of(seat)] & mask_of(seat) != 0)
    }

    /// How many seats were reserved.
    #[must_use]
    pub fn reserved_count(&self) -> u64 {
        self.words.iter().map(|w| u64::from(w.count_ones())).sum()
    }

    /// How many seats were free.
    #[must_use]
    pub fn free_count(&self) -> u64 {
        self.capacity - self.reserved_count()
    }

    /// The reserved seats, ascending.
    pub fn reserved_seats(&self) -> impl Iterator<Item = u64> + '_ {
        SeatBits::new(|i| self.words[i], self.capacity, self.words.len(), true)
    }

    /// The free seats, ascending.
    pub fn free_seats(&self) -> impl Iterator<Item = u64> + '_ {
        SeatBits::new(|i| self.words[i], self.capacity, self.words.len(), false)
    }
}

//! [`Snapshot`]: a plain copy of a map's words.

use std::ops::Range;

use crate::error::{CapacityError, OutOfRange, SnapshotError};
use crate::layout::{first_seat_of, mask_of, valid_bits, word_of, words_for};
use crate::raw::{FreeRuns, SeatBits};

/// A copy of a [`SeatMap`](crate::SeatMap)'s seats, taken by
/// [`SeatMap::snapshot`](crate::SeatMap::snapshot).
///
/// Each 64-seat word was copied atomically, but different words may have
/// been copied at different instants while others were reserving.
///
/// A snapshot is also the map's saved form: [`words`](Self::words) are the
/// bitset (seat `s` is bit `s % 64` of word `s / 64`, 1 = reserved), and
/// [`from_words`](Self::from_words) with
/// [`SeatMap::from_snapshot`](crate::SeatMap::from_snapshot) rebuild a map.
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

    /// A snapshot from saved words: exactly `ceil(capacity / 64)` of them,
    /// with no bit set past the capacity.
    ///
    /// # Errors
    ///
    /// [`SnapshotError`] says which rule the words break.
    ///
    /// # Examples
    ///
    /// ```
    /// let snap = seatcore::Snapshot::from_words(70, vec![0b101, 0b1])?;
    /// assert_eq!(snap.reserved_seats().collect::<Vec<_>>(), [0, 2, 64]);
    /// # Ok::<(), seatcore::SnapshotError>(())
    /// ```
    pub fn from_words(capacity: u64, words: Vec<u64>) -> Result<Self, SnapshotError> {
        if capacity == 0 {
            return Err(SnapshotError::Capacity(CapacityError::Zero));
        }
        let expected = words_for(capacity);
        if words.len() as u64 != expected {
            return Err(SnapshotError::WordCount {
                expected,
                found: words.len() as u64,
            });
        }
        let last = words.len() - 1;
        let extra = words[last] & !valid_bits(last, capacity);
        if extra != 0 {
            return Err(SnapshotError::SeatPastCapacity {
                seat: first_seat_of(last) + u64::from(extra.trailing_zeros()),
            });
        }
        Ok(Snapshot { words, capacity })
    }

    /// The bitset: seat `s` is bit `s % 64` of word `s / 64`, 1 = reserved.
    #[must_use]
    pub fn words(&self) -> &[u64] {
        &self.words
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
    /// [`OutOfRange`] if `seat >= capacity()`.
    pub fn is_reserved(&self, seat: u64) -> Result<bool, OutOfRange> {
        if seat >= self.capacity {
            return Err(OutOfRange {
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

    /// The maximal runs of free seats at or after `from`, ascending.
    pub fn free_runs(&self, from: u64) -> impl Iterator<Item = Range<u64>> + '_ {
        FreeRuns::new(|i| self.words[i], self.capacity, self.words.len(), from)
    }
}

//! Baseline (b): a plain bitset behind a fast lock.
//!
//! The same one-bit-per-seat layout as seatcore, but plain `u64` words
//! guarded by one `parking_lot::Mutex`: what you get by "just locking a
//! bitset". It shows how much of seatcore's speed comes from the layout and
//! how much from having no lock.

use parking_lot::Mutex;

use crate::store::SeatStore;

/// Seats per word.
const BITS: u64 = 64;

/// A `parking_lot::Mutex<Vec<u64>>` bitset (bit set = reserved).
///
/// # Examples
///
/// ```
/// use seatcore_benches::{LockedBitset, SeatStore};
///
/// let store = LockedBitset::with_capacity(70);
/// assert!(store.reserve(65));
/// assert!(!store.reserve(70));
/// assert_eq!(store.reserve_each(&[65, 66, 66]), [false, true, false]);
/// assert_eq!(store.reserve_any(68), Some((0..65).chain(67..70).collect()));
/// ```
#[derive(Debug)]
pub struct LockedBitset {
    words: Mutex<Vec<u64>>,
    capacity: u64,
}

impl LockedBitset {
    /// The word index and mask of `seat`, if it is on the map.
    fn locate(&self, seat: u64) -> Option<(usize, u64)> {
        (seat < self.capacity).then(|| ((seat / BITS) as usize, 1 << (seat % BITS)))
    }

    /// The bits of word `word` that are real seats.
    fn valid_bits(&self, word: usize) -> u64 {
        let here = self.capacity - word as u64 * BITS;
        if here >= BITS {
            u64::MAX
        } else {
            (1 << here) - 1
        }
    }
}

impl SeatStore for LockedBitset {
    const NAME: &'static str = "parking_lot_bitset";

    fn with_capacity(capacity: u64) -> Self {
        assert!(capacity > 0, "a store needs at least one seat");
        let words = usize::try_from(capacity.div_ceil(BITS)).expect("capacity fits in memory");
        LockedBitset {
            words: Mutex::new(vec![0; words]),
            capacity,
        }
    }

    fn reserve(&self, seat: u64) -> bool {
        let Some((word, mask)) = self.locate(seat) else {
            return false;
        };
        let mut words = self.words.lock();
        let was_free = words[word] & mask == 0;
        words[word] |= mask;
        was_free
    }

    fn release(&self, seat: u64) -> bool {
        let Some((word, mask)) = self.locate(seat) else {
            return false;
        };
        let mut words = self.words.lock();
        let was_reserved = words[word] & mask != 0;
        words[word] &= !mask;
        was_reserved
    }

    fn reserve_each(&self, seats: &[u64]) -> Vec<bool> {
        let mut words = self.words.lock();
        seats
            .iter()
            .map(|&seat| {
                self.locate(seat).is_some_and(|(word, mask)| {
                    let was_free = words[word] & mask == 0;
                    words[word] |= mask;
                    was_free
                })
            })
            .collect()
    }

    fn release_each(&self, seats: &[u64]) -> Vec<bool> {
        let mut words = self.words.lock();
        seats
            .iter()
            .map(|&seat| {
                self.locate(seat).is_some_and(|(word, mask)| {
                    let was_reserved = words[word] & mask != 0;
                    words[word] &= !mask;
                    was_reserved
                })
            })
            .collect()
    }

    fn reserve_any(&self, n: u64) -> Option<Vec<u64>> {
        let mut words = self.words.lock();
        let mut found = Vec::new();
        // Walk words from the first; the lock makes the search exact.
        for (index, word) in words.iter().enumerate() {
            let mut free = !*word & self.valid_bits(index);
            while free != 0 && (found.len() as u64) < n {
                found.push(index as u64 * BITS + u64::from(free.trailing_zeros()));
                free &= free - 1;
            }
            if found.len() as u64 == n {
                break;
            }
        }
        if (found.len() as u64) < n {
            return None;
        }
        for &seat in &found {
            words[(seat / BITS) as usize] |= 1 << (seat % BITS);
        }
        Some(found)
    }
}

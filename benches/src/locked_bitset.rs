//! Baseline (b): a plain bitset behind a fast lock.
//!
//! The same one-bit-per-seat layout as seatcore, but plain `u64` words
//! guarded by one `parking_lot::Mutex`: what you get by "just locking a
//! bitset". It shows how much of seatcore's speed comes from the layout and
//! how much from having no lock.

use parking_lot::Mutex;

use crate::bits::{self, BITS};
use crate::store::SeatStore;

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

impl SeatStore for LockedBitset {
    const NAME: &'static str = "parking_lot_bitset";

    fn with_capacity(capacity: u64) -> Self {
        assert!(capacity > 0, "a store needs at least one seat");
        let words = bits::word_count(capacity);
        LockedBitset {
            words: Mutex::new(vec![0; words]),
            capacity,
        }
    }

    fn reserve(&self, seat: u64) -> bool {
        let Some((word, mask)) = bits::locate(seat, self.capacity) else {
            return false;
        };
        let mut words = self.words.lock();
        let was_free = words[word] & mask == 0;
        words[word] |= mask;
        was_free
    }

    fn release(&self, seat: u64) -> bool {
        let Some((word, mask)) = bits::locate(seat, self.capacity) else {
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
                bits::locate(seat, self.capacity).is_some_and(|(word, mask)| {
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
                bits::locate(seat, self.capacity).is_some_and(|(word, mask)| {
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
            let mut free = !*word & bits::valid_bits(index, self.capacity);
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
            if let Some((word, mask)) = bits::locate(seat, self.capacity) {
                words[word] |= mask;
            }
        }
        Some(found)
    }
}

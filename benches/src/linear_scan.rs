//! Baseline for the summary level: an atomic bitset whose search for a free
//! seat reads word after word from a start, with no summary to skip full
//! regions (what seatcore's search did before its summary level).

use std::sync::atomic::{AtomicU64, Ordering};

use crate::bits::{self, BITS};
use crate::churn::OneSeatSearch;

/// A `Vec<AtomicU64>` bitset with a linear-scan search.
///
/// # Examples
///
/// ```
/// use seatcore_benches::{LinearScan, OneSeatSearch};
///
/// let map = LinearScan::new(130);
/// map.reserve_all_but(&[70]);
/// assert_eq!(map.take_one(0), Some(70));
/// assert_eq!(map.take_one(0), None);
/// map.release(5);
/// assert_eq!(map.take_one(100), Some(5)); // wraps around
/// ```
#[derive(Debug)]
pub struct LinearScan {
    words: Vec<AtomicU64>,
    capacity: u64,
}

impl LinearScan {
    /// Reserves every seat except `free` (benchmark setup).
    pub fn reserve_all_but(&self, free: &[u64]) {
        for (index, word) in self.words.iter().enumerate() {
            // Relaxed: setup, before any other thread looks.
            word.store(bits::valid_bits(index, self.capacity), Ordering::Relaxed);
        }
        for &seat in free {
            self.release(seat);
        }
    }
}

impl OneSeatSearch for LinearScan {
    const NAME: &'static str = "linear_scan";

    fn new(capacity: u64) -> Self {
        let words = bits::word_count(capacity);
        LinearScan {
            words: (0..words).map(|_| AtomicU64::new(0)).collect(),
            capacity,
        }
    }

    fn reserve(&self, seat: u64) -> bool {
        bits::locate(seat, self.capacity).is_some_and(|(word, mask)| {
            // Acquire: pairs with the Release of the fetch_and that freed it.
            self.words[word].fetch_or(mask, Ordering::Acquire) & mask == 0
        })
    }

    fn release(&self, seat: u64) -> bool {
        bits::locate(seat, self.capacity).is_some_and(|(word, mask)| {
            // Release: pairs with the Acquire of the next claim.
            self.words[word].fetch_and(!mask, Ordering::Release) & mask != 0
        })
    }

    fn take_one(&self, start: u64) -> Option<u64> {
        let words = self.words.len();
        let first = ((start % self.capacity) / BITS) as usize;
        for index in (first..words).chain(0..first) {
            let word = &self.words[index];
            let valid = bits::valid_bits(index, self.capacity);
            // Relaxed: only picks a candidate bit; the fetch_or decides.
            let mut current = word.load(Ordering::Relaxed);
            while !current & valid != 0 {
                let free = !current & valid;
                let bit = free & free.wrapping_neg();
                // Acquire: as in `reserve`.
                let before = word.fetch_or(bit, Ordering::Acquire);
                if before & bit == 0 {
                    return Some(index as u64 * BITS + u64::from(bit.trailing_zeros()));
                }
                current = before;
            }
        }
        None
    }
}

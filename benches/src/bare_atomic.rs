//! Baseline (c): the physical limit.
//!
//! Reserving a seat cannot take less than one atomic read-modify-write on
//! the word that holds it, and releasing it another: a `fetch_or` and a
//! `fetch_and`. This baseline is exactly that, with a bounds check and
//! nothing else (no error values, no hint, no per-seat report), so the
//! distance between it and seatcore is the price of seatcore's API.

use std::sync::atomic::{AtomicU64, Ordering};

use crate::bits::{self, BITS};
use crate::store::SeatStore;

/// A `Vec<AtomicU64>` bitset driven by bare `fetch_or` / `fetch_and`.
///
/// # Examples
///
/// ```
/// use seatcore_benches::{BareAtomic, SeatStore};
///
/// let store = BareAtomic::with_capacity(3);
/// assert!(store.reserve(1));
/// assert!(!store.reserve(1));
/// assert_eq!(store.reserve_any(2), Some(vec![0, 2]));
/// assert_eq!(store.reserve_any(1), None);
/// ```
#[derive(Debug)]
pub struct BareAtomic {
    words: Vec<AtomicU64>,
    capacity: u64,
}

impl BareAtomic {
    /// The word and mask of `seat`, if it is on the map.
    #[inline]
    fn locate(&self, seat: u64) -> Option<(&AtomicU64, u64)> {
        bits::locate(seat, self.capacity).map(|(word, mask)| (&self.words[word], mask))
    }
}

impl SeatStore for BareAtomic {
    const NAME: &'static str = "bare_atomic";

    fn with_capacity(capacity: u64) -> Self {
        assert!(capacity > 0, "a store needs at least one seat");
        let words = bits::word_count(capacity);
        BareAtomic {
            words: (0..words).map(|_| AtomicU64::new(0)).collect(),
            capacity,
        }
    }

    #[inline]
    fn reserve(&self, seat: u64) -> bool {
        self.locate(seat).is_some_and(|(word, mask)| {
            // Acquire: pairs with the Release of the fetch_and that freed
            // the seat, as a lock acquisition would (the same as seatcore).
            word.fetch_or(mask, Ordering::Acquire) & mask == 0
        })
    }

    #[inline]
    fn release(&self, seat: u64) -> bool {
        self.locate(seat).is_some_and(|(word, mask)| {
            // Release: pairs with the Acquire of the next claim.
            word.fetch_and(!mask, Ordering::Release) & mask != 0
        })
    }

    fn reserve_each(&self, seats: &[u64]) -> Vec<bool> {
        // One RMW per seat: the bare minimum of code, not of operations.
        seats.iter().map(|&seat| self.reserve(seat)).collect()
    }

    fn release_each(&self, seats: &[u64]) -> Vec<bool> {
        seats.iter().map(|&seat| self.release(seat)).collect()
    }

    fn reserve_any(&self, n: u64) -> Option<Vec<u64>> {
        let mut found = Vec::new();
        for (index, word) in self.words.iter().enumerate() {
            // Relaxed: only picks a candidate bit; the fetch_or decides.
            let mut free = !word.load(Ordering::Relaxed) & bits::valid_bits(index, self.capacity);
            while free != 0 && (found.len() as u64) < n {
                let bit = free & free.wrapping_neg();
                free &= !bit;
                // Acquire: as in `reserve`.
                if word.fetch_or(bit, Ordering::Acquire) & bit == 0 {
                    found.push(index as u64 * BITS + u64::from(bit.trailing_zeros()));
                }
            }
            if found.len() as u64 == n {
                return Some(found);
            }
        }
        // Not enough: give back what was taken (all or nothing).
        for &seat in &found {
            self.release(seat);
        }
        None
    }
}

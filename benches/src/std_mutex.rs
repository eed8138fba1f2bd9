//! Baseline (a): the original program's design ported straight to Rust.
//!
//! The Python server kept one list of booleans and held one global lock
//! around the whole check-and-mark loop of a request. This is that: a
//! `std::sync::Mutex<Vec<bool>>`, one byte per seat, every operation under
//! the one lock.

use std::sync::{Mutex, MutexGuard, PoisonError};

use crate::store::SeatStore;

/// One global `std` mutex around a `Vec<bool>` (`true` = reserved).
///
/// # Examples
///
/// ```
/// use seatcore_benches::{SeatStore, StdMutexSeats};
///
/// let store = StdMutexSeats::with_capacity(4);
/// assert!(store.reserve(0));
/// assert_eq!(store.reserve_any(3), Some(vec![1, 2, 3]));
/// assert_eq!(store.release_each(&[0, 1, 9]), [true, true, false]);
/// ```
#[derive(Debug)]
pub struct StdMutexSeats {
    seats: Mutex<Vec<bool>>,
}

impl StdMutexSeats {
    /// The lock. A panic while holding it cannot leave a `Vec<bool>` half
    /// written in a way that matters, so a poisoned lock is simply used.
    fn seats(&self) -> MutexGuard<'_, Vec<bool>> {
        self.seats.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// `seat` as an index, or `None` when it cannot be one on this platform.
fn index(seat: u64) -> Option<usize> {
    usize::try_from(seat).ok()
}

impl SeatStore for StdMutexSeats {
    const NAME: &'static str = "std_mutex_vec_bool";

    fn with_capacity(capacity: u64) -> Self {
        assert!(capacity > 0, "a store needs at least one seat");
        let len = usize::try_from(capacity).expect("capacity fits in memory");
        StdMutexSeats {
            seats: Mutex::new(vec![false; len]),
        }
    }

    fn reserve(&self, seat: u64) -> bool {
        let mut seats = self.seats();
        match index(seat).and_then(|i| seats.get_mut(i)) {
            Some(slot) if !*slot => {
                *slot = true;
                true
            }
            _ => false,
        }
    }

    fn release(&self, seat: u64) -> bool {
        let mut seats = self.seats();
        match index(seat).and_then(|i| seats.get_mut(i)) {
            Some(slot) if *slot => {
                *slot = false;
                true
            }
            _ => false,
        }
    }

    fn reserve_each(&self, seats: &[u64]) -> Vec<bool> {
        // The original's loop: one lock for the whole request.
        let mut map = self.seats();
        seats
            .iter()
            .map(|&seat| match index(seat).and_then(|i| map.get_mut(i)) {
                Some(slot) if !*slot => {
                    *slot = true;
                    true
                }
                _ => false,
            })
            .collect()
    }

    fn release_each(&self, seats: &[u64]) -> Vec<bool> {
        let mut map = self.seats();
        seats
            .iter()
            .map(|&seat| match index(seat).and_then(|i| map.get_mut(i)) {
                Some(slot) if *slot => {
                    *slot = false;
                    true
                }
                _ => false,
            })
            .collect()
    }

    fn reserve_any(&self, n: u64) -> Option<Vec<u64>> {
        let mut map = self.seats();
        let wanted = usize::try_from(n).ok()?;
        // The obvious port: walk from the first seat, take the first free.
        let found: Vec<usize> = map
            .iter()
            .enumerate()
            .filter(|(_, reserved)| !**reserved)
            .map(|(i, _)| i)
            .take(wanted)
            .collect();
        if found.len() < wanted {
            return None;
        }
        for &i in &found {
            map[i] = true;
        }
        Some(found.into_iter().map(|i| i as u64).collect())
    }
}

//! [`fill`]: a reproducible occupancy for the search benchmarks.

use crate::store::SeatStore;

/// Reserves exactly `percent`% of `store`'s `capacity` seats (rounded
/// down), chosen pseudo-randomly but identically on every run and for every
/// contender, so all of them search the same map.
///
/// # Examples
///
/// ```
/// use seatcore_benches::{fill, SeatStore, StdMutexSeats};
///
/// let store = StdMutexSeats::with_capacity(100);
/// fill(&store, 100, 99);
/// assert_eq!(store.reserve_any(1).map(|seats| seats.len()), Some(1));
/// assert_eq!(store.reserve_any(1), None);
/// ```
pub fn fill<S: SeatStore>(store: &S, capacity: u64, percent: u64) {
    let target = capacity * percent.min(100) / 100;
    for seat in sample(capacity, target) {
        assert!(store.reserve(seat), "fill: seat {seat} was already taken");
    }
}

/// `count` distinct seats of `0..capacity`, chosen pseudo-randomly but
/// identically on every run.
///
/// # Examples
///
/// ```
/// let seats = seatcore_benches::sample(100, 10);
/// assert_eq!(seats.len(), 10);
/// assert_eq!(seats, seatcore_benches::sample(100, 10));
/// ```
#[must_use]
pub fn sample(capacity: u64, count: u64) -> Vec<u64> {
    let count = count.min(capacity);
    let mut seats: Vec<u64> = (0..capacity).collect();
    let mut state = 0x5EA7_C0DE_u64;
    // Partial Fisher-Yates: the first `count` entries are a random sample.
    for i in 0..count {
        let remaining = capacity - i;
        let pick = i + splitmix64(&mut state) % remaining;
        seats.swap(i as usize, pick as usize);
    }
    seats.truncate(count as usize);
    seats
}

/// One step of SplitMix64: a tiny, well-mixed deterministic generator.
pub(crate) fn splitmix64(state: &mut u64) -> u64 {
    *state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
    let mut z = *state;
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49EB_311C_E133);
    z ^ (z >> 31)
}

//! [`SeatStore`]: the operations every contender offers, and seatcore's
//! implementation of them.

use seatcore::{ReleaseOutcome, ReserveOutcome, SeatMap};

/// A seat inventory shared by threads: the common ground of the benchmarks.
///
/// Results are what a caller needs to go on: won or not, per seat for the
/// list forms (the original protocol reports every seat), so every
/// contender builds the same report.
///
/// # Examples
///
/// ```
/// use seatcore_benches::{SeatStore, StdMutexSeats};
///
/// let store = StdMutexSeats::with_capacity(10);
/// assert!(store.reserve(3));
/// assert!(!store.reserve(3));
/// assert_eq!(store.reserve_each(&[3, 4, 4]), [false, true, false]);
/// assert_eq!(store.reserve_any(9), None); // 8 free
/// assert_eq!(store.reserve_any(2), Some(vec![0, 1]));
/// ```
pub trait SeatStore: Send + Sync + 'static {
    /// The name of this contender in benchmark reports.
    const NAME: &'static str;

    /// A store of `capacity` free seats, numbered `0..capacity`.
    ///
    /// # Panics
    ///
    /// If `capacity` is 0 or does not fit in memory (benchmark setup only).
    fn with_capacity(capacity: u64) -> Self;

    /// Reserves `seat`; whether this call won it.
    fn reserve(&self, seat: u64) -> bool;

    /// Releases `seat`; whether it was reserved.
    fn release(&self, seat: u64) -> bool;

    /// Reserves every free seat of `seats` (the original's per-seat
    /// semantics); per seat, in request order, whether this call won it.
    fn reserve_each(&self, seats: &[u64]) -> Vec<bool>;

    /// Releases every reserved seat of `seats`; per seat, whether this call
    /// freed it.
    fn release_each(&self, seats: &[u64]) -> Vec<bool>;

    /// Reserves `n` free seats wherever they are, or none.
    fn reserve_any(&self, n: u64) -> Option<Vec<u64>>;
}

impl SeatStore for SeatMap {
    const NAME: &'static str = "seatcore";

    fn with_capacity(capacity: u64) -> Self {
        SeatMap::new(capacity).expect("benchmark capacity must be valid")
    }

    #[inline]
    fn reserve(&self, seat: u64) -> bool {
        SeatMap::reserve(self, seat).is_ok()
    }

    #[inline]
    fn release(&self, seat: u64) -> bool {
        SeatMap::release(self, seat).is_ok()
    }

    fn reserve_each(&self, seats: &[u64]) -> Vec<bool> {
        // One byte to one byte: the collect reuses the outcomes' buffer.
        SeatMap::reserve_each(self, seats)
            .into_iter()
            .map(ReserveOutcome::is_reserved)
            .collect()
    }

    fn release_each(&self, seats: &[u64]) -> Vec<bool> {
        SeatMap::release_each(self, seats)
            .into_iter()
            .map(ReleaseOutcome::is_released)
            .collect()
    }

    fn reserve_any(&self, n: u64) -> Option<Vec<u64>> {
        // The runs go into a buffer kept per thread (as a server keeps one
        // per worker), then flattened into the one `Vec` every contender
        // builds.
        with_runs(|runs| {
            self.reserve_any_into(n, runs).ok()?;
            Some(runs.iter().cloned().flatten().collect())
        })
    }
}

/// Runs `f` with this thread's buffer for the runs seatcore's searches
/// return, reused from call to call as a server reuses one per worker, so
/// seatcore's side of a benchmark allocates no more than a baseline's.
pub(crate) fn with_runs<T>(f: impl FnOnce(&mut Vec<std::ops::Range<u64>>) -> T) -> T {
    thread_local! {
        static RUNS: std::cell::RefCell<Vec<std::ops::Range<u64>>> =
            const { std::cell::RefCell::new(Vec::new()) };
    }
    RUNS.with_borrow_mut(f)
}

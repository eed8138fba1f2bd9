//! The summary benchmark's loop: take any one free seat, then free another
//! reserved seat chosen at random, so that occupancy stays constant and the
//! search cannot simply find the seat it just freed.

use std::sync::Arc;

use seatcore::SeatMap;

use crate::fill::{sample, splitmix64};
use crate::store::with_runs;

/// A map that can find and take one free seat from a given start.
pub trait OneSeatSearch: Send + Sync + 'static {
    /// The name of this contender in benchmark reports.
    const NAME: &'static str;
    /// `capacity` free seats.
    fn new(capacity: u64) -> Self;
    /// Reserves `seat`; whether this call won it.
    fn reserve(&self, seat: u64) -> bool;
    /// Releases `seat`; whether it was reserved.
    fn release(&self, seat: u64) -> bool;
    /// Reserves one free seat, searching from `start`'s word onward and
    /// wrapping once; `None` if the map is full.
    fn take_one(&self, start: u64) -> Option<u64>;
}

impl OneSeatSearch for SeatMap {
    const NAME: &'static str = "seatcore";

    fn new(capacity: u64) -> Self {
        SeatMap::new(capacity).expect("benchmark capacity must be valid")
    }

    fn reserve(&self, seat: u64) -> bool {
        SeatMap::reserve(self, seat).is_ok()
    }

    fn release(&self, seat: u64) -> bool {
        SeatMap::release(self, seat).is_ok()
    }

    fn take_one(&self, start: u64) -> Option<u64> {
        with_runs(|runs| {
            self.reserve_any_at(1, start, runs).ok()?;
            runs.first().map(|run| run.start)
        })
    }
}

/// One contender's map at a given occupancy, with the list of its reserved
/// seats and the churn loop over them.
#[derive(Debug)]
pub struct Churn<M> {
    map: Arc<M>,
    reserved: Vec<u64>,
    start: u64,
    rng: u64,
}

impl<M: OneSeatSearch> Churn<M> {
    /// A map of `capacity` seats with `reserved` of them taken (a
    /// reproducible random sample; the same for every contender).
    ///
    /// # Examples
    ///
    /// ```
    /// use seatcore_benches::{Churn, LinearScan};
    ///
    /// let mut churn = Churn::<LinearScan>::new(1000, 999);
    /// churn.step();
    /// churn.step(); // still one seat free, never the same search twice
    /// ```
    #[must_use]
    pub fn new(capacity: u64, reserved: u64) -> Self {
        let map = M::new(capacity);
        let seats = if reserved * 2 > capacity {
            // Most seats taken: sample the free ones instead.
            let free = sample(capacity, capacity - reserved);
            let mut free_sorted = free.clone();
            free_sorted.sort_unstable();
            let mut taken = Vec::with_capacity(reserved as usize);
            let mut next = free_sorted.iter().peekable();
            for seat in 0..capacity {
                if next.peek() == Some(&&seat) {
                    next.next();
                } else {
                    taken.push(seat);
                }
            }
            taken
        } else {
            sample(capacity, reserved)
        };
        for &seat in &seats {
            assert!(map.reserve(seat), "setup: seat {seat} twice");
        }
        Churn {
            map: Arc::new(map),
            reserved: seats,
            start: 0,
            rng: 0x0123_4567_89AB_CDEF,
        }
    }

    /// One iteration: take one seat from where the last search ended, then
    /// free a random *other* reserved seat.
    ///
    /// # Panics
    ///
    /// If the map has no free seat or no reserved one (a setup error).
    pub fn step(&mut self) {
        let taken = self
            .map
            .take_one(self.start)
            .expect("occupancy is constant: one seat is always free");
        self.start = taken;
        let index = (splitmix64(&mut self.rng) % self.reserved.len() as u64) as usize;
        let freed = std::mem::replace(&mut self.reserved[index], taken);
        assert!(self.map.release(freed), "seat {freed} was reserved");
    }
}

//! What every loom model shares: loom's `AtomicU64` as an [`AtomicWord`],
//! the model runner, the thread race, and **every call into the raw
//! engine**, as small adapters.
//!
//! The models never call `RawSeatMap` directly: they call the adapters
//! below, which turn the engine's signatures and error types into plain
//! values (`bool`, seat lists, ranges). When the engine's API changes, this
//! file is the one to adapt; the models keep their meaning.

use std::ops::Range;

use loom::sync::Arc;
use loom::sync::atomic::AtomicU64 as LoomU64;
use loom::thread;

use crate::error::{AllOrNothingError, ReleaseError, ReserveError};
use crate::layout::{first_seat_of, valid_bits, words_for};
use crate::outcome::{ReleaseOutcome, ReserveOutcome};
use crate::raw::RawSeatMap;
use crate::sync::{AtomicWord, Ordering};

impl AtomicWord for LoomU64 {
    fn new(value: u64) -> Self {
        LoomU64::new(value)
    }
    fn load(&self, order: Ordering) -> u64 {
        LoomU64::load(self, order)
    }
    fn fetch_or(&self, bits: u64, order: Ordering) -> u64 {
        LoomU64::fetch_or(self, bits, order)
    }
    fn fetch_and(&self, bits: u64, order: Ordering) -> u64 {
        LoomU64::fetch_and(self, bits, order)
    }
    fn compare_exchange(
        &self,
        current: u64,
        new: u64,
        success: Ordering,
        failure: Ordering,
    ) -> Result<u64, u64> {
        LoomU64::compare_exchange(self, current, new, success, failure)
    }
    fn set_exclusive(&mut self, value: u64) {
        self.with_mut(|word| *word = value);
    }
    fn get_exclusive(&mut self) -> u64 {
        self.with_mut(|word| *word)
    }
}

/// The engine under loom.
pub(super) type Map = RawSeatMap<LoomU64>;

/// One thread's work in a race.
pub(super) type Task<T> = Box<dyn FnOnce(&Map) -> T + Send>;

/// How far loom explores a model.
#[derive(Debug, Clone, Copy)]
pub(super) enum Bound {
    /// Every interleaving.
    Exhaustive,
    /// Executions with at most this many preemptions (loom's authors find
    /// that 2 or 3 catch nearly every bug).
    Preemptions(usize),
}

/// Runs `model` under loom with the model's own bound. `LOOM_MAX_PREEMPTIONS`,
/// when set, overrides it (to explore further, or faster, by hand); plain
/// `cargo test` needs no variable.
pub(super) fn run_model(bound: Bound, model: impl Fn() + Sync + Send + 'static) {
    let mut builder = loom::model::Builder::new();
    if builder.preemption_bound.is_none() {
        builder.preemption_bound = match bound {
            Bound::Exhaustive => None,
            Bound::Preemptions(n) => Some(n),
        };
    }
    builder.check(model);
}

/// A map of `capacity` free seats.
pub(super) fn new_map(capacity: u64) -> Arc<Map> {
    Arc::new(Map::new(capacity).expect("the models use valid capacities"))
}

/// A map of `capacity` seats where only `free` are free. The set-up runs on
/// the model's main thread before any racer starts, so it happens before
/// everything the racers do.
pub(super) fn map_with_free(capacity: u64, free: &[u64]) -> Arc<Map> {
    let map = new_map(capacity);
    let taken: Vec<u64> = (0..capacity).filter(|s| !free.contains(s)).collect();
    reserve_all(&map, &taken).expect("a fresh map has every seat free");
    map
}

/// Runs each closure on its own loom thread against one map and returns
/// their results in order.
pub(super) fn race<T: Send + 'static>(map: &Arc<Map>, tasks: Vec<Task<T>>) -> Vec<T> {
    let handles: Vec<_> = tasks
        .into_iter()
        .map(|task| {
            let map = Arc::clone(map);
            thread::spawn(move || task(&map))
        })
        .collect();
    handles.into_iter().map(|h| h.join().unwrap()).collect()
}

/// Runs `a` and `b` on two loom threads against one map and returns both
/// results: for races between operations whose results differ in type.
pub(super) fn race2<A, B>(
    map: &Arc<Map>,
    a: impl FnOnce(&Map) -> A + Send + 'static,
    b: impl FnOnce(&Map) -> B + Send + 'static,
) -> (A, B)
where
    A: Send + 'static,
    B: Send + 'static,
{
    let (map_a, map_b) = (Arc::clone(map), Arc::clone(map));
    let a = thread::spawn(move || a(&map_a));
    let b = thread::spawn(move || b(&map_b));
    (a.join().unwrap(), b.join().unwrap())
}

/// A value the holder of a seat writes and the next holder must see. Stored
/// and loaded `Relaxed`, so only the seat map's own orderings can carry it
/// from one thread to the other.
#[derive(Clone)]
pub(super) struct Payload(Arc<LoomU64>);

impl Payload {
    pub(super) fn new() -> Payload {
        Payload(Arc::new(LoomU64::new(0)))
    }
    /// Writes `value`, `Relaxed`: no ordering of its own.
    pub(super) fn write(&self, value: u64) {
        self.0.store(value, Ordering::Relaxed);
    }
    /// Reads the value, `Relaxed`: no ordering of its own.
    pub(super) fn read(&self) -> u64 {
        self.0.load(Ordering::Relaxed)
    }
}

// ---------------------------------------------------------------------------
// Adapters: the only calls into the raw engine.
// ---------------------------------------------------------------------------

/// `reserve(seat)`: whether this call won the seat.
pub(super) fn reserve(map: &Map, seat: u64) -> bool {
    match map.reserve(seat) {
        Ok(()) => true,
        Err(ReserveError::Taken { .. }) => false,
        Err(other) => panic!("reserve({seat}): {other:?}"),
    }
}

/// `release(seat)`: whether the seat was reserved.
pub(super) fn release(map: &Map, seat: u64) -> bool {
    match map.release(seat) {
        Ok(()) => true,
        Err(ReleaseError::NotReserved { .. }) => false,
        Err(other) => panic!("release({seat}): {other:?}"),
    }
}

/// `reserve_each(seats)`: the seats this call was told it reserved, in
/// request order.
pub(super) fn reserve_each(map: &Map, seats: &[u64]) -> Vec<u64> {
    let outcomes = map.reserve_each(seats);
    assert_eq!(outcomes.len(), seats.len(), "one outcome per seat");
    seats
        .iter()
        .zip(outcomes)
        .filter(|(_, outcome)| {
            assert_ne!(
                *outcome,
                ReserveOutcome::OutOfRange,
                "models use valid seats"
            );
            outcome.is_reserved()
        })
        .map(|(&seat, _)| seat)
        .collect()
}

/// `release_each(seats)`: the seats this call was told it released, in
/// request order.
pub(super) fn release_each(map: &Map, seats: &[u64]) -> Vec<u64> {
    let outcomes = map.release_each(seats);
    assert_eq!(outcomes.len(), seats.len(), "one outcome per seat");
    seats
        .iter()
        .zip(outcomes)
        .filter(|(_, outcome)| {
            assert_ne!(
                *outcome,
                ReleaseOutcome::OutOfRange,
                "models use valid seats"
            );
            outcome.is_released()
        })
        .map(|(&seat, _)| seat)
        .collect()
}

/// `reserve_all(seats)`: `Ok`, or the seats reported taken (ascending).
pub(super) fn reserve_all(map: &Map, seats: &[u64]) -> Result<(), Vec<u64>> {
    match map.reserve_all(seats) {
        Ok(()) => Ok(()),
        Err(AllOrNothingError::Conflict { taken }) => Err(taken),
        Err(other) => panic!("reserve_all({seats:?}): {other:?}"),
    }
}

/// `reserve_any(n)` with the search starting at word `start_word`: the
/// seats won, ascending, or `None` for "not enough".
pub(super) fn any(map: &Map, n: u64, start_word: usize) -> Option<Vec<u64>> {
    let mut runs = Vec::new();
    map.reserve_any_from(n, start_word, &mut runs).ok()?;
    let seats: Vec<u64> = runs.into_iter().flatten().collect();
    assert!(seats.is_sorted(), "runs come sorted");
    Some(seats)
}

/// `reserve_adjacent(n)` with the search starting at seat `start_seat`: the
/// run won, or `None` for "not enough".
pub(super) fn adjacent(map: &Map, n: u64, start_seat: u64) -> Option<Range<u64>> {
    map.reserve_adjacent_from(n, start_seat)
        .ok()
        .map(|(first, _)| first..first + n)
}

/// `is_reserved(seat)`: one query load.
pub(super) fn is_reserved(map: &Map, seat: u64) -> bool {
    map.is_reserved(seat).expect("models use valid seats")
}

/// `reserved_count()`: one query load per word.
pub(super) fn reserved_count(map: &Map) -> u64 {
    map.reserved_count()
}

/// The exact set of reserved seats, ascending, read word by word (call it
/// once the racers are joined). Fails if a bit past the capacity is set.
pub(super) fn reserved(map: &Map) -> Vec<u64> {
    let capacity = map.capacity();
    let mut seats = Vec::new();
    for index in 0..words_for(capacity) as usize {
        let word = map.load_word(index);
        assert_eq!(
            word & !valid_bits(index, capacity),
            0,
            "a bit past the capacity is set in word {index}"
        );
        seats.extend(
            (0..64)
                .filter(|bit| word & (1 << bit) != 0)
                .map(|bit| first_seat_of(index) + bit),
        );
    }
    seats
}

/// `seats` sorted, checking that none appears twice (no seat was granted to
/// two callers).
pub(super) fn disjoint_union(grants: &[&[u64]]) -> Vec<u64> {
    let mut all: Vec<u64> = grants.iter().flat_map(|g| g.iter().copied()).collect();
    all.sort_unstable();
    let count = all.len();
    all.dedup();
    assert_eq!(all.len(), count, "a seat was granted twice: {grants:?}");
    all
}

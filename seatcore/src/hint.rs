//! Where a search starts: a per-thread hint **per map**, as in Linux's
//! sbitmap.
//!
//! If every searcher started at seat 0, all of them would fight over the
//! first word with free seats. Each thread instead starts where its last
//! search *on that map* ended (where free seats are likely left). The hints
//! live in a small thread-local table indexed by the map's id, so:
//!
//! - they cost no atomic operation and no memory in the map (10 000 maps
//!   cost nothing here), and no cache line is shared between threads, which
//!   a single hint per map would bring back;
//! - searches on different maps never share a start: a map whose slot holds
//!   another map's hint starts from a seed derived from the thread and the
//!   map instead (spread, stable, and different for every map);
//! - a stale value is harmless: it is only a starting point, taken modulo
//!   the map's size.
//!
//! Tests and fuzzers pin the start with the `_at` forms of the searches
//! (`SeatMap::reserve_any_at`), so a failure replays exactly.

use std::cell::Cell;
use std::hash::{Hash, Hasher};

use crate::sync::{Ordering, StdAtomicU64};

/// Hints kept per thread; a map whose id maps to an occupied slot evicts it.
const SLOTS: usize = 16;

thread_local! {
    /// `(map id + 1, next start seat)`; id 0 means empty.
    static HINTS: [Cell<(u64, u64)>; SLOTS] = const { [const { Cell::new((0, 0)) }; SLOTS] };
}

/// A map's identity for the hint table: unique per map in this process.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct MapId(u64);

impl MapId {
    /// A fresh id.
    pub(crate) fn next() -> MapId {
        static NEXT: StdAtomicU64 = StdAtomicU64::new(1);
        // Relaxed: only uniqueness matters, which every RMW gives.
        MapId(NEXT.fetch_add(1, Ordering::Relaxed))
    }
}

/// The seat at which this thread's next search of map `id` should start.
pub(crate) fn start_seat(id: MapId, capacity: u64) -> u64 {
    let (owner, seat) = HINTS.with(|hints| hints[slot(id)].get());
    if owner == id.0 {
        seat % capacity
    } else {
        seed(id) % capacity
    }
}

/// Records where this thread's last search of map `id` ended.
pub(crate) fn remember(id: MapId, seat: u64) {
    HINTS.with(|hints| hints[slot(id)].set((id.0, seat)));
}

fn slot(id: MapId) -> usize {
    (id.0 % SLOTS as u64) as usize
}

/// A start derived from the current thread and the map: spread, stable.
fn seed(id: MapId) -> u64 {
    // DefaultHasher::new() uses fixed keys: no randomness, no global state.
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    std::thread::current().id().hash(&mut hasher);
    id.0.hash(&mut hasher);
    hasher.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn remembers_per_thread_and_per_map() {
        let (a, b) = (MapId::next(), MapId::next());
        remember(a, 1234);
        assert_eq!(start_seat(a, 1_000_000), 1234);
        assert_eq!(start_seat(a, 1000), 234);
        // Another map does not inherit a's hint.
        assert_ne!(start_seat(b, 1_000_000), 1234);
        remember(b, 55);
        assert_eq!(
            (start_seat(a, 1_000_000), start_seat(b, 1_000_000)),
            (1234, 55)
        );
        let other = std::thread::spawn(move || {
            remember(a, 7);
            start_seat(a, 100)
        })
        .join()
        .unwrap();
        assert_eq!(other, 7);
        assert_eq!(start_seat(a, 1_000_000), 1234);
    }

    #[test]
    fn maps_without_a_hint_start_in_different_places() {
        let starts: std::collections::BTreeSet<u64> = (0..64)
            .map(|_| start_seat(MapId::next(), 1 << 40))
            .collect();
        assert!(starts.len() > 60, "seeds collide: {}", starts.len());
    }

    #[test]
    fn start_is_always_on_the_map() {
        let id = MapId::next();
        let seat = std::thread::spawn(move || start_seat(id, 3))
            .join()
            .unwrap();
        assert!(seat < 3);
    }
}

//! Exhaustive loom models of the real engine.
//!
//! The engine is generic over [`AtomicWord`]; here it runs with loom's
//! `AtomicU64`, so loom explores every interleaving (up to a preemption
//! bound) of the very code `SeatMap` runs with `std`'s atomics. Plain
//! `cargo test` runs these: no `RUSTFLAGS`, no `cfg(loom)`.
//!
//! Maps have 128 seats (two words) so that claims can span a word boundary.
//! The models are exhaustive by default; `LOOM_MAX_PREEMPTIONS=N` bounds them.

use loom::sync::Arc;
use loom::sync::atomic::AtomicU64 as LoomU64;
use loom::thread;

use crate::error::{AllOrNothingError, ReserveError};
use crate::outcome::ReserveOutcome;
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

pub(super) type Map = RawSeatMap<LoomU64>;

/// One thread's work in a race.
type Task<T> = Box<dyn FnOnce(&Map) -> T + Send>;

/// Two words: seat 63 and seat 64 sit on either side of the boundary.
const SEATS: u64 = 128;

/// The default preemption bound: none, so every model is exhaustive. The
/// models are small (two or three threads, a handful of atomic operations
/// each), and the whole suite explores every interleaving in about ten
/// seconds here. A larger model would set a bound of 2 or 3, which loom's
/// authors find catches most bugs.
const PREEMPTIONS: Option<usize> = None;

/// Runs `model` under loom: exhaustively by default, or with the bound in
/// `LOOM_MAX_PREEMPTIONS` when that is set.
pub(super) fn run_model(model: impl Fn() + Sync + Send + 'static) {
    let mut builder = loom::model::Builder::new();
    if builder.preemption_bound.is_none() {
        builder.preemption_bound = PREEMPTIONS;
    }
    builder.check(model);
}

fn new_map() -> Arc<Map> {
    Arc::new(Map::new(SEATS).expect("128 seats is a valid capacity"))
}

/// Runs each closure on its own loom thread against one map and returns
/// their results in order, with the map.
fn race<T: Send + 'static>(map: Arc<Map>, tasks: Vec<Task<T>>) -> (Arc<Map>, Vec<T>) {
    let handles: Vec<_> = tasks
        .into_iter()
        .map(|task| {
            let map = Arc::clone(&map);
            thread::spawn(move || task(&map))
        })
        .collect();
    let results = handles.into_iter().map(|h| h.join().unwrap()).collect();
    (map, results)
}

/// `reserve_any_from` with its runs flattened into seats.
fn any(map: &Map, n: u64, start: usize) -> Result<Vec<u64>, crate::error::SearchError> {
    let mut runs = Vec::new();
    map.reserve_any_from(n, start, &mut runs)?;
    Ok(runs.into_iter().flatten().collect())
}

fn reserved(map: &Map) -> Vec<u64> {
    (0..SEATS)
        .filter(|&s| map.is_reserved(s).unwrap())
        .collect()
}

#[test]
fn two_threads_reserving_one_seat_exactly_one_wins() {
    run_model(|| {
        let tasks: Vec<Task<_>> = vec![Box::new(|m| m.reserve(5)), Box::new(|m| m.reserve(5))];
        let (map, results) = race(new_map(), tasks);
        let wins = results.iter().filter(|r| r.is_ok()).count();
        assert_eq!(wins, 1);
        assert!(results.contains(&Err(ReserveError::Taken { seat: 5 })));
        assert_eq!(reserved(&map), [5]);
    });
}

#[test]
fn three_threads_reserving_one_seat_exactly_one_wins() {
    run_model(|| {
        let tasks: Vec<Task<_>> = vec![
            Box::new(|m| m.reserve(64)),
            Box::new(|m| m.reserve(64)),
            Box::new(|m| m.reserve(64)),
        ];
        let (map, results) = race(new_map(), tasks);
        assert_eq!(results.iter().filter(|r| r.is_ok()).count(), 1);
        assert_eq!(reserved(&map), [64]);
    });
}

#[test]
fn overlapping_per_seat_lists_grant_disjoint_seats_whose_union_is_the_map() {
    run_model(|| {
        let a = [1u64, 63, 64, 2];
        let b = [64u64, 1, 100, 63];
        let tasks: Vec<Task<_>> = vec![
            Box::new(move |m| m.reserve_each(&a)),
            Box::new(move |m| m.reserve_each(&b)),
        ];
        let (map, results) = race(new_map(), tasks);
        let granted = |seats: &[u64], outcomes: &[ReserveOutcome]| -> Vec<u64> {
            seats
                .iter()
                .zip(outcomes)
                .filter(|(_, o)| o.is_reserved())
                .map(|(s, _)| *s)
                .collect()
        };
        let mut all = granted(&a, &results[0]);
        all.extend(granted(&b, &results[1]));
        all.sort_unstable();
        let before_dedup = all.len();
        all.dedup();
        assert_eq!(all.len(), before_dedup, "a seat was granted twice");
        assert_eq!(all, reserved(&map), "grants and map disagree");
        // Every requested seat ends up reserved by one of the two.
        assert_eq!(all, [1, 2, 63, 64, 100]);
    });
}

#[test]
fn overlapping_all_or_nothing_claims_across_two_words() {
    run_model(|| {
        // Both span the word boundary and share seat 64.
        let a = [10u64, 64];
        let b = [64u64, 70, 20];
        let tasks: Vec<Task<_>> = vec![
            Box::new(move |m| {
                let result = m.reserve_all(&a);
                // Complete when it returns: nobody else frees seats here.
                if result.is_ok() {
                    assert!(a.iter().all(|&s| m.is_reserved(s).unwrap()));
                } else {
                    assert!(!m.is_reserved(10).unwrap(), "rollback left seat 10");
                }
                result
            }),
            Box::new(move |m| {
                let result = m.reserve_all(&b);
                if result.is_ok() {
                    assert!(b.iter().all(|&s| m.is_reserved(s).unwrap()));
                } else {
                    assert!(!m.is_reserved(20).unwrap(), "rollback left seat 20");
                    assert!(!m.is_reserved(70).unwrap(), "rollback left seat 70");
                }
                result
            }),
        ];
        let (map, results) = race(new_map(), tasks);
        // Never both; and, with no third party, never neither: the winner
        // of the shared word goes on (see all_or_nothing.rs).
        assert_eq!(results.iter().filter(|r| r.is_ok()).count(), 1);
        let (won, lost) = if results[0].is_ok() {
            (&a[..], &results[1])
        } else {
            (&b[..], &results[0])
        };
        assert_eq!(lost, &Err(AllOrNothingError::Conflict { taken: vec![64] }));
        let mut expected = won.to_vec();
        expected.sort_unstable();
        assert_eq!(reserved(&map), expected);
    });
}

#[test]
fn all_or_nothing_against_a_single_reserve_never_half_books() {
    run_model(|| {
        let tasks: Vec<Task<_>> = vec![
            Box::new(|m| m.reserve_all(&[3, 65]).is_ok()),
            Box::new(|m| m.reserve(65).is_ok()),
        ];
        let (map, results) = race(new_map(), tasks);
        match (results[0], results[1]) {
            (true, false) => assert_eq!(reserved(&map), [3, 65]),
            (false, true) => assert_eq!(reserved(&map), [65]),
            // The single reserve may lose to a claim that then rolls back
            // (documented); the map is then left empty, never half-booked.
            (false, false) => assert_eq!(reserved(&map), Vec::<u64>::new()),
            (true, true) => panic!("seat 65 granted twice"),
        }
    });
}

#[test]
fn reserve_racing_release() {
    run_model(|| {
        let map = new_map();
        map.reserve(7).unwrap();
        let tasks: Vec<Task<_>> = vec![
            Box::new(|m| m.release(7).is_ok()),
            Box::new(|m| m.reserve(7).is_ok()),
            Box::new(|m| m.reserve(8).is_ok()),
        ];
        let (map, results) = race(map, tasks);
        assert!(results[0], "the holder's release must succeed");
        assert!(results[2], "an unrelated seat of the same word is free");
        // The reserve wins iff it came after the release.
        let expected: Vec<u64> = if results[1] { vec![7, 8] } else { vec![8] };
        assert_eq!(reserved(&map), expected);
    });
}

#[test]
fn concurrent_reserve_any_never_grants_a_seat_twice() {
    run_model(|| {
        // Both start in the same word, and the first word is nearly full,
        // so the searches collide and one spills into the second word.
        let map = new_map();
        let _ = map.reserve_each(&(0..61).collect::<Vec<_>>());
        let tasks: Vec<Task<_>> = vec![Box::new(|m| any(m, 2, 0)), Box::new(|m| any(m, 2, 0))];
        let (map, results) = race(map, tasks);
        let mut granted: Vec<u64> = results
            .into_iter()
            .flat_map(|r| r.expect("128 - 61 seats are plenty"))
            .collect();
        granted.sort_unstable();
        let count = granted.len();
        granted.dedup();
        assert_eq!((count, granted.len()), (4, 4), "a seat was granted twice");
        assert_eq!(map.reserved_count(), 61 + 4);
        assert!(granted.iter().all(|&s| s >= 61));
    });
}

#[test]
fn reserve_any_that_cannot_finish_gives_everything_back() {
    run_model(|| {
        // Three free seats; two searchers of two each: at most one wins,
        // and a loser keeps nothing.
        let map = new_map();
        let _ = map.reserve_each(&(3..SEATS).collect::<Vec<_>>());
        let tasks: Vec<Task<_>> = vec![Box::new(|m| any(m, 2, 0)), Box::new(|m| any(m, 2, 1))];
        let (map, results) = race(map, tasks);
        let wins: Vec<&Vec<u64>> = results.iter().filter_map(|r| r.as_ref().ok()).collect();
        assert!(wins.len() <= 1, "three seats cannot serve two pairs");
        let held = wins.first().map_or(0, |w| w.len() as u64);
        assert_eq!(map.reserved_count(), SEATS - 3 + held);
    });
}

#[test]
fn concurrent_adjacent_runs_never_overlap() {
    run_model(|| {
        // Free seats 60..68 only: runs of 4 across the word boundary.
        let map = new_map();
        let taken: Vec<u64> = (0..SEATS).filter(|s| !(60..68).contains(s)).collect();
        let _ = map.reserve_each(&taken);
        let tasks: Vec<Task<_>> = vec![
            Box::new(|m| m.reserve_adjacent_from(4, 0).map(|(first, _)| first)),
            Box::new(|m| m.reserve_adjacent_from(4, 62).map(|(first, _)| first)),
        ];
        let (map, results) = race(map, tasks);
        let runs: Vec<u64> = results
            .iter()
            .filter_map(|r| r.as_ref().ok().copied())
            .collect();
        for (i, a) in runs.iter().enumerate() {
            for b in &runs[i + 1..] {
                assert!(a + 4 <= *b || b + 4 <= *a, "runs {a} and {b} overlap");
            }
        }
        assert_eq!(
            map.reserved_count(),
            taken.len() as u64 + 4 * runs.len() as u64
        );
        assert!(
            !runs.is_empty(),
            "eight free seats hold at least one run of four"
        );
    });
}

#[test]
fn release_each_racing_reserves_in_the_same_words() {
    run_model(|| {
        let map = new_map();
        map.reserve_all(&[3, 64, 65]).unwrap();
        let tasks: Vec<Task<_>> = vec![
            Box::new(|m| {
                let outcomes = m.release_each(&[3, 64, 65, 4]);
                outcomes.iter().map(|o| o.is_released()).collect::<Vec<_>>()
            }),
            Box::new(|m| vec![m.reserve(3).is_ok(), m.reserve(66).is_ok()]),
        ];
        let (map, results) = race(map, tasks);
        // The releaser freed exactly the seats it held, and not seat 4.
        assert_eq!(results[0], [true, true, true, false]);
        assert!(results[1][1], "seat 66 was free throughout");
        // Seat 3 is held iff the reserve came after the release.
        let expected: Vec<u64> = if results[1][0] { vec![3, 66] } else { vec![66] };
        assert_eq!(reserved(&map), expected);
    });
}

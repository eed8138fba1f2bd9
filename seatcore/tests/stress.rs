//! Real threads against one map: no seat is ever granted to two threads,
//! counts are conserved, a race to fill the map grants exactly its
//! capacity, and of two all-or-nothing claims racing for the same seats
//! exactly one wins. Iteration counts are bounded and nothing is timed.
//!
//! Each test keeps its own record of who holds which seat, beside the map:
//! an owner per seat (`AtomicUsize`, `NONE` when free) that a winner sets
//! from `NONE` to its id right after the map granted it the seat, and sets
//! back to `NONE` right before releasing it. If the map ever granted a seat
//! that another thread still held, that compare-and-swap fails and the test
//! fails with the seat and both threads.

use std::collections::BTreeSet;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Barrier};
use std::thread;

use seatcore::{AllOrNothingError, ReleaseOutcome, ReserveOutcome, SeatMap};

/// Owner value of a seat nobody holds.
const NONE: usize = usize::MAX;

/// Threads per test: more than the cores of a small machine, so threads are
/// also preempted in the middle of operations.
const THREADS: usize = 4;

/// A tiny deterministic generator (xorshift64*), one per thread, so a
/// failure's operation mix can be replayed.
struct Rng(u64);

impl Rng {
    fn new(seed: u64) -> Rng {
        Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }

    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// A value in `0..bound`.
    fn below(&mut self, bound: u64) -> u64 {
        self.next() % bound
    }

    /// Up to `max_len` seats of `0..capacity`, repeats allowed.
    fn seats(&mut self, capacity: u64, max_len: u64) -> Vec<u64> {
        let len = 1 + self.below(max_len);
        (0..len).map(|_| self.below(capacity)).collect()
    }
}

/// The test's own record of who holds each seat.
struct Owners {
    owner: Vec<AtomicUsize>,
}

impl Owners {
    fn new(capacity: u64) -> Owners {
        Owners {
            owner: (0..capacity).map(|_| AtomicUsize::new(NONE)).collect(),
        }
    }

    /// Thread `me` was just granted `seat`: nobody may hold it.
    fn claim(&self, seat: u64, me: usize) {
        // AcqRel: the success pairs with the Release of the previous
        // holder's `give_up`, so a seat's owners form one chain; the check
        // itself (was it NONE?) needs no ordering, the CAS sees the latest.
        let result = self.owner[seat as usize].compare_exchange(
            NONE,
            me,
            Ordering::AcqRel,
            // Acquire on failure: the holder id is read for the message.
            Ordering::Acquire,
        );
        if let Err(holder) = result {
            panic!("seat {seat} granted to thread {me} while thread {holder} holds it");
        }
    }

    /// Thread `me` is about to release `seat`, which it holds.
    fn give_up(&self, seat: u64, me: usize) {
        // AcqRel: see `claim`.
        let result = self.owner[seat as usize].compare_exchange(
            me,
            NONE,
            Ordering::AcqRel,
            Ordering::Acquire,
        );
        if let Err(holder) = result {
            panic!("thread {me} releases seat {seat}, but the record says {holder} holds it");
        }
    }

    /// The seat's recorded holder (after every thread is joined).
    fn holder(&self, seat: u64) -> usize {
        // Relaxed: only read after `join`, which orders every write before.
        self.owner[seat as usize].load(Ordering::Relaxed)
    }
}

/// One thread's mix: every way to reserve, and releasing only its own
/// seats. Returns the seats it holds at the end.
fn churn(map: &SeatMap, owners: &Owners, me: usize, iterations: u64) -> BTreeSet<u64> {
    let capacity = map.capacity();
    let mut rng = Rng::new(me as u64 + 1);
    let mut held = BTreeSet::new();
    let win = |seat: u64, held: &mut BTreeSet<u64>| {
        owners.claim(seat, me);
        assert!(held.insert(seat), "thread {me} granted seat {seat} twice");
    };
    for _ in 0..iterations {
        match rng.below(10) {
            0 | 1 => {
                let seat = rng.below(capacity);
                if map.reserve(seat).is_ok() {
                    win(seat, &mut held);
                }
            }
            2 => {
                // Short lists mostly; sometimes past 16 seats, which
                // seatcore groups by word on the heap instead of the stack.
                let max_len = if rng.below(4) == 0 { 24 } else { 5 };
                let seats = rng.seats(capacity, max_len);
                for (seat, outcome) in seats.iter().zip(map.reserve_each(&seats)) {
                    if outcome == ReserveOutcome::Reserved {
                        win(*seat, &mut held);
                    }
                }
            }
            3 => {
                let seats = rng.seats(capacity, 4);
                match map.reserve_all(&seats) {
                    Ok(()) => seats.iter().for_each(|&seat| win(seat, &mut held)),
                    Err(AllOrNothingError::Conflict { taken }) => {
                        assert!(!taken.is_empty(), "a conflict names a taken seat");
                    }
                    Err(AllOrNothingError::Duplicate { .. }) => {}
                    Err(e) => panic!("reserve_all({seats:?}) on seats in range: {e}"),
                }
            }
            4 => {
                let n = 1 + rng.below(4);
                if let Ok(runs) = map.reserve_any(n) {
                    let seats: Vec<u64> = runs.into_iter().flatten().collect();
                    assert_eq!(seats.len() as u64, n);
                    seats.into_iter().for_each(|seat| win(seat, &mut held));
                }
            }
            5 => {
                let n = 1 + rng.below(4);
                if let Ok(run) = map.reserve_adjacent(n) {
                    assert_eq!(run.end - run.start, n);
                    run.for_each(|seat| win(seat, &mut held));
                }
            }
            6 | 7 => {
                // Release one seat of ours: the record first, then the map
                // (once the map frees it, another thread may win it).
                if let Some(&seat) = held.iter().nth(rng.below(held.len() as u64 + 1) as usize) {
                    held.remove(&seat);
                    owners.give_up(seat, me);
                    assert_eq!(map.release(seat), Ok(()), "thread {me} held {seat}");
                }
            }
            8 => {
                // Release a handful of ours at once (sometimes past 16).
                let some: Vec<u64> = held.iter().copied().step_by(2).take(20).collect();
                for seat in &some {
                    held.remove(seat);
                    owners.give_up(*seat, me);
                }
                let outcomes = map.release_each(&some);
                assert!(outcomes.iter().all(|o| *o == ReleaseOutcome::Released));
            }
            _ => {
                // Everything we hold is reserved, whatever the others do.
                if let Some(&seat) = held.iter().next() {
                    assert_eq!(map.is_reserved(seat), Ok(true), "thread {me} holds {seat}");
                }
            }
        }
    }
    held
}

#[test]
fn no_seat_is_ever_held_by_two_threads() {
    // 200 seats: four words, the last one partial, so threads collide often.
    let capacity = 200;
    let map = Arc::new(SeatMap::new(capacity).expect("valid capacity"));
    let owners = Arc::new(Owners::new(capacity));
    let start = Arc::new(Barrier::new(THREADS));
    let threads: Vec<_> = (0..THREADS)
        .map(|me| {
            let (map, owners, start) = (Arc::clone(&map), Arc::clone(&owners), Arc::clone(&start));
            thread::spawn(move || {
                start.wait();
                churn(&map, &owners, me, 20_000)
            })
        })
        .collect();
    let holdings: Vec<BTreeSet<u64>> = threads
        .into_iter()
        .map(|t| t.join().expect("a worker failed"))
        .collect();

    // Conservation: the map's reserved seats are exactly the union of what
    // the threads hold, and the record agrees seat by seat.
    let union: BTreeSet<u64> = holdings.iter().flatten().copied().collect();
    let total: usize = holdings.iter().map(BTreeSet::len).sum();
    assert_eq!(total, union.len(), "two threads hold the same seat");
    assert!(map.reserved_seats().eq(union.iter().copied()));
    assert_eq!(map.reserved_count(), union.len() as u64);
    for (me, held) in holdings.iter().enumerate() {
        for &seat in held {
            assert_eq!(owners.holder(seat), me);
        }
    }
    for seat in map.free_seats() {
        assert_eq!(
            owners.holder(seat),
            NONE,
            "seat {seat} is free but recorded as held"
        );
    }
}

#[test]
fn a_race_to_fill_the_map_grants_exactly_its_capacity() {
    // Not a multiple of 64, so the partial last word is raced for too.
    let capacity = 10_007;
    let map = Arc::new(SeatMap::new(capacity).expect("valid capacity"));
    let owners = Arc::new(Owners::new(capacity));
    let granted = Arc::new(AtomicU64::new(0));
    let start = Arc::new(Barrier::new(THREADS));
    let threads: Vec<_> = (0..THREADS)
        .map(|me| {
            let (map, owners) = (Arc::clone(&map), Arc::clone(&owners));
            let (granted, start) = (Arc::clone(&granted), Arc::clone(&start));
            thread::spawn(move || {
                let mut rng = Rng::new(100 + me as u64);
                let mut mine = 0u64;
                start.wait();
                // Bounded: far more rounds than needed; stop when full.
                // Relaxed: only a stop signal, checked again after join.
                for _ in 0..1_000_000 {
                    if granted.load(Ordering::Relaxed) >= capacity {
                        break;
                    }
                    let won: Vec<u64> = match rng.below(5) {
                        0 => map
                            .reserve_any(1 + rng.below(8))
                            .map_or(Vec::new(), |runs| runs.into_iter().flatten().collect()),
                        1 => map
                            .reserve_adjacent(1 + rng.below(8))
                            .map_or(Vec::new(), Vec::from_iter),
                        2 => {
                            let seats = rng.seats(capacity, 4);
                            let outcomes = map.reserve_each(&seats);
                            let won = seats.iter().zip(outcomes).filter(|(_, o)| o.is_reserved());
                            won.map(|(&seat, _)| seat).collect()
                        }
                        3 => {
                            let seats = rng.seats(capacity, 3);
                            map.reserve_all(&seats).map_or(Vec::new(), |()| seats)
                        }
                        _ => map
                            .reserve_any(1)
                            .map_or(Vec::new(), |runs| runs.into_iter().flatten().collect()),
                    };
                    for &seat in &won {
                        owners.claim(seat, me);
                    }
                    mine += won.len() as u64;
                    // Relaxed: a counter; join orders it before the checks.
                    granted.fetch_add(won.len() as u64, Ordering::Relaxed);
                }
                mine
            })
        })
        .collect();
    let per_thread: Vec<u64> = threads
        .into_iter()
        .map(|t| t.join().expect("a worker failed"))
        .collect();
    let total: u64 = per_thread.iter().sum();
    assert_eq!(total, capacity, "grants per thread: {per_thread:?}");
    assert_eq!(map.free_count(), 0);
    assert_eq!(map.reserved_count(), capacity);
    assert!((0..capacity).all(|seat| owners.holder(seat) != NONE));
    assert!(map.reserve_any(1).is_err());
    assert!(map.reserve_adjacent(1).is_err());
}

#[test]
fn a_map_past_u32_seats_reserves_and_releases_its_last_seat() {
    // 2^32 + 1 seats: 512 MiB plus one word. The last seat is alone in its
    // word, at an index that does not fit in 32 bits.
    let capacity = (1u64 << 32) + 1;
    let last = capacity - 1;
    let map = SeatMap::new(capacity).expect("512 MiB fits");
    assert_eq!(map.capacity(), capacity);
    assert_eq!(map.reserve(last), Ok(()));
    assert_eq!(map.is_reserved(last), Ok(true));
    assert_eq!(map.is_reserved(last - 64), Ok(false));
    assert_eq!(
        map.reserve_each(&[last, capacity]),
        [ReserveOutcome::Taken, ReserveOutcome::OutOfRange]
    );
    assert!(map.reserve(capacity).is_err());
    assert_eq!(map.release(last), Ok(()));
    assert_eq!(map.reserve_all(&[last, last - 1]), Ok(()));
    assert_eq!(
        map.release_each(&[last, last - 1]),
        [ReleaseOutcome::Released; 2]
    );
    assert_eq!(map.is_reserved(last), Ok(false));
}

#[test]
fn a_capacity_too_large_for_memory_is_an_error_not_an_abort() {
    // 2^64 - 1 seats would need 2^61 bytes: `new` must say so with a
    // `CapacityError`, as its documentation promises, not abort the process.
    let err = SeatMap::new(u64::MAX).expect_err("2^61 bytes do not fit");
    assert_eq!(err.requested(), u64::MAX);
}

/// Two threads race for the same seats, round after round, with nothing
/// else touching the map: exactly one of them must win each round. Both
/// winning would double-book; both losing would mean two all-or-nothing
/// claims failed because of each other, which claiming words in ascending
/// order rules out (the winner of the lowest shared word goes on, and the
/// loser never touches a word above it). The winner gives its seats back
/// after both have tried, before the next round starts.
fn exactly_one_wins_each_round(
    attempt: impl Fn(usize) -> bool + Sync,
    give_back: impl Fn(usize) + Sync,
) {
    let barrier = Barrier::new(2);
    let rounds = 2_000;
    let wins: Vec<Vec<bool>> = thread::scope(|s| {
        let racers: Vec<_> = (0..2)
            .map(|me| {
                let (barrier, attempt, give_back) = (&barrier, &attempt, &give_back);
                s.spawn(move || {
                    (0..rounds)
                        .map(|_| {
                            barrier.wait();
                            let won = attempt(me);
                            barrier.wait();
                            if won {
                                give_back(me);
                            }
                            won
                        })
                        .collect()
                })
            })
            .collect();
        racers
            .into_iter()
            .map(|r| r.join().expect("a racer failed"))
            .collect()
    });
    for (round, (first, second)) in wins[0].iter().zip(&wins[1]).enumerate() {
        assert!(
            first ^ second,
            "round {round}: thread 0 won {first}, thread 1 won {second}"
        );
    }
}

#[test]
fn two_all_or_nothing_claims_on_the_same_seats_exactly_one_wins() {
    // Seats in three words; the threads list them in different orders and
    // thread 1 adds one of its own, so the requests overlap but differ.
    let map = SeatMap::new(256).expect("valid capacity");
    let requests: [&[u64]; 2] = [&[1, 70, 130, 200], &[200, 5, 130, 70, 1]];
    exactly_one_wins_each_round(
        |me| map.reserve_all(requests[me]).is_ok(),
        |me| {
            let outcomes = map.release_each(requests[me]);
            assert!(outcomes.iter().all(|o| o.is_released()));
        },
    );
    assert_eq!(map.reserved_count(), 0);
}

#[test]
fn two_searches_for_the_only_free_run_exactly_one_wins() {
    // Only seats 60..140 are free: one run over three words, wanted whole
    // by both threads.
    let map = SeatMap::new(200).expect("valid capacity");
    let taken: Vec<u64> = (0..60).chain(140..200).collect();
    map.reserve_all(&taken).expect("a fresh map");
    let won_runs: [std::sync::Mutex<Option<std::ops::Range<u64>>>; 2] = Default::default();
    exactly_one_wins_each_round(
        |me| match map.reserve_adjacent(80) {
            Ok(run) => {
                assert_eq!(run, 60..140);
                *won_runs[me].lock().expect("not poisoned") = Some(run);
                true
            }
            Err(_) => false,
        },
        |me| {
            let run = won_runs[me].lock().expect("not poisoned").take();
            let run: Vec<u64> = run.expect("the winner recorded its run").collect();
            assert!(map.release_each(&run).iter().all(|o| o.is_released()));
        },
    );
    assert_eq!(map.reserved_count(), 120);
}

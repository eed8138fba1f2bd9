//! Histories of real threads, checked for linearizability against the
//! sequential map, under the atomicity the ordering contract promises
//! (`docs/design.md`, "The ordering contract"; the checker's module docs list
//! each operation's atomic steps).
//!
//! Each round, three threads start together on a fresh small map (8, 64, 100
//! or 130 seats, seats chosen near word boundaries so that calls collide)
//! and make a few calls each. Every call is stamped with a tick of one
//! shared `SeqCst` clock taken just before it is invoked and just after it
//! returns: if one call's return tick is below another's invocation tick,
//! the first really finished before the second began. The round's history
//! and the map's final state then go to the checker. Rounds, calls and the
//! checker's search are all bounded in count; nothing is timed.
//!
//! The hand-made histories at the end show that the checker rejects what
//! the contract forbids, and accepts exactly the documented exceptions.

#[path = "linearizability/api.rs"]
mod api;
#[path = "linearizability/checker.rs"]
mod checker;
#[path = "linearizability/history.rs"]
mod history;

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::thread;

use checker::check;
use history::{Call, Op, Outcome};
use seatcore::SeatMap;

const THREADS: usize = 3;
const ROUNDS: u64 = 300;
const CALLS_PER_THREAD: usize = 30;
/// Spins a thread waits at most for the others at the start of a round.
const SPIN_LIMIT: u32 = 10_000_000;
const CAPACITIES: [u64; 4] = [8, 64, 100, 130];
/// Nodes the checker may visit per round: far more than a round of 18 calls
/// needs, and small enough that a pathological history fails fast.
const BUDGET: u64 = 2_000_000;

/// A tiny deterministic generator (xorshift64*), one per thread and round,
/// so a failing round's calls can be replayed.
struct Rng(u64);

impl Rng {
    fn new(seed: u64) -> Rng {
        Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }

    fn below(&mut self, bound: u64) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D) % bound
    }

    fn pick(&mut self, from: &[u64]) -> u64 {
        from[self.below(from.len() as u64) as usize]
    }

    /// One to three seats of `from`, distinct or not.
    fn some(&mut self, from: &[u64], distinct: bool) -> Vec<u64> {
        let len = 1 + self.below(3);
        let mut seats = Vec::new();
        // Bounded: at most 8 draws.
        for _ in 0..8 {
            let seat = self.pick(from);
            if !distinct || !seats.contains(&seat) {
                seats.push(seat);
            }
            if seats.len() as u64 == len {
                break;
            }
        }
        seats
    }
}

/// Seats where calls collide: the ends of each word and of the map.
fn hot_seats(capacity: u64) -> Vec<u64> {
    (0..capacity)
        .filter(|s| s % 64 < 3 || s % 64 >= 61 || *s + 4 >= capacity)
        .collect()
}

/// A call that releases only seats this thread holds.
fn next_call(rng: &mut Rng, hot: &[u64], held: &[u64]) -> Call {
    match rng.below(9) {
        0 | 1 => Call::Reserve(rng.pick(hot)),
        2 if !held.is_empty() => Call::Release(rng.pick(held)),
        3 => Call::ReserveEach(rng.some(hot, false)),
        4 if !held.is_empty() => Call::ReleaseEach(rng.some(held, true)),
        5 => Call::ReserveAll(rng.some(hot, true)),
        6 => Call::ReserveAny(1 + rng.below(3)),
        7 => Call::ReserveAdjacent(1 + rng.below(3)),
        _ => Call::IsReserved(rng.pick(hot)),
    }
}

/// Keeps `held` (this thread's seats) up to date after `call`.
fn track(held: &mut Vec<u64>, call: &Call, outcome: &Outcome) {
    match (call, outcome) {
        (Call::Reserve(s), Outcome::Yes(true)) => held.push(*s),
        (Call::Release(s), Outcome::Yes(true)) => held.retain(|h| h != s),
        (Call::ReserveEach(seats), Outcome::Each(won)) => {
            held.extend(seats.iter().zip(won).filter(|(_, w)| **w).map(|(s, _)| s));
        }
        (Call::ReleaseEach(seats), Outcome::Each(_)) => held.retain(|h| !seats.contains(h)),
        (Call::ReserveAll(seats), Outcome::All(Ok(()))) => held.extend(seats),
        (_, Outcome::Found(Some(seats))) => held.extend(seats),
        _ => {}
    }
}

/// Waits (spinning, so that the threads really start at once, and bounded
/// in count) until every thread of the round is ready.
fn start_together(ready: &AtomicUsize) {
    // SeqCst: a plain rendezvous, nothing to optimise.
    ready.fetch_add(1, Ordering::SeqCst);
    for _ in 0..SPIN_LIMIT {
        if ready.load(Ordering::SeqCst) == THREADS {
            return;
        }
        std::hint::spin_loop();
    }
}

/// One round: the history of `THREADS` threads on a fresh map, and the
/// map's final state.
fn record(round: u64, capacity: u64) -> (Vec<Op>, Vec<u64>) {
    let map = Arc::new(SeatMap::new(capacity).unwrap());
    let clock = Arc::new(AtomicU64::new(0));
    let ready = Arc::new(AtomicUsize::new(0));
    let hot = Arc::new(hot_seats(capacity));
    let threads: Vec<_> = (0..THREADS as u64)
        .map(|t| {
            let (map, clock, ready, hot) = (map.clone(), clock.clone(), ready.clone(), hot.clone());
            thread::spawn(move || {
                let mut rng = Rng::new(round * 31 + t);
                let mut held = Vec::new();
                let mut ops = Vec::new();
                start_together(&ready);
                for _ in 0..CALLS_PER_THREAD {
                    let call = next_call(&mut rng, &hot, &held);
                    // SeqCst: the ticks order calls in real time, across
                    // threads, around the map's own operations.
                    let start = clock.fetch_add(1, Ordering::SeqCst);
                    let outcome = api::run(&map, &call);
                    let end = clock.fetch_add(1, Ordering::SeqCst);
                    track(&mut held, &call, &outcome);
                    ops.push(Op {
                        start,
                        end,
                        call,
                        outcome,
                    });
                }
                ops
            })
        })
        .collect();
    let ops = threads
        .into_iter()
        .flat_map(|t| t.join().unwrap())
        .collect();
    (ops, api::reserved(&map))
}

#[test]
fn histories_of_real_threads_are_linearizable() {
    let (mut overlapping, mut refused) = (0, 0);
    for round in 0..ROUNDS {
        let capacity = CAPACITIES[(round % CAPACITIES.len() as u64) as usize];
        let (ops, last) = record(round, capacity);
        if let Err(why) = check(capacity, &ops, &last, BUDGET) {
            panic!("round {round}, {capacity} seats: {why}");
        }
        overlapping += ops
            .iter()
            .filter(|a| {
                ops.iter()
                    .any(|b| a.start < b.end && b.start < a.end && a.start != b.start)
            })
            .count();
        refused += ops
            .iter()
            .filter(|o| {
                matches!(
                    o.outcome,
                    Outcome::Yes(false) | Outcome::All(Err(_)) | Outcome::Found(None)
                )
            })
            .count();
    }
    // Not asserted (it depends on scheduling): how much the rounds overlapped.
    eprintln!(
        "{} calls, {overlapping} overlapping another, {refused} refused",
        ROUNDS * (THREADS * CALLS_PER_THREAD) as u64
    );
}

// ---------------------------------------------------------------------------
// Hand-made histories: the checker must be able to fail.
// ---------------------------------------------------------------------------

fn op(start: u64, end: u64, call: Call, outcome: Outcome) -> Op {
    Op {
        start,
        end,
        call,
        outcome,
    }
}

fn yes(b: bool) -> Outcome {
    Outcome::Yes(b)
}

#[test]
fn a_seat_granted_twice_without_a_release_is_rejected() {
    let ops = [
        op(0, 1, Call::Reserve(3), yes(true)),
        op(2, 3, Call::Reserve(3), yes(true)),
    ];
    assert!(check(8, &ops, &[3], BUDGET).is_err());
    // Even when the two grants overlap in time.
    let ops = [
        op(0, 3, Call::Reserve(3), yes(true)),
        op(1, 2, Call::Reserve(3), yes(true)),
    ];
    assert!(check(8, &ops, &[3], BUDGET).is_err());
}

#[test]
fn a_grant_after_a_release_is_accepted() {
    let ops = [
        op(0, 1, Call::Reserve(3), yes(true)),
        op(2, 5, Call::Release(3), yes(true)),
        op(3, 4, Call::Reserve(3), yes(true)),
    ];
    assert_eq!(check(8, &ops, &[3], BUDGET), Ok(()));
    // But not if the map ends in another state.
    assert!(check(8, &ops, &[], BUDGET).is_err());
}

#[test]
fn a_list_is_one_step_per_word_not_one_step() {
    // Seat 3 seen reserved and seat 70 seen free while one list reserves
    // both: allowed, the list is atomic per word only.
    let across = [
        op(
            0,
            10,
            Call::ReserveEach(vec![3, 70]),
            Outcome::Each(vec![true, true]),
        ),
        op(1, 2, Call::IsReserved(3), yes(true)),
        op(3, 4, Call::IsReserved(70), yes(false)),
    ];
    assert_eq!(check(130, &across, &[3, 70], BUDGET), Ok(()));
    // The same within one word is not: a word is one step.
    let within = [
        op(
            0,
            10,
            Call::ReserveEach(vec![3, 5]),
            Outcome::Each(vec![true, true]),
        ),
        op(1, 2, Call::IsReserved(3), yes(true)),
        op(3, 4, Call::IsReserved(5), yes(false)),
    ];
    assert!(check(130, &within, &[3, 5], BUDGET).is_err());
}

#[test]
fn a_successful_all_or_nothing_claim_is_never_half_seen_in_one_word() {
    // A claim of [3, 5] (one word) and a reserve of 5 that wins: impossible.
    let ops = [
        op(0, 10, Call::ReserveAll(vec![3, 5]), Outcome::All(Ok(()))),
        op(1, 2, Call::Reserve(5), yes(true)),
    ];
    assert!(check(64, &ops, &[3, 5], BUDGET).is_err());
}

#[test]
fn taken_from_a_claim_that_rolls_back_only_while_it_runs() {
    let history = |reserve_at: (u64, u64)| {
        [
            op(0, 1, Call::Reserve(64), yes(true)),
            // Claims seat 5 (word 0), fails on word 1, gives seat 5 back.
            op(
                2,
                7,
                Call::ReserveAll(vec![5, 64]),
                Outcome::All(Err(vec![64])),
            ),
            op(reserve_at.0, reserve_at.1, Call::Reserve(5), yes(false)),
        ]
    };
    // During the claim: the documented transient `Taken`.
    assert_eq!(check(130, &history((3, 4)), &[64], BUDGET), Ok(()));
    // After it returned: nobody holds seat 5, so `Taken` is a bug.
    assert!(check(130, &history((8, 9)), &[64], BUDGET).is_err());
    // And the claim cannot have reported a conflict nobody caused.
    let phantom = [op(
        0,
        5,
        Call::ReserveAll(vec![5, 64]),
        Outcome::All(Err(vec![64])),
    )];
    assert!(check(130, &phantom, &[], BUDGET).is_err());
}

#[test]
fn a_search_may_hold_seats_for_a_while_but_must_justify_failing_alone() {
    // A failing search running while a reserve finds seat 3 taken: the
    // search may have held it.
    let ops = [
        op(0, 10, Call::ReserveAny(2), Outcome::Found(None)),
        op(1, 2, Call::Reserve(3), yes(false)),
    ];
    assert_eq!(check(8, &ops, &[], BUDGET), Ok(()));
    // Without a search running, the same `Taken` is a bug.
    let ops = [op(1, 2, Call::Reserve(3), yes(false))];
    assert!(check(8, &ops, &[], BUDGET).is_err());
    // A search that fails alone on an empty map is a bug.
    let ops = [op(0, 1, Call::ReserveAny(2), Outcome::Found(None))];
    assert!(check(8, &ops, &[], BUDGET).is_err());
    let ops = [op(0, 1, Call::ReserveAdjacent(8), Outcome::Found(None))];
    assert!(check(8, &ops, &[], BUDGET).is_err());
    // One that fails alone on a full map is right.
    let ops = [
        op(
            0,
            1,
            Call::ReserveAll((0..8).collect()),
            Outcome::All(Ok(())),
        ),
        op(2, 3, Call::ReserveAny(1), Outcome::Found(None)),
    ];
    assert_eq!(check(8, &ops, &(0..8).collect::<Vec<_>>(), BUDGET), Ok(()));
}

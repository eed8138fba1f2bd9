//! Model-based test: random sequences of every public operation, applied
//! to a real [`SeatMap`] and to a plain sequential model (a `BTreeSet` of
//! reserved seats), checking every result and the state after each step.
//!
//! Capacities are weighted towards word boundaries (1, 63, 64, 65, 127,
//! 128, 129) and include large maps; seats are weighted towards the first
//! and last words and include out-of-range values up to `u64::MAX`. The
//! searches (`reserve_any`, `reserve_adjacent`) pick seats from a
//! per-thread hint, so for them the test checks the property (the seats
//! were free, are distinct, are now reserved), not which seats were chosen;
//! some of them run on a fresh thread, whose hint starts elsewhere.

use std::collections::BTreeSet;
use std::ops::Range;

use proptest::prelude::*;
use seatcore::{AllOrNothingError, NotEnough, ReleaseOutcome, ReserveOutcome, SeatError, SeatMap};

/// The largest map the test builds; a full comparison of two maps this big
/// takes about a millisecond.
const LARGE: u64 = 100_000;

/// One public operation with its arguments.
#[derive(Debug, Clone)]
enum Action {
    Reserve(u64),
    Release(u64),
    ReserveEach(Vec<u64>),
    ReleaseEach(Vec<u64>),
    ReserveAll(Vec<u64>),
    ReserveAny(u64),
    ReserveAdjacent(u64),
    /// `reserve_any` from a new thread: a different search start.
    ReserveAnyElsewhere(u64),
    /// `reserve_adjacent` from a new thread: a different search start.
    ReserveAdjacentElsewhere(u64),
    IsReserved(u64),
    Counts,
    FreeSeats,
    ReservedSeats,
    Snapshot(u64),
    Clear,
}

/// The reference: which seats are reserved, nothing else.
#[derive(Debug)]
struct Model {
    capacity: u64,
    reserved: BTreeSet<u64>,
}

impl Model {
    fn free_count(&self) -> u64 {
        self.capacity - self.reserved.len() as u64
    }

    fn free_seats(&self) -> Vec<u64> {
        (0..self.capacity)
            .filter(|s| !self.reserved.contains(s))
            .collect()
    }

    fn reserve(&mut self, seat: u64) -> Result<(), SeatError> {
        if seat >= self.capacity {
            Err(SeatError::OutOfRange {
                seat,
                capacity: self.capacity,
            })
        } else if self.reserved.insert(seat) {
            Ok(())
        } else {
            Err(SeatError::Taken { seat })
        }
    }

    fn release(&mut self, seat: u64) -> Result<(), SeatError> {
        if seat >= self.capacity {
            Err(SeatError::OutOfRange {
                seat,
                capacity: self.capacity,
            })
        } else if self.reserved.remove(&seat) {
            Ok(())
        } else {
            Err(SeatError::NotReserved { seat })
        }
    }

    fn reserve_each(&mut self, seats: &[u64]) -> Vec<ReserveOutcome> {
        seats
            .iter()
            .map(|&seat| match self.reserve(seat) {
                Ok(()) => ReserveOutcome::Reserved,
                Err(SeatError::OutOfRange { .. }) => ReserveOutcome::OutOfRange,
                Err(_) => ReserveOutcome::Taken,
            })
            .collect()
    }

    fn release_each(&mut self, seats: &[u64]) -> Vec<ReleaseOutcome> {
        seats
            .iter()
            .map(|&seat| match self.release(seat) {
                Ok(()) => ReleaseOutcome::Released,
                Err(SeatError::OutOfRange { .. }) => ReleaseOutcome::OutOfRange,
                Err(_) => ReleaseOutcome::NotReserved,
            })
            .collect()
    }

    /// Out of range before duplicate before conflict; nothing changes on
    /// error.
    fn reserve_all(&mut self, seats: &[u64]) -> Result<(), AllOrNothingError> {
        let out_of_range: Vec<u64> = seats
            .iter()
            .copied()
            .filter(|&s| s >= self.capacity)
            .collect();
        if !out_of_range.is_empty() {
            return Err(AllOrNothingError::OutOfRange {
                seats: out_of_range,
                capacity: self.capacity,
            });
        }
        let mut sorted = seats.to_vec();
        sorted.sort_unstable();
        if let Some(pair) = sorted.windows(2).find(|pair| pair[0] == pair[1]) {
            return Err(AllOrNothingError::Duplicate { seat: pair[0] });
        }
        let taken: Vec<u64> = sorted
            .iter()
            .copied()
            .filter(|s| self.reserved.contains(s))
            .collect();
        if !taken.is_empty() {
            return Err(AllOrNothingError::Conflict { taken });
        }
        self.reserved.extend(seats);
        Ok(())
    }

    /// The longest run of free seats.
    fn longest_free_run(&self) -> u64 {
        let mut longest = 0;
        let mut next_free = 0;
        for &taken in self.reserved.iter().chain(std::iter::once(&self.capacity)) {
            longest = longest.max(taken - next_free);
            next_free = taken + 1;
        }
        longest
    }

    fn not_enough(&self, requested: u64) -> NotEnough {
        NotEnough {
            requested,
            free: self.free_count(),
        }
    }
}

/// Checks a `reserve_any(n)` result against the model, then applies it.
fn check_any(model: &mut Model, n: u64, got: Result<Vec<u64>, NotEnough>) {
    if n > model.free_count() {
        assert_eq!(got, Err(model.not_enough(n)), "reserve_any({n})");
        return;
    }
    let seats = got.unwrap_or_else(|e| panic!("reserve_any({n}) failed with {e:?}"));
    assert_eq!(seats.len() as u64, n, "reserve_any({n}) returned {seats:?}");
    for &seat in &seats {
        assert!(seat < model.capacity, "reserve_any({n}) gave seat {seat}");
        assert!(
            model.reserved.insert(seat),
            "reserve_any({n}) gave seat {seat}, which was taken or repeated"
        );
    }
}

/// Checks a `reserve_adjacent(n)` result against the model, then applies it.
fn check_adjacent(model: &mut Model, n: u64, got: Result<Range<u64>, NotEnough>) {
    if n == 0 {
        let run = got.unwrap_or_else(|e| panic!("reserve_adjacent(0) failed with {e:?}"));
        assert!(run.is_empty(), "reserve_adjacent(0) gave {run:?}");
        return;
    }
    if n > model.longest_free_run() {
        assert_eq!(got, Err(model.not_enough(n)), "reserve_adjacent({n})");
        return;
    }
    let run = got.unwrap_or_else(|e| panic!("reserve_adjacent({n}) failed with {e:?}"));
    assert_eq!(run.end - run.start, n, "reserve_adjacent({n}) gave {run:?}");
    assert!(
        run.end <= model.capacity,
        "reserve_adjacent({n}) gave {run:?}"
    );
    for seat in run.clone() {
        assert!(
            model.reserved.insert(seat),
            "reserve_adjacent({n}) gave {run:?}, but seat {seat} was taken"
        );
    }
}

/// Applies `action` to both and checks the map's answer.
fn apply(map: &mut SeatMap, model: &mut Model, action: &Action) {
    match action {
        Action::Reserve(seat) => assert_eq!(map.reserve(*seat), model.reserve(*seat)),
        Action::Release(seat) => assert_eq!(map.release(*seat), model.release(*seat)),
        Action::ReserveEach(seats) => {
            assert_eq!(
                map.reserve_each(seats),
                model.reserve_each(seats),
                "{seats:?}"
            );
        }
        Action::ReleaseEach(seats) => {
            assert_eq!(
                map.release_each(seats),
                model.release_each(seats),
                "{seats:?}"
            );
        }
        Action::ReserveAll(seats) => {
            assert_eq!(
                map.reserve_all(seats),
                model.reserve_all(seats),
                "{seats:?}"
            );
        }
        Action::ReserveAny(n) => check_any(model, *n, map.reserve_any(*n)),
        Action::ReserveAdjacent(n) => check_adjacent(model, *n, map.reserve_adjacent(*n)),
        Action::ReserveAnyElsewhere(n) => {
            let got = std::thread::scope(|s| s.spawn(|| map.reserve_any(*n)).join());
            check_any(model, *n, got.expect("reserve_any must not panic"));
        }
        Action::ReserveAdjacentElsewhere(n) => {
            let got = std::thread::scope(|s| s.spawn(|| map.reserve_adjacent(*n)).join());
            check_adjacent(model, *n, got.expect("reserve_adjacent must not panic"));
        }
        Action::IsReserved(seat) => {
            let expected = if *seat < model.capacity {
                Ok(model.reserved.contains(seat))
            } else {
                Err(SeatError::OutOfRange {
                    seat: *seat,
                    capacity: model.capacity,
                })
            };
            assert_eq!(map.is_reserved(*seat), expected);
        }
        Action::Counts => {
            assert_eq!(map.capacity(), model.capacity);
            assert_eq!(map.free_count(), model.free_count());
            assert_eq!(map.reserved_count(), model.reserved.len() as u64);
        }
        Action::FreeSeats => {
            assert!(map.free_seats().eq(model.free_seats()), "free_seats differ");
        }
        Action::ReservedSeats => {
            assert!(
                map.reserved_seats().eq(model.reserved.iter().copied()),
                "reserved_seats differ"
            );
        }
        Action::Snapshot(seat) => {
            let snap = map.snapshot();
            assert_eq!(snap.capacity(), model.capacity);
            assert_eq!(snap.reserved_count(), model.reserved.len() as u64);
            assert_eq!(snap.free_count(), model.free_count());
            assert!(snap.reserved_seats().eq(model.reserved.iter().copied()));
            assert!(snap.free_seats().eq(model.free_seats()));
            assert_eq!(snap.is_reserved(*seat), map.is_reserved(*seat));
            // A snapshot is a copy: changing the map afterwards leaves it be.
            if let Some(free) = model.free_seats().first().copied() {
                model.reserve(free).expect("the model said it was free");
                map.reserve(free).expect("the model said it was free");
                assert_eq!(snap.is_reserved(free), Ok(false));
            }
        }
        Action::Clear => {
            map.clear();
            model.reserved.clear();
        }
    }
}

/// Capacities, weighted towards word boundaries, with a few large maps.
fn capacity() -> impl Strategy<Value = u64> {
    prop_oneof![
        3 => prop::sample::select(vec![1u64, 63, 64, 65, 127, 128, 129]),
        3 => 1..=300u64,
        1 => prop::sample::select(vec![10_000u64, LARGE]),
    ]
}

/// Seats for a map of `capacity`: mostly in its first and last words (so
/// that actions collide), some just past the end, some anywhere in `u64`.
fn seat(capacity: u64) -> impl Strategy<Value = u64> {
    prop_oneof![
        6 => 0..capacity.min(130),
        3 => capacity.saturating_sub(130)..capacity,
        1 => capacity..capacity + 3,
        1 => Just(u64::MAX),
        1 => any::<u64>(),
    ]
}

/// Counts for the searches: small, about a word, up to just past the
/// capacity, and absurd.
fn count(capacity: u64) -> impl Strategy<Value = u64> {
    prop_oneof![
        1 => Just(0u64),
        6 => 1..=5u64,
        3 => 1..=130u64,
        1 => 0..=capacity + 2,
        1 => Just(u64::MAX),
    ]
}

/// A weighted random action on a map of `capacity` seats.
fn action(capacity: u64) -> impl Strategy<Value = Action> {
    // Mostly short lists (the protocol's requests; seatcore groups up to 16
    // seats on the stack), sometimes longer ones (grouped on the heap).
    let seats = move || {
        prop_oneof![
            4 => prop::collection::vec(seat(capacity), 0..10),
            1 => prop::collection::vec(seat(capacity), 14..40),
        ]
    };
    prop_oneof![
        10 => seat(capacity).prop_map(Action::Reserve),
        6 => seat(capacity).prop_map(Action::Release),
        6 => seats().prop_map(Action::ReserveEach),
        4 => seats().prop_map(Action::ReleaseEach),
        6 => seats().prop_map(Action::ReserveAll),
        5 => count(capacity).prop_map(Action::ReserveAny),
        5 => count(capacity).prop_map(Action::ReserveAdjacent),
        1 => count(capacity).prop_map(Action::ReserveAnyElsewhere),
        1 => count(capacity).prop_map(Action::ReserveAdjacentElsewhere),
        3 => seat(capacity).prop_map(Action::IsReserved),
        2 => Just(Action::Counts),
        1 => Just(Action::FreeSeats),
        1 => Just(Action::ReservedSeats),
        1 => seat(capacity).prop_map(Action::Snapshot),
        1 => Just(Action::Clear),
    ]
}

/// A capacity and a sequence of actions on a map of that size.
fn scenario() -> impl Strategy<Value = (u64, Vec<Action>)> {
    capacity().prop_flat_map(|capacity| {
        (
            Just(capacity),
            prop::collection::vec(action(capacity), 1..120),
        )
    })
}

proptest! {
    // At least 1024 cases; PROPTEST_CASES=n asks for more.
    #![proptest_config(ProptestConfig {
        cases: ProptestConfig::default().cases.max(1024),
        ..ProptestConfig::default()
    })]

    #[test]
    fn seat_map_behaves_like_a_set((capacity, actions) in scenario()) {
        let mut map = SeatMap::new(capacity).expect("capacity is at least 1");
        let mut model = Model { capacity, reserved: BTreeSet::new() };
        for action in &actions {
            apply(&mut map, &mut model, action);
            // After every step, including failed ones ("nothing changes on
            // error"): the same number of seats, and for small maps the
            // same seats.
            prop_assert_eq!(map.reserved_count(), model.reserved.len() as u64, "after {:?}", action);
            if capacity <= 1024 {
                prop_assert!(
                    map.reserved_seats().eq(model.reserved.iter().copied()),
                    "after {:?}", action
                );
            }
        }
        prop_assert!(map.reserved_seats().eq(model.reserved.iter().copied()));
        prop_assert!(map.free_seats().eq(model.free_seats()));
        prop_assert_eq!(map.free_count(), model.free_count());
    }
}

/// The model itself must be right for the test to mean anything.
#[test]
fn model_longest_free_run() {
    let mut model = Model {
        capacity: 10,
        reserved: BTreeSet::new(),
    };
    assert_eq!(model.longest_free_run(), 10);
    model.reserved.extend([0, 4, 9]);
    assert_eq!(model.longest_free_run(), 4);
    model.reserved.extend(5..9);
    assert_eq!(model.longest_free_run(), 3);
    model.reserved.extend(1..4);
    assert_eq!(model.longest_free_run(), 0);
}

/// Every capacity's edges, deterministically: fill with searches, then
/// check the map is full and nothing more can be had.
#[test]
fn searches_fill_every_edge_capacity_exactly() {
    for capacity in [1, 2, 63, 64, 65, 127, 128, 129, 1000] {
        let map = SeatMap::new(capacity).expect("valid capacity");
        let row = map
            .reserve_adjacent(capacity / 2)
            .expect("an empty map has a run");
        assert_eq!(row.end - row.start, capacity / 2);
        let rest = map
            .reserve_any(capacity - capacity / 2)
            .expect("the rest is free");
        assert_eq!(rest.len() as u64, capacity - capacity / 2);
        assert_eq!(map.free_count(), 0, "capacity {capacity}");
        assert_eq!(
            map.reserve_any(1),
            Err(NotEnough {
                requested: 1,
                free: 0
            })
        );
        assert_eq!(
            map.reserve_adjacent(1),
            Err(NotEnough {
                requested: 1,
                free: 0
            })
        );
        assert_eq!(map.reserved_seats().count() as u64, capacity);
    }
}

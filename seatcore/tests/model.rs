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
use seatcore::{
    AllOrNothingError, OutOfRange, RangeError, ReleaseError, ReleaseOutcome, ReserveError,
    ReserveOutcome, SearchError, SeatMap, Snapshot,
};

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
    /// `reserve_any_at`: a pinned start, so the exact seats are known.
    ReserveAnyAt(u64, u64),
    /// `reserve_adjacent_at`: a pinned start, so the exact run is known.
    ReserveAdjacentAt(u64, u64),
    ReserveRange(Range<u64>),
    ReleaseRange(Range<u64>),
    SetMut(u64, bool),
    SetRangeMut(Range<u64>, bool),
    FreeRuns(u64),
    /// Save the words, rebuild a map from them, and go on with the copy.
    RoundTrip,
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

    fn reserve(&mut self, seat: u64) -> Result<(), ReserveError> {
        if seat >= self.capacity {
            Err(ReserveError::OutOfRange {
                seat,
                capacity: self.capacity,
            })
        } else if self.reserved.insert(seat) {
            Ok(())
        } else {
            Err(ReserveError::Taken { seat })
        }
    }

    fn release(&mut self, seat: u64) -> Result<(), ReleaseError> {
        if seat >= self.capacity {
            Err(ReleaseError::OutOfRange {
                seat,
                capacity: self.capacity,
            })
        } else if self.reserved.remove(&seat) {
            Ok(())
        } else {
            Err(ReleaseError::NotReserved { seat })
        }
    }

    fn reserve_each(&mut self, seats: &[u64]) -> Vec<ReserveOutcome> {
        seats
            .iter()
            .map(|&seat| match self.reserve(seat) {
                Ok(()) => ReserveOutcome::Reserved,
                Err(ReserveError::OutOfRange { .. }) => ReserveOutcome::OutOfRange,
                Err(_) => ReserveOutcome::Taken,
            })
            .collect()
    }

    fn release_each(&mut self, seats: &[u64]) -> Vec<ReleaseOutcome> {
        seats
            .iter()
            .map(|&seat| match self.release(seat) {
                Ok(()) => ReleaseOutcome::Released,
                Err(ReleaseError::OutOfRange { .. }) => ReleaseOutcome::OutOfRange,
                Err(_) => ReleaseOutcome::NotReserved,
            })
            .collect()
    }

    /// Out of range before duplicate before conflict; nothing changes on
    /// error.
    fn reserve_all(&mut self, seats: &[u64]) -> Result<(), AllOrNothingError> {
        if let Some(&seat) = seats.iter().find(|&&s| s >= self.capacity) {
            return Err(AllOrNothingError::OutOfRange {
                seat,
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

    fn not_enough(&self, requested: u64) -> SearchError {
        SearchError::NotEnough {
            requested,
            free: self.free_count(),
        }
    }

    fn check_range(&self, range: &Range<u64>) -> Result<(), RangeError> {
        if range.start > range.end || range.end > self.capacity {
            Err(RangeError::OutOfRange {
                range: range.clone(),
                capacity: self.capacity,
            })
        } else {
            Ok(())
        }
    }

    /// All or nothing; a conflict names the lowest taken seat of the first
    /// word (of 64 seats) that has one.
    fn reserve_range(&mut self, range: Range<u64>) -> Result<(), RangeError> {
        self.check_range(&range)?;
        if let Some(&seat) = self.reserved.range(range.clone()).next() {
            return Err(RangeError::Conflict { seat });
        }
        self.reserved.extend(range);
        Ok(())
    }

    fn release_range(&mut self, range: Range<u64>) -> Result<u64, RangeError> {
        self.check_range(&range)?;
        let freed: Vec<u64> = self.reserved.range(range).copied().collect();
        for seat in &freed {
            self.reserved.remove(seat);
        }
        Ok(freed.len() as u64)
    }

    fn set_range(&mut self, range: Range<u64>, reserved: bool) -> Result<u64, RangeError> {
        self.check_range(&range)?;
        let mut changed = 0;
        for seat in range {
            let was = self.reserved.contains(&seat);
            if was != reserved {
                changed += 1;
                if reserved {
                    self.reserved.insert(seat);
                } else {
                    self.reserved.remove(&seat);
                }
            }
        }
        Ok(changed)
    }

    /// What `reserve_any_at(n, start)` takes when alone: from `start`'s word
    /// on, wrapping once, the lowest free seats of each word in turn.
    fn any_at(&self, n: u64, start: u64) -> Option<Vec<u64>> {
        if n > self.free_count() {
            return None;
        }
        let words = self.capacity.div_ceil(64);
        let first = (start % self.capacity) / 64;
        let mut taken = Vec::new();
        for word in (first..words).chain(0..first) {
            for seat in word * 64..((word + 1) * 64).min(self.capacity) {
                if taken.len() as u64 == n {
                    break;
                }
                if !self.reserved.contains(&seat) {
                    taken.push(seat);
                }
            }
        }
        taken.sort_unstable();
        Some(taken)
    }

    /// What `reserve_adjacent_at(n, start)` takes when alone: the first free
    /// run starting at or after `start`, else the first before it.
    fn adjacent_at(&self, n: u64, start: u64) -> Option<u64> {
        let start = start % self.capacity;
        let fits = |s: u64| {
            s.checked_add(n).is_some_and(|end| end <= self.capacity)
                && self.reserved.range(s..s + n).next().is_none()
        };
        (start..self.capacity).chain(0..start).find(|&s| fits(s))
    }

    /// The maximal free runs at or after `from`.
    fn free_runs(&self, from: u64) -> Vec<Range<u64>> {
        let mut runs: Vec<Range<u64>> = Vec::new();
        for seat in self.free_seats().into_iter().filter(|&s| s >= from) {
            match runs.last_mut() {
                Some(last) if last.end == seat => last.end += 1,
                _ => runs.push(seat..seat + 1),
            }
        }
        runs
    }
}

/// The seats of `runs`, after checking that they are ascending, disjoint and
/// maximal (no two touch).
fn seats_of_runs(runs: &[Range<u64>]) -> Vec<u64> {
    for pair in runs.windows(2) {
        assert!(
            pair[0].end < pair[1].start,
            "runs not sorted, apart and maximal: {runs:?}"
        );
    }
    assert!(runs.iter().all(|r| !r.is_empty()), "empty run in {runs:?}");
    runs.iter().cloned().flatten().collect()
}

/// Checks a `reserve_any(n)` result against the model, then applies it.
fn check_any(model: &mut Model, n: u64, got: Result<Vec<Range<u64>>, SearchError>) {
    if n > model.free_count() {
        assert_eq!(got, Err(model.not_enough(n)), "reserve_any({n})");
        return;
    }
    let runs = got.unwrap_or_else(|e| panic!("reserve_any({n}) failed with {e:?}"));
    let seats = seats_of_runs(&runs);
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
fn check_adjacent(model: &mut Model, n: u64, got: Result<Range<u64>, SearchError>) {
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
        Action::ReserveAnyAt(n, start) => {
            // A stale entry, to check that the buffer is cleared.
            let mut runs = Vec::new();
            runs.push(0..1);
            let got = map.reserve_any_at(*n, *start, &mut runs);
            match model.any_at(*n, *start) {
                Some(expected) => {
                    assert_eq!(got, Ok(()), "reserve_any_at({n}, {start})");
                    assert_eq!(
                        seats_of_runs(&runs),
                        expected,
                        "reserve_any_at({n}, {start})"
                    );
                    model.reserved.extend(expected);
                }
                None => {
                    assert_eq!(got, Err(model.not_enough(*n)));
                    assert!(runs.is_empty(), "a failed search leaves no runs");
                }
            }
        }
        Action::ReserveAdjacentAt(n, start) => {
            let got = map.reserve_adjacent_at(*n, *start);
            if *n == 0 {
                assert!(got.is_ok_and(|r| r.is_empty()));
            } else {
                match model.adjacent_at(*n, *start) {
                    Some(first) => {
                        assert_eq!(
                            got,
                            Ok(first..first + n),
                            "reserve_adjacent_at({n}, {start})"
                        );
                        model.reserved.extend(first..first + n);
                    }
                    None => assert_eq!(got, Err(model.not_enough(*n))),
                }
            }
        }
        Action::ReserveRange(range) => {
            assert_eq!(
                map.reserve_range(range.clone()),
                model.reserve_range(range.clone())
            );
        }
        Action::ReleaseRange(range) => {
            assert_eq!(
                map.release_range(range.clone()),
                model.release_range(range.clone())
            );
        }
        Action::SetMut(seat, reserved) => {
            let expected = if *seat < model.capacity {
                let was = model.reserved.contains(seat);
                if *reserved {
                    model.reserved.insert(*seat);
                } else {
                    model.reserved.remove(seat);
                }
                Ok(was)
            } else {
                Err(OutOfRange {
                    seat: *seat,
                    capacity: model.capacity,
                })
            };
            assert_eq!(map.set_mut(*seat, *reserved), expected);
        }
        Action::SetRangeMut(range, reserved) => {
            assert_eq!(
                map.set_range_mut(range.clone(), *reserved),
                model.set_range(range.clone(), *reserved)
            );
        }
        Action::FreeRuns(from) => {
            assert_eq!(
                map.free_runs(*from).collect::<Vec<_>>(),
                model.free_runs(*from)
            );
            assert_eq!(
                map.snapshot().free_runs(*from).collect::<Vec<_>>(),
                model.free_runs(*from)
            );
        }
        Action::RoundTrip => {
            let words = map.snapshot().words().to_vec();
            let snap = Snapshot::from_words(model.capacity, words).expect("a map's own words");
            *map = SeatMap::from_snapshot(&snap).expect("same capacity as before");
        }
        Action::IsReserved(seat) => {
            let expected = if *seat < model.capacity {
                Ok(model.reserved.contains(seat))
            } else {
                Err(OutOfRange {
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

/// Runs: mostly inside the map (short, about a word, long), sometimes
/// reversed or past its end.
fn range(capacity: u64) -> impl Strategy<Value = Range<u64>> {
    (seat(capacity), count(capacity)).prop_map(move |(start, len)| {
        if start >= capacity || len > capacity {
            start..start.saturating_add(len % 300)
        } else {
            let start = start.min(capacity - 1);
            start..(start + len).min(capacity + (len % 3))
        }
    })
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
        3 => (count(capacity), seat(capacity)).prop_map(|(n, s)| Action::ReserveAnyAt(n, s)),
        3 => (count(capacity), seat(capacity)).prop_map(|(n, s)| Action::ReserveAdjacentAt(n, s)),
        3 => range(capacity).prop_map(Action::ReserveRange),
        3 => range(capacity).prop_map(Action::ReleaseRange),
        1 => (seat(capacity), any::<bool>()).prop_map(|(s, r)| Action::SetMut(s, r)),
        1 => (range(capacity), any::<bool>()).prop_map(|(r, b)| Action::SetRangeMut(r, b)),
        2 => seat(capacity).prop_map(Action::FreeRuns),
        1 => Just(Action::RoundTrip),
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
        assert_eq!(seats_of_runs(&rest).len() as u64, capacity - capacity / 2);
        assert_eq!(map.free_count(), 0, "capacity {capacity}");
        assert_eq!(
            map.reserve_any(1),
            Err(SearchError::NotEnough {
                requested: 1,
                free: 0
            })
        );
        assert_eq!(
            map.reserve_adjacent(1),
            Err(SearchError::NotEnough {
                requested: 1,
                free: 0
            })
        );
        assert_eq!(map.reserved_seats().count() as u64, capacity);
    }
}

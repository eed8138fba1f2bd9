//! Random operations on a `SeatMap` of random capacity, each checked against
//! a plain `Vec<bool>`: every outcome, the free count after each operation,
//! and the final set of reserved seats.

use arbitrary::{Arbitrary, Unstructured};
use seatcore::{ReleaseOutcome, ReserveOutcome, SeatMap};

#[derive(Arbitrary, Debug)]
enum Op {
    Reserve(u16),
    Release(u16),
    ReserveEach(Vec<u16>),
    ReleaseEach(Vec<u16>),
    ReserveAll(Vec<u16>),
    ReserveAny(u8),
    ReserveAdjacent(u8),
}

#[derive(Arbitrary, Debug)]
struct Case {
    capacity: u16,
    ops: Vec<Op>,
}

/// Checks one input (decoded by `arbitrary` into a capacity and a list of
/// operations, as libFuzzer's typed targets do); panics if the map and the
/// model disagree.
pub fn seatmap_ops(data: &[u8]) {
    let Ok(case) = Case::arbitrary_take_rest(Unstructured::new(data)) else {
        return;
    };
    let capacity = u64::from(case.capacity.max(1));
    let map = SeatMap::new(capacity).expect("capacity >= 1");
    let mut model = vec![false; capacity as usize];
    // Kept alongside the model (not recounted per operation) so a run stays
    // fast on large maps; the final comparison checks the model itself.
    let mut reserved = 0u64;
    for op in case.ops {
        match op {
            Op::Reserve(seat) => {
                let seat = u64::from(seat);
                let expected = seat < capacity && !model[seat as usize];
                assert_eq!(map.reserve(seat).is_ok(), expected);
                if expected {
                    model[seat as usize] = true;
                    reserved += 1;
                }
            }
            Op::Release(seat) => {
                let seat = u64::from(seat);
                let expected = seat < capacity && model[seat as usize];
                assert_eq!(map.release(seat).is_ok(), expected);
                if expected {
                    model[seat as usize] = false;
                    reserved -= 1;
                }
            }
            Op::ReserveEach(seats) => {
                let seats: Vec<u64> = seats.into_iter().map(u64::from).collect();
                for (seat, outcome) in seats.iter().zip(map.reserve_each(&seats)) {
                    let expected = if *seat >= capacity {
                        ReserveOutcome::OutOfRange
                    } else if model[*seat as usize] {
                        ReserveOutcome::Taken
                    } else {
                        model[*seat as usize] = true;
                        reserved += 1;
                        ReserveOutcome::Reserved
                    };
                    assert_eq!(outcome, expected, "seat {seat}");
                }
            }
            Op::ReleaseEach(seats) => {
                let seats: Vec<u64> = seats.into_iter().map(u64::from).collect();
                for (seat, outcome) in seats.iter().zip(map.release_each(&seats)) {
                    let expected = if *seat >= capacity {
                        ReleaseOutcome::OutOfRange
                    } else if model[*seat as usize] {
                        model[*seat as usize] = false;
                        reserved -= 1;
                        ReleaseOutcome::Released
                    } else {
                        ReleaseOutcome::NotReserved
                    };
                    assert_eq!(outcome, expected, "seat {seat}");
                }
            }
            Op::ReserveAll(seats) => {
                let seats: Vec<u64> = seats.into_iter().map(u64::from).collect();
                let mut sorted = seats.clone();
                sorted.sort_unstable();
                sorted.dedup();
                let possible = sorted.len() == seats.len()
                    && seats.iter().all(|&s| s < capacity && !model[s as usize]);
                assert_eq!(map.reserve_all(&seats).is_ok(), possible);
                if possible {
                    for s in seats {
                        model[s as usize] = true;
                        reserved += 1;
                    }
                }
            }
            Op::ReserveAny(n) => {
                let n = u64::from(n);
                // A start pinned by the input so far (not the thread's hint),
                // so that a failure replays exactly.
                let start = reserved.wrapping_mul(7919) % capacity;
                let mut runs = Vec::new();
                match map.reserve_any_at(n, start, &mut runs) {
                    Ok(()) => {
                        for pair in runs.windows(2) {
                            assert!(
                                pair[0].end < pair[1].start,
                                "runs sorted and maximal: {runs:?}"
                            );
                        }
                        let seats: Vec<u64> = runs.into_iter().flatten().collect();
                        assert_eq!(seats.len() as u64, n);
                        for s in seats {
                            assert!(!model[s as usize], "seat {s} handed out twice");
                            model[s as usize] = true;
                            reserved += 1;
                        }
                    }
                    Err(e) => assert!(capacity - reserved < n, "{e}"),
                }
            }
            Op::ReserveAdjacent(n) => {
                let n = n as usize;
                let run_exists = has_free_run(&model, n);
                let start = reserved.wrapping_mul(7919) % capacity;
                match map.reserve_adjacent_at(n as u64, start) {
                    Ok(run) => {
                        assert!(run_exists);
                        assert_eq!(run.end - run.start, n as u64);
                        for s in run {
                            assert!(!model[s as usize], "seat {s} handed out twice");
                            model[s as usize] = true;
                            reserved += 1;
                        }
                    }
                    Err(_) => assert!(!run_exists, "a free run of {n} was missed"),
                }
            }
        }
        assert_eq!(map.free_count(), capacity - reserved);
    }
    let seats: Vec<u64> = map.reserved_seats().collect();
    let expected: Vec<u64> = (0..capacity).filter(|&s| model[s as usize]).collect();
    assert_eq!(seats, expected);
    assert_eq!(expected.len() as u64, reserved);
}

/// Whether the model has `n` adjacent free seats (always, for `n == 0`),
/// in one pass.
fn has_free_run(model: &[bool], n: usize) -> bool {
    let mut run = 0;
    n == 0
        || model.iter().any(|&taken| {
            run = if taken { 0 } else { run + 1 };
            run >= n
        })
}

//! The baselines are only worth comparing against if they do the same job:
//! every contender must give the same answers as seatcore to the same
//! deterministic sequence of operations.

use seatcore::SeatMap;
use seatcore_benches::{BareAtomic, LockedBitset, SeatStore, StdMutexSeats};

/// One step of the script and what a contender answered.
#[derive(Debug, PartialEq)]
enum Answer {
    One(bool),
    Each(Vec<bool>),
    /// `reserve_any`: how many seats, all distinct and then reserved.
    Any(Option<usize>),
}

/// A fixed script over a 130-seat store (three words, the last partial),
/// with out-of-range seats and a search that must fail.
fn script<S: SeatStore>() -> Vec<Answer> {
    let store = S::with_capacity(130);
    let mut answers = vec![
        Answer::One(store.reserve(0)),
        Answer::One(store.reserve(0)),
        Answer::One(store.reserve(129)),
        Answer::One(store.reserve(130)),
        Answer::One(store.reserve(u64::MAX)),
        Answer::Each(store.reserve_each(&[5, 64, 5, 0, 200, 128])),
        Answer::One(store.release(64)),
        Answer::One(store.release(64)),
        Answer::Each(store.release_each(&[5, 5, 1, 129, 131])),
    ];
    for n in [0, 3, 200, 124, 1] {
        let got = store.reserve_any(n);
        if let Some(seats) = &got {
            let mut sorted = seats.clone();
            sorted.sort_unstable();
            sorted.dedup();
            assert_eq!(sorted.len(), seats.len(), "{}: repeated seat", S::NAME);
            assert!(seats.iter().all(|&s| s < 130), "{}: {seats:?}", S::NAME);
            // They are reserved now: reserving again must fail.
            assert!(seats.iter().all(|&s| !store.reserve(s)), "{}", S::NAME);
        }
        answers.push(Answer::Any(got.map(|seats| seats.len())));
    }
    answers
}

#[test]
fn every_baseline_answers_like_seatcore() {
    let expected = script::<SeatMap>();
    assert_eq!(
        expected[0],
        Answer::One(true),
        "the script must start sanely"
    );
    assert_eq!(script::<BareAtomic>(), expected, "bare_atomic");
    assert_eq!(script::<LockedBitset>(), expected, "parking_lot_bitset");
    assert_eq!(script::<StdMutexSeats>(), expected, "std_mutex_vec_bool");
}

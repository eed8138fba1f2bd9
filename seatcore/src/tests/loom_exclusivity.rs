//! Exclusivity: no seat is ever granted twice, and every grant is exactly
//! what the map holds afterwards.
//!
//! Maps have 128 seats (two words) so that claims can span the boundary
//! between seat 63 and seat 64. Every model here is exhaustive.

use super::loom_support::{
    Bound, Task, adjacent, any, disjoint_union, is_reserved, map_with_free, new_map, race, release,
    reserve, reserve_all, reserve_each, reserved,
};

/// Two words: seat 63 and seat 64 sit on either side of the boundary.
const SEATS: u64 = 128;

fn run(model: impl Fn() + Sync + Send + 'static) {
    super::loom_support::run_model(Bound::Exhaustive, model);
}

#[test]
fn two_threads_reserving_one_seat_exactly_one_wins() {
    run(|| {
        let map = new_map(SEATS);
        let tasks: Vec<Task<_>> = vec![Box::new(|m| reserve(m, 5)), Box::new(|m| reserve(m, 5))];
        let won = race(&map, tasks);
        assert_eq!(won.iter().filter(|&&w| w).count(), 1);
        assert_eq!(reserved(&map), [5]);
    });
}

#[test]
fn three_threads_reserving_one_seat_exactly_one_wins() {
    run(|| {
        let map = new_map(SEATS);
        let tasks: Vec<Task<_>> = vec![
            Box::new(|m| reserve(m, 64)),
            Box::new(|m| reserve(m, 64)),
            Box::new(|m| reserve(m, 64)),
        ];
        let won = race(&map, tasks);
        assert_eq!(won.iter().filter(|&&w| w).count(), 1);
        assert_eq!(reserved(&map), [64]);
    });
}

#[test]
fn overlapping_per_seat_lists_grant_disjoint_seats_whose_union_is_the_map() {
    run(|| {
        let map = new_map(SEATS);
        let tasks: Vec<Task<_>> = vec![
            Box::new(|m| reserve_each(m, &[1, 63, 64, 2])),
            Box::new(|m| reserve_each(m, &[64, 1, 100, 63])),
        ];
        let granted = race(&map, tasks);
        let all = disjoint_union(&[&granted[0], &granted[1]]);
        // Every requested seat is reserved by exactly one of the two, and
        // the map holds exactly what they were told.
        assert_eq!(all, [1, 2, 63, 64, 100]);
        assert_eq!(reserved(&map), all);
        // Seats only one list asked for go to that list.
        assert!(granted[0].contains(&2) && granted[1].contains(&100));
    });
}

#[test]
fn overlapping_all_or_nothing_claims_across_two_words() {
    run(|| {
        let map = new_map(SEATS);
        // Both span the word boundary and share seat 64.
        let tasks: Vec<Task<_>> = vec![
            Box::new(|m| {
                let result = reserve_all(m, &[10, 64]);
                // Nobody else frees seats here, so the claim is complete, or
                // completely gone, when it returns.
                let mine = [is_reserved(m, 10), is_reserved(m, 64)];
                (result, mine)
            }),
            Box::new(|m| {
                let result = reserve_all(m, &[64, 70, 20]);
                let mine = [is_reserved(m, 20), is_reserved(m, 70)];
                (result, mine)
            }),
        ];
        let results = race(&map, tasks);
        let (a, b) = (&results[0], &results[1]);
        // Never both; and, with no third party, never neither: the winner
        // of the shared word goes on (see all_or_nothing.rs).
        match (&a.0, &b.0) {
            (Ok(()), Err(taken)) => {
                assert_eq!(taken, &[64]);
                assert_eq!(a.1, [true, true]);
                assert_eq!(b.1, [false, false], "rollback left a seat");
                assert_eq!(reserved(&map), [10, 64]);
            }
            (Err(taken), Ok(())) => {
                assert_eq!(taken, &[64]);
                assert_eq!(b.1, [true, true]);
                assert!(!a.1[0], "rollback left seat 10");
                assert_eq!(reserved(&map), [20, 64, 70]);
            }
            other => panic!("exactly one claim must win: {other:?}"),
        }
    });
}

#[test]
fn all_or_nothing_against_a_single_reserve_never_half_books() {
    run(|| {
        let map = new_map(SEATS);
        let tasks: Vec<Task<_>> = vec![
            Box::new(|m| reserve_all(m, &[3, 65]).map_err(|_| ())),
            Box::new(|m| if reserve(m, 65) { Ok(()) } else { Err(()) }),
        ];
        let results = race(&map, tasks);
        match (results[0], results[1]) {
            (Ok(()), Err(())) => assert_eq!(reserved(&map), [3, 65]),
            (Err(()), Ok(())) => assert_eq!(reserved(&map), [65]),
            // The single reserve may lose to a claim that then rolls back
            // (documented); the map is then left empty, never half-booked.
            (Err(()), Err(())) => assert_eq!(reserved(&map), Vec::<u64>::new()),
            (Ok(()), Ok(())) => panic!("seat 65 granted twice"),
        }
    });
}

#[test]
fn reserve_racing_release() {
    run(|| {
        let map = new_map(SEATS);
        assert!(reserve(&map, 7));
        let tasks: Vec<Task<_>> = vec![
            Box::new(|m| release(m, 7)),
            Box::new(|m| reserve(m, 7)),
            Box::new(|m| reserve(m, 8)),
        ];
        let results = race(&map, tasks);
        assert!(results[0], "the holder's release must succeed");
        assert!(results[2], "an unrelated seat of the same word is free");
        // The reserve wins iff it came after the release.
        let expected: &[u64] = if results[1] { &[7, 8] } else { &[8] };
        assert_eq!(reserved(&map), expected);
    });
}

#[test]
fn concurrent_reserve_any_never_grants_a_seat_twice() {
    run(|| {
        // Both start in the same word, and the first word is nearly full,
        // so the searches collide and one spills into the second word.
        let free: Vec<u64> = (61..SEATS).collect();
        let map = map_with_free(SEATS, &free);
        let tasks: Vec<Task<_>> = vec![Box::new(|m| any(m, 2, 0)), Box::new(|m| any(m, 2, 0))];
        let results = race(&map, tasks);
        let a = results[0].clone().expect("67 free seats are plenty");
        let b = results[1].clone().expect("67 free seats are plenty");
        assert_eq!((a.len(), b.len()), (2, 2));
        let granted = disjoint_union(&[&a, &b]);
        // Each takes the lowest free seats it can: together, 61..65.
        assert_eq!(granted, [61, 62, 63, 64]);
        let mut expected: Vec<u64> = (0..61).collect();
        expected.extend(&granted);
        assert_eq!(reserved(&map), expected);
    });
}

#[test]
fn reserve_any_that_cannot_finish_gives_everything_back() {
    run(|| {
        // Three free seats; two searchers of two each: at most one wins,
        // and a loser keeps nothing.
        let map = map_with_free(SEATS, &[0, 1, 2]);
        let tasks: Vec<Task<_>> = vec![Box::new(|m| any(m, 2, 0)), Box::new(|m| any(m, 2, 1))];
        let results = race(&map, tasks);
        let wins: Vec<&Vec<u64>> = results.iter().flatten().collect();
        assert!(wins.len() <= 1, "three seats cannot serve two pairs");
        let mut expected: Vec<u64> = (3..SEATS).collect();
        if let Some(win) = wins.first() {
            assert_eq!(win.len(), 2);
            assert!(win.iter().all(|&s| s < 3));
            expected.extend(win.iter());
            expected.sort_unstable();
        }
        assert_eq!(reserved(&map), expected);
    });
}

#[test]
fn concurrent_adjacent_runs_never_overlap() {
    run(|| {
        // Free seats 60..68 only: runs of 4 across the word boundary.
        let free: Vec<u64> = (60..68).collect();
        let map = map_with_free(SEATS, &free);
        let tasks: Vec<Task<_>> = vec![
            Box::new(|m| adjacent(m, 4, 0)),
            Box::new(|m| adjacent(m, 4, 62)),
        ];
        let results = race(&map, tasks);
        let runs: Vec<Vec<u64>> = results
            .iter()
            .flatten()
            .map(|r| r.clone().collect())
            .collect();
        assert!(
            !runs.is_empty(),
            "eight free seats hold at least one run of four"
        );
        let refs: Vec<&[u64]> = runs.iter().map(Vec::as_slice).collect();
        let granted = disjoint_union(&refs);
        assert!(granted.iter().all(|s| free.contains(s)));
        let mut expected: Vec<u64> = (0..SEATS).filter(|s| !free.contains(s)).collect();
        expected.extend(&granted);
        expected.sort_unstable();
        assert_eq!(reserved(&map), expected);
    });
}

//! Orderings: whoever wins a seat sees what its previous holder did before
//! releasing it (the ordering contract in `docs/design.md`).
//!
//! In each model the holder of a seat writes a [`Payload`] with a `Relaxed`
//! store and then frees the seat; the claimant tries to win the seat and,
//! if it did, reads the payload with a `Relaxed` load. The payload has no
//! ordering of its own, so only the map's `Acquire`/`Release` pairs can make
//! the write visible: loom lets a load read any store that is not ordered
//! before it, and weakening any of those orderings lets the claimant read the
//! stale 0. `docs/design.md` lists which model catches which weakening.
//!
//! Every model also checks the exact set of reserved seats at the end. All
//! are exhaustive except the chain of three holders, which is bounded to
//! three preemptions (exhaustive, it takes about a minute).

use loom::sync::Arc;

use super::loom_support::{
    Bound, Map, Payload, Task, adjacent, any, is_reserved, map_with_free, race, race2, release,
    release_each, reserve, reserve_all, reserve_each, reserved, reserved_count, run_model,
};

/// What the holder writes before giving its seat up.
const WRITTEN: u64 = 42;

fn run(model: impl Fn() + Sync + Send + 'static) {
    run_model(Bound::Exhaustive, model);
}

/// The holder writes the payload and frees its seats with `give_up`; the
/// claimant runs `claim`, which returns what it got and whether that
/// includes the holder's seat. If it does, the claimant reads the payload,
/// which must be what the holder wrote. Returns whether the claimant won,
/// and what it got.
fn hand_over<R: Send + 'static>(
    map: &Arc<Map>,
    give_up: impl FnOnce(&Map) + Send + 'static,
    claim: impl FnOnce(&Map) -> (bool, R) + Send + 'static,
) -> (bool, R) {
    let payload = Payload::new();
    let (holder, claimant) = (payload.clone(), payload);
    let ((), (seen, got)) = race2(
        map,
        move |m| {
            holder.write(WRITTEN);
            give_up(m);
        },
        move |m| {
            let (won, got) = claim(m);
            (won.then(|| claimant.read()), got)
        },
    );
    if let Some(value) = seen {
        assert_eq!(
            value, WRITTEN,
            "the new holder missed the old holder's write"
        );
    }
    (seen.is_some(), got)
}

#[test]
fn reserve_sees_what_release_published() {
    run(|| {
        let map = map_with_free(64, &(0..64).filter(|&s| s != 5).collect::<Vec<_>>());
        let (won, ()) = hand_over(&map, |m| assert!(release(m, 5)), |m| (reserve(m, 5), ()));
        assert_eq!(reserved(&map), if won { vec![5] } else { vec![] });
    });
}

#[test]
fn per_seat_lists_hand_over_across_two_words() {
    run(|| {
        // Seats 5 and 70 held, in different words.
        let free: Vec<u64> = (0..128).filter(|&s| s != 5 && s != 70).collect();
        let map = map_with_free(128, &free);
        let (won, granted) = hand_over(
            &map,
            |m| assert_eq!(release_each(m, &[5, 70]), [5, 70]),
            |m| {
                let granted = reserve_each(m, &[70, 6]);
                (granted.contains(&70), granted)
            },
        );
        // Seat 6 was free all along; 70 only once the list released it.
        let expected: &[u64] = if won { &[70, 6] } else { &[6] };
        assert_eq!(granted, expected);
        assert_eq!(reserved(&map), if won { vec![6, 70] } else { vec![6] });
    });
}

#[test]
fn all_or_nothing_claim_sees_what_release_published() {
    run(|| {
        let free: Vec<u64> = (0..128).filter(|&s| s != 5).collect();
        let map = map_with_free(128, &free);
        let (won, result) = hand_over(
            &map,
            |m| assert!(release(m, 5)),
            |m| {
                let result = reserve_all(m, &[70, 5]);
                (result.is_ok(), result)
            },
        );
        match result {
            Ok(()) => assert_eq!(reserved(&map), [5, 70]),
            Err(taken) => {
                assert_eq!(taken, [5]);
                assert!(!won);
                assert_eq!(reserved(&map), Vec::<u64>::new());
            }
        }
    });
}

#[test]
fn reserve_any_sees_what_release_published() {
    run(|| {
        // A full map: seat 5 is the only one the search can find.
        let map = map_with_free(64, &[]);
        let (won, found) = hand_over(
            &map,
            |m| assert!(release(m, 5)),
            |m| {
                let found = any(m, 1, 0);
                (found.is_some(), found)
            },
        );
        assert_eq!(found, won.then(|| vec![5]));
        // Won: full again; lost: only seat 5 free.
        let expected: Vec<u64> = (0..64).filter(|&s| won || s != 5).collect();
        assert_eq!(reserved(&map), expected);
    });
}

#[test]
fn reserve_adjacent_sees_what_release_published() {
    run(|| {
        // A full map; the holder frees 63 and 64, a run across the boundary.
        let map = map_with_free(128, &[]);
        let (won, run) = hand_over(
            &map,
            |m| assert_eq!(release_each(m, &[63, 64]), [63, 64]),
            |m| {
                let run = adjacent(m, 2, 0);
                (run.is_some(), run)
            },
        );
        assert_eq!(run, won.then_some(63..65));
        let expected: Vec<u64> = (0..128).filter(|s| won || !(63..65).contains(s)).collect();
        assert_eq!(reserved(&map), expected);
    });
}

/// The release-sequence argument of `docs/design.md`: a failing
/// `reserve_all` whose CAS and rollback land on the seat's word between the
/// release and the next claim does not break the hand-over, because the
/// read-modify-writes in between continue the release's release sequence.
#[test]
fn a_failing_claim_in_between_does_not_break_the_hand_over() {
    run(|| {
        // Seat 5 is the holder's; seat 64 makes the third thread's claim of
        // [6, 64] fail after it claimed (and then gives back) word 0.
        let free: Vec<u64> = (0..128).filter(|&s| s != 5 && s != 64).collect();
        let map = map_with_free(128, &free);
        let payload = Payload::new();
        let (holder, claimant) = (payload.clone(), payload);
        let tasks: Vec<Task<Option<u64>>> = vec![
            Box::new(move |m| {
                holder.write(WRITTEN);
                assert!(release(m, 5));
                None
            }),
            Box::new(|m| {
                assert_eq!(reserve_all(m, &[6, 64]), Err(vec![64]));
                None
            }),
            Box::new(move |m| reserve(m, 5).then(|| claimant.read())),
        ];
        let seen = race(&map, tasks);
        if let Some(value) = seen[2] {
            assert_eq!(value, WRITTEN, "a failing claim broke the hand-over");
        }
        let expected: &[u64] = if seen[2].is_some() { &[5, 64] } else { &[64] };
        assert_eq!(reserved(&map), expected);
    });
}

/// A rollback is a release: a claim that wins a seat after a failing
/// `reserve_all` gave it back sees what that caller did before.
#[test]
fn a_rollback_publishes_like_a_release() {
    run(|| {
        // Seat 64 is held, so a claim of [1, 64] takes seat 1, fails on
        // word 1 and gives seat 1 back.
        let free: Vec<u64> = (0..128).filter(|&s| s != 64).collect();
        let map = map_with_free(128, &free);
        let payload = Payload::new();
        let (failing, claimant) = (payload.clone(), payload);
        let (taken, seen) = race2(
            &map,
            move |m| {
                failing.write(WRITTEN);
                reserve_all(m, &[1, 64]).expect_err("seat 64 is held")
            },
            move |m| reserve(m, 1).then(|| claimant.read()),
        );
        if taken == [64] {
            // The claim took seat 1 and gave it back, so a claimant that
            // won seat 1 did so after the rollback: it must see the write.
            if let Some(value) = seen {
                assert_eq!(value, WRITTEN, "the rollback did not publish");
            }
        } else {
            // The claimant won seat 1 first; the claim found it taken.
            assert_eq!(taken, [1, 64]);
            assert!(seen.is_some());
        }
        let expected: &[u64] = if seen.is_some() { &[1, 64] } else { &[64] };
        assert_eq!(reserved(&map), expected);
    });
}

/// The same for a search: a `reserve_any` that cannot finish gives back
/// what it took, and whoever wins one of those seats next sees what the
/// search's caller did before.
#[test]
fn a_failing_search_rollback_publishes_like_a_release() {
    // Set when some execution took the rollback path, so that the model
    // cannot pass without exercising it (searches count before claiming,
    // so only a search that lost a race after counting rolls back).
    static ROLLED_BACK: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);
    run(|| {
        // Free: seats 1, 70 and 71. The search for three counts them all,
        // claims seat 1, and fails if the claimant took 70 meanwhile; it
        // then gives seat 1 (and 71, if it got it) back.
        let map = map_with_free(128, &[1, 70, 71]);
        let payload = Payload::new();
        let (searcher, claimant) = (payload.clone(), payload);
        let (found, (took_70, seen)) = race2(
            &map,
            move |m| {
                searcher.write(WRITTEN);
                any(m, 3, 0)
            },
            move |m| {
                let took_70 = reserve(m, 70);
                // Seeing seat 1 taken means the search held it; winning it
                // afterwards means the search's rollback came first (the
                // claim is later in the word's modification order than the
                // store it read, and only the rollback clears the bit).
                let seen = (took_70 && is_reserved(m, 1) && reserve(m, 1)).then(|| claimant.read());
                (took_70, seen)
            },
        );
        let mut expected: Vec<u64> = (0..128).filter(|s| ![1, 70, 71].contains(s)).collect();
        match found {
            Some(seats) => {
                assert_eq!(seats, [1, 70, 71]);
                assert!(!took_70 && seen.is_none());
                expected.extend([1, 70, 71]);
            }
            None => {
                assert!(took_70, "the search fails only if seat 70 was lost");
                expected.push(70);
                if let Some(value) = seen {
                    assert_eq!(value, WRITTEN, "the search's rollback did not publish");
                    // Relaxed: a std flag outside loom's model, read only
                    // after every execution has ended on this thread.
                    ROLLED_BACK.store(true, std::sync::atomic::Ordering::Relaxed);
                    expected.push(1);
                }
            }
        }
        expected.sort_unstable();
        assert_eq!(reserved(&map), expected);
    });
    // Relaxed: read after every execution has finished on this thread.
    assert!(
        ROLLED_BACK.load(std::sync::atomic::Ordering::Relaxed),
        "no execution exercised the search's rollback"
    );
}

/// The holder writes and releases seat 5; a reader that `query` says sees
/// seat 5 free must see the write too.
fn query_sees_what_release_published(query: fn(&Map) -> bool) {
    run(move || {
        let map = map_with_free(64, &(0..64).filter(|&s| s != 5).collect::<Vec<_>>());
        hand_over(&map, |m| assert!(release(m, 5)), move |m| (query(m), ()));
        // The query itself changed nothing.
        assert_eq!(reserved(&map), Vec::<u64>::new());
    });
}

#[test]
fn is_reserved_seeing_a_seat_free_sees_what_its_holder_did() {
    query_sees_what_release_published(|m| !is_reserved(m, 5));
}

#[test]
fn a_count_seeing_a_seat_free_sees_what_its_holder_did() {
    query_sees_what_release_published(|m| reserved_count(m) == 0);
}

#[test]
fn a_word_read_seeing_a_seat_free_sees_what_its_holder_did() {
    query_sees_what_release_published(|m| reserved(m).is_empty());
}

/// Two hand-overs in a row: the seat's first holder writes 1 and releases;
/// a per-seat list wins it, reads 1, writes 2 and releases; an
/// all-or-nothing claim then wins it and must read 2 (or 1, if it came
/// straight after the first holder). Happens-before is transitive through
/// the map: the last holder sees every earlier holder's writes.
///
/// Three threads and about a dozen atomic operations: bounded to three
/// preemptions, which keeps it to seconds.
#[test]
fn hand_overs_chain_through_three_holders() {
    run_model(Bound::Preemptions(3), || {
        let free: Vec<u64> = (0..128).filter(|&s| s != 5).collect();
        let map = map_with_free(128, &free);
        let payload = Payload::new();
        let (first, second, third) = (payload.clone(), payload.clone(), payload);
        let tasks: Vec<Task<Option<u64>>> = vec![
            Box::new(move |m| {
                first.write(1);
                assert!(release(m, 5));
                None
            }),
            Box::new(move |m| {
                if reserve_each(m, &[5]).is_empty() {
                    return None;
                }
                let seen = second.read();
                second.write(2);
                assert_eq!(release_each(m, &[5]), [5]);
                Some(seen)
            }),
            Box::new(move |m| reserve_all(m, &[5, 70]).ok().map(|()| third.read())),
        ];
        let seen = race(&map, tasks);
        if let Some(value) = seen[1] {
            assert_eq!(value, 1, "the second holder missed the first's write");
        }
        if let Some(value) = seen[2] {
            let last_writer = if seen[1].is_some() { 2 } else { 1 };
            assert_eq!(value, last_writer, "the third holder missed a write");
        }
        let expected: &[u64] = if seen[2].is_some() { &[5, 70] } else { &[] };
        assert_eq!(reserved(&map), expected);
    });
}

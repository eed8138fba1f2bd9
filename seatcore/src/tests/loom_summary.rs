//! Loom models of the summary's upkeep (`raw/summary.rs`): a searcher that
//! fills a word and clears its summary bit, racing a release that frees a
//! seat of the same word. Whatever the interleaving, once both return the
//! freed seat must be findable: its bit (and every bit above it) is set, and
//! a search finds it.

use loom::sync::Arc;

use super::loom_support::{Bound, Map, run_model};
use crate::error::SearchError;

/// A map of `words` words, every seat taken but `free`.
fn full_but(words: u64, free: &[u64]) -> Arc<Map> {
    let map = Map::new(words * 64).expect("a valid capacity");
    map.reserve_range(0..words * 64).expect("a fresh map");
    for &seat in free {
        map.release(seat).expect("reserved above");
    }
    Arc::new(map)
}

/// Takes one seat from `start`'s word on.
fn take_one(map: &Map, start: usize) -> Result<u64, SearchError> {
    let mut runs = Vec::new();
    map.reserve_any_from(1, start, &mut runs)?;
    Ok(runs[0].start)
}

/// The race on one summary level: the searcher takes seat 5, the last free
/// seat of word 0, and clears word 0's bit; meanwhile seat 10 of word 0 is
/// released.
#[test]
fn a_release_racing_a_searcher_that_fills_the_word_is_never_hidden() {
    run_model(Bound::Exhaustive, || {
        let map = full_but(2, &[5]);
        let searcher = {
            let map = Arc::clone(&map);
            loom::thread::spawn(move || take_one(&map, 0))
        };
        let releaser = {
            let map = Arc::clone(&map);
            loom::thread::spawn(move || map.release(10))
        };
        assert_eq!(searcher.join().unwrap(), Ok(5));
        assert_eq!(releaser.join().unwrap(), Ok(()));
        // Seat 10 is free, so the summary must say so, and a search (from
        // the other word, so it must follow the summary) finds it.
        assert!(map.summary_marks(0), "a free seat is hidden from searches");
        assert_eq!(map.hidden_free(&[0, 1]), None, "something free is hidden");
        assert_eq!(take_one(&map, 1), Ok(10));
    });
}

/// The same race two levels up: word 64 is alone under the second word of
/// level 0, so filling it clears a level-0 bit, empties that summary word,
/// and clears the level-1 bit above it, while a release climbs the other
/// way.
#[test]
fn the_race_two_levels_up() {
    run_model(Bound::Exhaustive, || {
        let map = full_but(65, &[64 * 64 + 1]);
        let searcher = {
            let map = Arc::clone(&map);
            loom::thread::spawn(move || take_one(&map, 64))
        };
        let releaser = {
            let map = Arc::clone(&map);
            loom::thread::spawn(move || map.release(64 * 64 + 9))
        };
        assert_eq!(searcher.join().unwrap(), Ok(64 * 64 + 1));
        assert_eq!(releaser.join().unwrap(), Ok(()));
        assert!(map.summary_marks(64), "a free seat is hidden from searches");
        assert_eq!(map.hidden_free(&[64]), None, "something free is hidden");
        assert_eq!(take_one(&map, 0), Ok(64 * 64 + 9));
    });
}

/// Two searchers fill two words under one summary word while a third seat
/// is released: the summary word may go to zero and back, and the freed
/// seat must stay findable.
#[test]
fn two_clearers_and_a_release() {
    run_model(Bound::Exhaustive, || {
        let map = full_but(3, &[3, 70]);
        let a = {
            let map = Arc::clone(&map);
            loom::thread::spawn(move || take_one(&map, 0))
        };
        let b = {
            let map = Arc::clone(&map);
            loom::thread::spawn(move || take_one(&map, 1))
        };
        map.release(130).expect("reserved in setup");
        let got = [a.join().unwrap(), b.join().unwrap()];
        // Each found a seat; together they took two of the three free ones
        // (which two depends on the interleaving), and the third is findable.
        let taken: Vec<u64> = got
            .iter()
            .map(|r| *r.as_ref().expect("a free seat"))
            .collect();
        let left: Vec<u64> = [3, 70, 130]
            .into_iter()
            .filter(|s| !taken.contains(s))
            .collect();
        assert_eq!(left.len(), 1, "took {taken:?}");
        assert_eq!(
            map.hidden_free(&[0, 1, 2]),
            None,
            "something free is hidden"
        );
        assert_eq!(take_one(&map, 2), Ok(left[0]));
    });
}

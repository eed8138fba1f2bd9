//! Loom models of the summary's upkeep (`raw/summary.rs`): a search that
//! finds a word full and clears its summary bit, racing a release that
//! frees a seat of the same word. Whatever the interleaving, once both
//! return the freed seat must be findable: its bit (and every bit above it)
//! is set, and a search finds it.

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

/// The race on one summary level: word 0 is full (its summary bit stale,
/// set), and a search from word 0 finds it full, clears its bit and goes on
/// to the free seat 70; meanwhile seat 10 of word 0 is released.
#[test]
fn a_release_racing_a_searcher_that_clears_the_word_is_never_hidden() {
    run_model(Bound::Exhaustive, || {
        let map = full_but(2, &[70]);
        let searcher = {
            let map = Arc::clone(&map);
            loom::thread::spawn(move || take_one(&map, 0))
        };
        let releaser = {
            let map = Arc::clone(&map);
            loom::thread::spawn(move || map.release(10))
        };
        let found = searcher.join().unwrap();
        assert_eq!(releaser.join().unwrap(), Ok(()));
        // The search found seat 10 (released before it looked) or seat 70.
        let left = if found == Ok(10) { 70 } else { 10 };
        assert!(found == Ok(10) || found == Ok(70), "{found:?}");
        // Whatever is left must be findable: no summary bit hides it, and
        // a search from the other word (which must follow the summary to
        // wrap around to word 0) finds it.
        assert_eq!(map.hidden_free(&[0, 1]), None, "something free is hidden");
        assert_eq!(take_one(&map, 1), Ok(left));
    });
}

/// The same race two levels up: word 64 is alone under the second word of
/// level 0, so a search that finds it full clears a level-0 bit, empties
/// that summary word and clears the level-1 bit above it, while a release
/// in word 64 climbs the other way. The search then wraps around to the
/// free seat 5 in word 0.
#[test]
fn the_race_two_levels_up() {
    run_model(Bound::Exhaustive, || {
        let map = full_but(65, &[5]);
        let searcher = {
            let map = Arc::clone(&map);
            loom::thread::spawn(move || take_one(&map, 64))
        };
        let releaser = {
            let map = Arc::clone(&map);
            loom::thread::spawn(move || map.release(64 * 64 + 9))
        };
        let found = searcher.join().unwrap();
        assert_eq!(releaser.join().unwrap(), Ok(()));
        let left = if found == Ok(5) { 64 * 64 + 9 } else { 5 };
        assert!(found == Ok(5) || found == Ok(64 * 64 + 9), "{found:?}");
        assert_eq!(map.hidden_free(&[0, 64]), None, "something free is hidden");
        assert_eq!(take_one(&map, 0), Ok(left));
    });
}

/// Two searchers pass over full words 0 and 1 (clearing their bits) to the
/// two free seats of word 2, while seat 3 of word 0 is released: the
/// freed seat must stay findable whoever clears what.
#[test]
fn two_clearers_and_a_release() {
    // Three threads with a dozen atomic operations each: bounded, or loom
    // runs for many minutes.
    run_model(Bound::Preemptions(2), || {
        let map = full_but(3, &[130, 131]);
        let a = {
            let map = Arc::clone(&map);
            loom::thread::spawn(move || take_one(&map, 0))
        };
        let b = {
            let map = Arc::clone(&map);
            loom::thread::spawn(move || take_one(&map, 1))
        };
        map.release(3).expect("reserved in setup");
        let taken = [a.join().unwrap(), b.join().unwrap()];
        let taken: Vec<u64> = taken
            .iter()
            .map(|r| *r.as_ref().expect("a free seat"))
            .collect();
        let left: Vec<u64> = [3, 130, 131]
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

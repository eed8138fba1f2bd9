//! The reference for [`choose_together`]: list every candidate, straight
//! from the definitions in the module docs, and take the least by the
//! order's keys. Exponential; for tests on small cabins only.

use std::ops::Range;

use proptest::prelude::*;

use super::{Choice, choose_together};
use crate::spec::Cabin;

/// The order's keys, in order: rows, orphan, not adjacent, row list, seat
/// list. Tuples compare lexicographically, as the order does.
type Key = (usize, bool, bool, Vec<u64>, Vec<u64>);

/// The best candidate found so far for one party size, with its blocks.
type Best = Option<(Key, Vec<Range<u64>>)>;

/// The best candidate for every party size `0..=seats` (index `n`), with
/// its blocks.
fn best_for_every_size(cabin: &Cabin, free: &[bool]) -> Vec<Best> {
    let mut best = vec![None; free.len() + 1];
    let mut blocks = Vec::new();
    walk(cabin, free, 1, &mut blocks, &mut best);
    best
}

/// Tries, for row `row` onwards, no block or each block of free seats in
/// one group.
fn walk(
    cabin: &Cabin,
    free: &[bool],
    row: u64,
    blocks: &mut Vec<(u64, Range<u64>)>,
    best: &mut [Best],
) {
    if row > u64::from(cabin.rows()) {
        if blocks.is_empty() {
            return;
        }
        let n: u64 = blocks.iter().map(|(_, b)| b.end - b.start).sum();
        let slot = &mut best[n as usize];
        // Only a shortcut: a candidate with more rows never wins.
        if slot.as_ref().is_some_and(|(b, _)| b.0 < blocks.len()) {
            return;
        }
        let key = key(cabin, free, blocks);
        if slot.as_ref().is_none_or(|(b, _)| key < *b) {
            *slot = Some((key, blocks.iter().map(|(_, b)| b.clone()).collect()));
        }
        return;
    }
    walk(cabin, free, row + 1, blocks, best);
    for span in cabin.group_spans() {
        for start in span.clone() {
            for end in start + 1..=span.end {
                let (first, last) = (
                    cabin.seat_at(row, start).unwrap(),
                    cabin.seat_at(row, end - 1).unwrap(),
                );
                if !(first..=last).all(|s| free[s as usize]) {
                    break;
                }
                blocks.push((row, first..last + 1));
                walk(cabin, free, row + 1, blocks, best);
                blocks.pop();
            }
        }
    }
}

fn key(cabin: &Cabin, free: &[bool], blocks: &[(u64, Range<u64>)]) -> Key {
    let rows: Vec<u64> = blocks.iter().map(|(r, _)| *r).collect();
    let seats: Vec<u64> = blocks.iter().flat_map(|(_, b)| b.clone()).collect();
    let mut after = free.to_vec();
    for &s in &seats {
        after[s as usize] = false;
    }
    let orphan = (0..free.len() as u64)
        .any(|s| after[s as usize] && stranded(cabin, &after, s) && !stranded(cabin, free, s));
    let adjacent = rows.windows(2).all(|w| w[1] == w[0] + 1);
    (blocks.len(), orphan, !adjacent, rows, seats)
}

/// No seat beside `seat` in its group is free.
fn stranded(cabin: &Cabin, free: &[bool], seat: u64) -> bool {
    let (row, pos) = (cabin.row_of(seat), cabin.position_of(seat));
    let group = cabin.group_span(pos);
    let beside = [pos.checked_sub(1), Some(pos + 1)];
    !beside
        .into_iter()
        .flatten()
        .filter(|p| group.contains(p))
        .any(|p| free[cabin.seat_at(row, p).unwrap() as usize])
}

/// Checks every party size on one free/taken pattern.
fn check(cabin: &Cabin, free: &[bool]) -> Result<(), TestCaseError> {
    let best = best_for_every_size(cabin, free);
    for (n, expected) in best.iter().enumerate().skip(1) {
        let got = choose_together(cabin, |s| free[s as usize], n as u64);
        let expected = expected.as_ref().map(|(key, runs)| Choice {
            runs: runs.clone(),
            split: key.0 as u32,
            orphan: key.1,
        });
        prop_assert_eq!(
            &got,
            &expected,
            "cabin {} n {} free {:?}",
            cabin,
            n,
            free.iter().map(|&f| u8::from(f)).collect::<Vec<_>>()
        );
    }
    Ok(())
}

#[test]
fn the_reference_sees_what_the_order_says() {
    let cabin = Cabin::new(2, &[3]).unwrap();
    let best = best_for_every_size(&cabin, &[true; 6]);
    // A pair in a row of three strands the third seat whatever it does.
    let (key, runs) = best[2].clone().unwrap();
    assert_eq!(
        (key, runs),
        ((1, true, false, vec![1], vec![0, 1]), vec![0..2])
    );
    // Four: two rows, 3 + 1 (1 + 3 starts at the same seat and is shorter).
    let (key, runs) = best[4].clone().unwrap();
    assert_eq!(key, (2, false, false, vec![1, 2], vec![0, 1, 2, 3]));
    assert_eq!(runs, [0..3, 3..4]);
}

/// Every free/taken pattern of each small cabin, every party size.
#[test]
fn matches_the_reference_on_every_pattern_of_small_cabins() {
    for spec in [
        "3x2-2", "2x3-3", "3x1-2-1", "4x3", "2x5", "5x2", "4x1-1-1", "1x2-4-2", "2x6", "3x4",
    ] {
        let crate::MapSpec::Cabin(cabin) = spec.parse().unwrap() else {
            unreachable!("{spec} is a cabin")
        };
        let seats = cabin.seats() as usize;
        assert!(seats <= 12, "{spec}: 2^{seats} patterns is too many");
        for pattern in 0u32..1 << seats {
            let free: Vec<bool> = (0..seats).map(|s| pattern >> s & 1 == 1).collect();
            if let Err(e) = check(&cabin, &free) {
                panic!("{e}");
            }
        }
    }
}

fn cabins() -> impl Strategy<Value = Cabin> {
    (1u32..=5, prop::collection::vec(1u32..=4, 1..=3))
        .prop_map(|(rows, groups)| Cabin::new(rows, &groups).unwrap())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// Bigger cabins, random patterns of any density.
    #[test]
    fn matches_the_reference_on_random_cabins(
        (cabin, free) in cabins().prop_flat_map(|cabin| {
            let seats = cabin.seats() as usize;
            (Just(cabin), prop::collection::vec(prop::bool::weighted(0.7), seats))
        })
    ) {
        check(&cabin, &free)?;
    }
}

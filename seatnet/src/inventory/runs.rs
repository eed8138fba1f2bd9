//! Seats as runs: a booking of seats 5..=50000 is one `Range`, not 49,996
//! numbers, and a reply lists it as `5-50000`.

use std::ops::Range;

use seatcore::SeatMap;

/// Appends the runs of `seats` (ascending, no repeats) to `runs`: adjacent
/// seats join one run.
///
/// ```text
/// [4, 5, 6, 9, 11, 12] → [4..7, 9..10, 11..13]
/// ```
pub(crate) fn push_runs(seats: &[u64], runs: &mut Vec<Range<u64>>) {
    for &seat in seats {
        match runs.last_mut() {
            Some(last) if last.end == seat => last.end = seat + 1,
            _ => runs.push(seat..seat + 1),
        }
    }
}

/// Frees every seat of `runs`: one `fetch_and` per word of each run, so a
/// run costs the same whatever the number of its seats.
pub(crate) fn release_runs(map: &SeatMap, runs: &[Range<u64>]) {
    for run in runs {
        // The seats are this booking's (its entry was removed first), so
        // the run is in range and reserved: the count says nothing new.
        let _ = map.release_range(run.clone());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn adjacent_seats_join_one_run() {
        let mut runs = Vec::new();
        push_runs(&[4, 5, 6, 9, 11, 12], &mut runs);
        assert_eq!(runs, [4..7, 9..10, 11..13]);
        let mut none = Vec::new();
        push_runs(&[], &mut none);
        assert!(none.is_empty());
    }

    #[test]
    fn runs_are_released_whole() {
        let map = SeatMap::new(20_000).unwrap();
        map.reserve_range(0..10_000).unwrap();
        map.reserve(15_000).unwrap();
        release_runs(&map, &[3..9_999, 15_000..15_001]);
        assert_eq!(map.reserved_seats().collect::<Vec<_>>(), [0, 1, 2, 9_999]);
    }
}

//! Seats as runs: a booking of seats 5..=50000 is one `Range`, not 49,996
//! numbers, and a reply lists it as `5-50000`.

use std::ops::Range;

use seatcore::SeatMap;

/// Seats released per `release_each` call when a booking is cancelled:
/// bounds the seat list built for one call however long the run.
const RELEASE_CHUNK: u64 = 4096;

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

/// Frees every seat of `runs`, one `fetch_and` per word of each chunk,
/// building at most [`RELEASE_CHUNK`] seat numbers at a time in `scratch`.
pub(crate) fn release_runs(map: &SeatMap, runs: &[Range<u64>], scratch: &mut Vec<u64>) {
    for run in runs {
        let mut start = run.start;
        while start < run.end {
            let end = run.end.min(start.saturating_add(RELEASE_CHUNK));
            scratch.clear();
            scratch.extend(start..end);
            // The seats are this booking's (its entry was removed first),
            // so each one is reserved and in range: the outcomes say nothing.
            let _ = map.release_each(scratch);
            start = end;
        }
    }
    scratch.clear();
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
    fn long_runs_are_released_in_bounded_chunks() {
        let map = SeatMap::new(20_000).unwrap();
        let first: Vec<u64> = (0..10_000).chain([15_000]).collect();
        map.reserve_all(&first).unwrap();
        let mut scratch = Vec::new();
        release_runs(&map, &[3..9_999, 15_000..15_001], &mut scratch);
        assert_eq!(map.reserved_count(), 4);
        assert_eq!(map.reserved_seats().collect::<Vec<_>>(), [0, 1, 2, 9_999]);
        assert!(scratch.capacity() <= RELEASE_CHUNK as usize * 2);
    }
}

//! TOGETHER on a cabin: where a party of `n` sits, by one total order.
//!
//! # Candidates
//!
//! A *block* is one or more free seats side by side in one row and one
//! aisle group. A *candidate* for a party of `n` is a set of blocks in
//! **distinct rows**, one block per row, whose sizes add up to `n`. With
//! one row, that is the issue's "adjacent seats in one row, not crossing an
//! aisle". With several, each row still seats its part of the party side by
//! side, and `split` (the number of rows) is also the number of pieces the
//! party is in. A party is not split across an aisle within a row: two
//! blocks in one row would make `split` say less than the party's pieces,
//! and people across an aisle are no more together than people one row
//! apart, in the same seats, behind each other.
//!
//! # Orphans
//!
//! A free seat is *stranded* when no seat beside it in its group (same
//! row, no aisle between) is free: it is hemmed in by taken seats, an
//! aisle or the row's end, and only a party of one can use it. A candidate
//! *creates an orphan* when a seat it leaves free is stranded after it but
//! was not before. (Inside a maximal run of free seats, a block does so
//! exactly when it leaves one seat between itself and the run's end.)
//! Seats already stranded do not count against anyone: no choice can help
//! them.
//!
//! # The order
//!
//! Among all candidates, [`choose_together`] returns the least by these
//! keys, compared in turn:
//!
//! 1. fewest rows (`split`);
//! 2. creates no orphan, before creates one;
//! 3. adjacent rows (consecutive row numbers), before not;
//! 4. the rows, front-most first: the sorted row numbers compared
//!    lexicographically (so the first row decides, then the second, ...);
//! 5. the seats, leftmost first: the sorted seat indices compared
//!    lexicographically. Within the same rows this means: the first row's
//!    block starting furthest left, then the longer of two blocks starting
//!    there, then the same for the next row.
//!
//! Two distinct candidates have distinct seat lists, so the order is total
//! and the answer unique: the tests compare it with a brute force that lists
//! every candidate and sorts them (`together/brute.rs`).
//!
//! # Cost
//!
//! One call reads each seat once (`is_free` is called `rows × width`
//! times) and then works on rows, not seats: per mode (no orphan / any),
//! a feasibility check of every window of `split` consecutive rows, or,
//! when none is feasible, one table of reachable sums per row and row count
//! (at most [`MAX_ROWS`](crate::MAX_ROWS) × ([`MAX_PARTY`] + 1) sets of 128
//! bits, 1.6 MB). Sums are bit sets of `0..=MAX_PARTY`, shifted and or-ed.
//!
//! # Numbered maps
//!
//! A numbered map has no rows: TOGETHER there stays what it is today
//! (seatcore's `reserve_adjacent`, the caller's business).

use std::ops::Range;

use crate::spec::Cabin;

#[cfg(test)]
mod brute;

/// The largest party [`choose_together`] seats (a group booking, not a
/// block sale). Sums of a party fit a 128-bit set.
pub const MAX_PARTY: u64 = 100;

/// Where a party sits: from [`choose_together`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Choice {
    runs: Vec<Range<u64>>,
    split: u32,
    orphan: bool,
}

impl Choice {
    /// The seats, as ascending runs: one per row, each within one aisle
    /// group.
    #[must_use]
    pub fn runs(&self) -> &[Range<u64>] {
        &self.runs
    }

    /// How many rows the party is split over (1: all in one row).
    #[must_use]
    pub fn split(&self) -> u32 {
        self.split
    }

    /// Whether the choice strands a free seat (only when every choice with
    /// this few rows does).
    #[must_use]
    pub fn creates_orphan(&self) -> bool {
        self.orphan
    }

    /// The seats, ascending.
    pub fn seats(&self) -> impl Iterator<Item = u64> + '_ {
        self.runs.iter().flat_map(Clone::clone)
    }
}

/// Chooses seats for a party of `n` on `cabin`, where `is_free(seat)` says
/// whether a library seat is free, by the order in the module docs: fewest
/// rows, no orphan, adjacent rows, front-most rows, leftmost seats.
///
/// `None` when no candidate exists (fewer than `n` seats in the rows'
/// longest blocks put together), when `n` is 0, or when `n` is over
/// [`MAX_PARTY`] (callers report that bound before asking).
///
/// The choice is only as fresh as `is_free`: a server claims its runs all
/// or nothing (seatcore's `reserve_all` over the seats) and, if another
/// request took one of them meanwhile, asks again with the new states.
///
/// # Examples
///
/// ```
/// use seatplan::{Cabin, choose_together};
///
/// let cabin = Cabin::new(3, &[3, 3])?;
/// // Row 1 has A taken: B-C seats a pair and strands no one, where D-E
/// // would strand F.
/// let taken = [0u64];
/// let free = |s: u64| !taken.contains(&s);
/// let choice = choose_together(&cabin, free, 2).unwrap();
/// assert_eq!(choice.runs(), &[1..3]); // 1B-1C
/// assert_eq!(choice.split(), 1);
///
/// // Seven people: no row holds them; two rows of one group each do not
/// // either (3 + 3), so three rows.
/// let choice = choose_together(&cabin, |_| true, 7).unwrap();
/// assert_eq!(choice.split(), 3);
/// assert_eq!(choice.runs(), &[0..3, 6..9, 12..13]);
/// # Ok::<(), seatplan::SpecError>(())
/// ```
pub fn choose_together(cabin: &Cabin, is_free: impl Fn(u64) -> bool, n: u64) -> Option<Choice> {
    if n == 0 || n > MAX_PARTY {
        return None;
    }
    // n <= MAX_PARTY, so it fits every smaller type below.
    let n = n as u32;
    let rows = read_rows(cabin, &is_free);
    let k = fewest_rows(&rows, n)?;
    for clean in [true, false] {
        let sizes: Vec<u32> = rows.iter().map(|row| row.sizes(clean)).collect();
        let Some(chosen) = adjacent_window(&sizes, k, n).or_else(|| spread_rows(&sizes, k, n))
        else {
            continue;
        };
        let Some(blocks) = fill(&rows, &sizes, &chosen, n, clean) else {
            continue;
        };
        let width = u64::from(cabin.width());
        let runs = chosen
            .iter()
            .zip(&blocks)
            .map(|(&r, &(start, len))| {
                let first = r as u64 * width + u64::from(start);
                first..first + u64::from(len)
            })
            .collect();
        let orphan = chosen
            .iter()
            .zip(&blocks)
            .any(|(&r, &block)| rows[r].strands(block));
        return Some(Choice {
            runs,
            split: k as u32,
            orphan,
        });
    }
    None
}

/// A row's maximal runs of free seats within groups: (start position,
/// length), left to right.
struct Row {
    runs: Vec<(u32, u32)>,
}

impl Row {
    fn longest(&self) -> u32 {
        self.runs.iter().map(|&(_, len)| len).max().unwrap_or(0)
    }

    /// The block sizes this row can seat, as a bit set (bit `m`: size `m`),
    /// every size when `!clean`, only those some run seats without
    /// stranding a seat when `clean` (a run of `len` seats `m` cleanly
    /// unless exactly one seat would be left over).
    fn sizes(&self, clean: bool) -> u32 {
        self.runs.iter().fold(0, |set, &(_, len)| {
            // len <= MAX_WIDTH (25): sizes 1..=len are bits 1..=len.
            let all = ((1u32 << (len + 1)) - 1) & !1;
            let strands = if clean && len >= 2 { 1 << (len - 1) } else { 0 };
            set | (all & !strands)
        })
    }

    /// The leftmost start of a block of `len` seats (stranding none when
    /// `clean`): the start of the first run that can seat it, since a run
    /// that strands a seat with its block at the start strands one
    /// wherever the block goes.
    fn start(&self, len: u32, clean: bool) -> Option<u32> {
        self.runs
            .iter()
            .find(|&&(_, run)| run >= len && !(clean && run == len + 1))
            .map(|&(start, _)| start)
    }

    /// Whether the block `(start, len)` leaves one seat alone at the end of
    /// its run (it always starts a run: see `start`).
    fn strands(&self, (start, len): (u32, u32)) -> bool {
        self.runs
            .iter()
            .any(|&(s, run)| s == start && run == len + 1)
    }
}

/// Reads every seat once, row by row.
fn read_rows(cabin: &Cabin, is_free: &impl Fn(u64) -> bool) -> Vec<Row> {
    let spans: Vec<Range<u32>> = cabin.group_spans().collect();
    (1..=u64::from(cabin.rows()))
        .map(|row| {
            let base = cabin.row_seats(row).start;
            let mut runs = Vec::new();
            for span in &spans {
                let mut start = None;
                for pos in span.clone() {
                    match (is_free(base + u64::from(pos)), start) {
                        (true, None) => start = Some(pos),
                        (false, Some(s)) => {
                            runs.push((s, pos - s));
                            start = None;
                        }
                        _ => {}
                    }
                }
                if let Some(s) = start {
                    runs.push((s, span.end - s));
                }
            }
            Row { runs }
        })
        .collect()
}

/// The fewest rows whose longest blocks hold `n`, or `None`.
fn fewest_rows(rows: &[Row], n: u32) -> Option<usize> {
    let mut longest: Vec<u32> = rows.iter().map(Row::longest).collect();
    longest.sort_unstable_by(|a, b| b.cmp(a));
    let mut sum = 0;
    for (i, len) in longest.into_iter().take_while(|&l| l > 0).enumerate() {
        sum += len;
        if sum >= n {
            return Some(i + 1);
        }
    }
    None
}

/// A set of sums `0..=MAX_PARTY`: bit `s` is sum `s`.
type Sums = u128;

/// The sums of `sums` plus one size from `sizes`, up to `n`.
fn add(sums: Sums, sizes: u32, n: u32) -> Sums {
    let mut out = 0;
    let mut rest = sizes;
    while rest != 0 {
        let m = rest.trailing_zeros();
        rest &= rest - 1;
        out |= sums << m;
    }
    out & below(n)
}

/// The sums `0..=n`.
fn below(n: u32) -> Sums {
    // n <= MAX_PARTY < 127, so the shift is in range.
    (1 << (n + 1)) - 1
}

/// The front-most window of `k` consecutive rows that can seat `n`.
fn adjacent_window(sizes: &[u32], k: usize, n: u32) -> Option<Vec<usize>> {
    // The largest size of each row, summed over a sliding window: a window
    // whose largest sizes fall short of `n` (or that has a row with none)
    // is skipped without building its sums.
    let largest = |s: u32| 31 - s.leading_zeros().min(31);
    let mut room: u32 = sizes.iter().take(k).map(|&s| largest(s)).sum();
    for first in 0..=sizes.len().checked_sub(k)? {
        if first > 0 {
            room = room - largest(sizes[first - 1]) + largest(sizes[first + k - 1]);
        }
        let window = &sizes[first..first + k];
        if room >= n
            && window.iter().all(|&s| s != 0)
            && window.iter().fold(1, |sums, &s| add(sums, s, n)) >> n & 1 == 1
        {
            return Some((first..first + k).collect());
        }
    }
    None
}

/// The lexicographically least set of `k` rows that can seat `n`.
fn spread_rows(sizes: &[u32], k: usize, n: u32) -> Option<Vec<usize>> {
    // reach[i * (k + 1) + j]: the sums of exactly j rows from rows i.. .
    let rows = sizes.len();
    let mut reach = vec![0 as Sums; (rows + 1) * (k + 1)];
    reach[rows * (k + 1)] = 1;
    for i in (0..rows).rev() {
        for j in 0..=k {
            let skip = reach[(i + 1) * (k + 1) + j];
            let take = match j {
                0 => 0,
                _ if sizes[i] == 0 => 0,
                _ => add(reach[(i + 1) * (k + 1) + j - 1], sizes[i], n),
            };
            reach[i * (k + 1) + j] = skip | take;
        }
    }
    if reach[k] >> n & 1 == 0 {
        return None;
    }
    // Take the first row that still leaves a way to finish, k times;
    // `prefix` holds the sums the rows taken so far can make.
    let mut chosen = Vec::with_capacity(k);
    let mut prefix: Sums = 1;
    let mut from = 0;
    while chosen.len() < k {
        let left = k - chosen.len() - 1;
        let next = (from..rows).find(|&i| {
            sizes[i] != 0 && completes(add(prefix, sizes[i], n), reach[(i + 1) * (k + 1) + left], n)
        })?;
        prefix = add(prefix, sizes[next], n);
        chosen.push(next);
        from = next + 1;
    }
    Some(chosen)
}

/// Whether some sum of `prefix` plus some sum of `suffix` is `n`.
fn completes(prefix: Sums, suffix: Sums, n: u32) -> bool {
    (0..=n).any(|s| prefix >> s & 1 == 1 && suffix >> (n - s) & 1 == 1)
}

/// The blocks (start position, length) for the chosen rows, leftmost and
/// then longest first, row by row, keeping the rest able to finish.
/// `None` cannot happen (the rows were chosen so that a way to finish
/// exists, and every size in `sizes` has a start); the caller treats it as
/// "no candidate in this mode" rather than trust that with a panic.
fn fill(
    rows: &[Row],
    sizes: &[u32],
    chosen: &[usize],
    n: u32,
    clean: bool,
) -> Option<Vec<(u32, u32)>> {
    // after[i]: the sums rows chosen[i..] can make.
    let mut after = vec![1 as Sums; chosen.len() + 1];
    for i in (0..chosen.len()).rev() {
        after[i] = add(after[i + 1], sizes[chosen[i]], n);
    }
    let mut left = n;
    let mut blocks = Vec::with_capacity(chosen.len());
    for (i, &r) in chosen.iter().enumerate() {
        let best = (1..=left.min(crate::MAX_WIDTH))
            .filter(|&m| sizes[r] >> m & 1 == 1 && after[i + 1] >> (left - m) & 1 == 1)
            .filter_map(|m| Some((rows[r].start(m, clean)?, m)))
            .min_by_key(|&(start, m)| (start, std::cmp::Reverse(m)));
        let (start, m) = best?;
        blocks.push((start, m));
        left -= m;
    }
    (left == 0).then_some(blocks)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_row_that_fits_wins_over_a_front_row_that_would_strand() {
        let cabin = Cabin::new(2, &[3]).unwrap();
        // Row 1: . . .   row 2: . . x   party of 2: row 1 would strand a
        // seat, row 2 fits exactly.
        let choice = choose_together(&cabin, |s| s != 5, 2).unwrap();
        assert_eq!(choice.runs(), &[3..5]);
        assert!(!choice.creates_orphan());
    }

    #[test]
    fn an_unavoidable_orphan_is_taken_front_most() {
        let cabin = Cabin::new(2, &[3]).unwrap();
        let choice = choose_together(&cabin, |_| true, 2).unwrap();
        assert_eq!(choice.runs(), &[0..2]);
        assert!(choice.creates_orphan());
    }

    #[test]
    fn a_split_prefers_adjacent_rows() {
        let cabin = Cabin::new(4, &[2]).unwrap();
        // Rows 1 and 3 free, rows 2 and 4 have one seat: party of 4 takes
        // rows 1 and 3 (the only two-row way).
        let free = |s: u64| ![2, 6].contains(&s);
        let choice = choose_together(&cabin, free, 4).unwrap();
        assert_eq!((choice.split(), choice.runs()), (2, &[0..2, 4..6][..]));
        // Party of 3: rows 1-2 are adjacent and front-most.
        let choice = choose_together(&cabin, free, 3).unwrap();
        assert_eq!(choice.runs(), &[0..2, 3..4]);
    }

    #[test]
    fn out_of_bounds_parties_get_none() {
        let cabin = Cabin::new(30, &[3, 3]).unwrap();
        assert_eq!(choose_together(&cabin, |_| true, 0), None);
        assert_eq!(choose_together(&cabin, |_| true, MAX_PARTY + 1), None);
        assert_eq!(choose_together(&cabin, |_| false, 1), None);
        // One block per row: 30 rows of 3-3 seat at most 90 together.
        assert!(choose_together(&cabin, |_| true, 90).is_some());
        assert_eq!(choose_together(&cabin, |_| true, 91), None);
        let longer = Cabin::new(40, &[3, 3]).unwrap();
        let full = choose_together(&longer, |_| true, MAX_PARTY).unwrap();
        assert_eq!(full.split(), 34);
        assert_eq!(full.seats().count() as u64, MAX_PARTY);
    }
}

#[cfg(test)]
mod big {
    use proptest::prelude::*;

    use super::*;

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(32))]

        /// On cabins too big for the brute force, the choice is still a
        /// valid candidate with the fewest rows.
        #[test]
        fn big_cabins_get_valid_choices(
            rows in 1u32..=999,
            groups in prop::collection::vec(1u32..=8, 1..=3),
            density in 0.0f64..1.0,
            seed in any::<u64>(),
            n in 1u64..=MAX_PARTY,
        ) {
            let cabin = Cabin::new(rows, &groups).unwrap();
            // A cheap deterministic pattern from the seed and density.
            let free = |s: u64| {
                let h = (s ^ seed).wrapping_mul(0x9E37_79B9_7F4A_7C15);
                (h >> 11) as f64 / (1u64 << 53) as f64 >= density
            };
            let mut longest = longest_blocks(&cabin, &free);
            longest.sort_unstable_by(|a, b| b.cmp(a));
            let Some(choice) = choose_together(&cabin, free, n) else {
                // None only when the longest blocks of all rows fall short.
                prop_assert!(longest.iter().sum::<u64>() < n);
                return Ok(());
            };
            prop_assert_eq!(choice.seats().count() as u64, n);
            prop_assert_eq!(choice.runs().len(), choice.split() as usize);
            let mut previous_row = 0;
            for run in choice.runs() {
                let row = cabin.row_of(run.start);
                prop_assert!(row > previous_row, "one run per row, ascending");
                previous_row = row;
                let group = cabin.group_span(cabin.position_of(run.start));
                prop_assert!(group.contains(&cabin.position_of(run.end - 1)));
                prop_assert_eq!(cabin.row_of(run.end - 1), row);
                prop_assert!(run.clone().all(free));
            }
            // Fewest rows: the longest blocks of split - 1 rows fall short.
            let short: u64 = longest.iter().take(choice.split() as usize - 1).sum();
            prop_assert!(short < n);
        }
    }

    /// Each row's longest block of free seats in one group, seat by seat.
    fn longest_blocks(cabin: &Cabin, free: &impl Fn(u64) -> bool) -> Vec<u64> {
        (1..=u64::from(cabin.rows()))
            .map(|row| {
                let mut best = 0;
                for span in cabin.group_spans() {
                    let mut run = 0;
                    for pos in span {
                        run = if free(cabin.seat_at(row, pos).unwrap()) {
                            run + 1
                        } else {
                            0
                        };
                        best = best.max(run);
                    }
                }
                best
            })
            .collect()
    }
}

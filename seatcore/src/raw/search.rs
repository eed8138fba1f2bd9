//! Searches: any `n` free seats, or `n` adjacent ones.
//!
//! Both start at a caller-chosen place (the public map passes a per-thread,
//! per-map hint, as the Linux kernel's `sbitmap` does) so that concurrent
//! searchers spread over the map instead of all fighting for the first free
//! word; both follow the summary (`summary.rs`) to skip words with no free
//! seat, and both wrap around the map once at most: every search is bounded.
//!
//! `reserve_any` first **counts** (loads only) and stops as soon as it has
//! seen `n` free seats; a search whose count falls short returns
//! [`SearchError::NotEnough`] having claimed nothing, so it leaves no trace
//! and costs one pass of loads. Only then does it claim, from the first word
//! where it saw a free seat. A search that counted enough and then lost
//! races may still come up short: it gives back what it took (visible to
//! others for that instant, as for `reserve_all`).
//!
//! Results travel as sorted, maximal runs of seats (`Range<u64>`), grown
//! with `try_reserve`: a result too large for memory is
//! [`SearchError::TooLarge`], never an abort.

use std::ops::Range;

use super::RawSeatMap;
use crate::error::SearchError;
use crate::layout::{
    BITS, bit_of, first_seat_of, for_each_run, is_full, lowest_bits, valid_bits, word_of,
};
use crate::sync::{AtomicWord, Ordering};

impl<W: AtomicWord> RawSeatMap<W> {
    /// Reserves `n` free seats wherever they are, starting at word `start`
    /// (taken modulo the word count). Writes the seats into `runs` (cleared
    /// first) as ascending, maximal runs, and returns the word where the
    /// search ended (the next hint).
    ///
    /// One `fetch_or` per word it takes seats from; another on the same
    /// word only if a racer took a picked bit first (progress for the racer,
    /// so the search stays lock-free).
    pub(crate) fn reserve_any_from(
        &self,
        n: u64,
        start: usize,
        runs: &mut Vec<Range<u64>>,
    ) -> Result<usize, SearchError> {
        runs.clear();
        let start = start % self.words.len();
        if n == 0 {
            return Ok(start);
        }
        let first = match self.count_free(n, start) {
            Ok(first) => first,
            Err(free) => return Err(SearchError::NotEnough { requested: n, free }),
        };
        let mut needed = n;
        for (from, limit) in [(first, self.words.len()), (0, first)] {
            let mut at = from;
            while let Some(index) = self.next_candidate(at, limit) {
                match self.claim_from_word(index, &mut needed, runs) {
                    Ok(true) => {
                        sort_runs(runs);
                        return Ok(index);
                    }
                    Ok(false) => at = index + 1,
                    Err(()) => {
                        self.give_back(runs);
                        return Err(SearchError::TooLarge { requested: n });
                    }
                }
            }
        }
        self.give_back(runs);
        Err(SearchError::NotEnough {
            requested: n,
            free: n - needed,
        })
    }

    /// Counts free seats from word `start` around the map until `n` are
    /// seen: `Ok` with the first word that had one, or `Err` with the count
    /// if a whole pass saw fewer. Loads only (and summary upkeep).
    fn count_free(&self, n: u64, start: usize) -> Result<usize, u64> {
        let mut counted = 0;
        let mut first = None;
        for (from, limit) in [(start, self.words.len()), (0, start)] {
            let mut at = from;
            while let Some(index) = self.next_candidate(at, limit) {
                // Relaxed: the count only decides whether to try; the claims
                // that follow act on the latest value of each word.
                let value = self.words[index].load(Ordering::Relaxed);
                let free = !value & valid_bits(index, self.capacity);
                if free == 0 {
                    self.mark_full(index);
                } else {
                    first.get_or_insert(index);
                    counted += u64::from(free.count_ones());
                    if counted >= n {
                        return Ok(first.unwrap_or(index));
                    }
                }
                at = index + 1;
            }
        }
        Err(counted)
    }

    /// Takes up to `needed` free seats of word `index`, appending them to
    /// `runs`. `Ok(true)` when `needed` reached 0; `Err` if `runs` could not
    /// grow (the seats just won are already given back).
    fn claim_from_word(
        &self,
        index: usize,
        needed: &mut u64,
        runs: &mut Vec<Range<u64>>,
    ) -> Result<bool, ()> {
        let word = &self.words[index];
        let valid = valid_bits(index, self.capacity);
        // Relaxed: the value only chooses which bits to try; the fetch_or
        // below acts on the latest value whatever we saw.
        let mut current = word.load(Ordering::Relaxed);
        loop {
            let free = !current & valid;
            if free == 0 {
                self.mark_full(index);
                return Ok(false);
            }
            let pick = lowest_bits(free, *needed);
            // Acquire: as for every claim (see `claim.rs`).
            let before = word.fetch_or(pick, Ordering::Acquire);
            let won = pick & !before;
            current = before | pick;
            if won != 0 {
                if push_runs(runs, index, won).is_err() {
                    self.free_bits(index, won);
                    return Err(());
                }
                *needed -= u64::from(won.count_ones());
                if *needed == 0 {
                    // A word this search filled keeps its (now stale)
                    // summary bit: the next search to find it full clears
                    // it. Clearing it here would make a thread that takes
                    // and gives back a word's last seat do summary
                    // read-modify-writes every time, on lines other threads
                    // share.
                    return Ok(true);
                }
            }
        }
    }

    /// Gives back every seat of `runs` (a failed search) and empties it.
    fn give_back(&self, runs: &mut Vec<Range<u64>>) {
        for run in runs.drain(..) {
            self.release_groups(&run);
        }
    }

    /// Reserves `n` adjacent seats (a run that may span words, never wrapping
    /// from the last seat to the first), trying runs that start at or after
    /// seat `start` first, then those before it. Returns the run's first
    /// seat and the word where it ends (the next hint).
    pub(crate) fn reserve_adjacent_from(
        &self,
        n: u64,
        start: u64,
    ) -> Result<(u64, usize), SearchError> {
        let start = start % self.capacity;
        if n == 0 {
            return Ok((start, word_of(start)));
        }
        if n <= self.capacity {
            for (mut from, limit) in [(start, self.capacity), (0, start)] {
                while let Some(first) = self.find_free_run(from, limit, n) {
                    match self.claim_range(&(first..first + n)) {
                        Ok(()) => return Ok((first, word_of(first + n - 1))),
                        // A racer took a seat of the run: no run containing
                        // that seat can work, so go on just past it.
                        Err(taken) => from = taken + 1,
                    }
                }
            }
        }
        Err(SearchError::NotEnough {
            requested: n,
            free: self.free_count(),
        })
    }

    /// The first seat `s` with `from <= s < limit` such that seats
    /// `s..s + n` all looked free (plain loads: a candidate, not a claim).
    /// Between runs it jumps over words the summary says are full.
    fn find_free_run(&self, from: u64, limit: u64, n: u64) -> Option<u64> {
        let mut run_start = from;
        let mut run_len = 0;
        while run_start < limit && n <= self.capacity - run_start {
            let seat = run_start + run_len;
            let index = word_of(seat);
            if run_len == 0 {
                let candidate = self.next_candidate(index, self.words.len())?;
                if candidate > index {
                    run_start = first_seat_of(candidate);
                    continue;
                }
            }
            let offset = bit_of(seat);
            // Relaxed: a candidate only; `claim_range` validates it. Seats
            // past the capacity count as taken.
            let value = self.words[index].load(Ordering::Relaxed);
            let valid = valid_bits(index, self.capacity);
            if run_len == 0 && is_full(value, valid) {
                self.mark_full(index);
                run_start = first_seat_of(index + 1);
                continue;
            }
            // Bit 0 of `rest` is `seat`; its high `offset` bits are shifted-in
            // zeros, so every count below is capped by `span`.
            let rest = (value | !valid) >> offset;
            let span = BITS - u64::from(offset);
            let free_len = u64::from(rest.trailing_zeros()).min(span);
            run_len += free_len;
            if run_len >= n {
                return Some(run_start);
            }
            if free_len < span {
                // Seat `seat + free_len` is taken: restart after it and the
                // taken seats that follow it in this word.
                let taken_len = u64::from((rest >> free_len).trailing_ones());
                run_start = seat + free_len + taken_len;
                run_len = 0;
            }
        }
        None
    }
}

/// Appends the runs of `won` (bits of word `word`) to `runs`, merging with
/// the last run when contiguous. `Err` if `runs` cannot grow.
fn push_runs(runs: &mut Vec<Range<u64>>, word: usize, won: u64) -> Result<(), ()> {
    let mut result = Ok(());
    for_each_run(word, won, |run| {
        if result.is_err() {
            return;
        }
        match runs.last_mut() {
            Some(last) if last.end == run.start => last.end = run.end,
            _ => match runs.try_reserve(1) {
                Ok(()) => runs.push(run),
                Err(_) => result = Err(()),
            },
        }
    });
    result
}

/// A search that wrapped pushed the runs at or after its first word, then
/// those before it: rotate them into ascending order and merge the two that
/// may meet at the seam.
fn sort_runs(runs: &mut Vec<Range<u64>>) {
    if let Some(seam) = runs
        .windows(2)
        .position(|pair| pair[1].start < pair[0].start)
    {
        runs.rotate_left(seam + 1);
    }
    runs.dedup_by(|next, previous| {
        if previous.end == next.start {
            previous.end = next.end;
            true
        } else {
            false
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn runs_merge_within_and_across_words_and_sort_after_a_wrap() {
        let mut runs = Vec::new();
        push_runs(&mut runs, 1, 0b0111 | 1 << 63).unwrap();
        push_runs(&mut runs, 2, 0b11).unwrap();
        assert_eq!(runs, [64..67, 127..130]);
        push_runs(&mut runs, 0, 0b1).unwrap();
        push_runs(&mut runs, 0, 1 << 63).unwrap();
        sort_runs(&mut runs);
        assert_eq!(runs, [0..1, 63..67, 127..130]);
    }
}

//! Searches: any `n` free seats, or `n` adjacent ones.
//!
//! Both start at a caller-chosen word (the public map passes a per-thread
//! hint, as the Linux kernel's `sbitmap` does) so that concurrent searchers
//! spread over the map instead of all fighting for the first free word, and
//! both wrap around the map once at most: every search is bounded.
//!
//! Both are all-or-nothing: if they cannot get `n` seats they give back what
//! they took and return [`NotEnough`]. While they run, seats they took and
//! will give back are visible as taken (as for `reserve_all`).

use super::RawSeatMap;
use super::all_or_nothing::WordClaim;
use crate::error::NotEnough;
use crate::layout::{
    BITS, bit_of, first_seat_of, for_each_seat, lowest_bits, mask_of, valid_bits, word_of,
};
use crate::sync::{AtomicWord, Ordering};

impl<W: AtomicWord> RawSeatMap<W> {
    /// Reserves `n` free seats wherever they are, starting at word `start`
    /// (taken modulo the word count). Returns the seats, ascending within
    /// each word, and the word where the search ended (the next hint).
    ///
    /// One `fetch_or` per word it takes seats from; another on the same
    /// word only if a racer took a picked bit first (progress for the racer,
    /// so the search stays lock-free).
    pub(crate) fn reserve_any_from(
        &self,
        n: u64,
        start: usize,
    ) -> Result<(Vec<u64>, usize), NotEnough> {
        let words = self.words.len();
        let start = start % words;
        if n == 0 {
            return Ok((Vec::new(), start));
        }
        if n > self.capacity {
            return Err(self.not_enough(n));
        }
        let mut seats = Vec::with_capacity(usize::try_from(n.min(4096)).unwrap_or(4096));
        let mut needed = n;
        for index in (start..words).chain(0..start) {
            let word = &self.words[index];
            let valid = valid_bits(index, self.capacity);
            // Relaxed: the value only chooses which bits to try; the
            // fetch_or below acts on the latest value whatever we saw.
            let mut current = word.load(Ordering::Relaxed);
            loop {
                let free = !current & valid;
                if free == 0 {
                    break;
                }
                let pick = lowest_bits(free, needed);
                // Acquire: as for every claim (see `claim.rs`).
                let before = word.fetch_or(pick, Ordering::Acquire);
                let won = pick & !before;
                if won != 0 {
                    for_each_seat(index, won, |s| seats.push(s));
                    needed -= u64::from(won.count_ones());
                    if needed == 0 {
                        return Ok((seats, index));
                    }
                }
                current = before | pick;
            }
        }
        // Give back what we took. The seats were pushed word by word, so
        // each word's seats are adjacent: one `fetch_and` per word.
        let claimed: Vec<WordClaim> = seats
            .chunk_by(|a, b| word_of(*a) == word_of(*b))
            .map(|run| WordClaim {
                word: word_of(run[0]),
                mask: run.iter().fold(0, |mask, &s| mask | mask_of(s)),
            })
            .collect();
        self.unclaim(&claimed);
        Err(self.not_enough(n))
    }

    /// Reserves `n` adjacent seats (a run that may span words, never wrapping
    /// from the last seat to the first), trying runs that start at or after
    /// seat `start` first, then those before it. Returns the run's first
    /// seat and the word where it ends (the next hint).
    pub(crate) fn reserve_adjacent_from(
        &self,
        n: u64,
        start: u64,
    ) -> Result<(u64, usize), NotEnough> {
        let start = start % self.capacity;
        if n == 0 {
            return Ok((start, word_of(start)));
        }
        if n > self.capacity {
            return Err(self.not_enough(n));
        }
        for (mut from, limit) in [(start, self.capacity), (0, start)] {
            while let Some(first) = self.find_free_run(from, limit, n) {
                let groups = run_groups(first, n);
                match self.claim_all(&groups) {
                    Ok(()) => return Ok((first, word_of(first + n - 1))),
                    Err(conflict) => {
                        // A racer took a seat of the run: no run containing
                        // that seat can work, so go on just past it.
                        let group = groups[conflict.group];
                        let taken = conflict.seen & group.mask;
                        from = first_seat_of(group.word) + u64::from(taken.trailing_zeros()) + 1;
                    }
                }
            }
        }
        Err(self.not_enough(n))
    }

    /// The first seat `s` with `from <= s < limit` such that seats
    /// `s..s + n` all looked free (plain loads: a candidate, not a claim).
    fn find_free_run(&self, from: u64, limit: u64, n: u64) -> Option<u64> {
        let mut run_start = from;
        let mut run_len = 0;
        while run_start < limit && n <= self.capacity - run_start {
            let seat = run_start + run_len;
            let index = word_of(seat);
            let offset = bit_of(seat);
            // Relaxed: a candidate only; `claim_all` validates it. Seats past
            // the capacity count as taken.
            let taken =
                self.words[index].load(Ordering::Relaxed) | !valid_bits(index, self.capacity);
            // Bit 0 of `rest` is `seat`; its high `offset` bits are shifted-in
            // zeros, so every count below is capped by `span`.
            let rest = taken >> offset;
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

    /// The error for a search that gave up, with the current free count.
    fn not_enough(&self, requested: u64) -> NotEnough {
        NotEnough {
            requested,
            free: self.free_count(),
        }
    }
}

/// The word claims covering seats `first..first + n`, ascending.
fn run_groups(first: u64, n: u64) -> Vec<WordClaim> {
    let last = first + n - 1;
    (word_of(first)..=word_of(last))
        .map(|word| {
            let low = first.max(first_seat_of(word));
            let high = last.min(first_seat_of(word) + BITS - 1);
            let len = high - low + 1;
            let ones = if len == BITS {
                u64::MAX
            } else {
                (1 << len) - 1
            };
            WordClaim {
                word,
                mask: ones << bit_of(low),
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn run_groups_cover_exactly_the_run() {
        assert_eq!(
            run_groups(3, 2),
            [WordClaim {
                word: 0,
                mask: 0b11000
            }]
        );
        assert_eq!(
            run_groups(62, 4),
            [
                WordClaim {
                    word: 0,
                    mask: 0b11 << 62
                },
                WordClaim {
                    word: 1,
                    mask: 0b11
                },
            ]
        );
        assert_eq!(
            run_groups(64, 129),
            [
                WordClaim {
                    word: 1,
                    mask: u64::MAX
                },
                WordClaim {
                    word: 2,
                    mask: u64::MAX
                },
                WordClaim { word: 3, mask: 1 },
            ]
        );
    }
}

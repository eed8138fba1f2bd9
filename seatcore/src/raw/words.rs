//! The primitives every operation shares, each written once: which word a
//! seat is in, claiming and giving back a group of bits in one word, and
//! grouping a list of seats by word.

use std::ops::Range;

use super::RawSeatMap;
use crate::layout::{mask_of, range_mask, word_of};
use crate::sync::{AtomicWord, Ordering};

/// One word's share of a multi-word claim.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(super) struct WordClaim {
    /// Word index.
    pub(super) word: usize,
    /// The bits to claim in it (never 0).
    pub(super) mask: u64,
}

/// A claim that failed: which group hit a taken seat, and the word's value.
#[derive(Debug, Clone, Copy)]
pub(super) struct ClaimConflict {
    /// Index into the groups of the word that had a taken seat.
    pub(super) group: usize,
    /// The value of that word the failing CAS (or load) saw.
    pub(super) seen: u64,
}

/// Lists up to this long are grouped by word without sorting or allocating
/// (a `u32` records which positions are done).
pub(super) const SHORT_LIST: usize = 16;

impl<W: AtomicWord> RawSeatMap<W> {
    /// The index of `seat`'s word, or `None` if it is off the map.
    #[inline]
    pub(super) fn word_index(&self, seat: u64) -> Option<usize> {
        (seat < self.capacity).then(|| word_of(seat))
    }

    /// Sets all of `group.mask` with one successful CAS if none of those bits
    /// is set; otherwise returns the word it saw and changes nothing.
    ///
    /// The CAS is retried only when another caller changed *other* bits of
    /// the word in between, which is progress for that caller: lock-free.
    pub(super) fn claim_word(&self, group: WordClaim) -> Result<(), u64> {
        let word = &self.words[group.word];
        // Relaxed: this value only proposes the CAS below, which validates it.
        let mut current = word.load(Ordering::Relaxed);
        loop {
            if current & group.mask != 0 {
                return Err(current);
            }
            match word.compare_exchange(
                current,
                current | group.mask,
                // Acquire on success: pairs with the Release of whoever freed
                // these seats, as for any claim (see `claim.rs`).
                Ordering::Acquire,
                // Relaxed on failure: the value seen only feeds the next try.
                Ordering::Relaxed,
            ) {
                Ok(_) => return Ok(()),
                // Feed the value back in rather than loading again.
                Err(actual) => current = actual,
            }
        }
    }

    /// Claims every group (ascending words) or none. On conflict every
    /// group already claimed has been given back when this returns.
    pub(super) fn claim_all(&self, groups: &[WordClaim]) -> Result<(), ClaimConflict> {
        for (index, group) in groups.iter().enumerate() {
            if let Err(seen) = self.claim_word(*group) {
                self.unclaim(&groups[..index]);
                return Err(ClaimConflict { group: index, seen });
            }
        }
        Ok(())
    }

    /// Gives back claimed groups: one `fetch_and` per word (a rollback is a
    /// release, with the same ordering and summary upkeep).
    pub(super) fn unclaim(&self, groups: &[WordClaim]) {
        for group in groups {
            self.free_bits(group.word, group.mask);
        }
    }

    /// Calls `apply(word, mask, positions)` once per word that in-range
    /// seats of `seats` fall in: `mask` has their bits, `positions` their
    /// indices into `seats`, in request order. Words come in order of first
    /// appearance for short lists, ascending for long ones.
    pub(super) fn for_each_word_group(
        &self,
        seats: &[u64],
        mut apply: impl FnMut(usize, u64, &[usize]),
    ) {
        if seats.len() <= SHORT_LIST {
            self.group_short_list(seats, &mut apply);
        } else {
            let mut positions: Vec<usize> = (0..seats.len())
                .filter(|&i| seats[i] < self.capacity)
                .collect();
            // Stable: within a word, positions keep request order.
            positions.sort_by_key(|&i| word_of(seats[i]));
            for group in positions.chunk_by(|&a, &b| word_of(seats[a]) == word_of(seats[b])) {
                let mask = group.iter().fold(0, |mask, &i| mask | mask_of(seats[i]));
                apply(word_of(seats[group[0]]), mask, group);
            }
        }
    }

    /// Short lists, the usual request: gather each word's positions in one
    /// pass over the rest of the list. At most `SHORT_LIST²` comparisons, no
    /// sort and no allocation.
    fn group_short_list(&self, seats: &[u64], apply: &mut impl FnMut(usize, u64, &[usize])) {
        // Bit `i` set: position `i` is already in a group. (Out-of-range
        // positions are skipped by the range check instead.)
        let mut grouped: u32 = 0;
        let mut group = [0; SHORT_LIST];
        for first in 0..seats.len() {
            if grouped & (1 << first) != 0 || seats[first] >= self.capacity {
                continue;
            }
            let word = word_of(seats[first]);
            let (mut len, mut mask) = (0, 0);
            for (i, &seat) in seats.iter().enumerate().skip(first) {
                if seat < self.capacity && word_of(seat) == word {
                    grouped |= 1 << i;
                    group[len] = i;
                    len += 1;
                    mask |= mask_of(seat);
                }
            }
            apply(word, mask, &group[..len]);
        }
    }
}

/// The word claims covering the seats of `range` (non-empty), ascending.
pub(super) fn range_groups(range: &Range<u64>) -> impl Iterator<Item = WordClaim> + '_ {
    let last = range.end - 1;
    (word_of(range.start)..=word_of(last)).map(move |word| WordClaim {
        word,
        mask: range_mask(word, range),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn range_groups_cover_exactly_the_run() {
        let groups = |r: Range<u64>| range_groups(&r).collect::<Vec<_>>();
        assert_eq!(
            groups(3..5),
            [WordClaim {
                word: 0,
                mask: 0b11000
            }]
        );
        assert_eq!(
            groups(62..66),
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
            groups(64..193),
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

//! A set of seats claimed whole or not at all.
//!
//! The seats are grouped by word and the words claimed in **ascending
//! order**, each with one compare-and-swap that sets all of that word's bits
//! only if none of them is set. If a word has a taken seat, the words already
//! claimed are given back (one `fetch_and` each) and the call fails.
//!
//! What an observer can see (the full argument is in `docs/design.md`):
//! between the first CAS and the rollback, the seats of the words already
//! claimed are set. A concurrent `reserve` of one of them can fail with
//! `Taken` although the claim then rolls back; a concurrent reader can count
//! them. No seat is ever held by two callers, because every bit is set only
//! by a CAS or `fetch_or` that saw it 0, and a rollback clears only bits this
//! call set.
//!
//! Two all-or-nothing claims that share seats cannot both fail because of
//! each other: the one that wins the lowest shared word goes on, and the
//! other never claims any word above it.

use super::RawSeatMap;
use crate::error::AllOrNothingError;
use crate::layout::{for_each_seat, mask_of, word_of};
use crate::sync::{AtomicWord, Ordering};

/// One word's share of a multi-word claim.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
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

impl<W: AtomicWord> RawSeatMap<W> {
    /// Reserves every seat of `seats`, or none of them.
    pub(crate) fn reserve_all(&self, seats: &[u64]) -> Result<(), AllOrNothingError> {
        let out_of_range: Vec<u64> = seats
            .iter()
            .copied()
            .filter(|&s| s >= self.capacity)
            .collect();
        if !out_of_range.is_empty() {
            return Err(AllOrNothingError::OutOfRange {
                seats: out_of_range,
                capacity: self.capacity,
            });
        }
        let mut sorted = seats.to_vec();
        sorted.sort_unstable();
        if let Some(pair) = sorted.windows(2).find(|pair| pair[0] == pair[1]) {
            return Err(AllOrNothingError::Duplicate { seat: pair[0] });
        }
        let groups: Vec<WordClaim> = sorted
            .chunk_by(|a, b| word_of(*a) == word_of(*b))
            .map(|run| WordClaim {
                word: word_of(run[0]),
                mask: run.iter().fold(0, |mask, &s| mask | mask_of(s)),
            })
            .collect();
        self.claim_all(&groups)
            .map_err(|conflict| AllOrNothingError::Conflict {
                taken: self.taken_in(&groups, conflict),
            })
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

    /// Sets all of `group.mask` with one successful CAS if none of those bits
    /// is set; otherwise returns the word it saw and changes nothing.
    ///
    /// The CAS is retried only when another caller changed *other* bits of
    /// the word in between, which is progress for that caller: lock-free.
    fn claim_word(&self, group: WordClaim) -> Result<(), u64> {
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

    /// Gives back claimed groups: one `fetch_and` per word.
    pub(super) fn unclaim(&self, groups: &[WordClaim]) {
        for group in groups {
            // Release: the rollback is a release of these seats, and pairs
            // with the Acquire of their next claim.
            self.words[group.word].fetch_and(!group.mask, Ordering::Release);
        }
    }

    /// The seats of `groups` found taken: exact for the conflicting word,
    /// a plain read for the words after it.
    fn taken_in(&self, groups: &[WordClaim], conflict: ClaimConflict) -> Vec<u64> {
        let mut taken = Vec::new();
        let failed = groups[conflict.group];
        for_each_seat(failed.word, conflict.seen & failed.mask, |s| taken.push(s));
        for group in &groups[conflict.group + 1..] {
            // Relaxed: only a hint for the error report; nothing is claimed.
            let seen = self.words[group.word].load(Ordering::Relaxed);
            for_each_seat(group.word, seen & group.mask, |s| taken.push(s));
        }
        taken
    }
}

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
use super::words::{ClaimConflict, SHORT_LIST, WordClaim};
use crate::error::AllOrNothingError;
use crate::layout::{for_each_seat, mask_of, word_of};
use crate::sync::{AtomicWord, Ordering};

impl<W: AtomicWord> RawSeatMap<W> {
    /// Reserves every seat of `seats`, or none of them. Lists of up to
    /// `SHORT_LIST` seats are sorted and grouped on the stack: no heap
    /// unless the claim fails.
    pub(crate) fn reserve_all(&self, seats: &[u64]) -> Result<(), AllOrNothingError> {
        if let Some(&seat) = seats.iter().find(|&&s| s >= self.capacity) {
            return Err(AllOrNothingError::OutOfRange {
                seat,
                capacity: self.capacity,
            });
        }
        if seats.len() <= SHORT_LIST {
            let mut sorted = [0; SHORT_LIST];
            let sorted = &mut sorted[..seats.len()];
            sorted.copy_from_slice(seats);
            let mut groups = [WordClaim::default(); SHORT_LIST];
            let count = group_sorted(sorted, &mut groups)?;
            self.claim_groups(&groups[..count])
        } else {
            let mut sorted = seats.to_vec();
            let mut groups = vec![WordClaim::default(); seats.len()];
            let count = group_sorted(&mut sorted, &mut groups)?;
            self.claim_groups(&groups[..count])
        }
    }

    /// Claims `groups` all or nothing, turning a conflict into the error.
    fn claim_groups(&self, groups: &[WordClaim]) -> Result<(), AllOrNothingError> {
        self.claim_all(groups)
            .map_err(|conflict| AllOrNothingError::Conflict {
                taken: self.taken_in(groups, conflict),
            })
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

/// Sorts `seats`, rejects a repeated seat, and writes one claim per word
/// into `groups` (ascending); returns how many. `groups` has room for one
/// claim per seat.
fn group_sorted(seats: &mut [u64], groups: &mut [WordClaim]) -> Result<usize, AllOrNothingError> {
    seats.sort_unstable();
    if let Some(pair) = seats.windows(2).find(|pair| pair[0] == pair[1]) {
        return Err(AllOrNothingError::Duplicate { seat: pair[0] });
    }
    let mut count = 0;
    for run in seats.chunk_by(|a, b| word_of(*a) == word_of(*b)) {
        groups[count] = WordClaim {
            word: word_of(run[0]),
            mask: run.iter().fold(0, |mask, &s| mask | mask_of(s)),
        };
        count += 1;
    }
    Ok(count)
}

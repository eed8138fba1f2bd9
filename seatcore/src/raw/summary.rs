//! The summary: hint levels above the seat words, so that a search on a huge,
//! nearly full map skips full regions instead of reading every word.
//!
//! | level | bit `i` set means |
//! |---|---|
//! | 0 | seat word `i` *may* have a free seat |
//! | `k + 1` | word `i` of level `k` *may* be non-zero |
//!
//! Each level is a bitset of `AtomicWord`s, one bit per word of the level
//! below, up to a level of one word (a map of one word has no levels; 16 M
//! seats have three: 4096, 64 and 1 words). Memory is 1/64 of the seat
//! words, plus a word per level.
//!
//! The summary is only a hint: correctness rests on the seat words alone
//! (every claim is still a read-modify-write on a seat word). It can be
//! wrong in one harmless direction and never, once quiet, in the other:
//!
//! - **a bit set over a full word** is harmless: a search reads the word,
//!   finds nothing, and clears the bit ([`RawSeatMap::mark_full`]). Plain
//!   reserves never touch the summary, so this is common; that keeps
//!   `reserve` one `fetch_or`.
//! - **a free seat hidden from searches** would make a search answer "not
//!   enough" with seats free. It is prevented by one rule on each side:
//!   - every release is a `fetch_and` with `AcqRel` ordering that, when it
//!     freed a seat, then *loads* the word's summary bit and sets it again
//!     if it is clear ([`RawSeatMap::free_bits`]). Only the freed bit of the
//!     old value is used, so a single-seat release stays one locked
//!     instruction (`lock btr` on x86) plus one load that nearly always
//!     hits a set bit;
//!   - whoever clears a bit ([`RawSeatMap::mark_full`]) re-checks the word
//!     **afterwards with a read-modify-write** that changes nothing
//!     (`fetch_or(0)`), and sets the bit again if the word has a free seat;
//!     if its clear made the summary word zero, it clears the bit above,
//!     with the same re-check.
//!
//! Why no free seat stays hidden: a release's `fetch_and` and a clearer's
//! re-check both read-modify-write the seat word, so one precedes the other
//! in its modification order. If the release comes first, the re-check
//! reads the freed seat (or a later value) and sets the bit. If the re-check
//! comes first, the release reads it, and since the re-check is `Release`
//! and the release `Acquire`, the clear (sequenced before the re-check)
//! happens before the release's summary load, which therefore sees the bit
//! clear (or set again by someone) and sets it. With a plain load as the
//! re-check, each side could read the other's location before the other's
//! write (store buffering), and both would do nothing. Above level 0 the
//! same rules hold between a summary word and its parent; there a setter is
//! `mark_nonempty`, a `fetch_or` with `Release`, and the clear is `Acquire`.
//! The loom models in `tests/loom_summary.rs` check these races, and fail
//! when the re-check is a load, when the release is not `Acquire`, or when
//! the release skips the summary.

use crate::layout::{BITS, is_full, low_mask, valid_bits};
use crate::sync::{AtomicWord, Ordering};

use super::{RawSeatMap, try_boxed_words};

/// The hint levels; see the module docs.
pub(super) struct Summary<W> {
    /// `levels[0]` has one bit per seat word, `levels[k + 1]` one bit per
    /// word of `levels[k]`; the last level has one word. Empty for a map of
    /// one word.
    levels: Box<[Box<[W]>]>,
}

impl<W: AtomicWord> Summary<W> {
    /// A summary over `seat_words` words, every bit set (all seats free).
    /// `None` if the memory cannot be had.
    pub(super) fn new(seat_words: usize) -> Option<Self> {
        let mut levels = Vec::new();
        let mut children = seat_words;
        while children > 1 {
            let count = children.div_ceil(BITS as usize);
            let mut level: Box<[W]> = try_boxed_words(count)?;
            for (index, word) in level.iter_mut().enumerate() {
                let here = (children - index * BITS as usize) as u64;
                word.set_exclusive(low_mask(here));
            }
            levels.push(level);
            children = count;
        }
        Some(Summary {
            levels: levels.into_boxed_slice(),
        })
    }

    /// The lowest child `i >= from` whose bit at `level` is set, following
    /// the levels above to skip clear regions. A stale bit above (set over a
    /// zero word) costs one read and the search goes on past it.
    fn find(&self, level: usize, from: usize) -> Option<usize> {
        let words = &self.levels[level];
        let mut word = from / BITS as usize;
        // Relaxed, here and below: a hint only; whatever is found is
        // validated by reading (and claiming) the seat word itself.
        let mut bits = words.get(word)?.load(Ordering::Relaxed) & (u64::MAX << (from % 64));
        loop {
            if bits != 0 {
                return Some(word * BITS as usize + bits.trailing_zeros() as usize);
            }
            word = if level + 1 < self.levels.len() {
                self.find(level + 1, word + 1)?
            } else {
                word + 1
            };
            bits = words.get(word)?.load(Ordering::Relaxed);
        }
    }

    /// Sets or clears the path of bits above one child through exclusive
    /// access: `nonempty` says whether the child has anything free.
    fn set_path_mut(&mut self, mut child: usize, mut nonempty: bool) {
        for level in self.levels.iter_mut() {
            let word = &mut level[child / BITS as usize];
            let bit = 1 << (child % BITS as usize);
            let value = word.get_exclusive();
            let new = if nonempty { value | bit } else { value & !bit };
            word.set_exclusive(new);
            nonempty = new != 0;
            child /= BITS as usize;
        }
    }
}

impl<W: AtomicWord> RawSeatMap<W> {
    /// The first seat word in `from..limit` that may have a free seat.
    #[inline]
    pub(super) fn next_candidate(&self, from: usize, limit: usize) -> Option<usize> {
        let found = if self.summary.levels.is_empty() {
            Some(from)
        } else {
            self.summary.find(0, from)
        };
        found.filter(|&word| word < limit)
    }

    /// Frees the bits of `mask` in seat word `word` (one `fetch_and`) and
    /// returns the word before. Every release goes through here, so that a
    /// freed seat is never hidden from searches.
    #[inline]
    pub(super) fn free_bits(&self, word: usize, mask: u64) -> u64 {
        // AcqRel. Release: pairs with the Acquire of the next claim of these
        // seats (`claim.rs`). Acquire: if a summary clearer's re-check (a
        // read-modify-write of this word, `mark_full`) came before this in
        // the word's modification order, this synchronizes with it, so the
        // summary load below sees that clear (see the module docs).
        let before = self.words[word].fetch_and(!mask, Ordering::AcqRel);
        if before & mask != 0 {
            self.keep_marked(word);
        }
        before
    }

    /// After a release in seat word `word`: if its summary bit is clear (a
    /// searcher found the word full), set it again. One load when the bit
    /// is set, which is nearly always.
    #[inline]
    fn keep_marked(&self, word: usize) {
        if let Some(level) = self.summary.levels.first() {
            let bit = 1 << (word % BITS as usize);
            // Relaxed: ordered after any clear it must see by the Acquire of
            // the release's read-modify-write (see `free_bits`).
            if level[word / BITS as usize].load(Ordering::Relaxed) & bit == 0 {
                self.mark_free(word);
            }
        }
    }

    /// Seat word `word` has a free seat and its summary bit looked clear:
    /// set it, and the bits above while each summary word goes from zero
    /// to non-zero.
    #[cold]
    fn mark_free(&self, word: usize) {
        self.mark_nonempty(0, word);
    }

    /// A search found seat word `word` full: clear its bit, then re-check
    /// (see the module docs).
    #[cold]
    pub(super) fn mark_full(&self, word: usize) {
        let mut level = 0;
        let mut child = word;
        while let Some(words) = self.summary.levels.get(level) {
            let bit = 1 << (child % BITS as usize);
            // Acquire: pairs with the Release of `mark_nonempty`'s fetch_or,
            // so that the re-check below sees the change that preceded it.
            let before = words[child / BITS as usize].fetch_and(!bit, Ordering::Acquire);
            if before & bit == 0 {
                // Somebody else cleared it; they re-check.
                return;
            }
            if self.child_has_free(level, child) {
                self.mark_nonempty(level, child);
                return;
            }
            if before & !bit != 0 {
                // The summary word still has other bits: nothing to clear above.
                return;
            }
            level += 1;
            child /= BITS as usize;
        }
    }

    /// Sets child `child`'s bit at `level`, climbing while a summary word
    /// goes from zero to non-zero.
    fn mark_nonempty(&self, mut level: usize, mut child: usize) {
        while let Some(words) = self.summary.levels.get(level) {
            let bit = 1 << (child % BITS as usize);
            // Release: a clearer that reads this (Acquire) re-checks after
            // the change that made the child non-empty. A read-modify-write
            // even when the bit looks set, so it is ordered against a
            // concurrent clear in the word's modification order.
            let before = words[child / BITS as usize].fetch_or(bit, Ordering::Release);
            if before != 0 {
                return;
            }
            level += 1;
            child /= BITS as usize;
        }
    }

    /// Whether child `child` of summary level `level` has anything free: a
    /// free seat for level 0, a set bit above. The re-check after a clear.
    fn child_has_free(&self, level: usize, child: usize) -> bool {
        if level == 0 {
            // A read-modify-write that changes nothing (`fetch_or(0)`), not a
            // load: it takes its place in the seat word's modification order,
            // so every release of the word is either before it (and this
            // reads the freed seat) or after it (and that release's Acquire
            // synchronizes with this Release, so its summary load sees our
            // clear and it sets the bit again). With a plain load, this could
            // miss the release while the release's load missed our clear (the
            // store-buffering pattern), and the seat would stay hidden.
            let value = self.words[child].fetch_or(0, Ordering::AcqRel);
            !is_full(value, valid_bits(child, self.capacity))
        } else {
            // Relaxed: above level 0 the setter is `mark_nonempty`, a
            // read-modify-write of *this* summary word (Release) whose own
            // read-modify-write on the parent the clear (Acquire) is ordered
            // against; if the setter's parent update came first, the clear
            // synchronized with it and this load sees the child's bit.
            self.summary.levels[level - 1][child].load(Ordering::Relaxed) != 0
        }
    }

    /// Makes the summary exact for seat word `word`, through exclusive
    /// access (building and replaying maps).
    pub(super) fn resummarize_mut(&mut self, word: usize) {
        let value = self.words[word].get_exclusive();
        let nonempty = !is_full(value, valid_bits(word, self.capacity));
        self.summary.set_path_mut(word, nonempty);
    }

    /// The first place, if any, where something free is hidden: a child
    /// (one of the seat words `seat_words`, or any summary word) with
    /// something free whose bit one level up is clear. Plain loads; for
    /// tests, once every thread has joined (a loom model names the seat
    /// words it touched, to stay within loom's branch budget).
    #[cfg(test)]
    pub(crate) fn hidden_free(&self, seat_words: &[usize]) -> Option<(usize, usize)> {
        for (level, words) in self.summary.levels.iter().enumerate() {
            let children: Vec<usize> = if level == 0 {
                seat_words.to_vec()
            } else {
                (0..self.summary.levels[level - 1].len()).collect()
            };
            for child in children {
                // Relaxed, the three loads: the caller joined every thread,
                // so nothing races with them and joining already ordered
                // every write before them.
                let has_free = if level == 0 {
                    let value = self.words[child].load(Ordering::Relaxed);
                    !is_full(value, valid_bits(child, self.capacity))
                } else {
                    self.summary.levels[level - 1][child].load(Ordering::Relaxed) != 0
                };
                let bit =
                    words[child / BITS as usize].load(Ordering::Relaxed) & (1 << (child % 64));
                if has_free && bit == 0 {
                    return Some((level, child));
                }
            }
        }
        None
    }

    /// Whether the summary says seat word `word` may have a free seat (for
    /// tests).
    #[cfg(test)]
    pub(crate) fn summary_marks(&self, word: usize) -> bool {
        self.summary.levels.first().is_none_or(|level| {
            level[word / BITS as usize].load(Ordering::Relaxed) & (1 << (word % 64)) != 0
        })
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::AtomicU64;

    use super::*;

    type Map = RawSeatMap<AtomicU64>;

    #[test]
    fn levels_are_sized_per_the_table() {
        let sizes = |seats: u64| -> Vec<usize> {
            let map = Map::new(seats).unwrap();
            map.summary.levels.iter().map(|l| l.len()).collect()
        };
        assert_eq!(sizes(64), Vec::<usize>::new());
        assert_eq!(sizes(65), [1]);
        assert_eq!(sizes(64 * 64), [1]);
        assert_eq!(sizes(64 * 64 + 1), [2, 1]);
        assert_eq!(sizes(16 << 20), [4096, 64, 1]);
    }

    #[test]
    fn full_words_are_skipped_once_found_and_found_again_when_freed() {
        let seats = 64 * 64 * 3;
        let map = Map::new(seats).unwrap();
        for word in 0..map.word_count() {
            let _ = map.reserve_range(word as u64 * 64..word as u64 * 64 + 64);
        }
        // Plain claims leave every bit set: harmless.
        assert!(map.summary_marks(100));
        assert_eq!(map.next_candidate(0, map.word_count()), Some(0));
        for word in 0..map.word_count() {
            map.mark_full(word);
        }
        assert_eq!(map.next_candidate(0, map.word_count()), None);
        map.release(100 * 64 + 5).unwrap();
        assert_eq!(map.next_candidate(0, map.word_count()), Some(100));
        assert_eq!(map.next_candidate(101, map.word_count()), None);
    }
}

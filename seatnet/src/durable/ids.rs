//! Request ids and their replies, kept for a bounded window so a retry gets
//! the first reply instead of doing the change again.
//!
//! Bounded by count ([`Ids::MAX_COUNT`]) and by age ([`Ids::MAX_AGE_MS`],
//! by the time stamped on the change's record, so replay evicts exactly as
//! the live server did): an id older than the window, or pushed out by
//! newer ones, is forgotten and a retry with it is a new request.
//!
//! Each map has its own table; the maps of one server share one count
//! ([`Ids::share_total`]), and a map that remembers an id while the server
//! holds more than [`Ids::MAX_COUNT`] in all forgets its own oldest, so
//! many maps together remember at most about as many ids as one (plus one
//! per map).

use std::collections::{HashMap, VecDeque};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

/// One remembered id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Remembered {
    /// The reply, without terminator.
    pub(crate) reply: Box<[u8]>,
    /// When the change was made (ms since the Unix epoch).
    pub(crate) time_ms: u64,
    /// The change's journal seq (0 without a journal).
    pub(crate) seq: u64,
}

/// The id table.
#[derive(Debug, Default)]
pub(crate) struct Ids {
    table: HashMap<Box<str>, Remembered>,
    /// Ids in the order they were remembered, with their seq (an id
    /// forgotten and used again has two entries; only the one whose seq
    /// matches the table's removes it).
    order: VecDeque<(Box<str>, u64, u64)>,
    /// Ids remembered by every map of the server (this one's included).
    total: Arc<AtomicUsize>,
}

impl Ids {
    /// Most ids remembered at once.
    pub(crate) const MAX_COUNT: usize = 100_000;
    /// How long an id is remembered: 24 hours.
    pub(crate) const MAX_AGE_MS: u64 = 24 * 60 * 60 * 1000;

    pub(crate) fn get(&self, id: &str) -> Option<&Remembered> {
        self.table.get(id)
    }

    pub(crate) fn len(&self) -> usize {
        self.table.len()
    }

    /// Counts this table's ids in `total`, shared with the other maps.
    pub(crate) fn share_total(&mut self, total: &Arc<AtomicUsize>) {
        // Relaxed, here and below: the count is a bound on memory, read
        // and written under each map's own id lock; being off by the ids
        // of requests in flight on other maps moves the bound by as many.
        total.fetch_add(self.table.len(), Ordering::Relaxed);
        self.total.fetch_sub(self.table.len(), Ordering::Relaxed);
        self.total = Arc::clone(total);
    }

    /// Every id, oldest first (for snapshots).
    pub(crate) fn iter(&self) -> impl Iterator<Item = (&str, &Remembered)> {
        self.order.iter().filter_map(|(id, seq, _)| {
            let entry = self.table.get(id)?;
            (entry.seq == *seq).then_some((&**id, entry))
        })
    }

    /// Forgets `id` (a change that could not be journaled after all).
    pub(crate) fn remove(&mut self, id: &str) {
        if self.table.remove(id).is_some() {
            // Relaxed: see `share_total`.
            self.total.fetch_sub(1, Ordering::Relaxed);
        }
    }

    /// Remembers `id`, then forgets what fell out of the window. The same
    /// id with the same seq again (replay over a snapshot that already had
    /// it) changes nothing.
    pub(crate) fn insert(&mut self, id: &str, reply: &[u8], time_ms: u64, seq: u64) {
        if self.table.get(id).is_some_and(|e| e.seq == seq && seq != 0) {
            return;
        }
        let id: Box<str> = id.into();
        self.order.push_back((id.clone(), seq, time_ms));
        let replaced = self.table.insert(
            id,
            Remembered {
                reply: reply.into(),
                time_ms,
                seq,
            },
        );
        if replaced.is_none() {
            // Relaxed: see `share_total`.
            self.total.fetch_add(1, Ordering::Relaxed);
        }
        self.evict(time_ms);
    }

    fn evict(&mut self, now_ms: u64) {
        let oldest_kept = now_ms.saturating_sub(Self::MAX_AGE_MS);
        while let Some((id, seq, time)) = self.order.front() {
            // Relaxed: see `share_total`.
            let over = self.order.len() > Self::MAX_COUNT
                || self.total.load(Ordering::Relaxed) > Self::MAX_COUNT;
            // Never this table's newest (the one just remembered).
            if (!over && *time >= oldest_kept) || self.order.len() == 1 {
                break;
            }
            if self.table.get(id).is_some_and(|e| e.seq == *seq) {
                self.table.remove(id);
                // Relaxed: see `share_total`.
                self.total.fetch_sub(1, Ordering::Relaxed);
            }
            self.order.pop_front();
        }
    }
}

impl Drop for Ids {
    fn drop(&mut self) {
        // Relaxed: see `share_total`.
        self.total.fetch_sub(self.table.len(), Ordering::Relaxed);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn maps_sharing_a_count_remember_about_as_many_ids_as_one() {
        let total = Arc::new(AtomicUsize::new(0));
        let mut maps: Vec<Ids> = (0..4).map(|_| Ids::default()).collect();
        for ids in &mut maps {
            ids.share_total(&total);
        }
        for i in 0..Ids::MAX_COUNT as u64 + 100 {
            maps[(i % 4) as usize].insert(&format!("id{i}"), b"OK", 1_000, i + 1);
        }
        // Relaxed: one thread; the tables are all this test's.
        assert!(total.load(Ordering::Relaxed) <= Ids::MAX_COUNT + 4);
        let held: usize = maps.iter().map(Ids::len).sum();
        // Relaxed: as above.
        assert_eq!(held, total.load(Ordering::Relaxed));
        assert!(maps[3].get(&format!("id{}", Ids::MAX_COUNT + 99)).is_some());
        drop(maps.pop());
        let held: usize = maps.iter().map(Ids::len).sum();
        // Relaxed: as above.
        assert_eq!(held, total.load(Ordering::Relaxed));
    }

    #[test]
    fn ids_are_forgotten_by_count_and_by_age() {
        let mut ids = Ids::default();
        for i in 0..Ids::MAX_COUNT as u64 + 10 {
            ids.insert(&format!("id{i}"), b"OK", 1_000, i + 1);
        }
        assert_eq!(ids.len(), Ids::MAX_COUNT);
        assert!(ids.get("id0").is_none() && ids.get("id9").is_none());
        assert!(ids.get("id10").is_some());
        ids.insert("late", b"OK late", 1_000 + Ids::MAX_AGE_MS + 1, 1 << 40);
        assert_eq!(ids.len(), 1);
        assert_eq!(&*ids.get("late").unwrap().reply, b"OK late");
        assert_eq!(ids.iter().count(), 1);
    }
}

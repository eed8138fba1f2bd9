//! The hold table: seats held for a while under a reference, and the
//! references of holds that expired (so they answer `expired`, not
//! `unknown`).
//!
//! A held seat is reserved in the map like a booked one, so it is
//! unavailable to everyone else. One mutex per map: a hold's fate
//! (confirmed, cancelled, extended or expired) is decided by whoever
//! removes or changes its entry under it first, so exactly one outcome
//! wins. Bounded: holds hold seats (no more holds than seats), and the
//! expired references are kept for [`Holds::EXPIRED_AGE_MS`] at most,
//! [`Holds::EXPIRED_KEPT`] at most per map, and
//! [`Holds::EXPIRED_KEPT_IN_ALL`] at most for every map of a server
//! together (one count shared by the maps, as for request ids).

use std::collections::{HashMap, VecDeque};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use parking_lot::Mutex;

use super::bookings::Held;
use crate::durable::state::HoldEntry;
use crate::reference::BookingRef;

/// One open hold.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Hold {
    pub(crate) runs: Held,
    /// Expiry, in ms since the Unix epoch.
    pub(crate) expires_ms: u64,
    /// When it was placed (an `EXTEND` may not push the expiry further
    /// than the maximum hold from here).
    pub(crate) placed_ms: u64,
}

/// Holds and expired references.
#[derive(Debug, Default)]
pub(crate) struct Holds {
    table: Mutex<Table>,
}

#[derive(Debug, Default)]
pub(crate) struct Table {
    pub(crate) open: HashMap<BookingRef, Hold>,
    expired: HashMap<BookingRef, u64>,
    /// Expired references, oldest first, with when they expired.
    expired_order: VecDeque<(BookingRef, u64)>,
    /// Expired references remembered by every map of the server.
    expired_total: Arc<AtomicUsize>,
}

impl Drop for Table {
    fn drop(&mut self) {
        // Relaxed: see `note_expired`.
        self.expired_total
            .fetch_sub(self.expired.len(), Ordering::Relaxed);
    }
}

impl Holds {
    /// Most expired references remembered per map.
    pub(crate) const EXPIRED_KEPT: usize = 10_000;
    /// How long an expired reference is remembered: 24 hours.
    pub(crate) const EXPIRED_AGE_MS: u64 = 24 * 60 * 60 * 1000;
    /// Most expired references remembered by all maps together.
    pub(crate) const EXPIRED_KEPT_IN_ALL: usize = 100_000;

    /// Counts this map's expired references in `total`, shared with the
    /// other maps (before the map is shared).
    pub(crate) fn share_expired_total(&mut self, total: &Arc<AtomicUsize>) {
        let t = self.table.get_mut();
        // Relaxed: see `Table::note_expired`.
        total.fetch_add(t.expired.len(), Ordering::Relaxed);
        // Relaxed: as above.
        t.expired_total
            .fetch_sub(t.expired.len(), Ordering::Relaxed);
        t.expired_total = Arc::clone(total);
    }

    /// The table, locked (every decision about a hold is made under it).
    pub(crate) fn lock(&self) -> parking_lot::MutexGuard<'_, Table> {
        self.table.lock()
    }

    /// Every open hold and expired reference (for snapshots).
    pub(crate) fn entries(&self) -> (Vec<HoldEntry>, Vec<(u128, u64)>) {
        let t = self.table.lock();
        let holds = t
            .open
            .iter()
            .map(|(r, h)| HoldEntry {
                reference: r.to_raw(),
                runs: h.runs.clone(),
                expires_ms: h.expires_ms,
                placed_ms: h.placed_ms,
            })
            .collect();
        let expired = t
            .expired_order
            .iter()
            .filter(|(r, at)| t.expired.get(r) == Some(at))
            .map(|(r, at)| (r.to_raw(), *at))
            .collect();
        (holds, expired)
    }

    /// How many holds are open.
    pub(crate) fn len(&self) -> usize {
        self.table.lock().open.len()
    }
}

impl Table {
    /// Draws a reference no open hold uses, with `is_used` saying whether
    /// a booking does, and records `hold` under it.
    pub(crate) fn insert(
        &mut self,
        hold: Hold,
        is_used: impl Fn(BookingRef) -> bool,
    ) -> BookingRef {
        loop {
            let reference = BookingRef::random();
            // A repeat of 128 random bits does not happen; if it did,
            // draw again rather than overwrite someone's hold or booking.
            if !self.open.contains_key(&reference)
                && !self.expired.contains_key(&reference)
                && !is_used(reference)
            {
                self.open.insert(reference, hold);
                return reference;
            }
        }
    }

    /// Whether `reference` is a hold that expired (and is still
    /// remembered).
    pub(crate) fn is_expired(&self, reference: BookingRef) -> bool {
        self.expired.contains_key(&reference)
    }

    /// Remembers that `reference` expired at `at_ms`, then forgets what
    /// fell out of the window.
    pub(crate) fn note_expired(&mut self, reference: BookingRef, at_ms: u64) {
        match self.expired.insert(reference, at_ms) {
            Some(before) if before == at_ms => return, // replayed over a snapshot that had it
            Some(_) => {}
            // Relaxed, here and below: the count is a bound on memory,
            // changed under each map's own table lock; other maps'
            // changes in flight move the bound by as many.
            None => {
                self.expired_total.fetch_add(1, Ordering::Relaxed);
            }
        }
        self.expired_order.push_back((reference, at_ms));
        let oldest_kept = at_ms.saturating_sub(Holds::EXPIRED_AGE_MS);
        while let Some(&(r, at)) = self.expired_order.front() {
            // Relaxed: as above.
            let over = self.expired_order.len() > Holds::EXPIRED_KEPT
                || self.expired_total.load(Ordering::Relaxed) > Holds::EXPIRED_KEPT_IN_ALL;
            // Never this map's newest (the one just noted).
            if (!over && at >= oldest_kept) || self.expired_order.len() == 1 {
                break;
            }
            if self.expired.get(&r) == Some(&at) {
                self.expired.remove(&r);
                // Relaxed: as above.
                self.expired_total.fetch_sub(1, Ordering::Relaxed);
            }
            self.expired_order.pop_front();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn maps_sharing_a_count_keep_at_most_the_bound_in_all() {
        let total = Arc::new(AtomicUsize::new(0));
        let mut maps: Vec<Holds> = (0..20).map(|_| Holds::default()).collect();
        for holds in &mut maps {
            holds.share_expired_total(&total);
        }
        for i in 0..Holds::EXPIRED_KEPT_IN_ALL + 50 {
            maps[i % 20]
                .lock()
                .note_expired(BookingRef::random(), 1_000);
        }
        let kept: usize = maps.iter().map(|h| h.entries().1.len()).sum();
        // Relaxed: one thread; the tables are all this test's.
        assert_eq!(kept, total.load(Ordering::Relaxed));
        assert!(kept <= Holds::EXPIRED_KEPT_IN_ALL + 20, "{kept}");
        drop(maps);
        // Relaxed: as above.
        assert_eq!(total.load(Ordering::Relaxed), 0);
    }

    #[test]
    fn expired_references_are_bounded_by_count_and_age() {
        let holds = Holds::default();
        let mut t = holds.lock();
        let refs: Vec<_> = (0..Holds::EXPIRED_KEPT + 5)
            .map(|_| {
                let r = BookingRef::random();
                t.note_expired(r, 1_000);
                r
            })
            .collect();
        assert!(!t.is_expired(refs[0]) && !t.is_expired(refs[4]));
        assert!(t.is_expired(refs[5]));
        let late = BookingRef::random();
        t.note_expired(late, 1_000 + Holds::EXPIRED_AGE_MS + 1);
        assert!(!t.is_expired(refs[5]) && t.is_expired(late));
        drop(t);
        assert_eq!(holds.entries().1.len(), 1);
    }
}

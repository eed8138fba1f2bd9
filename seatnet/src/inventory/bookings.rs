//! The booking table: which seats each booking reference holds.
//!
//! Touched only by `BOOK`, `ALL`, `ANY`, `TOGETHER` and `CANCEL`, never by
//! original requests, so one mutex is off the hot path. Bounded: a booking
//! holds at least one seat and a seat is held by at most one booking, so
//! there are never more bookings, or booked seats, than seats.

use std::collections::HashMap;
use std::ops::Range;

use parking_lot::Mutex;

use crate::reference::BookingRef;

/// The seats of one booking (library seats, from 0) as ascending,
/// disjoint runs: a booking of adjacent seats is one run however many.
pub(crate) type Held = Vec<Range<u64>>;

/// Booking references and their seats.
///
/// A `CANCEL` looks its reference up by hash (the standard library's
/// randomly keyed SipHash) and the match inside the bucket is decided by
/// `BookingRef`'s constant-time `eq`, so its timing does not reveal how
/// much of a guess was right.
#[derive(Debug)]
pub(crate) struct Bookings {
    table: Mutex<HashMap<BookingRef, Held>>,
}

impl Bookings {
    pub(crate) fn new() -> Self {
        Bookings {
            table: Mutex::new(HashMap::new()),
        }
    }

    /// Records `held` under a fresh reference and returns it.
    pub(crate) fn insert(&self, held: Held) -> BookingRef {
        let mut table = self.table.lock();
        loop {
            let reference = BookingRef::random();
            // A repeat of 128 random bits does not happen; if it did,
            // draw again rather than overwrite someone's booking.
            if let std::collections::hash_map::Entry::Vacant(slot) = table.entry(reference) {
                slot.insert(held);
                return reference;
            }
        }
    }

    /// Records `held` under a known reference (replay, and undoing a
    /// cancel that could not be journaled).
    pub(crate) fn insert_as(&self, reference: BookingRef, held: Held) {
        self.table.lock().insert(reference, held);
    }

    /// The seats of a booking, if it exists.
    pub(crate) fn get(&self, reference: BookingRef) -> Option<Held> {
        self.table.lock().get(&reference).cloned()
    }

    /// Every booking (for snapshots).
    pub(crate) fn entries(&self) -> Vec<(u128, Held)> {
        let table = self.table.lock();
        table.iter().map(|(r, h)| (r.to_raw(), h.clone())).collect()
    }

    /// Removes a booking and returns its seats, if it exists.
    pub(crate) fn remove(&self, reference: BookingRef) -> Option<Held> {
        self.table.lock().remove(&reference)
    }

    /// How many bookings are open.
    pub(crate) fn len(&self) -> usize {
        self.table.lock().len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A booking of one run.
    fn held(run: Range<u64>) -> Held {
        vec![run]
    }

    #[test]
    fn references_are_distinct_and_removed_once() {
        let b = Bookings::new();
        let refs: Vec<_> = (0..1000).map(|i| b.insert(held(i..i + 1))).collect();
        let unique: std::collections::HashSet<String> =
            refs.iter().map(ToString::to_string).collect();
        assert_eq!(unique.len(), 1000);
        assert_eq!(b.len(), 1000);
        assert_eq!(b.remove(refs[3]), Some(held(3..4)));
        assert_eq!(b.remove(refs[3]), None);
        assert_eq!(b.len(), 999);
    }

    #[test]
    fn two_servers_hand_out_different_references() {
        let (a, b) = (Bookings::new(), Bookings::new());
        assert_ne!(a.insert(held(0..1)), b.insert(held(0..1)));
    }
}

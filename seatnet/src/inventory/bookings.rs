//! The booking table: which seats each booking reference holds.
//!
//! Touched only by `BOOK`, `ALL`, `ANY`, `TOGETHER` and `CANCEL`, never by
//! original requests, so one mutex is off the hot path. Bounded: a booking
//! holds at least one seat and a seat is held by at most one booking, so
//! there are never more bookings, or booked seats, than seats.

use std::collections::HashMap;
use std::fmt;
use std::hash::{BuildHasher, RandomState};
use std::ops::Range;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};

use parking_lot::Mutex;

/// A booking reference: 128 bits, written as 32 lowercase hex digits.
///
/// References are `SipHash(key, counter)` for a random key drawn by the
/// standard library from the operating system when the server starts (two
/// hashes, 64 bits each): without the key a client cannot derive another
/// client's reference from its own, so only the holder can cancel.
///
/// # Examples
///
/// ```
/// use seatnet::BookingRef;
///
/// let r = BookingRef::from_raw(0xabc);
/// assert_eq!(r.to_string(), "00000000000000000000000000000abc");
/// assert_eq!(BookingRef::from_text(&r.to_string()), Some(r));
/// assert_eq!(BookingRef::from_text("abc"), None);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct BookingRef(u128);

impl BookingRef {
    /// The number of hex digits in a written reference.
    pub const LEN: usize = 32;

    /// A reference with this value (tests and tools).
    #[must_use]
    pub const fn from_raw(value: u128) -> Self {
        BookingRef(value)
    }

    /// Its value (the inverse of [`from_raw`](Self::from_raw)).
    #[must_use]
    pub const fn to_raw(self) -> u128 {
        self.0
    }

    /// Reads a written reference: exactly 32 hex digits, either case.
    #[must_use]
    pub fn from_text(text: &str) -> Option<Self> {
        if text.len() != Self::LEN || !text.bytes().all(|b| b.is_ascii_hexdigit()) {
            return None;
        }
        u128::from_str_radix(text, 16).ok().map(BookingRef)
    }
}

impl fmt::Display for BookingRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:032x}", self.0)
    }
}

/// The seats of one booking (library seats, from 0) as ascending,
/// disjoint runs: a booking of adjacent seats is one run however many.
pub(crate) type Held = Vec<Range<u64>>;

/// Booking references and their seats.
#[derive(Debug)]
pub(crate) struct Bookings {
    table: Mutex<HashMap<BookingRef, Held>>,
    key: RandomState,
    counter: AtomicU64,
}

impl Bookings {
    pub(crate) fn new() -> Self {
        Bookings {
            table: Mutex::new(HashMap::new()),
            key: RandomState::new(),
            counter: AtomicU64::new(0),
        }
    }

    /// Records `held` under a fresh reference and returns it.
    pub(crate) fn insert(&self, held: Held) -> BookingRef {
        let mut table = self.table.lock();
        loop {
            let reference = self.next_reference();
            // A repeat would need a 128-bit hash collision; if it happens,
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
        table.iter().map(|(r, h)| (r.0, h.clone())).collect()
    }

    /// Removes a booking and returns its seats, if it exists.
    pub(crate) fn remove(&self, reference: BookingRef) -> Option<Held> {
        self.table.lock().remove(&reference)
    }

    /// How many bookings are open.
    pub(crate) fn len(&self) -> usize {
        self.table.lock().len()
    }

    fn next_reference(&self) -> BookingRef {
        // Relaxed: the counter only has to hand out distinct values, which
        // any RMW does; it orders nothing else.
        let n = self.counter.fetch_add(1, Relaxed);
        let high = self.key.hash_one((n, 0u8));
        let low = self.key.hash_one((n, 1u8));
        BookingRef((u128::from(high) << 64) | u128::from(low))
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
    fn references_are_distinct_and_round_trip() {
        let b = Bookings::new();
        let refs: Vec<_> = (0..1000).map(|i| b.insert(held(i..i + 1))).collect();
        let unique: std::collections::HashSet<_> = refs.iter().collect();
        assert_eq!(unique.len(), 1000);
        assert_eq!(b.len(), 1000);
        for r in &refs {
            assert_eq!(BookingRef::from_text(&r.to_string()), Some(*r));
            assert_eq!(
                BookingRef::from_text(&r.to_string().to_uppercase()),
                Some(*r)
            );
        }
        assert_eq!(b.remove(refs[3]), Some(held(3..4)));
        assert_eq!(b.remove(refs[3]), None);
        assert_eq!(b.len(), 999);
    }

    #[test]
    fn two_servers_hand_out_different_references() {
        let (a, b) = (Bookings::new(), Bookings::new());
        assert_ne!(a.insert(held(0..1)), b.insert(held(0..1)));
    }

    #[test]
    fn malformed_references_are_rejected() {
        for text in [
            "",
            "0",
            "+0000000000000000000000000000000",
            &"g".repeat(32),
            &"0".repeat(33),
        ] {
            assert_eq!(BookingRef::from_text(text), None, "{text:?}");
        }
    }
}

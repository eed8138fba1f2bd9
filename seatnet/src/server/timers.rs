//! The poller's deadlines: one min-heap of `(deadline, token, generation)`.
//!
//! Entries are never removed early: a connection that closes, or whose
//! deadline moves, leaves its old entry behind, and the poller checks a
//! popped entry against the connection's current state (the generation
//! tells a reused token's new connection from the old one). A connection
//! pushes a new entry only when its deadline moves earlier than the one it
//! has scheduled, so the heap holds a few entries per connection.

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::time::Instant;

/// A connection's token in the poller and the generation of the connection
/// that holds it.
pub(crate) type Key = (usize, u64);

/// Deadlines, earliest first.
#[derive(Debug, Default)]
pub(crate) struct Timers {
    heap: BinaryHeap<Reverse<(Instant, usize, u64)>>,
}

impl Timers {
    pub(crate) fn push(&mut self, at: Instant, (token, generation): Key) {
        self.heap.push(Reverse((at, token, generation)));
    }

    /// The earliest deadline, if any.
    pub(crate) fn next(&self) -> Option<Instant> {
        self.heap.peek().map(|Reverse((at, ..))| *at)
    }

    /// Removes and returns an entry due at `now`, if any.
    pub(crate) fn pop_due(&mut self, now: Instant) -> Option<(Instant, Key)> {
        if self.next()? > now {
            return None;
        }
        self.heap
            .pop()
            .map(|Reverse((at, token, generation))| (at, (token, generation)))
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[test]
    fn due_entries_come_out_earliest_first() {
        let t0 = Instant::now();
        let mut timers = Timers::default();
        timers.push(t0 + Duration::from_secs(2), (1, 0));
        timers.push(t0 + Duration::from_secs(1), (2, 0));
        timers.push(t0 + Duration::from_secs(3), (3, 0));
        assert_eq!(timers.next(), Some(t0 + Duration::from_secs(1)));
        let now = t0 + Duration::from_secs(2);
        let due: Vec<Key> = std::iter::from_fn(|| timers.pop_due(now).map(|(_, k)| k)).collect();
        assert_eq!(due, [(2, 0), (1, 0)]);
        assert_eq!(timers.next(), Some(t0 + Duration::from_secs(3)));
    }
}

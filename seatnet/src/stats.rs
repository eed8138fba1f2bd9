//! Server-wide counters for `STATS`.
//!
//! Every counter is a plain statistic: nothing else is published through it
//! and no decision depends on two counters agreeing, so `Relaxed` is enough
//! everywhere (an RMW is atomic whatever its ordering, so no increment is
//! lost). The one counter that gates something, `open`, is written by
//! the poller thread only (increment and decrement); see
//! [`Counters::try_open`].

use std::sync::atomic::{AtomicU64, Ordering::Relaxed};

/// Counters shared by the poller thread and the workers.
#[derive(Debug, Default)]
pub struct Counters {
    open: AtomicU64,
    accepted: AtomicU64,
    rejected: AtomicU64,
    requests: AtomicU64,
    errors: AtomicU64,
}

/// Values read from [`Counters`] (each read on its own, not one instant).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CounterValues {
    /// Connections open now (being served or queued for a worker).
    pub open: u64,
    /// Connections accepted since start.
    pub accepted: u64,
    /// Connections turned away as busy since start.
    pub rejected: u64,
    /// Requests answered since start.
    pub requests: u64,
    /// Requests answered with an `ERR` line since start.
    pub errors: u64,
}

impl Counters {
    /// Admits one more connection if fewer than `max` are open; called by
    /// the poller thread only.
    ///
    /// Only this thread increments `open`, so the load-then-add cannot
    /// admit more than `max`: a concurrent decrement only makes the load
    /// stale on the safe side (one client may be told "busy" just as a slot
    /// frees). `Relaxed`: the count guards no other memory.
    pub(crate) fn try_open(&self, max: u64) -> bool {
        if self.open.load(Relaxed) >= max {
            self.rejected.fetch_add(1, Relaxed);
            return false;
        }
        self.open.fetch_add(1, Relaxed);
        self.accepted.fetch_add(1, Relaxed);
        true
    }

    /// Counts a connection turned away for another reason (its address's
    /// cap, or no descriptor to serve it).
    pub(crate) fn reject(&self) {
        // Relaxed: a statistic.
        self.rejected.fetch_add(1, Relaxed);
    }

    /// One connection admitted by [`try_open`](Self::try_open) has ended.
    pub(crate) fn close(&self) {
        // Relaxed: see `try_open`.
        self.open.fetch_sub(1, Relaxed);
    }

    /// Adds a batch of answered requests (a connection adds its whole read
    /// at once, to keep this shared cache line cold).
    pub(crate) fn add_requests(&self, requests: u64, errors: u64) {
        // Relaxed: independent statistics.
        if requests > 0 {
            self.requests.fetch_add(requests, Relaxed);
        }
        if errors > 0 {
            self.errors.fetch_add(errors, Relaxed);
        }
    }

    /// Reads every counter (Relaxed: a statistic may lag by a batch).
    #[must_use]
    pub fn values(&self) -> CounterValues {
        CounterValues {
            open: self.open.load(Relaxed),
            accepted: self.accepted.load(Relaxed),
            rejected: self.rejected.load(Relaxed),
            requests: self.requests.load(Relaxed),
            errors: self.errors.load(Relaxed),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn admission_stops_at_max_and_resumes_after_close() {
        let c = Counters::default();
        assert!(c.try_open(2));
        assert!(c.try_open(2));
        assert!(!c.try_open(2));
        c.close();
        assert!(c.try_open(2));
        c.add_requests(5, 2);
        let v = c.values();
        assert_eq!(
            (v.open, v.accepted, v.rejected, v.requests, v.errors),
            (2, 3, 1, 5, 2)
        );
    }
}

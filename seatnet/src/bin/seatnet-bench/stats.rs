//! What one driver thread measures; merged across drivers at the end.

use std::time::{Duration, Instant};

use hdrhistogram::Histogram;

use crate::grants::Grants;
use crate::holds::{HoldsPlan, Reply, Session};
use crate::ledger::{Counts, Ledger};
use crate::original_reply;

/// Failed requests, by kind.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Errors {
    /// Connections that waited longer than --timeout for a reply.
    pub(crate) timeouts: u64,
    /// Connections the server closed (or reset) mid-run.
    pub(crate) closed: u64,
    /// `ERR ...` replies (e.g. `ERR busy`), or requests with a RESP error.
    pub(crate) server: u64,
    /// Replies that are neither original-form nor `ERR`, or unasked for.
    pub(crate) bad_replies: u64,
}

impl Errors {
    pub(crate) fn total(&self) -> u64 {
        self.timeouts + self.closed + self.server + self.bad_replies
    }

    fn add(&mut self, other: &Errors) {
        self.timeouts += other.timeouts;
        self.closed += other.closed;
        self.server += other.server;
        self.bad_replies += other.bad_replies;
    }
}

/// Counters, latencies and grants of one driver (or, merged, of a run).
#[derive(Debug, Clone)]
pub(crate) struct Stats {
    /// Latency of measured requests, in nanoseconds.
    pub(crate) latency: Histogram<u64>,
    /// Replies to requests sent after the warm-up.
    pub(crate) measured: u64,
    /// Replies to warm-up requests (not in `latency`).
    pub(crate) warmup: u64,
    pub(crate) errors: Errors,
    pub(crate) grants: Grants,
    /// `--workload holds`: the measured replies by kind.
    pub(crate) holds: Counts,
    /// `--workload holds`: live seats and inconsistencies.
    pub(crate) ledger: Ledger,
    /// When the last measured reply arrived.
    pub(crate) last_reply: Option<Instant>,
    scratch: Vec<u64>,
}

/// Latencies above this are clamped (the run is bounded well below it).
const MAX_LATENCY_NS: u64 = 120_000_000_000;

impl Stats {
    pub(crate) fn new(seats: u64) -> Self {
        Self {
            latency: Histogram::new_with_bounds(1, MAX_LATENCY_NS, 3)
                .expect("constant histogram bounds are valid"),
            measured: 0,
            warmup: 0,
            errors: Errors::default(),
            grants: Grants::new(seats),
            holds: Counts::default(),
            ledger: Ledger::default(),
            last_reply: None,
            scratch: Vec::new(),
        }
    }

    /// Records one original-form (or `ERR`) reply to a request sent at
    /// `sent`.
    pub(crate) fn reply(&mut self, reply: &[u8], sent: Instant, now: Instant, measured: bool) {
        self.timing(sent, now, measured);
        self.scratch.clear();
        if original_reply::reserved_seats(reply, &mut self.scratch) {
            for &seat in &self.scratch {
                self.grants.grant(seat);
            }
        } else if reply.starts_with(b"ERR") {
            self.errors.server += 1;
        } else {
            self.errors.bad_replies += 1;
        }
    }

    /// Records the RESP replies to one request whose `SETBIT`s asked for
    /// `asked`, in order: `:0` granted the seat, `:1` found it taken.
    pub(crate) fn resp_reply(
        &mut self,
        reply: &[u8],
        asked: impl Iterator<Item = u64>,
        sent: Instant,
        now: Instant,
        measured: bool,
    ) {
        self.timing(sent, now, measured);
        let (mut server, mut bad) = (false, false);
        let lines = reply.split(|&b| b == b'\n').map(<[u8]>::trim_ascii_end);
        for (line, seat) in lines.zip(asked) {
            match line {
                b":0" => self.grants.grant(seat),
                b":1" => {}
                [b'-', ..] => server = true,
                _ => bad = true,
            }
        }
        if bad {
            self.errors.bad_replies += 1;
        } else if server {
            self.errors.server += 1;
        }
    }

    /// Records the reply to a `--workload holds` request of `session`.
    pub(crate) fn holds_reply(
        &mut self,
        session: &mut Session,
        plan: &HoldsPlan,
        reply: &[u8],
        sent: Instant,
        now: Instant,
        measured: bool,
    ) {
        self.timing(sent, now, measured);
        match session.reply(reply, plan, &mut self.ledger, &mut self.holds, measured) {
            Reply::Ok => {}
            Reply::Server => self.errors.server += 1,
            Reply::Bad => self.errors.bad_replies += 1,
        }
    }

    fn timing(&mut self, sent: Instant, now: Instant, measured: bool) {
        if measured {
            let ns = u64::try_from(now.duration_since(sent).as_nanos()).unwrap_or(u64::MAX);
            self.latency.saturating_record(ns.max(1));
            self.measured += 1;
            self.last_reply = Some(now);
        } else {
            self.warmup += 1;
        }
    }

    /// Folds another driver's numbers into these.
    pub(crate) fn merge(&mut self, other: &Stats) {
        // Same bounds on both sides, so adding cannot fail.
        let _ = self.latency.add(&other.latency);
        self.measured += other.measured;
        self.warmup += other.warmup;
        self.errors.add(&other.errors);
        self.grants.merge(&other.grants);
        self.holds.add(&other.holds);
        self.ledger.merge(&other.ledger);
        self.last_reply = self.last_reply.max(other.last_reply);
    }

    /// A latency quantile as a duration.
    pub(crate) fn quantile(&self, q: f64) -> Duration {
        Duration::from_nanos(self.latency.value_at_quantile(q))
    }

    pub(crate) fn max_latency(&self) -> Duration {
        Duration::from_nanos(self.latency.max())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replies_feed_latency_grants_and_errors() {
        let mut s = Stats::new(100);
        let t0 = Instant::now();
        let t1 = t0 + Duration::from_micros(250);
        let ok = "Reservados: [3, 4] | Indisponíveis/Inválidos: [9]";
        s.reply(ok.as_bytes(), t0, t1, true);
        s.reply(b"ERR busy: full", t0, t1, true);
        s.reply(b"what", t0, t1, false);
        assert_eq!((s.measured, s.warmup), (2, 1));
        assert_eq!(s.grants.granted(), 2);
        assert_eq!((s.errors.server, s.errors.bad_replies), (1, 1));
        let p50 = s.quantile(0.5).as_micros();
        assert!((249..=251).contains(&p50), "{p50}");
    }

    #[test]
    fn resp_replies_grant_the_seats_asked() {
        let mut s = Stats::new(100);
        let t = Instant::now();
        s.resp_reply(b":0\r\n:1\r\n", [4, 9].into_iter(), t, t, true);
        s.resp_reply(b":0\r\n", [4].into_iter(), t, t, true);
        assert_eq!(s.measured, 2);
        assert_eq!(s.grants.granted(), 1);
        assert!(!s.grants.ok(), "seat 4 granted twice");
        s.resp_reply(b"-ERR wrong type\r\n", [5].into_iter(), t, t, false);
        s.resp_reply(b":7\r\n", [6].into_iter(), t, t, false);
        assert_eq!((s.errors.server, s.errors.bad_replies), (1, 1));
    }

    #[test]
    fn merging_catches_a_seat_granted_by_two_drivers() {
        let t = Instant::now();
        let mut a = Stats::new(100);
        let mut b = Stats::new(100);
        a.reply(
            "Reservados: [7] | Indisponíveis/Inválidos: []".as_bytes(),
            t,
            t,
            true,
        );
        b.reply(
            "Reservados: [7] | Indisponíveis/Inválidos: []".as_bytes(),
            t,
            t,
            true,
        );
        a.merge(&b);
        assert_eq!(a.measured, 2);
        assert!(!a.grants.ok());
    }
}

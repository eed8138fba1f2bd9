//! `--workload holds`: each connection books over many maps the way a
//! shop does, one request in flight, each request chosen from the last
//! reply.
//!
//! A connection repeats *steps*. A step starts with `USE m<i>` (always,
//! even on the map it is already on, so one map and many maps send the
//! same requests), then:
//!
//! - a **booking step** (map chosen at random for each step): `HOLD ANY k`,
//!   then `CONFIRM <ref>` with probability `--confirm` percent, else
//!   `CANCEL <ref>` (the hold released). A confirmed booking joins the
//!   connection's queue of kept bookings.
//! - a **release step**, whenever more than `--keep` bookings are kept:
//!   `USE` of the oldest one's map, then `CANCEL <ref>`.
//!
//! So every seat taken is given back later and the maps stay in a steady
//! state: at most `connections * (keep + 1) * k` seats are taken at once.
//! A `HOLD` the map cannot serve (`ERR not-enough`) ends its step and is
//! counted as `full`, not as an error. What the replies must say is
//! checked against the [`Ledger`].

use std::collections::VecDeque;
// Writing into a Vec<u8> cannot fail.
use std::io::Write as _;

use crate::ledger::{Counts, Ledger, parse_seats};

/// The holds workload's settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct HoldsPlan {
    /// Maps `m0..m{maps-1}` the server serves.
    pub(crate) maps: u32,
    /// Seats per `HOLD ANY`.
    pub(crate) seats: u32,
    /// Percent of holds confirmed (the rest are cancelled).
    pub(crate) confirm: u32,
    /// Bookings a connection keeps before it cancels the oldest.
    pub(crate) keep: u32,
}

/// A hold or booking of this connection.
#[derive(Debug, Clone)]
struct Booking {
    /// The ledger's id of it.
    id: u64,
    map: u32,
    reference: String,
    seats: Vec<u64>,
}

/// The request sent, awaiting its reply.
#[derive(Debug)]
enum Sent {
    Use { map: u32, release: Option<Booking> },
    Hold { map: u32 },
    Confirm(Booking),
    CancelHold(Booking),
    CancelBooking(Booking),
}

/// What comes next.
#[derive(Debug, Default)]
enum Next {
    /// A new step.
    #[default]
    Step,
    Hold {
        map: u32,
    },
    Settle(Booking),
    Release(Booking),
}

/// One connection's state.
#[derive(Debug, Default)]
pub(crate) struct Session {
    next: Next,
    sent: Option<Sent>,
    kept: VecDeque<Booking>,
    seats: Vec<u64>,
}

impl Session {
    /// Appends the connection's next request to `out`.
    pub(crate) fn write_request(
        &mut self,
        plan: &HoldsPlan,
        rng: &mut fastrand::Rng,
        ledger: &mut Ledger,
        out: &mut Vec<u8>,
    ) {
        let sent = match std::mem::take(&mut self.next) {
            Next::Step if self.kept.len() > plan.keep as usize => {
                let oldest = self.kept.pop_front();
                let map = oldest.as_ref().map_or(0, |b| b.map);
                let _ = writeln!(out, "USE m{map}");
                Sent::Use {
                    map,
                    release: oldest,
                }
            }
            Next::Step => {
                let map = rng.u32(0..plan.maps);
                let _ = writeln!(out, "USE m{map}");
                Sent::Use { map, release: None }
            }
            Next::Hold { map } => {
                let _ = writeln!(out, "HOLD ANY {}", plan.seats);
                Sent::Hold { map }
            }
            Next::Settle(hold) if rng.u32(0..100) < plan.confirm => {
                let _ = writeln!(out, "CONFIRM {}", hold.reference);
                Sent::Confirm(hold)
            }
            Next::Settle(hold) => {
                ledger.releasing(hold.map, &hold.seats, hold.id);
                let _ = writeln!(out, "CANCEL {}", hold.reference);
                Sent::CancelHold(hold)
            }
            Next::Release(booking) => {
                ledger.releasing(booking.map, &booking.seats, booking.id);
                let _ = writeln!(out, "CANCEL {}", booking.reference);
                Sent::CancelBooking(booking)
            }
        };
        self.sent = Some(sent);
    }

    /// Handles the reply to the request in flight and says what it was for
    /// the error counters; inconsistencies go to the ledger, the reply's
    /// kind to `counts` when `measured`. After any failure the next
    /// request starts a new step.
    pub(crate) fn reply(
        &mut self,
        reply: &[u8],
        plan: &HoldsPlan,
        ledger: &mut Ledger,
        counts: &mut Counts,
        measured: bool,
    ) -> Reply {
        let Ok(text) = std::str::from_utf8(reply) else {
            self.abandon(ledger);
            return Reply::Bad;
        };
        let mut tally = Counts::default();
        let outcome = match self.sent.take() {
            None => Reply::Bad,
            Some(Sent::Use { map, release }) => {
                if text
                    .strip_prefix("OK using ")
                    .and_then(|r| r.split(' ').next())
                    == Some(&format!("m{map}"))
                {
                    tally.uses = 1;
                    self.next = match release {
                        Some(booking) => Next::Release(booking),
                        None => Next::Hold { map },
                    };
                    Reply::Ok
                } else {
                    if let Some(booking) = release {
                        ledger.release(booking.map, &booking.seats, booking.id);
                    }
                    unexpected(text)
                }
            }
            Some(Sent::Hold { map }) => match self.parse_hold(text, plan) {
                Some(reference) => {
                    tally.holds = 1;
                    self.next = Next::Settle(Booking {
                        id: ledger.hold(map, &self.seats),
                        map,
                        reference,
                        seats: self.seats.clone(),
                    });
                    Reply::Ok
                }
                None if text.starts_with("ERR not-enough") => {
                    tally.full = 1;
                    Reply::Ok
                }
                None => unexpected(text),
            },
            Some(Sent::Confirm(hold)) => {
                if self.settled(text, "confirmed", &hold) {
                    tally.confirmed = 1;
                    self.kept.push_back(hold);
                    Reply::Ok
                } else {
                    ledger.problem(format!(
                        "CONFIRM of our own live hold on m{} answered {text:?}",
                        hold.map
                    ));
                    ledger.release(hold.map, &hold.seats, hold.id);
                    Reply::Ok
                }
            }
            Some(Sent::CancelHold(hold)) => {
                tally.cancelled_holds = self.cancelled(text, &hold, ledger);
                Reply::Ok
            }
            Some(Sent::CancelBooking(booking)) => {
                tally.cancelled_bookings = self.cancelled(text, &booking, ledger);
                Reply::Ok
            }
        };
        if measured {
            counts.add(&tally);
        }
        outcome
    }

    /// The reference of `OK <ref> seats=<k seats> expires=<n>`, its seats
    /// left in `self.seats`.
    fn parse_hold(&mut self, text: &str, plan: &HoldsPlan) -> Option<String> {
        let mut words = text.strip_prefix("OK ")?.split(' ');
        let reference = words.next()?;
        let seats = words.next()?.strip_prefix("seats=")?;
        let expires = words.next()?.strip_prefix("expires=")?;
        if words.next().is_some() || !is_reference(reference) || expires.parse::<u64>().is_err() {
            return None;
        }
        parse_seats(seats, &mut self.seats)?;
        (self.seats.len() == plan.seats as usize).then(|| reference.to_owned())
    }

    /// Whether `text` is `OK <verb> <ref> seats=<the booking's seats>`.
    fn settled(&mut self, text: &str, verb: &str, booking: &Booking) -> bool {
        let mut words = text.split(' ');
        let ok = words.next() == Some("OK")
            && words.next() == Some(verb)
            && words.next() == Some(booking.reference.as_str());
        let seats = words.next().and_then(|w| w.strip_prefix("seats="));
        ok && words.next().is_none()
            && seats.is_some_and(|s| parse_seats(s, &mut self.seats).is_some())
            && self.seats == booking.seats
    }

    /// Checks the reply to `CANCEL` of our own hold or booking (it must
    /// succeed, with its seats); 1 if it did.
    fn cancelled(&mut self, text: &str, booking: &Booking, ledger: &mut Ledger) -> u64 {
        ledger.release(booking.map, &booking.seats, booking.id);
        if self.settled(text, "cancelled", booking) {
            1
        } else {
            ledger.problem(format!(
                "CANCEL of our own hold or booking on m{} answered {text:?}",
                booking.map
            ));
            0
        }
    }

    /// Forgets a step that cannot go on.
    fn abandon(&mut self, ledger: &mut Ledger) {
        self.next = Next::Step;
        match self.sent.take() {
            Some(Sent::Confirm(b) | Sent::CancelHold(b) | Sent::CancelBooking(b)) => {
                ledger.release(b.map, &b.seats, b.id);
            }
            Some(Sent::Use {
                release: Some(b), ..
            }) => ledger.release(b.map, &b.seats, b.id),
            _ => {}
        }
    }
}

/// What a reply was, for the error counters.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Reply {
    /// Expected (or an inconsistency, already in the ledger).
    Ok,
    /// An `ERR` reply the step cannot go on from.
    Server,
    /// Not a reply of the protocol.
    Bad,
}

fn unexpected(text: &str) -> Reply {
    if text.starts_with("ERR ") {
        Reply::Server
    } else {
        Reply::Bad
    }
}

/// 32 lowercase hex digits.
fn is_reference(text: &str) -> bool {
    text.len() == 32 && text.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

#[cfg(test)]
mod tests {
    use super::*;

    const REF: &str = "0123456789abcdef0123456789abcdef";

    /// Sends the session's next request and answers it with `reply`.
    fn step(s: &mut Session, plan: &HoldsPlan, ledger: &mut Ledger, reply: &str) -> String {
        let (mut out, mut rng) = (Vec::new(), fastrand::Rng::with_seed(1));
        s.write_request(plan, &mut rng, ledger, &mut out);
        let mut counts = Counts::default();
        let outcome = s.reply(reply.as_bytes(), plan, ledger, &mut counts, true);
        assert_eq!(outcome, Reply::Ok, "{reply}");
        String::from_utf8(out).unwrap()
    }

    fn plan(confirm: u32, keep: u32) -> HoldsPlan {
        HoldsPlan {
            maps: 1,
            seats: 2,
            confirm,
            keep,
        }
    }

    #[test]
    fn a_step_uses_holds_confirms_and_later_cancels() {
        let (plan, mut ledger, mut s) = (plan(100, 0), Ledger::default(), Session::default());
        let hold = format!("OK {REF} seats=5-6 expires=1795000900");
        assert_eq!(
            step(&mut s, &plan, &mut ledger, "OK using m0 spec=9"),
            "USE m0\n"
        );
        assert_eq!(step(&mut s, &plan, &mut ledger, &hold), "HOLD ANY 2\n");
        let confirmed = format!("OK confirmed {REF} seats=5-6");
        assert_eq!(
            step(&mut s, &plan, &mut ledger, &confirmed),
            format!("CONFIRM {REF}\n")
        );
        assert_eq!(ledger.live_seats(), 2);
        // More than --keep 0 kept: the next step releases it.
        step(&mut s, &plan, &mut ledger, "OK using m0 spec=9");
        let cancelled = format!("OK cancelled {REF} seats=5-6");
        assert_eq!(
            step(&mut s, &plan, &mut ledger, &cancelled),
            format!("CANCEL {REF}\n")
        );
        assert!(ledger.ok(), "{}", ledger.verdict());
        assert_eq!(ledger.live_seats(), 0);
    }

    #[test]
    fn a_hold_of_ours_that_will_not_confirm_is_a_problem() {
        let (plan, mut ledger, mut s) = (plan(100, 4), Ledger::default(), Session::default());
        step(&mut s, &plan, &mut ledger, "OK using m0 spec=9");
        step(
            &mut s,
            &plan,
            &mut ledger,
            &format!("OK {REF} seats=5-6 expires=9"),
        );
        step(&mut s, &plan, &mut ledger, &format!("ERR expired: {REF}"));
        assert_eq!(ledger.problems, 1);
        assert!(ledger.verdict().contains("CONFIRM of our own live hold"));
        // A confirmation naming other seats is one too.
        step(&mut s, &plan, &mut ledger, "OK using m0 spec=9");
        step(
            &mut s,
            &plan,
            &mut ledger,
            &format!("OK {REF} seats=5-6 expires=9"),
        );
        step(
            &mut s,
            &plan,
            &mut ledger,
            &format!("OK confirmed {REF} seats=7-8"),
        );
        assert_eq!(ledger.problems, 2);
    }

    #[test]
    fn a_full_map_ends_the_step_and_a_wrong_map_is_an_error() {
        let (plan, mut ledger, mut s) = (plan(70, 4), Ledger::default(), Session::default());
        step(&mut s, &plan, &mut ledger, "OK using m0 spec=9");
        step(
            &mut s,
            &plan,
            &mut ledger,
            "ERR not-enough: asked for 2, 1 free",
        );
        let (mut out, mut rng) = (Vec::new(), fastrand::Rng::with_seed(1));
        s.write_request(&plan, &mut rng, &mut ledger, &mut out);
        assert_eq!(out, b"USE m0\n", "a new step");
        let mut counts = Counts::default();
        let outcome = s.reply(
            b"ERR unknown-map: m0",
            &plan,
            &mut ledger,
            &mut counts,
            true,
        );
        assert_eq!(outcome, Reply::Server);
        assert!(ledger.ok());
    }
}

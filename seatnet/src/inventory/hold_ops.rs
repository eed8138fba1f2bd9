//! Holds: placing them (`HOLD`, `HOLD ANY`, `HOLD TOGETHER`, granted like
//! `ALL`, `ANY`, `TOGETHER` and journaled by the same path), and what
//! becomes of them (`CONFIRM`, `EXTEND`, `CANCEL`, expiry).
//!
//! A hold's fate is decided under its map's hold-table lock, and with a
//! journal inside the append closure (seq taken, as a cancel does), so of a
//! `CONFIRM` and an expiry racing, exactly one finds the hold and the
//! other finds it gone: confirmed (the expiry does nothing) or expired
//! (`ERR expired`). A hold past its expiry is expired by whichever request
//! meets it first, so the outcome follows the clock, not thread timing.

use std::ops::Range;

use seatlog::AppendError;

use super::holds::{Hold, Table};
use super::{ExecScratch, Held, Inventory, runs};
use crate::durable::Commit;
use crate::durable::ids::Ids;
use crate::durable::record::Change;
use crate::protocol::{Number, Reply, SeatList, quote};
use crate::reference::BookingRef;

/// What happens to a hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Fate {
    Confirm,
    Extend,
    Cancel,
    /// Its deadline came up (the expiry loop).
    Expire,
}

/// What one step on a hold did: the reply, and the change to journal.
struct Step {
    reply: Vec<u8>,
    error: bool,
    change: Option<StepChange>,
}

struct StepChange {
    reference: u128,
    released: Option<Held>,
    confirm: bool,
    extend: Option<u64>,
    expired: bool,
}

/// A hold as `SHOW` sees it.
pub(super) enum HoldView {
    Open { runs: Held, expires_ms: u64 },
    Expired,
}

/// What a hold-step request did, for the caller.
pub(crate) struct HoldAnswer {
    pub(crate) commit: Commit,
    pub(crate) error: bool,
    pub(crate) snapshot_due: bool,
}

impl Inventory {
    /// `HOLD 5,10`: every seat or none (as `ALL`), held.
    pub(super) fn hold_seats<'a>(
        &'a self,
        numbers: &'a [Number],
        out: ExecScratch<'a>,
    ) -> Reply<'a> {
        self.claim_every(numbers, out, |held, runs| self.held(held, 1, runs))
    }

    /// `HOLD ANY n`.
    pub(super) fn hold_any<'a>(&'a self, n: u64, out: ExecScratch<'a>) -> Reply<'a> {
        match self.state.map.reserve_any_into(n, out.runs) {
            Ok(()) => {
                let held = out.runs.clone();
                self.held(held, 1, out.runs)
            }
            Err(e) => Reply::NotEnoughAny {
                requested: n,
                free: super::free_of(e),
            },
        }
    }

    /// `HOLD TOGETHER n`: as `TOGETHER` (seatplan's choice on a cabin).
    pub(super) fn hold_together<'a>(&'a self, n: u64, out: ExecScratch<'a>) -> Reply<'a> {
        if let Some(cabin) = self.state.spec.cabin() {
            return match self.claim_together(cabin, n, out.seats) {
                Ok((held, split)) => self.held(held, split, out.runs),
                Err(reply) => reply,
            };
        }
        match self.state.map.reserve_adjacent(n) {
            Ok(run) => self.held(vec![run], 1, out.runs),
            Err(e) => Reply::NotEnoughTogether {
                requested: n,
                free: super::free_of(e),
            },
        }
    }

    /// Records a hold of `held` (seats already claimed), queues its
    /// deadline and says `OK <ref> seats=.. expires=..`.
    fn held<'a>(&'a self, held: Held, split: u32, runs: &'a mut Vec<Range<u64>>) -> Reply<'a> {
        let now = self.timer.now_ms();
        let expires_ms = self.timer.expiry(now, now);
        runs.clone_from(&held);
        let bookings = &self.state.bookings;
        let reference = self.state.holds.lock().insert(
            Hold {
                runs: held,
                expires_ms,
                placed_ms: now,
            },
            |r| bookings.get(r).is_some(),
        );
        self.timer
            .schedule(expires_ms, self.state.id, reference.to_raw());
        Reply::Held {
            reference,
            seats: SeatList::Runs(runs),
            split,
            expires_ms,
            placed_ms: now,
        }
    }

    /// Whether `text` names a hold, open or expired (then `CANCEL` and
    /// `SHOW` are about a hold).
    pub(super) fn is_hold(&self, text: &str) -> bool {
        BookingRef::from_text(text).is_some_and(|r| {
            let t = self.state.holds.lock();
            t.open.contains_key(&r) || t.is_expired(r)
        })
    }

    /// Every seat's state, for `MAP`: the first
    /// [`seatplan::MAX_DRAWN`] seats, and how many seats are held in all.
    /// An instant's view: read while requests run, a seat changing
    /// meanwhile may show either way.
    pub(crate) fn seat_states(&self) -> (Vec<seatplan::SeatState>, u64) {
        use seatplan::SeatState;
        let drawn = self.state.map.capacity().min(seatplan::MAX_DRAWN);
        let snapshot = self.state.map.snapshot();
        let mut states: Vec<SeatState> = (0..drawn)
            .map(|s| match snapshot.is_reserved(s) {
                Ok(true) => SeatState::Taken,
                _ => SeatState::Free,
            })
            .collect();
        let mut held = 0;
        for hold in self.state.holds.lock().open.values() {
            for run in &hold.runs {
                held += run.end - run.start;
                for seat in run.start..run.end.min(drawn) {
                    states[seat as usize] = SeatState::Held;
                }
            }
        }
        (states, held)
    }

    /// What `SHOW` says of a hold: open, or expired (also when its expiry
    /// has passed but the expiry loop has not freed it yet); `None` if
    /// `text` names no hold.
    pub(super) fn hold_view(&self, text: &str) -> Option<HoldView> {
        let reference = BookingRef::from_text(text)?;
        let now = self.timer.now_ms();
        let t = self.state.holds.lock();
        if let Some(hold) = t.open.get(&reference) {
            // Past its expiry, it is expired, whether or not the expiry
            // loop has freed its seats yet (the clock decides).
            if hold.expires_ms <= now {
                return Some(HoldView::Expired);
            }
            return Some(HoldView::Open {
                runs: hold.runs.clone(),
                expires_ms: hold.expires_ms,
            });
        }
        t.is_expired(reference).then_some(HoldView::Expired)
    }

    /// `CONFIRM`, `EXTEND` or `CANCEL` of a hold (`text` is the client's
    /// reference), with a journal or not, with an id or not: appends the
    /// reply to `out`.
    pub(crate) fn respond_hold(
        &self,
        fate: Fate,
        text: &str,
        id: Option<&str>,
        ids: Option<&mut Ids>,
        out: &mut Vec<u8>,
    ) -> HoldAnswer {
        let unchanged = |error| HoldAnswer {
            commit: Commit::None,
            error,
            snapshot_due: false,
        };
        let Some(reference) = BookingRef::from_text(text) else {
            Reply::UnknownBooking(&quote(text)).write_on(out, &self.state.spec);
            return unchanged(true);
        };
        let now = self.timer.now_ms();
        let Some(d) = &self.durable else {
            let step = self.step(&mut self.state.holds.lock(), fate, reference, text, now);
            out.extend_from_slice(&step.reply);
            if let (Some(id), Some(ids), Some(_)) = (id, ids, &step.change) {
                ids.insert(id, &step.reply, now, 0);
            }
            return unchanged(step.error);
        };
        {
            // Not an open hold: nothing to journal.
            let mut t = self.state.holds.lock();
            if !t.open.contains_key(&reference) {
                let step = self.step(&mut t, fate, reference, text, now);
                out.extend_from_slice(&step.reply);
                return unchanged(step.error);
            }
        }
        let mut done = None;
        let appended = d.journal.append(self.state.id, now, |seq| {
            // Under the journal's queue lock, seq taken: now the decision
            // (and any release), as a cancel does.
            let step = self.step(&mut self.state.holds.lock(), fate, reference, text, now);
            let payload = match &step.change {
                Some(c) => {
                    if let (Some(id), Some(ids)) = (id, ids) {
                        ids.insert(id, &step.reply, now, seq);
                    }
                    Change {
                        released: c.released.as_deref().map(|h| (c.reference, h)),
                        confirm: c.confirm.then_some(c.reference),
                        extend: c.extend.map(|e| (c.reference, e)),
                        expired: c.expired,
                        id: id.map(|id| (id, &step.reply[..])),
                        ..Change::default()
                    }
                    .encode()
                }
                // Lost a race (the hold went meanwhile): an empty record.
                None => Change::default().encode(),
            };
            done = Some(step);
            payload
        });
        match (appended, done) {
            (Ok(ticket), Some(step)) => {
                out.extend_from_slice(&step.reply);
                HoldAnswer {
                    commit: Commit::Pending(ticket),
                    error: step.error,
                    snapshot_due: d.snapshot_every != 0 && ticket.seq % d.snapshot_every == 0,
                }
            }
            (Err(AppendError::Failed(fatal)), _) => HoldAnswer {
                commit: Commit::Failed(fatal),
                error: true,
                snapshot_due: false,
            },
            (Err(e), None) => {
                // Refused before the closure ran: nothing changed.
                super::journal::refused(&e, out, &self.state.spec);
                unchanged(true)
            }
            // `TooLarge` after the closure ran: a hold record is a few
            // dozen bytes, far below any allowed record size, so this
            // cannot happen; if it did, the change is in memory without a
            // record, which only fail-stop makes safe.
            (Err(e), Some(_)) => {
                tracing::error!(error = %e, "a hold change could not be journaled; stopping");
                eprintln!("seatnet-server: a hold change could not be journaled ({e}); stopping");
                std::process::exit(70)
            }
            (Ok(_), None) => unreachable!("append calls its closure when it succeeds"),
        }
    }

    /// Expires the hold `reference` if it is still open and due (the
    /// expiry loop). Returns whether it expired; `Err` if the journal
    /// refused (full disk: the caller retries later).
    pub(crate) fn expire(&self, reference: u128) -> Result<bool, ()> {
        let text = BookingRef::from_raw(reference).to_string();
        let mut out = Vec::new();
        let answer = self.respond_hold(Fate::Expire, &text, None, None, &mut out);
        match answer.commit {
            Commit::Failed(fatal) => crate::durable::fail_stop(&fatal),
            _ if answer.error => Err(()),
            _ => Ok(out.starts_with(b"expired")),
        }
    }

    /// Decides a hold's fate under its table lock. Releases seats here
    /// (after the seq, with a journal).
    fn step(&self, t: &mut Table, fate: Fate, reference: BookingRef, text: &str, now: u64) -> Step {
        let spec = &self.state.spec;
        let reply = |r: Reply<'_>| {
            let mut bytes = Vec::new();
            r.write_on(&mut bytes, spec);
            bytes
        };
        let quoted = quote(text);
        let Some(hold) = t.open.get(&reference) else {
            let (bytes, error) = if fate == Fate::Expire {
                (Vec::new(), false)
            } else if t.is_expired(reference) {
                (reply(Reply::Expired(&quoted)), true)
            } else if self.state.bookings.get(reference).is_some() {
                (reply(Reply::NotAHold(&quoted)), true)
            } else {
                (reply(Reply::UnknownBooking(&quoted)), true)
            };
            return Step {
                reply: bytes,
                error,
                change: None,
            };
        };
        if hold.expires_ms <= now {
            // Due: it expires now, whoever asks.
            let hold = t.open.remove(&reference).expect("looked up above");
            runs::release_runs(&self.state.map, &hold.runs);
            t.note_expired(reference, now);
            let bytes = match fate {
                Fate::Expire => b"expired".to_vec(),
                _ => reply(Reply::Expired(&quoted)),
            };
            return Step {
                reply: bytes,
                error: fate != Fate::Expire,
                change: Some(StepChange {
                    reference: reference.to_raw(),
                    released: Some(hold.runs),
                    confirm: false,
                    extend: None,
                    expired: true,
                }),
            };
        }
        let change = |released, confirm, extend| {
            Some(StepChange {
                reference: reference.to_raw(),
                released,
                confirm,
                extend,
                expired: false,
            })
        };
        match fate {
            Fate::Expire => Step {
                // Extended since this deadline was queued.
                reply: Vec::new(),
                error: false,
                change: None,
            },
            Fate::Confirm => {
                let hold = t.open.remove(&reference).expect("looked up above");
                let bytes = reply(Reply::Confirmed {
                    reference,
                    seats: SeatList::Runs(&hold.runs),
                });
                self.state.bookings.insert_as(reference, hold.runs);
                Step {
                    reply: bytes,
                    error: false,
                    change: change(None, true, None),
                }
            }
            Fate::Cancel => {
                let hold = t.open.remove(&reference).expect("looked up above");
                runs::release_runs(&self.state.map, &hold.runs);
                Step {
                    reply: reply(Reply::Cancelled {
                        reference,
                        seats: SeatList::Runs(&hold.runs),
                    }),
                    error: false,
                    change: change(Some(hold.runs), false, None),
                }
            }
            Fate::Extend => {
                let expires_ms = self.timer.expiry(now, hold.placed_ms);
                // At its longest already: say so. (An EXTEND that moves
                // nothing because it comes right after the last one is
                // answered OK with the same expiry.)
                if expires_ms < hold.expires_ms
                    || (expires_ms == hold.expires_ms
                        && expires_ms >= hold.placed_ms + self.timer.max_ms)
                {
                    return Step {
                        reply: reply(Reply::HoldLimit {
                            reference: &quoted,
                            expires_ms: hold.expires_ms,
                        }),
                        error: true,
                        change: None,
                    };
                }
                let hold = t.open.get_mut(&reference).expect("looked up above");
                hold.expires_ms = expires_ms;
                self.timer
                    .schedule(expires_ms, self.state.id, reference.to_raw());
                Step {
                    reply: reply(Reply::Extended {
                        reference,
                        seats: SeatList::Runs(&hold.runs),
                        expires_ms,
                    }),
                    error: false,
                    change: change(None, false, Some(expires_ms)),
                }
            }
        }
    }
}

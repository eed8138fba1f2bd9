//! The journaled paths: opening a data directory and replaying it, change
//! requests that write a record (and requests with an `id=`), snapshots.
//!
//! The sequence-number rule (`docs/design.md`): a grant's record is
//! appended *after* its seatcore RMW and after its booking is in the
//! table; a cancel's booking is removed and its seats released *inside*
//! the append closure, under the journal's queue lock, after its seq is
//! taken. So when the journal has handed out seq `S`, every record
//! `<= S` is applied in memory, which is what makes a snapshot taken while
//! requests run sound.

use std::ops::Range;
use std::path::Path;
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use seatlog::{AppendError, Fatal, Storage, Ticket};
use seatplan::MapSpec;

use super::{BookingRef, ExecScratch, Fate, Inventory, runs};
use crate::Answered;
use crate::catalog::{Catalog, MapDef};
use crate::durable::ids::Ids;
use crate::durable::record::{Change, HoldTimes};
use crate::durable::{Commit, DataError, DataOptions, Opened};
use crate::protocol::{Command, Number, Reply, SeatList, SeatOutcome, quote};
use crate::stats::Counters;

/// What one change did, for the id table and the caller.
struct Logged {
    commit: Commit,
    error: bool,
    snapshot_due: bool,
}

impl Logged {
    fn unchanged(error: bool) -> Logged {
        Logged {
            commit: Commit::None,
            error,
            snapshot_due: false,
        }
    }
}

impl Inventory {
    /// Opens (or creates) the data directory `dir` for a `default` map of
    /// `seats` numbered seats (and whatever other maps it holds) and
    /// replays it: the newest snapshot, then every later record. A server
    /// of many maps uses [`Catalog::open`](crate::Catalog::open).
    ///
    /// # Errors
    ///
    /// [`DataError`] saying what is wrong: the directory is in use by
    /// another server, was created for another seat count, is corrupt, or
    /// cannot be read or written.
    pub fn open(
        seats: u64,
        dir: impl AsRef<Path>,
        options: DataOptions,
    ) -> Result<(Inventory, Opened), DataError> {
        let defs = [MapDef::numbered_default(seats)];
        let (catalog, opened) = Catalog::open(&defs, dir, options)?;
        Ok((catalog.default_map().clone(), opened))
    }

    /// [`open`](Self::open) over any [`Storage`] (tests use
    /// `seatlog::testing::FaultyStorage`).
    ///
    /// # Errors
    ///
    /// As [`open`](Self::open).
    pub fn open_in(
        seats: u64,
        storage: Arc<dyn Storage>,
        options: DataOptions,
    ) -> Result<(Inventory, Opened), DataError> {
        let defs = [MapDef::numbered_default(seats)];
        let (catalog, opened) = Catalog::open_in(&defs, storage, options)?;
        Ok((catalog.default_map().clone(), opened))
    }

    /// Whether changes are journaled (the inventory was opened on a data
    /// directory).
    #[must_use]
    pub fn is_durable(&self) -> bool {
        self.durable.is_some()
    }

    /// Blocks until the change of `ticket` (and every earlier one) is
    /// durable under the sync policy. Without a journal, returns at once.
    ///
    /// # Errors
    ///
    /// [`Fatal`] if the journal failed: the change may be lost and must
    /// never be acknowledged.
    pub fn wait_durable(&self, ticket: Ticket) -> Result<(), Fatal> {
        match &self.durable {
            Some(d) => d.journal.wait_durable(ticket),
            None => Ok(()),
        }
    }

    /// The journal's acknowledged watermark: every change up to this seq
    /// is durable under the sync policy (`u64::MAX` without a journal:
    /// nothing waits), or the journal's failure.
    ///
    /// # Errors
    ///
    /// [`Fatal`] if the journal failed (see [`wait_durable`](Self::wait_durable)).
    pub fn acknowledged(&self) -> Result<u64, Fatal> {
        match &self.durable {
            Some(d) => d.journal.acknowledged(),
            None => Ok(u64::MAX),
        }
    }

    /// Whether a change with a ticket in `low..=high` was lost: in cluster
    /// mode, a change whose map left this node before it committed to
    /// etcd. Replies waiting for such a ticket must never be sent. Never
    /// with a journal on disk (a failure there stops the process), nor
    /// without a journal.
    #[must_use]
    pub fn lost_between(&self, low: u64, high: u64) -> bool {
        self.durable
            .as_ref()
            .is_some_and(|d| d.journal.lost_between(low, high))
    }

    /// Sets (or clears) what the journal's writer calls when the
    /// [`acknowledged`](Self::acknowledged) watermark may have moved, or
    /// the journal failed. Without a journal, does nothing.
    pub fn set_progress_hook(&self, hook: Option<seatlog::ProgressHook>) {
        if let Some(d) = &self.durable {
            d.journal.set_progress_hook(hook);
        }
    }

    /// The journal's counters (batches, records, syncs), with a journal.
    #[must_use]
    pub fn journal_stats(&self) -> Option<seatlog::Stats> {
        self.durable.as_ref().map(|d| d.journal.stats())
    }

    /// Writes a snapshot of every map (seats, bookings, holds, request
    /// ids) as of the journal's last record, unless one was written there
    /// already. Returns its seq. Safe while requests run (see the module
    /// docs).
    ///
    /// # Errors
    ///
    /// [`DataError`] if it cannot be written (the journal keeps working;
    /// a failed sync is fatal and shows up on the next wait too).
    pub fn snapshot(&self) -> Result<Option<u64>, DataError> {
        match &self.durable {
            Some(d) => d.snapshot(),
            None => Ok(None),
        }
    }

    /// Whether `command` goes through [`respond_change`](Self::respond_change):
    /// a change, when there is a journal or a request id.
    /// Confirms, extends and cancels of holds always do: they decide
    /// under the hold table's lock (and the journal's, with one).
    pub(super) fn logs(&self, command: &Command<'_>, id: Option<&str>) -> bool {
        if self.hold_fate(command).is_some() {
            return true;
        }
        let change = matches!(
            command,
            Command::Original(_)
                | Command::Book(_)
                | Command::All(_)
                | Command::Any(_)
                | Command::Together(_)
                | Command::Cancel(_)
                | Command::Hold(_)
                | Command::HoldAny(_)
                | Command::HoldTogether(_)
        );
        change && (self.durable.is_some() || id.is_some())
    }

    /// The fate `command` decides for a hold, if it is about one.
    fn hold_fate<'c>(&self, command: &Command<'c>) -> Option<(Fate, &'c str)> {
        match *command {
            Command::Confirm(text) => Some((Fate::Confirm, text)),
            Command::Extend(text) => Some((Fate::Extend, text)),
            Command::Cancel(text) if self.is_hold(text) => Some((Fate::Cancel, text)),
            _ => None,
        }
    }

    /// Answers a change request with a journal or an id: a remembered id
    /// gets its first reply; otherwise the change is made and journaled.
    pub(super) fn respond_change(
        &self,
        command: Command<'_>,
        id: Option<&str>,
        scratch: ExecScratch<'_>,
        counters: &Counters,
        out: &mut Vec<u8>,
    ) -> Answered {
        // Held through the change, so two requests with one id cannot
        // both do it (requests with ids are serialised; others are not).
        let mut ids = id.map(|_| self.state.ids.lock());
        if let (Some(id), Some(ids)) = (id, &ids) {
            if let Some(e) = ids.get(id) {
                out.extend_from_slice(&e.reply);
                // The first reply waits for its record; so does its repeat.
                let commit = if self.durable.is_some() && e.seq != 0 {
                    Commit::Pending(Ticket { seq: e.seq })
                } else {
                    Commit::None
                };
                return Answered {
                    error: false,
                    close: false,
                    commit,
                };
            }
        }
        let logged = {
            let ids = ids.as_deref_mut();
            match (self.hold_fate(&command), command) {
                (Some((fate, text)), _) => {
                    let a = self.respond_hold(fate, text, id, ids, out);
                    Logged {
                        commit: a.commit,
                        error: a.error,
                        snapshot_due: a.snapshot_due,
                    }
                }
                (None, Command::Cancel(text)) => self.cancel_logged(text, id, ids, scratch, out),
                (None, command) => self.grant_logged(command, id, ids, scratch, counters, out),
            }
        };
        // The snapshot reads the id table: release it first.
        drop(ids);
        if logged.snapshot_due {
            if let Some(d) = &self.durable {
                d.snapshot_if_free();
            }
        }
        Answered {
            error: logged.error,
            close: false,
            commit: logged.commit,
        }
    }

    /// Original, BOOK, ALL, ANY, TOGETHER: the seatcore RMW and the booking
    /// first, then the record (seq after the grant).
    fn grant_logged(
        &self,
        command: Command<'_>,
        id: Option<&str>,
        mut ids: Option<&mut Ids>,
        scratch: ExecScratch<'_>,
        counters: &Counters,
        out: &mut Vec<u8>,
    ) -> Logged {
        let start = out.len();
        let capacity = self.state.map.capacity();
        // Held until the record is appended or the grant undone (see
        // `Durable::grants`).
        let _grants = self.durable.as_ref().map(|_| self.state.grants.read());
        // Checked again under the grants lock, which `REMOVEMAP` holds
        // while it decides: a grant either lands before the removal looks
        // at the bookings (and is counted), or is refused here; none is
        // journaled for a removed map.
        if self.durable.is_some() && self.is_removed() {
            Reply::MapGone(&self.state.name).write_on(out, &self.state.spec);
            return Logged::unchanged(true);
        }
        let reply = self.execute(command, scratch, counters);
        reply.write_on(out, &self.state.spec);
        let error = reply.is_error();
        let mut hold = None;
        let (granted, booking) = match reply {
            Reply::Held {
                reference,
                seats: SeatList::Runs(runs),
                expires_ms,
                placed_ms,
                ..
            } => {
                hold = Some(HoldTimes {
                    reference: reference.to_raw(),
                    expires_ms,
                    placed_ms,
                });
                (runs.to_vec(), None)
            }
            Reply::Original { numbers, outcomes } => {
                (granted_runs(numbers, outcomes, capacity), None)
            }
            Reply::Booked {
                reference,
                numbers,
                outcomes,
            } => (granted_runs(numbers, outcomes, capacity), Some(reference)),
            Reply::Seats {
                reference,
                seats: SeatList::Runs(runs),
            }
            | Reply::Together {
                reference,
                seats: SeatList::Runs(runs),
                ..
            } => (runs.to_vec(), Some(reference)),
            _ => return Logged::unchanged(error),
        };
        if granted.is_empty() {
            return Logged::unchanged(error);
        }
        let now = now_ms();
        let Some(d) = &self.durable else {
            if let (Some(id), Some(ids)) = (id, ids) {
                ids.insert(id, &out[start..], now, 0);
            }
            return Logged::unchanged(error);
        };
        let reply_bytes = &out[start..];
        let change = Change {
            granted: &granted,
            booking: booking.map(BookingRef::to_raw),
            hold,
            released: None,
            id: id.map(|id| (id, reply_bytes)),
            ..Change::default()
        };
        let appended = d.journal.append(self.state.id, now, |seq| {
            // In the closure, so the id is in the table once seq is out
            // (a snapshot at seq must hold it).
            if let (Some(id), Some(ids)) = (id, ids.as_deref_mut()) {
                ids.insert(id, reply_bytes, now, seq);
            }
            change.encode()
        });
        match appended {
            Ok(ticket) => Logged {
                commit: Commit::Pending(ticket),
                error,
                snapshot_due: d.snapshot_every != 0 && ticket.seq % d.snapshot_every == 0,
            },
            Err(AppendError::Failed(fatal)) => Logged {
                commit: Commit::Failed(fatal),
                error: true,
                snapshot_due: false,
            },
            Err(e) => {
                // Nothing was journaled: undo the grant in memory (no one
                // was told of these seats, and no one else can hold them).
                if let (Some(id), Some(ids)) = (id, ids) {
                    ids.remove(id);
                }
                if let Some(r) = booking {
                    self.state.bookings.remove(r);
                }
                if let Some(h) = hold {
                    self.state
                        .holds
                        .lock()
                        .open
                        .remove(&BookingRef::from_raw(h.reference));
                }
                runs::release_runs(&self.state.map, &granted);
                out.truncate(start);
                refused(&e, out, &self.state.spec);
                Logged::unchanged(true)
            }
        }
    }

    /// CANCEL: the booking is removed and its seats freed inside the append
    /// closure (seq before the release).
    fn cancel_logged(
        &self,
        text: &str,
        id: Option<&str>,
        mut ids: Option<&mut Ids>,
        scratch: ExecScratch<'_>,
        out: &mut Vec<u8>,
    ) -> Logged {
        let start = out.len();
        let found =
            BookingRef::from_text(text).and_then(|r| Some((r, self.state.bookings.get(r)?)));
        let mut unknown = |out: &mut Vec<u8>| {
            out.truncate(start);
            *scratch.text = quote(text);
            Reply::UnknownBooking(scratch.text).write_on(out, &self.state.spec);
            Logged::unchanged(true)
        };
        let Some((reference, held)) = found else {
            return unknown(out);
        };
        Reply::Cancelled {
            reference,
            seats: SeatList::Runs(&held),
        }
        .write_on(out, &self.state.spec);
        let now = now_ms();
        let Some(d) = &self.durable else {
            // Memory only, with an id: as without one.
            if self.state.bookings.remove(reference).is_none() {
                return unknown(out);
            }
            runs::release_runs(&self.state.map, &held);
            if let (Some(id), Some(ids)) = (id, ids) {
                ids.insert(id, &out[start..], now, 0);
            }
            return Logged::unchanged(false);
        };
        let mut won = false;
        let reply_bytes = &out[start..];
        let appended = d.journal.append(self.state.id, now, |seq| {
            // Under the journal's queue lock, seq taken: now the release.
            // The table entry goes first, so two CANCELs of one reference
            // cannot both free the seats; the loser writes an empty record.
            if self.state.bookings.remove(reference).is_none() {
                return Change::default().encode();
            }
            runs::release_runs(&self.state.map, &held);
            won = true;
            if let (Some(id), Some(ids)) = (id, ids.as_deref_mut()) {
                ids.insert(id, reply_bytes, now, seq);
            }
            Change {
                released: Some((reference.to_raw(), &held)),
                id: id.map(|id| (id, reply_bytes)),
                ..Change::default()
            }
            .encode()
        });
        match appended {
            Ok(ticket) if won => Logged {
                commit: Commit::Pending(ticket),
                error: false,
                snapshot_due: d.snapshot_every != 0 && ticket.seq % d.snapshot_every == 0,
            },
            Ok(_) => unknown(out),
            Err(AppendError::Failed(fatal)) => Logged {
                commit: Commit::Failed(fatal),
                error: true,
                snapshot_due: false,
            },
            Err(e) => {
                if won {
                    // Only `TooLarge` refuses after the closure ran, and a
                    // cancel record is far below the limit; undo anyway.
                    if let (Some(id), Some(ids)) = (id, ids) {
                        ids.remove(id);
                    }
                    for run in &held {
                        let _ = self.state.map.reserve_range(run.clone());
                    }
                    self.state.bookings.insert_as(reference, held);
                }
                out.truncate(start);
                refused(&e, out, &self.state.spec);
                Logged::unchanged(true)
            }
        }
    }
}

/// The seats a per-seat request granted, as ascending runs.
fn granted_runs(numbers: &[Number], outcomes: &[SeatOutcome], capacity: u64) -> Vec<Range<u64>> {
    let mut seats: Vec<u64> = numbers
        .iter()
        .zip(outcomes)
        .filter(|(_, o)| **o == SeatOutcome::Reserved)
        .filter_map(|(n, _)| n.library_seat(capacity))
        .collect();
    seats.sort_unstable();
    let mut held = Vec::new();
    runs::push_runs(&seats, &mut held);
    held
}

/// The reply to a refused append: `ERR record-too-large` for a change
/// whose record is over the journal's limit (it would be refused however
/// much space there is), `ERR disk-full` otherwise.
pub(super) fn refused(e: &AppendError, out: &mut Vec<u8>, spec: &MapSpec) {
    let why = match e {
        AppendError::TooLarge { len, max } => {
            return Reply::RecordTooLarge {
                len: *len,
                max: *max,
            }
            .write_on(out, spec);
        }
        AppendError::Unavailable(why) => {
            return Reply::OperatorFailed {
                code: "no-owner",
                why,
            }
            .write_on(out, spec);
        }
        AppendError::DiskFull => "no space left for the journal".to_string(),
        other => other.to_string(),
    };
    Reply::DiskFull(&why).write_on(out, spec);
}

/// Now, in ms since the Unix epoch (0 if the clock is before it).
pub(crate) fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}

#[cfg(test)]
#[path = "journal_tests.rs"]
mod tests;

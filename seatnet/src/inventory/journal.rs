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

use parking_lot::{Mutex, RwLock};
use seatcore::SeatMap;
use seatlog::{AppendError, Fatal, Journal, Options, Storage, Ticket};

use super::bookings::Bookings;
use super::{BookingRef, ExecScratch, Inventory, runs};
use crate::Answered;
use crate::config::Config;
use crate::durable::ids::Ids;
use crate::durable::record::{Change, ChangeRecord};
use crate::durable::{Commit, DataError, DataOptions, Durable, Opened, state};
use crate::protocol::{Command, Number, Reply, SeatList, SeatOutcome, quote};
use crate::stats::Counters;

/// The one map of this server, as journal map id (issue 7 brings more).
const MAP_ID: u32 = 0;

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
    /// Opens (or creates) the data directory `dir` for a map of `seats`
    /// seats and replays it: the newest snapshot, then every later record.
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
        let dir = dir.as_ref();
        let storage = seatlog::DirStorage::new(dir).map_err(|e| {
            DataError(format!(
                "cannot use {} as a data directory: {e}",
                dir.display()
            ))
        })?;
        Inventory::open_in(seats, Arc::new(storage), options)
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
        let mut journal_options = Options::new(format!("seats={seats}"));
        journal_options.sync = options.fsync;
        journal_options.segment_size = options.segment_size;
        journal_options.max_record_size = options.max_record_size;
        let dir = storage.describe();
        let (journal, recovered) = Journal::open_in(storage, journal_options).map_err(|e| match e {
            seatlog::Error::MetaMismatch { on_disk, .. } => DataError(format!(
                "data directory {dir} holds a map of \"{on_disk}\", but --seats is {seats}; start with --seats matching it or use another directory"
            )),
            e => DataError(e.to_string()),
        })?;
        let bookings = Bookings::new();
        let mut ids = Ids::default();
        let mut opened = Opened {
            warnings: recovered.warnings,
            ..Opened::default()
        };
        if let Some(t) = &recovered.torn_tail {
            opened.warnings.push(format!("dropped a torn tail: {t:?}"));
        }
        // The map comes from the snapshot when there is one, else empty:
        // built once either way.
        let mut map = match &recovered.snapshot {
            Some(snapshot) => {
                let state = state::decode(&snapshot.bytes, seats).map_err(|e| {
                    DataError(format!(
                        "data directory {dir}: snapshot at seq {} cannot be read: {e}",
                        snapshot.seq
                    ))
                })?;
                for (reference, held) in state.bookings {
                    bookings.insert_as(BookingRef::from_raw(reference), held);
                }
                for (id, e) in state.ids {
                    ids.insert(&id, &e.reply, e.time_ms, e.seq);
                }
                opened.snapshot_seq = Some(snapshot.seq);
                SeatMap::from_snapshot(&state.map)
            }
            None => SeatMap::new(seats),
        }
        .map_err(|e| DataError(e.to_string()))?;
        for record in &recovered.records {
            let change = ChangeRecord::decode(&record.payload, seats).map_err(|e| {
                DataError(format!(
                    "data directory {dir}: record {} cannot be read: {e}",
                    record.seq
                ))
            })?;
            replay(
                &mut map,
                &bookings,
                &mut ids,
                record.seq,
                record.time_ms,
                change,
            );
        }
        opened.records = recovered.records.len();
        let inventory = Inventory {
            map,
            bookings,
            max_seats: Config::DEFAULT_MAX_SEATS_PER_REQUEST,
            ids: Mutex::new(ids),
            durable: Some(Durable {
                journal,
                snapshot_every: options.snapshot_every,
                last_snapshot: Mutex::new(opened.snapshot_seq.unwrap_or(0)),
                grants: RwLock::new(()),
            }),
        };
        Ok((inventory, opened))
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

    /// Writes a snapshot of the seats, bookings and request ids as of the
    /// journal's last record, unless one was written there already.
    /// Returns its seq. Safe while requests run (see the module docs).
    ///
    /// # Errors
    ///
    /// [`DataError`] if it cannot be written (the journal keeps working;
    /// a failed sync is fatal and shows up on the next wait too).
    pub fn snapshot(&self) -> Result<Option<u64>, DataError> {
        let Some(d) = &self.durable else {
            return Ok(None);
        };
        let mut last = d.last_snapshot.lock();
        self.snapshot_locked(d, &mut last)
    }

    fn snapshot_locked(&self, d: &Durable, last: &mut u64) -> Result<Option<u64>, DataError> {
        let (seq, map, bookings) = {
            // No grant is between its RMW and its append meanwhile, so
            // every grant the map shows has a record <= seq; and every
            // record <= seq is applied in memory once seq is handed out.
            let _grants = d.grants.write();
            let seq = d.journal.last_seq();
            if seq == *last {
                return Ok(None);
            }
            (seq, self.map.snapshot(), self.bookings.entries())
        };
        // Taken after the grants lock is released: a request with an id
        // holds the id lock while it waits for the grants lock.
        let bytes = state::encode(&map, &bookings, &self.ids.lock());
        // The state may also hold cancels (and ids) of records after seq;
        // make them durable before the snapshot can be used, so replaying
        // them over it (idempotent) is always possible.
        d.journal.sync().map_err(|e| DataError(e.to_string()))?;
        d.journal
            .write_snapshot(seq, &bytes)
            .map_err(|e| DataError(e.to_string()))?;
        *last = seq;
        Ok(Some(seq))
    }

    /// A periodic snapshot, unless another one is being written.
    fn snapshot_if_free(&self) {
        let Some(d) = &self.durable else { return };
        let Some(mut last) = d.last_snapshot.try_lock() else {
            return;
        };
        if let Err(e) = self.snapshot_locked(d, &mut last) {
            tracing::warn!(error = %e, "periodic snapshot failed");
        }
    }

    /// Whether `command` goes through [`respond_change`](Self::respond_change):
    /// a change, when there is a journal or a request id.
    pub(super) fn logs(&self, command: &Command<'_>, id: Option<&str>) -> bool {
        let change = matches!(
            command,
            Command::Original(_)
                | Command::Book(_)
                | Command::All(_)
                | Command::Any(_)
                | Command::Together(_)
                | Command::Cancel(_)
        );
        change && (self.durable.is_some() || id.is_some())
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
        let mut ids = id.map(|_| self.ids.lock());
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
            match command {
                Command::Cancel(text) => self.cancel_logged(text, id, ids, scratch, out),
                command => self.grant_logged(command, id, ids, scratch, counters, out),
            }
        };
        // The snapshot reads the id table: release it first.
        drop(ids);
        if logged.snapshot_due {
            self.snapshot_if_free();
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
        let capacity = self.map.capacity();
        // Held until the record is appended or the grant undone (see
        // `Durable::grants`).
        let _grants = self.durable.as_ref().map(|d| d.grants.read());
        let reply = self.execute(command, scratch, counters);
        reply.write_to(out);
        let error = reply.is_error();
        let (granted, booking) = match reply {
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
            released: None,
            id: id.map(|id| (id, reply_bytes)),
        };
        let appended = d.journal.append(MAP_ID, now, |seq| {
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
                    self.bookings.remove(r);
                }
                runs::release_runs(&self.map, &granted);
                out.truncate(start);
                Reply::DiskFull(&refusal(&e)).write_to(out);
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
        let found = BookingRef::from_text(text).and_then(|r| Some((r, self.bookings.get(r)?)));
        let mut unknown = |out: &mut Vec<u8>| {
            out.truncate(start);
            *scratch.text = quote(text);
            Reply::UnknownBooking(scratch.text).write_to(out);
            Logged::unchanged(true)
        };
        let Some((reference, held)) = found else {
            return unknown(out);
        };
        Reply::Cancelled {
            reference,
            seats: SeatList::Runs(&held),
        }
        .write_to(out);
        let now = now_ms();
        let Some(d) = &self.durable else {
            // Memory only, with an id: as without one.
            if self.bookings.remove(reference).is_none() {
                return unknown(out);
            }
            runs::release_runs(&self.map, &held);
            if let (Some(id), Some(ids)) = (id, ids) {
                ids.insert(id, &out[start..], now, 0);
            }
            return Logged::unchanged(false);
        };
        let mut won = false;
        let reply_bytes = &out[start..];
        let appended = d.journal.append(MAP_ID, now, |seq| {
            // Under the journal's queue lock, seq taken: now the release.
            // The table entry goes first, so two CANCELs of one reference
            // cannot both free the seats; the loser writes an empty record.
            if self.bookings.remove(reference).is_none() {
                return Change::default().encode();
            }
            runs::release_runs(&self.map, &held);
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
                        let _ = self.map.reserve_range(run.clone());
                    }
                    self.bookings.insert_as(reference, held);
                }
                out.truncate(start);
                Reply::DiskFull(&refusal(&e)).write_to(out);
                Logged::unchanged(true)
            }
        }
    }
}

/// Applies one replayed record (idempotent: replaying it over a state that
/// already has it changes nothing).
fn replay(
    map: &mut SeatMap,
    bookings: &Bookings,
    ids: &mut Ids,
    seq: u64,
    time_ms: u64,
    change: ChangeRecord,
) {
    for run in &change.granted {
        // In range: decode checked every run against the seat count.
        let _ = map.set_range_mut(run.clone(), true);
    }
    if let Some(reference) = change.booking {
        bookings.insert_as(BookingRef::from_raw(reference), change.granted);
    }
    if let Some((reference, held)) = change.released {
        bookings.remove(BookingRef::from_raw(reference));
        for run in held {
            let _ = map.set_range_mut(run, false);
        }
    }
    if let Some((id, reply)) = change.id {
        ids.insert(&id, &reply, time_ms, seq);
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

/// The text of `ERR disk-full` for a refused append.
fn refusal(e: &AppendError) -> String {
    match e {
        AppendError::DiskFull => "no space left for the journal".to_string(),
        other => other.to_string(),
    }
}

/// Now, in ms since the Unix epoch (0 if the clock is before it).
fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}

#[cfg(test)]
#[path = "journal_tests.rs"]
mod tests;

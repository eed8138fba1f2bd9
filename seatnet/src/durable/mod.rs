//! Durability on top of [`seatlog`]: what a change request writes to the
//! journal (`record`), snapshots of the whole state (`state`), request ids
//! (`ids`), and what holds a reply back until its change is on disk
//! ([`Commit`], [`Unsettled`]; the server's poller does the holding).
//!
//! Opening a data directory and replaying it into an
//! [`Inventory`], and the journaled request paths, are in
//! `inventory/journal.rs`. `docs/design.md` ("seatnet durability") has the
//! formats and why replay reproduces memory.

mod codec;
pub(crate) mod ids;
mod log;
pub(crate) mod record;
pub(crate) mod state;

mod snapshot;

use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;

use parking_lot::{Mutex, RwLock};
use seatlog::{Fatal, SyncPolicy, Ticket};

use crate::inventory::MapState;

pub(crate) use log::Log;

/// How to keep a data directory.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DataOptions {
    /// When the journal syncs (`--fsync`; default [`SyncPolicy::Always`]).
    pub fsync: SyncPolicy,
    /// A snapshot after every this many records (`--snapshot-every`; 0:
    /// only at clean shutdown and at start after a replay).
    pub snapshot_every: u64,
    /// Preallocated size of a journal segment, in bytes.
    pub segment_size: u64,
    /// Largest record, in bytes; a change whose record would be longer is
    /// refused (`ERR disk-full: record of N bytes exceeds ...`). A segment
    /// must hold at least one record of this size.
    pub max_record_size: usize,
}

impl DataOptions {
    /// Default `--snapshot-every`: a million records, about 35 MB of
    /// journal (the order of Redis's 64 MB `auto-aof-rewrite-min-size`),
    /// which replays in well under a second here (docs/performance.md), while
    /// a 10M-seat map's 1.25 MB snapshot (and its sync, beside the
    /// journal's) comes ten times less often than at 100,000, which cost a
    /// third of pipelined durable throughput.
    pub const DEFAULT_SNAPSHOT_EVERY: u64 = 1_000_000;
    /// Default segment size: 64 MiB.
    pub const DEFAULT_SEGMENT_SIZE: u64 = 64 << 20;
    /// Default largest record: 1 MiB.
    pub const DEFAULT_MAX_RECORD_SIZE: usize = 1 << 20;
}

impl Default for DataOptions {
    fn default() -> Self {
        DataOptions {
            fsync: SyncPolicy::Always,
            snapshot_every: Self::DEFAULT_SNAPSHOT_EVERY,
            segment_size: Self::DEFAULT_SEGMENT_SIZE,
            max_record_size: Self::DEFAULT_MAX_RECORD_SIZE,
        }
    }
}

/// What opening a data directory found.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Opened {
    /// The snapshot replay started from (its seq), if any.
    pub snapshot_seq: Option<u64>,
    /// Records replayed after it.
    pub records: usize,
    /// Loud warnings from recovery (a skipped corrupt snapshot, a dropped
    /// torn tail).
    pub warnings: Vec<String>,
}

/// Why a data directory could not be used.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DataError(pub(crate) String);

impl fmt::Display for DataError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for DataError {}

/// The journal every map of a server shares, when it last took a
/// snapshot, and every map (for snapshots).
#[derive(Debug)]
pub(crate) struct Durable {
    pub(crate) journal: Log,
    pub(crate) snapshot_every: u64,
    /// The seq of the last snapshot written; held while one is written.
    pub(crate) last_snapshot: Mutex<u64>,
    /// Every map by id. Read by snapshots, changed by `ADDMAP` and
    /// `REMOVEMAP` while they hold `last_snapshot` (so a snapshot never
    /// misses a map defined before its seq, nor holds one removed before
    /// it); never on the request path.
    pub(crate) maps: RwLock<IdTable<Arc<MapState>>>,
}

/// Maps by journal id, and the id the next new map gets. Ids are never
/// used again: one below `next_id` that is missing was removed. Sparse, so
/// maps added and removed over years cost nothing once gone.
#[derive(Debug)]
pub(crate) struct IdTable<T> {
    pub(crate) next_id: u32,
    pub(crate) by_id: BTreeMap<u32, T>,
}

impl<T> Default for IdTable<T> {
    fn default() -> Self {
        IdTable {
            next_id: 0,
            by_id: BTreeMap::new(),
        }
    }
}

impl<T> IdTable<T> {
    /// Adds `value` under `next_id` (which the caller gave it), or says
    /// that no id is left.
    pub(crate) fn add(&mut self, value: T) -> Result<u32, String> {
        let id = self.next_id;
        self.next_id = id
            .checked_add(1)
            .ok_or_else(|| "no map ids are left".to_string())?;
        self.by_id.insert(id, value);
        Ok(id)
    }

    /// Whether `id` was used by a map since removed.
    pub(crate) fn is_removed(&self, id: u32) -> bool {
        id < self.next_id && !self.by_id.contains_key(&id)
    }
}

/// Whether a reply must wait before it is sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Commit {
    /// Nothing was journaled: send at once.
    None,
    /// Send once this ticket is durable ([`Inventory::wait_durable`](crate::Inventory::wait_durable)).
    Pending(Ticket),
    /// The journal failed: never send; the process must stop
    /// ([`fail_stop`]).
    Failed(Fatal),
}

/// The replies of one batch not yet allowed out: the highest ticket (the
/// watermark reaching it covers every lower seq) or the journal's failure.
#[derive(Debug, Default)]
pub struct Unsettled {
    lowest: Option<Ticket>,
    highest: Option<Ticket>,
    failed: Option<Fatal>,
}

impl Unsettled {
    /// Notes a reply's commit.
    pub fn note(&mut self, commit: Commit) {
        match commit {
            Commit::None => {}
            Commit::Pending(t) => {
                self.lowest = Some(self.lowest.map_or(t, |l| l.min(t)));
                self.highest = self.highest.max(Some(t));
            }
            Commit::Failed(f) => self.failed = Some(f),
        }
    }

    /// Whether some noted reply waits for the journal (or it failed).
    #[must_use]
    pub fn is_pending(&self) -> bool {
        self.highest.is_some() || self.failed.is_some()
    }

    /// Notes every commit `other` noted.
    pub fn merge(&mut self, other: Unsettled) {
        self.lowest = match (self.lowest, other.lowest) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        self.highest = self.highest.max(other.highest);
        self.failed = self.failed.take().or(other.failed);
    }

    /// The lowest ticket a noted reply waits for: with the one
    /// [`take`](Self::take) gives, the range whose loss (cluster mode,
    /// [`Inventory::lost_between`](crate::Inventory::lost_between)) keeps
    /// the replies from ever being sent.
    #[must_use]
    pub fn lowest(&self) -> Option<Ticket> {
        self.lowest
    }

    /// The ticket the noted replies wait for (`None`: they may go out
    /// now), leaving this empty. On a journal failure this never returns:
    /// it calls [`fail_stop`].
    #[must_use]
    pub fn take(&mut self) -> Option<Ticket> {
        if let Some(fatal) = self.failed.take() {
            fail_stop(&fatal);
        }
        self.lowest = None;
        self.highest.take()
    }
}

/// Fail-stop: a change is in memory that can no longer be made durable, so
/// nothing more may be acknowledged. Logs the error and exits with status
/// 70 (`EX_SOFTWARE`); the next start recovers what is on disk.
pub fn fail_stop(fatal: &Fatal) -> ! {
    tracing::error!(error = %fatal, "the journal failed; stopping without acknowledging");
    eprintln!("seatnet-server: {fatal}; stopping (restart recovers what is on disk)");
    std::process::exit(70)
}

//! [`Log`]: where a server's records go. Its own journal on disk
//! ([`seatlog`], `--data-dir`), or, in cluster mode, etcd through the
//! node's committer ([`ClusterLog`]). The request paths append, wait and
//! read the watermark the same way on both.

use std::sync::Arc;

use seatlog::{AppendError, Fatal, Journal, ProgressHook, Stats, Ticket};

use crate::cluster::ClusterLog;

/// The journal of a durable server: see the module docs.
#[derive(Debug)]
pub(crate) enum Log {
    /// A data directory.
    Disk(Journal),
    /// etcd, in cluster mode.
    Cluster(Arc<ClusterLog>),
}

impl Log {
    /// Queues a record of map `map` (see [`Journal::append`]).
    pub(crate) fn append(
        &self,
        map: u32,
        time_ms: u64,
        payload: impl FnOnce(u64) -> Vec<u8>,
    ) -> Result<Ticket, AppendError> {
        match self {
            Log::Disk(journal) => journal.append(map, time_ms, payload),
            Log::Cluster(log) => log.append(map, time_ms, payload),
        }
    }

    /// Blocks until `ticket` is durable (committed, in etcd).
    pub(crate) fn wait_durable(&self, ticket: Ticket) -> Result<(), Fatal> {
        match self {
            Log::Disk(journal) => journal.wait_durable(ticket),
            Log::Cluster(log) => log.wait_durable(ticket),
        }
    }

    /// The watermark replies wait for.
    pub(crate) fn acknowledged(&self) -> Result<u64, Fatal> {
        match self {
            Log::Disk(journal) => journal.acknowledged(),
            Log::Cluster(log) => Ok(log.acknowledged()),
        }
    }

    /// Whether a ticket in `low..=high` was lost (never committed), so the
    /// replies waiting for it must never be sent. Never, on disk: there a
    /// failure stops the process.
    pub(crate) fn lost_between(&self, low: u64, high: u64) -> bool {
        match self {
            Log::Disk(_) => false,
            Log::Cluster(log) => log.lost_between(low, high),
        }
    }

    pub(crate) fn set_progress_hook(&self, hook: Option<ProgressHook>) {
        match self {
            Log::Disk(journal) => journal.set_progress_hook(hook),
            Log::Cluster(log) => log.set_progress_hook(hook),
        }
    }

    pub(crate) fn stats(&self) -> Stats {
        match self {
            Log::Disk(journal) => journal.stats(),
            Log::Cluster(log) => log.stats(),
        }
    }

    /// The journal on disk, if this is one (snapshots and backups).
    pub(crate) fn disk(&self) -> Option<&Journal> {
        match self {
            Log::Disk(journal) => Some(journal),
            Log::Cluster(_) => None,
        }
    }
}

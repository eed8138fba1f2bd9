//! [`Committer`]: the server's group-commit batch, records per map, as
//! one fenced etcd transaction (`docs/cluster.md`, "The write path").
//!
//! Each map's records of the batch are packed into one log value
//! (`records.rs`), so a batch costs one put per map changed and one
//! compare per map, in one transaction while it fits etcd's limits
//! ([`Cluster::commit_batch`] splits it, in order, when it does not).
//! When the fence fails for some maps, nothing of the transaction was
//! written: those maps are reported [`Outcome::Fenced`] (and dropped,
//! [`Lost::Fenced`]), and the others' records are sent again at once
//! without them. An [`Error`] (unavailable, outcome unknown) leaves the
//! batch unacknowledged: the server retries the identical batch, which is
//! harmless whether or not the first attempt landed.
//!
//! [`Cluster::commit_batch`]: crate::Cluster::commit_batch
//! [`Lost::Fenced`]: crate::node::Lost::Fenced

use std::collections::HashSet;
use std::sync::Arc;

use crate::batch::LogEntry;
use crate::error::{Error, Result};
use crate::node::{Fence, Inner};
use crate::records::{Record, pack};

/// One map's records of a batch, and the fence the server applied them
/// under ([`crate::node::MapOwner::Mine`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MapRecords {
    /// The map.
    pub map: String,
    /// The fence `owner_of` answered when the records were made.
    pub fence: Fence,
    /// The records, in increasing `seq`.
    pub records: Vec<Record>,
}

/// What became of one map's records.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Durable in etcd: acknowledge them.
    Committed,
    /// The map is no longer this node's under that fence: nothing of it
    /// was written by this commit; acknowledge none of it, drop the map.
    Fenced,
}

/// Commits a node's batches; made by [`crate::node::Node::committer`].
pub struct Committer {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for Committer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Committer").finish_non_exhaustive()
    }
}

impl Committer {
    pub(crate) fn new(inner: Arc<Inner>) -> Committer {
        Committer { inner }
    }

    /// Commits `batch` (each map at most once) and returns each map's
    /// [`Outcome`], in `batch` order. On an `Err` nothing may be
    /// acknowledged; retry the identical batch (`Error::is_transient`) or
    /// give up on it. A map with no records is `Committed` without a
    /// request.
    pub fn commit(&self, batch: &[MapRecords]) -> Result<Vec<Outcome>> {
        let mut seen = HashSet::new();
        if let Some(twice) = batch.iter().find(|m| !seen.insert(m.map.as_str())) {
            return Err(Error::Invalid(format!(
                "map {} appears twice in one batch",
                twice.map
            )));
        }
        // Half a transaction per value, so two maps' values share one.
        let budget = self.inner.cluster.limits().max_txn_bytes / 2;
        let mut packed: Vec<Vec<LogEntry>> = Vec::with_capacity(batch.len());
        for m in batch {
            let values = pack(&m.records, budget)
                .map_err(|e| Error::Invalid(format!("map {}: {e}", m.map)))?;
            packed.push(
                values
                    .into_iter()
                    .map(|(last_seq, records)| LogEntry {
                        map: m.map.clone(),
                        last_seq,
                        records,
                    })
                    .collect(),
            );
        }

        let mut outcomes = vec![Outcome::Committed; batch.len()];
        let mut pending: Vec<usize> = (0..batch.len())
            .filter(|&i| !packed[i].is_empty())
            .collect();
        let _one_in_flight = self
            .inner
            .commit_lock
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        // Each round either commits or removes at least one fenced map.
        while !pending.is_empty() {
            let owned: Vec<_> = pending
                .iter()
                .map(|&i| batch[i].fence.ownership(&batch[i].map))
                .collect();
            let entries: Vec<LogEntry> = pending
                .iter()
                .flat_map(|&i| packed[i].iter().cloned())
                .collect();
            match self.inner.cluster.commit_batch(&owned, &entries) {
                Ok(_) => return Ok(outcomes),
                Err(Error::OwnershipLost { maps, .. }) if !maps.is_empty() => {
                    for map in &maps {
                        if let Some(&i) = pending.iter().find(|&&i| &batch[i].map == map) {
                            outcomes[i] = Outcome::Fenced;
                            self.inner.fenced(map, batch[i].fence);
                        }
                    }
                    pending.retain(|&i| outcomes[i] == Outcome::Committed);
                }
                Err(e) => return Err(e),
            }
        }
        Ok(outcomes)
    }

    /// Stores `bytes` as `map`'s snapshot through `seq` (every record up
    /// to it committed) and trims the log it covers
    /// ([`crate::Cluster::put_snapshot`]); may run beside [`Committer::commit`].
    pub fn put_snapshot(&self, map: &str, fence: Fence, seq: u64, bytes: &[u8]) -> Result<Outcome> {
        match self
            .inner
            .cluster
            .put_snapshot(&fence.ownership(map), seq, bytes)
        {
            Ok(_) => Ok(Outcome::Committed),
            Err(Error::OwnershipLost { .. }) => {
                self.inner.fenced(map, fence);
                Ok(Outcome::Fenced)
            }
            Err(e) => Err(e),
        }
    }
}

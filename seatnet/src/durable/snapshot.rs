//! Snapshots of every map at once: one file, consistent with one journal
//! seq (the sequence-number rule of `inventory/journal.rs`, per map).

use super::state::{self, MapParts};
use super::{DataError, Durable};

impl Durable {
    /// Writes a snapshot of every map as of the journal's last record,
    /// unless one was written there already. Returns its seq.
    pub(crate) fn snapshot(&self) -> Result<Option<u64>, DataError> {
        let mut last = self.last_snapshot.lock();
        self.snapshot_locked(&mut last, false)
    }

    /// Writes a snapshot of every map now, even if one was written at the
    /// journal's last record already (the operator's `SNAPSHOT`). Returns
    /// its seq.
    pub(crate) fn snapshot_now(&self) -> Result<u64, DataError> {
        let mut last = self.last_snapshot.lock();
        self.snapshot_locked(&mut last, true)
            .map(|seq| seq.unwrap_or(*last))
    }

    /// A periodic snapshot, unless another one is being written.
    pub(crate) fn snapshot_if_free(&self) {
        let Some(mut last) = self.last_snapshot.try_lock() else {
            return;
        };
        if let Err(e) = self.snapshot_locked(&mut last, false) {
            tracing::warn!(error = %e, "periodic snapshot failed");
        }
    }

    /// Unless `force`, not if one was written at the last seq already.
    fn snapshot_locked(&self, last: &mut u64, force: bool) -> Result<Option<u64>, DataError> {
        // In cluster mode each map's snapshot goes to etcd
        // (`cluster/log.rs`); there is no file to write.
        let Some(journal) = self.journal.disk() else {
            return Ok(None);
        };
        let (next_id, maps) = {
            let registry = self.maps.read();
            let live: Vec<_> = registry.by_id.values().cloned().collect();
            (registry.next_id, live)
        };
        let (seq, captured) = {
            // No grant on any map is between its RMW and its append
            // meanwhile, so every grant a map shows has a record <= seq;
            // and every record <= seq is applied in memory once seq is
            // handed out. Taken in map-id order, the one order every
            // snapshot uses (a request takes only its own map's lock).
            let _grants: Vec<_> = maps.iter().map(|m| m.grants.write()).collect();
            let seq = journal.last_seq();
            if seq == *last && !force {
                return Ok(None);
            }
            let captured: Vec<_> = maps
                .iter()
                .map(|m| (m.map.snapshot(), m.bookings.entries(), m.holds.entries()))
                .collect();
            (seq, captured)
        };
        // Taken after the grants locks are released: a request with an id
        // holds its id lock while it waits for its grants lock.
        let ids: Vec<_> = maps.iter().map(|m| m.ids.lock()).collect();
        let parts: Vec<MapParts<'_>> = maps
            .iter()
            .zip(captured)
            .zip(&ids)
            .map(|((m, (map, bookings, (holds, expired))), ids)| MapParts {
                id: m.id,
                name: &m.name,
                spec: m.spec.to_string(),
                map,
                bookings,
                holds,
                expired,
                ids,
            })
            .collect();
        let bytes = state::encode(next_id, &parts);
        drop(parts);
        drop(ids);
        // The state may also hold cancels (and ids) of records after seq;
        // make them durable before the snapshot can be used, so replaying
        // them over it (idempotent) is always possible.
        journal.sync().map_err(|e| DataError(e.to_string()))?;
        journal
            .write_snapshot(seq, &bytes)
            .map_err(|e| DataError(e.to_string()))?;
        *last = seq;
        Ok(Some(seq))
    }
}

//! The server's side of the node's [`MapEvents`]: a map gained is rebuilt
//! from etcd and swapped into the catalog before the node serves it; a
//! map lost stops taking records and is dropped from memory (what it held
//! that had not committed must never be served).

use std::sync::Arc;

use seatcluster::{Fence, LoadedMap, Lost, MapEvents};
use tracing::{info, warn};

use super::log::ClusterLog;
use super::state::rebuild;
use crate::catalog::Catalog;
use crate::inventory::MapState;

/// The catalog and the journal the node's events act on.
#[derive(Debug)]
pub(super) struct Events {
    pub(super) catalog: Arc<Catalog>,
    pub(super) log: Arc<ClusterLog>,
}

impl MapEvents for Events {
    fn gained(&self, map: &str, fence: Fence, state: LoadedMap) -> Result<(), String> {
        if self.log.has_unsettled(map) {
            // Refused: the node releases the owner key, which fences those
            // records off; the map is taken again, and read afresh, at a
            // later poll.
            return Err(format!(
                "map {map}: records from before this node last dropped it are still being committed"
            ));
        }
        let next_seq = state.last_seq() + 1;
        let from_snapshot = state.snapshot.as_ref().map(|s| s.seq);
        let records = state.records.len();
        let rebuilt = self
            .catalog
            .swap_map(map, |id, spec| rebuild(map, spec, id, &state))
            .inspect_err(|e| warn!(map, error = %e, "cannot rebuild the map from etcd"))?;
        self.log
            .register(map, fence, next_seq, records as u64, rebuilt);
        info!(
            map,
            revision = fence.revision,
            snapshot = ?from_snapshot,
            records,
            next_seq,
            "serving the map, rebuilt from etcd"
        );
        Ok(())
    }

    fn lost(&self, map: &str, fence: Fence, why: Lost) {
        self.log.unregister(map);
        let emptied = self.catalog.swap_map(map, |id, spec| {
            MapState::empty(id, map, spec.clone()).map_err(|e| e.to_string())
        });
        if let Err(e) = emptied {
            warn!(map, error = %e, "could not drop the map's state");
        }
        info!(map, revision = fence.revision, %why, "no longer serving the map");
    }
}

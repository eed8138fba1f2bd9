//! Handing maps back: a node that holds more than its share of the maps
//! (after a dead node came back, say) gives one back every few seconds to
//! the node that ranks first for it (`docs/cluster.md`, "Ownership").
//!
//! Only the server can make this safe, which is why the node library
//! leaves it here: the map stops taking changes (its appends are refused,
//! `ERR no-owner`, and clients retry), its last records commit, then
//! [`Node::release_map`] drops it and deletes its owner key (fenced), and
//! the first node in rank takes it with everything committed.

use std::time::Duration;

use crossbeam_channel::{Receiver, RecvTimeoutError};
use seatcluster::Node;
use tracing::{info, warn};

use super::log::ClusterLog;

/// How often the node looks for a map to give back (at most one each
/// time, so the maps move gradually).
const EVERY: Duration = Duration::from_secs(3);

/// How long the map's last records may take to commit before the map is
/// released anyway.
const FLUSH_PATIENCE: Duration = Duration::from_secs(10);

/// Runs until `stop` is dropped.
pub(super) fn run(node: &Node, log: &ClusterLog, stop: &Receiver<()>) {
    loop {
        match stop.recv_timeout(EVERY) {
            Err(RecvTimeoutError::Timeout) => {}
            _ => return,
        }
        // Not while the lease is unproven: the owner key could not be
        // deleted then, and a map dropped here with its key kept is taken
        // again by this node under the same fence, while a batch of its
        // records may still be retried under that fence (and commit after
        // the map was read back from etcd).
        if !node.is_live() {
            continue;
        }
        if let Some(map) = node.hand_back_candidate() {
            hand_back(node, log, &map);
        }
    }
}

fn hand_back(node: &Node, log: &ClusterLog, map: &str) {
    let last = log.close_map(map);
    if !log.wait_for(last, FLUSH_PATIENCE) {
        // Released anyway: a record still in flight then fails its fence
        // (the owner key is gone), so it is lost and never acknowledged.
        warn!(
            map,
            "handing the map back before its last records committed; they will not be acknowledged"
        );
    }
    match node.release_map(map) {
        Ok(true) => info!(
            map,
            "handed the map back to the node that ranks first for it"
        ),
        Ok(false) => {}
        Err(e) => {
            warn!(map, error = %e, "handing the map back: the owner key was not deleted (it goes with the lease)")
        }
    }
}

//! The node's poller: once per poll period it makes sure the node has a
//! live lease (joining again with a new one after etcd said the old one
//! is gone), reads the live nodes and the owners, and for every map this
//! node may serve:
//!
//! - held under this node's lease but not yet served (just taken, or an
//!   acquire whose answer was lost): loads it and hands it to the server;
//! - held by another node: remembers its address (and, if this node
//!   served it, the map is lost);
//! - unowned: if this node is k-th in the map's [`rank`] among the live
//!   nodes and has seen the map unowned for k poll periods, tries to take
//!   it. A map another node holds is never taken.
//!
//! It then names the hand-back candidate ([`Node::hand_back_candidate`]).
//!
//! [`Node::hand_back_candidate`]: super::Node::hand_back_candidate

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Instant;

use super::{Fence, Inner, LoadedMap, Lost, MAX_NODES, MAX_OWNERS, Slot, address_of, lock};
use crate::error::Error;
use crate::keeper::{LeaseKeeper, Liveness};
use crate::lease::Lease;
use crate::membership::rank;
use crate::ownership::{Acquire, Owner};

/// Polls until the node stops.
pub(super) fn run(inner: &Inner) {
    // When each map was first seen unowned (cleared once it has an owner).
    let mut unowned_since: HashMap<String, Instant> = HashMap::new();
    loop {
        if let Err(e) = poll_once(inner, &mut unowned_since) {
            inner.set_error(e);
        }
        if inner.wait_stop(inner.config.poll_every) {
            return;
        }
    }
}

fn poll_once(inner: &Inner, unowned_since: &mut HashMap<String, Instant>) -> Result<(), Error> {
    let (lease, live) = current_lease(inner)?;
    let seen = inner.releases_now();
    let mut nodes = inner.cluster.nodes(MAX_NODES)?;
    let owners: HashMap<String, Owner> = inner.cluster.owners(MAX_OWNERS)?.into_iter().collect();
    let name = inner.config.name.as_str();
    if !nodes.iter().any(|(n, _)| n == name) {
        // Our node key is gone though the lease lives (say an operator
        // deleted it): put it back.
        inner
            .cluster
            .register_node(name, &inner.config.advertise, &lease)?;
        nodes.push((name.to_string(), inner.config.advertise.clone()));
    }
    let live_names: Vec<&str> = nodes.iter().map(|(n, _)| n.as_str()).collect();
    // Take maps only with a lease that will last.
    let may_take = live.is_live(inner.config.margin);
    let now = Instant::now();
    let mut first_error = None;

    for map in &inner.config.maps {
        match owners.get(map) {
            Some(owner) if owner.lease == lease.id => {
                unowned_since.remove(map);
                let fence = Fence {
                    revision: owner.mod_revision,
                    lease: lease.id,
                };
                if inner.fence(map) != Some(fence)
                    && let Err(e) = take(inner, map, fence, &live, seen)
                {
                    first_error.get_or_insert(e);
                }
            }
            Some(owner) => {
                unowned_since.remove(map);
                held_elsewhere(inner, map, owner);
            }
            None => {
                inner.lose(map, None, Slot::Unknown, Lost::Vanished);
                let since = *unowned_since.entry(map.clone()).or_insert(now);
                let position = rank(map, &live_names).iter().position(|n| *n == name);
                let due = position.is_some_and(|k| {
                    now.duration_since(since) >= inner.config.poll_every * k as u32
                });
                if may_take
                    && due
                    && let Err(e) = acquire(inner, map, &lease, &live, seen)
                {
                    first_error.get_or_insert(e);
                }
            }
        }
    }

    let hand_back = hand_back(inner, &live_names);
    let mut status = lock(&inner.status);
    status.nodes = nodes;
    status.hand_back = hand_back;
    status.error = first_error;
    Ok(())
}

/// The lease to work under: the keeper's, or, once etcd said it is gone
/// (or the node has none), a new one after dropping every map.
fn current_lease(inner: &Inner) -> Result<(Lease, Arc<Liveness>), Error> {
    let mut keeper = lock(&inner.keeper);
    if let Some(k) = keeper.as_ref()
        && k.lost().is_none()
    {
        return Ok((k.lease(), k.liveness()));
    }
    // The lease is gone: so is every owner key under it.
    drop(keeper.take());
    drop(keeper);
    for map in &inner.config.maps {
        inner.lose(map, None, Slot::Unknown, Lost::LeaseLost);
    }
    let config = &inner.config;
    let mut etcd = crate::client::Config::new(&config.endpoints);
    etcd.timeout = config.etcd_timeout;
    let fresh = LeaseKeeper::start(etcd, config.lease_ttl, config.keep_alive_every)?;
    let lease = fresh.lease();
    let live = fresh.liveness();
    *lock(&inner.keeper) = Some(fresh);
    inner
        .cluster
        .register_node(&config.name, &config.advertise, &lease)?;
    Ok((lease, live))
}

/// Tries to take an unowned map.
fn acquire(
    inner: &Inner,
    map: &str,
    lease: &Lease,
    live: &Arc<Liveness>,
    seen: super::Releases,
) -> Result<(), Error> {
    match inner.cluster.try_acquire(map, &inner.me, lease)? {
        Acquire::Owned(own) => take(inner, map, Fence::of(&own), live, seen),
        Acquire::Taken(owner) if owner.lease == lease.id => {
            let fence = Fence {
                revision: owner.mod_revision,
                lease: lease.id,
            };
            take(inner, map, fence, live, seen)
        }
        Acquire::Taken(owner) => {
            held_elsewhere(inner, map, &owner);
            Ok(())
        }
    }
}

/// Another node holds `map`: point at it (and drop the map if this node
/// served it). A key of this node's name under another lease is a
/// previous run's (killed, then restarted): the map is moving, not
/// elsewhere, until that lease expires.
fn held_elsewhere(inner: &Inner, map: &str, owner: &Owner) {
    if owner.value.split(|&b| b == b' ').next() == Some(inner.config.name.as_bytes()) {
        inner.lose(map, None, Slot::Unknown, Lost::Vanished);
        return;
    }
    match address_of(&owner.value) {
        Some(addr) => inner.lose(map, None, Slot::Other(Arc::clone(&addr)), Lost::Taken(addr)),
        None => inner.lose(map, None, Slot::Unknown, Lost::Vanished),
    };
}

/// Loads a map this node holds and hands it to the server. A server that
/// refuses it gets it released, so another node may serve it; a load
/// that fails is tried again at the next poll (the key is still ours).
fn take(
    inner: &Inner,
    map: &str,
    fence: Fence,
    live: &Arc<Liveness>,
    seen: super::Releases,
) -> Result<(), Error> {
    // Held under an older fence (it cannot be: one key per map): drop it.
    inner.lose(map, None, Slot::Unknown, Lost::Fenced);
    let state: LoadedMap = inner.load_map(map)?;
    if !inner.gain(map, fence, Arc::clone(live), state, seen) && inner.releases_now() == seen {
        // The server refused it (not a hand-back race): give it up.
        inner.cluster.release(&fence.ownership(map))?;
    }
    Ok(())
}

/// A map held beyond this node's share that ranks another live node
/// first.
fn hand_back(inner: &Inner, live_names: &[&str]) -> Option<String> {
    let maps = &inner.config.maps;
    let share = maps.len().div_ceil(live_names.len().max(1));
    let mine: Vec<&String> = maps.iter().filter(|m| inner.fence(m).is_some()).collect();
    if mine.len() <= share {
        return None;
    }
    mine.into_iter()
        .find(|m| rank(m, live_names).first() != Some(&inner.config.name.as_str()))
        .cloned()
}

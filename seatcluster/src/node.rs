//! [`Node`]: one seatnet server's membership of the cluster, as a library
//! the server calls (`docs/cluster.md`, "The node library").
//!
//! A node registers itself under a lease it keeps alive ([`LeaseKeeper`]),
//! and one background thread (`node/poll.rs`) reads the live nodes and the
//! owners every poll period, takes the maps that rank says are its own
//! and nobody owns, and notices the maps it lost. The server asks, per
//! request and without taking a lock, who owns a map
//! ([`Node::owner_of`]); it learns through [`MapEvents`] when it gains a
//! map (with the map's state read from etcd, to rebuild it before serving)
//! and when it loses one (to drop it). Its group-commit batches go
//! through the node's [`Committer`] (`committer.rs`).
//!
//! **Rebalancing rule.** The poller takes unowned maps only (the first
//! node in rank at once, the k-th after k poll periods) and never takes
//! a map another node holds. Handing a map back is the server's decision,
//! because only the server can stop changes to it and flush them first:
//! [`Node::hand_back_candidate`] names a map this node holds beyond its
//! share that ranks another live node first, and [`Node::release_map`]
//! gives it up once the server has committed its last batch and a
//! snapshot.
//!
//! # Example
//!
//! ```no_run
//! use std::sync::Arc;
//! use seatcluster::node::{Fence, LoadedMap, Lost, MapEvents, MapOwner, Node, NodeConfig};
//! use seatcluster::{MapRecords, Outcome, Record};
//!
//! struct Server; // the server's maps live here
//! impl MapEvents for Server {
//!     fn gained(&self, map: &str, fence: Fence, state: LoadedMap) -> Result<(), String> {
//!         // Rebuild `map` from state.snapshot and state.records, then serve it.
//!         Ok(())
//!     }
//!     fn lost(&self, map: &str, fence: Fence, why: Lost) {
//!         // Drop `map` from memory: nothing uncommitted of it may be acknowledged.
//!     }
//! }
//!
//! let config = NodeConfig::new(&["127.0.0.1:2379"], "node-a", "10.0.0.1:7000", &["AB123"]);
//! let node = Node::start(config, Arc::new(Server))?;
//! match node.owner_of("AB123") {
//!     MapOwner::Mine(fence) => {
//!         // Apply the change in memory, queue its record with the fence;
//!         // the committer thread then commits the batch:
//!         let batch = [MapRecords {
//!             map: "AB123".into(),
//!             fence,
//!             records: vec![Record { seq: 1, bytes: b"...".to_vec() }],
//!         }];
//!         match node.committer().commit(&batch)?[0] {
//!             Outcome::Committed => { /* acknowledge */ }
//!             Outcome::Fenced => { /* never acknowledge; the map is dropped */ }
//!         }
//!     }
//!     MapOwner::Other(addr) => println!("ERR moved {addr}"),
//!     MapOwner::Unknown => println!("ERR unavailable"),
//! }
//! node.shutdown()?; // revokes the lease: the maps move at once
//! # Ok::<(), seatcluster::Error>(())
//! ```

mod poll;

use std::collections::{HashMap, HashSet};
use std::fmt;
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::thread::JoinHandle;
use std::time::Duration;

use arc_swap::ArcSwap;

use crate::client::{Client, Config};
use crate::cluster::{Cluster, check_map_name};
use crate::committer::Committer;
use crate::error::{Error, Result};
use crate::keeper::{LeaseKeeper, Liveness};
use crate::ownership::Ownership;
use crate::records::{Record, unpack};
use crate::snapshot::StoredSnapshot;

/// How a [`Node`] joins the cluster.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NodeConfig {
    /// etcd members' client addresses.
    pub endpoints: Vec<String>,
    /// This node's name, unique in the cluster.
    pub name: String,
    /// The `host:port` clients reach this node at (`ERR moved` names it).
    pub advertise: String,
    /// The maps this node may serve (every node should have the same list).
    pub maps: Vec<String>,
    /// The key prefix of the cluster's state in etcd.
    pub root: String,
    /// The lease TTL: how long after a node's death its maps stay unowned.
    pub lease_ttl: Duration,
    /// How often the lease is renewed.
    pub keep_alive_every: Duration,
    /// How often live nodes and owners are read (at most 1 s makes sense).
    pub poll_every: Duration,
    /// [`Node::owner_of`] answers [`MapOwner::Mine`] only while the
    /// lease's local deadline is more than this away.
    pub margin: Duration,
    /// Timeout of each request to etcd (commits, reads).
    pub etcd_timeout: Duration,
    /// Most log entries a map may have after its snapshot when loaded.
    pub max_log_entries: usize,
}

impl NodeConfig {
    /// Default [`NodeConfig::lease_ttl`] (`docs/cluster.md`, "The lease TTL").
    pub const DEFAULT_LEASE_TTL: Duration = Duration::from_secs(5);

    /// The defaults: TTL 5 s renewed every second, a poll every second, a
    /// margin of 1 s, the prefix `/seatnet/default/`.
    pub fn new<E: AsRef<str>, M: AsRef<str>>(
        endpoints: &[E],
        name: &str,
        advertise: &str,
        maps: &[M],
    ) -> NodeConfig {
        NodeConfig {
            endpoints: endpoints.iter().map(|e| e.as_ref().to_string()).collect(),
            name: name.to_string(),
            advertise: advertise.to_string(),
            maps: maps.iter().map(|m| m.as_ref().to_string()).collect(),
            root: "/seatnet/default/".to_string(),
            lease_ttl: Self::DEFAULT_LEASE_TTL,
            keep_alive_every: Duration::from_secs(1),
            poll_every: Duration::from_secs(1),
            margin: Duration::from_secs(1),
            etcd_timeout: Config::DEFAULT_TIMEOUT,
            max_log_entries: 10_000,
        }
    }

    fn check(&self) -> Result<()> {
        check_map_name(&self.name).map_err(|_| {
            Error::Invalid(format!(
                "node name {:?}: 1 to 128 bytes, without '/', spaces or control characters",
                self.name
            ))
        })?;
        if self.advertise.is_empty() || self.advertise.chars().any(char::is_whitespace) {
            return Err(Error::Invalid(format!(
                "advertised address {:?}: host:port without spaces",
                self.advertise
            )));
        }
        let mut seen = HashSet::new();
        for map in &self.maps {
            check_map_name(map)?;
            if !seen.insert(map) {
                return Err(Error::Invalid(format!("map {map} listed twice")));
            }
        }
        if self.margin + self.keep_alive_every >= self.lease_ttl {
            return Err(Error::Invalid(format!(
                "lease TTL {:?} must exceed the margin {:?} plus the keep-alive interval {:?}",
                self.lease_ttl, self.margin, self.keep_alive_every
            )));
        }
        if self.poll_every.is_zero() || self.keep_alive_every.is_zero() {
            return Err(Error::Invalid(
                "poll and keep-alive intervals must be above zero".into(),
            ));
        }
        Ok(())
    }
}

/// The proof a node holds a map: its owner key's revision (the fencing
/// token every commit compares) and the lease it hangs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Fence {
    /// The owner key's mod revision when this node took the map.
    pub revision: i64,
    /// This node's lease.
    pub lease: i64,
}

impl Fence {
    pub(crate) fn of(ownership: &Ownership) -> Fence {
        Fence {
            revision: ownership.mod_revision,
            lease: ownership.lease,
        }
    }

    pub(crate) fn ownership(self, map: &str) -> Ownership {
        Ownership {
            map: map.to_string(),
            mod_revision: self.revision,
            lease: self.lease,
        }
    }
}

/// Who serves a map, as far as this node can tell right now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MapOwner {
    /// This node, provably: its lease's local deadline is more than the
    /// margin away. Changes applied now are committed under this fence.
    Mine(Fence),
    /// Another node, at this advertised `host:port` (`ERR moved`).
    Other(Arc<str>),
    /// Nobody known: the map is unowned, moving, being loaded here, not in
    /// this node's list, or this node's lease is unconfirmed
    /// (`ERR unavailable`; [`Node::last_error`] says why).
    Unknown,
}

/// A map's committed state in etcd: its snapshot, then every record
/// after it, in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoadedMap {
    /// The latest snapshot, if any.
    pub snapshot: Option<StoredSnapshot>,
    /// Every committed record with a seq above the snapshot's, in order.
    pub records: Vec<Record>,
}

impl LoadedMap {
    /// The last seq the state covers (0 for a map never written): the
    /// map's sequence continues after it.
    pub fn last_seq(&self) -> u64 {
        self.records
            .last()
            .map(|r| r.seq)
            .or(self.snapshot.as_ref().map(|s| s.seq))
            .unwrap_or(0)
    }
}

/// Why a node stopped owning a map.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Lost {
    /// A commit or snapshot found the owner key changed: the fence failed.
    Fenced,
    /// The owner key is gone (the lease expired or was revoked).
    Vanished,
    /// Another node holds the map now, at this address.
    Taken(Arc<str>),
    /// etcd said this node's lease is gone; the node joins again with a
    /// new one.
    LeaseLost,
    /// The server gave the map up ([`Node::release_map`]).
    Released,
    /// The node is shutting down ([`Node::shutdown`]).
    Shutdown,
}

impl fmt::Display for Lost {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Lost::Fenced => write!(f, "a commit found another owner (fenced)"),
            Lost::Vanished => write!(f, "its owner key expired"),
            Lost::Taken(addr) => write!(f, "taken by the node at {addr}"),
            Lost::LeaseLost => write!(f, "this node's lease was lost"),
            Lost::Released => write!(f, "handed back"),
            Lost::Shutdown => write!(f, "the node is shutting down"),
        }
    }
}

/// What the server does when the node gains or loses a map.
///
/// Calls never overlap, and for one map they alternate: `gained` with a
/// fence, then `lost` with the same fence. `gained` runs on the poller
/// thread; `lost` runs on the poller thread, or on the thread calling
/// [`Committer::commit`] or [`Committer::put_snapshot`] when a fence
/// fails, or the one calling [`Node::release_map`] or [`Node::shutdown`].
/// Keep them short, and never wait in them for the committer.
pub trait MapEvents: Send + Sync + 'static {
    /// The node took `map` and read its committed state: rebuild it, then
    /// return `Ok` to serve it ([`Node::owner_of`] answers
    /// [`MapOwner::Mine`] only from then on). An `Err` gives the map up.
    fn gained(&self, map: &str, fence: Fence, state: LoadedMap) -> std::result::Result<(), String>;

    /// The node no longer owns `map` (held under `fence`): drop it from
    /// memory, and acknowledge nothing of it that has not committed.
    fn lost(&self, map: &str, fence: Fence, why: Lost);
}

/// What a node knows of one map.
enum Slot {
    Unknown,
    Mine { fence: Fence, live: Arc<Liveness> },
    Other(Arc<str>),
}

impl Slot {
    /// Whether two views of a map not served here say the same.
    fn same_as(&self, other: &Slot) -> bool {
        match (self, other) {
            (Slot::Unknown, Slot::Unknown) => true,
            (Slot::Other(a), Slot::Other(b)) => a == b,
            _ => false,
        }
    }
}

/// Most live nodes and owned maps read per poll (memory stays bounded).
const MAX_NODES: usize = 1024;
const MAX_OWNERS: usize = 1_000_000;

/// What the poller last saw, for status commands.
#[derive(Default)]
struct Status {
    nodes: Vec<(String, String)>,
    error: Option<Error>,
    hand_back: Option<String>,
}

/// Hand-backs under way, so the poller never marks `Mine` a map from an
/// owner list read while one of them may have been deleting its key.
#[derive(Default, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Releases {
    /// Hand-backs started or finished (bumped at both ends).
    epoch: u64,
    /// Hand-backs under way.
    running: usize,
}

/// State shared by the node, its poller and its committers.
pub(crate) struct Inner {
    config: NodeConfig,
    pub(crate) cluster: Cluster,
    /// The owner keys' value: `<name> <advertise>`.
    me: Vec<u8>,
    /// One per configured map; the map itself never changes after start,
    /// so lookups take no lock.
    slots: HashMap<String, ArcSwap<Slot>>,
    /// Held while a slot changes to or from `Mine` and while the event
    /// runs, so events never overlap.
    transitions: Mutex<Releases>,
    events: Arc<dyn MapEvents>,
    keeper: Mutex<Option<LeaseKeeper>>,
    status: Mutex<Status>,
    /// One commit in flight per node (`docs/cluster.md`, "The write path").
    pub(crate) commit_lock: Mutex<()>,
    stop: Mutex<bool>,
    wake: Condvar,
}

/// Locks, ignoring poison: every value guarded here stays consistent
/// (each update is one assignment).
fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

/// A member of the cluster: see the module docs.
pub struct Node {
    inner: Arc<Inner>,
    poller: Option<JoinHandle<()>>,
}

impl Node {
    /// Joins the cluster: grants and keeps a lease, registers this node,
    /// and starts polling (the first poll at once).
    pub fn start(config: NodeConfig, events: Arc<dyn MapEvents>) -> Result<Node> {
        config.check()?;
        let mut etcd = Config::new(&config.endpoints);
        etcd.timeout = config.etcd_timeout;
        let cluster = Cluster::new(Client::with_config(etcd.clone())?, &config.root);
        let keeper = LeaseKeeper::start(etcd, config.lease_ttl, config.keep_alive_every)?;
        cluster.register_node(&config.name, &config.advertise, &keeper.lease())?;
        let slots = config
            .maps
            .iter()
            .map(|m| (m.clone(), ArcSwap::from_pointee(Slot::Unknown)))
            .collect();
        let inner = Arc::new(Inner {
            me: format!("{} {}", config.name, config.advertise).into_bytes(),
            config,
            cluster,
            slots,
            transitions: Mutex::default(),
            events,
            keeper: Mutex::new(Some(keeper)),
            status: Mutex::default(),
            commit_lock: Mutex::new(()),
            stop: Mutex::new(false),
            wake: Condvar::new(),
        });
        let poller = {
            let inner = Arc::clone(&inner);
            std::thread::Builder::new()
                .name(format!("node-{}", inner.config.name))
                .spawn(move || poll::run(&inner))
                .map_err(|e| Error::Invalid(format!("cannot start the poller thread: {e}")))?
        };
        Ok(Node {
            inner,
            poller: Some(poller),
        })
    }

    /// Who serves `map`: the check before every request, and again before
    /// every reply. Takes no lock.
    pub fn owner_of(&self, map: &str) -> MapOwner {
        match self.inner.slots.get(map) {
            Some(slot) => self.inner.view(&slot.load()),
            None => MapOwner::Unknown,
        }
    }

    /// Every configured map and who serves it, in the configured order.
    pub fn maps(&self) -> Vec<(String, MapOwner)> {
        self.inner
            .config
            .maps
            .iter()
            .map(|m| (m.clone(), self.owner_of(m)))
            .collect()
    }

    /// The live nodes (name, advertised address) at the last poll.
    pub fn nodes(&self) -> Vec<(String, String)> {
        lock(&self.inner.status).nodes.clone()
    }

    /// This node's name.
    pub fn name(&self) -> &str {
        &self.inner.config.name
    }

    /// This node's advertised address.
    pub fn advertise(&self) -> &str {
        &self.inner.config.advertise
    }

    /// Whether this node's lease is provably live (with the margin).
    pub fn is_live(&self) -> bool {
        lock(&self.inner.keeper)
            .as_ref()
            .is_some_and(|k| k.is_live(self.inner.config.margin))
    }

    /// Why the node cannot confirm its lease or could not poll, if so:
    /// what `ERR unavailable` tells clients.
    pub fn last_error(&self) -> Option<Error> {
        let keeper = lock(&self.inner.keeper)
            .as_ref()
            .and_then(|k| k.lost().or_else(|| k.last_error()));
        keeper.or_else(|| lock(&self.inner.status).error.clone())
    }

    /// A map this node holds beyond its share (`ceil(maps / live nodes)`)
    /// that ranks another live node first, as of the last poll: the map
    /// to hand back next with [`Node::release_map`].
    pub fn hand_back_candidate(&self) -> Option<String> {
        lock(&self.inner.status).hand_back.clone()
    }

    /// Gives `map` up (the hand-back): [`Node::owner_of`] stops answering
    /// `Mine` first, [`MapEvents::lost`] runs with [`Lost::Released`], then
    /// the owner key is deleted (fenced: only if still ours). Call it once
    /// the server has stopped changing the map and committed its last
    /// batch and a snapshot. False when this node did not own it.
    pub fn release_map(&self, map: &str) -> Result<bool> {
        self.inner.releases(|r| {
            r.epoch += 1;
            r.running += 1;
        });
        let result = match self.inner.lose(map, None, Slot::Unknown, Lost::Released) {
            Some(fence) => self.inner.cluster.release(&fence.ownership(map)),
            None => Ok(false),
        };
        self.inner.releases(|r| {
            r.epoch += 1;
            r.running -= 1;
        });
        result
    }

    /// `map`'s committed state in etcd: the snapshot, then every record
    /// after it (what [`MapEvents::gained`] receives).
    pub fn load_map(&self, map: &str) -> Result<LoadedMap> {
        self.inner.load_map(map)
    }

    /// The committer for this node's batches (one commit in flight per
    /// node, however many committers are made).
    pub fn committer(&self) -> Committer {
        Committer::new(Arc::clone(&self.inner))
    }

    /// Leaves the cluster cleanly: stops polling, drops every map
    /// ([`Lost::Shutdown`]), and revokes the lease, so other nodes take the
    /// maps at their next poll. Flush the committer first.
    pub fn shutdown(mut self) -> Result<()> {
        self.stop_poller();
        for map in &self.inner.config.maps {
            self.inner.lose(map, None, Slot::Unknown, Lost::Shutdown);
        }
        match lock(&self.inner.keeper).take() {
            Some(keeper) => keeper.revoke(),
            None => Ok(()),
        }
    }

    fn stop_poller(&mut self) {
        *lock(&self.inner.stop) = true;
        self.inner.wake.notify_all();
        if let Some(poller) = self.poller.take() {
            let _ = poller.join();
        }
    }
}

/// Dropping a node stops its threads without revoking its lease: what a
/// `kill -9` leaves (its maps move once the lease expires).
impl Drop for Node {
    fn drop(&mut self) {
        self.stop_poller();
        drop(lock(&self.inner.keeper).take());
    }
}

impl fmt::Debug for Node {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Node")
            .field("name", &self.inner.config.name)
            .field("advertise", &self.inner.config.advertise)
            .finish()
    }
}

impl Inner {
    fn view(&self, slot: &Slot) -> MapOwner {
        match slot {
            Slot::Mine { fence, live } if live.is_live(self.config.margin) => {
                MapOwner::Mine(*fence)
            }
            Slot::Mine { .. } | Slot::Unknown => MapOwner::Unknown,
            Slot::Other(addr) => MapOwner::Other(Arc::clone(addr)),
        }
    }

    /// The fence `map` is held under, if its slot says `Mine`.
    fn fence(&self, map: &str) -> Option<Fence> {
        match &**self.slots.get(map)?.load() {
            Slot::Mine { fence, .. } => Some(*fence),
            _ => None,
        }
    }

    /// Sets `map`'s slot to `next`; if it was `Mine` (under `expected`,
    /// when given), runs [`MapEvents::lost`] and returns the fence lost.
    fn lose(&self, map: &str, expected: Option<Fence>, next: Slot, why: Lost) -> Option<Fence> {
        let slot = self.slots.get(map)?;
        let _transition = lock(&self.transitions);
        let held = match &**slot.load() {
            Slot::Mine { fence, .. } => Some(*fence),
            _ => None,
        };
        match held {
            Some(fence) if expected.is_none_or(|e| e == fence) => {
                slot.store(Arc::new(next));
                self.events.lost(map, fence, why);
                Some(fence)
            }
            // Held under another fence: a newer ownership stays.
            Some(_) => None,
            None => {
                // Polls repeat the same view; readers keep the old one.
                if !slot.load().same_as(&next) {
                    slot.store(Arc::new(next));
                }
                None
            }
        }
    }

    /// A commit or snapshot under `fence` failed its fence.
    pub(crate) fn fenced(&self, map: &str, fence: Fence) {
        self.lose(map, Some(fence), Slot::Unknown, Lost::Fenced);
    }

    /// Changes the hand-back counters.
    fn releases(&self, change: impl FnOnce(&mut Releases)) {
        change(&mut lock(&self.transitions));
    }

    /// The hand-back counters, taken before reading the owners.
    fn releases_now(&self) -> Releases {
        *lock(&self.transitions)
    }

    /// Runs [`MapEvents::gained`] and, if the server accepts, marks the
    /// map `Mine`; returns whether it did. Skipped (false) when a
    /// hand-back ran since `seen` was taken: the owner read may be stale.
    fn gain(
        &self,
        map: &str,
        fence: Fence,
        live: Arc<Liveness>,
        state: LoadedMap,
        seen: Releases,
    ) -> bool {
        let Some(slot) = self.slots.get(map) else {
            return false;
        };
        let transitions = lock(&self.transitions);
        if *transitions != seen || transitions.running > 0 {
            return false;
        }
        match self.events.gained(map, fence, state) {
            Ok(()) => {
                slot.store(Arc::new(Slot::Mine { fence, live }));
                true
            }
            Err(why) => {
                self.set_error(Error::Invalid(format!(
                    "the server refused map {map}: {why}"
                )));
                false
            }
        }
    }

    fn set_error(&self, error: Error) {
        lock(&self.status).error = Some(error);
    }

    fn load_map(&self, map: &str) -> Result<LoadedMap> {
        let snapshot = self.cluster.get_snapshot(map)?;
        let after = snapshot.as_ref().map_or(0, |s| s.seq);
        let mut records: Vec<Record> = Vec::new();
        for entry in self
            .cluster
            .read_log(map, after, self.config.max_log_entries)?
        {
            for record in unpack(map, entry.last_seq, &entry.records)? {
                // A late retry may re-create an entry a snapshot covers
                // (docs/cluster.md, "Unknown outcomes"): skip what it has.
                if record.seq <= after {
                    continue;
                }
                if records.last().is_some_and(|r| r.seq >= record.seq) {
                    return Err(Error::Log(format!(
                        "map {map}: record {} follows {} in the log",
                        record.seq,
                        records.last().map_or(0, |r| r.seq)
                    )));
                }
                records.push(record);
            }
        }
        Ok(LoadedMap { snapshot, records })
    }

    /// Waits `period` or until stopped; true when stopped.
    fn wait_stop(&self, period: Duration) -> bool {
        let stop = lock(&self.stop);
        let (stop, _) = self
            .wake
            .wait_timeout_while(stop, period, |s| !*s)
            .unwrap_or_else(PoisonError::into_inner);
        *stop
    }
}

/// The address in an owner key's value (`<name> <host:port>`).
fn address_of(value: &[u8]) -> Option<Arc<str>> {
    let text = std::str::from_utf8(value).ok()?;
    let (_, addr) = text.split_once(' ')?;
    (!addr.is_empty()).then(|| Arc::from(addr))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_server_can_share_a_node_and_its_committer_between_threads() {
        fn shared<T: Send + Sync>() {}
        shared::<Node>();
        shared::<Committer>();
        shared::<MapOwner>();
    }

    #[test]
    fn owner_values_give_the_address() {
        assert_eq!(
            address_of(b"node-a 10.0.0.1:7000").as_deref(),
            Some("10.0.0.1:7000")
        );
        assert_eq!(address_of(b"node-a"), None);
        assert_eq!(address_of(b"node-a "), None);
        assert_eq!(address_of(&[0xff, b' ', b'x']), None);
    }

    #[test]
    fn bad_configs_are_refused() {
        let good = NodeConfig::new(&["127.0.0.1:1"], "a", "127.0.0.1:7000", &["m", "n"]);
        assert!(good.check().is_ok());
        let mut cases = Vec::new();
        let mut c = good.clone();
        c.name = "a b".into();
        cases.push(c);
        let mut c = good.clone();
        c.advertise = "".into();
        cases.push(c);
        let mut c = good.clone();
        c.maps.push("m".into());
        cases.push(c);
        let mut c = good.clone();
        c.maps.push("x/y".into());
        cases.push(c);
        let mut c = good.clone();
        c.margin = Duration::from_secs(4);
        cases.push(c);
        let mut c = good.clone();
        c.poll_every = Duration::ZERO;
        cases.push(c);
        for c in cases {
            assert!(matches!(c.check(), Err(Error::Invalid(_))), "{c:?}");
        }
    }

    #[test]
    fn loaded_state_continues_after_its_last_record_or_snapshot() {
        let snapshot = Some(StoredSnapshot {
            seq: 7,
            bytes: vec![],
        });
        let empty = LoadedMap {
            snapshot: None,
            records: vec![],
        };
        assert_eq!(empty.last_seq(), 0);
        let snap = LoadedMap {
            snapshot,
            records: vec![],
        };
        assert_eq!(snap.last_seq(), 7);
        let both = LoadedMap {
            records: vec![Record {
                seq: 9,
                bytes: vec![],
            }],
            ..snap
        };
        assert_eq!(both.last_seq(), 9);
    }
}

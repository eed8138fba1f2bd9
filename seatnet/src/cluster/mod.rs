//! Cluster mode (`--etcd`): maps owned by one node at a time and
//! journaled through etcd (`docs/cluster.md`).
//!
//! - [`ClusterConfig`]: the flags (`--etcd`, `--node`, `--advertise`,
//!   `--lease-ttl`);
//! - `Routing`: the node, started over the catalog's maps; before a
//!   request reaches the catalog it says whether this node may answer it
//!   (`ERR moved <host:port>`, `ERR no-owner ...` otherwise), answers
//!   `NODES`, and gives the catalog the owners `MAPS` lists;
//! - `log`: [`ClusterLog`], the journal whose batches are fenced etcd
//!   transactions, committed before their replies are sent;
//! - `events`: what the server does when the node gains a map (rebuild it
//!   from etcd, swap it into the catalog, register it with the journal)
//!   or loses one (drop it);
//! - `state`: a map's snapshot and records as etcd keeps them;
//! - `hand_back`: giving maps back to a node that rejoins, so the maps
//!   spread again;
//! - `proxy`: original-protocol clients passed to the owner of `default`.

mod events;
mod hand_back;
mod log;
mod proxy;
mod state;

pub(crate) use log::ClusterLog;
pub(crate) use proxy::forward;

use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

use seatcluster::{MapOwner, Node, NodeConfig};
use tracing::{info, warn};

use self::events::Events;

use crate::catalog::{Catalog, OwnerLabel};
use crate::protocol::{CatalogCommand, parse_catalog};

/// How a server joins a cluster.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClusterConfig {
    /// etcd members, `host:port` each (`--etcd`, comma-separated).
    pub endpoints: Vec<String>,
    /// This node's name, unique in the cluster (`--node`).
    pub node: String,
    /// The `host:port` clients reach this node at (`--advertise`); what
    /// other nodes answer in `ERR moved`. Port 0 stands for the port the
    /// server bound (for a server on a free port, as tests run them).
    pub advertise: String,
    /// The node's lease (`--lease-ttl`): how long after this node stops
    /// renewing it (dies, freezes, is cut off) others may take its maps.
    pub lease_ttl: Duration,
}

impl ClusterConfig {
    /// Default `--lease-ttl`: long enough that a loaded two-core machine
    /// never misses a renewal by that much.
    pub const DEFAULT_LEASE_TTL: Duration = Duration::from_secs(5);

    /// Checks the values (etcd's own checks run at start).
    ///
    /// # Errors
    ///
    /// A message naming the first bad setting.
    pub fn validate(&self) -> Result<(), String> {
        if self.endpoints.is_empty() || self.endpoints.iter().any(|e| e.trim().is_empty()) {
            return Err("etcd needs at least one HOST:PORT, and no empty one".into());
        }
        if self.node.is_empty()
            || !self
                .node
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-' || b == b'.')
        {
            return Err(format!(
                "node name '{}': 1 or more characters of A-Z a-z 0-9 _ - .",
                self.node.escape_default()
            ));
        }
        match self.advertise.rsplit_once(':') {
            Some((host, port))
                if !host.is_empty()
                    && !host.contains(char::is_whitespace)
                    && port.parse::<u16>().is_ok() => {}
            _ => {
                return Err(format!(
                    "advertise '{}' is not HOST:PORT",
                    self.advertise.escape_default()
                ));
            }
        }
        if self.lease_ttl < Duration::from_secs(2) {
            return Err("lease-ttl must be at least 2 seconds".into());
        }
        Ok(())
    }
}

/// The node a server runs in cluster mode, and the routing of requests.
#[derive(Debug)]
pub(crate) struct Routing {
    node: Arc<Node>,
    /// The maps the node was started with (those it may be asked about).
    maps: HashSet<Box<str>>,
    /// The journal in etcd, flushed before the node leaves.
    log: Arc<ClusterLog>,
    /// The thread handing maps back (`hand_back.rs`), stopped by dropping
    /// the sender.
    hand_back: Option<(crossbeam_channel::Sender<()>, std::thread::JoinHandle<()>)>,
}

/// What a request may do on this node.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Route {
    /// Answer it here (the map is this node's, or the request needs no
    /// map).
    Here,
    /// Another node owns the map, at this address (`ERR moved`, or the
    /// request is passed there for an original-protocol client).
    Moved(Arc<str>),
    /// This reply instead (`ERR no-owner`, `NODES`).
    Reply(String),
}

impl Routing {
    /// Joins the cluster of `config` with every map of `catalog`, for a
    /// server bound at port `bound`.
    ///
    /// # Errors
    ///
    /// A message if etcd cannot be reached or refuses the node.
    pub(crate) fn start(
        config: &ClusterConfig,
        catalog: &Arc<Catalog>,
        log: &Arc<ClusterLog>,
        bound: u16,
    ) -> Result<Routing, String> {
        let maps: Vec<String> = catalog.maps().iter().map(|m| m.name().to_owned()).collect();
        let advertise = match config.advertise.strip_suffix(":0") {
            Some(host) => format!("{host}:{bound}"),
            None => config.advertise.clone(),
        };
        let mut node_config = NodeConfig::new(&config.endpoints, &config.node, &advertise, &maps);
        node_config.lease_ttl = config.lease_ttl;
        let events = Events {
            catalog: Arc::clone(catalog),
            log: Arc::clone(log),
        };
        let node = Node::start(node_config, Arc::new(events))
            .map_err(|e| format!("cannot join the cluster: {e}"))?;
        let node = Arc::new(node);
        let weak = Arc::downgrade(&node);
        catalog.set_owner_label(OwnerLabel(Box::new(move |map| {
            weak.upgrade()
                .map_or_else(|| "none".into(), |node| owner_label(&node, map))
        })));
        let weak = Arc::downgrade(&node);
        let live = Box::new(move || weak.upgrade().is_some_and(|node| node.is_live()));
        log.start(node.committer(), live)
            .map_err(|e| format!("cannot start the committer thread: {e}"))?;
        let (stop, stopped) = crossbeam_channel::bounded::<()>(0);
        let hand_back = {
            let (node, log) = (Arc::clone(&node), Arc::clone(log));
            std::thread::Builder::new()
                .name("seatnet-hand-back".into())
                .spawn(move || hand_back::run(&node, &log, &stopped))
                .map_err(|e| format!("cannot start the hand-back thread: {e}"))?
        };
        info!(node = %config.node, %advertise, maps = maps.len(), "joined the cluster");
        let maps = maps.into_iter().map(String::into_boxed_str).collect();
        Ok(Routing {
            node,
            maps,
            log: Arc::clone(log),
            hand_back: Some((stop, hand_back)),
        })
    }

    /// Leaves the cluster: drops every map and revokes the lease, so the
    /// other nodes take the maps at their next poll.
    pub(crate) fn leave(mut self) {
        if let Some((stop, thread)) = self.hand_back.take() {
            drop(stop);
            let _ = thread.join();
        }
        // What is queued commits first (replies already gone are not
        // waiting for it, but a record must not be dropped half-sent).
        self.log.stop();
        let Some(node) = Arc::into_inner(self.node) else {
            warn!("leaving the cluster: the node is still in use; its lease expires by itself");
            return;
        };
        if let Err(e) = node.shutdown() {
            warn!(error = %e, "leaving the cluster: the lease was not revoked (it expires by itself)");
        }
    }

    /// Where `request`, on a connection whose map is `current`, is
    /// answered. Takes no lock (`Node::owner_of`).
    pub(crate) fn route(&self, current: &str, request: &[u8]) -> Route {
        let word = first_word(request);
        if word.eq_ignore_ascii_case(b"NODES") {
            return Route::Reply(self.nodes_line());
        }
        // Commands of the node, not of a map.
        const ANYWHERE: [&[u8]; 5] = [b"STATS", b"HELP", b"QUIT", b"SNAPSHOT", b"BACKUP"];
        if ANYWHERE.iter().any(|w| word.eq_ignore_ascii_case(w)) {
            return Route::Here;
        }
        let map = match parse_catalog(request) {
            Some(Ok(CatalogCommand::Maps(_))) => return Route::Here,
            Some(Ok(CatalogCommand::Use(name) | CatalogCommand::View(Some(name)))) => name,
            // A malformed `USE`/`MAPS`: the catalog explains.
            Some(Err(_)) => return Route::Here,
            // The cluster's maps are the ones every node starts with (its
            // ownership in etcd knows no others): not added or removed at
            // run time on one node.
            Some(Ok(
                command @ (CatalogCommand::AddMap { .. } | CatalogCommand::RemoveMap { .. }),
            )) => {
                let verb = command.operator_verb().unwrap_or("");
                return Route::Reply(format!(
                    "ERR not-in-cluster: {verb} is not available in cluster mode; every node serves the maps it started with"
                ));
            }
            Some(Ok(CatalogCommand::View(None))) | None => current,
        };
        match self.node.owner_of(map) {
            MapOwner::Mine(_) => Route::Here,
            MapOwner::Other(addr) => Route::Moved(addr),
            // A map this server does not know: the catalog says so.
            MapOwner::Unknown if !self.maps.contains(map) => Route::Here,
            MapOwner::Unknown => Route::Reply(self.no_owner_line(map)),
        }
    }

    /// `ERR no-owner: <map> ...`.
    fn no_owner_line(&self, map: &str) -> String {
        let why = if self.node.is_live() {
            "being taken over or loaded".to_owned()
        } else {
            match self.node.last_error() {
                Some(e) => format!("this node cannot reach etcd ({e})"),
                None => "this node's lease is not confirmed".to_owned(),
            }
        };
        format!("ERR no-owner: map {map} has no owner right now, {why}; retry in a second")
    }

    /// `OK nodes=<n> self=<name> <name>@<host:port> ...` (by name).
    fn nodes_line(&self) -> String {
        let mut nodes = self.node.nodes();
        nodes.sort();
        let mut line = format!("OK nodes={} self={}", nodes.len(), self.node.name());
        for (name, addr) in nodes {
            line.push_str(&format!(" {name}@{addr}"));
        }
        line
    }
}

/// Who owns `map`, as `MAPS` says it: `here`, `host:port`, or `none`.
fn owner_label(node: &Node, map: &str) -> String {
    match node.owner_of(map) {
        MapOwner::Mine(_) => "here".into(),
        MapOwner::Other(addr) => addr.to_string(),
        MapOwner::Unknown => "none".into(),
    }
}

/// The request's first word (ASCII whitespace trimmed).
fn first_word(request: &[u8]) -> &[u8] {
    let start = request
        .iter()
        .position(|b| !b.is_ascii_whitespace())
        .unwrap_or(request.len());
    let rest = &request[start..];
    let end = rest
        .iter()
        .position(u8::is_ascii_whitespace)
        .unwrap_or(rest.len());
    &rest[..end]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config() -> ClusterConfig {
        ClusterConfig {
            endpoints: vec!["127.0.0.1:2379".into()],
            node: "node-a".into(),
            advertise: "127.0.0.1:7000".into(),
            lease_ttl: ClusterConfig::DEFAULT_LEASE_TTL,
        }
    }

    #[test]
    fn bad_settings_are_named() {
        assert_eq!(config().validate(), Ok(()));
        let bad = |f: fn(&mut ClusterConfig), word: &str| {
            let mut c = config();
            f(&mut c);
            let e = c.validate().unwrap_err();
            assert!(e.contains(word), "{e}");
        };
        bad(|c| c.endpoints.clear(), "etcd");
        bad(|c| c.endpoints.push(" ".into()), "etcd");
        bad(|c| c.node.clear(), "node");
        bad(|c| c.node = "a b".into(), "node");
        bad(|c| c.advertise = "7000".into(), "advertise");
        bad(|c| c.advertise = "host:x".into(), "advertise");
        bad(|c| c.advertise = ":7000".into(), "advertise");
        bad(|c| c.lease_ttl = Duration::from_secs(1), "lease-ttl");
    }

    #[test]
    fn first_word_skips_blanks() {
        assert_eq!(first_word(b"  nodes  x"), b"nodes");
        assert_eq!(first_word(b"1,2"), b"1,2");
        assert_eq!(first_word(b"   "), b"");
    }
}

//! seatnet: a thread-pool TCP server for [`seatcore`] seat maps, speaking
//! the original Python seat server's protocol byte for byte, plus richer
//! commands (`BOOK`, `ALL`, `ANY`, `TOGETHER`, `CANCEL`, `HOLD`, `EXTEND`,
//! `CONFIRM`, `SHOW`, `AVAIL`, `MAP`, `STATS`, `USE`, `MAPS`, `HELP`,
//! `QUIT`). `docs/protocol.md` describes the wire protocol.
//!
//! # Running a server
//!
//! - [`Config`]: host, port, seats, workers, connection limits, timeouts
//!   and the framing grace;
//! - [`Server`]: [`Server::bind`], [`Server::local_addr`],
//!   [`Server::run`] (blocks until shutdown; the calling thread is the
//!   readiness poller, a pool of workers answers requests);
//! - [`ShutdownHandle`]: stops a running server from any thread;
//! - [`ClusterConfig`] ([`Config::cluster`], `cluster/`): cluster mode,
//!   a [`seatcluster::Node`] saying per request whether this server serves
//!   the map (`ERR moved`, `ERR no-owner`), every change committed to etcd
//!   before its reply, maps rebuilt from etcd when the node takes them
//!   over, `NODES`, `MAPS` with owners (`docs/cluster.md`).
//!
//! # Answering requests
//!
//! - [`protocol`]: framing, parsing to a typed [`protocol::Command`], and
//!   every [`protocol::Reply`] written from one place;
//! - [`Catalog`]: every map of a server, by name ([`MapDef`]: `NAME=SPEC`,
//!   [`resolve_maps`]: the `default` rules); [`Catalog::respond`] answers
//!   one request on a connection's map, `USE`, `MAPS` and `MAP` itself;
//! - [`Inventory`]: one map (numbered or a cabin, [`MapSpec`] from
//!   seatplan): seats, bookings, holds, request ids;
//!   [`Inventory::respond`] answers one request;
//! - [`Clock`] ([`SystemClock`], [`ManualClock`]): the time holds expire
//!   by; [`Catalog::expire_due`] and [`Catalog::run_expiry`];
//! - [`BookingRef`]: a booking reference (OS randomness, constant-time
//!   equality, redacted `Debug`); [`Redacted`] hides references in logged
//!   request text;
//! - [`Counters`]: the numbers `STATS` reports.
//!
//! # Durability
//!
//! - [`Catalog::open`] (and [`Inventory::open`] for one map): a data
//!   directory (a [`seatlog`] journal plus snapshots) of every map,
//!   replayed at start; [`DataOptions`] (`--fsync`,
//!   `--snapshot-every`); [`Config::data_dir`] makes [`Server`] use one;
//! - [`check_data`]: what a data directory holds (`--check-data`);
//! - [`Access`]: whether a connection may run operator commands
//!   (`SNAPSHOT`, `BACKUP`, `ADDMAP`, `REMOVEMAP`; [`Config::admin_listen`]);
//! - [`Commit`] and [`Unsettled`]: a reply that changed seats waits until
//!   its change is durable; [`durable::fail_stop`] when the journal fails.
//!
//! # Example
//!
//! ```
//! use seatnet::{Config, Server};
//!
//! let server = Server::bind(Config { port: 0, ..Config::default() })?;
//! println!("listening on {}", server.local_addr());
//! let stop = server.shutdown_handle();
//! let running = std::thread::spawn(move || server.run());
//! stop.shutdown();
//! running.join().unwrap()?;
//! # Ok::<(), std::io::Error>(())
//! ```
//!
//! The `seatnet-server` binary is a thin command line over [`Server`].

#![forbid(unsafe_code)]

mod catalog;
mod cluster;
mod config;
pub mod durable;
mod inventory;
pub mod protocol;
mod reference;
mod server;
mod stats;

pub use catalog::{Catalog, MAPS_MAX_LISTED, MAX_MAP_NAME, MapDef, check_name, resolve_maps};
pub use cluster::ClusterConfig;
pub use config::Config;
pub use durable::{Commit, DataError, DataOptions, Opened, Unsettled};
pub use inventory::{
    Access, Answered, Clock, DEFAULT_MAP, DataCheck, DataContents, Inventory, ManualClock,
    MapContents, Scratch, SystemClock, check_data,
};
pub use reference::{BookingRef, Redacted};
pub use seatplan::MapSpec;
pub use server::{Server, ShutdownHandle};
pub use stats::{CounterValues, Counters};

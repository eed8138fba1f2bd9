//! seatcluster: the groundwork of seatnet's cluster mode (`docs/cluster.md`).
//!
//! - **Talking to etcd** ([`Client`], `client.rs`): a blocking client of
//!   etcd's v3 JSON gateway over plain HTTP/1.1 (`ureq`), a timeout on
//!   every request, failover across members that never repeats a change
//!   whose outcome is unknown ([`Error::Indeterminate`]).
//!   - keys (`kv.rs`): [`Client::range`], [`Client::get`], [`Client::put`],
//!     [`Client::delete_prefix`], and [`Client::txn`] with [`Compare`]s on
//!     value, version, create and mod revision and lease, and [`Op`]s put,
//!     delete and range;
//!   - leases (`lease.rs`): [`Client::grant_lease`], [`Client::keep_alive`],
//!     [`Client::revoke_lease`]; a [`Lease`]'s local deadline is never
//!     later than etcd's expiry;
//!   - [`LeaseKeeper`] (`keeper.rs`): a lease kept alive by a thread, and
//!     [`LeaseKeeper::is_live`], the check before every acknowledgment.
//! - **seatnet's state in etcd** ([`Cluster`], `cluster.rs` has the key
//!   layout and [`Limits`]):
//!   - live nodes (`membership.rs`): [`Cluster::register_node`],
//!     [`Cluster::nodes`], and [`rank`], the rendezvous order in which
//!     nodes try to take a map that has no owner;
//!   - ownership (`ownership.rs`): [`Cluster::try_acquire`] takes a map
//!     with a lease-backed key, created only if absent;
//!   - batches (`batch.rs`): [`Cluster::commit_batch`] writes a node's
//!     group-commit batch as fenced transactions (each commits only while
//!     the node owns every map in it), within etcd's limits;
//!     [`Cluster::read_log`] reads a map's log back;
//!   - snapshots (`snapshot.rs`): [`Cluster::put_snapshot`] stores one in
//!     chunks under the request size limit and trims the log;
//!     [`Cluster::get_snapshot`] reads it back, checked.
//! - **The node library the server calls** ([`node`], `node.rs`,
//!   `node/poll.rs`): a [`Node`] keeps its lease, polls live nodes and
//!   owners, takes the maps rank gives it that nobody owns, answers
//!   [`Node::owner_of`] per request without a lock, and tells the server
//!   through [`MapEvents`] when it gains a map (with the map's state,
//!   [`LoadedMap`]) or loses one; its [`Committer`] (`committer.rs`)
//!   commits a batch of [`MapRecords`] as one fenced transaction, each
//!   map's [`Record`]s packed in one value (`records.rs`).
//! - **Errors** (`error.rs`): one [`Error`] type.
//! - **Tests** (`testing.rs`): [`testing::EtcdCluster`] runs real etcd
//!   members on loopback and kills them on drop; it skips loudly when etcd
//!   is not installed. [`testing::Proxy`] (`testing/proxy.rs`) is a TCP
//!   forwarder a test can cut, for partitions.
//!
//! # Example
//!
//! ```no_run
//! use seatcluster::{Acquire, Client, Cluster, LogEntry};
//! use std::time::Duration;
//!
//! let client = Client::new(&["127.0.0.1:2379", "127.0.0.1:22379"])?;
//! let lease = client.grant_lease(Duration::from_secs(5))?;
//! let cluster = Cluster::new(client, "/seatnet/");
//! if let Acquire::Owned(own) = cluster.try_acquire("AB123", b"node-a 10.0.0.1:7000", &lease)? {
//!     let entry = LogEntry { map: "AB123".into(), last_seq: 1, records: b"...".to_vec() };
//!     cluster.commit_batch(&[own], &[entry])?; // fails once the lease is gone
//! }
//! # Ok::<(), seatcluster::Error>(())
//! ```

#![forbid(unsafe_code)]

mod batch;
mod client;
mod cluster;
mod committer;
mod error;
mod keeper;
mod kv;
mod lease;
mod membership;
pub mod node;
mod ownership;
mod records;
mod snapshot;
mod wire;

pub mod testing;

pub use batch::{Committed, LogEntry};
pub use client::{Client, Config};
pub use cluster::{Cluster, Limits, MAX_MAP_NAME};
pub use committer::{Committer, MapRecords, Outcome};
pub use error::{Error, Result};
pub use keeper::LeaseKeeper;
pub use kv::{
    Cmp, Compare, KeyValue, Op, OpResponse, Range, RangeResponse, Target, Txn, TxnResponse,
    prefix_end,
};
pub use lease::Lease;
pub use membership::{rank, weight};
pub use node::{Fence, LoadedMap, Lost, MapEvents, MapOwner, Node, NodeConfig};
pub use ownership::{Acquire, Owner, Ownership};
pub use records::Record;
pub use snapshot::{SnapshotInfo, StoredSnapshot};

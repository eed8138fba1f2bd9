//! [`Cluster`]: seatnet's state in etcd, under one key prefix, and the
//! limits every request of it stays within.
//!
//! | key | value | written by |
//! |---|---|---|
//! | `<root>node/<name>` | the node's advertised `host:port`, attached to its lease | [`Cluster::register_node`] |
//! | `<root>owner/<map>` | the owner's node value, attached to its lease | [`Cluster::try_acquire`] |
//! | `<root>log/<map>/<last seq, 20 digits>` | one batch's records for the map | [`Cluster::commit_batch`] |
//! | `<root>snap/<map>/manifest` | which snapshot is current ([`crate::snapshot`]) | [`Cluster::put_snapshot`] |
//! | `<root>snap/<map>/chunk/<seq, 20 digits>/<index, 6 digits>` | the snapshot's bytes, chunked | [`Cluster::put_snapshot`] |
//!
//! Sequence numbers are zero-padded so that key order is number order.

use crate::client::Client;
use crate::error::{Error, Result};
use crate::kv::{KeyValue, Range, prefix_end};

/// Sizes every request stays within: etcd's defaults are 128 operations
/// per transaction branch (`--max-txn-ops`) and 1.5 MiB per request
/// (`--max-request-bytes`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Operations (and compares) per transaction.
    pub max_txn_ops: usize,
    /// Estimated bytes of keys and values per transaction; under etcd's
    /// request limit with room for the encoding.
    pub max_txn_bytes: usize,
    /// Bytes per snapshot chunk (one chunk per request).
    pub chunk_bytes: usize,
    /// Largest snapshot written or read, so that reading one cannot
    /// allocate without bound.
    pub max_snapshot_bytes: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_txn_ops: 128,
            max_txn_bytes: 1 << 20,
            chunk_bytes: 1 << 20,
            max_snapshot_bytes: 1 << 30,
        }
    }
}

/// seatnet's cluster state in etcd: map ownership, the per-map log of
/// committed batches, and snapshots.
#[derive(Debug)]
pub struct Cluster {
    client: Client,
    root: String,
    limits: Limits,
}

/// Longest map name, in bytes.
pub const MAX_MAP_NAME: usize = 128;

impl Cluster {
    /// The state under `root` (for example `/seatnet/`; a `/` is added
    /// when missing), with the default limits.
    pub fn new(client: Client, root: &str) -> Cluster {
        Cluster::with_limits(client, root, Limits::default())
    }

    /// The same with explicit limits (tests use small ones).
    pub fn with_limits(client: Client, root: &str, limits: Limits) -> Cluster {
        let mut root = root.to_string();
        if !root.ends_with('/') {
            root.push('/');
        }
        Cluster {
            client,
            root,
            limits,
        }
    }

    /// The etcd client underneath.
    pub fn client(&self) -> &Client {
        &self.client
    }

    /// The limits in force.
    pub fn limits(&self) -> Limits {
        self.limits
    }

    /// Every key under `prefix`, in key order, with the rest of its name
    /// after the prefix, read in pages of 256; at most `max` (more is
    /// [`Error::Invalid`] naming `what`, so a caller's memory stays
    /// bounded).
    pub(crate) fn scan_prefix(
        &self,
        prefix: &str,
        max: usize,
        what: &str,
    ) -> Result<Vec<(String, KeyValue)>> {
        let end = prefix_end(prefix.as_bytes());
        let mut from = prefix.as_bytes().to_vec();
        let mut out = Vec::new();
        loop {
            let page = self
                .client()
                .range(&Range::between(from.clone(), end.clone()).limit(256))?;
            for kv in page.kvs {
                if out.len() == max {
                    return Err(Error::Invalid(format!("more than {max} {what}")));
                }
                let name = String::from_utf8_lossy(&kv.key[prefix.len()..]).into_owned();
                from.clone_from(&kv.key);
                from.push(0);
                out.push((name, kv));
            }
            if !page.more {
                return Ok(out);
            }
        }
    }

    pub(crate) fn node_prefix(&self) -> String {
        format!("{}node/", self.root)
    }

    pub(crate) fn node_key(&self, name: &str) -> String {
        format!("{}node/{name}", self.root)
    }

    pub(crate) fn owner_prefix(&self) -> String {
        format!("{}owner/", self.root)
    }

    /// The key whose holder owns `map`.
    pub fn owner_key(&self, map: &str) -> String {
        format!("{}owner/{map}", self.root)
    }

    pub(crate) fn log_prefix(&self, map: &str) -> String {
        format!("{}log/{map}/", self.root)
    }

    /// The key of `map`'s log entry that ends at `last_seq`.
    pub fn log_key(&self, map: &str, last_seq: u64) -> String {
        format!("{}log/{map}/{last_seq:020}", self.root)
    }

    pub(crate) fn manifest_key(&self, map: &str) -> String {
        format!("{}snap/{map}/manifest", self.root)
    }

    pub(crate) fn chunk_prefix(&self, map: &str) -> String {
        format!("{}snap/{map}/chunk/", self.root)
    }

    pub(crate) fn chunk_generation(&self, map: &str, seq: u64) -> String {
        format!("{}snap/{map}/chunk/{seq:020}/", self.root)
    }

    pub(crate) fn chunk_key(&self, map: &str, seq: u64, index: usize) -> String {
        format!("{}snap/{map}/chunk/{seq:020}/{index:06}", self.root)
    }
}

/// A map name that fits in a key: 1 to [`MAX_MAP_NAME`] bytes, no `/`,
/// no control characters or spaces.
pub(crate) fn check_map_name(map: &str) -> Result<()> {
    let ok = !map.is_empty()
        && map.len() <= MAX_MAP_NAME
        && !map
            .chars()
            .any(|c| c == '/' || c.is_control() || c.is_whitespace());
    if ok {
        Ok(())
    } else {
        Err(Error::Invalid(format!(
            "map name {map:?}: 1 to {MAX_MAP_NAME} bytes, without '/', spaces or control characters"
        )))
    }
}

/// The sequence number at the end of a log or chunk key.
pub(crate) fn seq_suffix(key: &[u8], prefix: &str) -> Option<u64> {
    let rest = key.strip_prefix(prefix.as_bytes())?;
    if rest.len() != 20 || !rest.iter().all(u8::is_ascii_digit) {
        return None;
    }
    std::str::from_utf8(rest).ok()?.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cluster() -> Cluster {
        Cluster::new(Client::new(&["127.0.0.1:1"]).unwrap(), "/t")
    }

    #[test]
    fn keys_sort_in_sequence_order() {
        let c = cluster();
        assert_eq!(c.owner_key("AB1"), "/t/owner/AB1");
        assert_eq!(c.log_key("AB1", 7), "/t/log/AB1/00000000000000000007");
        assert!(c.log_key("m", 9) < c.log_key("m", 10));
        assert!(c.log_key("m", u64::MAX - 1) < c.log_key("m", u64::MAX));
        assert!(c.log_key("m", u64::MAX).starts_with(&c.log_prefix("m")));
        assert!(
            c.chunk_key("m", 3, 2)
                .starts_with(&c.chunk_generation("m", 3))
        );
    }

    #[test]
    fn seq_suffix_reads_back_exactly_what_log_key_wrote() {
        let c = cluster();
        for seq in [0, 1, 99, u64::MAX] {
            let key = c.log_key("m", seq);
            assert_eq!(seq_suffix(key.as_bytes(), &c.log_prefix("m")), Some(seq));
        }
        assert_eq!(seq_suffix(b"/t/log/m/12", &c.log_prefix("m")), None);
        assert_eq!(
            seq_suffix(b"/t/log/n/00000000000000000001", &c.log_prefix("m")),
            None
        );
    }

    #[test]
    fn map_names_that_would_break_keys_are_refused() {
        for good in ["default", "AB123", "SHOW-1.x"] {
            assert!(check_map_name(good).is_ok(), "{good}");
        }
        let long = "x".repeat(MAX_MAP_NAME + 1);
        for bad in ["", "a/b", "a b", "a\nb", long.as_str()] {
            assert!(
                matches!(check_map_name(bad), Err(Error::Invalid(_))),
                "{bad:?}"
            );
        }
    }
}

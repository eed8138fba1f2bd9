//! The owner's group-commit batches as fenced etcd transactions, and the
//! per-map log they leave, read back by a node taking a map over.
//!
//! A batch holds, for each map it changed, one [`LogEntry`]: the map's
//! records of the batch, ending at sequence number `last_seq`. All of a
//! node's entries go in one transaction when they fit etcd's limits; the
//! transaction compares, for each map in it, the owner key's mod revision
//! with the node's [`Ownership`], so it commits only while the node still
//! owns every one of them. A batch that does not fit is split, in order,
//! into several transactions, each fenced the same way.
//!
//! Committing the same entries again is harmless (the same keys get the
//! same values, under the same fence), which is what makes an
//! [`Error::Indeterminate`] commit safe to retry.

use std::collections::BTreeMap;

use crate::cluster::{Cluster, check_map_name, seq_suffix};
use crate::error::{Error, Result};
use crate::kv::{Cmp, Compare, Op, OpResponse, Range, Txn, prefix_end};
use crate::ownership::Ownership;

/// One map's records of one batch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogEntry {
    /// The map.
    pub map: String,
    /// The sequence number of the last record in `records` (the map's
    /// own sequence).
    pub last_seq: u64,
    /// The records, encoded by the caller.
    pub records: Vec<u8>,
}

/// What [`Cluster::commit_batch`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Committed {
    /// Transactions used (1 unless the batch exceeded a limit).
    pub transactions: usize,
    /// The store's revision after the last one.
    pub revision: i64,
}

impl Cluster {
    /// Commits a batch: every entry, fenced by the ownership of its map.
    /// Nothing of a transaction whose fence fails is written, and
    /// [`Error::OwnershipLost`] names the maps lost; the caller must then
    /// stop serving them and drop what it holds of them in memory.
    ///
    /// Entries of one map must come in increasing `last_seq`; an entry
    /// for a map not in `owned`, or one larger than a transaction may
    /// carry, is [`Error::Invalid`] (and nothing is sent).
    pub fn commit_batch(&self, owned: &[Ownership], entries: &[LogEntry]) -> Result<Committed> {
        let limits = self.limits();
        let fences: BTreeMap<&str, &Ownership> =
            owned.iter().map(|o| (o.map.as_str(), o)).collect();
        let mut last: BTreeMap<&str, u64> = BTreeMap::new();
        for entry in entries {
            check_map_name(&entry.map)?;
            if !fences.contains_key(entry.map.as_str()) {
                return Err(Error::Invalid(format!(
                    "entry for map {} which this batch does not own",
                    entry.map
                )));
            }
            if let Some(prev) = last.insert(&entry.map, entry.last_seq)
                && prev >= entry.last_seq
            {
                return Err(Error::Invalid(format!(
                    "map {}: entries out of order ({prev} then {})",
                    entry.map, entry.last_seq
                )));
            }
            let size = self.entry_op(entry).size_estimate();
            if size > limits.max_txn_bytes {
                return Err(Error::Invalid(format!(
                    "map {}: an entry of {size} bytes exceeds one transaction's {} (split the records)",
                    entry.map, limits.max_txn_bytes
                )));
            }
        }

        let mut committed = Committed {
            transactions: 0,
            revision: 0,
        };
        for group in self.split(entries) {
            let mut maps: Vec<&str> = group.iter().map(|e| e.map.as_str()).collect();
            maps.sort_unstable();
            maps.dedup();
            let keys: Vec<String> = maps.iter().map(|m| self.owner_key(m)).collect();
            let txn = Txn::new()
                .when(maps.iter().zip(&keys).map(|(m, k)| {
                    Compare::mod_revision(k.clone(), Cmp::Equal, fences[m].mod_revision)
                }))
                .and_then(group.iter().map(|e| self.entry_op(e)))
                .or_else(keys.iter().map(|k| Op::get(Range::key(k.clone()))));
            let r = self.client().txn(&txn)?;
            if !r.succeeded {
                let mut lost = Vec::new();
                for (map, response) in maps.iter().zip(r.responses) {
                    let now = match response {
                        OpResponse::Range(range) => range.kvs.first().map(|kv| kv.mod_revision),
                        _ => None,
                    };
                    if now != Some(fences[map].mod_revision) {
                        lost.push(map.to_string());
                    }
                }
                return Err(Error::OwnershipLost {
                    maps: lost,
                    committed: committed.transactions,
                });
            }
            committed.transactions += 1;
            committed.revision = r.revision;
        }
        Ok(committed)
    }

    fn entry_op(&self, entry: &LogEntry) -> Op {
        Op::put(
            self.log_key(&entry.map, entry.last_seq),
            entry.records.clone(),
        )
    }

    /// Consecutive groups of entries, each within the operation and byte
    /// limits (a group never reorders entries).
    fn split<'a>(&self, entries: &'a [LogEntry]) -> Vec<&'a [LogEntry]> {
        let limits = self.limits();
        let mut groups = Vec::new();
        let mut start = 0;
        let mut bytes = 0;
        for (i, entry) in entries.iter().enumerate() {
            let size = self.entry_op(entry).size_estimate();
            if i > start && (i - start == limits.max_txn_ops || bytes + size > limits.max_txn_bytes)
            {
                groups.push(&entries[start..i]);
                start = i;
                bytes = 0;
            }
            bytes += size;
        }
        if start < entries.len() {
            groups.push(&entries[start..]);
        }
        groups
    }

    /// Up to `limit` of `map`'s log entries with `last_seq > after`, in
    /// order, and whether there are more.
    pub fn log_page(&self, map: &str, after: u64, limit: usize) -> Result<(Vec<LogEntry>, bool)> {
        check_map_name(map)?;
        let prefix = self.log_prefix(map);
        let Some(from) = after.checked_add(1) else {
            return Ok((Vec::new(), false));
        };
        let range = Range::between(self.log_key(map, from), prefix_end(prefix.as_bytes()))
            .limit(limit.max(1) as i64);
        let page = self.client().range(&range)?;
        let mut entries = Vec::with_capacity(page.kvs.len());
        for kv in page.kvs {
            let Some(last_seq) = seq_suffix(&kv.key, &prefix) else {
                return Err(Error::BadResponse {
                    endpoint: "etcd".into(),
                    detail: format!(
                        "log key {:?} is not <map>/<20 digits>",
                        String::from_utf8_lossy(&kv.key)
                    ),
                });
            };
            entries.push(LogEntry {
                map: map.to_string(),
                last_seq,
                records: kv.value,
            });
        }
        Ok((entries, page.more))
    }

    /// Every one of `map`'s log entries after `after`, at most
    /// `max_entries` (more is an error: the log is trimmed at every
    /// snapshot, so a longer one means snapshots are not being taken).
    pub fn read_log(&self, map: &str, after: u64, max_entries: usize) -> Result<Vec<LogEntry>> {
        let mut out: Vec<LogEntry> = Vec::new();
        let mut from = after;
        loop {
            let (page, more) = self.log_page(map, from, 64)?;
            if let Some(last) = page.last() {
                from = last.last_seq;
            }
            out.extend(page);
            if out.len() > max_entries {
                return Err(Error::Invalid(format!(
                    "map {map}: more than {max_entries} log entries after {after}"
                )));
            }
            if !more {
                return Ok(out);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Client;
    use crate::cluster::Limits;

    fn entry(map: &str, last_seq: u64, len: usize) -> LogEntry {
        LogEntry {
            map: map.into(),
            last_seq,
            records: vec![7; len],
        }
    }

    #[test]
    fn batches_split_in_order_within_both_limits() {
        let limits = Limits {
            max_txn_ops: 3,
            max_txn_bytes: 200,
            ..Limits::default()
        };
        let c = Cluster::with_limits(Client::new(&["127.0.0.1:1"]).unwrap(), "/r/", limits);
        let entries: Vec<LogEntry> = (1..=7).map(|i| entry("m", i, 10)).collect();
        let sizes: Vec<usize> = c.split(&entries).iter().map(|g| g.len()).collect();
        assert_eq!(sizes, [3, 3, 1]);
        // Entries of 16 + 29 + 40 = 85 bytes: two fit in 200, three do not.
        let entries: Vec<LogEntry> = (1..=5).map(|i| entry("m", i, 40)).collect();
        let groups = c.split(&entries);
        let sizes: Vec<usize> = groups.iter().map(|g| g.len()).collect();
        assert_eq!(sizes, [2, 2, 1]);
        let flat: Vec<u64> = groups
            .iter()
            .flat_map(|g| g.iter().map(|e| e.last_seq))
            .collect();
        assert_eq!(flat, [1, 2, 3, 4, 5]);
    }

    #[test]
    fn bad_batches_are_refused_before_anything_is_sent() {
        // The endpoint is closed: a request would fail as Unavailable, so
        // an Invalid error proves nothing was sent.
        let c = Cluster::new(Client::new(&["127.0.0.1:1"]).unwrap(), "/r/");
        let own = Ownership {
            map: "m".into(),
            mod_revision: 5,
            lease: 1,
        };
        let cases = [
            vec![entry("other", 1, 1)],
            vec![entry("m", 2, 1), entry("m", 2, 1)],
            vec![entry("m", 1, 2 << 20)],
            vec![entry("a/b", 1, 1)],
        ];
        for entries in cases {
            let err = c
                .commit_batch(std::slice::from_ref(&own), &entries)
                .unwrap_err();
            assert!(matches!(err, Error::Invalid(_)), "{err}");
        }
    }
}

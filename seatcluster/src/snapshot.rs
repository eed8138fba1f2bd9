//! Snapshots of a map in etcd, chunked under the request size limit.
//!
//! The chunks of the snapshot at sequence number `seq` go under a
//! generation of their own, one fenced transaction per chunk; then one
//! fenced transaction writes the manifest that makes it current, deletes
//! every other generation and trims the map's log of every entry the
//! snapshot covers (`last_seq <= seq`). Until that last transaction
//! commits, the previous snapshot and the whole log stay as they were, so
//! a writer that dies half-way leaves only unreferenced chunks, which the
//! next snapshot deletes.
//!
//! A reader reads the manifest, then each chunk at the manifest's
//! revision (etcd's multi-version reads), so a newer snapshot replacing
//! the chunks meanwhile cannot mix two generations.
//!
//! Manifest, 28 bytes, little-endian: magic `SCM1`, `seq` u64, length u64,
//! chunk count u32, CRC32C of the whole snapshot u32.

use crate::cluster::{Cluster, check_map_name};
use crate::error::{Error, Result};
use crate::kv::{Cmp, Compare, Op, Range, Txn, prefix_end};
use crate::ownership::Ownership;

const MAGIC: &[u8; 4] = b"SCM1";
const MANIFEST_LEN: usize = 28;
/// Attempts at a consistent read when compaction removes the revision
/// being read.
const READ_ATTEMPTS: usize = 3;
/// gRPC `OutOfRange`: etcd's "required revision has been compacted".
const CODE_OUT_OF_RANGE: i32 = 11;

/// A snapshot as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredSnapshot {
    /// The last record (of the map's sequence) it covers.
    pub seq: u64,
    /// Its bytes.
    pub bytes: Vec<u8>,
}

/// What [`Cluster::put_snapshot`] wrote.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SnapshotInfo {
    /// Chunks written (one transaction each).
    pub chunks: usize,
    /// The revision of the manifest's transaction.
    pub revision: i64,
}

struct Manifest {
    seq: u64,
    len: u64,
    chunks: u32,
    crc: u32,
}

impl Manifest {
    fn encode(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(MANIFEST_LEN);
        out.extend_from_slice(MAGIC);
        out.extend_from_slice(&self.seq.to_le_bytes());
        out.extend_from_slice(&self.len.to_le_bytes());
        out.extend_from_slice(&self.chunks.to_le_bytes());
        out.extend_from_slice(&self.crc.to_le_bytes());
        out
    }

    fn decode(bytes: &[u8]) -> Option<Manifest> {
        if bytes.len() != MANIFEST_LEN || &bytes[..4] != MAGIC {
            return None;
        }
        let u64_at = |i: usize| u64::from_le_bytes(bytes[i..i + 8].try_into().unwrap());
        let u32_at = |i: usize| u32::from_le_bytes(bytes[i..i + 4].try_into().unwrap());
        Some(Manifest {
            seq: u64_at(4),
            len: u64_at(12),
            chunks: u32_at(20),
            crc: u32_at(24),
        })
    }
}

impl Cluster {
    /// Stores `bytes` as `map`'s snapshot through `seq` and trims the
    /// map's log up to it, every request fenced by `ownership`.
    ///
    /// The caller must have committed every record up to `seq` first
    /// (the log after the snapshot starts at `seq + 1`).
    pub fn put_snapshot(
        &self,
        ownership: &Ownership,
        seq: u64,
        bytes: &[u8],
    ) -> Result<SnapshotInfo> {
        let map = ownership.map.as_str();
        check_map_name(map)?;
        let limits = self.limits();
        if bytes.len() as u64 > limits.max_snapshot_bytes {
            return Err(Error::Invalid(format!(
                "map {map}: snapshot of {} bytes exceeds the limit of {}",
                bytes.len(),
                limits.max_snapshot_bytes
            )));
        }
        let fence =
            || Compare::mod_revision(self.owner_key(map), Cmp::Equal, ownership.mod_revision);
        let chunks: Vec<&[u8]> = bytes.chunks(limits.chunk_bytes.max(1)).collect();
        for (index, chunk) in chunks.iter().enumerate() {
            let txn = Txn::new()
                .when([fence()])
                .and_then([Op::put(self.chunk_key(map, seq, index), *chunk)]);
            if !self.client().txn(&txn)?.succeeded {
                return Err(Error::OwnershipLost {
                    maps: vec![map.to_string()],
                    committed: index,
                });
            }
        }
        let manifest = Manifest {
            seq,
            len: bytes.len() as u64,
            chunks: chunks.len() as u32,
            crc: crc32c::crc32c(bytes),
        };
        let generation = self.chunk_generation(map, seq);
        let all_chunks = prefix_end(self.chunk_prefix(map).as_bytes());
        let log_end = match seq.checked_add(1) {
            Some(next) => self.log_key(map, next).into_bytes(),
            None => prefix_end(self.log_prefix(map).as_bytes()),
        };
        let txn = Txn::new().when([fence()]).and_then([
            Op::put(self.manifest_key(map), manifest.encode()),
            // Older generations, then whatever follows this one's chunks
            // (leftovers of an abandoned attempt, newer generations).
            Op::delete_between(self.chunk_prefix(map), generation),
            Op::delete_between(self.chunk_key(map, seq, chunks.len()), all_chunks),
            // The log entries the snapshot covers.
            Op::delete_between(self.log_prefix(map), log_end),
        ]);
        let r = self.client().txn(&txn)?;
        if !r.succeeded {
            return Err(Error::OwnershipLost {
                maps: vec![map.to_string()],
                committed: chunks.len(),
            });
        }
        Ok(SnapshotInfo {
            chunks: chunks.len(),
            revision: r.revision,
        })
    }

    /// `map`'s current snapshot, if it has one, checked against its
    /// manifest (length and CRC32C).
    pub fn get_snapshot(&self, map: &str) -> Result<Option<StoredSnapshot>> {
        check_map_name(map)?;
        let mut last_error = None;
        for _ in 0..READ_ATTEMPTS {
            match self.read_snapshot_once(map) {
                Err(Error::Etcd { code, message }) if code == CODE_OUT_OF_RANGE => {
                    last_error = Some(Error::Etcd { code, message });
                }
                other => return other,
            }
        }
        Err(last_error.expect("the loop ran"))
    }

    fn read_snapshot_once(&self, map: &str) -> Result<Option<StoredSnapshot>> {
        let read = self.client().range(&Range::key(self.manifest_key(map)))?;
        let Some(kv) = read.kvs.into_iter().next() else {
            return Ok(None);
        };
        let manifest = Manifest::decode(&kv.value).ok_or_else(|| {
            Error::Snapshot(format!(
                "map {map}: manifest is not {MANIFEST_LEN} bytes starting SCM1"
            ))
        })?;
        let limits = self.limits();
        let fits = manifest.len <= limits.max_snapshot_bytes
            // Every chunk holds at least one byte.
            && u64::from(manifest.chunks) <= manifest.len;
        if !fits {
            return Err(Error::Snapshot(format!(
                "map {map}: manifest says {} bytes in {} chunks (limit {} bytes)",
                manifest.len, manifest.chunks, limits.max_snapshot_bytes
            )));
        }
        let mut bytes = Vec::with_capacity(manifest.len as usize);
        for index in 0..manifest.chunks as usize {
            let key = self.chunk_key(map, manifest.seq, index);
            let chunk = self
                .client()
                .range(&Range::key(key).at_revision(read.revision))?
                .kvs
                .into_iter()
                .next()
                .ok_or_else(|| {
                    Error::Snapshot(format!(
                        "map {map}: chunk {index} of {} of the snapshot at seq {} is missing",
                        manifest.chunks, manifest.seq
                    ))
                })?;
            if bytes.len() + chunk.value.len() > manifest.len as usize {
                return Err(Error::Snapshot(format!(
                    "map {map}: chunks exceed the manifest's {} bytes",
                    manifest.len
                )));
            }
            bytes.extend_from_slice(&chunk.value);
        }
        if bytes.len() as u64 != manifest.len || crc32c::crc32c(&bytes) != manifest.crc {
            return Err(Error::Snapshot(format!(
                "map {map}: snapshot at seq {} does not match its manifest (length {} of {}, or checksum)",
                manifest.seq,
                bytes.len(),
                manifest.len
            )));
        }
        Ok(Some(StoredSnapshot {
            seq: manifest.seq,
            bytes,
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn manifests_round_trip_and_garbage_is_refused() {
        let m = Manifest {
            seq: 9,
            len: 3 << 20,
            chunks: 3,
            crc: 0xdead_beef,
        };
        let bytes = m.encode();
        assert_eq!(bytes.len(), MANIFEST_LEN);
        let back = Manifest::decode(&bytes).unwrap();
        assert_eq!(
            (back.seq, back.len, back.chunks, back.crc),
            (9, 3 << 20, 3, 0xdead_beef)
        );
        assert!(Manifest::decode(&bytes[..27]).is_none());
        let mut wrong = bytes.clone();
        wrong[0] = b'X';
        assert!(Manifest::decode(&wrong).is_none());
    }
}

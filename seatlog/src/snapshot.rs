//! Snapshot files: `snapshot-<seq, 20 digits>.snap`, holding the caller's
//! state as of record `seq`.
//!
//! Layout: magic `SEATSNAP`, version u32 = 1, seq u64, body length u64,
//! CRC32C of the body u32, CRC32C of the preceding 32 header bytes u32, then
//! the body. Written as `.snap.tmp`, synced, renamed, and the directory
//! synced, so a crash leaves either the old set of snapshots or the new one.

use crate::error::Error;
use crate::storage::Storage;

const MAGIC: &[u8; 8] = b"SEATSNAP";
const HEADER_LEN: usize = 36;

/// The file name of the snapshot at `seq`.
pub fn name(seq: u64) -> String {
    format!("snapshot-{seq:020}.snap")
}

/// Parses a snapshot name back to its seq.
pub(crate) fn parse_name(name: &str) -> Option<u64> {
    crate::segment::parse_numbered(name, "snapshot-", ".snap")
}

fn encode(seq: u64, body: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(HEADER_LEN + body.len());
    out.extend_from_slice(MAGIC);
    out.extend_from_slice(&1u32.to_le_bytes());
    out.extend_from_slice(&seq.to_le_bytes());
    out.extend_from_slice(&(body.len() as u64).to_le_bytes());
    out.extend_from_slice(&crc32c::crc32c(body).to_le_bytes());
    let crc = crc32c::crc32c(&out);
    out.extend_from_slice(&crc.to_le_bytes());
    out.extend_from_slice(body);
    out
}

/// Checks a snapshot file; returns its body or what is wrong.
pub(crate) fn decode(buf: &[u8], want_seq: u64) -> Result<Vec<u8>, &'static str> {
    let h = buf
        .get(..HEADER_LEN)
        .ok_or("shorter than a snapshot header")?;
    let u64_at = |i: usize| u64::from_le_bytes(h[i..i + 8].try_into().expect("8 bytes"));
    if &h[..8] != MAGIC {
        return Err("bad snapshot magic");
    }
    if crc32c::crc32c(&h[..32]).to_le_bytes() != h[32..36] {
        return Err("snapshot header checksum mismatch");
    }
    if u32::from_le_bytes(h[8..12].try_into().expect("4 bytes")) != 1 {
        return Err("unsupported snapshot version");
    }
    if u64_at(12) != want_seq {
        return Err("snapshot seq does not match its name");
    }
    let body = &buf[HEADER_LEN..];
    if u64_at(20) != body.len() as u64 {
        return Err("snapshot length does not match its header");
    }
    if crc32c::crc32c(body).to_le_bytes() != h[28..32] {
        return Err("snapshot body checksum mismatch");
    }
    Ok(body.to_vec())
}

/// Writes the snapshot at `seq` durably.
pub(crate) fn write(storage: &dyn Storage, seq: u64, body: &[u8]) -> Result<(), Error> {
    let final_name = name(seq);
    let tmp = format!("{final_name}.tmp");
    let io = |e| {
        Error::io(
            format!("write snapshot {}/{final_name}", storage.describe()),
            e,
        )
    };
    let mut file = storage.create(&tmp).map_err(io)?;
    file.write_at(0, &encode(seq, body)).map_err(io)?;
    file.sync_data().map_err(io)?;
    drop(file);
    storage.rename(&tmp, &final_name).map_err(io)?;
    storage.sync_dir().map_err(io)
}

/// The newest valid snapshot among `seqs` (sorted ascending), with a
/// warning for each newer one that was not valid.
pub(crate) struct Loaded {
    /// Seq and body of the snapshot to start from.
    pub(crate) snapshot: Option<(u64, Vec<u8>)>,
    /// Loud warnings: snapshots that were skipped, and why.
    pub(crate) warnings: Vec<String>,
}

pub(crate) fn load_newest(storage: &dyn Storage, seqs: &[u64]) -> Result<Loaded, Error> {
    let dir = storage.describe();
    let mut warnings = Vec::new();
    for &seq in seqs.iter().rev() {
        let file = name(seq);
        let bytes = storage
            .open(&file)
            .and_then(|f| f.read_all())
            .map_err(|e| Error::io(format!("read {dir}/{file}"), e))?;
        match decode(&bytes, seq) {
            Ok(body) => {
                return Ok(Loaded {
                    snapshot: Some((seq, body)),
                    warnings,
                });
            }
            Err(why) => warnings.push(format!(
                "WARNING: snapshot {dir}/{file} is invalid ({why}); falling back to an older one"
            )),
        }
    }
    if seqs.is_empty() {
        Ok(Loaded {
            snapshot: None,
            warnings,
        })
    } else {
        Err(Error::NoValidSnapshot {
            dir,
            detail: warnings.join("; "),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_every_flip_is_caught() {
        let good = encode(9, b"state");
        assert_eq!(decode(&good, 9).as_deref(), Ok(&b"state"[..]));
        assert!(decode(&good, 8).is_err());
        for i in 0..good.len() {
            let mut bad = good.clone();
            bad[i] ^= 0xFF;
            assert!(decode(&bad, 9).is_err(), "flip at {i} undetected");
        }
    }
}

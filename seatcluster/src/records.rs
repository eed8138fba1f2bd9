//! A map's records of one batch, packed into one log value (one put per
//! map per batch, `docs/cluster.md`, "The write path"), and unpacked when
//! a node takes the map over.
//!
//! A packed value is a run of frames, each `seq` (u64, little-endian),
//! `len` (u32, little-endian), then `len` bytes of the record; the log key
//! names the last frame's `seq`. The records themselves are the server's
//! (opaque here).

use crate::error::{Error, Result};

/// Bytes of a frame's header.
const FRAME_HEADER: usize = 12;

/// One record of a map, with its place in the map's sequence.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record {
    /// The map's sequence number of this record.
    pub seq: u64,
    /// The record, encoded by the server.
    pub bytes: Vec<u8>,
}

/// Packs `records` (in increasing `seq`) into values of at most
/// `budget` bytes each (a record larger than that gets a value of its
/// own), each with the seq of its last record.
pub(crate) fn pack(records: &[Record], budget: usize) -> Result<Vec<(u64, Vec<u8>)>> {
    let mut out: Vec<(u64, Vec<u8>)> = Vec::new();
    let mut current: Vec<u8> = Vec::new();
    let mut last: Option<u64> = None;
    for record in records {
        if last.is_some_and(|prev| prev >= record.seq) {
            return Err(Error::Invalid(format!(
                "records out of order: seq {} after {}",
                record.seq,
                last.unwrap_or_default()
            )));
        }
        let len = u32::try_from(record.bytes.len())
            .map_err(|_| Error::Invalid(format!("record {} exceeds 4 GiB", record.seq)))?;
        let frame = FRAME_HEADER + record.bytes.len();
        if let Some(prev) = last
            && !current.is_empty()
            && current.len() + frame > budget
        {
            out.push((prev, std::mem::take(&mut current)));
        }
        current.extend_from_slice(&record.seq.to_le_bytes());
        current.extend_from_slice(&len.to_le_bytes());
        current.extend_from_slice(&record.bytes);
        last = Some(record.seq);
    }
    if let Some(prev) = last {
        out.push((prev, current));
    }
    Ok(out)
}

/// Unpacks one value stored under `last_seq` for `map`, checking that the
/// frames are whole, in increasing order, and end at `last_seq`.
pub(crate) fn unpack(map: &str, last_seq: u64, mut value: &[u8]) -> Result<Vec<Record>> {
    let bad = |what: &str| {
        Error::Log(format!(
            "map {map}: the log entry at seq {last_seq} is damaged: {what}"
        ))
    };
    let mut out: Vec<Record> = Vec::new();
    while !value.is_empty() {
        if value.len() < FRAME_HEADER {
            return Err(bad("a frame header is cut short"));
        }
        let (header, rest) = value.split_at(FRAME_HEADER);
        let seq = u64::from_le_bytes(header[..8].try_into().expect("8 bytes"));
        let len = u32::from_le_bytes(header[8..].try_into().expect("4 bytes")) as usize;
        if rest.len() < len {
            return Err(bad("a record is cut short"));
        }
        if out.last().is_some_and(|prev| prev.seq >= seq) {
            return Err(bad("records out of order"));
        }
        out.push(Record {
            seq,
            bytes: rest[..len].to_vec(),
        });
        value = &rest[len..];
    }
    match out.last() {
        Some(last) if last.seq == last_seq => Ok(out),
        Some(last) => Err(bad(&format!("its last record is seq {}", last.seq))),
        None => Err(bad("it holds no record")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rec(seq: u64, len: usize) -> Record {
        Record {
            seq,
            bytes: vec![seq as u8; len],
        }
    }

    #[test]
    fn records_round_trip_and_values_stay_within_the_budget() {
        let records: Vec<Record> = (1..=10).map(|s| rec(s * 3, 20)).collect();
        // 32 bytes per frame: three fit in 100.
        let values = pack(&records, 100).unwrap();
        let seqs: Vec<u64> = values.iter().map(|(s, _)| *s).collect();
        assert_eq!(seqs, [9, 18, 27, 30]);
        assert!(values.iter().all(|(_, v)| v.len() <= 100));
        let back: Vec<Record> = values
            .iter()
            .flat_map(|(s, v)| unpack("m", *s, v).unwrap())
            .collect();
        assert_eq!(back, records);
        // One value when the budget allows; a record over it alone.
        assert_eq!(pack(&records, 1 << 20).unwrap().len(), 1);
        let big = [rec(1, 5), rec(2, 500), rec(3, 5)];
        let values = pack(&big, 100).unwrap();
        assert_eq!(
            values.iter().map(|(s, _)| *s).collect::<Vec<_>>(),
            [1, 2, 3]
        );
        assert!(pack(&[], 100).unwrap().is_empty());
    }

    #[test]
    fn disorder_and_damage_are_errors() {
        assert!(matches!(
            pack(&[rec(2, 1), rec(2, 1)], 100),
            Err(Error::Invalid(_))
        ));
        let (seq, value) = pack(&[rec(1, 4), rec(2, 4)], 100).unwrap().remove(0);
        assert_eq!(seq, 2);
        for cut in [1, 12, value.len() - 1] {
            assert!(matches!(unpack("m", 2, &value[..cut]), Err(Error::Log(_))));
        }
        assert!(matches!(unpack("m", 3, &value), Err(Error::Log(_))));
        assert!(matches!(unpack("m", 2, &[]), Err(Error::Log(_))));
        let mut swapped = pack(&[rec(2, 4)], 100).unwrap().remove(0).1;
        swapped.extend(pack(&[rec(1, 4)], 100).unwrap().remove(0).1);
        assert!(matches!(unpack("m", 1, &swapped), Err(Error::Log(_))));
    }
}

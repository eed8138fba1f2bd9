//! A snapshot's body: the map's words, the booking table and the id table
//! (format in `docs/design.md`, "seatnet's journal records").

use std::ops::Range;

use seatcore::Snapshot;

use super::codec::{Reader, put_runs, put_varint};
use super::ids::{Ids, Remembered};

/// The snapshot format this build writes and reads.
pub(crate) const STATE_VERSION: u8 = 1;

/// A decoded snapshot.
#[derive(Debug)]
pub(crate) struct State {
    pub(crate) map: Snapshot,
    pub(crate) bookings: Vec<(u128, Vec<Range<u64>>)>,
    pub(crate) ids: Vec<(String, Remembered)>,
}

/// Encodes the parts of a snapshot.
pub(crate) fn encode(map: &Snapshot, bookings: &[(u128, Vec<Range<u64>>)], ids: &Ids) -> Vec<u8> {
    let words = map.words();
    let mut out = Vec::with_capacity(16 + words.len() * 8 + bookings.len() * 24);
    out.push(STATE_VERSION);
    out.extend_from_slice(&map.capacity().to_le_bytes());
    put_varint(&mut out, words.len() as u64);
    for w in words {
        out.extend_from_slice(&w.to_le_bytes());
    }
    put_varint(&mut out, bookings.len() as u64);
    for (reference, runs) in bookings {
        out.extend_from_slice(&reference.to_le_bytes());
        put_runs(&mut out, runs);
    }
    put_varint(&mut out, ids.len() as u64);
    for (id, e) in ids.iter() {
        out.push(id.len() as u8);
        out.extend_from_slice(id.as_bytes());
        out.extend_from_slice(&e.time_ms.to_le_bytes());
        out.extend_from_slice(&e.seq.to_le_bytes());
        put_varint(&mut out, e.reply.len() as u64);
        out.extend_from_slice(&e.reply);
    }
    out
}

/// Decodes a snapshot of a map of `capacity` seats.
pub(crate) fn decode(bytes: &[u8], capacity: u64) -> Result<State, String> {
    let mut r = Reader::new(bytes);
    let version = r.u8()?;
    if version != STATE_VERSION {
        return Err(format!(
            "snapshot format version {version}, this build reads {STATE_VERSION}"
        ));
    }
    let stored = r.u64()?;
    if stored != capacity {
        return Err(format!("snapshot of {stored} seats, expected {capacity}"));
    }
    let n = r.count(8)?;
    let mut words = Vec::with_capacity(n);
    for _ in 0..n {
        words.push(r.u64()?);
    }
    let map = Snapshot::from_words(capacity, words).map_err(|e| e.to_string())?;
    let n = r.count(17)?;
    let mut bookings = Vec::with_capacity(n);
    for _ in 0..n {
        bookings.push((r.u128()?, r.runs(capacity)?));
    }
    let n = r.count(18)?;
    let mut ids = Vec::with_capacity(n);
    for _ in 0..n {
        let len = usize::from(r.u8()?);
        let id = std::str::from_utf8(r.take(len)?)
            .map_err(|_| "request id is not UTF-8".to_string())?
            .to_owned();
        let time_ms = r.u64()?;
        let seq = r.u64()?;
        let reply_len = r.count(1)?;
        let reply = r.take(reply_len)?.into();
        ids.push((
            id,
            Remembered {
                reply,
                time_ms,
                seq,
            },
        ));
    }
    if !r.is_done() {
        return Err("bytes after the snapshot's fields".to_string());
    }
    Ok(State { map, bookings, ids })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_truncations() {
        let map = seatcore::SeatMap::new(130).unwrap();
        map.reserve_range(3..9).unwrap();
        map.reserve(120).unwrap();
        map.reserve(129).unwrap();
        let mut ids = Ids::default();
        ids.insert("a1", b"OK 00 seats=4-9", 5, 2);
        let bookings = vec![
            (7u128, vec![3..8, 8..9]),
            (u128::MAX, vec![120..121, 129..130]),
        ];
        let bytes = encode(&map.snapshot(), &bookings, &ids);
        let state = decode(&bytes, 130).unwrap();
        assert_eq!(state.map.words(), map.snapshot().words());
        assert_eq!(state.bookings, bookings);
        assert_eq!(state.ids.len(), 1);
        assert_eq!(state.ids[0].0, "a1");
        assert_eq!(&*state.ids[0].1.reply, b"OK 00 seats=4-9");
        assert!(decode(&bytes, 131).is_err());
        for cut in 0..bytes.len() {
            assert!(decode(&bytes[..cut], 130).is_err(), "{cut}");
        }
    }
}

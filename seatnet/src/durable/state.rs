//! A snapshot's body: every map (id, name, spec) with its words, booking
//! table, holds, expired hold references and id table (format in
//! `docs/design.md`, "seatnet's journal records").
//!
//! Version 3 holds many maps and the next map id (ids of removed maps are
//! never used again, so a snapshot's ids may have gaps); version 2 (many
//! maps, dense ids, the next id their count) and version 1 (one map,
//! written before maps had names, read as the map `default`) are still
//! read.

use std::ops::Range;

use seatcore::Snapshot;

use super::codec::{Reader, put_runs, put_varint};
use super::ids::{Ids, Remembered};

/// The snapshot format this build writes.
pub(crate) const STATE_VERSION: u8 = 3;
/// Many maps with dense ids, of earlier builds, still read.
const STATE_VERSION_DENSE: u8 = 2;
/// The one-map format of earlier builds, still read.
const STATE_VERSION_ONE_MAP: u8 = 1;

/// One open hold: its reference, seats and wall-clock expiry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct HoldEntry {
    pub(crate) reference: u128,
    pub(crate) runs: Vec<Range<u64>>,
    /// When it expires, in ms since the Unix epoch.
    pub(crate) expires_ms: u64,
    /// When it was first placed (bounds `EXTEND`), in ms since the epoch.
    pub(crate) placed_ms: u64,
}

/// What a snapshot records of one map, borrowed for encoding.
#[derive(Debug)]
pub(crate) struct MapParts<'a> {
    pub(crate) id: u32,
    pub(crate) name: &'a str,
    pub(crate) spec: String,
    pub(crate) map: Snapshot,
    pub(crate) bookings: Vec<(u128, Vec<Range<u64>>)>,
    pub(crate) holds: Vec<HoldEntry>,
    /// Expired hold references and when they expired (ms).
    pub(crate) expired: Vec<(u128, u64)>,
    pub(crate) ids: &'a Ids,
}

/// One decoded map.
#[derive(Debug)]
pub(crate) struct MapStateData {
    pub(crate) id: u32,
    pub(crate) name: String,
    /// The spec text; `None` for a version 1 snapshot (the caller knows
    /// the default map's spec from the directory's descriptor).
    pub(crate) spec: Option<String>,
    pub(crate) map: Snapshot,
    pub(crate) bookings: Vec<(u128, Vec<Range<u64>>)>,
    pub(crate) holds: Vec<HoldEntry>,
    pub(crate) expired: Vec<(u128, u64)>,
    pub(crate) ids: Vec<(String, Remembered)>,
}

/// A decoded snapshot: the id the next new map gets, and every map
/// (ascending ids, each below `next_id`; the missing ones were removed).
#[derive(Debug)]
pub(crate) struct Decoded {
    pub(crate) next_id: u32,
    pub(crate) maps: Vec<MapStateData>,
}

/// Encodes a snapshot of `maps` (ascending ids), whose next new map gets
/// `next_id`.
pub(crate) fn encode(next_id: u32, maps: &[MapParts<'_>]) -> Vec<u8> {
    let mut out = Vec::new();
    out.push(STATE_VERSION);
    out.extend_from_slice(&next_id.to_le_bytes());
    put_varint(&mut out, maps.len() as u64);
    for m in maps {
        out.extend_from_slice(&m.id.to_le_bytes());
        put_text(&mut out, m.name);
        put_text(&mut out, &m.spec);
        put_body(&mut out, &m.map, &m.bookings, m.ids);
        put_varint(&mut out, m.holds.len() as u64);
        for h in &m.holds {
            out.extend_from_slice(&h.reference.to_le_bytes());
            put_runs(&mut out, &h.runs);
            out.extend_from_slice(&h.expires_ms.to_le_bytes());
            out.extend_from_slice(&h.placed_ms.to_le_bytes());
        }
        put_varint(&mut out, m.expired.len() as u64);
        for (reference, at) in &m.expired {
            out.extend_from_slice(&reference.to_le_bytes());
            out.extend_from_slice(&at.to_le_bytes());
        }
    }
    out
}

/// Decodes a snapshot. `capacity_of` gives the seat count of a spec text
/// (`None`: the spec of version 1's only map, the default's), or an error.
pub(crate) fn decode(
    bytes: &[u8],
    capacity_of: impl Fn(Option<&str>) -> Result<u64, String>,
) -> Result<Decoded, String> {
    let mut r = Reader::new(bytes);
    let version = r.u8()?;
    let mut next_id = None;
    if version == STATE_VERSION {
        next_id = Some(u32::from_le_bytes(r.take(4)?.try_into().expect("4 bytes")));
    }
    let maps = match version {
        STATE_VERSION_ONE_MAP => {
            let capacity = capacity_of(None)?;
            let (map, bookings, ids) = body(&mut r, capacity)?;
            vec![MapStateData {
                id: 0,
                name: crate::inventory::DEFAULT_MAP.to_string(),
                spec: None,
                map,
                bookings,
                holds: Vec::new(),
                expired: Vec::new(),
                ids,
            }]
        }
        STATE_VERSION | STATE_VERSION_DENSE => {
            let n = r.count(8)?;
            let mut maps = Vec::with_capacity(n);
            for _ in 0..n {
                let id = u32::from_le_bytes(r.take(4)?.try_into().expect("4 bytes"));
                let name = text(&mut r)?;
                let spec = text(&mut r)?;
                let capacity = capacity_of(Some(&spec))?;
                let (map, bookings, ids) = body(&mut r, capacity)?;
                let count = r.count(34)?;
                let mut holds = Vec::with_capacity(count);
                for _ in 0..count {
                    holds.push(HoldEntry {
                        reference: r.u128()?,
                        runs: r.runs(capacity)?,
                        expires_ms: r.u64()?,
                        placed_ms: r.u64()?,
                    });
                }
                let count = r.count(24)?;
                let mut expired = Vec::with_capacity(count);
                for _ in 0..count {
                    expired.push((r.u128()?, r.u64()?));
                }
                maps.push(MapStateData {
                    id,
                    name,
                    spec: Some(spec),
                    map,
                    bookings,
                    holds,
                    expired,
                    ids,
                });
            }
            maps
        }
        v => {
            return Err(format!(
                "snapshot format version {v}, this build reads {STATE_VERSION_ONE_MAP} to {STATE_VERSION}"
            ));
        }
    };
    if !r.is_done() {
        return Err("bytes after the snapshot's fields".to_string());
    }
    // Before version 3 ids were dense: the next id is the count.
    let next_id = next_id.unwrap_or(maps.len() as u32);
    let mut below = 0u64;
    for m in &maps {
        if u64::from(m.id) < below || m.id >= next_id {
            return Err(format!(
                "map id {} out of order or not below the next id {next_id}",
                m.id
            ));
        }
        below = u64::from(m.id) + 1;
    }
    Ok(Decoded { next_id, maps })
}

/// A short text (a map name or spec): a length byte, then UTF-8.
fn put_text(out: &mut Vec<u8>, text: &str) {
    let bytes = &text.as_bytes()[..text.len().min(255)];
    out.push(bytes.len() as u8);
    out.extend_from_slice(bytes);
}

fn text(r: &mut Reader<'_>) -> Result<String, String> {
    let len = usize::from(r.u8()?);
    std::str::from_utf8(r.take(len)?)
        .map(str::to_owned)
        .map_err(|_| "a name or spec is not UTF-8".to_string())
}

/// One map's seats, bookings and ids (version 1's whole body).
fn put_body(out: &mut Vec<u8>, map: &Snapshot, bookings: &[(u128, Vec<Range<u64>>)], ids: &Ids) {
    let words = map.words();
    out.reserve(16 + words.len() * 8 + bookings.len() * 24);
    out.extend_from_slice(&map.capacity().to_le_bytes());
    put_varint(out, words.len() as u64);
    for w in words {
        out.extend_from_slice(&w.to_le_bytes());
    }
    put_varint(out, bookings.len() as u64);
    for (reference, runs) in bookings {
        out.extend_from_slice(&reference.to_le_bytes());
        put_runs(out, runs);
    }
    put_varint(out, ids.len() as u64);
    for (id, e) in ids.iter() {
        out.push(id.len() as u8);
        out.extend_from_slice(id.as_bytes());
        out.extend_from_slice(&e.time_ms.to_le_bytes());
        out.extend_from_slice(&e.seq.to_le_bytes());
        put_varint(out, e.reply.len() as u64);
        out.extend_from_slice(&e.reply);
    }
}

type Body = (
    Snapshot,
    Vec<(u128, Vec<Range<u64>>)>,
    Vec<(String, Remembered)>,
);

fn body(r: &mut Reader<'_>, capacity: u64) -> Result<Body, String> {
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
    Ok((map, bookings, ids))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn capacity(spec: Option<&str>) -> Result<u64, String> {
        match spec {
            None => Ok(130),
            Some(s) => s
                .parse::<seatplan::MapSpec>()
                .map(|m| m.seats())
                .map_err(|e| e.to_string()),
        }
    }

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
        let cabin = seatcore::SeatMap::new(12).unwrap();
        cabin.reserve(4).unwrap();
        let none = Ids::default();
        let maps = [
            MapParts {
                id: 0,
                name: "default",
                spec: "130".into(),
                map: map.snapshot(),
                bookings: bookings.clone(),
                holds: Vec::new(),
                expired: vec![(9, 1000)],
                ids: &ids,
            },
            MapParts {
                id: 3,
                name: "AB1",
                spec: "2x3-3".into(),
                map: cabin.snapshot(),
                bookings: Vec::new(),
                holds: vec![HoldEntry {
                    reference: 5,
                    runs: std::iter::once(4..5).collect(),
                    expires_ms: 77,
                    placed_ms: 70,
                }],
                expired: Vec::new(),
                ids: &none,
            },
        ];
        let bytes = encode(5, &maps);
        let decoded = decode(&bytes, capacity).unwrap();
        assert_eq!(decoded.next_id, 5, "ids 1, 2 and 4 were removed");
        let state = decoded.maps;
        assert_eq!(state.len(), 2);
        assert_eq!(state[0].map.words(), map.snapshot().words());
        assert_eq!(state[0].bookings, bookings);
        assert_eq!(state[0].expired, [(9, 1000)]);
        assert_eq!(state[0].ids.len(), 1);
        assert_eq!(state[0].ids[0].0, "a1");
        assert_eq!(&*state[0].ids[0].1.reply, b"OK 00 seats=4-9");
        assert_eq!((state[1].id, state[1].name.as_str()), (3, "AB1"));
        assert_eq!(state[1].spec.as_deref(), Some("2x3-3"));
        assert_eq!(state[1].holds, maps[1].holds);
        let wrong = |_: Option<&str>| Ok(131);
        assert!(decode(&bytes, wrong).is_err());
        assert!(
            decode(&encode(3, &maps), capacity).is_err(),
            "id 3 is not below the next id 3"
        );
        for cut in 0..bytes.len() {
            assert!(decode(&bytes[..cut], capacity).is_err(), "{cut}");
        }
    }

    #[test]
    fn a_one_map_snapshot_of_earlier_builds_is_the_default_map() {
        let map = seatcore::SeatMap::new(130).unwrap();
        map.reserve(7).unwrap();
        let mut bytes = vec![STATE_VERSION_ONE_MAP];
        put_body(
            &mut bytes,
            &map.snapshot(),
            &[(1, std::iter::once(7..8).collect())],
            &Ids::default(),
        );
        let decoded = decode(&bytes, capacity).unwrap();
        assert_eq!(decoded.next_id, 1);
        let state = decoded.maps;
        assert_eq!(state.len(), 1);
        assert_eq!((state[0].id, state[0].name.as_str()), (0, "default"));
        assert_eq!(state[0].spec, None);
        assert_eq!(state[0].bookings.len(), 1);
        assert_eq!(state[0].bookings[0].1.first(), Some(&(7..8)));
    }
}

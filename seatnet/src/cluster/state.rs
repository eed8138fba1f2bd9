//! A map's state as etcd keeps it: a snapshot of the one map (the single
//! server's snapshot format, `durable/state.rs`, holding just this map),
//! and log records, each the change's time (u64, little-endian) then the
//! change (`durable/record.rs`). `rebuild` is what a node taking a map
//! over runs; `capture` what its owner runs to write a snapshot.

use seatcluster::LoadedMap;
use seatplan::MapSpec;

use crate::catalog::{replay, restore};
use crate::durable::record::ChangeRecord;
use crate::durable::state::{self, MapParts};
use crate::inventory::MapState;

/// `map`'s state from etcd's snapshot and the records after it, as map
/// `name` laid out as `spec`, with the catalog's id `id`.
///
/// Request ids come back with seq 0 (already committed: a repeat waits
/// for nothing); the seqs they had were the old owner's tickets.
///
/// # Errors
///
/// A message if the snapshot or a record cannot be read, or the snapshot
/// is of another map or spec.
pub(crate) fn rebuild(
    name: &str,
    spec: &MapSpec,
    id: u32,
    loaded: &LoadedMap,
) -> Result<MapState, String> {
    let capacity = spec.seats();
    let mut map = match &loaded.snapshot {
        Some(snapshot) => {
            let at = |e: String| format!("map {name}: its snapshot at seq {}: {e}", snapshot.seq);
            let decoded = state::decode(&snapshot.bytes, |text| match text {
                Some(text) => text
                    .parse::<MapSpec>()
                    .map(|s| s.seats())
                    .map_err(|e| format!("spec '{text}': {e}")),
                None => Ok(capacity),
            })
            .map_err(at)?;
            let [mut data]: [_; 1] = decoded
                .maps
                .try_into()
                .map_err(|maps: Vec<_>| at(format!("holds {} maps, not one", maps.len())))?;
            if data.name != name {
                return Err(at(format!("it is the snapshot of map {}", data.name)));
            }
            let theirs = data.spec.clone().unwrap_or_default();
            if theirs != spec.to_string() {
                return Err(at(format!(
                    "etcd holds the map as {theirs}, this node is configured with {spec}"
                )));
            }
            data.id = id;
            for (_, remembered) in &mut data.ids {
                remembered.seq = 0;
            }
            restore(data, spec).map_err(|e| at(e.to_string()))?
        }
        None => MapState::empty(id, name, spec.clone()).map_err(|e| format!("map {name}: {e}"))?,
    };
    for record in &loaded.records {
        let at = |e: &str| format!("map {name}: record {} in etcd: {e}", record.seq);
        let Some((time, change)) = record.bytes.split_first_chunk::<8>() else {
            return Err(at("shorter than its time"));
        };
        let change = ChangeRecord::decode(change, capacity).map_err(|e| at(&e))?;
        if change.define.is_some() || change.removed {
            return Err(at("defines or removes a map, which a cluster never writes"));
        }
        replay(&mut map, 0, u64::from_le_bytes(*time), change);
    }
    Ok(map)
}

/// A snapshot of `map` and the seq it is at: `seq_now` runs while no
/// grant of the map is between its seatcore RMW and its append (the rule
/// of `inventory/journal.rs`), so the map shows every grant with a
/// record at or below that seq, and none after it; `None` from it skips
/// the snapshot.
pub(crate) fn capture(
    map: &MapState,
    seq_now: impl FnOnce() -> Option<u64>,
) -> Option<(u64, Vec<u8>)> {
    let (seq, seats, bookings, (holds, expired)) = {
        let _grants = map.grants.write();
        let seq = seq_now()?;
        (
            seq,
            map.map.snapshot(),
            map.bookings.entries(),
            map.holds.entries(),
        )
    };
    // After the grants lock: a request with an id holds its id lock while
    // it waits for the grants lock.
    let ids = map.ids.lock();
    let parts = MapParts {
        id: 0,
        name: &map.name,
        spec: map.spec.to_string(),
        map: seats,
        bookings,
        holds,
        expired,
        ids: &ids,
    };
    Some((seq, state::encode(1, &[parts])))
}

#[cfg(test)]
mod tests {
    use seatcluster::{Record, StoredSnapshot};
    use seatcore::SeatMap;

    use super::*;
    use crate::durable::record::Change;

    fn spec() -> MapSpec {
        "3x2-2".parse().unwrap()
    }

    #[test]
    #[allow(clippy::single_range_in_vec_init)] // one run of seats, not a range of values
    fn a_snapshot_and_later_records_rebuild_the_map() {
        let original = MapState::new(7, "AB1", spec(), SeatMap::new(12).unwrap());
        original.map.reserve_range(0..2).unwrap();
        original
            .bookings
            .insert_as(crate::BookingRef::from_raw(42), [0..2].to_vec());
        original.ids.lock().insert("req-1", b"OK 1A-1B", 1000, 55);
        let (seq, bytes) = capture(&original, || Some(9)).unwrap();
        assert_eq!(seq, 9);
        let seat_5 = [5..6];
        let later = Change {
            granted: &seat_5,
            booking: Some(43),
            id: Some(("req-2", b"OK 2B")),
            ..Change::default()
        }
        .encode();
        let mut record = 2000u64.to_le_bytes().to_vec();
        record.extend_from_slice(&later);
        let loaded = LoadedMap {
            snapshot: Some(StoredSnapshot { seq, bytes }),
            records: vec![Record {
                seq: 10,
                bytes: record,
            }],
        };
        let rebuilt = rebuild("AB1", &spec(), 3, &loaded).unwrap();
        assert_eq!(rebuilt.id, 3);
        assert_eq!(rebuilt.map.free_count(), 9);
        assert_eq!(rebuilt.bookings.entries().len(), 2);
        // Ids come back with seq 0: nothing to wait for.
        let ids = rebuilt.ids.lock();
        assert_eq!(
            ids.get("req-1").map(|e| (e.seq, &*e.reply)),
            Some((0, &b"OK 1A-1B"[..]))
        );
        assert_eq!(ids.get("req-2").map(|e| e.seq), Some(0));
    }

    #[test]
    fn another_maps_snapshot_or_a_damaged_record_is_an_error() {
        let other = MapState::new(0, "XY9", spec(), SeatMap::new(12).unwrap());
        let (seq, bytes) = capture(&other, || Some(1)).unwrap();
        let loaded = LoadedMap {
            snapshot: Some(StoredSnapshot { seq, bytes }),
            records: vec![],
        };
        let e = rebuild("AB1", &spec(), 1, &loaded).unwrap_err();
        assert!(e.contains("snapshot of map XY9"), "{e}");
        let e = rebuild("XY9", &"12".parse().unwrap(), 1, &loaded).unwrap_err();
        assert!(e.contains("etcd holds the map as 3x2-2"), "{e}");
        let damaged = LoadedMap {
            snapshot: None,
            records: vec![Record {
                seq: 1,
                bytes: vec![1, 2, 3],
            }],
        };
        let e = rebuild("AB1", &spec(), 1, &damaged).unwrap_err();
        assert!(e.contains("record 1"), "{e}");
        // And skipping the snapshot is possible: `None` from the seq.
        assert!(capture(&other, || None).is_none());
    }
}

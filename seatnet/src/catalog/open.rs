//! Opening a data directory of many maps: the newest snapshot (every map
//! it holds), then every later record (changes, and definitions of maps
//! added since), then the maps the command line adds.
//!
//! The directory's descriptor (`META`) describes the `default` map as
//! earlier builds wrote it (`seats=100`; a cabin default is
//! `default=30x3-3`), so a directory of one map from before maps had names
//! opens as the `default` map. Every other map is defined by a journal
//! record (and then carried by each snapshot).

use std::sync::Arc;

use parking_lot::{Mutex, RwLock};
use seatcore::SeatMap;
use seatlog::{Journal, Options, Recovered, Storage};
use seatplan::MapSpec;

use super::{Catalog, MapDef};
use crate::BookingRef;
use crate::durable::record::{Change, ChangeRecord};
use crate::durable::state::{self, MapStateData};
use crate::durable::{DataError, DataOptions, Durable, IdTable, Log, Opened};
use crate::inventory::{DEFAULT_MAP, Hold, MapState, now_ms};

/// What `META` says for a default map of `spec`.
fn descriptor(spec: &MapSpec) -> String {
    match spec {
        MapSpec::Numbered { seats } => format!("seats={seats}"),
        cabin => format!("{DEFAULT_MAP}={cabin}"),
    }
}

/// The default map's spec a `META` descriptor gives (the inverse of
/// `descriptor`).
pub(crate) fn default_spec_of(text: &str) -> Result<MapSpec, String> {
    let spec = text.strip_prefix("seats=").or_else(|| {
        text.strip_prefix(DEFAULT_MAP)
            .and_then(|t| t.strip_prefix('='))
    });
    match spec {
        Some(spec) => parse_spec(spec),
        None => Err(format!(
            "META holds \"{text}\", not seats=N or {DEFAULT_MAP}=SPEC"
        )),
    }
}

pub(super) fn open(
    defs: &[MapDef],
    storage: Arc<dyn Storage>,
    options: DataOptions,
) -> Result<(Catalog, Opened), DataError> {
    let default = defs
        .first()
        .filter(|d| d.name() == DEFAULT_MAP)
        .ok_or_else(|| DataError("the first map must be 'default'".into()))?;
    let mut journal_options = Options::new(descriptor(default.spec()));
    journal_options.sync = options.fsync;
    journal_options.segment_size = options.segment_size;
    journal_options.max_record_size = options.max_record_size;
    let dir = storage.describe();
    let (journal, recovered) = Journal::open_in(storage, journal_options).map_err(|e| match e {
        seatlog::Error::MetaMismatch { on_disk, .. } => match default.spec() {
            MapSpec::Numbered { seats } => DataError(format!(
                "data directory {dir} holds a map of \"{on_disk}\", but --seats is {seats}; start with --seats matching it or use another directory"
            )),
            spec => DataError(format!(
                "data directory {dir} holds a map of \"{on_disk}\", but --map {DEFAULT_MAP}={spec} says otherwise; start with the default map it holds or use another directory"
            )),
        },
        e => DataError(e.to_string()),
    })?;
    let (mut maps, opened) = rebuild(default.spec(), &recovered, &dir)?;
    // The command line against the directory: same spec, or added. New
    // maps' definitions are appended together and waited for once (one
    // sync for ten thousand new maps, not ten thousand).
    let mut last_ticket = None;
    let mut by_name: std::collections::HashMap<Box<str>, u32> = maps
        .by_id
        .iter()
        .map(|(&id, m)| (m.name.clone(), id))
        .collect();
    for def in defs {
        match by_name.get(def.name()).and_then(|id| maps.by_id.get(id)) {
            Some(m) if &m.spec == def.spec() => {}
            Some(m) => {
                return Err(DataError(format!(
                    "data directory {dir} holds map '{}' as {}, but the command line says {def}; give the spec it holds or another name",
                    m.name, m.spec
                )));
            }
            None => {
                let id = maps.next_id;
                let spec = def.spec().to_string();
                let ticket = journal
                    .append(id, now_ms(), |_| {
                        Change {
                            define: Some((def.name(), &spec)),
                            ..Change::default()
                        }
                        .encode()
                    })
                    .map_err(|e| DataError(format!("cannot add map '{}': {e}", def.name())))?;
                last_ticket = Some(ticket);
                let map = MapState::empty(id, def.name(), def.spec().clone())
                    .map_err(|e| DataError(format!("map '{}': {e}", def.name())))?;
                by_name.insert(def.name().into(), id);
                maps.add(map).map_err(DataError)?;
            }
        }
    }
    if let Some(ticket) = last_ticket {
        journal
            .wait_durable(ticket)
            .map_err(|e| DataError(format!("cannot add maps: {e}")))?;
    }
    let durable = Arc::new(Durable {
        journal: Log::Disk(journal),
        snapshot_every: options.snapshot_every,
        last_snapshot: Mutex::new(opened.snapshot_seq.unwrap_or(0)),
        maps: RwLock::new(IdTable::default()),
    });
    let catalog = Catalog::assemble(
        maps,
        Some(durable),
        crate::Config::DEFAULT_MAX_SEATS_PER_REQUEST,
    )
    .map_err(DataError)?;
    Ok((catalog, opened))
}

/// Every map's state from `recovered` (the newest snapshot, then every
/// later record) of the data directory `dir`, whose default map is
/// `default_spec`, by map id. Used by start-up and by `--check-data`
/// alike.
///
/// A record naming a removed map is skipped: ids are never used again, so
/// it can only be a change that raced the removal (see `catalog/admin.rs`),
/// to a map no one serves.
pub(crate) fn rebuild(
    default_spec: &MapSpec,
    recovered: &Recovered,
    dir: &str,
) -> Result<(IdTable<MapState>, Opened), DataError> {
    let mut opened = Opened {
        warnings: recovered.warnings.clone(),
        ..Opened::default()
    };
    if let Some(t) = &recovered.torn_tail {
        opened.warnings.push(format!("dropped a torn tail: {t:?}"));
    }
    // Built once: from the snapshot when there is one, else `default`
    // alone, empty.
    let mut maps = match &recovered.snapshot {
        Some(snapshot) => {
            let capacity = |spec: Option<&str>| match spec {
                None => Ok(default_spec.seats()),
                Some(text) => parse_spec(text).map(|s| s.seats()),
            };
            let decoded = state::decode(&snapshot.bytes, capacity).map_err(|e| {
                DataError(format!(
                    "data directory {dir}: snapshot at seq {} cannot be read: {e}",
                    snapshot.seq
                ))
            })?;
            opened.snapshot_seq = Some(snapshot.seq);
            // Ascending ids below next_id (decode checked): the gaps are
            // removed maps.
            let mut maps = IdTable {
                next_id: decoded.next_id,
                ..IdTable::default()
            };
            for data in decoded.maps {
                maps.by_id.insert(data.id, restore(data, default_spec)?);
            }
            if maps.by_id.get(&0).is_none_or(|m| &*m.name != DEFAULT_MAP) {
                return Err(DataError(format!(
                    "data directory {dir}: snapshot at seq {} has no map '{DEFAULT_MAP}' as id 0",
                    snapshot.seq
                )));
            }
            maps
        }
        None => {
            let mut maps = IdTable::default();
            let map = MapState::empty(0, DEFAULT_MAP, default_spec.clone())
                .map_err(|e| DataError(e.to_string()))?;
            maps.add(map).map_err(DataError)?;
            maps
        }
    };
    for record in &recovered.records {
        let at = |e: String| {
            DataError(format!(
                "data directory {dir}: record {} cannot be read: {e}",
                record.seq
            ))
        };
        if maps.is_removed(record.map) {
            // A removed map: skipped (see above).
            continue;
        }
        let capacity = maps.by_id.get(&record.map).map_or(0, |m| m.map.capacity());
        let change = ChangeRecord::decode(&record.payload, capacity).map_err(at)?;
        if change.removed {
            if record.map == 0 {
                return Err(at(format!("removes the map '{DEFAULT_MAP}'")));
            }
            if maps.by_id.remove(&record.map).is_none() {
                return Err(at(format!(
                    "removes map id {}, which is not defined",
                    record.map
                )));
            }
            continue;
        }
        if let Some((name, spec)) = &change.define {
            if record.map != maps.next_id {
                return Err(at(format!(
                    "defines map '{name}' as id {}, but the next id is {}",
                    record.map, maps.next_id
                )));
            }
            let spec = parse_spec(spec).map_err(at)?;
            let map = MapState::empty(record.map, name, spec).map_err(|e| at(e.to_string()))?;
            maps.add(map).map_err(at)?;
            continue;
        }
        let state = maps
            .by_id
            .get_mut(&record.map)
            .ok_or_else(|| at(format!("names map id {}, which is not defined", record.map)))?;
        replay(state, record.seq, record.time_ms, change);
    }
    opened.records = recovered.records.len();
    Ok((maps, opened))
}

fn parse_spec(text: &str) -> Result<MapSpec, String> {
    text.parse::<MapSpec>()
        .map_err(|e| format!("map spec '{text}': {e}"))
}

/// One map from a snapshot (`default_spec` for the map of a one-map
/// snapshot, which did not record its spec).
pub(crate) fn restore(data: MapStateData, default_spec: &MapSpec) -> Result<MapState, DataError> {
    let spec = match &data.spec {
        Some(text) => parse_spec(text).map_err(DataError)?,
        None => default_spec.clone(),
    };
    let map = SeatMap::from_snapshot(&data.map).map_err(|e| DataError(e.to_string()))?;
    let state = MapState::new(data.id, &data.name, spec, map);
    for (reference, held) in data.bookings {
        state
            .bookings
            .insert_as(BookingRef::from_raw(reference), held);
    }
    {
        let mut holds = state.holds.lock();
        for h in data.holds {
            holds.open.insert(
                BookingRef::from_raw(h.reference),
                Hold {
                    runs: h.runs,
                    expires_ms: h.expires_ms,
                    placed_ms: h.placed_ms,
                },
            );
        }
        for (reference, at) in data.expired {
            holds.note_expired(BookingRef::from_raw(reference), at);
        }
    }
    {
        let mut ids = state.ids.lock();
        for (id, e) in data.ids {
            ids.insert(&id, &e.reply, e.time_ms, e.seq);
        }
    }
    Ok(state)
}

/// Applies one replayed record to its map (idempotent: replaying it over a
/// state that already has it changes nothing).
pub(crate) fn replay(state: &mut MapState, seq: u64, time_ms: u64, change: ChangeRecord) {
    for run in &change.granted {
        // In range: decode checked every run against the seat count.
        let _ = state.map.set_range_mut(run.clone(), true);
    }
    let mut holds = state.holds.lock();
    if let Some(h) = change.hold {
        holds.open.insert(
            BookingRef::from_raw(h.reference),
            Hold {
                runs: change.granted.clone(),
                expires_ms: h.expires_ms,
                placed_ms: h.placed_ms,
            },
        );
    } else if let Some(reference) = change.booking {
        state
            .bookings
            .insert_as(BookingRef::from_raw(reference), change.granted);
    }
    if let Some((reference, held)) = change.released {
        let reference = BookingRef::from_raw(reference);
        state.bookings.remove(reference);
        holds.open.remove(&reference);
        if change.expired {
            holds.note_expired(reference, time_ms);
        }
        for run in held {
            let _ = state.map.set_range_mut(run, false);
        }
    }
    if let Some(reference) = change.confirm {
        let reference = BookingRef::from_raw(reference);
        if let Some(hold) = holds.open.remove(&reference) {
            state.bookings.insert_as(reference, hold.runs);
        }
    }
    if let Some((reference, expires_ms)) = change.extend {
        if let Some(hold) = holds.open.get_mut(&BookingRef::from_raw(reference)) {
            hold.expires_ms = expires_ms;
        }
    }
    drop(holds);
    if let Some((id, reply)) = change.id {
        state.ids.lock().insert(&id, &reply, time_ms, seq);
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::time::Duration;

    use seatlog::testing::FaultyStorage;

    use crate::durable::{Commit, DataOptions};
    use crate::{Catalog, Counters, Inventory, ManualClock, MapDef, Scratch, resolve_maps};

    fn options() -> DataOptions {
        DataOptions {
            segment_size: 8 << 10,
            max_record_size: 2 << 10,
            snapshot_every: 5,
            ..DataOptions::default()
        }
    }

    fn open(storage: &FaultyStorage, maps: &[&str], clock: &Arc<ManualClock>) -> Catalog {
        let defs: Vec<MapDef> = maps.iter().map(|d| d.parse().unwrap()).collect();
        let defs = resolve_maps(100, &defs).unwrap();
        let (mut catalog, _) =
            Catalog::open_in(&defs, Arc::new(storage.clone()), options()).unwrap();
        catalog.configure_holds(
            Duration::from_secs(60),
            Duration::from_secs(120),
            clock.clone(),
        );
        catalog
    }

    /// Answers `line` on `map` and waits until the reply may be sent.
    fn ask(map: &Inventory, line: &str) -> String {
        let mut out = Vec::new();
        let answered = map.respond(
            line.as_bytes(),
            &mut Scratch::default(),
            &Counters::default(),
            &mut out,
        );
        match answered.commit {
            Commit::Pending(t) => map.wait_durable(t).unwrap(),
            Commit::None => {}
            Commit::Failed(f) => panic!("{f}"),
        }
        String::from_utf8(out).unwrap()
    }

    /// Answers `line` as an operator on the catalog, waiting like a reply.
    fn operate(catalog: &Catalog, current: &mut Option<Inventory>, line: &str) -> String {
        let mut out = Vec::new();
        let answered = catalog.respond_as(
            crate::Access::Operator,
            current,
            line.as_bytes(),
            &mut Scratch::default(),
            &Counters::default(),
            &mut out,
        );
        match answered.commit {
            Commit::Pending(t) => catalog.wait_durable(t).unwrap(),
            Commit::None => {}
            Commit::Failed(f) => panic!("{f}"),
        }
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn added_and_removed_maps_replay_from_records_and_from_a_snapshot() {
        let storage = FaultyStorage::new();
        let clock = Arc::new(ManualClock::new(1_795_000_000_000));
        let catalog = open(&storage, &["KEEP=10"], &clock);
        let mut on = None;
        assert_eq!(
            operate(&catalog, &mut on, "ADDMAP GONE 2x2-2"),
            "OK added GONE spec=2x2-2 seats=8 free=8"
        );
        operate(&catalog, &mut on, "USE GONE");
        assert!(operate(&catalog, &mut on, "BOOK 1A").starts_with("OK "));
        assert_eq!(
            operate(&catalog, &mut on, "REMOVEMAP GONE FORCE"),
            "OK removed GONE bookings=1 holds=0"
        );
        assert!(operate(&catalog, &mut on, "ANY 1").starts_with("ERR removed: map GONE "));
        // The name again: a fresh map, under a new id.
        assert_eq!(
            operate(&catalog, &mut on, "ADDMAP GONE 4"),
            "OK added GONE spec=4 seats=4 free=4"
        );
        operate(&catalog, &mut on, "USE GONE");
        assert!(operate(&catalog, &mut on, "BOOK 2").starts_with("OK "));
        let ids: Vec<u32> = catalog.maps().iter().map(|m| m.state().id).collect();
        assert_eq!(ids, [0, 1, 3], "id 2 (the first GONE) is never used again");
        let listed = operate(&catalog, &mut on, "MAPS");
        assert_eq!(
            listed,
            "OK maps=3 GONE:4:4:3 KEEP:10:10:10 default:100:100:100"
        );
        drop(on);
        // No snapshot was written: the restart replays every record.
        let rebooted = storage.power_loss(None);
        drop(catalog);
        let catalog = open(&rebooted, &["KEEP=10"], &clock);
        let mut on = None;
        assert_eq!(operate(&catalog, &mut on, "MAPS"), listed);
        let ids: Vec<u32> = catalog.maps().iter().map(|m| m.state().id).collect();
        assert_eq!(ids, [0, 1, 3]);
        // A snapshot skips id 2 and keeps the next id; a map added after
        // it gets id 4, not 2 or 3.
        catalog.snapshot().unwrap();
        assert!(operate(&catalog, &mut on, "ADDMAP NEW 3").starts_with("OK added NEW "));
        let rebooted = rebooted.power_loss(None);
        drop(catalog);
        let catalog = open(&rebooted, &["KEEP=10"], &clock);
        let ids: Vec<u32> = catalog.maps().iter().map(|m| m.state().id).collect();
        assert_eq!(ids, [0, 1, 3, 4]);
        assert_eq!(
            operate(&catalog, &mut None, "MAPS"),
            "OK maps=4 GONE:4:4:3 KEEP:10:10:10 NEW:3:3:3 default:100:100:100"
        );
        // And removed again after that snapshot: gone after a restart.
        assert!(operate(&catalog, &mut None, "REMOVEMAP NEW").starts_with("OK removed NEW "));
        let rebooted = rebooted.power_loss(None);
        drop(catalog);
        let catalog = open(&rebooted, &["KEEP=10"], &clock);
        assert!(catalog.get("NEW").is_none());
        assert_eq!(catalog.len(), 3);
    }

    #[test]
    fn holds_on_many_maps_survive_a_power_loss() {
        let storage = FaultyStorage::new();
        let clock = Arc::new(ManualClock::new(1_795_000_000_000));
        let catalog = open(&storage, &["AB=3x3-3", "N=50"], &clock);
        let ab = catalog.get("AB").unwrap();
        let n = catalog.get("N").unwrap();
        let held = ask(&ab, "HOLD 1A-1C id=h");
        let confirmed = ask(&n, "HOLD ANY 4");
        let r = confirmed.split(' ').nth(1).unwrap().to_owned();
        assert!(ask(&n, &format!("CONFIRM {r}")).starts_with("OK confirmed"));
        let gone = ask(&n, "HOLD 40");
        let g = gone.split(' ').nth(1).unwrap().to_owned();
        clock.advance(Duration::from_secs(30));
        let h = held.split(' ').nth(1).unwrap().to_owned();
        assert!(ask(&ab, &format!("EXTEND {h}")).starts_with("OK extended"));
        clock.advance(Duration::from_secs(31));
        catalog.expire_due();
        assert_eq!(ask(&n, &format!("SHOW {g}")), format!("ERR expired: {g}"));
        drop((ab, n));
        let rebooted = storage.power_loss(Some(7));
        drop(catalog);

        let catalog = open(&rebooted, &["AB=3x3-3"], &clock);
        assert_eq!(catalog.len(), 3, "N is kept though not named");
        // An expiry tells no one, so its record is not waited for: the
        // power loss may have lost it. Then the hold, past its time, is
        // expired again at start (here by hand; the server's loop does it
        // within a second), and SHOW says expired either way.
        let ab = catalog.get("AB").unwrap();
        let n = catalog.get("N").unwrap();
        assert_eq!(ask(&ab, "HOLD 1A-1C id=h"), held, "the id, on its map");
        assert!(ask(&ab, &format!("SHOW {h}")).starts_with("OK held seats=1A-1C expires="));
        assert!(ask(&n, &format!("SHOW {r}")).starts_with("OK booked seats="));
        assert_eq!(ask(&n, &format!("SHOW {g}")), format!("ERR expired: {g}"));
        catalog.expire_due();
        assert_eq!(ask(&n, &format!("SHOW {g}")), format!("ERR expired: {g}"));
        assert_eq!(n.map().reserved_count(), 4);
        // The extended hold expires by the clock after the restart too.
        clock.advance(Duration::from_secs(60));
        catalog.expire_due();
        assert_eq!(
            ask(&ab, &format!("CONFIRM {h}")),
            format!("ERR expired: {h}")
        );
        assert_eq!(ab.map().reserved_count(), 0);
    }
}

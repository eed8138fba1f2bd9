//! [`Catalog`]: every map a server serves, by name, and the commands that
//! choose among them (`USE`, `MAPS`).
//!
//! - `defs`: [`MapDef`] (`NAME=SPEC`), map names, the `default` rules;
//! - `open`: a data directory holding many maps, replayed at start;
//! - `admin`: the operator's `ADDMAP` and `REMOVEMAP`.
//!
//! Maps are independent: each [`Inventory`] has its own seats, tables and
//! locks, and a connection holds the one it `USE`s, so a request never
//! touches the catalog's table. The table is read only by `USE`, `MAP`,
//! `MAPS` and the hold expiry, and written only by `ADDMAP` and
//! `REMOVEMAP` (`docs/design.md`, "Adding and removing maps").

mod admin;
mod defs;
mod open;

pub(crate) use open::{default_spec_of, rebuild, replay, restore};

use std::collections::BTreeMap;
use std::fmt;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use std::sync::atomic::AtomicUsize;

use parking_lot::{Mutex, RwLock};
use seatlog::{Storage, Ticket};

pub use defs::{MAX_MAP_NAME, MapDef, check_name, resolve_maps};

use crate::durable::{Commit, DataError, DataOptions, Durable, IdTable, Log, Opened};
use crate::inventory::{
    Access, Answered, Clock, HoldTimer, Inventory, MapState, Scratch, SystemClock,
};
use crate::protocol::{CatalogCommand, MapLine, Reply, parse_catalog, quote};
use crate::stats::Counters;

/// Every map of a server.
///
/// # Examples
///
/// ```
/// use seatnet::{Catalog, Counters, MapDef, Scratch};
///
/// let maps = [MapDef::numbered_default(100), "AB1=30x3-3".parse()?];
/// let catalog = Catalog::new(&maps, 1024)?;
/// let (mut current, mut out) = (None, Vec::new());
/// let mut scratch = Scratch::default();
/// catalog.respond(&mut current, b"USE AB1", &mut scratch, &Counters::default(), &mut out);
/// assert_eq!(out, b"OK using AB1 spec=30x3-3 seats=180 free=180");
/// # Ok::<(), String>(())
/// ```
#[derive(Debug)]
pub struct Catalog {
    /// Maps by name (sorted, for `MAPS`).
    by_name: RwLock<BTreeMap<Box<str>, Inventory>>,
    /// Maps by id (`default` is 0), and the id the next new map gets
    /// (ids are never used again).
    by_id: RwLock<IdTable<Inventory>>,
    default: Inventory,
    durable: Option<Arc<Durable>>,
    /// The hold settings and the one deadline queue of every map.
    timer: Arc<HoldTimer>,
    /// Held by `ADDMAP` and `REMOVEMAP` from their check to their change,
    /// so two of them never decide on the same name or id at once.
    admin: Mutex<()>,
    /// The per-request seat cap, for maps added later.
    max_seats: u64,
    /// The counts of remembered request ids and expired hold references
    /// every map shares (bounds on memory, `durable/ids.rs`, `holds.rs`).
    ids_total: Arc<AtomicUsize>,
    expired_total: Arc<AtomicUsize>,
    /// In cluster mode, who serves a map, as `MAPS` says it (set once the
    /// node has joined).
    owner_label: std::sync::OnceLock<OwnerLabel>,
}

/// Who serves a map (`here`, `host:port`, `none`), for `MAPS`.
pub(crate) struct OwnerLabel(pub(crate) Box<dyn Fn(&str) -> String + Send + Sync>);

impl fmt::Debug for OwnerLabel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("OwnerLabel")
    }
}

/// Most maps one `MAPS` reply lists; `MAPS AFTER <name>` goes on.
pub const MAPS_MAX_LISTED: usize = 1000;

impl Catalog {
    /// The maps `defs` (the first is `default`), in memory, with at most
    /// `max_seats_per_request` seats per request.
    ///
    /// # Errors
    ///
    /// A message if the first map is not `default`, a name repeats, or a
    /// map is too large for memory.
    pub fn new(defs: &[MapDef], max_seats_per_request: u64) -> Result<Catalog, String> {
        Catalog::assemble(empty_maps(defs)?, None, max_seats_per_request)
    }

    /// The maps `defs` of a cluster node, journaled through `journal`
    /// (etcd). Each starts empty and is served only once the node gains it
    /// and swaps in its state from etcd ([`swap_map`](Self::swap_map)).
    pub(crate) fn for_cluster(
        defs: &[MapDef],
        max_seats_per_request: u64,
        journal: Log,
    ) -> Result<Catalog, String> {
        let maps = empty_maps(defs)?;
        let durable = Arc::new(Durable {
            journal,
            snapshot_every: 0,
            last_snapshot: Mutex::new(0),
            maps: RwLock::new(IdTable::default()),
        });
        Catalog::assemble(maps, Some(durable), max_seats_per_request)
    }

    /// Sets who serves each map, as `MAPS` lists it (cluster mode; once).
    pub(crate) fn set_owner_label(&self, label: OwnerLabel) {
        let _ = self.owner_label.set(label);
    }

    /// Replaces the state of map `name` with the one `build` makes for a
    /// new id (ids are never used again), and retires the old one: a
    /// connection holding it looks the map up again at its next request,
    /// and the cluster journal refuses the old id's records. Cluster
    /// mode's gain (state from etcd) and loss (an empty state, freeing the
    /// memory). Returns the new state.
    ///
    /// # Errors
    ///
    /// `build`'s error, or a message if `name` is not a map here or no id
    /// is left; nothing changed then.
    pub(crate) fn swap_map(
        &self,
        name: &str,
        build: impl FnOnce(u32, &seatplan::MapSpec) -> Result<MapState, String>,
    ) -> Result<Arc<MapState>, String> {
        let _admin = self.admin.lock();
        let old = self
            .get(name)
            .ok_or_else(|| format!("map {name} is not one of this server's maps"))?;
        let id = self.by_id.read().next_id;
        if id == u32::MAX {
            return Err("no map ids are left".into());
        }
        let mut state = build(id, old.spec())?;
        state.ids.get_mut().share_total(&self.ids_total);
        state.holds.share_expired_total(&self.expired_total);
        let mut inventory =
            Inventory::from_state(state, self.durable.clone(), Arc::clone(&self.timer));
        inventory.set_max_seats_per_request(self.max_seats);
        let _ = self.by_id.write().add(inventory.clone());
        self.by_name.write().insert(name.into(), inventory.clone());
        self.by_id.write().by_id.remove(&old.state().id);
        old.mark_retired();
        self.schedule_holds(inventory.state());
        Ok(Arc::clone(inventory.state()))
    }

    /// Opens (or creates) the data directory `dir` for the maps `defs`
    /// (the first is `default`) and replays it. Maps on disk that `defs`
    /// does not name are served too; maps of `defs` not yet on disk are
    /// added (journaled).
    ///
    /// # Errors
    ///
    /// [`DataError`] saying what is wrong: the directory is in use, holds
    /// one of the maps with another spec, is corrupt, or cannot be read
    /// or written.
    pub fn open(
        defs: &[MapDef],
        dir: impl AsRef<Path>,
        options: DataOptions,
    ) -> Result<(Catalog, Opened), DataError> {
        let dir = dir.as_ref();
        let storage = seatlog::DirStorage::new(dir).map_err(|e| {
            DataError(format!(
                "cannot use {} as a data directory: {e}",
                dir.display()
            ))
        })?;
        Catalog::open_in(defs, Arc::new(storage), options)
    }

    /// [`open`](Self::open) over any [`Storage`].
    ///
    /// # Errors
    ///
    /// As [`open`](Self::open).
    pub fn open_in(
        defs: &[MapDef],
        storage: Arc<dyn Storage>,
        options: DataOptions,
    ) -> Result<(Catalog, Opened), DataError> {
        open::open(defs, storage, options)
    }

    /// A catalog of `maps` (`default` is id 0).
    fn assemble(
        maps: IdTable<MapState>,
        durable: Option<Arc<Durable>>,
        max_seats_per_request: u64,
    ) -> Result<Catalog, String> {
        let mut by_name = BTreeMap::new();
        let mut by_id = IdTable {
            next_id: maps.next_id,
            ..IdTable::default()
        };
        let timer = Arc::new(HoldTimer::new(
            Arc::new(SystemClock),
            crate::Config::DEFAULT_HOLD_TTL,
            crate::Config::DEFAULT_HOLD_MAX,
        ));
        // One count of remembered request ids for every map (see
        // `durable/ids.rs`).
        let ids_total = Arc::new(AtomicUsize::new(0));
        let expired_total = Arc::new(AtomicUsize::new(0));
        for (id, mut state) in maps.by_id {
            state.ids.get_mut().share_total(&ids_total);
            state.holds.share_expired_total(&expired_total);
            let mut inventory = Inventory::from_state(state, durable.clone(), Arc::clone(&timer));
            inventory.set_max_seats_per_request(max_seats_per_request);
            if by_name
                .insert(inventory.name().into(), inventory.clone())
                .is_some()
            {
                return Err(format!("map '{}' is defined twice", inventory.name()));
            }
            by_id.by_id.insert(id, inventory);
        }
        let default = match by_id.by_id.get(&0) {
            Some(d) if d.name() == crate::inventory::DEFAULT_MAP => d.clone(),
            _ => return Err("the first map must be 'default'".into()),
        };
        if let Some(d) = &durable {
            *d.maps.write() = IdTable {
                next_id: by_id.next_id,
                by_id: by_id
                    .by_id
                    .iter()
                    .map(|(&id, i)| (id, Arc::clone(i.state())))
                    .collect(),
            };
        }
        let catalog = Catalog {
            by_name: RwLock::new(by_name),
            by_id: RwLock::new(by_id),
            default,
            durable,
            timer,
            admin: Mutex::new(()),
            max_seats: max_seats_per_request.max(1),
            ids_total,
            expired_total,
            owner_label: std::sync::OnceLock::new(),
        };
        catalog.schedule_all();
        Ok(catalog)
    }

    /// Sets how long holds last (`ttl` per `HOLD` or `EXTEND`, `max` in
    /// all) and the clock they expire by (tests pass a [`ManualClock`]).
    /// Call before serving.
    ///
    /// [`ManualClock`]: crate::ManualClock
    pub fn configure_holds(&mut self, ttl: Duration, max: Duration, clock: Arc<dyn Clock>) {
        self.timer = Arc::new(HoldTimer::new(clock, ttl, max));
        let timer = Arc::clone(&self.timer);
        for map in self.by_id.write().by_id.values_mut() {
            map.set_timer(&timer);
        }
        for map in self.by_name.write().values_mut() {
            map.set_timer(&timer);
        }
        self.default.set_timer(&timer);
        self.schedule_all();
    }

    /// Queues the deadline of every open hold (after a replay, or a new
    /// timer).
    fn schedule_all(&self) {
        for map in self.by_id.read().by_id.values() {
            self.schedule_holds(map.state());
        }
    }

    /// Queues the deadline of every open hold of `state`.
    fn schedule_holds(&self, state: &MapState) {
        for (reference, hold) in &state.holds.lock().open {
            self.timer
                .schedule(hold.expires_ms, state.id, reference.to_raw());
        }
    }

    /// Expires every hold due by the clock now; returns how many expired.
    /// The expiry loop calls it; tests with a [`ManualClock`] call it after
    /// moving the clock.
    ///
    /// [`ManualClock`]: crate::ManualClock
    pub fn expire_due(&self) -> usize {
        let now = self.timer.now_ms();
        let mut expired = 0;
        let mut retry = Vec::new();
        while let Some((map, reference)) = self.timer.pop_due(now) {
            let Some(inventory) = self.by_id(map) else {
                continue;
            };
            match inventory.expire(reference) {
                Ok(true) => expired += 1,
                Ok(false) => {}
                // The journal refused (a full disk): the hold stays, and
                // its expiry is tried again in a second.
                Err(()) => retry.push((map, reference)),
            }
        }
        for (map, reference) in retry {
            self.timer.schedule(now + 1000, map, reference);
        }
        expired
    }

    /// The expiry loop: sleeps until the first deadline (at most a second
    /// at a time, so a clock that jumps is noticed), expires what is due,
    /// until [`stop_expiry`](Self::stop_expiry).
    pub fn run_expiry(&self) {
        while self.timer.wait(Duration::from_secs(1)) {
            self.expire_due();
            self.compact(false);
        }
    }

    /// Drops every queued deadline of a hold that is gone or was extended
    /// (the expiry loop does it by itself once the queue has doubled, so
    /// holds cancelled or confirmed long before their expiry cost no
    /// memory until then). Returns how many were dropped.
    pub fn compact_deadlines(&self) -> usize {
        self.compact(true)
    }

    fn compact(&self, force: bool) -> usize {
        self.timer.compact(force, |map, reference, expires_ms| {
            self.by_id(map).is_some_and(|m| {
                m.state()
                    .holds
                    .lock()
                    .open
                    .get(&crate::BookingRef::from_raw(reference))
                    .is_some_and(|h| h.expires_ms == expires_ms)
            })
        })
    }

    /// How many hold deadlines are queued (at most about twice the open
    /// holds, plus what a second of traffic adds).
    #[must_use]
    pub fn queued_deadlines(&self) -> usize {
        self.timer.queued()
    }

    /// Ends [`run_expiry`](Self::run_expiry).
    pub fn stop_expiry(&self) {
        self.timer.stop();
    }

    /// Sets the per-request seat cap of every map.
    pub(crate) fn set_max_seats_per_request(&mut self, max: u64) {
        self.max_seats = max.max(1);
        let mut by_id = self.by_id.write();
        for map in by_id.by_id.values_mut() {
            map.set_max_seats_per_request(max);
        }
        self.default.set_max_seats_per_request(max);
        let mut by_name = self.by_name.write();
        for map in by_name.values_mut() {
            map.set_max_seats_per_request(max);
        }
    }

    /// The map every connection starts on.
    #[must_use]
    pub fn default_map(&self) -> &Inventory {
        &self.default
    }

    /// The map named `name`.
    #[must_use]
    pub fn get(&self, name: &str) -> Option<Inventory> {
        self.by_name.read().get(name).cloned()
    }

    /// The map with journal id `id` (`None` if it was removed).
    #[must_use]
    pub(crate) fn by_id(&self, id: u32) -> Option<Inventory> {
        self.by_id.read().by_id.get(&id).cloned()
    }

    /// How many maps there are (removed ones not counted).
    #[must_use]
    pub fn len(&self) -> usize {
        self.by_name.read().len()
    }

    /// Whether there are no maps (never: `default` is always there).
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Every map, in id order (removed ones left out).
    #[must_use]
    pub fn maps(&self) -> Vec<Inventory> {
        self.by_id.read().by_id.values().cloned().collect()
    }

    /// Whether changes are journaled.
    #[must_use]
    pub fn is_durable(&self) -> bool {
        self.durable.is_some()
    }

    /// Blocks until `ticket` (and every earlier change) is durable.
    ///
    /// # Errors
    ///
    /// [`seatlog::Fatal`] if the journal failed.
    pub fn wait_durable(&self, ticket: Ticket) -> Result<(), seatlog::Fatal> {
        self.default.wait_durable(ticket)
    }

    /// A snapshot of every map (see [`Inventory::snapshot`]).
    ///
    /// # Errors
    ///
    /// [`DataError`] if it cannot be written.
    pub fn snapshot(&self) -> Result<Option<u64>, DataError> {
        self.default.snapshot()
    }

    /// Answers one request on the connection whose map is `current`
    /// (`None`: `default`): `USE` and `MAPS` here, everything else by the
    /// map. `USE` changes `current`. A connection of the public port:
    /// no operator commands.
    pub fn respond(
        &self,
        current: &mut Option<Inventory>,
        line: &[u8],
        scratch: &mut Scratch,
        counters: &Counters,
        out: &mut Vec<u8>,
    ) -> Answered {
        self.respond_as(Access::Public, current, line, scratch, counters, out)
    }

    /// [`respond`](Self::respond) for a connection with `access`: an
    /// operator command runs only with [`Access::Operator`].
    pub fn respond_as(
        &self,
        access: Access,
        current: &mut Option<Inventory>,
        line: &[u8],
        scratch: &mut Scratch,
        counters: &Counters,
        out: &mut Vec<u8>,
    ) -> Answered {
        if current.as_ref().unwrap_or(&self.default).is_retired() {
            // Cluster mode: the map's state was swapped (gained again, or
            // lost); serve the one the catalog has now.
            let name = current.as_ref().unwrap_or(&self.default).name();
            if let Some(fresh) = self.get(name) {
                *current = Some(fresh);
            }
        }
        let map = current.as_ref().unwrap_or(&self.default);
        let Some(command) = parse_catalog(line) else {
            return map.respond_as(access, line, scratch, counters, out);
        };
        let say = |out: &mut Vec<u8>, reply: Reply<'_>| {
            reply.write_to(out);
            Answered {
                error: reply.is_error(),
                close: false,
                commit: Commit::None,
            }
        };
        match command {
            Err(e) => say(out, Reply::BadRequest(&e)),
            Ok(command) if command.operator_verb().is_some() && access != Access::Operator => {
                say(out, Reply::Forbidden(command.operator_verb().unwrap_or("")))
            }
            Ok(CatalogCommand::AddMap { name, spec }) => self.add_map(name, spec, out),
            Ok(CatalogCommand::RemoveMap { name, force }) => self.remove_map(name, force, out),
            Ok(CatalogCommand::Use(name)) => match self.get(name) {
                Some(map) => {
                    let line = map_line(&map);
                    let answered = say(out, Reply::Using(&line));
                    *current = (map.name() != crate::inventory::DEFAULT_MAP).then_some(map);
                    answered
                }
                None => say(out, Reply::UnknownMap(&quote(name))),
            },
            Ok(CatalogCommand::View(name)) => {
                let map = match name {
                    None if map.is_removed() => {
                        return say(out, Reply::MapGone(map.name()));
                    }
                    None => Some(map.clone()),
                    Some(name) => self.get(name),
                };
                let Some(map) = map else {
                    return say(out, Reply::UnknownMap(&quote(name.unwrap_or(""))));
                };
                let line = map_line(&map);
                let (states, held) = map.seat_states();
                let drawn = states.len() as u64;
                let states = seatplan::encode_states(states);
                say(
                    out,
                    Reply::MapView {
                        map: &line,
                        held,
                        drawn,
                        states: &states,
                    },
                )
            }
            Ok(CatalogCommand::Maps(after)) => {
                let by_name = self.by_name.read();
                let total = by_name.len();
                let listed: Vec<MapLine> = match after {
                    Some(after) => by_name
                        .range::<str, _>((
                            std::ops::Bound::Excluded(after),
                            std::ops::Bound::Unbounded,
                        ))
                        .take(MAPS_MAX_LISTED + 1)
                        .map(|(_, m)| map_line(m))
                        .collect(),
                    None => by_name
                        .values()
                        .take(MAPS_MAX_LISTED + 1)
                        .map(map_line)
                        .collect(),
                };
                drop(by_name);
                let mut listed = listed;
                if let Some(label) = self.owner_label.get() {
                    for line in &mut listed {
                        line.owner = Some((label.0)(&line.name));
                    }
                }
                let more = listed.len() > MAPS_MAX_LISTED;
                let listed = &listed[..listed.len().min(MAPS_MAX_LISTED)];
                say(
                    out,
                    Reply::Maps {
                        total,
                        listed,
                        more,
                    },
                )
            }
        }
    }
}

/// The maps `defs`, empty, with ids from 0 in order.
fn empty_maps(defs: &[MapDef]) -> Result<IdTable<MapState>, String> {
    let mut maps = IdTable::default();
    for def in defs {
        let map = MapState::empty(maps.next_id, def.name(), def.spec().clone())
            .map_err(|e| format!("map '{}': {e}", def.name()))?;
        maps.add(map)?;
    }
    Ok(maps)
}

/// What `USE` and `MAPS` say of one map.
fn map_line(map: &Inventory) -> MapLine {
    MapLine {
        name: map.name().into(),
        spec: map.spec().to_string(),
        seats: map.map().capacity(),
        free: map.map().free_count(),
        owner: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ask(catalog: &Catalog, current: &mut Option<Inventory>, line: &str) -> String {
        let mut out = Vec::new();
        catalog.respond(
            current,
            line.as_bytes(),
            &mut Scratch::default(),
            &Counters::default(),
            &mut out,
        );
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn use_and_maps() {
        let defs =
            resolve_maps(10, &["B=20".parse().unwrap(), "A=2x2-2".parse().unwrap()]).unwrap();
        let catalog = Catalog::new(&defs, 1024).unwrap();
        let mut current = None;
        assert_eq!(
            ask(&catalog, &mut current, "1,2"),
            "Reservados: [1, 2] | Indisponíveis/Inválidos: []"
        );
        assert_eq!(
            ask(&catalog, &mut current, "MAPS"),
            "OK maps=3 A:2x2-2:8:8 B:20:20:20 default:10:10:8"
        );
        assert_eq!(
            ask(&catalog, &mut current, "use B"),
            "OK using B spec=20 seats=20 free=20"
        );
        assert_eq!(
            ask(&catalog, &mut current, "1,2,3"),
            "Reservados: [1, 2, 3] | Indisponíveis/Inválidos: []"
        );
        assert_eq!(
            ask(&catalog, &mut current, "MAPS AFTER A"),
            "OK maps=3 B:20:20:17 default:10:10:8"
        );
        assert_eq!(
            ask(&catalog, &mut current, "USE nope"),
            "ERR unknown-map: nope (MAPS lists the maps)"
        );
        assert!(ask(&catalog, &mut current, "USE").starts_with("ERR bad-request: missing"));
        assert!(ask(&catalog, &mut current, "MAPS x y").starts_with("ERR bad-request"));
        // Still on B after the errors; back to default.
        assert!(ask(&catalog, &mut current, "AVAIL").starts_with("OK free=17 total=20"));
        ask(&catalog, &mut current, "USE default");
        assert!(current.is_none());
        assert!(ask(&catalog, &mut current, "AVAIL").starts_with("OK free=8 total=10"));
    }

    #[test]
    fn maps_lists_a_bounded_page() {
        let defs: Vec<MapDef> = (0..MAPS_MAX_LISTED + 5)
            .map(|i| format!("m{i:05}=1").parse().unwrap())
            .collect();
        let catalog = Catalog::new(&resolve_maps(100, &defs).unwrap(), 1024).unwrap();
        let reply = ask(&catalog, &mut None, "MAPS");
        assert!(
            reply.starts_with("OK maps=1006 more=yes "),
            "{}",
            &reply[..40]
        );
        assert_eq!(reply.matches(':').count(), 3 * MAPS_MAX_LISTED);
        let last = reply.rsplit(' ').next().unwrap().split(':').next().unwrap();
        let rest = ask(&catalog, &mut None, &format!("MAPS AFTER {last}"));
        assert_eq!(rest.matches(':').count(), 3 * 6, "{rest}");
    }
}

//! The operator's `ADDMAP` and `REMOVEMAP`: maps added and removed while
//! the server runs (run only on connections accepted on `--admin-listen`;
//! [`Catalog::respond_as`] checks the access first).
//!
//! Both hold the catalog's `admin` lock from their check to their change,
//! and, with a journal, the snapshot lock (`Durable::last_snapshot`) from
//! their record to the registry's change, so a snapshot never misses a map
//! defined before its seq nor holds one removed before it.
//!
//! Ids are never used again: a new map gets the next id even when its name
//! was removed before, so a late record of the removed map (a change that
//! raced the removal) can never be replayed onto the new one.

use std::sync::Arc;

use seatcore::SeatMap;
use seatlog::AppendError;
use seatplan::MapSpec;

use super::{Catalog, check_name, map_line};
use crate::durable::Commit;
use crate::durable::record::Change;
use crate::inventory::{Answered, DEFAULT_MAP, Inventory, MapState, now_ms};
use crate::protocol::{Reply, quote};

impl Catalog {
    /// `ADDMAP name spec`: a new map, journaled (the reply waits for its
    /// record), then served.
    pub(super) fn add_map(&self, name: &str, spec: &str, out: &mut Vec<u8>) -> Answered {
        let fail =
            |out: &mut Vec<u8>, code, why: &str| answer(out, Reply::OperatorFailed { code, why });
        if let Err(why) = check_name(name) {
            return fail(out, "bad-request", &why);
        }
        let parsed = match spec.parse::<MapSpec>() {
            Ok(parsed) => parsed,
            Err(e) => {
                let why = format!("map spec '{}': {e}", spec.escape_default());
                return fail(out, "bad-request", &why);
            }
        };
        let _admin = self.admin.lock();
        if self.by_name.read().contains_key(name) {
            let why = format!("map {name} exists; REMOVEMAP it first or choose another name");
            return fail(out, "map-exists", &why);
        }
        let seats = match SeatMap::new(parsed.seats()) {
            Ok(seats) => seats,
            Err(e) => return fail(out, "bad-request", &format!("map {name}: {e}")),
        };
        let id = self.by_id.read().next_id;
        if id == u32::MAX {
            return fail(out, "add-failed", "no map ids are left");
        }
        let mut state = MapState::new(id, name, parsed, seats);
        state.ids.get_mut().share_total(&self.ids_total);
        state.holds.share_expired_total(&self.expired_total);
        let mut inventory =
            Inventory::from_state(state, self.durable.clone(), Arc::clone(&self.timer));
        inventory.set_max_seats_per_request(self.max_seats);
        let mut commit = Commit::None;
        if let Some(d) = &self.durable {
            let _snapshots = d.last_snapshot.lock();
            let spec = inventory.spec().to_string();
            let appended = d.journal.append(id, now_ms(), |_| {
                Change {
                    define: Some((name, &spec)),
                    ..Change::default()
                }
                .encode()
            });
            match appended {
                Ok(ticket) => commit = Commit::Pending(ticket),
                Err(e) => return journal_refused(out, e),
            }
            // Cannot fail: `next_id` is below `u32::MAX` (checked above).
            let _ = d.maps.write().add(Arc::clone(inventory.state()));
        }
        let _ = self.by_id.write().add(inventory.clone());
        self.by_name.write().insert(name.into(), inventory.clone());
        let line = map_line(&inventory);
        Answered {
            commit,
            ..answer(out, Reply::MapAdded(&line))
        }
    }

    /// `REMOVEMAP name [FORCE]`: the map stops serving (refused with
    /// bookings or open holds unless `force`; never for `default`).
    pub(super) fn remove_map(&self, name: &str, force: bool, out: &mut Vec<u8>) -> Answered {
        if name == DEFAULT_MAP {
            let why =
                format!("the map {DEFAULT_MAP} cannot be removed (every connection starts on it)");
            return answer(
                out,
                Reply::OperatorFailed {
                    code: "default-map",
                    why: &why,
                },
            );
        }
        let _admin = self.admin.lock();
        let Some(map) = self.get(name) else {
            return answer(out, Reply::UnknownMap(&quote(name)));
        };
        let id = map.state().id;
        let snapshots = self.durable.as_ref().map(|d| d.last_snapshot.lock());
        // With a journal, a grant holds its map's grants lock from its
        // seatcore RMW to its record and checks the flag under it: with
        // the write lock held, every grant is either counted below or
        // refused (`ERR removed`) and never journaled after the removal.
        let grants = self.durable.as_ref().map(|_| map.state().grants.write());
        map.mark_removed(true);
        let (bookings, holds) = (map.booking_count(), map.hold_count());
        if (bookings > 0 || holds > 0) && !force {
            map.mark_removed(false);
            let why = format!(
                "map {name} has {bookings} bookings and {holds} open holds; REMOVEMAP {name} FORCE removes it with them"
            );
            return answer(
                out,
                Reply::OperatorFailed {
                    code: "map-in-use",
                    why: &why,
                },
            );
        }
        let mut commit = Commit::None;
        if let Some(d) = &self.durable {
            let appended = d.journal.append(id, now_ms(), |_| {
                Change {
                    removed: true,
                    ..Change::default()
                }
                .encode()
            });
            match appended {
                Ok(ticket) => commit = Commit::Pending(ticket),
                Err(e) => {
                    map.mark_removed(false);
                    return journal_refused(out, e);
                }
            }
            d.maps.write().by_id.remove(&id);
        }
        drop(grants);
        drop(snapshots);
        self.by_name.write().remove(name);
        self.by_id.write().by_id.remove(&id);
        Answered {
            commit,
            ..answer(
                out,
                Reply::MapRemoved {
                    name,
                    bookings,
                    holds,
                },
            )
        }
    }
}

/// Writes `reply`; what the connection does next.
fn answer(out: &mut Vec<u8>, reply: Reply<'_>) -> Answered {
    reply.write_to(out);
    Answered {
        error: reply.is_error(),
        close: false,
        commit: Commit::None,
    }
}

/// The reply to a definition or removal the journal refused: nothing
/// changed. A failed journal is fatal, as for every change.
fn journal_refused(out: &mut Vec<u8>, e: AppendError) -> Answered {
    if let AppendError::Failed(fatal) = e {
        return Answered {
            error: true,
            close: false,
            commit: Commit::Failed(fatal),
        };
    }
    let why = format!("{e}; nothing was changed");
    answer(
        out,
        Reply::OperatorFailed {
            code: "disk-full",
            why: &why,
        },
    )
}

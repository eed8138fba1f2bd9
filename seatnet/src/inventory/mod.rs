//! [`Inventory`]: the seat map plus the booking table, and the execution of
//! a parsed [`Command`] against them.
//!
//! Every request's work is bounded: lists and counts are capped
//! ([`Inventory::max_seats_per_request`]), bookings hold runs of seats
//! (`runs`), and `AVAIL` stops at its cap.

mod bookings;
mod check;
mod expiry;
mod hold_ops;
mod holds;
mod journal;
mod operator;
mod respond;
mod runs;

use std::ops::Range;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use parking_lot::{Mutex, RwLock};
use seatcore::{AllOrNothingError, CapacityError, ReserveOutcome, SearchError, SeatMap};

pub(crate) use bookings::{Bookings, Held};
pub use check::{DataCheck, DataContents, MapContents, check_data};
pub(crate) use expiry::HoldTimer;
pub use expiry::{Clock, ManualClock, SystemClock};
pub(crate) use hold_ops::Fate;
use hold_ops::HoldView;
pub(crate) use holds::Hold;
use holds::Holds;
pub(crate) use journal::now_ms;
pub use respond::{Access, Answered, Scratch};

/// How often TOGETHER on a cabin chooses again when its choice was taken
/// by others before it could claim it.
pub(crate) const TOGETHER_TRIES: usize = 8;

/// The name of the map every connection starts on.
pub const DEFAULT_MAP: &str = "default";

use seatplan::MapSpec;

use crate::config::Config;
use crate::durable::Durable;
use crate::durable::ids::Ids;
use crate::protocol::{Command, Number, Reply, SeatList, SeatOutcome, StatsSnapshot, quote};
use crate::reference::BookingRef;
use crate::stats::Counters;

/// One seat map as the server serves it: its seats (a [`SeatMap`],
/// library seats from 0, wire seats from 1 or labels like `12A`), the
/// booking references that hold some of them, and its request ids. A
/// cheap handle ([`Clone`] shares the same map): the server's catalog
/// (`catalog/`) holds one per map and a connection holds the one it
/// `USE`s.
///
/// # Examples
///
/// ```
/// use seatnet::Inventory;
///
/// let inventory = Inventory::new(100)?;
/// inventory.map().reserve(4)?; // wire seat 5
/// assert_eq!(inventory.map().free_count(), 99);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone)]
pub struct Inventory {
    state: Arc<MapState>,
    max_seats: u64,
    /// The journal, with `--data-dir` (`journal.rs`), shared by every map.
    durable: Option<Arc<Durable>>,
    /// The hold clock, settings and deadline queue, shared by every map.
    timer: Arc<HoldTimer>,
}

/// What one map holds; shared by its [`Inventory`] handles and (with a
/// journal) the snapshot writer's registry of maps.
#[derive(Debug)]
pub(crate) struct MapState {
    /// The journal's map id (`default` is 0).
    pub(crate) id: u32,
    /// The name clients `USE`.
    pub(crate) name: Box<str>,
    /// Numbered or cabin, and how seats are written.
    pub(crate) spec: MapSpec,
    pub(crate) map: SeatMap,
    pub(crate) bookings: Bookings,
    /// Request ids and their replies (`durable/ids.rs`), per map: an id
    /// names a change on the map it was sent to. Held from the look-up
    /// through the change of a request that carries an id.
    pub(crate) ids: Mutex<Ids>,
    /// Read-held by a journaled grant from its seatcore RMW until its
    /// record is appended (or the grant undone); write-held by a snapshot
    /// while it reads the journal's last seq and this map, so a snapshot
    /// never holds a grant without its record. Per map, so grants on
    /// different maps never touch one lock.
    pub(crate) grants: RwLock<()>,
    /// Holds and expired hold references (`holds.rs`).
    pub(crate) holds: Holds,
    /// Set once by `REMOVEMAP` (`catalog/admin.rs`): every later request
    /// on a handle of this map gets `ERR removed`.
    pub(crate) removed: AtomicBool,
    /// Set once in cluster mode when the catalog swaps this state out (the
    /// node lost the map, or gained it again from etcd): a connection
    /// holding it looks its map up again by name (`Catalog::respond_as`).
    pub(crate) retired: AtomicBool,
}

impl MapState {
    /// A map laid out as `spec` with every seat free.
    pub(crate) fn empty(id: u32, name: &str, spec: MapSpec) -> Result<MapState, CapacityError> {
        let map = SeatMap::new(spec.seats())?;
        Ok(MapState::new(id, name, spec, map))
    }

    pub(crate) fn new(id: u32, name: &str, spec: MapSpec, map: SeatMap) -> MapState {
        MapState {
            id,
            name: name.into(),
            spec,
            map,
            bookings: Bookings::new(),
            ids: Mutex::new(Ids::default()),
            grants: RwLock::new(()),
            holds: Holds::default(),
            removed: AtomicBool::new(false),
            retired: AtomicBool::new(false),
        }
    }
}

impl Inventory {
    /// The map named `default`: `seats` numbered seats (wire numbers
    /// `1..=seats`) and no bookings; at most
    /// [`Config::DEFAULT_MAX_SEATS_PER_REQUEST`] seats per request.
    ///
    /// # Errors
    ///
    /// [`CapacityError`] if `seats` is 0 or too large for memory.
    pub fn new(seats: u64) -> Result<Self, CapacityError> {
        Inventory::with_spec(DEFAULT_MAP, MapSpec::Numbered { seats })
    }

    /// A map named `name` laid out as `spec`, in memory.
    ///
    /// # Errors
    ///
    /// [`CapacityError`] if the map has no seats or is too large for memory.
    pub fn with_spec(name: &str, spec: MapSpec) -> Result<Self, CapacityError> {
        let timer = Arc::new(HoldTimer::new(
            Arc::new(SystemClock),
            Config::DEFAULT_HOLD_TTL,
            Config::DEFAULT_HOLD_MAX,
        ));
        Ok(Inventory::from_state(
            MapState::empty(0, name, spec)?,
            None,
            timer,
        ))
    }

    pub(crate) fn from_state(
        state: MapState,
        durable: Option<Arc<Durable>>,
        timer: Arc<HoldTimer>,
    ) -> Inventory {
        Inventory {
            state: Arc::new(state),
            max_seats: Config::DEFAULT_MAX_SEATS_PER_REQUEST,
            durable,
            timer,
        }
    }

    /// Shares `timer` (the catalog's hold settings and queue).
    pub(crate) fn set_timer(&mut self, timer: &Arc<HoldTimer>) {
        self.timer = Arc::clone(timer);
    }

    /// How many holds are open.
    #[must_use]
    pub fn hold_count(&self) -> usize {
        self.state.holds.len()
    }

    pub(crate) fn state(&self) -> &Arc<MapState> {
        &self.state
    }

    /// Whether an operator removed this map (`REMOVEMAP`): it answers
    /// every request but `QUIT` and `HELP` with `ERR removed`.
    #[must_use]
    pub fn is_removed(&self) -> bool {
        // Acquire pairs with the Release in `mark_removed`. The flag only
        // turns requests away; the grants lock (durable) is what orders a
        // grant against the removal (see `grant_logged`).
        self.state.removed.load(Ordering::Acquire)
    }

    /// Sets (or, for a refused removal, clears) the removed flag.
    pub(crate) fn mark_removed(&self, removed: bool) {
        // Release: a request that sees the flag also sees everything the
        // remover did before (nothing it relies on; Acquire/Release is
        // the cheapest pair that keeps the flag monotonic per observer).
        self.state.removed.store(removed, Ordering::Release);
    }

    /// Whether the catalog has swapped this map's state out (cluster mode):
    /// the map is served by a newer state under the same name, or not by
    /// this node.
    #[must_use]
    pub fn is_retired(&self) -> bool {
        // Relaxed: only a hint to look the map up again. A request that
        // misses it runs on the old state, whose records the cluster
        // journal refuses (its id is no longer registered), so nothing of
        // it is ever acknowledged as a change.
        self.state.retired.load(Ordering::Relaxed)
    }

    pub(crate) fn mark_retired(&self) {
        // Relaxed: see `is_retired`.
        self.state.retired.store(true, Ordering::Relaxed);
    }

    /// The map's name (`default` for the original's).
    #[must_use]
    pub fn name(&self) -> &str {
        &self.state.name
    }

    /// The map's layout: numbered seats or a cabin.
    #[must_use]
    pub fn spec(&self) -> &MapSpec {
        &self.state.spec
    }

    /// The same inventory, with at most `max` seats (at least 1) per
    /// `ANY`, `TOGETHER`, `BOOK` or `ALL`.
    ///
    /// # Examples
    ///
    /// ```
    /// use seatnet::{Counters, Inventory, Scratch};
    ///
    /// let inventory = Inventory::new(100)?.with_max_seats_per_request(3);
    /// let mut out = Vec::new();
    /// inventory.respond(b"ANY 4", &mut Scratch::default(), &Counters::default(), &mut out);
    /// assert!(out.starts_with(b"ERR too-many-seats: ANY may ask for at most 3 seats"));
    /// # Ok::<(), seatcore::CapacityError>(())
    /// ```
    #[must_use]
    pub fn with_max_seats_per_request(self, max: u64) -> Self {
        Inventory {
            max_seats: max.max(1),
            ..self
        }
    }

    /// Sets the per-request cap in place (the catalog's maps).
    pub(crate) fn set_max_seats_per_request(&mut self, max: u64) {
        self.max_seats = max.max(1);
    }

    /// Most seats one `ANY`, `TOGETHER`, `BOOK` or `ALL` may ask for.
    #[must_use]
    pub fn max_seats_per_request(&self) -> u64 {
        self.max_seats
    }

    /// The seat map.
    #[must_use]
    pub fn map(&self) -> &SeatMap {
        &self.state.map
    }

    /// How many bookings can be cancelled now.
    #[must_use]
    pub fn booking_count(&self) -> usize {
        self.state.bookings.len()
    }

    /// Carries out `command` and says what to answer. `out` is scratch space
    /// the reply may borrow from.
    pub(crate) fn execute<'a>(
        &'a self,
        command: Command<'a>,
        out: ExecScratch<'a>,
        counters: &Counters,
    ) -> Reply<'a> {
        let seats = self.state.map.capacity();
        match command {
            Command::Original(numbers) => Reply::Original {
                numbers,
                outcomes: self.reserve_each(numbers, out.seats, out.grants, out.outcomes),
            },
            Command::Book(numbers) => self
                .too_many("BOOK", numbers.len() as u64)
                .unwrap_or_else(|| self.book(numbers, out)),
            Command::All(numbers) => self
                .too_many("ALL", numbers.len() as u64)
                .unwrap_or_else(|| self.all(numbers, out)),
            Command::Any(n) => self.too_many("ANY", n).unwrap_or_else(|| self.any(n, out)),
            Command::Together(n) => self
                .too_many("TOGETHER", n)
                .unwrap_or_else(|| self.together(n, out)),
            Command::Hold(numbers) => self
                .too_many("HOLD", numbers.len() as u64)
                .unwrap_or_else(|| self.hold_seats(numbers, out)),
            Command::HoldAny(n) => self
                .too_many("HOLD ANY", n)
                .unwrap_or_else(|| self.hold_any(n, out)),
            Command::HoldTogether(n) => self
                .too_many("HOLD TOGETHER", n)
                .unwrap_or_else(|| self.hold_together(n, out)),
            // `respond` sends these to `respond_hold` before `execute`
            // (they decide a hold's fate under its lock); if one came
            // here, it would be about no hold this map knows.
            Command::Confirm(text) | Command::Extend(text) => {
                *out.text = quote(text);
                Reply::UnknownBooking(out.text)
            }
            Command::Cancel(text) => self.cancel(text, out),
            Command::Show(text) => self.show(text, out),
            Command::Avail => Reply::Avail(&self.state.map),
            Command::Stats => {
                let c = counters.values();
                let free = self.state.map.free_count();
                Reply::Stats(StatsSnapshot {
                    seats,
                    free,
                    reserved: seats - free,
                    bookings: self.booking_count() as u64,
                    connections: c.open,
                    accepted: c.accepted,
                    rejected: c.rejected,
                    requests: c.requests,
                    errors: c.errors,
                    journal: self.journal_stats(),
                })
            }
            Command::Help => Reply::Help(seats),
            Command::Quit => Reply::Bye,
            Command::Operator(op) => self.operate(op, out.text),
        }
    }

    /// `ERR too-many-seats` if `asked` is over the cap.
    fn too_many(&self, verb: &'static str, asked: u64) -> Option<Reply<'static>> {
        (asked > self.max_seats).then_some(Reply::TooManySeats {
            verb,
            asked,
            max: self.max_seats,
        })
    }

    /// The original semantics: each number in order, reserved if it is a
    /// free seat. The valid seats go to seatcore's grouped `reserve_each`
    /// in one call, one `fetch_or` per word they touch, so the request's
    /// grants within one word are one atomic step (`seats` and `grants`
    /// are scratch: no allocation once they have grown).
    fn reserve_each<'a>(
        &self,
        numbers: &[Number],
        seats: &mut Vec<u64>,
        grants: &mut Vec<ReserveOutcome>,
        outcomes: &'a mut Vec<SeatOutcome>,
    ) -> &'a [SeatOutcome] {
        let capacity = self.state.map.capacity();
        seats.clear();
        seats.extend(numbers.iter().filter_map(|n| n.library_seat(capacity)));
        self.state.map.reserve_each_into(seats, grants);
        let mut granted = grants.iter();
        outcomes.clear();
        outcomes.extend(numbers.iter().map(|n| {
            if n.library_seat(capacity).is_none() {
                return SeatOutcome::Invalid;
            }
            // One outcome per valid seat, in the same order.
            match granted.next().copied() {
                Some(ReserveOutcome::Reserved) => SeatOutcome::Reserved,
                Some(ReserveOutcome::Taken) => SeatOutcome::Taken,
                Some(ReserveOutcome::OutOfRange) | None => SeatOutcome::Invalid,
            }
        }));
        outcomes
    }

    fn book<'a>(&'a self, numbers: &'a [Number], out: ExecScratch<'a>) -> Reply<'a> {
        let capacity = self.state.map.capacity();
        let outcomes = self.reserve_each(numbers, out.seats, out.grants, out.outcomes);
        out.seats.clear();
        out.seats.extend(
            numbers
                .iter()
                .zip(outcomes.iter())
                .filter(|(_, o)| **o == SeatOutcome::Reserved)
                .filter_map(|(n, _)| n.library_seat(capacity)),
        );
        if out.seats.is_empty() {
            return Reply::NoneReserved { numbers, outcomes };
        }
        Reply::Booked {
            reference: self.state.bookings.insert(sorted_runs(out.seats)),
            numbers,
            outcomes,
        }
    }

    fn all<'a>(&'a self, numbers: &'a [Number], out: ExecScratch<'a>) -> Reply<'a> {
        self.claim_every(numbers, out, |held, runs| self.booked(held, runs))
    }

    /// Every seat of `numbers` or none (`ALL`, `HOLD 5,10`); `grant` makes
    /// the reply from the claimed seats' runs once they are all taken.
    pub(super) fn claim_every<'a>(
        &'a self,
        numbers: &'a [Number],
        out: ExecScratch<'a>,
        grant: impl FnOnce(Held, &'a mut Vec<Range<u64>>) -> Reply<'a>,
    ) -> Reply<'a> {
        let capacity = self.state.map.capacity();
        if numbers.iter().any(|n| n.wire_seat(capacity).is_none()) {
            return Reply::InvalidSeats {
                numbers,
                seats: capacity,
            };
        }
        out.seats.clear();
        out.seats
            .extend(numbers.iter().filter_map(|n| n.library_seat(capacity)));
        match self.state.map.reserve_all(out.seats) {
            Ok(()) => grant(sorted_runs(out.seats), out.runs),
            Err(AllOrNothingError::Duplicate { seat }) => Reply::DuplicateSeat(seat),
            Err(AllOrNothingError::Conflict { taken }) => {
                *out.seats = taken;
                Reply::Conflict(out.seats)
            }
            Err(_) => Reply::InvalidSeats {
                numbers,
                seats: capacity,
            },
        }
    }

    fn any<'a>(&'a self, n: u64, out: ExecScratch<'a>) -> Reply<'a> {
        // seatcore hands back ascending, maximal runs: the booking as is.
        match self.state.map.reserve_any_into(n, out.runs) {
            Ok(()) => self.booked(out.runs.clone(), out.runs),
            Err(e) => Reply::NotEnoughAny {
                requested: n,
                free: free_of(e),
            },
        }
    }

    fn together<'a>(&'a self, n: u64, out: ExecScratch<'a>) -> Reply<'a> {
        if let Some(cabin) = self.state.spec.cabin() {
            return match self.claim_together(cabin, n, out.seats) {
                Ok((held, split)) => {
                    out.runs.clone_from(&held);
                    Reply::Together {
                        reference: self.state.bookings.insert(held),
                        seats: SeatList::Runs(out.runs),
                        split,
                    }
                }
                Err(reply) => reply,
            };
        }
        match self.state.map.reserve_adjacent(n) {
            Ok(run) => self.booked(vec![run], out.runs),
            Err(e) => Reply::NotEnoughTogether {
                requested: n,
                free: free_of(e),
            },
        }
    }

    /// TOGETHER on a cabin: seatplan's choice (fewest rows, no orphan,
    /// adjacent rows, front-most, leftmost) on a snapshot of the seats,
    /// claimed all or nothing; if others took a chosen seat meanwhile, a
    /// new choice, at most [`TOGETHER_TRIES`] times. Returns the runs
    /// claimed and the rows they span.
    pub(crate) fn claim_together(
        &self,
        cabin: &seatplan::Cabin,
        n: u64,
        seats: &mut Vec<u64>,
    ) -> Result<(Held, u32), Reply<'static>> {
        if n > seatplan::MAX_PARTY {
            return Err(Reply::TooManySeats {
                verb: "TOGETHER",
                asked: n,
                max: seatplan::MAX_PARTY,
            });
        }
        for _ in 0..TOGETHER_TRIES {
            let snapshot = self.state.map.snapshot();
            let free = |seat| snapshot.is_reserved(seat) == Ok(false);
            let Some(choice) = seatplan::choose_together(cabin, free, n) else {
                return Err(Reply::NotEnoughTogether {
                    requested: n,
                    free: snapshot.free_count(),
                });
            };
            seats.clear();
            seats.extend(choice.seats());
            match self.state.map.reserve_all(seats) {
                Ok(()) => return Ok((choice.runs().to_vec(), choice.split())),
                // Someone took one of them since the snapshot: choose again.
                Err(AllOrNothingError::Conflict { .. }) => {}
                Err(_) => break,
            }
        }
        Err(Reply::Contended("TOGETHER"))
    }

    /// Records a booking of `held` and says `OK <ref> seats=<runs>`.
    fn booked<'a>(&'a self, held: Held, runs: &'a mut Vec<Range<u64>>) -> Reply<'a> {
        runs.clone_from(&held);
        Reply::Seats {
            reference: self.state.bookings.insert(held),
            seats: SeatList::Runs(runs),
        }
    }

    fn show<'a>(&'a self, text: &str, out: ExecScratch<'a>) -> Reply<'a> {
        match self.hold_view(text) {
            Some(HoldView::Open { runs, expires_ms }) => {
                *out.runs = runs;
                return Reply::HoldShown {
                    seats: SeatList::Runs(out.runs),
                    expires_ms,
                };
            }
            Some(HoldView::Expired) => {
                *out.text = quote(text);
                return Reply::Expired(out.text);
            }
            None => {}
        }
        match BookingRef::from_text(text).and_then(|r| self.state.bookings.get(r)) {
            Some(held) => {
                *out.runs = held;
                Reply::Booking(SeatList::Runs(out.runs))
            }
            None => {
                *out.text = quote(text);
                Reply::UnknownBooking(out.text)
            }
        }
    }

    fn cancel<'a>(&'a self, text: &str, out: ExecScratch<'a>) -> Reply<'a> {
        let held =
            BookingRef::from_text(text).and_then(|r| Some((r, self.state.bookings.remove(r)?)));
        let Some((reference, held)) = held else {
            *out.text = quote(text);
            return Reply::UnknownBooking(out.text);
        };
        // The table entry is gone before the seats are freed, so two
        // CANCELs of one reference cannot both free them.
        runs::release_runs(&self.state.map, &held);
        *out.runs = held;
        Reply::Cancelled {
            reference,
            seats: SeatList::Runs(out.runs),
        }
    }
}

/// The free count a failed search reports (0 when the search failed for
/// want of memory, not of seats).
pub(crate) fn free_of(error: SearchError) -> u64 {
    match error {
        SearchError::NotEnough { free, .. } => free,
        _ => 0,
    }
}

/// `seats` sorted (in place) and joined into runs.
pub(crate) fn sorted_runs(seats: &mut [u64]) -> Held {
    seats.sort_unstable();
    let mut held = Vec::new();
    runs::push_runs(seats, &mut held);
    held
}

/// Scratch space a reply may borrow from (split out of a
/// [`Scratch`]).
#[derive(Debug)]
pub(crate) struct ExecScratch<'a> {
    pub(crate) outcomes: &'a mut Vec<SeatOutcome>,
    pub(crate) grants: &'a mut Vec<ReserveOutcome>,
    pub(crate) seats: &'a mut Vec<u64>,
    pub(crate) runs: &'a mut Vec<Range<u64>>,
    pub(crate) text: &'a mut String,
}

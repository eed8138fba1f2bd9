//! [`Inventory`]: the seat map plus the booking table, and the execution of
//! a parsed [`Command`] against them.
//!
//! Every request's work is bounded: lists and counts are capped
//! ([`Inventory::max_seats_per_request`]), bookings hold runs of seats
//! (`runs`), and `AVAIL` stops at its cap.

mod bookings;
mod journal;
mod respond;
mod runs;

use std::ops::Range;

use parking_lot::Mutex;
use seatcore::{AllOrNothingError, CapacityError, ReserveOutcome, SearchError, SeatMap};

use bookings::{Bookings, Held};
pub use respond::{Answered, Scratch};

use crate::config::Config;
use crate::durable::Durable;
use crate::durable::ids::Ids;
use crate::protocol::{Command, Number, Reply, SeatList, SeatOutcome, StatsSnapshot, quote};
use crate::reference::BookingRef;
use crate::stats::Counters;

/// The seats (a [`SeatMap`], library seats from 0, wire seats from 1) and
/// the booking references that hold some of them.
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
#[derive(Debug)]
pub struct Inventory {
    map: SeatMap,
    bookings: Bookings,
    max_seats: u64,
    /// Request ids and their replies (`durable/ids.rs`). Held from the
    /// look-up through the change of a request that carries an id.
    ids: Mutex<Ids>,
    /// The journal, with `--data-dir` (`journal.rs`).
    durable: Option<Durable>,
}

impl Inventory {
    /// `seats` free seats (wire numbers `1..=seats`) and no bookings; at
    /// most [`Config::DEFAULT_MAX_SEATS_PER_REQUEST`] seats per request.
    ///
    /// # Errors
    ///
    /// [`CapacityError`] if `seats` is 0 or too large for memory.
    pub fn new(seats: u64) -> Result<Self, CapacityError> {
        Ok(Inventory {
            map: SeatMap::new(seats)?,
            bookings: Bookings::new(),
            max_seats: Config::DEFAULT_MAX_SEATS_PER_REQUEST,
            ids: Mutex::new(Ids::default()),
            durable: None,
        })
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

    /// Most seats one `ANY`, `TOGETHER`, `BOOK` or `ALL` may ask for.
    #[must_use]
    pub fn max_seats_per_request(&self) -> u64 {
        self.max_seats
    }

    /// The seat map.
    #[must_use]
    pub fn map(&self) -> &SeatMap {
        &self.map
    }

    /// How many bookings can be cancelled now.
    #[must_use]
    pub fn booking_count(&self) -> usize {
        self.bookings.len()
    }

    /// Carries out `command` and says what to answer. `out` is scratch space
    /// the reply may borrow from.
    pub(crate) fn execute<'a>(
        &'a self,
        command: Command<'a>,
        out: ExecScratch<'a>,
        counters: &Counters,
    ) -> Reply<'a> {
        let seats = self.map.capacity();
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
            Command::Cancel(text) => self.cancel(text, out),
            Command::Show(text) => self.show(text, out),
            Command::Avail => Reply::Avail(&self.map),
            Command::Stats => {
                let c = counters.values();
                let free = self.map.free_count();
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
        let capacity = self.map.capacity();
        seats.clear();
        seats.extend(numbers.iter().filter_map(|n| n.library_seat(capacity)));
        self.map.reserve_each_into(seats, grants);
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
        let capacity = self.map.capacity();
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
            reference: self.bookings.insert(sorted_runs(out.seats)),
            numbers,
            outcomes,
        }
    }

    fn all<'a>(&'a self, numbers: &'a [Number], out: ExecScratch<'a>) -> Reply<'a> {
        let capacity = self.map.capacity();
        if numbers.iter().any(|n| n.wire_seat(capacity).is_none()) {
            return Reply::InvalidSeats {
                numbers,
                seats: capacity,
            };
        }
        out.seats.clear();
        out.seats
            .extend(numbers.iter().filter_map(|n| n.library_seat(capacity)));
        match self.map.reserve_all(out.seats) {
            Ok(()) => self.booked(sorted_runs(out.seats), out.runs),
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
        match self.map.reserve_any_into(n, out.runs) {
            Ok(()) => self.booked(out.runs.clone(), out.runs),
            Err(e) => Reply::NotEnoughAny {
                requested: n,
                free: free_of(e),
            },
        }
    }

    fn together<'a>(&'a self, n: u64, out: ExecScratch<'a>) -> Reply<'a> {
        match self.map.reserve_adjacent(n) {
            Ok(run) => self.booked(vec![run], out.runs),
            Err(e) => Reply::NotEnoughTogether {
                requested: n,
                free: free_of(e),
            },
        }
    }

    /// Records a booking of `held` and says `OK <ref> seats=<runs>`.
    fn booked<'a>(&'a self, held: Held, runs: &'a mut Vec<Range<u64>>) -> Reply<'a> {
        runs.clone_from(&held);
        Reply::Seats {
            reference: self.bookings.insert(held),
            seats: SeatList::Runs(runs),
        }
    }

    fn show<'a>(&'a self, text: &str, out: ExecScratch<'a>) -> Reply<'a> {
        match BookingRef::from_text(text).and_then(|r| self.bookings.get(r)) {
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
        let held = BookingRef::from_text(text).and_then(|r| Some((r, self.bookings.remove(r)?)));
        let Some((reference, held)) = held else {
            *out.text = quote(text);
            return Reply::UnknownBooking(out.text);
        };
        // The table entry is gone before the seats are freed, so two
        // CANCELs of one reference cannot both free them.
        runs::release_runs(&self.map, &held);
        *out.runs = held;
        Reply::Cancelled {
            reference,
            seats: SeatList::Runs(out.runs),
        }
    }
}

/// The free count a failed search reports (0 when the search failed for
/// want of memory, not of seats).
fn free_of(error: SearchError) -> u64 {
    match error {
        SearchError::NotEnough { free, .. } => free,
        _ => 0,
    }
}

/// `seats` sorted (in place) and joined into runs.
fn sorted_runs(seats: &mut [u64]) -> Held {
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

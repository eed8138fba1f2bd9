//! [`Inventory`]: the seat map plus the booking table, and the execution of
//! a parsed [`Command`] against them.

mod bookings;
mod respond;

use seatcore::{AllOrNothingError, CapacityError, SeatError, SeatMap};

use bookings::{Bookings, Held};
pub use respond::{Answered, Scratch};

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
}

impl Inventory {
    /// `seats` free seats (wire numbers `1..=seats`) and no bookings.
    ///
    /// # Errors
    ///
    /// [`CapacityError`] if `seats` is 0 or too large for memory.
    pub fn new(seats: u64) -> Result<Self, CapacityError> {
        Ok(Inventory {
            map: SeatMap::new(seats)?,
            bookings: Bookings::new(),
        })
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
                outcomes: self.reserve_each(numbers, out.outcomes),
            },
            Command::Book(numbers) => self.book(numbers, out),
            Command::All(numbers) => self.all(numbers, out),
            Command::Any(n) => self.any(n, out),
            Command::Together(n) => self.together(n, out),
            Command::Cancel(text) => self.cancel(text, out),
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
                })
            }
            Command::Help => Reply::Help(seats),
            Command::Quit => Reply::Bye,
        }
    }

    /// The original semantics: each number in order, one `fetch_or` per
    /// valid seat, no allocation once `outcomes` has grown.
    fn reserve_each<'a>(
        &self,
        numbers: &[Number],
        outcomes: &'a mut Vec<SeatOutcome>,
    ) -> &'a [SeatOutcome] {
        let seats = self.map.capacity();
        outcomes.clear();
        outcomes.extend(numbers.iter().map(|n| match n.library_seat(seats) {
            None => SeatOutcome::Invalid,
            Some(seat) => match self.map.reserve(seat) {
                Ok(()) => SeatOutcome::Reserved,
                Err(SeatError::Taken { .. }) => SeatOutcome::Taken,
                Err(_) => SeatOutcome::Invalid,
            },
        }));
        outcomes
    }

    fn book<'a>(&'a self, numbers: &'a [Number], out: ExecScratch<'a>) -> Reply<'a> {
        let seats = self.map.capacity();
        let outcomes = self.reserve_each(numbers, out.outcomes);
        let held: Vec<u64> = numbers
            .iter()
            .zip(outcomes)
            .filter(|(_, o)| **o == SeatOutcome::Reserved)
            .filter_map(|(n, _)| n.library_seat(seats))
            .collect();
        if held.is_empty() {
            return Reply::NoneReserved { numbers, outcomes };
        }
        Reply::Booked {
            reference: self.bookings.insert(Held::Seats(held)),
            numbers,
            outcomes,
        }
    }

    fn all<'a>(&'a self, numbers: &'a [Number], out: ExecScratch<'a>) -> Reply<'a> {
        let seats = self.map.capacity();
        if numbers.iter().any(|n| n.wire_seat(seats).is_none()) {
            return Reply::InvalidSeats { numbers, seats };
        }
        let wanted: Vec<u64> = numbers
            .iter()
            .filter_map(|n| n.library_seat(seats))
            .collect();
        match self.map.reserve_all(&wanted) {
            Ok(()) => Reply::Seats {
                reference: self.bookings.insert(Held::Seats(wanted)),
                seats: SeatList::Wire(numbers),
            },
            Err(AllOrNothingError::Duplicate { seat }) => Reply::DuplicateSeat(seat),
            Err(AllOrNothingError::Conflict { taken }) => {
                *out.seats = taken;
                Reply::Conflict(out.seats)
            }
            Err(AllOrNothingError::OutOfRange { .. }) => Reply::InvalidSeats { numbers, seats },
        }
    }

    fn any<'a>(&'a self, n: u64, out: ExecScratch<'a>) -> Reply<'a> {
        match self.map.reserve_any(n) {
            Ok(mut got) => {
                got.sort_unstable();
                *out.seats = got.clone();
                Reply::Seats {
                    reference: self.bookings.insert(Held::Seats(got)),
                    seats: SeatList::Library(out.seats),
                }
            }
            Err(e) => Reply::NotEnoughAny {
                requested: n,
                free: e.free,
            },
        }
    }

    fn together<'a>(&'a self, n: u64, out: ExecScratch<'a>) -> Reply<'a> {
        match self.map.reserve_adjacent(n) {
            Ok(run) => {
                *out.range = run.clone();
                Reply::Seats {
                    reference: self.bookings.insert(Held::Run(run)),
                    seats: SeatList::Range(out.range),
                }
            }
            Err(e) => Reply::NotEnoughTogether {
                requested: n,
                free: e.free,
            },
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
        match held {
            Held::Seats(seats) => {
                let _ = self.map.release_each(&seats);
                *out.seats = seats;
                Reply::Cancelled {
                    reference,
                    seats: SeatList::Library(out.seats),
                }
            }
            Held::Run(run) => {
                // One `fetch_and` per word of the run, not one per seat.
                let seats: Vec<u64> = run.clone().collect();
                let _ = self.map.release_each(&seats);
                *out.range = run;
                Reply::Cancelled {
                    reference,
                    seats: SeatList::Range(out.range),
                }
            }
        }
    }
}

/// Scratch space a reply may borrow from (split out of a
/// [`Scratch`]).
#[derive(Debug)]
pub(crate) struct ExecScratch<'a> {
    pub(crate) outcomes: &'a mut Vec<SeatOutcome>,
    pub(crate) seats: &'a mut Vec<u64>,
    pub(crate) range: &'a mut std::ops::Range<u64>,
    pub(crate) text: &'a mut String,
}

//! Every reply the server sends, written from this one place.
//!
//! A reply is written without its terminator; the connection adds `\n` when
//! the request ended with one (see `docs/protocol.md`, "Framing").

use std::fmt;
use std::io::Write as _;
use std::ops::Range;

use seatcore::SeatMap;

use super::number::{Number, push_u64};
use super::parse::{ParseError, quote};
use crate::reference::BookingRef;
use seatplan::MapSpec;

/// At most this many ranges are listed by `AVAIL`, so its line stays
/// bounded however fragmented the map is.
pub const AVAIL_MAX_RANGES: usize = 256;

/// What became of one seat of a per-seat request (original list or `BOOK`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SeatOutcome {
    /// Free, and now reserved by this request.
    Reserved,
    /// Already reserved (by anyone, or by an earlier copy in this request).
    Taken,
    /// Not a seat: 0, negative, or above the seat count.
    Invalid,
}

/// A set of seats to write, in whichever form the caller has it. Written as
/// wire numbers (1-based) joined by `,`, runs as `a-b`, `-` when empty.
#[derive(Debug, Clone, Copy)]
pub enum SeatList<'a> {
    /// Numbers as the client wrote them (already valid seats).
    Wire(&'a [Number]),
    /// Library seats (from 0), in order.
    Library(&'a [u64]),
    /// Runs of library seats, ascending: each written `a-b` (or `a` when
    /// it is one seat), so a run costs the same however long it is.
    Runs(&'a [Range<u64>]),
}

/// Server counters at one moment, for `STATS`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct StatsSnapshot {
    /// Seat count.
    pub seats: u64,
    /// Free seats.
    pub free: u64,
    /// Reserved seats.
    pub reserved: u64,
    /// Open bookings (references that can be cancelled).
    pub bookings: u64,
    /// Connections open now (served or queued).
    pub connections: u64,
    /// Connections accepted since start.
    pub accepted: u64,
    /// Connections turned away as busy since start.
    pub rejected: u64,
    /// Requests answered since start.
    pub requests: u64,
    /// Requests answered with an `ERR` line since start.
    pub errors: u64,
    /// With a data directory: the journal's group-commit counters since
    /// start (`journal_records`, `journal_batches`, `journal_syncs`).
    pub journal: Option<seatlog::Stats>,
}

/// One map as `USE` and `MAPS` describe it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MapLine {
    /// Its name.
    pub name: Box<str>,
    /// Its spec, canonical (`100`, `30x3-3`).
    pub spec: String,
    /// Seat count.
    pub seats: u64,
    /// Free seats.
    pub free: u64,
    /// In cluster mode, who serves it (`MAPS` writes it as a fifth
    /// field): `here`, the owner's `host:port`, or `none`.
    pub owner: Option<String>,
}

/// One reply, typed; [`Reply::write_to`] turns it into bytes.
#[derive(Debug, Clone, Copy)]
pub enum Reply<'a> {
    /// The original reply: `Reservados: [..] | Indisponíveis/Inválidos: [..]`.
    Original {
        /// The request's numbers, in order.
        numbers: &'a [Number],
        /// One outcome per number.
        outcomes: &'a [SeatOutcome],
    },
    /// `BOOK` that reserved something: `OK <ref> reserved=.. taken=.. invalid=..`.
    Booked {
        /// The new booking.
        reference: BookingRef,
        /// The request's numbers, in order.
        numbers: &'a [Number],
        /// One outcome per number.
        outcomes: &'a [SeatOutcome],
    },
    /// `BOOK` that reserved nothing: `ERR none-reserved: taken=.. invalid=..`.
    NoneReserved {
        /// The request's numbers, in order.
        numbers: &'a [Number],
        /// One outcome per number.
        outcomes: &'a [SeatOutcome],
    },
    /// `ALL`, `ANY`, `TOGETHER` succeeded: `OK <ref> seats=..`.
    Seats {
        /// The new booking.
        reference: BookingRef,
        /// Its seats.
        seats: SeatList<'a>,
    },
    /// `TOGETHER` on a cabin: `OK <ref> seats=..`, then ` split=K` when
    /// the party sits in K > 1 rows.
    Together {
        /// The new booking.
        reference: BookingRef,
        /// Its seats.
        seats: SeatList<'a>,
        /// Rows the party is split over.
        split: u32,
    },
    /// `HOLD`: `OK <ref> seats=.. [split=K] expires=<unix seconds>`.
    Held {
        /// The new hold.
        reference: BookingRef,
        /// Its seats.
        seats: SeatList<'a>,
        /// Rows a `HOLD TOGETHER` party is split over (1: not split).
        split: u32,
        /// When it expires, ms since the Unix epoch (a whole second).
        expires_ms: u64,
        /// When it was placed, ms since the Unix epoch.
        placed_ms: u64,
    },
    /// `EXTEND`: `OK extended <ref> seats=.. expires=<unix seconds>`.
    Extended {
        /// The hold.
        reference: BookingRef,
        /// Its seats.
        seats: SeatList<'a>,
        /// Its new expiry, ms since the Unix epoch.
        expires_ms: u64,
    },
    /// `CONFIRM`: `OK confirmed <ref> seats=..` (now a booking).
    Confirmed {
        /// The hold, now a booking under the same reference.
        reference: BookingRef,
        /// Its seats.
        seats: SeatList<'a>,
    },
    /// `SHOW` of an open hold: `OK held seats=.. expires=<unix seconds>`.
    HoldShown {
        /// Its seats.
        seats: SeatList<'a>,
        /// When it expires, ms since the Unix epoch.
        expires_ms: u64,
    },
    /// A hold that expired (its seats went back): `ERR expired: <ref>`.
    Expired(&'a str),
    /// `CONFIRM` or `EXTEND` of a booking: `ERR not-a-hold: ..`.
    NotAHold(&'a str),
    /// `EXTEND` of a hold already at its longest: `ERR hold-limit: ..`.
    HoldLimit {
        /// The hold (text already made safe).
        reference: &'a str,
        /// Its expiry, which stays, ms since the Unix epoch.
        expires_ms: u64,
    },
    /// A search (`TOGETHER` on a cabin) kept finding its choice taken by
    /// others before it could claim it: `ERR contended: ..`.
    Contended(&'static str),
    /// `CANCEL` succeeded: `OK cancelled <ref> seats=..`.
    Cancelled {
        /// The booking given back.
        reference: BookingRef,
        /// Its seats, now free.
        seats: SeatList<'a>,
    },
    /// `SHOW` of an open booking: `OK booked seats=..`.
    Booking(SeatList<'a>),
    /// A change refused because the journal cannot take it:
    /// `ERR disk-full: ..` (the text says why).
    DiskFull(&'a str),
    /// A change whose journal record would be longer than the journal's
    /// limit: `ERR record-too-large: ..` (no retry can succeed).
    RecordTooLarge {
        /// The record's length, in bytes.
        len: usize,
        /// The limit, in bytes.
        max: usize,
    },
    /// An operator command on a connection that may not run them:
    /// `ERR forbidden: ..` (the verb, in capitals).
    Forbidden(&'static str),
    /// An operator command that needs a data directory, on a server
    /// without one: `ERR not-durable: ..` (the verb, in capitals).
    NotDurable(&'static str),
    /// `SNAPSHOT` wrote (or found current) the snapshot at this seq:
    /// `OK snapshot seq=.. file=..`.
    Snapshot {
        /// The last record it covers.
        seq: u64,
        /// Its file name in the data directory.
        file: &'a str,
    },
    /// `BACKUP` copied the data directory: `OK backup dir=..` (the
    /// directory's text already made safe).
    BackedUp(&'a str),
    /// An operator command that failed: `ERR <code>: <why>`.
    OperatorFailed {
        /// The error code, e.g. `backup-failed`.
        code: &'static str,
        /// What went wrong.
        why: &'a str,
    },
    /// `ALL` found seats taken: `ERR conflict: taken=..` (library seats).
    Conflict(&'a [u64]),
    /// `ALL` named non-seats: `ERR invalid-seat: .. (seats are 1..N)`.
    InvalidSeats {
        /// The request's numbers; the invalid ones are written.
        numbers: &'a [Number],
        /// Seat count.
        seats: u64,
    },
    /// `ALL` named a seat twice: `ERR duplicate-seat: ..` (library seat).
    DuplicateSeat(u64),
    /// `ANY` could not find enough seats.
    NotEnoughAny {
        /// Seats asked for.
        requested: u64,
        /// Seats free.
        free: u64,
    },
    /// `TOGETHER` found no run long enough.
    NotEnoughTogether {
        /// Seats asked for.
        requested: u64,
        /// Seats free.
        free: u64,
    },
    /// `ANY`/`TOGETHER` count or `BOOK`/`ALL` list over the server's
    /// per-request cap: `ERR too-many-seats: ..`.
    TooManySeats {
        /// The verb, in capitals.
        verb: &'static str,
        /// Seats asked for (the count, or the list's length).
        asked: u64,
        /// The cap (`--max-seats-per-request`).
        max: u64,
    },
    /// `CANCEL` of a reference nobody holds (text already made safe).
    UnknownBooking(&'a str),
    /// `AVAIL`: `OK free=.. total=.. seats=..`.
    Avail(&'a SeatMap),
    /// `STATS`.
    Stats(StatsSnapshot),
    /// `HELP`, for a map of this many seats.
    Help(u64),
    /// `QUIT`: `OK bye`.
    Bye,
    /// `USE`: `OK using <name> spec=.. seats=.. free=..`.
    Using(&'a MapLine),
    /// `USE` of a map that does not exist (text already made safe).
    UnknownMap(&'a str),
    /// A request on a connection whose map was removed (`REMOVEMAP`):
    /// `ERR removed: ..` until it `USE`s another.
    MapGone(&'a str),
    /// `ADDMAP`: `OK added <name> spec=.. seats=.. free=..`.
    MapAdded(&'a MapLine),
    /// `REMOVEMAP`: `OK removed <name> bookings=.. holds=..` (what it
    /// dropped).
    MapRemoved {
        /// The map's name.
        name: &'a str,
        /// Bookings it had.
        bookings: usize,
        /// Open holds it had.
        holds: usize,
    },
    /// `MAP`: `OK map <name> spec=.. seats=.. free=.. held=.. drawn=..
    /// states=<state line>` (seatplan's state line of the first `drawn`
    /// seats).
    MapView {
        /// The map.
        map: &'a MapLine,
        /// Seats held.
        held: u64,
        /// Seats the state line covers.
        drawn: u64,
        /// The state line.
        states: &'a str,
    },
    /// `MAPS`: `OK maps=<total> [more=yes] name:spec:seats:free ...`.
    Maps {
        /// Maps in all.
        total: usize,
        /// This page.
        listed: &'a [MapLine],
        /// Maps after this page (`MAPS AFTER <last listed>`).
        more: bool,
    },
    /// A request that could not be parsed.
    BadRequest(&'a ParseError),
    /// A line over the limit; the connection is closed after it.
    LineTooLong(usize),
    /// Every connection slot is taken; sent by the accept thread.
    Busy(usize),
}

impl Reply<'_> {
    /// Whether this is an `ERR` line (for the error counter).
    #[must_use]
    pub fn is_error(&self) -> bool {
        !matches!(
            self,
            Reply::Original { .. }
                | Reply::Booked { .. }
                | Reply::Seats { .. }
                | Reply::Together { .. }
                | Reply::Held { .. }
                | Reply::Extended { .. }
                | Reply::Confirmed { .. }
                | Reply::HoldShown { .. }
                | Reply::Cancelled { .. }
                | Reply::Booking(_)
                | Reply::Avail(_)
                | Reply::Stats(_)
                | Reply::Help(_)
                | Reply::Bye
                | Reply::Snapshot { .. }
                | Reply::BackedUp(_)
                | Reply::Using(_)
                | Reply::MapAdded(_)
                | Reply::MapRemoved { .. }
                | Reply::Maps { .. }
                | Reply::MapView { .. }
        )
    }

    /// Appends the reply, without terminator, to `out`.
    ///
    /// # Examples
    ///
    /// ```
    /// use seatnet::protocol::{Number, Reply, SeatOutcome::*};
    ///
    /// let numbers = [Number::parse("5").unwrap(), Number::parse("22").unwrap()];
    /// let mut out = Vec::new();
    /// Reply::Original { numbers: &numbers, outcomes: &[Reserved, Taken] }.write_to(&mut out);
    /// assert_eq!(out, "Reservados: [5] | Indisponíveis/Inválidos: [22]".as_bytes());
    /// ```
    pub fn write_to(&self, out: &mut Vec<u8>) {
        self.write_on(out, &MapSpec::DEFAULT);
    }

    /// Appends the reply as said on a map of `spec`: seats as numbers on a
    /// numbered map (exactly as [`write_to`](Self::write_to)), as labels
    /// (`12A`, runs `12A-12C`) on a cabin, and the original reply's lists
    /// as Python prints lists of strings (`['12A', '12B']`).
    ///
    /// # Examples
    ///
    /// ```
    /// use seatnet::MapSpec;
    /// use seatnet::protocol::{Number, Reply, SeatOutcome::*};
    ///
    /// let cabin: MapSpec = "30x3-3".parse().unwrap();
    /// let numbers = [Number::seat(66), Number::Text("12Z".into())];
    /// let mut out = Vec::new();
    /// Reply::Original { numbers: &numbers, outcomes: &[Reserved, Invalid] }.write_on(&mut out, &cabin);
    /// assert_eq!(out, "Reservados: ['12A'] | Indisponíveis/Inválidos: ['12Z']".as_bytes());
    /// ```
    pub fn write_on(&self, out: &mut Vec<u8>, spec: &MapSpec) {
        let spec = Seats(spec);
        match *self {
            Reply::Original { numbers, outcomes } => {
                out.extend_from_slice(b"Reservados: [");
                python_list(out, spec, numbers, outcomes, |o| o == SeatOutcome::Reserved);
                out.extend_from_slice("] | Indisponíveis/Inválidos: [".as_bytes());
                python_list(out, spec, numbers, outcomes, |o| o != SeatOutcome::Reserved);
                out.push(b']');
            }
            Reply::Booked {
                reference,
                numbers,
                outcomes,
            } => {
                text(out, format_args!("OK {reference} reserved="));
                outcome_list(out, spec, numbers, outcomes, SeatOutcome::Reserved);
                out.extend_from_slice(b" ");
                taken_invalid(out, spec, numbers, outcomes);
            }
            Reply::NoneReserved { numbers, outcomes } => {
                out.extend_from_slice(b"ERR none-reserved: ");
                taken_invalid(out, spec, numbers, outcomes);
            }
            Reply::Seats { reference, seats } => {
                text(out, format_args!("OK {reference} seats="));
                seat_list(out, spec, seats);
            }
            Reply::Together {
                reference,
                seats,
                split,
            } => {
                text(out, format_args!("OK {reference} seats="));
                seat_list(out, spec, seats);
                if split > 1 {
                    text(out, format_args!(" split={split}"));
                }
            }
            Reply::Held {
                reference,
                seats,
                split,
                expires_ms,
                ..
            } => {
                text(out, format_args!("OK {reference} seats="));
                seat_list(out, spec, seats);
                if split > 1 {
                    text(out, format_args!(" split={split}"));
                }
                text(out, format_args!(" expires={}", expires_ms / 1000));
            }
            Reply::Extended {
                reference,
                seats,
                expires_ms,
            } => {
                text(out, format_args!("OK extended {reference} seats="));
                seat_list(out, spec, seats);
                text(out, format_args!(" expires={}", expires_ms / 1000));
            }
            Reply::Confirmed { reference, seats } => {
                text(out, format_args!("OK confirmed {reference} seats="));
                seat_list(out, spec, seats);
            }
            Reply::HoldShown { seats, expires_ms } => {
                out.extend_from_slice(b"OK held seats=");
                seat_list(out, spec, seats);
                text(out, format_args!(" expires={}", expires_ms / 1000));
            }
            Reply::Expired(reference) => text(out, format_args!("ERR expired: {reference}")),
            Reply::NotAHold(reference) => text(
                out,
                format_args!(
                    "ERR not-a-hold: {reference} is a booking (CONFIRM and EXTEND take a hold; CANCEL ends either)"
                ),
            ),
            Reply::HoldLimit {
                reference,
                expires_ms,
            } => text(
                out,
                format_args!(
                    "ERR hold-limit: {reference} is held until {}, the longest --hold-max allows; CONFIRM it or let it go",
                    expires_ms / 1000
                ),
            ),
            Reply::Contended(verb) => text(
                out,
                format_args!(
                    "ERR contended: the seats {verb} chose were taken by others each time it tried; nothing was changed, try again"
                ),
            ),
            Reply::Cancelled { reference, seats } => {
                text(out, format_args!("OK cancelled {reference} seats="));
                seat_list(out, spec, seats);
            }
            Reply::Booking(seats) => {
                out.extend_from_slice(b"OK booked seats=");
                seat_list(out, spec, seats);
            }
            Reply::DiskFull(why) => text(
                out,
                format_args!("ERR disk-full: {why}; nothing was changed, reads still work"),
            ),
            Reply::RecordTooLarge { len, max } => text(
                out,
                format_args!(
                    "ERR record-too-large: the change needs a journal record of {len} bytes, over the maximum of {max}; nothing was changed (ask for fewer seats)"
                ),
            ),
            Reply::Forbidden(verb) => text(
                out,
                format_args!(
                    "ERR forbidden: {verb} is an operator command; send it on the server's --admin-listen address"
                ),
            ),
            Reply::NotDurable(verb) => text(
                out,
                format_args!(
                    "ERR not-durable: {verb} needs a server started with --data-dir; this one keeps everything in memory"
                ),
            ),
            Reply::Snapshot { seq, file } => {
                text(out, format_args!("OK snapshot seq={seq} file={file}"));
            }
            Reply::BackedUp(dir) => text(out, format_args!("OK backup dir={dir}")),
            Reply::OperatorFailed { code, why } => text(out, format_args!("ERR {code}: {why}")),
            Reply::Conflict(taken) => {
                out.extend_from_slice(b"ERR conflict: taken=");
                seat_list(out, spec, SeatList::Library(taken));
            }
            Reply::InvalidSeats { numbers, seats } => {
                out.extend_from_slice(b"ERR invalid-seat: ");
                let mut first = true;
                for n in numbers.iter().filter(|n| n.wire_seat(seats).is_none()) {
                    if !first {
                        out.push(b',');
                    }
                    first = false;
                    spec.echo(out, n);
                }
                match spec.0.cabin() {
                    None => text(out, format_args!(" (seats are 1..{seats})")),
                    Some(c) => text(
                        out,
                        format_args!(
                            " (seats are 1A..{}, a row then a letter)",
                            spec.0.label(c.seats() - 1)
                        ),
                    ),
                }
            }
            Reply::DuplicateSeat(seat) => {
                text(
                    out,
                    format_args!("ERR duplicate-seat: {}", spec.0.label(seat)),
                );
            }
            Reply::NotEnoughAny { requested, free } => text(
                out,
                format_args!("ERR not-enough: asked for {requested}, {free} free"),
            ),
            Reply::NotEnoughTogether { requested, free } => text(
                out,
                format_args!("ERR not-enough: no {requested} adjacent free seats ({free} free)"),
            ),
            Reply::TooManySeats { verb, asked, max } => text(
                out,
                format_args!(
                    "ERR too-many-seats: {verb} may ask for at most {max} seats at once, not {asked}"
                ),
            ),
            Reply::UnknownBooking(reference) => {
                text(out, format_args!("ERR unknown-booking: {reference}"));
            }
            Reply::Avail(map) => avail(out, spec, map),
            Reply::Stats(s) => {
                text(
                    out,
                    format_args!(
                        "OK seats={} free={} reserved={} bookings={} connections={} accepted={} rejected={} requests={} errors={}",
                        s.seats,
                        s.free,
                        s.reserved,
                        s.bookings,
                        s.connections,
                        s.accepted,
                        s.rejected,
                        s.requests,
                        s.errors
                    ),
                );
                if let Some(j) = s.journal {
                    text(
                        out,
                        format_args!(
                            " journal_records={} journal_batches={} journal_syncs={}",
                            j.records, j.batches, j.syncs
                        ),
                    );
                }
            }
            Reply::Help(seats) => text(
                out,
                format_args!(
                    "OK commands: 5,10,22 (original) | BOOK 5,10,22 | ALL 5,10,22 | ANY <n> | TOGETHER <n> | CANCEL <ref> | HOLD 5,10 | HOLD ANY <n> | HOLD TOGETHER <n> | EXTEND <ref> | CONFIRM <ref> | SHOW <ref> | AVAIL | MAP [name] | STATS | USE <map> | MAPS | NODES (cluster) | HELP | QUIT; on the --admin-listen port also SNAPSHOT | BACKUP <dir> | ADDMAP <name> <spec> | REMOVEMAP <name> [FORCE]; a change may end with id=<1-64 of A-Za-z0-9_-> so a retry gets the same reply (seats are {})",
                    match spec.0.cabin() {
                        None => format!("1..{seats}"),
                        Some(c) => format!("1A..{}", spec.0.label(c.seats() - 1)),
                    }
                ),
            ),
            Reply::Bye => out.extend_from_slice(b"OK bye"),
            Reply::Using(m) => text(
                out,
                format_args!(
                    "OK using {} spec={} seats={} free={}",
                    m.name, m.spec, m.seats, m.free
                ),
            ),
            Reply::MapView {
                map,
                held,
                drawn,
                states,
            } => text(
                out,
                format_args!(
                    "OK map {} spec={} seats={} free={} held={held} drawn={drawn} states={states}",
                    map.name, map.spec, map.seats, map.free
                ),
            ),
            Reply::UnknownMap(name) => text(
                out,
                format_args!("ERR unknown-map: {name} (MAPS lists the maps)"),
            ),
            Reply::MapGone(name) => text(
                out,
                format_args!(
                    "ERR removed: map {name} was removed by an operator; USE another map (MAPS lists the maps)"
                ),
            ),
            Reply::MapAdded(map) => text(
                out,
                format_args!(
                    "OK added {} spec={} seats={} free={}",
                    map.name, map.spec, map.seats, map.free
                ),
            ),
            Reply::MapRemoved {
                name,
                bookings,
                holds,
            } => text(
                out,
                format_args!("OK removed {name} bookings={bookings} holds={holds}"),
            ),
            Reply::Maps {
                total,
                listed,
                more,
            } => {
                text(out, format_args!("OK maps={total}"));
                if more {
                    out.extend_from_slice(b" more=yes");
                }
                for m in listed {
                    text(
                        out,
                        format_args!(" {}:{}:{}:{}", m.name, m.spec, m.seats, m.free),
                    );
                    if let Some(owner) = &m.owner {
                        text(out, format_args!(":{owner}"));
                    }
                }
            }
            Reply::BadRequest(e) => text(out, format_args!("ERR {}: {e}", e.code())),
            Reply::LineTooLong(max) => text(
                out,
                format_args!("ERR line-too-long: a request may be at most {max} bytes; closing"),
            ),
            Reply::Busy(max) => text(
                out,
                format_args!(
                    "ERR busy: the server is serving its maximum of {max} connections; try again later"
                ),
            ),
        }
    }
}

/// Appends formatted text. Writing into a `Vec` cannot fail, so the
/// `io::Result` carries nothing.
fn text(out: &mut Vec<u8>, args: fmt::Arguments<'_>) {
    let _ = out.write_fmt(args);
}

/// How the seats of one map are written.
#[derive(Clone, Copy)]
struct Seats<'a>(&'a MapSpec);

impl Seats<'_> {
    /// A seat of a request as the client named it: its number on a
    /// numbered map, its label on a cabin, or what was typed when it names
    /// none (made safe: escaped, bounded).
    fn echo(self, out: &mut Vec<u8>, n: &Number) {
        match (self.0.cabin(), n) {
            (None, n) => n.write_to(out),
            (
                Some(_),
                Number::Small {
                    negative: false,
                    magnitude,
                },
            ) if *magnitude >= 1 => {
                text(out, format_args!("{}", self.0.label(magnitude - 1)));
            }
            (Some(_), n) => out.extend_from_slice(quote(&n.to_string()).as_bytes()),
        }
    }

    /// A seat of a request in the original reply's list: a number on a
    /// numbered map, a Python string on a cabin (`'12A'`, or what was
    /// typed, as `repr()` writes it).
    fn python(self, out: &mut Vec<u8>, n: &Number) {
        match (self.0.cabin(), n) {
            (None, n) => n.write_to(out),
            (
                Some(_),
                Number::Small {
                    negative: false,
                    magnitude,
                },
            ) if *magnitude >= 1 => {
                text(out, format_args!("'{}'", self.0.label(magnitude - 1)));
            }
            (Some(_), n) => text(out, format_args!("{}", seatplan::py_str(&n.to_string()))),
        }
    }
}

/// The numbers whose outcome passes `keep`, joined by `, ` (Python's list
/// repr without brackets).
fn python_list(
    out: &mut Vec<u8>,
    spec: Seats<'_>,
    numbers: &[Number],
    outcomes: &[SeatOutcome],
    keep: impl Fn(SeatOutcome) -> bool,
) {
    let mut first = true;
    for (n, _) in numbers.iter().zip(outcomes).filter(|(_, o)| keep(**o)) {
        if !first {
            out.extend_from_slice(b", ");
        }
        first = false;
        spec.python(out, n);
    }
}

/// `taken=.. invalid=..` for `BOOK`.
fn taken_invalid(out: &mut Vec<u8>, spec: Seats<'_>, numbers: &[Number], outcomes: &[SeatOutcome]) {
    out.extend_from_slice(b"taken=");
    outcome_list(out, spec, numbers, outcomes, SeatOutcome::Taken);
    out.extend_from_slice(b" invalid=");
    outcome_list(out, spec, numbers, outcomes, SeatOutcome::Invalid);
}

/// The numbers with outcome `wanted`, joined by `,`, or `-`.
fn outcome_list(
    out: &mut Vec<u8>,
    spec: Seats<'_>,
    numbers: &[Number],
    outcomes: &[SeatOutcome],
    wanted: SeatOutcome,
) {
    let mut first = true;
    for (n, _) in numbers.iter().zip(outcomes).filter(|(_, o)| **o == wanted) {
        if !first {
            out.push(b',');
        }
        first = false;
        spec.echo(out, n);
    }
    if first {
        out.push(b'-');
    }
}

fn seat_list(out: &mut Vec<u8>, spec: Seats<'_>, seats: SeatList<'_>) {
    let start = out.len();
    match seats {
        SeatList::Wire(numbers) => {
            for (i, n) in numbers.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                spec.echo(out, n);
            }
        }
        SeatList::Library(seats) => {
            for (i, &seat) in seats.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                match spec.0.cabin() {
                    None => push_u64(out, seat + 1),
                    Some(_) => text(out, format_args!("{}", spec.0.label(seat))),
                }
            }
        }
        SeatList::Runs(runs) => match spec.0.cabin() {
            None => {
                for (i, run) in runs.iter().filter(|r| !r.is_empty()).enumerate() {
                    push_run(out, i, run.start, run.end - 1);
                }
            }
            Some(_) => text(out, format_args!("{}", spec.0.runs(runs))),
        },
    }
    if out.len() == start {
        out.push(b'-');
    }
}

/// A run of library seats `first..=last` as wire seats: `a` or `a-b`.
fn push_range(out: &mut Vec<u8>, first: u64, last: u64) {
    push_u64(out, first + 1);
    if last > first {
        out.push(b'-');
        push_u64(out, last + 1);
    }
}

/// `OK free=.. total=.. seats=..`: the free seats as runs, at most
/// [`AVAIL_MAX_RANGES`] of them, then `,...`.
///
/// The walk (seatcore's `free_runs`, a word at a time) takes one run more
/// than it lists, to know whether to write `,...`, and stops there; `free`
/// is the map's own count, read after the walk.
fn avail(out: &mut Vec<u8>, spec: Seats<'_>, map: &SeatMap) {
    let mut list = Vec::new();
    for (listed, run) in map.free_runs(0).take(AVAIL_MAX_RANGES + 1).enumerate() {
        if listed == AVAIL_MAX_RANGES {
            list.extend_from_slice(b",...");
            break;
        }
        match spec.0.cabin() {
            None => push_run(&mut list, listed, run.start, run.end - 1),
            Some(_) => {
                if listed > 0 {
                    list.push(b',');
                }
                text(&mut list, format_args!("{}", spec.0.runs(&[run])));
            }
        }
    }
    if list.is_empty() {
        list.push(b'-');
    }
    text(
        out,
        format_args!(
            "OK free={} total={} seats=",
            map.free_count(),
            map.capacity()
        ),
    );
    out.extend_from_slice(&list);
}

/// One run of an `AVAIL` list, after a `,` unless it is the first.
fn push_run(out: &mut Vec<u8>, listed: usize, first: u64, last: u64) {
    if listed > 0 {
        out.push(b',');
    }
    push_range(out, first, last);
}

#[cfg(test)]
mod tests {
    use super::SeatOutcome::*;
    use super::*;
    use crate::protocol::parse;

    fn written(reply: Reply<'_>) -> String {
        let mut out = Vec::new();
        reply.write_to(&mut out);
        String::from_utf8(out).unwrap()
    }

    fn numbers(list: &str) -> Vec<Number> {
        list.split(',').map(|p| Number::parse(p).unwrap()).collect()
    }

    #[test]
    fn original_reply_is_byte_exact() {
        let cases = [
            (
                "1,2,3",
                &[Reserved, Reserved, Reserved][..],
                "Reservados: [1, 2, 3] | Indisponíveis/Inválidos: []",
            ),
            (
                "2,3,4,5",
                &[Taken, Taken, Reserved, Reserved],
                "Reservados: [4, 5] | Indisponíveis/Inválidos: [2, 3]",
            ),
            (
                "7,7",
                &[Reserved, Taken],
                "Reservados: [7] | Indisponíveis/Inválidos: [7]",
            ),
            (
                "0,101,-3",
                &[Invalid, Invalid, Invalid],
                "Reservados: [] | Indisponíveis/Inválidos: [0, 101, -3]",
            ),
            (
                " 05,-0,+9",
                &[Reserved, Invalid, Reserved],
                "Reservados: [5, 9] | Indisponíveis/Inválidos: [0]",
            ),
        ];
        for (list, outcomes, expected) in cases {
            let numbers = numbers(list);
            assert_eq!(
                written(Reply::Original {
                    numbers: &numbers,
                    outcomes
                }),
                expected
            );
        }
        let numbers = numbers("5,10,22");
        let reply = written(Reply::Original {
            numbers: &numbers,
            outcomes: &[Reserved, Reserved, Taken],
        });
        assert_eq!(reply.len(), 53);
        assert_eq!(reply.chars().count(), 51);
    }

    #[test]
    fn book_replies() {
        let numbers = numbers("5,10,22,0");
        let reference = BookingRef::from_raw(0xabc);
        assert_eq!(
            written(Reply::Booked {
                reference,
                numbers: &numbers,
                outcomes: &[Reserved, Reserved, Taken, Invalid]
            }),
            "OK 00000000000000000000000000000abc reserved=5,10 taken=22 invalid=0"
        );
        assert_eq!(
            written(Reply::Booked {
                reference,
                numbers: &numbers[..1],
                outcomes: &[Reserved]
            }),
            "OK 00000000000000000000000000000abc reserved=5 taken=- invalid=-"
        );
        assert_eq!(
            written(Reply::NoneReserved {
                numbers: &numbers[2..],
                outcomes: &[Taken, Invalid]
            }),
            "ERR none-reserved: taken=22 invalid=0"
        );
    }

    #[test]
    fn seat_lists() {
        let reference = BookingRef::from_raw(1);
        let r = "00000000000000000000000000000001";
        let wire = numbers("5,10,22");
        assert_eq!(
            written(Reply::Seats {
                reference,
                seats: SeatList::Wire(&wire)
            }),
            format!("OK {r} seats=5,10,22")
        );
        assert_eq!(
            written(Reply::Seats {
                reference,
                seats: SeatList::Library(&[0, 1, 2])
            }),
            format!("OK {r} seats=1,2,3")
        );
        assert_eq!(
            written(Reply::Seats {
                reference,
                seats: SeatList::Runs(std::slice::from_ref(&(11..16)))
            }),
            format!("OK {r} seats=12-16")
        );
        assert_eq!(
            written(Reply::Seats {
                reference,
                seats: SeatList::Runs(&[0..1, 4..50_000, 60_000..60_002])
            }),
            format!("OK {r} seats=1,5-50000,60001-60002")
        );
        assert_eq!(
            written(Reply::Cancelled {
                reference,
                seats: SeatList::Runs(std::slice::from_ref(&(4..5)))
            }),
            format!("OK cancelled {r} seats=5")
        );
        assert_eq!(
            written(Reply::Cancelled {
                reference,
                seats: SeatList::Runs(&[])
            }),
            format!("OK cancelled {r} seats=-")
        );
        assert_eq!(
            written(Reply::Conflict(&[21, 22])),
            "ERR conflict: taken=22,23"
        );
    }

    #[test]
    fn error_replies() {
        let numbers = numbers("5,0,101,-3,99999999999999999999999");
        assert_eq!(
            written(Reply::InvalidSeats {
                numbers: &numbers,
                seats: 100
            }),
            "ERR invalid-seat: 0,101,-3,99999999999999999999999 (seats are 1..100)"
        );
        assert_eq!(written(Reply::DuplicateSeat(4)), "ERR duplicate-seat: 5");
        assert_eq!(
            written(Reply::NotEnoughAny {
                requested: 5,
                free: 3
            }),
            "ERR not-enough: asked for 5, 3 free"
        );
        assert_eq!(
            written(Reply::NotEnoughTogether {
                requested: 5,
                free: 3
            }),
            "ERR not-enough: no 5 adjacent free seats (3 free)"
        );
        assert_eq!(
            written(Reply::TooManySeats {
                verb: "ANY",
                asked: 5000,
                max: 1024
            }),
            "ERR too-many-seats: ANY may ask for at most 1024 seats at once, not 5000"
        );
        assert!(
            Reply::TooManySeats {
                verb: "ALL",
                asked: 2,
                max: 1
            }
            .is_error()
        );
        assert_eq!(
            written(Reply::UnknownBooking("xyz")),
            "ERR unknown-booking: xyz"
        );
        let mut scratch = Vec::new();
        let e = parse(b"abc", &mut scratch).unwrap_err();
        assert_eq!(
            written(Reply::BadRequest(&e)),
            "ERR bad-request: 'abc' is not a seat number (send seats like 5,10,22, or HELP)"
        );
        assert!(written(Reply::LineTooLong(4096)).starts_with("ERR line-too-long: "));
        assert!(written(Reply::Busy(2)).starts_with("ERR busy: "));
        assert!(Reply::Busy(2).is_error() && !Reply::Bye.is_error());
    }

    #[test]
    fn avail_lists_runs_and_truncates() {
        let map = SeatMap::new(100).unwrap();
        assert_eq!(
            written(Reply::Avail(&map)),
            "OK free=100 total=100 seats=1-100"
        );
        map.reserve_all(&[4, 9, 10]).unwrap();
        assert_eq!(
            written(Reply::Avail(&map)),
            "OK free=97 total=100 seats=1-4,6-9,12-100"
        );
        let full = SeatMap::new(3).unwrap();
        full.reserve_all(&[0, 1, 2]).unwrap();
        assert_eq!(written(Reply::Avail(&full)), "OK free=0 total=3 seats=-");
        let checkered = SeatMap::new(1000).unwrap();
        let odd: Vec<u64> = (0..1000).filter(|s| s % 2 == 1).collect();
        checkered.reserve_all(&odd).unwrap();
        let line = written(Reply::Avail(&checkered));
        assert!(line.starts_with("OK free=500 total=1000 seats=1,3,5,"));
        assert!(line.ends_with(",511,..."), "{line}");
        assert_eq!(line.matches(',').count(), AVAIL_MAX_RANGES);
    }

    #[test]
    fn stats_help_bye() {
        let s = StatsSnapshot {
            seats: 100,
            free: 97,
            reserved: 3,
            bookings: 2,
            connections: 1,
            requests: 12,
            ..Default::default()
        };
        assert_eq!(
            written(Reply::Stats(s)),
            "OK seats=100 free=97 reserved=3 bookings=2 connections=1 accepted=0 rejected=0 requests=12 errors=0"
        );
        let durable = StatsSnapshot {
            journal: Some(seatlog::Stats {
                batches: 4,
                records: 10,
                bytes: 500,
                syncs: 3,
            }),
            ..s
        };
        assert!(
            written(Reply::Stats(durable))
                .ends_with(" errors=0 journal_records=10 journal_batches=4 journal_syncs=3")
        );
        let help = written(Reply::Help(100));
        assert!(help.starts_with("OK commands: "));
        // The operator commands are listed too, with where they run.
        for verb in [
            "SNAPSHOT",
            "BACKUP <dir>",
            "ADDMAP",
            "REMOVEMAP",
            "--admin-listen",
        ] {
            assert!(help.contains(verb), "{verb} in {help}");
        }
        assert_eq!(written(Reply::Bye), "OK bye");
    }
}

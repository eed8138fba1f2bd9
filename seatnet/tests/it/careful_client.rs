//! Clients for the cluster tests that behave as a careful client must
//! (`docs/protocol.md`, "Cluster mode" and "Request ids"), and the
//! checks of what they were told against what the cluster holds:
//!
//! - [`Conn`]: a line connection that reports failures instead of
//!   panicking (its node may die under it);
//! - [`Router`]: sends a request to whichever node owns its map: follows
//!   `ERR moved` (after `USE`), asks again after `ERR no-owner` or a lost
//!   connection, as it is (so with its id), for at most [`PATIENCE`] and
//!   [`MAX_ATTEMPTS`] attempts;
//! - [`Booker`]: changes (`BOOK`, `ANY`, `HOLD ANY`, `CONFIRM`,
//!   `CANCEL`), each with an `id=`, and the [`Ledger`] of what it was
//!   told; a seat acknowledged to two live bookings is a failure at once
//!   ([`Granted`]);
//! - [`verify`]: every booking as acknowledged on the map's owner, the
//!   free seats exactly those no live booking holds, every id repeating
//!   its reply, and everything cancelled.
//!
//! Every loop is bounded in count and time; nothing here asserts timing.

use std::collections::hash_map::Entry;
use std::collections::{BTreeSet, HashMap};
use std::io::{self, BufRead, BufReader, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::{Arc, Mutex, PoisonError};
use std::thread;
use std::time::{Duration, Instant};

use crate::support::seats;

/// How long one request is retried, or one outcome waited for.
pub(crate) const PATIENCE: Duration = Duration::from_secs(60);

/// Attempts at one request, whatever the clock says.
pub(crate) const MAX_ATTEMPTS: u32 = 2_000;

/// Every read and write on a connection gives up after this long (then
/// the connection counts as lost).
pub(crate) const IO_TIMEOUT: Duration = Duration::from_secs(10);

/// Between attempts after `ERR no-owner` or a lost connection.
pub(crate) const PAUSE: Duration = Duration::from_millis(100);

/// `ERR moved` followed this many times in a row before starting over.
pub(crate) const MAX_HOPS: u32 = 8;

/// Acknowledged changes sent again with their ids at the end, at most.
pub(crate) const RESEND_MAX: usize = 4_000;

/// Polls `check` every 100 ms until it holds or [`PATIENCE`] runs out.
pub(crate) fn eventually(what: &str, mut check: impl FnMut() -> bool) {
    let deadline = Instant::now() + PATIENCE;
    while !check() {
        assert!(Instant::now() < deadline, "gave up waiting: {what}");
        thread::sleep(PAUSE);
    }
}

pub(crate) fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

/// A line connection to a node that reports failures instead of
/// panicking on them (its node may die under it).
pub(crate) struct Conn {
    reader: BufReader<TcpStream>,
    writer: TcpStream,
    /// The map `USE` selected on this connection.
    map: Option<String>,
}

impl Conn {
    pub(crate) fn open(addr: SocketAddr, timeout: Duration) -> io::Result<Conn> {
        if !addr.ip().is_loopback() {
            // Nodes advertise 127.0.0.1; anything else is a bug, and the
            // tests never send traffic off the machine.
            return Err(io::Error::other(format!("{addr} is not loopback")));
        }
        let stream = TcpStream::connect_timeout(&addr, Duration::from_secs(2))?;
        stream.set_read_timeout(Some(timeout))?;
        stream.set_write_timeout(Some(timeout))?;
        stream.set_nodelay(true)?;
        Ok(Conn {
            writer: stream.try_clone()?,
            reader: BufReader::new(stream),
            map: None,
        })
    }

    /// Sends `request` and reads its reply line (without `\n`).
    pub(crate) fn ask(&mut self, request: &str) -> io::Result<String> {
        self.send(request)?;
        self.reply()
    }

    /// Sends `request` (a line).
    pub(crate) fn send(&mut self, request: &str) -> io::Result<()> {
        self.writer.write_all(format!("{request}\n").as_bytes())
    }

    /// Reads one reply line, waiting at most until `deadline`.
    pub(crate) fn reply_by(&mut self, deadline: Instant) -> io::Result<String> {
        let left = deadline
            .saturating_duration_since(Instant::now())
            .max(Duration::from_millis(1));
        self.reader.get_ref().set_read_timeout(Some(left))?;
        self.reply()
    }

    /// Reads one reply line (without `\n`).
    pub(crate) fn reply(&mut self) -> io::Result<String> {
        let mut reply = String::new();
        self.reader.read_line(&mut reply)?;
        if reply.pop() != Some('\n') {
            return Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                format!("closed before a whole reply ({reply:?})"),
            ));
        }
        Ok(reply)
    }

    /// A connection to `addr` with `map` selected (`USE` answered `OK
    /// using`), or what `addr` said instead.
    pub(crate) fn using(addr: SocketAddr, map: &str, timeout: Duration) -> Result<Conn, String> {
        let mut conn = Conn::open(addr, timeout).map_err(|e| format!("{addr}: {e}"))?;
        let reply = conn
            .ask(&format!("USE {map}"))
            .map_err(|e| format!("{addr}: {e}"))?;
        if !reply.starts_with("OK using ") {
            return Err(reply);
        }
        conn.map = Some(map.to_owned());
        Ok(conn)
    }
}

/// The live nodes' addresses, where clients start; the test changes them
/// as it kills and restarts nodes.
#[derive(Clone, Default)]
pub(crate) struct Seeds(Arc<Mutex<Vec<SocketAddr>>>);

impl Seeds {
    pub(crate) fn new(addrs: Vec<SocketAddr>) -> Seeds {
        Seeds(Arc::new(Mutex::new(addrs)))
    }

    pub(crate) fn set(&self, addrs: Vec<SocketAddr>) {
        *lock(&self.0) = addrs;
    }

    pub(crate) fn pick(&self, rng: &mut fastrand::Rng) -> Option<SocketAddr> {
        let addrs = lock(&self.0);
        (!addrs.is_empty()).then(|| addrs[rng.usize(..addrs.len())])
    }
}

/// What happened to requests, counted.
#[derive(Debug, Default, Clone)]
pub(crate) struct Tally {
    /// Changes answered `OK`.
    pub(crate) acked: u64,
    /// Changes answered with a clear refusal (`ERR none-reserved`, `ERR
    /// not-enough`): nothing changed.
    pub(crate) refused: u64,
    /// Changes with no final answer within the bounds (each a failure).
    pub(crate) gave_up: u64,
    /// Final answers that are neither (each a failure).
    pub(crate) unexpected: u64,
    /// Changes that needed another attempt after `ERR no-owner` or a lost
    /// connection (not counting `ERR moved`).
    pub(crate) retried: u64,
    /// Attempts answered `ERR moved`.
    pub(crate) moved: u64,
    /// Attempts answered `ERR no-owner`.
    pub(crate) no_owner: u64,
    /// Attempts that lost their connection (refused, closed, reset, timed
    /// out).
    pub(crate) lost: u64,
}

impl Tally {
    pub(crate) fn add(&mut self, other: &Tally) {
        self.acked += other.acked;
        self.refused += other.refused;
        self.gave_up += other.gave_up;
        self.unexpected += other.unexpected;
        self.retried += other.retried;
        self.moved += other.moved;
        self.no_owner += other.no_owner;
        self.lost += other.lost;
    }
}

/// The final answer to one request.
pub(crate) enum Answer {
    Reply {
        line: String,
        from: SocketAddr,
        retried: bool,
    },
    GaveUp(String),
}

/// Sends requests to whichever node owns their map: follows `ERR moved`,
/// and asks again after `ERR no-owner` or a lost connection.
pub(crate) struct Router {
    seeds: Seeds,
    conns: HashMap<SocketAddr, Conn>,
    rng: fastrand::Rng,
    tally: Tally,
}

impl Router {
    pub(crate) fn new(seeds: &Seeds, seed: u64) -> Router {
        Router {
            seeds: seeds.clone(),
            conns: HashMap::new(),
            rng: fastrand::Rng::with_seed(seed),
            tally: Tally::default(),
        }
    }

    /// `request` on `map`, sent again (as it is, so with its id) until a
    /// node that owns the map answers it, within the bounds.
    pub(crate) fn ask(&mut self, map: &str, request: &str) -> Answer {
        let deadline = Instant::now() + PATIENCE;
        let mut target = None;
        let mut hops = 0;
        let mut retried = false;
        let mut last = String::from("no node to ask");
        for _ in 0..MAX_ATTEMPTS {
            if Instant::now() >= deadline {
                break;
            }
            let Some(addr) = target.take().or_else(|| self.seeds.pick(&mut self.rng)) else {
                thread::sleep(PAUSE);
                continue;
            };
            let reply = match self.once(addr, map, request) {
                Ok(reply) => reply,
                Err(e) => {
                    self.tally.lost += 1;
                    retried = true;
                    hops = 0;
                    last = format!("{addr}: {e}");
                    thread::sleep(PAUSE);
                    continue;
                }
            };
            if let Some(to) = reply.strip_prefix("ERR moved ") {
                self.tally.moved += 1;
                let Ok(to) = to.parse::<SocketAddr>() else {
                    // Not an address: the caller reports the line.
                    return Answer::Reply {
                        line: reply,
                        from: addr,
                        retried,
                    };
                };
                hops += 1;
                if hops <= MAX_HOPS {
                    target = Some(to);
                } else {
                    hops = 0;
                    thread::sleep(PAUSE);
                }
                last = format!("{addr}: {reply}");
            } else if reply.starts_with("ERR no-owner: ") {
                self.tally.no_owner += 1;
                retried = true;
                hops = 0;
                last = format!("{addr}: {reply}");
                thread::sleep(PAUSE);
            } else {
                return Answer::Reply {
                    line: reply,
                    from: addr,
                    retried,
                };
            }
        }
        Answer::GaveUp(last)
    }

    /// One attempt at `addr`, on its connection (made, and `USE map` sent,
    /// when needed): the reply, or `USE`'s when it was refused.
    fn once(&mut self, addr: SocketAddr, map: &str, request: &str) -> io::Result<String> {
        let result = self.exchange(addr, map, request);
        if result.is_err() {
            self.conns.remove(&addr);
        }
        result
    }

    fn exchange(&mut self, addr: SocketAddr, map: &str, request: &str) -> io::Result<String> {
        let conn = match self.conns.entry(addr) {
            Entry::Occupied(e) => e.into_mut(),
            Entry::Vacant(e) => e.insert(Conn::open(addr, IO_TIMEOUT)?),
        };
        if conn.map.as_deref() != Some(map) {
            let reply = conn.ask(&format!("USE {map}"))?;
            if !reply.starts_with("OK using ") {
                return Ok(reply);
            }
            conn.map = Some(map.to_owned());
        }
        conn.ask(request)
    }
}

/// A booking or hold a client was told about (`OK <ref> ...`).
#[derive(Debug, Clone)]
pub(crate) struct Booking {
    pub(crate) map: String,
    pub(crate) reference: String,
    pub(crate) seats: Vec<u64>,
    /// The hold's `expires=` while it is a hold; `None` once booked.
    pub(crate) hold_expires: Option<String>,
    /// Acknowledged as cancelled.
    pub(crate) cancelled: bool,
    /// A change to it got no final answer: its state is unknown.
    pub(crate) unknown: bool,
    /// The node that acknowledged it (for failure messages).
    pub(crate) acked_by: SocketAddr,
}

impl Booking {
    pub(crate) fn live(&self) -> bool {
        !self.cancelled && !self.unknown
    }
}

/// An acknowledged change, sent again with its id at the end.
#[derive(Debug, Clone)]
pub(crate) struct Acked {
    pub(crate) map: String,
    pub(crate) request: String,
    pub(crate) reply: String,
}

/// What a client was told, and what went wrong.
#[derive(Debug, Default)]
pub(crate) struct Ledger {
    pub(crate) bookings: Vec<Booking>,
    pub(crate) acked: Vec<Acked>,
    pub(crate) tally: Tally,
    pub(crate) failures: Vec<String>,
    /// Maps where a grant got no final answer: their seats cannot be
    /// accounted for exactly.
    pub(crate) unsure_maps: BTreeSet<String>,
}

impl Ledger {
    pub(crate) fn merge(&mut self, other: Ledger) {
        self.bookings.extend(other.bookings);
        self.acked.extend(other.acked);
        self.tally.add(&other.tally);
        self.failures.extend(other.failures);
        self.unsure_maps.extend(other.unsure_maps);
    }
}

/// Who holds each seat (map, seat) among the acknowledged bookings and
/// holds not cancelled, shared by every client of a test: a seat
/// acknowledged to a second one is a double grant. A client takes a
/// booking's seats out before it sends its `CANCEL`, so a seat is never
/// in the table while its server may have freed it.
pub(crate) type Granted = Arc<Mutex<HashMap<(String, u64), String>>>;

/// A change a client makes.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Change {
    Book(u64),
    Any,
    HoldAny,
    /// Confirm the client's booking (a hold) at this index.
    Confirm(usize),
    /// Cancel the client's booking at this index.
    Cancel(usize),
}

/// How a change ended.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Outcome {
    Acked,
    Refused,
    /// No final answer, or an unexpected one (a failure is recorded).
    Failed,
}

/// A client making changes with ids, and keeping the ledger of what it
/// was told.
pub(crate) struct Booker {
    name: String,
    router: Router,
    pub(crate) ledger: Ledger,
    granted: Granted,
    pub(crate) rng: fastrand::Rng,
    next_id: u64,
    /// A node that must not acknowledge anything right now (cut off).
    pub(crate) forbidden: Option<SocketAddr>,
}

impl Booker {
    pub(crate) fn new(name: &str, seeds: &Seeds, granted: &Granted, seed: u64) -> Booker {
        Booker {
            name: name.to_owned(),
            router: Router::new(seeds, seed),
            ledger: Ledger::default(),
            granted: Arc::clone(granted),
            rng: fastrand::Rng::with_seed(seed ^ 0x5eed),
            next_id: 0,
            forbidden: None,
        }
    }

    fn fresh_id(&mut self) -> String {
        self.next_id += 1;
        format!("{}-{}", self.name, self.next_id)
    }

    fn fail(&mut self, what: String) {
        self.ledger.failures.push(what);
    }

    /// The index of a random live booking of this client (a hold if
    /// `hold`), if any.
    pub(crate) fn pick(&mut self, hold: bool) -> Option<usize> {
        let found: Vec<usize> = (0..self.ledger.bookings.len())
            .filter(|&i| {
                let b = &self.ledger.bookings[i];
                b.live() && (!hold || b.hold_expires.is_some())
            })
            .collect();
        (!found.is_empty()).then(|| found[self.rng.usize(..found.len())])
    }

    /// Makes `change` on `map` with a new id.
    pub(crate) fn change(&mut self, map: &str, change: Change) -> Outcome {
        let id = self.fresh_id();
        self.change_with_id(map, change, &id)
    }

    /// Makes `change` on `map` (a booking's own map for `Confirm` and
    /// `Cancel`) with request id `id`, and records what it was told.
    pub(crate) fn change_with_id(&mut self, map: &str, change: Change, id: &str) -> Outcome {
        let (map, request) = match change {
            Change::Book(_) | Change::Any | Change::HoldAny => {
                (map.to_owned(), grant_request(change, id))
            }
            Change::Confirm(i) => {
                let b = &self.ledger.bookings[i];
                (b.map.clone(), format!("CONFIRM {} id={id}", b.reference))
            }
            Change::Cancel(i) => {
                let b = &self.ledger.bookings[i];
                let mut granted = lock(&self.granted);
                for seat in &b.seats {
                    granted.remove(&(b.map.clone(), *seat));
                }
                (b.map.clone(), format!("CANCEL {} id={id}", b.reference))
            }
        };
        let (reply, from) = match self.router.ask(&map, &request) {
            Answer::Reply {
                line,
                from,
                retried,
            } => {
                self.ledger.tally.retried += u64::from(retried);
                (line, from)
            }
            Answer::GaveUp(last) => {
                self.ledger.tally.gave_up += 1;
                self.unknown(&map, change);
                self.fail(format!(
                    "{request} on {map}: no final answer within {PATIENCE:?} or {MAX_ATTEMPTS} attempts; last: {last}"
                ));
                return Outcome::Failed;
            }
        };
        let outcome = self.settle(&map, change, &request, &reply, from);
        match outcome {
            Outcome::Acked => {
                self.ledger.tally.acked += 1;
                if self.forbidden == Some(from) {
                    self.fail(format!(
                        "{request} on {map}: {from}, cut off from etcd, acknowledged it: {reply}"
                    ));
                }
                self.ledger.acked.push(Acked {
                    map,
                    request,
                    reply,
                });
            }
            Outcome::Refused => self.ledger.tally.refused += 1,
            Outcome::Failed => {
                self.ledger.tally.unexpected += 1;
                self.unknown(&map, change);
                self.fail(format!("{request} on {map}: {from} answered {reply}"));
            }
        }
        outcome
    }

    /// A change with no clear outcome: what it touched is unknown.
    fn unknown(&mut self, map: &str, change: Change) {
        match change {
            Change::Book(_) | Change::Any | Change::HoldAny => {
                self.ledger.unsure_maps.insert(map.to_owned());
            }
            Change::Confirm(i) | Change::Cancel(i) => {
                self.ledger.bookings[i].unknown = true;
                self.ledger.unsure_maps.insert(map.to_owned());
            }
        }
    }

    /// Reads the final reply to `change`.
    fn settle(
        &mut self,
        map: &str,
        change: Change,
        request: &str,
        reply: &str,
        from: SocketAddr,
    ) -> Outcome {
        match change {
            Change::Book(seat) => {
                if reply.starts_with("ERR none-reserved: ") {
                    return Outcome::Refused;
                }
                let Some(reference) = ok_reference(reply) else {
                    return Outcome::Failed;
                };
                if reply != format!("OK {reference} reserved={seat} taken=- invalid=-") {
                    return Outcome::Failed;
                }
                self.granted(map, request, reference, vec![seat], None, from);
            }
            Change::Any | Change::HoldAny => {
                if reply.starts_with("ERR not-enough: ") {
                    return Outcome::Refused;
                }
                let Some(reference) = ok_reference(reply) else {
                    return Outcome::Failed;
                };
                let rest = &reply[3 + reference.len()..];
                let (got, expires) = match change {
                    Change::HoldAny => match rest
                        .strip_prefix(" seats=")
                        .and_then(|r| r.split_once(" expires="))
                    {
                        Some((list, expires)) => (list, Some(expires.to_owned())),
                        None => return Outcome::Failed,
                    },
                    _ => match rest.strip_prefix(" seats=") {
                        Some(list) => (list, None),
                        None => return Outcome::Failed,
                    },
                };
                let got = seats(got);
                if got.len() != 1 {
                    return Outcome::Failed;
                }
                self.granted(map, request, reference, got, expires, from);
            }
            Change::Confirm(i) => {
                let b = &self.ledger.bookings[i];
                let prefix = format!("OK confirmed {} seats=", b.reference);
                match reply.strip_prefix(&prefix) {
                    Some(list) if seats(list) == b.seats => {
                        self.ledger.bookings[i].hold_expires = None;
                    }
                    _ => return Outcome::Failed,
                }
            }
            Change::Cancel(i) => {
                let b = &self.ledger.bookings[i];
                let prefix = format!("OK cancelled {} seats=", b.reference);
                match reply.strip_prefix(&prefix) {
                    Some(list) if seats(list) == b.seats => {
                        self.ledger.bookings[i].cancelled = true;
                    }
                    _ => return Outcome::Failed,
                }
            }
        }
        Outcome::Acked
    }

    /// Records a grant, and checks no other live booking holds its seats.
    fn granted(
        &mut self,
        map: &str,
        request: &str,
        reference: String,
        seats: Vec<u64>,
        hold_expires: Option<String>,
        acked_by: SocketAddr,
    ) {
        let mut doubles = Vec::new();
        {
            let mut granted = lock(&self.granted);
            for &seat in &seats {
                if let Some(other) = granted.insert((map.to_owned(), seat), reference.clone()) {
                    doubles.push(format!(
                        "seat {seat} of {map} granted to {reference} ({request}) while {other} held it"
                    ));
                }
            }
        }
        for double in doubles {
            self.fail(double);
        }
        self.ledger.bookings.push(Booking {
            map: map.to_owned(),
            reference,
            seats,
            hold_expires,
            cancelled: false,
            unknown: false,
            acked_by,
        });
    }

    /// The ledger, with the router's counts.
    pub(crate) fn finish(mut self) -> Ledger {
        self.ledger.tally.add(&self.router.tally);
        self.ledger
    }
}

/// The reference of an `OK <ref> ...` reply.
pub(crate) fn ok_reference(reply: &str) -> Option<String> {
    let reference = reply.strip_prefix("OK ")?.split(' ').next()?;
    (reference.len() == 32 && reference.bytes().all(|b| b.is_ascii_hexdigit()))
        .then(|| reference.to_owned())
}

/// Checks what `ledger` says against the cluster, through `router`:
///
/// 1. `SHOW` of every booking and hold: booked or held with the same
///    seats (and expiry), or unknown once cancelled;
/// 2. `AVAIL` of every map: free exactly where no live booking or hold
///    is (so nothing was granted that no client was told about);
/// 3. every acknowledged change sent again with its id: the same reply,
///    byte for byte (and nothing done again);
/// 4. every live booking and hold cancelled: the same seats; then every
///    map is free again.
///
/// Returns the failures.
pub(crate) fn verify(router: &mut Router, ledger: &Ledger, maps: &[(&str, u64)]) -> Vec<String> {
    let mut failures = Vec::new();
    // 1. Every booking as the client was told.
    for b in ledger.bookings.iter().filter(|b| !b.unknown) {
        let request = format!("SHOW {}", b.reference);
        let Some(shown) = ask_noting(router, &b.map, &request, &mut failures) else {
            continue;
        };
        let right = shown == expected_show(b);
        if !right {
            failures.push(format!(
                "{} on {}, acknowledged by {}: SHOW says {shown}, not {}",
                b.reference,
                b.map,
                b.acked_by,
                expected_show(b)
            ));
        }
    }
    // 2. The seats taken are exactly those of the live bookings.
    for &(map, total) in maps {
        if ledger.unsure_maps.contains(map) {
            continue;
        }
        let Some((_, free)) = avail(router, map, &mut failures) else {
            continue;
        };
        let taken: BTreeSet<u64> = ledger
            .bookings
            .iter()
            .filter(|b| b.map == map && b.live())
            .flat_map(|b| b.seats.iter().copied())
            .collect();
        let expected: BTreeSet<u64> = (1..=total).filter(|s| !taken.contains(s)).collect();
        if free != expected {
            let leaked: Vec<u64> = expected.difference(&free).copied().take(20).collect();
            let lost: Vec<u64> = free.difference(&expected).copied().take(20).collect();
            failures.push(format!(
                "{map}: seats taken that no live acknowledged booking holds: {leaked:?}; \
                 seats free that one holds: {lost:?}"
            ));
        }
    }
    // 3. Every id repeats its first reply.
    let step = ledger.acked.len().div_ceil(RESEND_MAX).max(1);
    for acked in ledger.acked.iter().step_by(step) {
        let Some(again) = ask_noting(router, &acked.map, &acked.request, &mut failures) else {
            continue;
        };
        if again != acked.reply {
            failures.push(format!(
                "{} on {} again: {again}, first: {}",
                acked.request, acked.map, acked.reply
            ));
        }
    }
    // 4. Everything cancels; the maps are free again.
    for (n, b) in ledger.bookings.iter().filter(|b| b.live()).enumerate() {
        let request = format!("CANCEL {} id=verify-{n}", b.reference);
        let Some(reply) = ask_noting(router, &b.map, &request, &mut failures) else {
            continue;
        };
        if reply != format!("OK cancelled {} seats={}", b.reference, runs(&b.seats)) {
            failures.push(format!(
                "{request} on {} (seats {:?}): {reply}",
                b.map, b.seats
            ));
        }
    }
    for &(map, total) in maps {
        if ledger.unsure_maps.contains(map) {
            continue;
        }
        if let Some((free, _)) = avail(router, map, &mut failures)
            && free != total
        {
            failures.push(format!(
                "{map}: {free} of {total} seats free after every booking was cancelled"
            ));
        }
    }
    failures
}

/// What `SHOW` of `b` must answer.
pub(crate) fn expected_show(b: &Booking) -> String {
    if b.cancelled {
        format!("ERR unknown-booking: {}", b.reference)
    } else if let Some(expires) = &b.hold_expires {
        format!("OK held seats={} expires={expires}", runs(&b.seats))
    } else {
        format!("OK booked seats={}", runs(&b.seats))
    }
}

/// `request` on `map` through `router`; a failure noted when it got no
/// answer.
pub(crate) fn ask_noting(
    router: &mut Router,
    map: &str,
    request: &str,
    failures: &mut Vec<String>,
) -> Option<String> {
    match router.ask(map, request) {
        Answer::Reply { line, .. } => Some(line),
        Answer::GaveUp(last) => {
            failures.push(format!("{request} on {map}: no answer; last: {last}"));
            None
        }
    }
}

/// `AVAIL` of `map`: its free count and free seats.
pub(crate) fn avail(
    router: &mut Router,
    map: &str,
    failures: &mut Vec<String>,
) -> Option<(u64, BTreeSet<u64>)> {
    let line = ask_noting(router, map, "AVAIL", failures)?;
    let parsed = line.strip_prefix("OK free=").and_then(|r| {
        let (free, r) = r.split_once(" total=")?;
        let (_, list) = r.split_once(" seats=")?;
        // A list cut short (`,...`) cannot be compared.
        let free: u64 = free.parse().ok()?;
        (!list.ends_with("...")).then(|| (free, seats(list).into_iter().collect()))
    });
    if parsed.is_none() {
        failures.push(format!("AVAIL on {map}: {line}"));
    }
    parsed
}

/// The owner of `map` as `at`'s `MAPS` says it, when it names one.
pub(crate) fn owner_at(at: SocketAddr, map: &str) -> Option<SocketAddr> {
    let reply = Conn::open(at, IO_TIMEOUT).ok()?.ask("MAPS").ok()?;
    let entry = reply
        .split(' ')
        .skip(2)
        .find(|e| e.split(':').next() == Some(map))?;
    // name:spec:seats:free:owner, the owner `here`, `none` or host:port.
    let owner = entry.splitn(5, ':').nth(4)?;
    match owner {
        "here" => Some(at),
        "none" => None,
        addr => addr.parse().ok(),
    }
}

/// Waits until `map` is served by one of `nodes` that agrees it is its
/// own; returns its index.
pub(crate) fn owner_among(nodes: &[SocketAddr], map: &str) -> usize {
    let mut owner = None;
    eventually(&format!("{map} owned by a live node"), || {
        owner = nodes.iter().find_map(|&at| {
            let o = owner_at(at, map)?;
            let i = nodes.iter().position(|&n| n == o)?;
            (owner_at(o, map) == Some(o)).then_some(i)
        });
        owner.is_some()
    });
    owner.unwrap_or_default()
}

pub(crate) fn timed_out(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
    )
}

/// The request of a grant (`BOOK`, `ANY`, `HOLD ANY`) with id `id`.
pub(crate) fn grant_request(change: Change, id: &str) -> String {
    match change {
        Change::Book(seat) => format!("BOOK {seat} id={id}"),
        Change::Any => format!("ANY 1 id={id}"),
        Change::HoldAny => format!("HOLD ANY 1 id={id}"),
        Change::Confirm(_) | Change::Cancel(_) => unreachable!("not a grant: {change:?}"),
    }
}

pub(crate) fn summary(what: &str, tally: &Tally, failures: &[String]) {
    eprintln!(
        "{what}: {} changes acknowledged, {} refused clearly (seat taken, map full), {} given up, {} unexpected; \
         {} needed another attempt; attempts answered ERR moved {}, ERR no-owner {}, lost {}; {} failures",
        tally.acked,
        tally.refused,
        tally.gave_up,
        tally.unexpected,
        tally.retried,
        tally.moved,
        tally.no_owner,
        tally.lost,
        failures.len(),
    );
}

pub(crate) fn assert_no_failures(what: &str, failures: &[String]) {
    assert!(
        failures.is_empty(),
        "{what}: {} failures, the first ones:\n{}",
        failures.len(),
        failures
            .iter()
            .take(30)
            .cloned()
            .collect::<Vec<_>>()
            .join("\n")
    );
}

/// A seed for the clients' choices, printed so a failing run can be
/// told apart (the interleaving is the machine's, not the seed's).
pub(crate) fn seed() -> u64 {
    let seed = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(1, |d| d.as_nanos() as u64);
    eprintln!("seed {seed}");
    seed
}

/// Seats as a reply lists them: ascending runs (`1-3,7`).
pub(crate) fn runs(seats: &[u64]) -> String {
    let mut sorted = seats.to_vec();
    sorted.sort_unstable();
    let mut parts: Vec<String> = Vec::new();
    let mut i = 0;
    while i < sorted.len() {
        let mut j = i;
        while j + 1 < sorted.len() && sorted[j + 1] == sorted[j] + 1 {
            j += 1;
        }
        parts.push(if i == j {
            sorted[i].to_string()
        } else {
            format!("{}-{}", sorted[i], sorted[j])
        });
        i = j + 1;
    }
    if parts.is_empty() {
        "-".into()
    } else {
        parts.join(",")
    }
}

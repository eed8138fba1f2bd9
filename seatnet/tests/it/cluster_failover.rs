//! Failover with every change journaled through etcd (`docs/cluster.md`),
//! end to end: real etcd members and real `seatnet-server` nodes on
//! loopback, killed and cut off by each test (every test that needs etcd
//! skips loudly without it):
//!
//! - three nodes under six booking clients while the owner of a busy map
//!   is `kill -9`ed and restarted, three times: every acknowledged change
//!   is on the map's owner afterwards, no seat is granted twice, the
//!   seats taken are exactly those of the acknowledged bookings and holds,
//!   and every request id repeats its first reply byte for byte;
//! - etcd members killed: with one of three gone bookings go on; with two
//!   gone no change is acknowledged; with them back bookings go on and
//!   nothing acknowledged is lost;
//! - a node cut off from etcd (its `--etcd` points at proxies the test
//!   cuts): it stops acknowledging, another node takes its map with
//!   everything it acknowledged, and after the heal it sends clients to
//!   the new owner;
//! - `--data-dir` with `--etcd` is refused.
//!
//! The clients behave as a careful client must: every change carries an
//! `id=`; on `ERR moved` they ask the node named (after `USE`), on `ERR
//! no-owner` or a lost connection they ask again with the same id, for at
//! most [`PATIENCE`] and [`MAX_ATTEMPTS`] attempts per request.
//!
//! No timing assertions: every wait is bounded and only decides how long
//! to look for an outcome.

use std::collections::hash_map::Entry;
use std::collections::{BTreeSet, HashMap};
use std::io::{self, BufRead, BufReader, Write};
use std::net::{SocketAddr, TcpStream};
use std::process::Command;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::thread;
use std::time::{Duration, Instant};

use seatcluster::testing::{EtcdCluster, Proxy};

use crate::cluster::start_binary_node_over;
use crate::processes::{ServerProcess, stderr};
use crate::support::seats;

/// How long one request is retried, or one outcome waited for.
const PATIENCE: Duration = Duration::from_secs(60);
/// Attempts at one request, whatever the clock says.
const MAX_ATTEMPTS: u32 = 2_000;
/// Every read and write on a connection gives up after this long (then
/// the connection counts as lost).
const IO_TIMEOUT: Duration = Duration::from_secs(10);
/// How long a node that must not acknowledge may take to answer a change
/// (its commit is retried until its lease deadline, 3 s here, passes).
const DARK_TIMEOUT: Duration = Duration::from_secs(30);
/// Between attempts after `ERR no-owner` or a lost connection.
const PAUSE: Duration = Duration::from_millis(100);
/// `ERR moved` followed this many times in a row before starting over.
const MAX_HOPS: u32 = 8;
/// Acknowledged changes sent again with their ids at the end, at most.
const RESEND_MAX: usize = 4_000;

/// Polls `check` every 100 ms until it holds or [`PATIENCE`] runs out.
fn eventually(what: &str, mut check: impl FnMut() -> bool) {
    let deadline = Instant::now() + PATIENCE;
    while !check() {
        assert!(Instant::now() < deadline, "gave up waiting: {what}");
        thread::sleep(PAUSE);
    }
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

/// A line connection to a node that reports failures instead of
/// panicking on them (its node may die under it).
struct Conn {
    reader: BufReader<TcpStream>,
    writer: TcpStream,
    /// The map `USE` selected on this connection.
    map: Option<String>,
}

impl Conn {
    fn open(addr: SocketAddr, timeout: Duration) -> io::Result<Conn> {
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
    fn ask(&mut self, request: &str) -> io::Result<String> {
        self.send(request)?;
        self.reply()
    }

    /// Sends `request` (a line).
    fn send(&mut self, request: &str) -> io::Result<()> {
        self.writer.write_all(format!("{request}\n").as_bytes())
    }

    /// Reads one reply line, waiting at most until `deadline`.
    fn reply_by(&mut self, deadline: Instant) -> io::Result<String> {
        let left = deadline
            .saturating_duration_since(Instant::now())
            .max(Duration::from_millis(1));
        self.reader.get_ref().set_read_timeout(Some(left))?;
        self.reply()
    }

    /// Reads one reply line (without `\n`).
    fn reply(&mut self) -> io::Result<String> {
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
    fn using(addr: SocketAddr, map: &str, timeout: Duration) -> Result<Conn, String> {
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
struct Seeds(Arc<Mutex<Vec<SocketAddr>>>);

impl Seeds {
    fn new(addrs: Vec<SocketAddr>) -> Seeds {
        Seeds(Arc::new(Mutex::new(addrs)))
    }

    fn set(&self, addrs: Vec<SocketAddr>) {
        *lock(&self.0) = addrs;
    }

    fn pick(&self, rng: &mut fastrand::Rng) -> Option<SocketAddr> {
        let addrs = lock(&self.0);
        (!addrs.is_empty()).then(|| addrs[rng.usize(..addrs.len())])
    }
}

/// What happened to requests, counted.
#[derive(Debug, Default, Clone)]
struct Tally {
    /// Changes answered `OK`.
    acked: u64,
    /// Changes answered with a clear refusal (`ERR none-reserved`, `ERR
    /// not-enough`): nothing changed.
    refused: u64,
    /// Changes with no final answer within the bounds (each a failure).
    gave_up: u64,
    /// Final answers that are neither (each a failure).
    unexpected: u64,
    /// Changes that needed another attempt after `ERR no-owner` or a lost
    /// connection (not counting `ERR moved`).
    retried: u64,
    /// Attempts answered `ERR moved`.
    moved: u64,
    /// Attempts answered `ERR no-owner`.
    no_owner: u64,
    /// Attempts that lost their connection (refused, closed, reset, timed
    /// out).
    lost: u64,
}

impl Tally {
    fn add(&mut self, other: &Tally) {
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
enum Answer {
    Reply {
        line: String,
        from: SocketAddr,
        retried: bool,
    },
    GaveUp(String),
}

/// Sends requests to whichever node owns their map: follows `ERR moved`,
/// and asks again after `ERR no-owner` or a lost connection.
struct Router {
    seeds: Seeds,
    conns: HashMap<SocketAddr, Conn>,
    rng: fastrand::Rng,
    tally: Tally,
}

impl Router {
    fn new(seeds: &Seeds, seed: u64) -> Router {
        Router {
            seeds: seeds.clone(),
            conns: HashMap::new(),
            rng: fastrand::Rng::with_seed(seed),
            tally: Tally::default(),
        }
    }

    /// `request` on `map`, sent again (as it is, so with its id) until a
    /// node that owns the map answers it, within the bounds.
    fn ask(&mut self, map: &str, request: &str) -> Answer {
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
struct Booking {
    map: String,
    reference: String,
    seats: Vec<u64>,
    /// The hold's `expires=` while it is a hold; `None` once booked.
    hold_expires: Option<String>,
    /// Acknowledged as cancelled.
    cancelled: bool,
    /// A change to it got no final answer: its state is unknown.
    unknown: bool,
    /// The node that acknowledged it (for failure messages).
    acked_by: SocketAddr,
}

impl Booking {
    fn live(&self) -> bool {
        !self.cancelled && !self.unknown
    }
}

/// An acknowledged change, sent again with its id at the end.
#[derive(Debug, Clone)]
struct Acked {
    map: String,
    request: String,
    reply: String,
}

/// What a client was told, and what went wrong.
#[derive(Debug, Default)]
struct Ledger {
    bookings: Vec<Booking>,
    acked: Vec<Acked>,
    tally: Tally,
    failures: Vec<String>,
    /// Maps where a grant got no final answer: their seats cannot be
    /// accounted for exactly.
    unsure_maps: BTreeSet<String>,
}

impl Ledger {
    fn merge(&mut self, other: Ledger) {
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
type Granted = Arc<Mutex<HashMap<(String, u64), String>>>;

/// A change a client makes.
#[derive(Debug, Clone, Copy)]
enum Change {
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
enum Outcome {
    Acked,
    Refused,
    /// No final answer, or an unexpected one (a failure is recorded).
    Failed,
}

/// A client making changes with ids, and keeping the ledger of what it
/// was told.
struct Booker {
    name: String,
    router: Router,
    ledger: Ledger,
    granted: Granted,
    rng: fastrand::Rng,
    next_id: u64,
    /// A node that must not acknowledge anything right now (cut off).
    forbidden: Option<SocketAddr>,
}

impl Booker {
    fn new(name: &str, seeds: &Seeds, granted: &Granted, seed: u64) -> Booker {
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
    fn pick(&mut self, hold: bool) -> Option<usize> {
        let found: Vec<usize> = (0..self.ledger.bookings.len())
            .filter(|&i| {
                let b = &self.ledger.bookings[i];
                b.live() && (!hold || b.hold_expires.is_some())
            })
            .collect();
        (!found.is_empty()).then(|| found[self.rng.usize(..found.len())])
    }

    /// Makes `change` on `map` with a new id.
    fn change(&mut self, map: &str, change: Change) -> Outcome {
        let id = self.fresh_id();
        self.change_with_id(map, change, &id)
    }

    /// Makes `change` on `map` (a booking's own map for `Confirm` and
    /// `Cancel`) with request id `id`, and records what it was told.
    fn change_with_id(&mut self, map: &str, change: Change, id: &str) -> Outcome {
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
    fn finish(mut self) -> Ledger {
        self.ledger.tally.add(&self.router.tally);
        self.ledger
    }
}

/// The reference of an `OK <ref> ...` reply.
fn ok_reference(reply: &str) -> Option<String> {
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
fn verify(router: &mut Router, ledger: &Ledger, maps: &[(&str, u64)]) -> Vec<String> {
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
fn expected_show(b: &Booking) -> String {
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
fn ask_noting(
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
fn avail(
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
fn owner_at(at: SocketAddr, map: &str) -> Option<SocketAddr> {
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
fn owner_among(nodes: &[SocketAddr], map: &str) -> usize {
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

/// A change sent to a node that must not acknowledge it (cut off from
/// etcd, or etcd without a quorum), on a connection that selected its
/// map while the node served it.
struct Dark {
    map: &'static str,
    change: Change,
    id: String,
    conn: Conn,
    /// No answer came within [`DARK_TIMEOUT`].
    hung: bool,
}

/// A change whose outcome the client does not know yet, and what its
/// connection finally said, if anything.
type Unresolved = (&'static str, Change, String, Option<String>);

/// Connections to `at` with `map` selected, `count` of them, made while
/// `at` serves `map` (waited for).
fn selected(at: &[SocketAddr], map: &str, count: usize) -> (SocketAddr, Vec<Conn>) {
    let mut found = None;
    eventually(
        &format!("{count} connections to the owner of {map}"),
        || {
            let owner = at[owner_among(at, map)];
            let conns: Vec<Conn> = (0..count)
                .map_while(|_| Conn::using(owner, map, DARK_TIMEOUT).ok())
                .collect();
            if conns.len() == count {
                found = Some((owner, conns));
            }
            found.is_some()
        },
    );
    found.expect("found above")
}

/// Sends every change of `dark` at once (so that they reach the node
/// together, while it may still count itself live and apply them), then
/// reads each answer, all within one [`DARK_TIMEOUT`]: a refusal, or the
/// connection closed. Panics on an `OK`; a change with no answer at all
/// is a failure (`failures`), and stays `hung`. Returns the answers.
fn refused_in_the_dark(dark: &mut [Dark], what: &str, failures: &mut Vec<String>) -> Vec<String> {
    let requests: Vec<String> = dark
        .iter()
        .map(|d| grant_request(d.change, &d.id))
        .collect();
    let sent: Vec<io::Result<()>> = dark
        .iter_mut()
        .zip(&requests)
        .map(|(d, r)| d.conn.send(r))
        .collect();
    let deadline = Instant::now() + DARK_TIMEOUT;
    let mut answers = Vec::new();
    for ((d, request), sent) in dark.iter_mut().zip(&requests).zip(sent) {
        let answer = match sent.and_then(|()| d.conn.reply_by(deadline)) {
            Ok(reply) => {
                assert!(
                    !reply.starts_with("OK"),
                    "{what}: {request} on {} was acknowledged: {reply}",
                    d.map
                );
                reply
            }
            Err(e) if timed_out(&e) => {
                d.hung = true;
                failures.push(format!(
                    "{what}: {request} on {} got no answer within {DARK_TIMEOUT:?} \
                     (neither a refusal nor the connection closed)",
                    d.map
                ));
                "no answer".to_owned()
            }
            Err(e) => format!("connection closed ({e})"),
        };
        eprintln!("{what}: {request} on {}: {answer}", d.map);
        answers.push(answer);
    }
    answers
}

fn timed_out(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
    )
}

/// The changes of `dark`, once a node can commit them again, with what
/// the hung ones finally got on their connections (read for at most
/// `within`, all together).
fn unresolved(dark: Vec<Dark>, within: Duration) -> Vec<Unresolved> {
    let deadline = Instant::now() + within;
    dark.into_iter()
        .map(|mut d| {
            let late = if d.hung {
                let late = d.conn.reply_by(deadline);
                eprintln!(
                    "{} on {}, hung before, finally got: {late:?}",
                    grant_request(d.change, &d.id),
                    d.map
                );
                late.ok()
            } else {
                None
            };
            (d.map, d.change, d.id, late)
        })
        .collect()
}

/// The request of a grant (`BOOK`, `ANY`, `HOLD ANY`) with id `id`.
fn grant_request(change: Change, id: &str) -> String {
    match change {
        Change::Book(seat) => format!("BOOK {seat} id={id}"),
        Change::Any => format!("ANY 1 id={id}"),
        Change::HoldAny => format!("HOLD ANY 1 id={id}"),
        Change::Confirm(_) | Change::Cancel(_) => unreachable!("not a grant: {change:?}"),
    }
}

/// The `k`-th grant sent in the dark: `BOOK` of the next seat from the
/// top, `ANY 1` or `HOLD ANY 1`.
fn dark_grant(k: usize, map: &str, top: &mut HashMap<String, u64>) -> Change {
    match k % 3 {
        0 => {
            let seat = top.entry(map.to_owned()).or_insert(100);
            *seat -= 1;
            Change::Book(*seat + 1)
        }
        1 => Change::Any,
        _ => Change::HoldAny,
    }
}

/// Sends every change of `dark` again with its id, now that a node can
/// commit it: each is acknowledged (done now, or done then and its reply
/// repeated).
fn resolve(booker: &mut Booker, dark: impl IntoIterator<Item = Unresolved>, what: &str) {
    for (map, change, id, late) in dark {
        let outcome = booker.change_with_id(map, change, &id);
        assert_eq!(
            outcome,
            Outcome::Acked,
            "{what}: {change:?} id={id} on {map}: {:?}",
            booker.ledger.failures
        );
        // An answer that came late on the first connection is the one
        // the id repeats.
        if let Some(late) = late.filter(|l| l.starts_with("OK")) {
            let again = &booker.ledger.acked.last().expect("acknowledged").reply;
            assert_eq!(
                again, &late,
                "{what}: {change:?} id={id} on {map}: the retry's reply, not the late one"
            );
        }
    }
}

/// Changes on `maps` that must all be acknowledged: books seats from
/// `top` down, and lets the others (`ANY`, `HOLD ANY`, `CONFIRM`,
/// `CANCEL`) take seats from the bottom.
fn all_acknowledged(
    booker: &mut Booker,
    maps: &[&str],
    top: &mut HashMap<String, u64>,
    count: usize,
    what: &str,
) {
    for i in 0..count {
        let map = maps[i % maps.len()];
        let change = match i % 5 {
            0 => {
                let seat = top.entry(map.to_owned()).or_insert(100);
                *seat -= 1;
                Change::Book(*seat + 1)
            }
            1 => Change::Any,
            2 => Change::HoldAny,
            3 => booker.pick(true).map_or(Change::HoldAny, Change::Confirm),
            _ => booker.pick(false).map_or(Change::Any, Change::Cancel),
        };
        let outcome = booker.change(map, change);
        assert_eq!(
            outcome,
            Outcome::Acked,
            "{what}: {change:?} on {map}: {:?}",
            booker.ledger.failures
        );
    }
}

fn summary(what: &str, tally: &Tally, failures: &[String]) {
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

fn assert_no_failures(what: &str, failures: &[String]) {
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
fn seed() -> u64 {
    let seed = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(1, |d| d.as_nanos() as u64);
    eprintln!("seed {seed}");
    seed
}

const FAILOVER_MAPS: [&str; 6] = ["F1=200", "F2=200", "F3=200", "F4=200", "F5=200", "F6=200"];
const FAILOVER_CLIENTS: usize = 6;
const KILL_ROUNDS: usize = 3;
/// Changes per client at most (the clock bounds them well before).
const MAX_CHANGES: usize = 100_000;

/// One client of the failover test: random changes on random maps
/// through random nodes until told to stop.
fn busy_client(
    mut booker: Booker,
    stop: &AtomicBool,
    acked: &AtomicU64,
    maps: &[(&str, u64)],
) -> Ledger {
    let deadline = Instant::now() + 5 * PATIENCE;
    for _ in 0..MAX_CHANGES {
        // Relaxed: the flag only tells the client to stop soon; the
        // ledger goes back through `join`.
        if stop.load(Ordering::Relaxed) || Instant::now() >= deadline {
            break;
        }
        let (map, total) = maps[booker.rng.usize(..maps.len())];
        let roll = booker.rng.u32(0..100);
        let change = match roll {
            0..25 => Change::Book(booker.rng.u64(1..=total)),
            25..45 => Change::Any,
            45..55 => Change::HoldAny,
            55..65 => booker.pick(true).map_or(Change::Any, Change::Confirm),
            _ => booker
                .pick(false)
                .map_or(Change::Book(booker.rng.u64(1..=total)), Change::Cancel),
        };
        if booker.change(map, change) == Outcome::Acked {
            // Relaxed: a progress count the main thread only watches.
            acked.fetch_add(1, Ordering::Relaxed);
        }
    }
    booker.finish()
}

/// Three nodes, six busy clients, the owner of a busy map `kill -9`ed and
/// restarted three times: nothing acknowledged is lost, nothing granted
/// twice, nothing granted that nobody was told about, and every id
/// repeats its reply.
#[test]
fn acknowledged_changes_survive_kill_9_of_their_owner_under_load() {
    let Some(etcd) = EtcdCluster::start("seatnet failover: kill -9 under load", 3) else {
        return;
    };
    let endpoints = etcd.endpoints().join(",");
    let names = ["n1", "n2", "n3"];
    let mut nodes: Vec<ServerProcess> = names
        .iter()
        .map(|name| start_binary_node_over(&endpoints, name, &FAILOVER_MAPS))
        .collect();
    let addrs = |nodes: &[ServerProcess]| nodes.iter().map(|n| n.addr).collect::<Vec<_>>();
    let seeds = Seeds::new(addrs(&nodes));
    let maps: Vec<(&str, u64)> = FAILOVER_MAPS
        .iter()
        .map(|m| {
            let (name, n) = m.split_once('=').unwrap();
            (name, n.parse().unwrap())
        })
        .collect();
    for (map, _) in &maps {
        owner_among(&addrs(&nodes), map);
    }
    let seed = seed();
    let granted = Granted::default();
    let stop = AtomicBool::new(false);
    let acked = AtomicU64::new(0);
    let ledger = thread::scope(|s| {
        let clients: Vec<_> = (0..FAILOVER_CLIENTS)
            .map(|c| {
                let booker = Booker::new(&format!("c{c}"), &seeds, &granted, seed + c as u64);
                let (stop, acked, maps) = (&stop, &acked, &maps);
                s.spawn(move || busy_client(booker, stop, acked, maps))
            })
            .collect();
        // Relaxed (every load of `acked` here): a progress count.
        eventually("the clients' first acknowledgments", || {
            acked.load(Ordering::Relaxed) >= 20
        });
        for round in 0..KILL_ROUNDS {
            let (map, _) = maps[(2 * round) % maps.len()];
            let i = owner_among(&addrs(&nodes), map);
            let before = acked.load(Ordering::Relaxed);
            eventually("changes acknowledged before the kill", || {
                acked.load(Ordering::Relaxed) >= before + 20
            });
            eprintln!(
                "round {round}: kill -9 {} ({}), owner of {map}, after {} acknowledged changes",
                names[i],
                nodes[i].addr,
                acked.load(Ordering::Relaxed)
            );
            let _ = nodes[i].child.kill();
            let _ = nodes[i].child.wait();
            seeds.set(
                addrs(&nodes)
                    .into_iter()
                    .enumerate()
                    .filter(|&(j, _)| j != i)
                    .map(|(_, a)| a)
                    .collect(),
            );
            // Clients meet the dead node for a moment.
            thread::sleep(Duration::from_millis(500));
            nodes[i] = start_binary_node_over(&endpoints, names[i], &FAILOVER_MAPS);
            seeds.set(addrs(&nodes));
            // Served again: a read of the map is answered by its owner.
            let mut router = Router::new(&seeds, seed ^ round as u64);
            match router.ask(map, "AVAIL") {
                Answer::Reply { line, .. } => {
                    assert!(line.starts_with("OK free="), "AVAIL on {map}: {line}");
                }
                Answer::GaveUp(last) => panic!("{map} not served again after the kill: {last}"),
            }
            let after = acked.load(Ordering::Relaxed);
            eventually(&format!("changes acknowledged after round {round}"), || {
                acked.load(Ordering::Relaxed) >= after + 20
            });
        }
        // Relaxed: see `busy_client`.
        stop.store(true, Ordering::Relaxed);
        let mut ledger = Ledger::default();
        for client in clients {
            ledger.merge(client.join().expect("a client thread"));
        }
        ledger
    });
    let mut router = Router::new(&seeds, seed ^ 0xfeed);
    let mut failures = ledger.failures.clone();
    failures.extend(verify(&mut router, &ledger, &maps));
    summary("kill -9 under load", &ledger.tally, &failures);
    let live = ledger.bookings.iter().filter(|b| b.live()).count();
    eprintln!(
        "{} bookings and holds acknowledged, {live} live at the end; {} ids sent again",
        ledger.bookings.len(),
        ledger.acked.len().min(RESEND_MAX),
    );
    // Each node counts its records and etcd transactions since its start.
    let journal: Vec<(String, Option<(u64, u64)>)> = nodes
        .iter()
        .map(|node| {
            let stats = Conn::open(node.addr, IO_TIMEOUT)
                .and_then(|mut c| c.ask("STATS"))
                .unwrap_or_else(|e| format!("STATS failed: {e}"));
            let count = |key: &str| -> Option<u64> {
                stats
                    .split(' ')
                    .find_map(|p| p.strip_prefix(key)?.strip_prefix('='))?
                    .parse()
                    .ok()
            };
            let counts = count("journal_records").zip(count("journal_batches"));
            eprintln!("{}: {stats}", node.addr);
            (stats, counts)
        })
        .collect();
    assert_no_failures("kill -9 under load", &failures);
    assert_eq!(ledger.tally.gave_up + ledger.tally.unexpected, 0);
    assert!(ledger.tally.acked > 0);
    let mut records = 0;
    for (stats, counts) in &journal {
        let Some((r, b)) = *counts else {
            panic!("no journal_records= and journal_batches= in {stats}");
        };
        assert!(b <= r, "more etcd transactions than records: {stats}");
        records += r;
    }
    assert!(records > 0, "no node journaled a record: {journal:?}");
    drop(etcd);
}

/// With one etcd member of three killed, changes go on; with two, none
/// is acknowledged (each is refused, or its connection closed, within a
/// bound); with them back, changes go on and nothing acknowledged is
/// lost.
#[test]
fn etcd_members_killed_then_restarted_lose_nothing_acknowledged() {
    let Some(mut etcd) = EtcdCluster::start("seatnet failover: etcd members killed", 3) else {
        return;
    };
    let endpoints = etcd.endpoints().join(",");
    let specs = ["E1=100", "E2=100"];
    let names = ["E1", "E2"];
    let n1 = start_binary_node_over(&endpoints, "n1", &specs);
    let n2 = start_binary_node_over(&endpoints, "n2", &specs);
    let nodes = [n1.addr, n2.addr];
    let seeds = Seeds::new(nodes.to_vec());
    let granted = Granted::default();
    let mut booker = Booker::new("b", &seeds, &granted, seed());
    let mut top = HashMap::new();
    all_acknowledged(&mut booker, &names, &mut top, 15, "every member up");

    etcd.kill(0);
    all_acknowledged(
        &mut booker,
        &names,
        &mut top,
        15,
        "one member of three killed",
    );

    // Changes sent to each map's owner once etcd has no quorum, on
    // connections that selected the map while it was served: three at
    // once (the node may still count itself live, and apply them), then
    // one after its lease's deadline.
    let mut dark = Vec::new();
    let mut late = Vec::new();
    for map in names {
        let (_, mut conns) = selected(&nodes, map, 4);
        late.push(Dark {
            map,
            change: dark_grant(0, map, &mut top),
            id: format!("late-{map}"),
            conn: conns.pop().expect("four connections"),
            hung: false,
        });
        for (k, conn) in conns.into_iter().enumerate() {
            dark.push(Dark {
                map,
                change: dark_grant(k, map, &mut top),
                id: format!("dark-{map}-{k}"),
                conn,
                hung: false,
            });
        }
    }
    etcd.kill(1);
    let mut hangs = Vec::new();
    let mut answers = refused_in_the_dark(&mut dark, "two members of three killed", &mut hangs);
    thread::sleep(Duration::from_secs(4));
    answers.extend(refused_in_the_dark(
        &mut late,
        "two members of three killed, later",
        &mut hangs,
    ));
    assert!(
        answers
            .iter()
            .any(|a| a.starts_with("ERR no-owner: ")
                || (a.starts_with("ERR ") && a.contains("etcd"))),
        "no change was refused for want of etcd: {answers:?}"
    );

    etcd.restart(0);
    etcd.restart(1);
    assert!(etcd.wait_ready(PATIENCE), "members back:\n{}", etcd.logs());
    dark.extend(late);
    resolve(
        &mut booker,
        unresolved(dark, Duration::from_secs(20)),
        "after the members came back",
    );
    all_acknowledged(&mut booker, &names, &mut top, 15, "members back");
    let ledger = booker.finish();
    let mut router = Router::new(&seeds, 7);
    let mut failures = hangs;
    failures.extend(ledger.failures.iter().cloned());
    failures.extend(verify(&mut router, &ledger, &[("E1", 100), ("E2", 100)]));
    summary("etcd members killed", &ledger.tally, &failures);
    assert_no_failures("etcd members killed", &failures);
}

/// A node cut off from etcd (proxies in front of every member, cut)
/// stops acknowledging; the other node takes its map with every change
/// it acknowledged before the cut; once the cut heals, the old owner
/// sends clients to the new one.
///
/// The names are chosen so that every map ranks `taker` first
/// (`seatcluster::rank`): `cut`, started alone, takes every map, and may
/// hand back those beyond its share to `taker`; after the takeover
/// `taker` has no reason to hand any back, so what `cut` answers after
/// the heal is about a map that stays `taker`'s.
#[test]
fn a_node_cut_off_from_etcd_stops_acknowledging_and_its_map_moves_whole() {
    let names = ["P2", "P4"];
    for map in names.iter().chain(&["default"]) {
        assert_eq!(
            seatcluster::rank(map, &["cut", "taker"])[0],
            "taker",
            "{map}"
        );
    }
    let Some(etcd) = EtcdCluster::start("seatnet failover: partition", 3) else {
        return;
    };
    let proxies: Vec<Proxy> = etcd
        .endpoints()
        .iter()
        .map(|e| Proxy::start(e.parse().expect("a member address")).expect("a proxy"))
        .collect();
    let through: Vec<String> = proxies.iter().map(|p| p.addr().to_string()).collect();
    let specs = ["P2=100", "P4=100"];
    // Alone, `cut` takes every map; then `taker` joins.
    let cut = start_binary_node_over(&through.join(","), "cut", &specs);
    for map in names {
        eventually(&format!("cut serving {map}"), || {
            owner_at(cut.addr, map) == Some(cut.addr)
        });
    }
    let taker = start_binary_node_over(&etcd.endpoints().join(","), "taker", &specs);
    let (a1, a2) = (cut.addr, taker.addr);
    eventually("both nodes listed", || {
        Conn::open(a1, IO_TIMEOUT)
            .and_then(|mut c| c.ask("NODES"))
            .is_ok_and(|r| r.starts_with("OK nodes=2 "))
    });
    // A node over its share hands maps back: wait a little for that (not
    // asserted: the partition means the same either way).
    let settle = Instant::now() + Duration::from_secs(5);
    while Instant::now() < settle
        && !names
            .iter()
            .chain(&["default"])
            .any(|map| owner_at(a2, map) == Some(a2))
    {
        thread::sleep(PAUSE);
    }
    let seeds = Seeds::new(vec![a1, a2]);
    let granted = Granted::default();
    let mut booker = Booker::new("p", &seeds, &granted, seed());
    let mut top = HashMap::new();
    all_acknowledged(&mut booker, &names, &mut top, 30, "before the cut");

    // A map `cut` serves, and connections to `cut` with it selected.
    let mut chosen = None;
    eventually("a map cut serves, with connections to it", || {
        chosen = names.iter().find_map(|&map| {
            let conns: Result<Vec<Conn>, String> =
                (0..5).map(|_| Conn::using(a1, map, DARK_TIMEOUT)).collect();
            conns.ok().map(|conns| (map, conns))
        });
        chosen.is_some()
    });
    let (map, mut conns) = chosen.expect("chosen above");
    eprintln!("cutting cut ({a1}) off etcd; it serves {map}; taker is {a2}");
    let spare = conns.pop().expect("five connections");
    let mut late = vec![Dark {
        map,
        change: dark_grant(0, map, &mut top),
        id: "late-0".into(),
        conn: conns.pop().expect("five connections"),
        hung: false,
    }];
    let mut dark: Vec<Dark> = conns
        .into_iter()
        .enumerate()
        .map(|(k, conn)| Dark {
            map,
            change: dark_grant(k, map, &mut top),
            id: format!("cut-{k}"),
            conn,
            hung: false,
        })
        .collect();
    for proxy in &proxies {
        proxy.cut();
    }
    booker.forbidden = Some(a1);
    let mut hangs = Vec::new();
    refused_in_the_dark(&mut dark, "a node cut off from etcd", &mut hangs);
    thread::sleep(Duration::from_secs(4));
    refused_in_the_dark(&mut late, "a node cut off from etcd, later", &mut hangs);
    dark.extend(late);
    // `taker` takes the map (a read there is answered once it serves
    // it), with everything acknowledged before the cut.
    let mut at_taker = Router::new(&Seeds::new(vec![a2]), 11);
    match at_taker.ask(map, "AVAIL") {
        Answer::Reply { line, from, .. } => {
            assert!(line.starts_with("OK free="), "AVAIL at {from}: {line}");
            assert_eq!(from, a2, "AVAIL of {map} answered by {from}");
        }
        Answer::GaveUp(last) => panic!("{map} not served by taker: {last}"),
    }
    for b in booker.ledger.bookings.iter().filter(|b| b.map == map) {
        match at_taker.ask(map, &format!("SHOW {}", b.reference)) {
            Answer::Reply { line, from, .. } => {
                assert_eq!(from, a2, "SHOW answered by {from}");
                assert_eq!(
                    line,
                    expected_show(b),
                    "{b:?} at the new owner; in etcd: {}",
                    in_etcd(&etcd, map, &b.reference)
                );
            }
            Answer::GaveUp(last) => panic!("SHOW {} at the new owner: {last}", b.reference),
        }
    }
    // Changes go on there, never acknowledged by `cut`.
    all_acknowledged(&mut booker, &[map], &mut top, 10, "taker taking over");

    for proxy in &proxies {
        proxy.heal();
    }
    let mut unresolved = unresolved(dark, Duration::from_secs(20));
    // `cut` learns the new owner, and acknowledges nothing meanwhile.
    let moved = format!("ERR moved {a2}");
    let mut spare = Some(spare);
    let mut healed = 0;
    eventually("cut sending clients of the map to taker", || {
        let reply = match spare.as_mut() {
            Some(conn) => {
                healed += 1;
                let change = dark_grant(healed, map, &mut top);
                let id = format!("healed-{healed}");
                let request = grant_request(change, &id);
                unresolved.push((map, change, id, None));
                match conn.ask(&request) {
                    Ok(reply) => reply,
                    Err(_) => {
                        spare = None;
                        return false;
                    }
                }
            }
            None => {
                match Conn::open(a1, IO_TIMEOUT).and_then(|mut c| c.ask(&format!("USE {map}"))) {
                    Ok(reply) => reply,
                    Err(_) => return false,
                }
            }
        };
        assert!(
            reply == moved || reply.starts_with("ERR no-owner: "),
            "cut, the old owner, answered {reply}"
        );
        reply == moved
    });
    booker.forbidden = None;
    // The changes `cut` did not acknowledge, sent again with their ids to
    // whoever owns the map.
    resolve(&mut booker, unresolved, "after the heal");
    let ledger = booker.finish();
    let mut router = Router::new(&seeds, 13);
    let mut failures = hangs;
    failures.extend(ledger.failures.iter().cloned());
    failures.extend(verify(&mut router, &ledger, &[("P2", 100), ("P4", 100)]));
    summary("partition", &ledger.tally, &failures);
    assert_no_failures("partition", &failures);
    drop(proxies);
}

/// What etcd holds of `map` (for a failure message): its owner key, and
/// each log entry with its revision, marked where it holds `reference`.
fn in_etcd(etcd: &EtcdCluster, map: &str, reference: &str) -> String {
    use seatcluster::Range;
    let client = etcd.client();
    let wanted = u128::from_str_radix(reference, 16).unwrap_or_default();
    let holds = |value: &[u8]| {
        [wanted.to_le_bytes(), wanted.to_be_bytes()]
            .iter()
            .any(|r| value.windows(16).any(|w| w == r))
    };
    let mut out = Vec::new();
    for prefix in [
        format!("/seatnet/default/owner/{map}"),
        format!("/seatnet/default/log/{map}/"),
    ] {
        match client.range(&Range::prefix(prefix.clone())) {
            Ok(r) => {
                for kv in r.kvs {
                    out.push(format!(
                        "{} (create {}, mod {}, {} bytes{})",
                        String::from_utf8_lossy(&kv.key),
                        kv.create_revision,
                        kv.mod_revision,
                        kv.value.len(),
                        if holds(&kv.value) {
                            ", holds the reference"
                        } else {
                            ""
                        }
                    ));
                }
            }
            Err(e) => out.push(format!("{prefix}: {e}")),
        }
    }
    out.join("; ")
}

/// Seats as a reply lists them: ascending runs (`1-3,7`).
fn runs(seats: &[u64]) -> String {
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

/// A node keeps its changes in etcd, so a local data directory would be
/// a second truth: the combination is refused, clearly, before joining.
/// Needs no etcd.
#[test]
fn data_dir_with_etcd_is_refused() {
    let dir = std::env::temp_dir().join(format!("seatnet-failover-{}", std::process::id()));
    let out = Command::new(env!("CARGO_BIN_EXE_seatnet-server"))
        .args(["--host", "127.0.0.1", "--port", "0"])
        .args(["--etcd", "127.0.0.1:9", "--node", "a"])
        .args(["--advertise", "127.0.0.1:0", "--data-dir"])
        .arg(&dir)
        .output()
        .expect("run seatnet-server");
    let _ = std::fs::remove_dir_all(&dir);
    let err = stderr(&out);
    assert!(!out.status.success(), "started: {err}");
    assert!(
        err.contains("--data-dir") && err.contains("--etcd"),
        "the error names both flags: {err}"
    );
    assert!(
        !err.contains("etcd unavailable"),
        "refused before trying to join: {err}"
    );
}

//! The poller thread: one `mio` poll holding every connection
//! (nonblocking, edge-triggered), the listener, the deadlines, and the
//! hand-off of connections with a complete request to the workers.
//!
//! A connection is either *home* (in its slot, watched by the poll) or
//! *lent* to a worker (its slot empty; readiness events that come
//! meanwhile are remembered in the slot and acted on when it comes back).
//! The poller reads, because reading is cheap and tells it whether a
//! complete request is there; it never answers a request and never
//! blocks but in `poll`, whose timeout is the earliest deadline.
//!
//! A connection a worker hands back with replies that wait for the
//! journal ([`Done::held`]) stays lent, *parked* here by its ticket, until
//! the journal's acknowledged watermark passes the ticket (the journal's
//! writer wakes the poller whenever the watermark moves); then its replies
//! are written and it is home again. Every reply thus goes out only after
//! its change and every lower seq is durable, without a worker waiting.
//!
//! Deadlines, per connection ([`Timers`]): the framing grace (undecided
//! bytes become an original request), the request timeout (from the first
//! byte of a request still incomplete), the idle timeout (from the last
//! byte read or written), and the drain of a closing connection.

use std::collections::{BTreeMap, HashMap};
use std::io;
use std::net::IpAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use crossbeam_channel::{Receiver, Sender};
use mio::net::TcpListener;
use mio::{Events, Interest, Poll, Token};
use tracing::{info, warn};

use super::Shared;
use super::conn::{Conn, End, Got, READ_CHUNK};
use super::spare::Spare;
use super::timers::{Key, Timers};
use super::worker::{Done, Job, PollerWake};
use crate::durable::fail_stop;
use crate::inventory::Access;

/// The listener's token; connections use their slot index.
pub(crate) const LISTENER: Token = Token(usize::MAX);
/// The waker's token (workers handing connections back, shutdown).
pub(crate) const WAKER: Token = Token(usize::MAX - 1);
/// The admin listener's token (`--admin-listen`).
pub(crate) const ADMIN_LISTENER: Token = Token(usize::MAX - 2);

/// Reads the poller does on one connection per wake-up before serving the
/// others (fairness against a client that keeps its socket full).
const READ_BUDGET: usize = 4;

/// Connections turned away as busy that may linger at once (to deliver
/// `ERR busy` without a reset); beyond it they are closed at once.
const MAX_BUSY_LINGERING: usize = 1024;

/// A connection's place in the poller.
#[derive(Debug)]
pub(crate) struct Slot {
    pub(crate) generation: u64,
    /// `None` while lent to a worker.
    pub(crate) conn: Option<Box<Conn>>,
    /// The address it counts against (`None`: not counted, a busy one).
    pub(crate) addr: Option<IpAddr>,
    /// The deadline entry it has in the timers, if any.
    scheduled: Option<Instant>,
    /// Readiness that came while it was lent.
    readable: bool,
    writable: bool,
    read_closed: bool,
}

/// The poller's state.
pub(crate) struct Poller<'a> {
    pub(crate) shared: &'a Shared,
    pub(crate) poll: Poll,
    pub(crate) listener: Option<TcpListener>,
    /// The `--admin-listen` listener: its connections get
    /// [`Access::Operator`](crate::Access::Operator).
    pub(crate) admin: Option<TcpListener>,
    pub(crate) slots: slab::Slab<Slot>,
    pub(crate) per_addr: HashMap<IpAddr, usize>,
    pub(crate) max_conns: usize,
    pub(crate) busy_lingering: usize,
    pub(crate) spare: Spare,
    /// Accepting failed (out of descriptors): retry at this time.
    pub(crate) accept_retry: Option<Instant>,
    pub(crate) next_generation: u64,
    timers: Timers,
    jobs: Sender<Job>,
    done: Receiver<Done>,
    wake: Arc<PollerWake>,
    buf: Box<[u8]>,
    /// Connections that used their read budget with more to read.
    again: Vec<Key>,
    /// Connections whose replies wait for the journal, by (ticket seq,
    /// token): released in seq order as the watermark passes them. At most
    /// one entry per open connection.
    parked: BTreeMap<(u64, usize), Done>,
}

impl<'a> Poller<'a> {
    pub(crate) fn new(
        shared: &'a Shared,
        poll: Poll,
        (listener, admin): (TcpListener, Option<TcpListener>),
        max_conns: usize,
        jobs: Sender<Job>,
        done: Receiver<Done>,
        wake: Arc<PollerWake>,
    ) -> Self {
        Poller {
            shared,
            poll,
            listener: Some(listener),
            admin,
            slots: slab::Slab::new(),
            per_addr: HashMap::new(),
            max_conns,
            busy_lingering: 0,
            spare: Spare::open(),
            accept_retry: None,
            next_generation: 0,
            timers: Timers::default(),
            jobs,
            done,
            wake,
            buf: vec![0; READ_CHUNK].into_boxed_slice(),
            again: Vec::new(),
            parked: BTreeMap::new(),
        }
    }

    /// Serves until shutdown and every connection is closed.
    pub(crate) fn run(mut self) -> io::Result<()> {
        if let Some(listener) = &mut self.listener {
            self.poll
                .registry()
                .register(listener, LISTENER, Interest::READABLE)?;
        }
        if let Some(admin) = &mut self.admin {
            self.poll
                .registry()
                .register(admin, ADMIN_LISTENER, Interest::READABLE)?;
        }
        let mut events = Events::with_capacity(1024);
        let mut stopping = false;
        let mut accept_ready = true;
        let mut admin_ready = self.admin.is_some();
        loop {
            let mut timeout = self.timeout();
            if !self
                .wake
                .sleep_if(|| self.done.is_empty() && !self.releasable())
            {
                timeout = Some(Duration::ZERO);
            }
            let polled = self.poll.poll(&mut events, timeout);
            self.wake.awake();
            match polled {
                Ok(()) => {}
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
            let now = Instant::now();
            for event in &events {
                match event.token() {
                    LISTENER => accept_ready = true,
                    ADMIN_LISTENER => admin_ready = true,
                    WAKER => {}
                    Token(token) => {
                        let closed = event.is_read_closed() || event.is_error();
                        if closed {
                            self.mark_read_closed(token);
                        }
                        let readable = event.is_readable() || closed;
                        self.on_ready(token, readable, event.is_writable(), now);
                    }
                }
            }
            self.take_back(now);
            self.release(now);
            for key in std::mem::take(&mut self.again) {
                if self.slots.get(key.0).is_some_and(|s| s.generation == key.1) {
                    self.on_ready(key.0, true, false, now);
                }
            }
            if !stopping && self.shared.stop.is_stopping() {
                stopping = true;
                self.begin_stop(now);
            }
            if !stopping
                && (accept_ready || admin_ready)
                && self.accept_retry.is_none_or(|at| at <= now)
            {
                self.accept_retry = None;
                if accept_ready {
                    accept_ready = !self.accept_all(Access::Public, now);
                }
                if admin_ready {
                    admin_ready = !self.accept_all(Access::Operator, now);
                }
            }
            self.fire_timers(now);
            if stopping && self.slots.is_empty() {
                return Ok(());
            }
        }
    }

    /// How long the poll may sleep: until the earliest deadline (or an
    /// accept retry); forever if there is none; not at all if a connection
    /// has more to read.
    fn timeout(&self) -> Option<Duration> {
        if !self.again.is_empty() {
            return Some(Duration::ZERO);
        }
        let next = match (self.timers.next(), self.accept_retry) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        next.map(|at| at.saturating_duration_since(Instant::now()))
    }

    /// Stops accepting and closes every home connection, except one with a
    /// request partly received: that request may still complete (within
    /// its request timeout) and be answered, and the connection closes
    /// after the answer. Every close sends the replies left first.
    fn begin_stop(&mut self, now: Instant) {
        info!("shutting down");
        self.listener = None;
        self.admin = None;
        let keys: Vec<usize> = self.slots.iter().map(|(k, _)| k).collect();
        for token in keys {
            if let Some(conn) = self.slots[token].conn.as_mut() {
                if conn.closing.is_none() && !conn.framer.is_empty() {
                    continue;
                }
                if conn.closing.is_none() {
                    conn.closing = Some(End::Shutdown);
                }
                self.progress(token, now);
            }
        }
    }

    /// The peer closed its side of connection `token` (remembered while
    /// it is lent, too).
    fn mark_read_closed(&mut self, token: usize) {
        if let Some(slot) = self.slots.get_mut(token) {
            match slot.conn.as_mut() {
                Some(conn) => conn.read_closed = true,
                None => slot.read_closed = true,
            }
        }
    }

    /// Readiness of connection `token` (or a turn from `again`).
    fn on_ready(&mut self, token: usize, readable: bool, writable: bool, now: Instant) {
        let Some(slot) = self.slots.get_mut(token) else {
            return;
        };
        let Some(conn) = slot.conn.as_mut() else {
            slot.readable |= readable;
            slot.writable |= writable;
            return;
        };
        if writable && !conn.out.is_empty() {
            if let Err(e) = conn.flush(now) {
                self.end(token, End::Error(e), now);
                return;
            }
        }
        if conn.closing.is_some() {
            self.progress(token, now);
            return;
        }
        if readable {
            conn.more = true;
        }
        self.read(token, now);
    }

    /// Reads what connection `token` has (within the budget), then lends it
    /// to a worker if it has a complete request, or schedules its deadline.
    fn read(&mut self, token: usize, now: Instant) {
        let slot = &mut self.slots[token];
        let generation = slot.generation;
        let Some(conn) = slot.conn.as_mut() else {
            return;
        };
        if !conn.out.is_empty() {
            // Backpressure: replies wait for the socket, so nothing more is
            // read or answered until they are sent (a client that never
            // reads costs its socket buffers, then nothing, until its idle
            // timeout). The writable event brings it back here.
            self.schedule(token);
            return;
        }
        let mut reads = 0;
        while conn.more && !is_ready(conn, now) {
            if reads == READ_BUDGET {
                self.again.push((token, generation));
                break;
            }
            reads += 1;
            match conn.read_once(&mut self.buf, now) {
                Ok(Got::Bytes | Got::Nothing | Got::Eof) => {}
                Err(e) => {
                    self.end(token, End::Error(e), now);
                    return;
                }
            }
        }
        if is_ready(conn, now) {
            self.lend(token);
        } else {
            self.schedule(token);
        }
    }

    /// Hands connection `token` to a worker.
    fn lend(&mut self, token: usize) {
        let slot = &mut self.slots[token];
        let Some(conn) = slot.conn.take() else {
            return;
        };
        // `scheduled` stays: its entry is still in the heap, and is checked
        // against the connection when it comes due.
        slot.readable = false;
        slot.writable = false;
        let key = (token, slot.generation);
        // The receivers live as long as the workers, which outlive the
        // poller's use of the channel; a send error cannot happen.
        if let Err(e) = self.jobs.send(Job { key, conn }) {
            let Job { conn, .. } = e.into_inner();
            self.slots[token].conn = Some(conn);
            self.end(token, End::Shutdown, Instant::now());
        }
    }

    /// Takes back every connection the workers are done with, parking
    /// those whose replies wait for the journal.
    fn take_back(&mut self, now: Instant) {
        while let Ok(done) = self.done.try_recv() {
            match done.held {
                Some(ticket) => {
                    self.parked.insert((ticket.seq, done.key.0), done);
                }
                None => self.home(done, false, now),
            }
        }
    }

    /// Whether a parked connection can be released (or the journal failed).
    fn releasable(&self) -> bool {
        self.parked.first_key_value().is_some_and(|(&(seq, _), _)| {
            self.shared
                .catalog
                .default_map()
                .acknowledged()
                .map_or(true, |acked| acked >= seq)
        })
    }

    /// Brings home every parked connection whose ticket the journal's
    /// watermark has reached, writing its replies. Fail-stop if the
    /// journal failed: those replies must never be sent.
    fn release(&mut self, now: Instant) {
        if self.parked.is_empty() {
            return;
        }
        let acked = match self.shared.catalog.default_map().acknowledged() {
            Ok(acked) => acked,
            Err(fatal) => fail_stop(&fatal),
        };
        while let Some(entry) = self.parked.first_entry() {
            if entry.key().0 > acked {
                break;
            }
            let mut done = entry.remove();
            let lost = done.held.is_some_and(|held| {
                self.shared
                    .catalog
                    .default_map()
                    .lost_between(done.held_from, held.seq)
            });
            if lost {
                // Cluster mode: a change among these replies never
                // committed (its map left this node). None of them may
                // be sent: the connection ends without them, and the
                // client retries with its request ids elsewhere.
                done.verdict = Err(End::Error(io::Error::other(
                    "a change was not committed to etcd",
                )));
            }
            self.home(done, !lost, now);
        }
    }

    /// Puts a connection back in its slot and acts on its verdict and on
    /// the readiness that came meanwhile; `write` tries its replies at
    /// once (released from the journal: no writable event will come for
    /// them).
    fn home(&mut self, done: Done, write: bool, now: Instant) {
        let Done {
            key, conn, verdict, ..
        } = done;
        let (token, _) = key;
        let slot = &mut self.slots[token];
        let mut conn = conn;
        conn.read_closed |= std::mem::take(&mut slot.read_closed);
        slot.conn = Some(conn);
        let (readable, writable) = (slot.readable, slot.writable || write);
        match verdict {
            Err(end) => self.end(token, end, now),
            Ok(()) if self.listener.is_none() => self.end(token, End::Shutdown, now),
            Ok(()) => self.on_ready(token, readable, writable, now),
        }
    }

    /// Ends connection `token`: orderly (replies sent, `shutdown(Write)`,
    /// input drained) or at once.
    pub(crate) fn end(&mut self, token: usize, end: End, now: Instant) {
        let Some(conn) = self.slots[token].conn.as_mut() else {
            return;
        };
        if !end.is_orderly() {
            conn.closing = Some(end);
            self.remove(token);
            return;
        }
        if conn.closing.is_none() {
            conn.closing = Some(end);
        }
        self.progress(token, now);
    }

    /// Moves a closing connection on: removed once done, else scheduled.
    fn progress(&mut self, token: usize, now: Instant) {
        let Some(conn) = self.slots[token].conn.as_mut() else {
            return;
        };
        if conn.progress_close(&mut self.buf, now) {
            self.remove(token);
        } else {
            self.schedule(token);
        }
    }

    /// Drops connection `token` (closing its socket, which also removes it
    /// from the poll), logs why, and frees its place in the counts.
    fn remove(&mut self, token: usize) {
        let slot = self.slots.remove(token);
        let Some(conn) = slot.conn else {
            return;
        };
        let peer = conn.peer;
        match (&conn.closing, slot.addr) {
            (Some(End::Busy), None) => {
                self.busy_lingering -= 1;
                return;
            }
            (Some(End::Idle), _) => {
                info!(%peer, "closed after {:?} idle", self.shared.config.idle_timeout)
            }
            (Some(End::Error(e)), _) => info!(%peer, error = %e, "connection error"),
            (end, _) => info!(%peer, ?end, "disconnected"),
        }
        if let Some(ip) = slot.addr {
            if let Some(n) = self.per_addr.get_mut(&ip) {
                *n -= 1;
                if *n == 0 {
                    self.per_addr.remove(&ip);
                }
            }
        }
        drop(conn);
        self.shared.counters.close();
    }

    /// Puts connection `token`'s next deadline in the timers if it is
    /// earlier than the one it has there.
    pub(crate) fn schedule(&mut self, token: usize) {
        let config = &self.shared.config;
        let slot = &mut self.slots[token];
        let Some(conn) = slot.conn.as_ref() else {
            return;
        };
        let at = deadline(conn, config.idle_timeout, config.request_timeout);
        if slot.scheduled.is_none_or(|s| at < s) {
            slot.scheduled = Some(at);
            self.timers.push(at, (token, slot.generation));
        }
    }

    /// Acts on every deadline due at `now`.
    fn fire_timers(&mut self, now: Instant) {
        let config = &self.shared.config;
        let (idle, request) = (config.idle_timeout, config.request_timeout);
        while let Some((at, (token, generation))) = self.timers.pop_due(now) {
            let Some(slot) = self.slots.get_mut(token) else {
                continue;
            };
            if slot.generation != generation {
                continue;
            }
            if slot.scheduled == Some(at) {
                slot.scheduled = None;
            }
            let Some(conn) = slot.conn.as_mut() else {
                continue;
            };
            if conn.closing.is_some() {
                let lingered = conn.linger_until.is_some_and(|t| t <= now);
                let stuck = conn.last_active + idle <= now;
                if lingered || stuck {
                    self.remove(token);
                } else {
                    self.schedule(token);
                }
            } else if is_ready(conn, now) {
                // First: a request that became complete (an original one
                // whose grace has just passed) is answered, not timed out.
                self.lend(token);
            } else if conn
                .framer
                .partial_since()
                .is_some_and(|t| t + request <= now)
            {
                warn!(peer = %conn.peer, "request not complete within {request:?}: closing");
                self.end(token, End::RequestTimeout, now);
            } else if conn.last_active + idle <= now {
                // Unsent replies not taken for the idle timeout: no orderly
                // close can deliver them.
                let end = End::Idle;
                if conn.out.is_empty() {
                    self.end(token, end, now);
                } else {
                    conn.closing = Some(end);
                    self.remove(token);
                }
            } else {
                self.schedule(token);
            }
        }
    }

    /// Registers `conn` in a new slot; `addr`: the address it counts
    /// against (`None` for a busy one).
    pub(crate) fn insert(&mut self, mut conn: Conn, addr: Option<IpAddr>) -> io::Result<usize> {
        let token = self.slots.vacant_key();
        self.poll.registry().register(
            &mut conn.stream,
            Token(token),
            Interest::READABLE | Interest::WRITABLE,
        )?;
        self.next_generation += 1;
        self.slots.insert(Slot {
            generation: self.next_generation,
            conn: Some(Box::new(conn)),
            addr,
            scheduled: None,
            readable: false,
            writable: false,
            read_closed: false,
        });
        Ok(token)
    }

    /// Whether one more busy connection may linger.
    pub(crate) fn busy_may_linger(&self) -> bool {
        self.busy_lingering < MAX_BUSY_LINGERING
    }
}

/// Whether `conn` needs a worker now: a complete request (or a request
/// over the limit, or an end of stream) is there, and no reply waits for
/// the socket (backpressure).
fn is_ready(conn: &Conn, now: Instant) -> bool {
    conn.out.is_empty() && (conn.eof || conn.framer.ready_at().is_some_and(|at| at <= now))
}

/// `conn`'s next deadline.
fn deadline(conn: &Conn, idle: Duration, request: Duration) -> Instant {
    let mut at = conn.last_active + idle;
    if let Some(linger) = conn.linger_until {
        at = at.min(linger);
    }
    if conn.closing.is_some() {
        return at;
    }
    if let Some(since) = conn.framer.partial_since() {
        at = at.min(since + request);
    }
    if let Some(ready) = conn.framer.ready_at() {
        at = at.min(ready);
    }
    at
}

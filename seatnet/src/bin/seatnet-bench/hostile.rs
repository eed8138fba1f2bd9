//! Hostile connections held open while the honest workload is measured:
//! `--idle` (connect, send nothing), `--trickle` (one byte a second of a
//! line that never ends), `--no-read` (pipeline requests, never read a
//! reply).
//!
//! They are only held, never measured: one thread of their own multiplexes
//! them all on one `mio::Poll` with nonblocking connects, so ten thousand of
//! them cost the tool one thread and no timer per connection. A connection
//! the server closes (idle timeout, request timeout, `ERR busy`, a reset) is
//! counted and opened again after a short back-off, so the pressure lasts
//! the whole run.

use std::io::{self, Read, Write};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::{Arc, mpsc};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use mio::net::TcpStream;
use mio::{Events, Interest, Poll, Token, Waker};

/// How many hostile connections of each kind to hold.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct HostilePlan {
    pub(crate) idle: u32,
    pub(crate) trickle: u32,
    pub(crate) no_read: u32,
}

impl HostilePlan {
    pub(crate) fn total(&self) -> u64 {
        u64::from(self.idle) + u64::from(self.trickle) + u64::from(self.no_read)
    }

    pub(crate) fn any(&self) -> bool {
        self.total() > 0
    }
}

/// The kinds, in report order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    Idle,
    Trickle,
    NoRead,
}

impl Kind {
    pub(crate) const ALL: [Kind; 3] = [Kind::Idle, Kind::Trickle, Kind::NoRead];

    /// The flag's name, used in the text and JSON reports.
    pub(crate) fn name(self) -> &'static str {
        match self {
            Kind::Idle => "idle",
            Kind::Trickle => "trickle",
            Kind::NoRead => "no_read",
        }
    }

    fn index(self) -> usize {
        self as usize
    }
}

/// What happened to one kind of hostile connection over a run.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct KindReport {
    /// Connections asked for.
    pub(crate) planned: u32,
    /// Open when the honest run ended.
    pub(crate) held_at_end: u64,
    /// Fewest open at once between the start of the honest run and its end
    /// (sampled every tick).
    pub(crate) held_min: u64,
    /// Connections the server closed or reset.
    pub(crate) closed_by_server: u64,
    /// Of those, opened again.
    pub(crate) reopened: u64,
    /// Connects that failed (refused, timed out, out of descriptors).
    pub(crate) connect_failures: u64,
}

/// The three kinds' reports, in [`Kind::ALL`] order.
pub(crate) type HostileReport = [KindReport; 3];

/// How often trickles are sent, closed connections reopened and the
/// lowest count sampled.
const TICK: Duration = Duration::from_millis(100);
/// One byte of the trickle every this long.
const TRICKLE_EVERY: Duration = Duration::from_secs(1);
/// First wait before reopening a closed connection; doubled for each close
/// that came soon after its open, so a server that turns everything away
/// is not flooded with connects.
const REOPEN_FIRST: Duration = Duration::from_millis(100);
const REOPEN_MAX: Duration = Duration::from_secs(5);
/// A connection that lived this long resets its back-off.
const LIVED: Duration = Duration::from_secs(1);
/// Most bytes a never-reading connection writes per wake-up, so one
/// connection whose server keeps reading cannot starve the others.
const NO_READ_BURST: usize = 256 * 1024;
/// The never-reading connection's request: an original request for seat 0,
/// newline-terminated. Every server answers it and no seat is taken.
const NO_READ_REQUEST: &[u8] = b"0\n";
/// How long the initial connects may take before the honest run starts
/// anyway (the failures are counted).
const CONNECT_WAIT: Duration = Duration::from_secs(10);

const WAKE: Token = Token(usize::MAX);

/// What the holder thread is asked to do; changed by [`Holder`], read by
/// the thread when its `Waker` fires.
const HOLDING: u8 = 0;
const MEASURING: u8 = 1;
const STOPPING: u8 = 2;

/// A running holder; [`Holder::stop`] closes everything and reports.
pub(crate) struct Holder {
    waker: Arc<Waker>,
    phase: Arc<AtomicU8>,
    thread: JoinHandle<io::Result<HostileReport>>,
}

impl Holder {
    /// Opens the connections of `plan` to `addr` on a thread of its own and
    /// returns once every first connect has succeeded or failed (or
    /// [`CONNECT_WAIT`] has passed).
    pub(crate) fn start(addr: SocketAddr, plan: HostilePlan) -> Result<Holder, String> {
        if !addr.ip().is_loopback() {
            return Err(format!("refusing to load {addr}: not a loopback address"));
        }
        let poll = Poll::new().map_err(|e| format!("hostile connections: {e}"))?;
        let waker = Arc::new(
            Waker::new(poll.registry(), WAKE).map_err(|e| format!("hostile connections: {e}"))?,
        );
        let phase = Arc::new(AtomicU8::new(HOLDING));
        let (ready_tx, ready_rx) = mpsc::channel();
        let thread_phase = Arc::clone(&phase);
        let thread = thread::Builder::new()
            .name("bench-hostile".into())
            .spawn(move || hold(poll, addr, plan, &ready_tx, &thread_phase))
            .map_err(|e| format!("hostile connections: {e}"))?;
        // The thread says when its first connects are resolved; if it died
        // instead, `stop` reports why.
        let _ = ready_rx.recv_timeout(CONNECT_WAIT + Duration::from_secs(1));
        Ok(Holder {
            waker,
            phase,
            thread,
        })
    }

    /// Marks the start of the measured part: the lowest count is sampled
    /// from here on.
    pub(crate) fn measuring(&self) {
        self.set(MEASURING);
    }

    fn set(&self, phase: u8) {
        // Relaxed: the phase is the whole message (no other data is
        // published with it). The thread reads it on every pass of its
        // loop, which the wake-up starts and a tick repeats at least every
        // 0.1 s, so a stale read only delays it by one pass.
        self.phase.store(phase, Ordering::Relaxed);
        let _ = self.waker.wake();
    }

    /// Closes every hostile connection and returns what happened.
    pub(crate) fn stop(self) -> Result<HostileReport, String> {
        self.set(STOPPING);
        match self.thread.join() {
            Ok(Ok(report)) => Ok(report),
            Ok(Err(e)) => Err(format!("hostile connections failed: {e}")),
            Err(_) => Err("hostile connections: the thread panicked".into()),
        }
    }
}

/// One hostile connection.
struct Conn {
    kind: Kind,
    stream: Option<TcpStream>,
    /// Connect issued, not yet known to have succeeded.
    connecting: bool,
    /// When the current stream was opened (for the back-off).
    opened_at: Instant,
    /// Closed by the server: open again at this time.
    reopen_at: Option<Instant>,
    /// Consecutive short-lived connections.
    backoff: u32,
    /// The stream is a reopening (counted as such once connected).
    is_reopen: bool,
    /// Trickle: when the next byte is due, and bytes sent so far.
    next_byte: Instant,
    trickled: u64,
    /// Never-reading: position in the request pattern.
    offset: usize,
}

/// The holder thread's state.
struct State {
    addr: SocketAddr,
    conns: Vec<Conn>,
    report: HostileReport,
    /// The lowest counts are sampled only once the measured run started.
    sampling: bool,
    /// A first sample was taken (`held_min` holds a count).
    sampled: bool,
    pattern: Vec<u8>,
    scratch: Vec<u8>,
}

fn hold(
    mut poll: Poll,
    addr: SocketAddr,
    plan: HostilePlan,
    ready: &mpsc::Sender<()>,
    phase: &AtomicU8,
) -> io::Result<HostileReport> {
    let now = Instant::now();
    let mut state = State {
        addr,
        conns: Vec::new(),
        report: HostileReport::default(),
        sampling: false,
        sampled: false,
        pattern: NO_READ_REQUEST.repeat(4096 / NO_READ_REQUEST.len()),
        scratch: vec![0; 16 * 1024],
    };
    for (kind, count) in [
        (Kind::Idle, plan.idle),
        (Kind::Trickle, plan.trickle),
        (Kind::NoRead, plan.no_read),
    ] {
        state.report[kind.index()].planned = count;
        for _ in 0..count {
            state.conns.push(Conn {
                kind,
                stream: None,
                connecting: false,
                opened_at: now,
                reopen_at: None,
                backoff: 0,
                is_reopen: false,
                next_byte: now,
                trickled: 0,
                offset: 0,
            });
        }
    }
    for i in 0..state.conns.len() {
        state.open(&poll, i, now);
    }
    let mut events = Events::with_capacity(1024);
    let mut next_tick = now + TICK;
    let connect_deadline = now + CONNECT_WAIT;
    let mut announced = false;
    loop {
        // Relaxed: see `Holder::set`.
        match phase.load(Ordering::Relaxed) {
            STOPPING => return Ok(state.finish()),
            MEASURING if !state.sampling => {
                state.sampling = true;
                state.sample();
            }
            _ => {}
        }
        let now = Instant::now();
        if !announced && (now >= connect_deadline || !state.conns.iter().any(|c| c.connecting)) {
            announced = true;
            let _ = ready.send(());
        }
        if now >= next_tick {
            next_tick = now + TICK;
            state.tick(&poll, now);
        }
        match poll.poll(&mut events, Some(next_tick.saturating_duration_since(now))) {
            Ok(()) => {}
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        }
        let now = Instant::now();
        for event in &events {
            // The waker only interrupts `poll`: the phase is read above.
            if event.token() != WAKE {
                state.on_event(event, now);
            }
        }
    }
}

impl State {
    /// Issues a nonblocking connect for connection `i`.
    fn open(&mut self, poll: &Poll, i: usize, now: Instant) {
        let conn = &mut self.conns[i];
        conn.reopen_at = None;
        conn.opened_at = now;
        let stream = TcpStream::connect(self.addr).and_then(|mut stream| {
            poll.registry().register(
                &mut stream,
                Token(i),
                Interest::READABLE | Interest::WRITABLE,
            )?;
            Ok(stream)
        });
        match stream {
            Ok(stream) => {
                conn.stream = Some(stream);
                conn.connecting = true;
            }
            Err(_) => {
                self.report[conn.kind.index()].connect_failures += 1;
                schedule_reopen(conn, now);
            }
        }
    }

    fn on_event(&mut self, event: &mio::event::Event, now: Instant) {
        let i = event.token().0;
        let Some(conn) = self.conns.get_mut(i) else {
            return;
        };
        let Some(stream) = conn.stream.as_mut() else {
            return;
        };
        let report = &mut self.report[conn.kind.index()];
        if conn.connecting {
            // A nonblocking connect has finished when the socket turns
            // writable (or errs): its error, or a peer address, says how.
            match (stream.take_error(), stream.peer_addr()) {
                (Ok(None), Ok(_)) => {
                    conn.connecting = false;
                    if conn.is_reopen {
                        report.reopened += 1;
                    }
                    conn.next_byte = now;
                }
                (Ok(None), Err(e)) if e.kind() == io::ErrorKind::NotConnected => {
                    if event.is_error() || event.is_write_closed() {
                        report.connect_failures += 1;
                        conn.stream = None;
                        conn.connecting = false;
                        schedule_reopen(conn, now);
                    }
                    return;
                }
                _ => {
                    report.connect_failures += 1;
                    conn.stream = None;
                    conn.connecting = false;
                    schedule_reopen(conn, now);
                    return;
                }
            }
        }
        let alive = match conn.kind {
            Kind::Idle | Kind::Trickle => drain(stream, &mut self.scratch),
            // Never read: only notice the server going away.
            Kind::NoRead => {
                !(event.is_error() || event.is_read_closed() || event.is_write_closed())
                    && pump(stream, &self.pattern, &mut conn.offset)
            }
        };
        let alive = alive && (conn.kind != Kind::Trickle || trickle(conn, now));
        if !alive {
            self.closed_by_server(i, now);
        }
    }

    /// Every tick: trickles due, never-readers topped up, reopenings due,
    /// and the lowest count sampled.
    fn tick(&mut self, poll: &Poll, now: Instant) {
        for i in 0..self.conns.len() {
            let conn = &mut self.conns[i];
            if conn.stream.is_none() {
                if conn.reopen_at.is_some_and(|at| at <= now) {
                    conn.is_reopen = true;
                    self.open(poll, i, now);
                }
                continue;
            }
            if conn.connecting {
                continue;
            }
            let alive = match conn.kind {
                Kind::Idle => true,
                Kind::Trickle => trickle(conn, now),
                Kind::NoRead => {
                    let stream = conn.stream.as_mut().expect("checked above");
                    pump(stream, &self.pattern, &mut conn.offset)
                }
            };
            if !alive {
                self.closed_by_server(i, now);
            }
        }
        if self.sampling {
            self.sample();
        }
    }

    fn closed_by_server(&mut self, i: usize, now: Instant) {
        let conn = &mut self.conns[i];
        if conn.stream.take().is_some() {
            self.report[conn.kind.index()].closed_by_server += 1;
            schedule_reopen(conn, now);
        }
    }

    /// Connections open (connected) per kind.
    fn held(&self) -> [u64; 3] {
        let mut held = [0u64; 3];
        for conn in &self.conns {
            if conn.stream.is_some() && !conn.connecting {
                held[conn.kind.index()] += 1;
            }
        }
        held
    }

    /// Lowers each kind's lowest count to what is held now.
    fn sample(&mut self) {
        let held = self.held();
        for kind in Kind::ALL {
            let r = &mut self.report[kind.index()];
            let now = held[kind.index()];
            r.held_min = if self.sampled {
                r.held_min.min(now)
            } else {
                now
            };
        }
        self.sampled = true;
    }

    fn finish(mut self) -> HostileReport {
        let held = self.held();
        for kind in Kind::ALL {
            let r = &mut self.report[kind.index()];
            r.held_at_end = held[kind.index()];
            if !self.sampled {
                r.held_min = r.held_at_end;
            }
        }
        self.report
    }
}

/// Waits before opening a closed connection again.
fn schedule_reopen(conn: &mut Conn, now: Instant) {
    if now.duration_since(conn.opened_at) >= LIVED {
        conn.backoff = 0;
    }
    let delay = REOPEN_FIRST
        .saturating_mul(1 << conn.backoff.min(6))
        .min(REOPEN_MAX);
    conn.backoff = conn.backoff.saturating_add(1);
    conn.reopen_at = Some(now + delay);
}

/// Reads and discards whatever arrived; `false` once the server closed.
fn drain(stream: &mut TcpStream, scratch: &mut [u8]) -> bool {
    loop {
        match stream.read(scratch) {
            Ok(0) => return false,
            Ok(_) => {}
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => return true,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(_) => return false,
        }
    }
}

/// Sends the trickle's next byte if it is due: `5`, `,`, `5`, `,`, ...,
/// never a newline. `false` once the server closed.
fn trickle(conn: &mut Conn, now: Instant) -> bool {
    if now < conn.next_byte {
        return true;
    }
    let Some(stream) = conn.stream.as_mut() else {
        return true;
    };
    let byte = if conn.trickled % 2 == 0 { b"5" } else { b"," };
    match stream.write(byte) {
        Ok(1) => {
            conn.trickled += 1;
            conn.next_byte = now + TRICKLE_EVERY;
            true
        }
        Ok(_) => false,
        Err(e) if e.kind() == io::ErrorKind::WouldBlock => true,
        Err(e) if e.kind() == io::ErrorKind::Interrupted => true,
        Err(_) => false,
    }
}

/// Writes requests until the socket takes no more (or one burst is sent);
/// `false` once the server closed.
fn pump(stream: &mut TcpStream, pattern: &[u8], offset: &mut usize) -> bool {
    let mut sent = 0;
    while sent < NO_READ_BURST {
        match stream.write(&pattern[*offset..]) {
            Ok(0) => return false,
            Ok(n) => {
                sent += n;
                *offset = (*offset + n) % pattern.len();
            }
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => return true,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(_) => return false,
        }
    }
    true
}

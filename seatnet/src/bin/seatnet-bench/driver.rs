//! One driver thread: many connections multiplexed on one `mio::Poll`.
//!
//! Why not a thread per connection: the load tool shares the machine's two
//! cores with the server it measures. 64 client threads would each wake up
//! per reply, and their context switches and scheduler work would be
//! charged to the server's figures. One (or two) threads that each wait in
//! one `epoll_wait` for all their connections cost one wake-up per batch of
//! ready replies instead, leaving the cores to the server.

use std::collections::VecDeque;
use std::io::{self, Read, Write};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use mio::net::TcpStream;
use mio::{Events, Interest, Poll, Token};

use crate::cli::{Framing, Load};
use crate::framing::{Next, next_reply};
use crate::holds::Session;
use crate::stats::Stats;
use crate::workload::Workload;

/// When a driver measures, stops sending, and gives up.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Schedule {
    /// Requests sent from here on are measured.
    pub(crate) measure_from: Instant,
    /// No request is sent from here on.
    pub(crate) send_until: Instant,
    /// Requests still unanswered here count as timed out.
    pub(crate) hard_stop: Instant,
}

/// Bytes read per `read` call.
const READ_CHUNK: usize = 64 * 1024;
/// How often idle connections are checked against the reply timeout.
const TICK: Duration = Duration::from_millis(100);

/// One connection's buffers and requests in flight.
struct Conn {
    stream: Option<TcpStream>,
    input: Vec<u8>,
    output: Vec<u8>,
    written: usize,
    /// Send time of each request awaiting its reply, oldest first.
    in_flight: VecDeque<Instant>,
    /// RESP only: the seats of those requests, `seats_per_request` each.
    asked: VecDeque<u64>,
    /// `--workload holds` only: where this connection is in its step.
    session: Session,
    /// Last time this connection sent or received; the reply timeout
    /// counts from here.
    last_activity: Instant,
}

/// The driver's state apart from the connections.
struct Driver<'a> {
    load: &'a Load,
    schedule: Schedule,
    workload: Workload,
    /// Measured requests this driver may still send (`None`: unbounded).
    quota: Option<u64>,
    stats: Stats,
    outstanding: usize,
    open: usize,
    published: u64,
    progress: &'a AtomicU64,
}

/// Drives `streams` until the schedule or the quota ends; returns what it
/// measured.
pub(crate) fn drive(
    streams: Vec<std::net::TcpStream>,
    load: &Load,
    schedule: Schedule,
    quota: Option<u64>,
    seed: u64,
    progress: &AtomicU64,
) -> io::Result<Stats> {
    let mut poll = Poll::new()?;
    let start = Instant::now();
    let mut conns = Vec::with_capacity(streams.len());
    for (i, stream) in streams.into_iter().enumerate() {
        stream.set_nonblocking(true)?;
        let mut stream = TcpStream::from_std(stream);
        // Edge-triggered: readable when replies arrive, writable when a
        // full send buffer drains (rare: requests are tiny).
        poll.registry().register(
            &mut stream,
            Token(i),
            Interest::READABLE | Interest::WRITABLE,
        )?;
        conns.push(Conn {
            stream: Some(stream),
            input: Vec::with_capacity(1024),
            output: Vec::with_capacity(1024),
            written: 0,
            in_flight: VecDeque::new(),
            asked: VecDeque::new(),
            session: Session::default(),
            last_activity: start,
        });
    }
    let mut driver = Driver {
        load,
        schedule,
        workload: Workload::new(
            seed,
            load.seats,
            load.seats_per_request,
            load.framing,
            &load.redis_key,
        ),
        quota,
        stats: Stats::new(load.seats),
        outstanding: 0,
        open: conns.len(),
        published: 0,
        progress,
    };
    driver.run(&mut poll, &mut conns)?;
    Ok(driver.stats)
}

impl Driver<'_> {
    fn run(&mut self, poll: &mut Poll, conns: &mut [Conn]) -> io::Result<()> {
        let mut events = Events::with_capacity(conns.len().clamp(16, 1024));
        let mut scratch = vec![0u8; READ_CHUNK];
        let now = Instant::now();
        for conn in conns.iter_mut() {
            self.fill(conn, now);
            self.flush(conn);
        }
        let mut next_tick = now + TICK;
        loop {
            let now = Instant::now();
            self.publish();
            if self.open == 0 || (self.outstanding == 0 && !self.may_send(now)) {
                return Ok(());
            }
            if now >= self.schedule.hard_stop {
                for conn in conns.iter_mut().filter(|c| !c.in_flight.is_empty()) {
                    self.stats.errors.timeouts += 1;
                    self.close(conn);
                }
                return Ok(());
            }
            if now >= next_tick {
                next_tick = now + TICK;
                self.expire(conns, now);
            }
            let mut wake = next_tick.min(self.schedule.hard_stop);
            if now < self.schedule.send_until {
                wake = wake.min(self.schedule.send_until);
            }
            match poll.poll(&mut events, Some(wake.saturating_duration_since(now))) {
                Ok(()) => {}
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            }
            let now = Instant::now();
            for event in &events {
                let Some(conn) = conns.get_mut(event.token().0) else {
                    continue;
                };
                if event.is_readable() || event.is_read_closed() || event.is_error() {
                    self.on_readable(conn, &mut scratch, now);
                }
                if event.is_writable() {
                    self.flush(conn);
                }
            }
        }
    }

    /// May a new request be sent now?
    fn may_send(&self, now: Instant) -> bool {
        now < self.schedule.send_until && self.quota != Some(0)
    }

    /// Tops the connection up to the pipeline depth.
    fn fill(&mut self, conn: &mut Conn, now: Instant) {
        if conn.stream.is_none() {
            return;
        }
        while conn.in_flight.len() < self.load.pipeline as usize && self.may_send(now) {
            if conn.in_flight.is_empty() {
                conn.last_activity = now;
            }
            match &self.load.holds {
                Some(plan) => self.workload.write_holds(
                    &mut conn.session,
                    plan,
                    &mut self.stats.ledger,
                    &mut conn.output,
                ),
                None => self
                    .workload
                    .write_request(&mut conn.output, &mut conn.asked),
            }
            conn.in_flight.push_back(now);
            self.outstanding += 1;
            if now >= self.schedule.measure_from {
                if let Some(quota) = self.quota.as_mut() {
                    *quota -= 1;
                }
            }
        }
    }

    /// Writes what is queued; a short write waits for the writable event.
    fn flush(&mut self, conn: &mut Conn) {
        let Some(stream) = conn.stream.as_mut() else {
            return;
        };
        while conn.written < conn.output.len() {
            match stream.write(&conn.output[conn.written..]) {
                Ok(n) => conn.written += n,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(_) => {
                    self.stats.errors.closed += 1;
                    self.close(conn);
                    return;
                }
            }
        }
        conn.output.clear();
        conn.written = 0;
    }

    /// Reads what arrived, handles every whole reply, sends follow-ups.
    fn on_readable(&mut self, conn: &mut Conn, scratch: &mut [u8], now: Instant) {
        loop {
            let Some(stream) = conn.stream.as_mut() else {
                return;
            };
            match stream.read(scratch) {
                Ok(0) => {
                    self.stats.errors.closed += 1;
                    self.close(conn);
                    return;
                }
                Ok(n) => {
                    conn.input.extend_from_slice(&scratch[..n]);
                    conn.last_activity = now;
                    if !self.take_replies(conn, now) {
                        self.close(conn);
                        return;
                    }
                    // A short read emptied the socket's receive queue, and
                    // on Linux any later arrival raises a new edge: skip the
                    // extra `read` that would only say WouldBlock. (Were an
                    // edge ever missed, the reply timeout would end the run
                    // with an error, not a hang.)
                    if n < scratch.len() {
                        break;
                    }
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(_) => {
                    self.stats.errors.closed += 1;
                    self.close(conn);
                    return;
                }
            }
        }
        self.fill(conn, now);
        self.flush(conn);
    }

    /// Handles the whole replies at the front of the input; `false` when
    /// the connection is beyond use.
    fn take_replies(&mut self, conn: &mut Conn, now: Instant) -> bool {
        let mut consumed = 0;
        let healthy = loop {
            let per_request = self.load.seats_per_request;
            match next_reply(&conn.input[consumed..], self.load.framing, per_request) {
                Next::Reply { start, end, next } => {
                    let Some(sent) = conn.in_flight.pop_front() else {
                        self.stats.errors.bad_replies += 1;
                        break false;
                    };
                    self.outstanding -= 1;
                    let reply = &conn.input[consumed + start..consumed + end];
                    let measured = sent >= self.schedule.measure_from;
                    if let Some(plan) = &self.load.holds {
                        let session = &mut conn.session;
                        self.stats
                            .holds_reply(session, plan, reply, sent, now, measured);
                    } else if self.load.framing == Framing::Resp {
                        let k = (per_request as usize).min(conn.asked.len());
                        let asked = conn.asked.drain(..k);
                        self.stats.resp_reply(reply, asked, sent, now, measured);
                    } else {
                        self.stats.reply(reply, sent, now, measured);
                    }
                    consumed += next;
                }
                Next::Incomplete => break true,
                Next::Bad => {
                    self.stats.errors.bad_replies += 1;
                    break false;
                }
            }
        };
        conn.input.drain(..consumed);
        // The original framing has no request boundary: data left over
        // with nothing in flight cannot be a reply of ours.
        if healthy && self.load.framing == Framing::Original && conn.in_flight.is_empty() {
            return conn.input.is_empty();
        }
        healthy
    }

    /// Closes connections that have waited too long for a reply.
    fn expire(&mut self, conns: &mut [Conn], now: Instant) {
        for conn in conns.iter_mut() {
            if !conn.in_flight.is_empty()
                && now.duration_since(conn.last_activity) > self.load.timeout
            {
                self.stats.errors.timeouts += 1;
                self.close(conn);
            }
        }
    }

    fn close(&mut self, conn: &mut Conn) {
        if conn.stream.take().is_some() {
            self.open -= 1;
            self.outstanding -= conn.in_flight.len();
            conn.in_flight.clear();
            conn.asked.clear();
        }
    }

    /// Shares the reply count with the progress line.
    fn publish(&mut self) {
        let done = self.stats.measured + self.stats.warmup;
        if done != self.published {
            // Relaxed: a statistic read once a second; it orders nothing.
            self.progress
                .fetch_add(done - self.published, Ordering::Relaxed);
            self.published = done;
        }
    }
}

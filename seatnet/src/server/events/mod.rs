//! The event-loop I/O mode ([`Io::Events`](crate::Io::Events)): one thread,
//! one `mio` poll, every connection nonblocking and edge-triggered.
//!
//! - `conn`: one connection's buffers and its reaction to readiness;
//!
//! The protocol work is the blocking mode's (`batch::answer_read`); only
//! the waiting differs. Each wake-up handles the ready sockets, then, at
//! most every `tick`, closes connections idle for the idle timeout.
//! Shutdown wakes the poll through the listener (`Stop` connects to it) and,
//! as a guard, the poll never sleeps longer than `tick`.

mod conn;

use std::io;
use std::net::TcpListener;
use std::time::{Duration, Instant};

use mio::net::TcpListener as MioListener;
use mio::{Events, Interest, Poll, Registry, Token};
use tracing::{info, warn};

use super::Shared;
use super::accept::turn_away;
use crate::inventory::Scratch;
use conn::{Conn, End, Next};

/// The open connections; a connection's `mio` token is its slab key, and
/// freed keys are reused (the `slab` crate, as tokio and mio's examples do).
type Conns = slab::Slab<Conn>;

/// The listener's token; connections use their slot index.
const LISTENER: Token = Token(usize::MAX);

/// Serves every connection on the calling thread until shutdown, then
/// closes them all.
pub(super) fn run(listener: TcpListener, shared: &Shared) -> io::Result<()> {
    listener.set_nonblocking(true)?;
    let mut listener = MioListener::from_std(listener);
    let mut poll = Poll::new()?;
    poll.registry()
        .register(&mut listener, LISTENER, Interest::READABLE)?;
    let mut events = Events::with_capacity(1024);
    let mut conns = Conns::new();
    let mut scratch = Scratch::default();
    let tick = tick(shared.config.idle_timeout);
    let mut last_scan = Instant::now();
    // Set when accepting failed (out of descriptors): retried every wake-up,
    // as no new edge may come for connections already queued.
    let mut accept_pending = false;
    // Connections that used their read budget and may have more queued.
    let mut again: Vec<Token> = Vec::new();
    loop {
        // Do not sleep while a connection still has data to read.
        let timeout = if again.is_empty() {
            tick
        } else {
            Duration::ZERO
        };
        match poll.poll(&mut events, Some(timeout)) {
            Ok(()) => {}
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        }
        if shared.stop.is_stopping() {
            break;
        }
        for event in &events {
            let token = event.token();
            if token == LISTENER {
                accept_pending = true;
                continue;
            }
            let read_closed = event.is_read_closed() || event.is_error();
            handle(
                &mut conns,
                token,
                read_closed,
                &mut again,
                shared,
                &mut scratch,
            );
        }
        // Then another turn for those that used their read budget, now
        // that every ready connection had one (a token closed and reused
        // meanwhile only costs its new connection one `WouldBlock` read).
        for token in std::mem::take(&mut again) {
            handle(&mut conns, token, false, &mut again, shared, &mut scratch);
        }
        if accept_pending {
            accept_pending = !accept_all(&listener, poll.registry(), &mut conns, shared);
        }
        let now = Instant::now();
        if now.duration_since(last_scan) >= tick {
            last_scan = now;
            close_idle(&mut conns, now, shared);
        }
    }
    drop(listener);
    for token in tokens(&conns) {
        if let Some(conn) = conns.get_mut(token.0) {
            conn.flush_once();
        }
        close(&mut conns, token, End::Shutdown, shared);
    }
    Ok(())
}

/// Lets connection `token` react to readiness, and closes it or queues it
/// for another turn as it says.
fn handle(
    conns: &mut Conns,
    token: Token,
    read_closed: bool,
    again: &mut Vec<Token>,
    shared: &Shared,
    scratch: &mut Scratch,
) {
    let Some(conn) = conns.get_mut(token.0) else {
        return;
    };
    match conn.on_ready(read_closed, shared, scratch) {
        Next::Wait => {}
        Next::Again => again.push(token),
        Next::Close(end) => close(conns, token, end, shared),
    }
}

/// How often idle connections are looked for: a quarter of the idle
/// timeout, between 10 ms and 1 s. A connection is closed between
/// `idle_timeout` and `idle_timeout + tick` after its last activity.
fn tick(idle_timeout: Duration) -> Duration {
    (idle_timeout / 4).clamp(Duration::from_millis(10), Duration::from_secs(1))
}

/// Accepts every queued connection. Returns `false` if accepting failed
/// and should be retried.
fn accept_all(
    listener: &MioListener,
    registry: &Registry,
    conns: &mut Conns,
    shared: &Shared,
) -> bool {
    let max = shared.config.max_conns() as u64;
    loop {
        let (mut stream, peer) = match listener.accept() {
            Ok(accepted) => accepted,
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => return true,
            Err(e)
                if matches!(
                    e.kind(),
                    io::ErrorKind::Interrupted | io::ErrorKind::ConnectionAborted
                ) =>
            {
                continue;
            }
            Err(e) => {
                // Out of file descriptors and the like: retry on the next
                // wake-up (at most a tick away) and keep serving.
                warn!(error = %e, "accept failed");
                return false;
            }
        };
        if !shared.counters.try_open(max) {
            warn!(%peer, max, "busy: connection refused");
            turn_away(stream.into(), max);
            continue;
        }
        let token = Token(conns.vacant_key());
        let registered = stream.set_nodelay(true).and_then(|()| {
            registry.register(&mut stream, token, Interest::READABLE | Interest::WRITABLE)
        });
        if let Err(e) = registered {
            warn!(%peer, error = %e, "cannot serve connection");
            shared.counters.close();
            continue;
        }
        info!(%peer, "connected");
        conns.insert(Conn::new(stream, peer, shared.config.max_line));
    }
}

/// Closes the connections with no activity for the idle timeout.
fn close_idle(conns: &mut Conns, now: Instant, shared: &Shared) {
    let timeout = shared.config.idle_timeout;
    for token in tokens(conns) {
        let idle = conns
            .get(token.0)
            .is_some_and(|conn| now.duration_since(conn.last_active()) >= timeout);
        if idle {
            close(conns, token, End::Idle, shared);
        }
    }
}

/// Drops the connection (closing its socket, which also removes it from
/// the poll), logs why, and frees its place in the connection count.
fn close(conns: &mut Conns, token: Token, end: End, shared: &Shared) {
    let Some(conn) = conns.try_remove(token.0) else {
        return;
    };
    let peer = conn.peer;
    match end {
        End::Idle => info!(%peer, "closed after {:?} idle", shared.config.idle_timeout),
        End::Error(e) => info!(%peer, error = %e, "connection error"),
        end => info!(%peer, ?end, "disconnected"),
    }
    drop(conn);
    shared.counters.close();
}

/// The tokens of every open connection (a copy, so the loop may close some).
fn tokens(conns: &Conns) -> Vec<Token> {
    conns.iter().map(|(key, _)| Token(key)).collect()
}

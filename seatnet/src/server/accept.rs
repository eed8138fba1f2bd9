//! Accepting: the connection limit, the per-address cap, `ERR busy`, and
//! running out of descriptors.
//!
//! When `accept` fails with `EMFILE`/`ENFILE` (no descriptor left), the
//! pending connection would stay queued and the client would wait with no
//! answer. The poller keeps one spare descriptor (`/dev/null`) for that
//! moment: it closes the spare, accepts the client, tells it `ERR busy`,
//! closes it, reopens the spare, and backs off (it retries accepting after
//! [`BACK_OFF`], not in a loop).

use std::io::{self, Write};
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use mio::net::TcpStream;
use tracing::{info, warn};

use super::conn::{Conn, End};
use super::poller::Poller;
use super::spare::Spare;
use crate::inventory::Access;
use crate::protocol::{Framer, Reply};

/// How long accepting pauses after it failed for want of descriptors.
const BACK_OFF: Duration = Duration::from_millis(100);

impl Poller<'_> {
    /// Accepts every queued connection. Returns `true` if the queue was
    /// emptied (`false`: retry, now or at `accept_retry`).
    /// `access`: which listener (public, or `--admin-listen`).
    pub(crate) fn accept_all(&mut self, access: Access, now: Instant) -> bool {
        loop {
            let Some(listener) = self.listener_for(access) else {
                return true;
            };
            let (stream, peer) = match listener.accept() {
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
                    warn!(error = %e, "accept failed; backing off");
                    if matches!(e.raw_os_error(), Some(23 | 24)) {
                        self.use_spare(access);
                    }
                    self.accept_retry = Some(now + BACK_OFF);
                    return false;
                }
            };
            self.admit(stream, peer, access, now);
        }
    }

    fn listener_for(&self, access: Access) -> Option<&mio::net::TcpListener> {
        match access {
            Access::Public => self.listener.as_ref(),
            Access::Operator => self.admin.as_ref(),
        }
    }

    /// Out of descriptors: frees the spare to accept one client and tell it
    /// `ERR busy`, then takes the spare back.
    fn use_spare(&mut self, access: Access) {
        self.spare.0 = None;
        if let Some(listener) = self.listener_for(access) {
            if let Ok((stream, peer)) = listener.accept() {
                warn!(%peer, "busy: no descriptor to serve it");
                self.shared.counters.reject();
                // One line into an empty send buffer; a short write is
                // the most that can go wrong, and nothing waits.
                let _ = (&stream).write(&busy_line(self.max_conns));
                let _ = stream.shutdown(std::net::Shutdown::Write);
            }
        }
        self.spare = Spare::open();
    }

    /// Serves `stream`, or turns it away if over a limit.
    fn admit(&mut self, stream: TcpStream, peer: SocketAddr, access: Access, now: Instant) {
        let ip = peer.ip();
        let config = &self.shared.config;
        let per_addr = self.per_addr.get(&ip).copied().unwrap_or(0);
        if let Some(cap) = config.max_conns_per_addr.filter(|&cap| per_addr >= cap) {
            warn!(%peer, cap, "busy: address at its connection cap");
            self.shared.counters.reject();
            self.turn_away(stream, peer, cap, now);
            return;
        }
        if !self.shared.counters.try_open(self.max_conns as u64) {
            warn!(%peer, max = self.max_conns, "busy: connection refused");
            self.turn_away(stream, peer, self.max_conns, now);
            return;
        }
        if let Err(e) = stream.set_nodelay(true) {
            info!(%peer, error = %e, "cannot serve connection");
            self.shared.counters.close();
            return;
        }
        let framer = Framer::new(config.max_line, config.grace);
        let mut conn = Conn::new(stream, peer, framer, now);
        conn.access = access;
        match self.insert(conn, Some(ip)) {
            Ok(token) => {
                info!(%peer, ?access, "connected");
                *self.per_addr.entry(ip).or_insert(0) += 1;
                // A client may have sent its request with the connection.
                self.schedule(token);
            }
            Err(e) => {
                warn!(%peer, error = %e, "cannot serve connection");
                self.shared.counters.close();
            }
        }
    }

    /// Tells a client over a limit of `max` that the server is busy, then
    /// closes without a reset: the line, `shutdown(Write)`, a brief drain
    /// of what the client sent (in the poller, like any closing
    /// connection).
    fn turn_away(&mut self, stream: TcpStream, peer: SocketAddr, max: usize, now: Instant) {
        let line = busy_line(max);
        if !self.busy_may_linger() {
            let _ = (&stream).write(&line);
            let _ = stream.shutdown(std::net::Shutdown::Write);
            return;
        }
        let framer = Framer::new(0, Duration::ZERO);
        let mut conn = Conn::new(stream, peer, framer, now);
        conn.out = line;
        conn.closing = Some(End::Busy);
        if let Ok(token) = self.insert(conn, None) {
            self.busy_lingering += 1;
            self.end(token, End::Busy, now);
        }
    }
}

/// `ERR busy` for a limit of `max`, with its newline.
fn busy_line(max: usize) -> Vec<u8> {
    let mut line = Vec::with_capacity(96);
    Reply::Busy(max).write_to(&mut line);
    line.push(b'\n');
    line
}

//! One connection: its socket, its framer and its unsent replies, and the
//! nonblocking reads and writes both the poller and a worker do on it.

use std::io::{self, Read, Write};
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use mio::net::TcpStream;

use crate::inventory::Access;
use crate::inventory::Inventory;
use crate::protocol::Framer;

/// The size of one read.
pub(crate) const READ_CHUNK: usize = 8 * 1024;

/// How long a closing connection's input is drained after `shutdown(Write)`
/// before it is dropped, and how many bytes at most (see
/// [`Conn::drain_input`]).
pub(crate) const LINGER: Duration = Duration::from_millis(500);
const LINGER_BYTES: usize = 64 * 1024;

/// Why a connection ended, for the log.
#[derive(Debug)]
pub(crate) enum End {
    /// The client half-closed.
    Eof,
    /// The client said `QUIT`.
    Quit,
    /// A request over `--max-line`.
    TooLong,
    /// The server is shutting down.
    Shutdown,
    /// Nothing read or written for the idle timeout.
    Idle,
    /// A request did not arrive whole within the request timeout.
    RequestTimeout,
    /// More than `--max-output` bytes of replies unread.
    Overflow,
    /// Turned away (`ERR busy`) before being served.
    Busy,
    /// A read or write failed.
    Error(io::Error),
}

impl End {
    /// Whether the last reply should still be delivered (flush, then
    /// `shutdown(Write)` and a brief drain, never a reset).
    pub(crate) fn is_orderly(&self) -> bool {
        !matches!(self, End::Overflow | End::Error(_))
    }
}

/// What one read found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Got {
    /// Bytes, now in the framer.
    Bytes,
    /// Nothing queued.
    Nothing,
    /// End of stream.
    Eof,
}

/// An open connection.
#[derive(Debug)]
pub(crate) struct Conn {
    pub(crate) stream: TcpStream,
    pub(crate) peer: SocketAddr,
    pub(crate) framer: Framer,
    /// The map this connection `USE`s (`None`: `default`).
    pub(crate) map: Option<Inventory>,
    /// Replies not yet sent.
    pub(crate) out: Vec<u8>,
    /// The last time a read returned data or a write sent some.
    pub(crate) last_active: Instant,
    /// The last read filled its space: more may be queued, and no new
    /// readiness event will say so (edge-triggered polling).
    pub(crate) more: bool,
    /// The client has half-closed (read returned end of stream).
    pub(crate) eof: bool,
    /// The poll said the peer closed its side (or the socket failed): read
    /// on past short reads to the end of stream, which no later event
    /// would announce.
    pub(crate) read_closed: bool,
    /// Set once the connection is ending: it sends what is left of `out`,
    /// shuts down writing, drains input until `linger_until`, then closes.
    pub(crate) closing: Option<End>,
    /// When draining began; `None` before `shutdown(Write)`.
    pub(crate) linger_until: Option<Instant>,
    lingered_bytes: usize,
    /// What its requests may run: operator commands only if it came in on
    /// the admin listener.
    pub(crate) access: Access,
}

impl Conn {
    pub(crate) fn new(stream: TcpStream, peer: SocketAddr, framer: Framer, now: Instant) -> Self {
        Conn {
            stream,
            peer,
            framer,
            map: None,
            out: Vec::new(),
            last_active: now,
            more: true,
            eof: false,
            read_closed: false,
            closing: None,
            linger_until: None,
            lingered_bytes: 0,
            access: Access::Public,
        }
    }

    /// One nonblocking read of at most [`READ_CHUNK`] bytes (and what the
    /// framer has room for) into the framer, through `buf`.
    pub(crate) fn read_once(&mut self, buf: &mut [u8], now: Instant) -> io::Result<Got> {
        let room = self.framer.room().min(buf.len());
        if room == 0 {
            // Requests wait to be answered first; read again after.
            self.more = true;
            return Ok(Got::Nothing);
        }
        loop {
            return match self.stream.read(&mut buf[..room]) {
                Ok(0) => {
                    self.eof = true;
                    self.more = false;
                    Ok(Got::Eof)
                }
                Ok(n) => {
                    self.framer.push(&buf[..n], now);
                    self.last_active = now;
                    self.more = n == room || self.read_closed;
                    Ok(Got::Bytes)
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                    self.more = false;
                    Ok(Got::Nothing)
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => Err(e),
            };
        }
    }

    /// Writes as much of `out` as the socket takes now and removes it from
    /// `out`; `WouldBlock` is not an error (the rest waits for a writable
    /// event).
    pub(crate) fn flush(&mut self, now: Instant) -> io::Result<()> {
        let mut sent = 0;
        let result = loop {
            if sent == self.out.len() {
                break Ok(());
            }
            match self.stream.write(&self.out[sent..]) {
                Ok(0) => break Err(io::ErrorKind::WriteZero.into()),
                Ok(n) => sent += n,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => break Ok(()),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => break Err(e),
            }
        };
        if sent > 0 {
            self.out.drain(..sent);
            self.last_active = now;
            if self.out.is_empty() && self.out.capacity() > 64 * 1024 {
                // A burst's buffer is not kept by an idle connection.
                self.out = Vec::new();
            }
        }
        result
    }

    /// For a closing connection: sends what is left, then shuts down
    /// writing (so the client reads every reply, then end of stream) and
    /// reads and discards its input: closing a socket with unread input
    /// would send a reset, which can destroy replies not yet read. Returns
    /// `true` once the connection can be dropped: input ended, the drain's
    /// byte bound was reached, or the socket failed.
    pub(crate) fn progress_close(&mut self, buf: &mut [u8], now: Instant) -> bool {
        if !self.out.is_empty() {
            if self.flush(now).is_err() {
                return true;
            }
            if !self.out.is_empty() {
                return false;
            }
        }
        if self.linger_until.is_none() {
            if self.stream.shutdown(std::net::Shutdown::Write).is_err() {
                return true;
            }
            self.linger_until = Some(now + LINGER);
        }
        self.drain_input(buf)
    }

    /// Reads and discards input until `WouldBlock` (`false`: wait for more),
    /// end of stream, an error or [`LINGER_BYTES`] (`true`: drop it).
    fn drain_input(&mut self, buf: &mut [u8]) -> bool {
        if self.eof {
            return true;
        }
        loop {
            match self.stream.read(buf) {
                Ok(0) => return true,
                Ok(n) => {
                    self.lingered_bytes += n;
                    if self.lingered_bytes >= LINGER_BYTES {
                        return true;
                    }
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return false,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(_) => return true,
            }
        }
    }
}

//! One connection of the event loop: its buffers, and what it does when the
//! loop says its socket is ready.

use std::io::{self, Read, Write};
use std::net::SocketAddr;
use std::time::Instant;

use mio::net::TcpStream;

use super::super::Shared;
use super::super::batch::{Read as ReadResult, answer_read};
use crate::inventory::Scratch;
use crate::protocol::{FrameOutcome, Framer};

/// Unsent replies above this many bytes stop the reading of a connection
/// until they have all been sent (memory per connection stays bounded by
/// about this plus the replies to one read).
const OUT_LIMIT: usize = 64 * 1024;

/// Reads one wake-up may do on a connection whose reads keep filling the
/// buffer; then the loop serves the others and comes back (fairness).
const READ_BUDGET: usize = 16;

/// What the loop does with a connection after it was handled.
#[derive(Debug)]
pub(super) enum Next {
    /// Wait for its next event.
    Wait,
    /// It may have more to read right away: handle it again after the
    /// other ready connections (no new edge will come for it).
    Again,
    /// Close it.
    Close(End),
}

/// Why a connection ended, for the log.
#[derive(Debug)]
pub(super) enum End {
    /// The client half-closed.
    Eof,
    /// The client said `QUIT`.
    Quit,
    /// A request over `--max-line`.
    TooLong,
    /// The server is shutting down.
    Shutdown,
    /// Nothing read, or no reply sent, for the idle timeout.
    Idle,
    /// A read or write failed.
    Error(io::Error),
}

/// A connection served by the event loop.
#[derive(Debug)]
pub(super) struct Conn {
    stream: TcpStream,
    pub(super) peer: SocketAddr,
    framer: Framer,
    /// Replies not yet sent.
    out: Vec<u8>,
    /// The last time a read returned data or a write sent some.
    last_active: Instant,
    /// Reading stopped: more than [`OUT_LIMIT`] bytes of replies unsent.
    paused: bool,
    /// The last read filled the space it offered (the client may have more).
    full: bool,
    /// The poll said the peer closed its side (or the socket has an
    /// error): read on past short reads, to the end of stream, which no
    /// later event would announce.
    read_closed: bool,
    /// The connection is over; it closes once `out` is sent.
    end: Option<End>,
}

impl Conn {
    pub(super) fn new(stream: TcpStream, peer: SocketAddr, max_line: usize) -> Self {
        Conn {
            stream,
            peer,
            framer: Framer::new(max_line),
            out: Vec::new(),
            last_active: Instant::now(),
            paused: false,
            full: false,
            read_closed: false,
            end: None,
        }
    }

    /// The socket is ready (readable, writable or both: each is tried);
    /// `read_closed`: the event says the peer closed its side or the
    /// socket has an error.
    pub(super) fn on_ready(
        &mut self,
        read_closed: bool,
        shared: &Shared,
        scratch: &mut Scratch,
    ) -> Next {
        self.read_closed |= read_closed;
        if let Err(e) = self.flush() {
            return Next::Close(End::Error(e));
        }
        if let Some(end) = self.end.take() {
            return self.close_when_sent(end);
        }
        if self.paused {
            if !self.out.is_empty() {
                return Next::Wait;
            }
            // Drained: read what the client queued meanwhile (no new edge
            // will announce it).
            self.paused = false;
        }
        self.read_all(shared, scratch)
    }

    /// When the connection has been silent (nothing read, nothing sent).
    pub(super) fn last_active(&self) -> Instant {
        self.last_active
    }

    /// Sends what it can of the unsent replies without waiting (at
    /// shutdown).
    pub(super) fn flush_once(&mut self) {
        let _ = self.flush();
    }

    /// Reads until the socket is drained (a short read, the framing rule's
    /// signal, or `WouldBlock`) or [`READ_BUDGET`] reads are done,
    /// answering each read's requests.
    fn read_all(&mut self, shared: &Shared, scratch: &mut Scratch) -> Next {
        for _ in 0..READ_BUDGET {
            let offered = self.framer.spare().len();
            let read = match self.stream.read(self.framer.spare()) {
                Ok(0) => ReadResult::Eof,
                Ok(n) => {
                    self.last_active = Instant::now();
                    ReadResult::Bytes { n, offered }
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                    if !self.full {
                        return Next::Wait;
                    }
                    // The last read filled its space and nothing followed:
                    // a read of 0 out of `offered` bytes for the framing
                    // rule (an original request ending exactly there).
                    ReadResult::Bytes { n: 0, offered }
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Next::Close(End::Error(e)),
            };
            // A short read means the kernel had nothing more queued: the
            // socket is drained, and edge-triggered polling reports the
            // next data as a new event. An end of stream that came with the
            // data already read is not reported again: `read_closed` reads
            // on to it.
            let drained = match read {
                ReadResult::Bytes { n, offered } => n < offered,
                ReadResult::Eof => true,
            };
            self.full = !drained;
            let drained = drained && !self.read_closed;
            let outcome = match self.answer(shared, scratch, read) {
                Ok(outcome) => outcome,
                Err(e) => return Next::Close(End::Error(e)),
            };
            let end = match outcome {
                _ if read == ReadResult::Eof => Some(End::Eof),
                FrameOutcome::ReadMore => None,
                FrameOutcome::Close => Some(End::Quit),
                FrameOutcome::TooLong => Some(End::TooLong),
            };
            if let Some(end) = end {
                return self.close_when_sent(end);
            }
            if self.out.len() > OUT_LIMIT {
                self.paused = true;
                return Next::Wait;
            }
            if drained {
                return Next::Wait;
            }
        }
        Next::Again
    }

    /// The connection is over: close now if every reply is sent, else wait
    /// for the socket to take the rest.
    fn close_when_sent(&mut self, end: End) -> Next {
        if self.out.is_empty() {
            Next::Close(end)
        } else {
            self.end = Some(end);
            Next::Wait
        }
    }

    /// Answers one read's requests and sends what the socket takes now.
    fn answer(
        &mut self,
        shared: &Shared,
        scratch: &mut Scratch,
        read: ReadResult,
    ) -> io::Result<FrameOutcome> {
        let Conn {
            stream,
            framer,
            out,
            last_active,
            ..
        } = self;
        let outcome = answer_read(shared, framer, scratch, out, read, &mut |out| {
            send(stream, out, last_active)
        })?;
        send(stream, out, last_active)?;
        Ok(outcome)
    }

    fn flush(&mut self) -> io::Result<()> {
        send(&mut self.stream, &mut self.out, &mut self.last_active)
    }
}

/// Writes as much of `out` as the socket takes now and removes it from
/// `out`; `WouldBlock` is not an error (the rest waits for a writable
/// event).
fn send(stream: &mut TcpStream, out: &mut Vec<u8>, last_active: &mut Instant) -> io::Result<()> {
    let mut sent = 0;
    let result = loop {
        if sent == out.len() {
            break Ok(());
        }
        match stream.write(&out[sent..]) {
            Ok(0) => break Err(io::ErrorKind::WriteZero.into()),
            Ok(n) => sent += n,
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => break Ok(()),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => break Err(e),
        }
    };
    if sent > 0 {
        out.drain(..sent);
        *last_active = Instant::now();
    }
    result
}

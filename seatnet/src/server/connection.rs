//! Serving one connection: read, frame, answer the whole batch, write the
//! replies with one `write`, repeat.

use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpStream};

use tracing::{debug, info};

use super::Shared;
use crate::inventory::Scratch;
use crate::protocol::{Control, FrameOutcome, Framer, Reply};

/// A batch of replies is written once it reaches this size even if more
/// requests of the same read remain, to bound the reply buffer.
const FLUSH_AT: usize = 64 * 1024;

/// Per-worker buffers, reused from one connection to the next.
#[derive(Debug)]
pub(crate) struct Buffers {
    framer: Framer,
    scratch: Scratch,
    out: Vec<u8>,
}

impl Buffers {
    pub(crate) fn new(max_line: usize) -> Self {
        Buffers {
            framer: Framer::new(max_line),
            scratch: Scratch::default(),
            out: Vec::with_capacity(FLUSH_AT),
        }
    }
}

/// Why a connection ended, for the log.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum End {
    Eof,
    Quit,
    TooLong,
    Shutdown,
}

/// Serves `stream` until the client leaves, idles out, errs or quits, or
/// the server shuts down.
pub(crate) fn serve(stream: TcpStream, peer: SocketAddr, shared: &Shared, buffers: &mut Buffers) {
    buffers.framer.reset();
    buffers.out.clear();
    match run(&stream, shared, buffers) {
        Ok(end) => info!(%peer, ?end, "disconnected"),
        Err(e)
            if matches!(
                e.kind(),
                io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
            ) =>
        {
            info!(%peer, "closed after {:?} idle", shared.config.idle_timeout);
        }
        Err(e) => info!(%peer, error = %e, "connection error"),
    }
}

fn run(mut stream: &TcpStream, shared: &Shared, buffers: &mut Buffers) -> io::Result<End> {
    let Buffers {
        framer,
        scratch,
        out,
    } = buffers;
    stream.set_nodelay(true)?;
    stream.set_read_timeout(Some(shared.config.idle_timeout))?;
    stream.set_write_timeout(Some(shared.config.idle_timeout))?;
    loop {
        // Checked once per batch: after `shutdown(Read)` data already
        // queued is still readable, so a pipelining client could otherwise
        // keep this worker busy during shutdown.
        if shared.stop.is_stopping() {
            return Ok(End::Shutdown);
        }
        let offered = framer.spare().len();
        let n = match stream.read(framer.spare()) {
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        let mut batch = Batch {
            shared,
            scratch: &mut *scratch,
            out: &mut *out,
            stream,
            requests: 0,
            errors: 0,
            failed: None,
        };
        let outcome = if n == 0 {
            framer.finish(|request, newline| batch.answer(request, newline))
        } else {
            framer.advance(n, offered, |request, newline| {
                batch.answer(request, newline)
            })
        };
        if outcome == FrameOutcome::TooLong {
            batch.errors += 1;
            Reply::LineTooLong(shared.config.max_line).write_to(batch.out);
            batch.out.push(b'\n');
        }
        let (requests, errors, failed) = (batch.requests, batch.errors, batch.failed);
        shared.counters.add_requests(requests, errors);
        if let Some(e) = failed {
            return Err(e);
        }
        if !out.is_empty() {
            stream.write_all(out)?;
            out.clear();
        }
        match outcome {
            _ if n == 0 => return Ok(End::Eof),
            FrameOutcome::ReadMore => {}
            FrameOutcome::Close => return Ok(End::Quit),
            FrameOutcome::TooLong => return Ok(End::TooLong),
        }
    }
}

/// The requests of one read, answered into one buffer.
struct Batch<'a> {
    shared: &'a Shared,
    scratch: &'a mut Scratch,
    out: &'a mut Vec<u8>,
    stream: &'a TcpStream,
    requests: u64,
    errors: u64,
    /// A write error while flushing a big batch; ends the connection.
    failed: Option<io::Error>,
}

impl Batch<'_> {
    fn answer(&mut self, request: &[u8], newline: bool) -> Control {
        let answered =
            self.shared
                .inventory
                .respond(request, self.scratch, &self.shared.counters, self.out);
        if newline {
            self.out.push(b'\n');
        }
        self.requests += 1;
        self.errors += u64::from(answered.error);
        debug!(
            request = %String::from_utf8_lossy(request),
            error = answered.error,
            "request"
        );
        if self.out.len() >= FLUSH_AT {
            let mut stream = self.stream;
            if let Err(e) = stream.write_all(self.out) {
                self.failed = Some(e);
                return Control::Close;
            }
            self.out.clear();
        }
        if answered.close {
            Control::Close
        } else {
            Control::Continue
        }
    }
}

//! Serving one connection: read, frame, answer the whole batch, write the
//! replies with one `write`, repeat.

use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpStream};

use tracing::info;

use super::Shared;
use super::batch::{FLUSH_AT, Read as ReadResult, answer_read};
use crate::inventory::Scratch;
use crate::protocol::{FrameOutcome, Framer};

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
        let read = if n == 0 {
            ReadResult::Eof
        } else {
            ReadResult::Bytes { n, offered }
        };
        let outcome = answer_read(shared, framer, scratch, out, read, &mut |out| {
            stream.write_all(out)?;
            out.clear();
            Ok(())
        })?;
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

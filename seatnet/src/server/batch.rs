//! Answering the requests of one read: the protocol work both I/O modes
//! share (framing, `Inventory::respond`, counters, `line-too-long`).

use std::io;

use tracing::debug;

use super::Shared;
use crate::durable::Unsettled;
use crate::inventory::{Answered, Scratch};
use crate::protocol::{Control, FrameOutcome, Framer, Reply};

/// Once the reply buffer reaches this size in the middle of a read's
/// requests, it is handed to the mode's flush, to bound it.
pub(crate) const FLUSH_AT: usize = 64 * 1024;

/// What one `read` returned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Read {
    /// `n > 0` bytes into a space of `offered` bytes.
    Bytes { n: usize, offered: usize },
    /// End of stream: the client half-closed.
    Eof,
}

/// Frames the bytes of one read (already in `framer`'s spare space) and
/// appends every reply to `out`, followed by `ERR line-too-long` if a
/// request was too long. Updates the counters once.
///
/// `flush` is called whenever `out` reaches [`FLUSH_AT`] bytes mid-read; it
/// writes what it can and removes what it wrote from `out`. An error from
/// it ends the batch and is returned.
pub(crate) fn answer_read(
    shared: &Shared,
    framer: &mut Framer,
    scratch: &mut Scratch,
    out: &mut Vec<u8>,
    read: Read,
    flush: &mut dyn FnMut(&mut Vec<u8>) -> io::Result<()>,
) -> io::Result<FrameOutcome> {
    let mut batch = Batch {
        shared,
        scratch,
        out,
        flush,
        requests: 0,
        errors: 0,
        failed: None,
        unsettled: Unsettled::default(),
    };
    let outcome = match read {
        Read::Eof => framer.finish(|request, newline| batch.answer(request, newline)),
        Read::Bytes { n, offered } => framer.advance(n, offered, |request, newline| {
            batch.answer(request, newline)
        }),
    };
    if outcome == FrameOutcome::TooLong {
        batch.errors += 1;
        Reply::LineTooLong(shared.config.max_line).write_to(batch.out);
        batch.out.push(b'\n');
    }
    // Durable replies go out only once their changes are: one wait, on the
    // read's highest ticket, covers every reply of the read.
    batch.unsettled.settle(&shared.inventory);
    shared.counters.add_requests(batch.requests, batch.errors);
    match batch.failed {
        Some(e) => Err(e),
        None => Ok(outcome),
    }
}

/// The requests of one read, answered into one buffer.
struct Batch<'a> {
    shared: &'a Shared,
    scratch: &'a mut Scratch,
    out: &'a mut Vec<u8>,
    flush: &'a mut dyn FnMut(&mut Vec<u8>) -> io::Result<()>,
    requests: u64,
    errors: u64,
    /// A write error while flushing a big batch; ends the connection.
    failed: Option<io::Error>,
    /// Journaled changes whose replies are in `out`.
    unsettled: Unsettled,
}

impl Batch<'_> {
    fn answer(&mut self, request: &[u8], newline: bool) -> Control {
        let Answered {
            error,
            close,
            commit,
        } = self
            .shared
            .inventory
            .respond(request, self.scratch, &self.shared.counters, self.out);
        self.unsettled.note(commit);
        if newline {
            self.out.push(b'\n');
        }
        self.requests += 1;
        self.errors += u64::from(error);
        debug!(
            request = %crate::Redacted(request),
            error,
            "request"
        );
        if self.out.len() >= FLUSH_AT {
            self.unsettled.settle(&self.shared.inventory);
            if let Err(e) = (self.flush)(self.out) {
                self.failed = Some(e);
                return Control::Close;
            }
        }
        if close {
            Control::Close
        } else {
            Control::Continue
        }
    }
}

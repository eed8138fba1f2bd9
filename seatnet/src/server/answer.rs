//! What a worker does with a connection lent to it: answer every complete
//! request, write what the socket takes, read on while the last read
//! filled its space, and say whether the connection goes back to the
//! poller or ends.

use std::time::Instant;

use tracing::debug;

use super::Shared;
use super::conn::{Conn, End, Got, READ_CHUNK};
use crate::durable::Unsettled;
use crate::inventory::{Access, Answered, Inventory, Scratch};
use crate::protocol::{Frame, Reply};

/// Rounds of read-and-answer one lending may do on a connection whose
/// reads keep filling their space, before it goes back to the poller
/// (fairness: other connections wait for workers too).
const ROUNDS: usize = 16;

/// Once the reply buffer reaches this size in the middle of a batch, it is
/// written out, so that the bound on unread replies is checked while
/// answering and not only after a whole read.
pub(crate) const FLUSH_AT: usize = 64 * 1024;

/// A worker's reusable state.
#[derive(Debug)]
pub(crate) struct WorkerBuffers {
    scratch: Scratch,
    read: Box<[u8]>,
}

impl WorkerBuffers {
    pub(crate) fn new() -> Self {
        WorkerBuffers {
            scratch: Scratch::default(),
            read: vec![0; READ_CHUNK].into_boxed_slice(),
        }
    }
}

/// Serves `conn` until it has no complete request left. `Ok(())`: back to
/// the poller; `Err(end)`: the connection ends (its remaining replies are
/// still sent if `end` is orderly).
pub(crate) fn serve(
    conn: &mut Conn,
    shared: &Shared,
    buffers: &mut WorkerBuffers,
) -> Result<(), End> {
    let now = Instant::now();
    for _ in 0..ROUNDS {
        answer_ready(conn, shared, &mut buffers.scratch, now)?;
        if conn.eof {
            answer_last(conn, shared, &mut buffers.scratch, now)?;
            return Err(End::Eof);
        }
        if shared.stop.is_stopping() {
            return Err(End::Shutdown);
        }
        conn.flush(now).map_err(End::Error)?;
        if conn.out.len() > shared.config.max_output {
            return Err(End::Overflow);
        }
        if !conn.more || !conn.out.is_empty() {
            // Nothing more queued, or replies wait for the socket: read no
            // more now (backpressure; the poller resumes on writable).
            return Ok(());
        }
        match conn.read_once(&mut buffers.read, now) {
            Ok(Got::Bytes | Got::Eof) => {}
            Ok(Got::Nothing) => return Ok(()),
            Err(e) => return Err(End::Error(e)),
        }
    }
    Ok(())
}

/// Answers every request the framer has at `now`.
fn answer_ready(
    conn: &mut Conn,
    shared: &Shared,
    scratch: &mut Scratch,
    now: Instant,
) -> Result<(), End> {
    let mut tally = Tally::default();
    let result = loop {
        let step = match conn.framer.next(now) {
            Frame::Request { bytes, newline } => tally.answer(
                shared,
                Who {
                    access: conn.access,
                    map: &mut conn.map,
                },
                scratch,
                &mut conn.out,
                bytes,
                newline,
            ),
            Frame::TooLong => Err(too_long(shared, &mut conn.out, &mut tally)),
            Frame::Wait(_) => break Ok(()),
        };
        if let Err(end) = step {
            break Err(end);
        }
        if conn.out.len() >= FLUSH_AT {
            tally.settle(shared);
            if let Err(e) = conn.flush(now) {
                break Err(End::Error(e));
            }
            if conn.out.len() > shared.config.max_output {
                break Err(End::Overflow);
            }
        }
    };
    tally.publish(shared);
    result
}

/// At end of stream: answers the last unterminated request, if any.
fn answer_last(
    conn: &mut Conn,
    shared: &Shared,
    scratch: &mut Scratch,
    now: Instant,
) -> Result<(), End> {
    let _ = now;
    let mut tally = Tally::default();
    let result = match conn.framer.finish() {
        Frame::Request { bytes, newline } => tally.answer(
            shared,
            Who {
                access: conn.access,
                map: &mut conn.map,
            },
            scratch,
            &mut conn.out,
            bytes,
            newline,
        ),
        Frame::TooLong => Err(too_long(shared, &mut conn.out, &mut tally)),
        Frame::Wait(_) => Ok(()),
    };
    tally.publish(shared);
    result
}

fn too_long(shared: &Shared, out: &mut Vec<u8>, tally: &mut Tally) -> End {
    tally.errors += 1;
    Reply::LineTooLong(shared.config.max_line).write_to(out);
    out.push(b'\n');
    End::TooLong
}

/// Who sends a request: the connection's right to operator commands, and
/// the map it works on (`None`: `default`; a `USE` changes it).
struct Who<'c> {
    access: Access,
    map: &'c mut Option<Inventory>,
}

/// Requests answered in one batch, added to the shared counters once, and
/// the journaled changes among them, waited for once.
#[derive(Debug, Default)]
struct Tally {
    requests: u64,
    errors: u64,
    /// With `--data-dir`: the batch's highest journal ticket (or the
    /// journal's failure); its replies may not be written before it is
    /// durable.
    unsettled: Unsettled,
}

impl Tally {
    fn answer(
        &mut self,
        shared: &Shared,
        who: Who<'_>,
        scratch: &mut Scratch,
        out: &mut Vec<u8>,
        request: &[u8],
        newline: bool,
    ) -> Result<(), End> {
        let Answered {
            error,
            close,
            commit,
        } = shared
            .catalog
            .respond_as(who.access, who.map, request, scratch, &shared.counters, out);
        self.unsettled.note(commit);
        if newline {
            out.push(b'\n');
        }
        self.requests += 1;
        self.errors += u64::from(error);
        debug!(request = %crate::Redacted(request), error, "request");
        if close { Err(End::Quit) } else { Ok(()) }
    }

    /// Waits until every journaled change answered so far is durable
    /// (one wait, on the highest ticket, covers the batch: group commit).
    /// Never returns if the journal failed (fail-stop).
    fn settle(&mut self, shared: &Shared) {
        // Every map shares the one journal: any map waits for it.
        self.unsettled.settle(shared.catalog.default_map());
    }

    /// At the end of a batch, before any of its replies can be written:
    /// settles, then adds to the counters.
    fn publish(&mut self, shared: &Shared) {
        self.settle(shared);
        shared.counters.add_requests(self.requests, self.errors);
    }
}

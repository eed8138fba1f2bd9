//! What a worker does with a connection lent to it: answer every complete
//! request, write what the socket takes, read on while the last read
//! filled its space, and say whether the connection goes back to the
//! poller or ends.
//!
//! With a journal, replies that changed seats may not be written before
//! their records are durable. The worker does not wait for that: it hands
//! the connection back with the highest ticket its replies need
//! ([`Served::held`]), and the poller keeps it aside until the journal's
//! watermark passes the ticket, then writes the replies. So a worker is
//! never parked on the disk, and one sync can serve every connection, not
//! only as many as there are workers.

use std::time::Instant;

use tracing::debug;

use seatlog::Ticket;

use super::Shared;
use super::conn::{Conn, End, Got, READ_CHUNK};
use crate::cluster::Route;
use crate::durable::{Commit, Unsettled};
use crate::inventory::{Access, Answered, DEFAULT_MAP, Inventory, Scratch};
use crate::protocol::{Frame, Reply};

/// Rounds of read-and-answer one lending may do on a connection whose
/// reads keep filling their space, before it goes back to the poller
/// (fairness: other connections wait for workers too).
const ROUNDS: usize = 16;

/// Once the reply buffer reaches this size in the middle of a batch, it is
/// written out (or, when its replies wait for the journal, answering stops
/// there), so that the bound on unread replies is checked while answering
/// and not only after a whole read.
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

/// What one lending of a connection came to.
#[derive(Debug)]
pub(crate) struct Served {
    /// `Ok(())`: back to the poller; `Err(end)`: the connection ends (its
    /// remaining replies are still sent if `end` is orderly).
    pub(crate) verdict: Result<(), End>,
    /// Replies in `conn.out` that must not be written before this ticket
    /// is durable (every journaled change they report has a seq at or
    /// below it).
    pub(crate) held: Option<Ticket>,
    /// The lowest ticket those replies wait for (cluster mode: if any
    /// ticket from it to `held` was lost, the replies are never sent).
    pub(crate) held_from: u64,
}

/// Serves `conn` until it has no complete request left, or until it has
/// replies that wait for the journal.
pub(crate) fn serve(conn: &mut Conn, shared: &Shared, buffers: &mut WorkerBuffers) -> Served {
    let mut unsettled = Unsettled::default();
    let verdict = serve_rounds(conn, shared, buffers, &mut unsettled);
    // Fail-stop here if the journal failed: such replies never go out.
    let held_from = unsettled.lowest().map_or(0, |t| t.seq);
    let held = unsettled.take();
    Served {
        verdict,
        held,
        held_from,
    }
}

fn serve_rounds(
    conn: &mut Conn,
    shared: &Shared,
    buffers: &mut WorkerBuffers,
    unsettled: &mut Unsettled,
) -> Result<(), End> {
    let now = Instant::now();
    for _ in 0..ROUNDS {
        let drained = answer_ready(conn, shared, &mut buffers.scratch, now, unsettled)?;
        if !drained {
            // Stopped at FLUSH_AT with replies held: the rest waits.
            return Ok(());
        }
        if conn.eof {
            answer_last(conn, shared, &mut buffers.scratch, unsettled)?;
            return Err(End::Eof);
        }
        if shared.stop.is_stopping() {
            return Err(End::Shutdown);
        }
        if unsettled.is_pending() {
            // The replies wait for the journal: the poller writes them.
            return Ok(());
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

/// Answers every request the framer has at `now`; returns whether it did
/// (`false`: it stopped at [`FLUSH_AT`] because the replies so far wait for
/// the journal).
fn answer_ready(
    conn: &mut Conn,
    shared: &Shared,
    scratch: &mut Scratch,
    now: Instant,
    unsettled: &mut Unsettled,
) -> Result<bool, End> {
    let mut tally = Tally::default();
    let result = loop {
        let frame = conn.framer.next(now);
        let who = Who {
            access: conn.access,
            map: &mut conn.map,
        };
        let Some(step) = tally.answer_frame(frame, shared, who, scratch, &mut conn.out) else {
            break Ok(true);
        };
        if let Err(end) = step {
            break Err(end);
        }
        if conn.out.len() >= FLUSH_AT {
            if tally.unsettled.is_pending() {
                break Ok(false);
            }
            if let Err(e) = conn.flush(now) {
                break Err(End::Error(e));
            }
            if conn.out.len() > shared.config.max_output {
                break Err(End::Overflow);
            }
        }
    };
    tally.publish(shared, unsettled);
    result
}

/// At end of stream: answers the last unterminated request, if any.
fn answer_last(
    conn: &mut Conn,
    shared: &Shared,
    scratch: &mut Scratch,
    unsettled: &mut Unsettled,
) -> Result<(), End> {
    let mut tally = Tally::default();
    let frame = conn.framer.finish();
    let who = Who {
        access: conn.access,
        map: &mut conn.map,
    };
    let result = tally
        .answer_frame(frame, shared, who, scratch, &mut conn.out)
        .unwrap_or(Ok(()));
    tally.publish(shared, unsettled);
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

/// Writes `line`, a reply of the routing (nothing changed, so nothing to
/// wait for); an error if it says `ERR`.
fn said(out: &mut Vec<u8>, line: &str) -> Answered {
    out.extend_from_slice(line.as_bytes());
    Answered {
        error: line.starts_with("ERR"),
        close: false,
        commit: Commit::None,
    }
}

/// Requests answered in one batch, added to the shared counters once, and
/// the journaled changes among them.
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
    /// Answers what the framer gave: a request, or a line over the limit
    /// (`Err`: the connection ends); `None` when it has nothing whole yet.
    fn answer_frame(
        &mut self,
        frame: Frame<'_>,
        shared: &Shared,
        who: Who<'_>,
        scratch: &mut Scratch,
        out: &mut Vec<u8>,
    ) -> Option<Result<(), End>> {
        match frame {
            Frame::Request { bytes, newline } => {
                Some(self.answer(shared, who, scratch, out, bytes, newline))
            }
            Frame::TooLong => Some(Err(too_long(shared, out, self))),
            Frame::Wait(_) => None,
        }
    }

    fn answer(
        &mut self,
        shared: &Shared,
        who: Who<'_>,
        scratch: &mut Scratch,
        out: &mut Vec<u8>,
        request: &[u8],
        newline: bool,
    ) -> Result<(), End> {
        let route = match &shared.routing {
            None => Route::Here,
            Some(routing) => {
                let current = who.map.as_ref().map_or(DEFAULT_MAP, Inventory::name);
                routing.route(current, request)
            }
        };
        let Answered {
            error,
            close,
            commit,
        } = match route {
            // An original-protocol client (no newline, never `USE`d a
            // map) knows no `ERR moved`: its request is passed to the
            // owner of `default`.
            Route::Moved(owner)
                if !newline && who.map.as_ref().is_none_or(|m| m.name() == DEFAULT_MAP) =>
            {
                match crate::cluster::forward(&owner, request, out) {
                    Ok(()) => Answered {
                        error: false,
                        close: false,
                        commit: Commit::None,
                    },
                    Err(why) => {
                        debug!(%why, "passing a request to the owner of default failed");
                        said(out, &format!("ERR moved {owner}"))
                    }
                }
            }
            Route::Moved(owner) => said(out, &format!("ERR moved {owner}")),
            Route::Reply(line) => said(out, &line),
            Route::Here => shared.catalog.respond_as(
                who.access,
                who.map,
                request,
                scratch,
                &shared.counters,
                out,
            ),
        };
        self.unsettled.note(commit);
        if newline {
            out.push(b'\n');
        }
        self.requests += 1;
        self.errors += u64::from(error);
        debug!(request = %crate::Redacted(request), error, "request");
        if close { Err(End::Quit) } else { Ok(()) }
    }

    /// At the end of a batch: adds to the counters and passes the batch's
    /// commits on to the lending's.
    fn publish(self, shared: &Shared, unsettled: &mut Unsettled) {
        shared.counters.add_requests(self.requests, self.errors);
        unsettled.merge(self.unsettled);
    }
}

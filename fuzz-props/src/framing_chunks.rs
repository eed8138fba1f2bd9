//! The framing rule for line clients: however a stream of newline-ended
//! requests is cut into reads, the requests (with their terminators), the
//! `QUIT` that closes, and the way the connection ends are those of the
//! whole stream read at once. Replies are a function of the requests in
//! order, so equal requests mean equal replies, except for the seats `ANY`
//! and `TOGETHER` choose: seatcore starts each search at a per-thread hint,
//! so two runs may pick different free seats (and later replies then see
//! different maps). Replies are therefore answered, so that `respond` runs
//! on every request, but not compared.
//!
//! Written against today's `Framer` (no grace period): while a connection
//! has not sent its first newline, a read that returns less than it was
//! offered makes the partial bytes an original request. A line client's
//! first line arriving in pieces is the documented hazard, which a grace
//! period is to remove; until then, reads before the first newline are
//! presented as having filled the space they were offered (more bytes
//! queued), which is what the grace period is to achieve. The comparison in
//! [`framing_chunks`] does not depend on that choice: only [`feed`] does.

use seatnet::protocol::{Control, FrameOutcome, Framer};
use seatnet::{Counters, Inventory, Scratch};

use crate::reads::Reads;

const MAX_LINE: usize = 64;
const SEATS: u64 = 100;

/// What one connection saw: each request with its newline flag and
/// whether it closed the connection, and how the connection ended.
#[derive(Debug, PartialEq, Eq)]
struct Seen {
    requests: Vec<(Vec<u8>, bool, bool)>,
    end: FrameOutcome,
}

/// Checks one input (layout: [`Reads`]; a stream without a newline gets
/// one appended, so it is a line-mode stream); panics if the chunked reads
/// see anything else than one whole read.
pub fn framing_chunks(data: &[u8]) {
    let reads = Reads::new(data);
    let mut stream = reads.stream.to_vec();
    if !stream.contains(&b'\n') {
        stream.push(b'\n');
    }
    let whole = feed(&stream, |_, space| space);
    let chunked = feed(&stream, |i, space| reads.size(i, space));
    assert_eq!(
        chunked,
        whole,
        "stream {:?}",
        String::from_utf8_lossy(&stream)
    );
}

/// Feeds `stream` to a fresh framer and inventory in reads of
/// `size(read number, space offered)` bytes, then ends the stream.
fn feed(stream: &[u8], size: impl Fn(usize, usize) -> usize) -> Seen {
    let inventory = Inventory::new(SEATS).expect("seats >= 1");
    let counters = Counters::default();
    let mut scratch = Scratch::default();
    let mut framer = Framer::new(MAX_LINE);
    let mut requests = Vec::new();
    let mut out = Vec::new();
    let mut handle = |request: &[u8], newline: bool| {
        out.clear();
        let answered = inventory.respond(request, &mut scratch, &counters, &mut out);
        requests.push((request.to_vec(), newline, answered.close));
        if answered.close {
            Control::Close
        } else {
            Control::Continue
        }
    };
    let mut at = 0;
    let mut end = FrameOutcome::ReadMore;
    for read in 0.. {
        if at == stream.len() {
            break;
        }
        let line_mode = framer.line_mode();
        let spare = framer.spare();
        let n = size(read, spare.len())
            .clamp(1, spare.len())
            .min(stream.len() - at);
        // Before the first newline, a read says "more is queued" (see the
        // module comment); after it, the read is short unless it filled
        // the space.
        let offered = if line_mode { spare.len() } else { n };
        spare[..n].copy_from_slice(&stream[at..at + n]);
        at += n;
        end = framer.advance(n, offered, &mut handle);
        if end != FrameOutcome::ReadMore {
            break;
        }
    }
    if end == FrameOutcome::ReadMore {
        end = framer.finish(&mut handle);
    }
    Seen { requests, end }
}

//! The framing rule: however one byte stream is cut into chunks, with
//! pauses between them shorter than the grace period, the requests (with
//! their terminators), the `QUIT` that closes, and the way the connection
//! ends are those of the whole stream sent in one write. This is what the
//! grace period buys: a native line written in pieces joins up, on an
//! undecided connection as in line mode. (Once a connection has been
//! answered as an original client, each chunk is its own request, as the
//! original took each `recv`: in this property that never happens, since
//! the whole stream arrives before any grace runs out.)
//!
//! Replies are a function of the requests in order, so equal requests mean
//! equal replies, except for the seats `ANY` and `TOGETHER` choose (from a
//! per-thread hint), so replies are answered, so that `respond` runs on
//! every request, but not compared.

use std::time::Duration;

use seatnet::protocol::Framer;
use seatnet::{Counters, Inventory, Scratch};

use crate::drive::{End, drive};
use crate::reads::Reads;

const MAX_LINE: usize = 64;
const SEATS: u64 = 100;
/// The grace period; pauses between chunks stay below it.
const GRACE: Duration = Duration::from_millis(5);

/// What one connection saw: each request with its newline flag and
/// whether it closed the connection, and how the connection ended.
#[derive(Debug, PartialEq, Eq)]
struct Seen {
    requests: Vec<(Vec<u8>, bool, bool)>,
    end: End,
}

/// Checks one input (layout: [`Reads`]; each chunk's pause is derived from
/// its size and position, always under the grace); panics if the chunked
/// stream sees anything else than one write.
pub fn framing_chunks(data: &[u8]) {
    let reads = Reads::new(data);
    let stream = reads.stream;
    let whole = feed([(stream, Duration::ZERO)]);
    // Pauses of 0 to 4.9 ms: within the grace.
    let chunks = reads.chunks(MAX_LINE * 2, |n, i| {
        Duration::from_micros(((n * 7 + i * 13) % 50) as u64 * 100)
    });
    let chunked = feed(chunks);
    assert_eq!(
        chunked,
        whole,
        "stream {:?}",
        String::from_utf8_lossy(stream)
    );
}

/// Feeds the chunks to a fresh framer and inventory, then ends the stream.
fn feed<'a>(chunks: impl IntoIterator<Item = (&'a [u8], Duration)>) -> Seen {
    let inventory = Inventory::new(SEATS).expect("seats >= 1");
    let counters = Counters::default();
    let mut scratch = Scratch::default();
    let mut framer = Framer::new(MAX_LINE, GRACE);
    let mut requests = Vec::new();
    let mut out = Vec::new();
    let end = drive(&mut framer, chunks, |request, newline| {
        out.clear();
        let answered = inventory.respond(request, &mut scratch, &counters, &mut out);
        requests.push((request.to_vec(), newline, answered.close));
        answered.close
    });
    Seen { requests, end }
}

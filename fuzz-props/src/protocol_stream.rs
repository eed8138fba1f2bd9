//! Arbitrary bytes, cut into arbitrary reads, through seatnet's framing and
//! request handling, as a connection would:
//!
//! - every request handed out holds no `\n` and is within `max_line`;
//! - every reply is non-empty UTF-8 on one line (no `\n`, no `\r`);
//! - a reply starts with `ERR ` exactly when `respond` flagged an error;
//! - every number the parser accepts re-reads, from its canonical text, as
//!   the same number (the echo of the original reply is a fixed point);
//! - the seats reserved never exceed the seat count.

use seatnet::protocol::{Command, Control, FrameOutcome, Framer, Number, parse};
use seatnet::{Counters, Inventory, Scratch};

use crate::reads::Reads;

const MAX_LINE: usize = 64;
const SEATS: u64 = 100;

/// Checks one input (layout: [`Reads`]); panics if a property fails.
pub fn protocol_stream(data: &[u8]) {
    let reads = Reads::new(data);
    let bytes = reads.stream;
    let inventory = Inventory::new(SEATS).expect("seats >= 1");
    let counters = Counters::default();
    let mut scratch = Scratch::default();
    let mut framer = Framer::new(MAX_LINE);
    let mut out = Vec::new();
    let mut handle = |request: &[u8], _newline: bool| {
        assert!(!request.contains(&b'\n'), "a request holds a newline");
        assert!(request.len() <= MAX_LINE, "a request over max_line");
        check_numbers(request);
        out.clear();
        let answered = inventory.respond(request, &mut scratch, &counters, &mut out);
        assert!(!out.is_empty(), "an empty reply");
        assert!(
            !out.contains(&b'\n') && !out.contains(&b'\r'),
            "a reply of more than one line"
        );
        let reply = std::str::from_utf8(&out).expect("UTF-8 reply");
        assert_eq!(answered.error, reply.starts_with("ERR "), "{reply}");
        if answered.close {
            Control::Close
        } else {
            Control::Continue
        }
    };
    let mut at = 0;
    let mut end = FrameOutcome::ReadMore;
    for read in 0.. {
        if at == bytes.len() {
            break;
        }
        let spare = framer.spare();
        let offered = spare.len();
        let n = reads.size(read, offered).min(bytes.len() - at);
        spare[..n].copy_from_slice(&bytes[at..at + n]);
        at += n;
        end = framer.advance(n, offered, &mut handle);
        if end != FrameOutcome::ReadMore {
            break;
        }
    }
    // As the server does: end of stream only on a connection still open
    // (after `Close` or `TooLong` it closes, and the framer's buffer still
    // holds the lines it stopped at).
    if end == FrameOutcome::ReadMore {
        let _ = framer.finish(&mut handle);
    }
    assert!(inventory.map().reserved_count() <= SEATS);
}

/// Each accepted number's canonical text reads back as the same number.
fn check_numbers(request: &[u8]) {
    let mut numbers = Vec::new();
    if let Ok(Command::Original(list) | Command::Book(list) | Command::All(list)) =
        parse(request, &mut numbers)
    {
        for n in list {
            let text = n.to_string();
            assert_eq!(Number::parse(&text).as_ref(), Some(n), "{text}");
        }
    }
}

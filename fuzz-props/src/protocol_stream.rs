//! Arbitrary bytes, cut into arbitrary reads, through seatnet's framing and
//! request handling, as a connection would:
//!
//! - every request handed out holds no `\n` and is within `max_line`;
//! - every reply is non-empty UTF-8 on one line (no `\n`, no `\r`);
//! - a reply starts with `ERR ` exactly when `respond` flagged an error;
//! - every number the parser accepts re-reads, from its canonical text, as
//!   the same number (the echo of the original reply is a fixed point);
//! - the seats reserved never exceed the seat count.

use std::time::Duration;

use seatnet::protocol::{Command, Framer, Number, parse};
use seatnet::{Counters, Inventory, Scratch};

use crate::drive::drive;
use crate::reads::Reads;

const MAX_LINE: usize = 64;
const SEATS: u64 = 100;
const GRACE: Duration = Duration::from_millis(5);

/// Checks one input (layout: [`Reads`]; each chunk's pause, 0 to 9.9 ms,
/// is derived from its size and position, so some pauses outlast the grace
/// and make original requests); panics if a property fails.
pub fn protocol_stream(data: &[u8]) {
    let reads = Reads::new(data);
    let inventory = Inventory::new(SEATS).expect("seats >= 1");
    let counters = Counters::default();
    let mut scratch = Scratch::default();
    let mut framer = Framer::new(MAX_LINE, GRACE);
    let mut out = Vec::new();
    let chunks = reads.chunks(MAX_LINE * 2, |n, i| {
        Duration::from_micros(((n * 11 + i * 17) % 100) as u64 * 100)
    });
    drive(&mut framer, chunks, |request, _newline| {
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
        answered.close
    });
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

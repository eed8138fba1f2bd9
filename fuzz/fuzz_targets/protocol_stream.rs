//! Arbitrary bytes, cut into arbitrary reads, through seatnet's framing and
//! request handling, as a connection would: checked properties, not only
//! "does not crash".
//!
//! - every request handed out holds no `\n` and is within `max_line`;
//! - every reply is non-empty UTF-8 on one line (no `\n`, no `\r`);
//! - every number the parser accepts re-reads, from its canonical text, as
//!   the same number (the echo of the original reply is a fixed point);
//! - the seats reserved never exceed the seat count.
#![no_main]

use libfuzzer_sys::fuzz_target;
use seatnet::protocol::{Command, Control, FrameOutcome, Framer, Number, parse};
use seatnet::{Counters, Inventory, Scratch};

const MAX_LINE: usize = 64;
const SEATS: u64 = 100;

fuzz_target!(|input: (Vec<u8>, Vec<u8>)| {
    let (cuts, bytes) = input;
    let inventory = Inventory::new(SEATS).expect("seats >= 1");
    let counters = Counters::default();
    let mut scratch = Scratch::default();
    let mut framer = Framer::new(MAX_LINE);
    let mut out = Vec::new();
    let mut handle = |request: &[u8], _newline: bool| {
        assert!(!request.contains(&b'\n'));
        assert!(request.len() <= MAX_LINE);
        check_numbers(request);
        out.clear();
        let answered = inventory.respond(request, &mut scratch, &counters, &mut out);
        assert!(!out.is_empty());
        assert!(!out.contains(&b'\n') && !out.contains(&b'\r'));
        let reply = std::str::from_utf8(&out).expect("UTF-8 reply");
        assert_eq!(answered.error, reply.starts_with("ERR "));
        if answered.close {
            Control::Close
        } else {
            Control::Continue
        }
    };
    let (mut at, mut cut) = (0, 0);
    while at < bytes.len() {
        let size = cuts.get(cut).map_or(usize::MAX, |&c| usize::from(c) + 1);
        cut += 1;
        let spare = framer.spare();
        let offered = spare.len();
        let n = size.min(offered).min(bytes.len() - at);
        spare[..n].copy_from_slice(&bytes[at..at + n]);
        at += n;
        if framer.advance(n, offered, &mut handle) != FrameOutcome::ReadMore {
            break;
        }
    }
    let _ = framer.finish(&mut handle);
    assert!(inventory.map().reserved_count() <= SEATS);
});

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

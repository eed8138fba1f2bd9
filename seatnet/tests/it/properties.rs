//! Properties of the protocol layer over generated input: numbers read like
//! Python's `int()`, nothing panics, every reply is one line, and framing
//! does not depend on how the bytes are split into reads.

use std::time::{Duration, Instant};

use proptest::prelude::*;
use seatnet::protocol::{Frame, Framer, Number};
use seatnet::{Counters, Inventory, Scratch};

/// A spelling of `value` that Python's `int()` accepts: optional sign,
/// leading zeros, `_` between digits, whitespace around.
fn spelling() -> impl Strategy<Value = (i128, String)> {
    (
        any::<i128>(),
        0usize..3,
        proptest::collection::vec(any::<bool>(), 40),
        prop::sample::select(vec!["", " ", "\t", "\u{a0}", "\u{2028}", " \r"]),
        any::<bool>(),
    )
        .prop_map(|(value, zeros, underscores, space, plus)| {
            let digits = format!("{}{}", "0".repeat(zeros), value.unsigned_abs());
            let mut text = String::from(space);
            if value < 0 {
                text.push('-');
            } else if plus {
                text.push('+');
            }
            for (i, c) in digits.chars().enumerate() {
                if i > 0 && underscores[i % underscores.len()] {
                    text.push('_');
                }
                text.push(c);
            }
            text.push_str(space);
            (value, text)
        })
}

proptest! {
    #[test]
    fn numbers_read_like_python_int((value, text) in spelling()) {
        let n = Number::parse(&text).expect("a valid spelling");
        prop_assert_eq!(n.to_string(), value.to_string());
        let is_seat = (1..=100).contains(&value);
        prop_assert_eq!(n.wire_seat(100).is_some(), is_seat);
    }

    #[test]
    fn any_request_gets_exactly_one_line_and_no_panic(bytes in proptest::collection::vec(any::<u8>(), 0..64)) {
        let line: Vec<u8> = bytes.into_iter().filter(|&b| b != b'\n').collect();
        let inventory = Inventory::new(100).unwrap();
        let mut out = Vec::new();
        inventory.respond(&line, &mut Scratch::default(), &Counters::default(), &mut out);
        prop_assert!(!out.is_empty());
        prop_assert!(!out.contains(&b'\n') && !out.contains(&b'\r'));
        prop_assert!(std::str::from_utf8(&out).is_ok());
    }

    #[test]
    fn text_requests_get_one_line(text in "[ -~\t]{0,40}") {
        let inventory = Inventory::new(100).unwrap();
        let mut out = Vec::new();
        inventory.respond(text.as_bytes(), &mut Scratch::default(), &Counters::default(), &mut out);
        prop_assert!(!out.contains(&b'\n'));
    }

    #[test]
    fn framing_ignores_how_pieces_within_the_grace_split_the_bytes(
        lines in proptest::collection::vec("[0-9,A-Z ]{0,20}", 1..20),
        cuts in proptest::collection::vec(1usize..30, 1..40),
    ) {
        // From the very first byte, whatever the split: pieces that follow
        // each other within the grace join up into the same lines.
        let mut stream = Vec::new();
        for line in &lines {
            stream.extend_from_slice(line.as_bytes());
            stream.extend_from_slice(b"\r\n");
        }
        let grace = Duration::from_millis(5);
        let t0 = Instant::now();
        let mut framer = Framer::new(64, grace);
        let mut seen: Vec<String> = Vec::new();
        let (mut at, mut cut) = (0, 0);
        while at < stream.len() {
            let n = cuts[cut % cuts.len()].min(stream.len() - at);
            // Each piece 1 ms after the one before: well within the grace.
            let now = t0 + Duration::from_millis(cut as u64);
            cut += 1;
            framer.push(&stream[at..at + n], now);
            at += n;
            loop {
                match framer.next(now) {
                    Frame::Request { bytes, newline } => {
                        prop_assert!(newline, "a partial line was answered as an original request");
                        seen.push(String::from_utf8(bytes.to_vec()).unwrap());
                    }
                    Frame::TooLong => prop_assert!(false, "no line is too long"),
                    Frame::Wait(_) => break,
                }
            }
        }
        prop_assert_eq!(&seen[..], &lines[..]);
    }
}

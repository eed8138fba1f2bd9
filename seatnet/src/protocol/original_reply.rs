//! Recognises the original server's reply, which has no terminator:
//! `Reservados: [5, 10] | Indisponíveis/Inválidos: [22]`.
//!
//! The original sends no newline, so the only way to know a reply is whole
//! without a timer is its shape: both bracket lists closed. The client and
//! the load tool both use this module, so that they agree on one
//! definition of the original reply. (The server writes it in
//! [`Reply`](super::Reply); the tests check the two agree.)
//!
//! # Examples
//!
//! ```
//! use seatnet::protocol::original_reply::{Scan, reserved_seats, scan};
//!
//! let reply = "Reservados: [5] | Indisponíveis/Inválidos: [22]".as_bytes();
//! assert_eq!(scan(reply), Scan::Complete(reply.len()));
//! assert_eq!(scan(&reply[..10]), Scan::Incomplete);
//! let mut seats = Vec::new();
//! assert!(reserved_seats(reply, &mut seats));
//! assert_eq!(seats, [5]);
//! ```

/// What the reply starts with.
const HEAD: &[u8] = b"Reservados: [";
/// What joins the two lists (it starts with the `]` closing the first).
const MIDDLE: &[u8] = "] | Indisponíveis/Inválidos: [".as_bytes();

/// How far a buffer is from holding one whole original reply.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scan {
    /// The first `len` bytes are one whole original reply.
    Complete(usize),
    /// The buffer is a proper prefix of an original reply: read more.
    Incomplete,
    /// The buffer does not start like an original reply.
    NotOriginal,
}

/// Looks for one whole original reply at the start of `buf`.
pub fn scan(buf: &[u8]) -> Scan {
    let Some(rest) = expect(buf, HEAD) else {
        return prefix_or_not(buf, HEAD);
    };
    let first_len = match list(rest) {
        List::Closed(len) => len,
        List::Open => return Scan::Incomplete,
        List::Bad => return Scan::NotOriginal,
    };
    let after_first = &rest[first_len..];
    let Some(rest2) = expect(after_first, MIDDLE) else {
        return prefix_or_not(after_first, MIDDLE);
    };
    match list(rest2) {
        List::Closed(len) => Scan::Complete(HEAD.len() + first_len + MIDDLE.len() + len + 1),
        List::Open => Scan::Incomplete,
        List::Bad => Scan::NotOriginal,
    }
}

/// Appends the numbers of the first list (`Reservados`) of a whole reply to
/// `out`. Returns `false`, leaving `out` as it was, when `reply` is not an
/// original reply or holds a number that is no `u64`.
pub fn reserved_seats(reply: &[u8], out: &mut Vec<u64>) -> bool {
    let Scan::Complete(_) = scan(reply) else {
        return false;
    };
    let body = &reply[HEAD.len()..];
    let end = body.iter().position(|&b| b == b']').unwrap_or(body.len());
    let before = out.len();
    for piece in body[..end].split(|&b| b == b',') {
        let text = piece.trim_ascii();
        if text.is_empty() {
            continue;
        }
        match std::str::from_utf8(text).ok().and_then(|t| t.parse().ok()) {
            Some(seat) => out.push(seat),
            None => {
                out.truncate(before);
                return false;
            }
        }
    }
    true
}

/// `buf` without `expected` in front, if it starts with it.
fn expect<'a>(buf: &'a [u8], expected: &[u8]) -> Option<&'a [u8]> {
    buf.strip_prefix(expected)
}

/// A buffer that did not start with `expected`: is it a prefix of it?
fn prefix_or_not(buf: &[u8], expected: &[u8]) -> Scan {
    if buf.len() < expected.len() && expected.starts_with(buf) {
        Scan::Incomplete
    } else {
        Scan::NotOriginal
    }
}

enum List {
    /// The list body is this many bytes long; a `]` follows.
    Closed(usize),
    Open,
    Bad,
}

/// A Python list body: decimal numbers, `-` signs, `, ` separators.
fn list(buf: &[u8]) -> List {
    for (i, &b) in buf.iter().enumerate() {
        match b {
            b']' => return List::Closed(i),
            b'0'..=b'9' | b'-' | b',' | b' ' => {}
            _ => return List::Bad,
        }
    }
    List::Open
}

#[cfg(test)]
mod tests {
    use super::*;

    const REPLY: &str = "Reservados: [5, 10] | Indisponíveis/Inválidos: [22]";

    #[test]
    fn a_whole_reply_is_complete_at_its_last_bracket() {
        assert_eq!(scan(REPLY.as_bytes()), Scan::Complete(REPLY.len()));
        let mut longer = REPLY.as_bytes().to_vec();
        longer.extend_from_slice(b"\nReserv");
        assert_eq!(scan(&longer), Scan::Complete(REPLY.len()));
    }

    #[test]
    fn every_proper_prefix_is_incomplete() {
        let bytes = REPLY.as_bytes();
        for cut in 0..bytes.len() {
            assert_eq!(scan(&bytes[..cut]), Scan::Incomplete, "cut at {cut}");
        }
    }

    #[test]
    fn empty_lists_and_odd_numbers_are_recognised() {
        let empty = "Reservados: [] | Indisponíveis/Inválidos: []";
        assert_eq!(scan(empty.as_bytes()), Scan::Complete(empty.len()));
        let odd = "Reservados: [] | Indisponíveis/Inválidos: [0, 101, -3, 123456789012345678901234567890]";
        assert_eq!(scan(odd.as_bytes()), Scan::Complete(odd.len()));
    }

    #[test]
    fn other_replies_are_not_original() {
        assert_eq!(scan(b"OK 1 seats=5"), Scan::NotOriginal);
        assert_eq!(scan(b"ERR busy: full"), Scan::NotOriginal);
        assert_eq!(scan(b"Reservados: [5x"), Scan::NotOriginal);
        assert_eq!(scan(b"Reservados: [5] | nope"), Scan::NotOriginal);
    }

    #[test]
    fn the_servers_own_original_replies_are_recognised() {
        let inventory = crate::Inventory::new(100).expect("100 seats");
        let (mut scratch, counters) = (crate::Scratch::default(), crate::Counters::default());
        for (request, reserved) in [
            ("5,10,0", &[5, 10][..]),
            ("5,-3,99999999999999999999999", &[]),
        ] {
            let mut out = Vec::new();
            let _ = inventory.respond(request.as_bytes(), &mut scratch, &counters, &mut out);
            assert_eq!(scan(&out), Scan::Complete(out.len()), "{request}");
            let mut seats = Vec::new();
            assert!(reserved_seats(&out, &mut seats), "{request}");
            assert_eq!(seats, reserved, "{request}");
        }
    }

    #[test]
    fn reserved_seats_reads_the_first_list_only() {
        let mut out = vec![99];
        assert!(reserved_seats(REPLY.as_bytes(), &mut out));
        assert_eq!(out, [99, 5, 10]);
        out.clear();
        let none = "Reservados: [] | Indisponíveis/Inválidos: [1]";
        assert!(reserved_seats(none.as_bytes(), &mut out));
        assert!(out.is_empty());
    }

    #[test]
    fn reserved_seats_rejects_what_is_not_a_seat_list() {
        let mut out = vec![];
        assert!(!reserved_seats(b"OK 1 seats=5", &mut out));
        let negative = "Reservados: [-1] | Indisponíveis/Inválidos: []";
        assert!(!reserved_seats(negative.as_bytes(), &mut out));
        let partial = "Reservados: [1, 2";
        assert!(!reserved_seats(partial.as_bytes(), &mut out));
        assert!(out.is_empty());
    }
}

//! Where one reply ends in a connection's input, for each framing.

use crate::cli::Framing;
use crate::original_reply::{self, Scan};

/// Longest reply accepted before the peer counts as broken.
const MAX_REPLY: usize = 64 * 1024;

/// What the front of a buffer holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Next {
    /// A reply in `start..end`; the next one starts at `next`.
    Reply {
        start: usize,
        end: usize,
        next: usize,
    },
    /// Not a whole reply yet.
    Incomplete,
    /// Not a reply this framing can end (the connection is beyond use).
    Bad,
}

/// Finds the first reply in `buf`, to a request of `per_request` seats.
///
/// - newline framing: up to `\n` (a `\r` before it is dropped);
/// - original framing: a whole original-form reply; any line ending found
///   before it is skipped, and a line that is not original-form (an `ERR`
///   line from seatnet) is still one reply;
/// - RESP: `per_request` integer (`:0`) or error (`-ERR ..`) replies, one
///   per `SETBIT`, each ending with `\r\n`.
pub(crate) fn next_reply(buf: &[u8], framing: Framing, per_request: u32) -> Next {
    match framing {
        Framing::Resp => resp(buf, per_request),
        Framing::Newline => line(buf, 0),
        Framing::Original => {
            let start = buf
                .iter()
                .position(|&b| b != b'\n' && b != b'\r')
                .unwrap_or(buf.len());
            match original_reply::scan(&buf[start..]) {
                Scan::Complete(len) => Next::Reply {
                    start,
                    end: start + len,
                    next: start + len,
                },
                Scan::Incomplete => Next::Incomplete,
                Scan::NotOriginal => match line(buf, start) {
                    Next::Incomplete => Next::Bad,
                    other => other,
                },
            }
        }
    }
}

/// `count` RESP replies of one line each: integers or errors.
fn resp(buf: &[u8], count: u32) -> Next {
    let mut at = 0;
    for _ in 0..count {
        if let Some(&kind) = buf.get(at) {
            if kind != b':' && kind != b'-' {
                return Next::Bad;
            }
        }
        match buf[at..].windows(2).position(|w| w == b"\r\n") {
            Some(pos) => at += pos + 2,
            None if buf.len() > MAX_REPLY => return Next::Bad,
            None => return Next::Incomplete,
        }
    }
    Next::Reply {
        start: 0,
        end: at,
        next: at,
    }
}

fn line(buf: &[u8], start: usize) -> Next {
    match buf[start..].iter().position(|&b| b == b'\n') {
        Some(pos) => {
            let end = start + pos;
            let trimmed = if end > start && buf[end - 1] == b'\r' {
                end - 1
            } else {
                end
            };
            Next::Reply {
                start,
                end: trimmed,
                next: end + 1,
            }
        }
        None if buf.len() - start > MAX_REPLY => Next::Bad,
        None => Next::Incomplete,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const R: &str = "Reservados: [5] | Indisponíveis/Inválidos: []";

    #[test]
    fn newline_replies_end_at_the_newline() {
        let buf = format!("{R}\r\n{R}\nReserv");
        let Next::Reply { start, end, next } = next_reply(buf.as_bytes(), Framing::Newline, 1)
        else {
            panic!("no reply");
        };
        assert_eq!(&buf[start..end], R);
        let rest = &buf.as_bytes()[next..];
        let Next::Reply { end, next, .. } = next_reply(rest, Framing::Newline, 1) else {
            panic!("no second reply");
        };
        assert_eq!(&rest[..end], R.as_bytes());
        assert_eq!(
            next_reply(&rest[next..], Framing::Newline, 1),
            Next::Incomplete
        );
    }

    #[test]
    fn original_replies_end_at_the_last_bracket() {
        let buf = R.as_bytes();
        assert_eq!(
            next_reply(buf, Framing::Original, 1),
            Next::Reply {
                start: 0,
                end: buf.len(),
                next: buf.len()
            }
        );
        assert_eq!(
            next_reply(&buf[..20], Framing::Original, 1),
            Next::Incomplete
        );
        let late_newline = format!("\n{R}");
        assert!(matches!(
            next_reply(late_newline.as_bytes(), Framing::Original, 1),
            Next::Reply { start: 1, .. }
        ));
    }

    #[test]
    fn resp_replies_are_one_line_per_seat() {
        let buf = b":0\r\n:1\r\n-ERR wrong\r\n:0";
        assert_eq!(
            next_reply(buf, Framing::Resp, 2),
            Next::Reply {
                start: 0,
                end: 8,
                next: 8
            }
        );
        assert!(matches!(
            next_reply(&buf[8..], Framing::Resp, 1),
            Next::Reply { end: 12, .. }
        ));
        assert_eq!(next_reply(&buf[8..], Framing::Resp, 2), Next::Incomplete);
        assert_eq!(next_reply(b":0\r", Framing::Resp, 1), Next::Incomplete);
        assert_eq!(next_reply(b"+OK\r\n", Framing::Resp, 1), Next::Bad);
        assert_eq!(next_reply(b":0\r\n$3\r\n", Framing::Resp, 2), Next::Bad);
    }

    #[test]
    fn an_err_line_is_a_reply_and_garbage_is_bad() {
        let buf = b"ERR busy: too many connections\n";
        assert_eq!(
            next_reply(buf, Framing::Original, 1),
            Next::Reply {
                start: 0,
                end: buf.len() - 1,
                next: buf.len()
            }
        );
        assert_eq!(next_reply(b"garbage", Framing::Original, 1), Next::Bad);
        let endless = vec![b'x'; MAX_REPLY + 1];
        assert_eq!(next_reply(&endless, Framing::Newline, 1), Next::Bad);
    }
}

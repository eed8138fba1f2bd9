//! Where one reply ends in a connection's input, for either framing.

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

/// Finds the first reply in `buf`.
///
/// - newline framing: up to `\n` (a `\r` before it is dropped);
/// - original framing: a whole original-form reply; any line ending found
///   before it is skipped, and a line that is not original-form (an `ERR`
///   line from seatnet) is still one reply.
pub(crate) fn next_reply(buf: &[u8], framing: Framing) -> Next {
    match framing {
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
        let Next::Reply { start, end, next } = next_reply(buf.as_bytes(), Framing::Newline) else {
            panic!("no reply");
        };
        assert_eq!(&buf[start..end], R);
        let rest = &buf.as_bytes()[next..];
        let Next::Reply { end, next, .. } = next_reply(rest, Framing::Newline) else {
            panic!("no second reply");
        };
        assert_eq!(&rest[..end], R.as_bytes());
        assert_eq!(
            next_reply(&rest[next..], Framing::Newline),
            Next::Incomplete
        );
    }

    #[test]
    fn original_replies_end_at_the_last_bracket() {
        let buf = R.as_bytes();
        assert_eq!(
            next_reply(buf, Framing::Original),
            Next::Reply {
                start: 0,
                end: buf.len(),
                next: buf.len()
            }
        );
        assert_eq!(next_reply(&buf[..20], Framing::Original), Next::Incomplete);
        let late_newline = format!("\n{R}");
        assert!(matches!(
            next_reply(late_newline.as_bytes(), Framing::Original),
            Next::Reply { start: 1, .. }
        ));
    }

    #[test]
    fn an_err_line_is_a_reply_and_garbage_is_bad() {
        let buf = b"ERR busy: too many connections\n";
        assert_eq!(
            next_reply(buf, Framing::Original),
            Next::Reply {
                start: 0,
                end: buf.len() - 1,
                next: buf.len()
            }
        );
        assert_eq!(next_reply(b"garbage", Framing::Original), Next::Bad);
        let endless = vec![b'x'; MAX_REPLY + 1];
        assert_eq!(next_reply(&endless, Framing::Newline), Next::Bad);
    }
}

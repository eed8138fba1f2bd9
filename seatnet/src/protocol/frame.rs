//! Framing: where one request ends.
//!
//! Two kinds of client share the port:
//!
//! - **line clients** end each request with `\n` (or `\r\n`) and may send
//!   many in one write; each gets its reply followed by `\n`, in order;
//! - **original clients** send one request with no terminator in one write
//!   and wait for the reply, which must come without `\n`.
//!
//! # The rule
//!
//! A connection's kind is *undecided* until its first request is answered.
//!
//! - A complete line (bytes up to `\n`) is always a line request, and the
//!   first one puts the connection in *line mode* for good: from then on a
//!   partial line waits for its newline (bounded by the server's request
//!   timeout and `max_line`).
//! - While undecided, unterminated bytes are answered as an original
//!   request only once a **grace period** (`grace`, default 5 ms) has passed
//!   with no new bytes, so a native line written in pieces within that
//!   period joins up. A partial whose first non-blank byte is an ASCII
//!   letter can never be a request the original answered (its `int()`
//!   takes no letters), so it waits longer, [`Framer::letter_grace`]
//!   (`max(grace, 1 s)`): a native command written in pieces joins up even
//!   with long pauses, and an original client that typed a word still gets
//!   its one-line error, without newline, about a second later. Trailing
//!   whitespace is nothing special (`5,10 ` is seats 5 and 10 and waits the
//!   plain grace).
//! - Once the first request was answered as an original request, the
//!   connection is an *original client* for good and each later batch of
//!   unterminated bytes is answered at once, as the original did (it took
//!   each `recv` as one request). The grace is paid once per connection,
//!   never per request.
//!
//! The one remaining hazard: a line client whose **first** line reaches the
//! server in pieces separated by more than the grace (more than 1 s for a
//! line that starts with a letter), with the first piece not starting with
//! a letter (`5,1` … `0\n`), gets that first piece answered as an original
//! request, and the connection is an original client from then on.
//!
//! The framer is pure: it never reads a clock. The caller passes the time
//! bytes arrived ([`Framer::push`]) and the time now ([`Framer::next`]),
//! and the framer says until when it waits ([`Frame::Wait`]), so it can be
//! tested and fuzzed with made-up times.
//!
//! Memory is bounded: the buffer holds at most one partial request of
//! `max_line` bytes (plus `\r\n`) and the requests not yet taken; the
//! caller reads at most [`Framer::room`] bytes.

use std::time::{Duration, Instant};

/// What to do after a request's reply.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Control {
    /// Go on with the next request.
    Continue,
    /// Stop: answer nothing more (the client said `QUIT`).
    Close,
}

/// What [`Framer::next`] found.
#[derive(Debug, PartialEq, Eq)]
pub enum Frame<'a> {
    /// A request to answer now; `newline`: it ended with a newline (its
    /// reply ends with one too).
    Request {
        /// The request's bytes, without `\r\n`.
        bytes: &'a [u8],
        /// Whether the request ended with a newline.
        newline: bool,
    },
    /// A request over `max_line` bytes: answer `ERR line-too-long` and
    /// close. The requests before it were handed out.
    TooLong,
    /// Nothing to answer yet. `Some(t)`: undecided bytes become an
    /// original request at `t` if nothing arrives before; `None`: wait for
    /// more bytes (nothing buffered, or a partial line in line mode).
    Wait(Option<Instant>),
}

/// What the connection has shown itself to be.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Undecided,
    Line,
    Original,
}

/// Splits a connection's byte stream into requests.
///
/// # Examples
///
/// ```
/// use std::time::{Duration, Instant};
/// use seatnet::protocol::{Frame, Framer};
///
/// let t0 = Instant::now();
/// let mut framer = Framer::new(4096, Duration::from_millis(5));
/// framer.push(b"1\r\n2\n3", t0);
/// assert_eq!(framer.next(t0), Frame::Request { bytes: b"1", newline: true });
/// assert_eq!(framer.next(t0), Frame::Request { bytes: b"2", newline: true });
/// // "3" waits for its newline: the connection is in line mode.
/// assert_eq!(framer.next(t0), Frame::Wait(None));
///
/// // A new connection: bytes with no newline are an original request once
/// // the grace has passed with nothing more.
/// framer.reset();
/// framer.push(b"5,10", t0);
/// let deadline = t0 + Duration::from_millis(5);
/// assert_eq!(framer.next(t0), Frame::Wait(Some(deadline)));
/// assert_eq!(framer.next(deadline), Frame::Request { bytes: b"5,10", newline: false });
/// ```
#[derive(Debug)]
pub struct Framer {
    buf: Vec<u8>,
    /// Where the requests not yet handed out begin in `buf`.
    start: usize,
    kind: Kind,
    max_line: usize,
    grace: Duration,
    /// When the last bytes arrived.
    last_arrival: Option<Instant>,
    /// When the first byte of the oldest unanswered request arrived.
    partial_since: Option<Instant>,
}

impl Framer {
    /// How long a letter-first undecided partial waits at least.
    pub const LETTER_GRACE: Duration = Duration::from_secs(1);

    /// A framer for requests of at most `max_line` bytes (terminator not
    /// counted) and undecided bytes waiting `grace` for more.
    #[must_use]
    pub fn new(max_line: usize, grace: Duration) -> Self {
        Framer {
            buf: Vec::new(),
            start: 0,
            kind: Kind::Undecided,
            max_line,
            grace,
            last_arrival: None,
            partial_since: None,
        }
    }

    /// Forgets everything, for the next connection.
    pub fn reset(&mut self) {
        self.buf.clear();
        self.start = 0;
        self.kind = Kind::Undecided;
        self.last_arrival = None;
        self.partial_since = None;
    }

    /// Whether the connection has sent a newline-terminated request.
    #[must_use]
    pub fn line_mode(&self) -> bool {
        self.kind == Kind::Line
    }

    /// How long a letter-first undecided partial waits: `max(grace, 1 s)`.
    #[must_use]
    pub fn letter_grace(&self) -> Duration {
        self.grace.max(Self::LETTER_GRACE)
    }

    /// How many bytes the caller may read and [`push`](Self::push) now:
    /// room for one more read of 8 KiB beyond the longest partial request.
    /// Zero while requests wait to be taken with [`next`](Self::next).
    #[must_use]
    pub fn room(&self) -> usize {
        (self.max_line + 2 + 8 * 1024).saturating_sub(self.buffered().len())
    }

    /// Whether bytes not yet answered are buffered.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.buffered().is_empty()
    }

    /// When the first byte of the oldest unanswered request arrived (for
    /// the server's request timeout), if any is buffered.
    #[must_use]
    pub fn partial_since(&self) -> Option<Instant> {
        self.partial_since.filter(|_| !self.is_empty())
    }

    /// When the buffered bytes can be answered without more arriving:
    /// `Some(t)` with `t` in the past if a request is complete now, in the
    /// future for undecided bytes still in their grace, `None` if nothing
    /// is buffered or a partial line waits for its newline.
    #[must_use]
    pub fn ready_at(&self) -> Option<Instant> {
        let pending = self.buffered();
        let arrived = self.last_arrival?;
        if pending.is_empty() {
            return None;
        }
        if memchr(b'\n', pending).is_some() || pending.len() > self.max_line + 1 {
            return Some(arrived);
        }
        match self.kind {
            Kind::Line => None,
            Kind::Original => Some(arrived),
            Kind::Undecided => Some(arrived + self.wait_for(pending)),
        }
    }

    /// How long undecided `pending` bytes wait for more.
    fn wait_for(&self, pending: &[u8]) -> Duration {
        if starts_with_letter(pending) {
            self.letter_grace()
        } else {
            self.grace
        }
    }

    /// Takes bytes that arrived at `now`.
    pub fn push(&mut self, bytes: &[u8], now: Instant) {
        if bytes.is_empty() {
            return;
        }
        if self.is_empty() {
            self.partial_since = Some(now);
        }
        if self.start > 0 {
            self.buf.drain(..self.start);
            self.start = 0;
        }
        self.buf.extend_from_slice(bytes);
        self.last_arrival = Some(now);
    }

    /// The next request to answer at `now`, or why there is none yet.
    pub fn next(&mut self, now: Instant) -> Frame<'_> {
        let pending = &self.buf[self.start..];
        if let Some(at) = memchr(b'\n', pending) {
            let begin = self.start;
            let mut end = begin + at;
            self.start = end + 1;
            self.kind = Kind::Line;
            // The rest arrived no earlier than the last bytes (a lenient
            // start for the next request's timeout).
            self.partial_since = self.last_arrival;
            if end > begin && self.buf[end - 1] == b'\r' {
                end -= 1;
            }
            if end - begin > self.max_line {
                return Frame::TooLong;
            }
            return Frame::Request {
                bytes: &self.buf[begin..end],
                newline: true,
            };
        }
        if pending.is_empty() {
            self.buf.clear();
            self.start = 0;
            return Frame::Wait(None);
        }
        if pending.len() > self.max_line + 1 {
            // Even a `\r\n` next could not make it short enough.
            return Frame::TooLong;
        }
        let answer_at = match self.kind {
            Kind::Line => return Frame::Wait(None),
            Kind::Original => now,
            Kind::Undecided => self.last_arrival.unwrap_or(now) + self.wait_for(pending),
        };
        if now < answer_at {
            return Frame::Wait(Some(answer_at));
        }
        self.take_partial()
    }

    /// At end of stream: the last unterminated request, if any (a client
    /// that half-closes after its last line still gets an answer), else
    /// `Wait(None)`.
    pub fn finish(&mut self) -> Frame<'_> {
        if self.is_empty() {
            return Frame::Wait(None);
        }
        self.take_partial()
    }

    /// Hands out every buffered byte as one request without newline.
    fn take_partial(&mut self) -> Frame<'_> {
        let begin = self.start;
        if self.buf.len() - begin > self.max_line {
            return Frame::TooLong;
        }
        self.start = self.buf.len();
        if self.kind == Kind::Undecided {
            self.kind = Kind::Original;
        }
        Frame::Request {
            bytes: &self.buf[begin..],
            newline: false,
        }
    }

    /// The bytes not yet handed out.
    fn buffered(&self) -> &[u8] {
        &self.buf[self.start..]
    }
}

/// Whether the first byte that is not ASCII whitespace is an ASCII letter.
fn starts_with_letter(bytes: &[u8]) -> bool {
    bytes
        .iter()
        .find(|b| !b.is_ascii_whitespace())
        .is_some_and(u8::is_ascii_alphabetic)
}

/// The index of the first `needle` in `haystack` (`slice::iter().position`
/// compiles to a simple loop that is fast enough for short lines).
fn memchr(needle: u8, haystack: &[u8]) -> Option<usize> {
    haystack.iter().position(|&b| b == needle)
}

#[cfg(test)]
mod tests {
    use super::*;

    const GRACE: Duration = Duration::from_millis(5);

    /// Feeds `pieces`, the i-th arriving at `t0 + at_ms`, and after each
    /// piece takes every request ready at that moment; then, far later,
    /// whatever is still undecided. Records requests.
    fn run(max_line: usize, pieces: &[(u64, &[u8])]) -> (Vec<(String, bool)>, bool) {
        let t0 = Instant::now();
        let mut framer = Framer::new(max_line, GRACE);
        let mut seen = Vec::new();
        let mut take = |framer: &mut Framer, now| loop {
            match framer.next(now) {
                Frame::Request { bytes, newline } => {
                    seen.push((String::from_utf8_lossy(bytes).into_owned(), newline));
                }
                Frame::TooLong => return true,
                Frame::Wait(_) => return false,
            }
        };
        for &(at_ms, bytes) in pieces {
            let now = t0 + Duration::from_millis(at_ms);
            // Whatever became due before these bytes arrived goes first.
            if take(&mut framer, now) {
                return (seen, true);
            }
            framer.push(bytes, now);
            if take(&mut framer, now) {
                return (seen, true);
            }
        }
        let too_long = take(&mut framer, t0 + Duration::from_secs(3600));
        (seen, too_long)
    }

    fn req(s: &str, nl: bool) -> (String, bool) {
        (s.to_owned(), nl)
    }

    #[test]
    fn an_original_request_is_answered_after_the_grace() {
        let t0 = Instant::now();
        let mut framer = Framer::new(4096, GRACE);
        framer.push(b"5,10,22", t0);
        assert_eq!(framer.next(t0), Frame::Wait(Some(t0 + GRACE)));
        assert_eq!(
            framer.next(t0 + GRACE),
            Frame::Request {
                bytes: b"5,10,22",
                newline: false
            }
        );
        // From now on, at once.
        let later = t0 + Duration::from_secs(1);
        framer.push(b"7", later);
        assert_eq!(
            framer.next(later),
            Frame::Request {
                bytes: b"7",
                newline: false
            }
        );
    }

    #[test]
    fn pieces_within_the_grace_join_up() {
        let (seen, _) = run(4096, &[(0, b"ALL 1"), (3, b","), (6, b"2,13\n")]);
        assert_eq!(seen, [req("ALL 1,2,13", true)]);
        let (seen, _) = run(4096, &[(0, b"5,1"), (4, b"0\n")]);
        assert_eq!(seen, [req("5,10", true)]);
    }

    #[test]
    fn a_pause_longer_than_the_grace_ends_an_original_request() {
        let (seen, _) = run(4096, &[(0, b"5,1"), (20, b"0")]);
        assert_eq!(seen, [req("5,1", false), req("0", false)]);
    }

    #[test]
    fn a_letter_first_partial_waits_a_second() {
        let (seen, _) = run(4096, &[(0, b"BOOK "), (900, b"5,10\n")]);
        assert_eq!(seen, [req("BOOK 5,10", true)]);
        let t0 = Instant::now();
        let mut framer = Framer::new(4096, GRACE);
        framer.push(b" abc", t0);
        assert_eq!(
            framer.next(t0),
            Frame::Wait(Some(t0 + Framer::LETTER_GRACE))
        );
    }

    #[test]
    fn trailing_whitespace_waits_only_the_grace() {
        let t0 = Instant::now();
        let mut framer = Framer::new(4096, GRACE);
        framer.push(b"5,10 ", t0);
        assert_eq!(framer.next(t0), Frame::Wait(Some(t0 + GRACE)));
    }

    #[test]
    fn pipelined_lines_and_line_mode() {
        let (seen, _) = run(4096, &[(0, b"1\n2\r\n3\n")]);
        assert_eq!(seen, [req("1", true), req("2", true), req("3", true)]);
        // In line mode a partial waits for its newline however long.
        let (seen, _) = run(4096, &[(0, b"1\n2,"), (5000, b"3\n")]);
        assert_eq!(seen, [req("1", true), req("2,3", true)]);
    }

    #[test]
    fn too_long_lines_are_refused() {
        let long = vec![b'1'; 11];
        assert!(run(10, &[(0, &long)]).1);
        let mut line = long.clone();
        line.push(b'\n');
        let (seen, too_long) = run(10, &[(0, b"1\n"), (1, &line)]);
        assert_eq!((seen.len(), too_long), (1, true));
        // Exactly max_line, with \r\n, is fine.
        let (seen, too_long) = run(10, &[(0, b"1234567890\r\n")]);
        assert_eq!((seen, too_long), (vec![req("1234567890", true)], false));
        // A partial line in line mode that can no longer fit.
        let (_, too_long) = run(10, &[(0, b"1\n"), (1, b"123456789012")]);
        assert!(too_long);
    }

    #[test]
    fn room_bounds_the_buffer() {
        let mut framer = Framer::new(100, GRACE);
        let now = Instant::now();
        let mut too_long = false;
        for _ in 0..1000 {
            let chunk = vec![b'7'; framer.room()];
            framer.push(&chunk, now);
            if framer.next(now) == Frame::TooLong {
                too_long = true;
                break;
            }
        }
        assert!(too_long);
        assert!(framer.buf.len() <= 100 + 2 + 8 * 1024);
    }

    #[test]
    fn finish_answers_a_last_partial_line() {
        let now = Instant::now();
        let mut framer = Framer::new(4096, GRACE);
        framer.push(b"1\n2", now);
        assert_eq!(
            framer.next(now),
            Frame::Request {
                bytes: b"1",
                newline: true
            }
        );
        assert_eq!(framer.next(now), Frame::Wait(None));
        assert_eq!(
            framer.finish(),
            Frame::Request {
                bytes: b"2",
                newline: false
            }
        );
        assert_eq!(framer.finish(), Frame::Wait(None));
        framer.reset();
        assert!(!framer.line_mode());
    }

    #[test]
    fn partial_since_is_the_first_byte_of_the_waiting_request() {
        let t0 = Instant::now();
        let t1 = t0 + Duration::from_secs(1);
        let mut framer = Framer::new(4096, GRACE);
        framer.push(b"1\n2", t0);
        framer.push(b",3", t1);
        assert_eq!(framer.partial_since(), Some(t0));
        let _ = framer.next(t1);
        // "2,3" is all that is left; it counts from the last arrival.
        assert_eq!(framer.partial_since(), Some(t1));
    }
}

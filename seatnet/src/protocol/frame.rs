//! Framing: where one request ends.
//!
//! Two kinds of client share the port:
//!
//! - **line clients** end each request with `\n` (or `\r\n`) and may send
//!   many in one write; each gets its reply followed by `\n`, in order;
//! - **original clients** send one request with no terminator in one write
//!   and wait for the reply, which must come without `\n` and without delay.
//!
//! The rule that tells them apart with no timer and no extra system call:
//! a `read` that returns **fewer bytes than the space offered** means the
//! kernel had nothing more queued, so the client has sent everything it has
//! for now. If bytes after the last newline remain at that moment and the
//! connection has never sent a newline, they are one original request. Once
//! a connection has sent one newline-terminated request it is in *line
//! mode*, and from then on a partial line waits for its newline.
//!
//! The hazard, documented in `docs/protocol.md`: a line client whose very
//! first line reaches the server in two pieces with a pause between them
//! gets its first piece answered as an original request.
//!
//! Memory is bounded: the buffer holds at most one partial line of
//! `max_line` bytes (plus `\r\n`) and the reads after it.

/// What to do after a request's reply.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Control {
    /// Go on with the next request.
    Continue,
    /// Stop: answer nothing more (the client said `QUIT`).
    Close,
}

/// What [`Framer::advance`] found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FrameOutcome {
    /// Every complete request was handed out; read more.
    ReadMore,
    /// A handler asked to close.
    Close,
    /// A request over `max_line` bytes: answer `ERR line-too-long` and
    /// close. The requests before it were handed out.
    TooLong,
}

/// Splits a connection's byte stream into requests.
///
/// # Examples
///
/// ```
/// use seatnet::protocol::{Control, FrameOutcome, Framer};
///
/// let mut framer = Framer::new(4096);
/// let bytes = b"1\r\n2\n3";
/// let space = framer.spare().len();
/// framer.spare()[..bytes.len()].copy_from_slice(bytes);
/// let mut seen = Vec::new();
/// let outcome = framer.advance(bytes.len(), space, |request, newline| {
///     seen.push((request.to_vec(), newline));
///     Control::Continue
/// });
/// assert_eq!(outcome, FrameOutcome::ReadMore);
/// // "3" waits for its newline: the connection is in line mode.
/// assert_eq!(seen, [(b"1".to_vec(), true), (b"2".to_vec(), true)]);
/// ```
#[derive(Debug)]
pub struct Framer {
    buf: Vec<u8>,
    /// Bytes of `buf` holding data (a partial line, at the front).
    filled: usize,
    line_mode: bool,
    max_line: usize,
}

impl Framer {
    /// The smallest read buffer, so that short lines are read many at once.
    const MIN_BUFFER: usize = 8 * 1024;

    /// A framer for requests of at most `max_line` bytes (terminator not
    /// counted).
    #[must_use]
    pub fn new(max_line: usize) -> Self {
        Framer {
            buf: vec![0; (max_line + 2).max(Self::MIN_BUFFER)],
            filled: 0,
            line_mode: false,
            max_line,
        }
    }

    /// Forgets everything, for the next connection.
    pub fn reset(&mut self) {
        self.filled = 0;
        self.line_mode = false;
    }

    /// Whether the connection has sent a newline-terminated request.
    #[must_use]
    pub fn line_mode(&self) -> bool {
        self.line_mode
    }

    /// The space to read into; never empty.
    pub fn spare(&mut self) -> &mut [u8] {
        &mut self.buf[self.filled..]
    }

    /// Takes `n` bytes just read into [`spare`](Self::spare), which offered
    /// `offered` bytes, and hands each complete request to `handle` with
    /// whether it ended with a newline. Partial data stays for the next
    /// read.
    pub fn advance(
        &mut self,
        n: usize,
        offered: usize,
        mut handle: impl FnMut(&[u8], bool) -> Control,
    ) -> FrameOutcome {
        self.filled += n;
        let mut start = 0;
        while let Some(at) = memchr(b'\n', &self.buf[start..self.filled]) {
            let end = start + at;
            let mut line = &self.buf[start..end];
            if let [rest @ .., b'\r'] = line {
                line = rest;
            }
            start = end + 1;
            self.line_mode = true;
            if line.len() > self.max_line {
                return FrameOutcome::TooLong;
            }
            if handle(line, true) == Control::Close {
                return FrameOutcome::Close;
            }
        }
        let partial = start..self.filled;
        if partial.len() > self.max_line + 1 {
            // Even a `\r\n` next could not make it short enough.
            return FrameOutcome::TooLong;
        }
        if !self.line_mode && !partial.is_empty() && n < offered {
            if partial.len() > self.max_line {
                return FrameOutcome::TooLong;
            }
            self.filled = 0;
            return match handle(&self.buf[partial], false) {
                Control::Close => FrameOutcome::Close,
                Control::Continue => FrameOutcome::ReadMore,
            };
        }
        self.buf.copy_within(partial.clone(), 0);
        self.filled = partial.len();
        FrameOutcome::ReadMore
    }

    /// At end of stream: hands a last unterminated request, if any, to
    /// `handle` (a client that half-closes after its last line still gets
    /// an answer).
    pub fn finish(&mut self, handle: impl FnOnce(&[u8], bool) -> Control) -> FrameOutcome {
        let partial = std::mem::take(&mut self.filled);
        if partial == 0 {
            return FrameOutcome::ReadMore;
        }
        if partial > self.max_line {
            return FrameOutcome::TooLong;
        }
        match handle(&self.buf[..partial], false) {
            Control::Close => FrameOutcome::Close,
            Control::Continue => FrameOutcome::ReadMore,
        }
    }
}

/// The index of the first `needle` in `haystack` (`slice::iter().position`
/// compiles to a simple loop that is fast enough for short lines).
fn memchr(needle: u8, haystack: &[u8]) -> Option<usize> {
    haystack.iter().position(|&b| b == needle)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Feeds `reads` one by one, each as if the read returned exactly that
    /// (short unless `full` says the read filled the buffer), and records
    /// requests.
    fn run(max_line: usize, reads: &[(&[u8], bool)]) -> (Vec<(String, bool)>, FrameOutcome) {
        let mut framer = Framer::new(max_line);
        let mut seen = Vec::new();
        let mut outcome = FrameOutcome::ReadMore;
        for (bytes, full) in reads {
            let spare = framer.spare();
            let offered = if *full { bytes.len() } else { spare.len() };
            assert!(bytes.len() <= spare.len(), "test read too big");
            spare[..bytes.len()].copy_from_slice(bytes);
            outcome = framer.advance(bytes.len(), offered, |r, nl| {
                seen.push((String::from_utf8_lossy(r).into_owned(), nl));
                if r == b"QUIT" {
                    Control::Close
                } else {
                    Control::Continue
                }
            });
            if outcome != FrameOutcome::ReadMore {
                break;
            }
        }
        (seen, outcome)
    }

    fn req(s: &str, nl: bool) -> (String, bool) {
        (s.to_owned(), nl)
    }

    #[test]
    fn original_request_is_answered_at_once() {
        let (seen, outcome) = run(4096, &[(b"5,10,22", false)]);
        assert_eq!(seen, [req("5,10,22", false)]);
        assert_eq!(outcome, FrameOutcome::ReadMore);
    }

    #[test]
    fn original_client_sends_several_requests_one_by_one() {
        let (seen, _) = run(4096, &[(b"1", false), (b"2,3", false)]);
        assert_eq!(seen, [req("1", false), req("2,3", false)]);
    }

    #[test]
    fn pipelined_lines_in_one_read() {
        let (seen, _) = run(4096, &[(b"1\n2\r\n3\n", false)]);
        assert_eq!(seen, [req("1", true), req("2", true), req("3", true)]);
    }

    #[test]
    fn line_mode_waits_for_the_newline() {
        let (seen, _) = run(4096, &[(b"1\n2,", false), (b"3\n", false)]);
        assert_eq!(seen, [req("1", true), req("2,3", true)]);
    }

    #[test]
    fn a_full_read_is_not_the_end_of_a_request() {
        let (seen, _) = run(4096, &[(b"12", true), (b"34", false)]);
        assert_eq!(seen, [req("1234", false)]);
    }

    #[test]
    fn quit_stops_the_batch() {
        let (seen, outcome) = run(4096, &[(b"1\nQUIT\n2\n", false)]);
        assert_eq!(seen, [req("1", true), req("QUIT", true)]);
        assert_eq!(outcome, FrameOutcome::Close);
    }

    #[test]
    fn too_long_lines_are_refused() {
        let long = vec![b'1'; 11];
        assert_eq!(run(10, &[(&long, false)]).1, FrameOutcome::TooLong);
        let mut line = long.clone();
        line.push(b'\n');
        let (seen, outcome) = run(10, &[(b"1\n", false), (&line, false)]);
        assert_eq!((seen.len(), outcome), (1, FrameOutcome::TooLong));
        // Exactly max_line, with \r\n, is fine.
        let (seen, outcome) = run(10, &[(b"1234567890\r\n", false)]);
        assert_eq!(
            (seen, outcome),
            (vec![req("1234567890", true)], FrameOutcome::ReadMore)
        );
        // A partial line in line mode that can no longer fit.
        let (_, outcome) = run(10, &[(b"1\n", false), (b"123456789012", true)]);
        assert_eq!(outcome, FrameOutcome::TooLong);
    }

    #[test]
    fn endless_data_without_newline_stays_bounded() {
        let mut framer = Framer::new(100);
        let mut outcome = FrameOutcome::ReadMore;
        for _ in 0..1000 {
            let spare = framer.spare();
            let n = spare.len();
            spare.fill(b'7');
            outcome = framer.advance(n, n, |_, _| Control::Continue);
            if outcome != FrameOutcome::ReadMore {
                break;
            }
        }
        assert_eq!(outcome, FrameOutcome::TooLong);
        assert_eq!(framer.buf.len(), Framer::MIN_BUFFER);
    }

    #[test]
    fn finish_answers_a_last_partial_line() {
        let mut framer = Framer::new(4096);
        let spare = framer.spare();
        spare[..3].copy_from_slice(b"1\n2");
        let offered = spare.len();
        let mut seen = Vec::new();
        framer.advance(3, offered, |r, _| {
            seen.push(r.to_vec());
            Control::Continue
        });
        assert_eq!(seen, [b"1".to_vec()]);
        assert!(framer.line_mode());
        framer.finish(|r, nl| {
            assert!(!nl);
            seen.push(r.to_vec());
            Control::Continue
        });
        assert_eq!(seen, [b"1".to_vec(), b"2".to_vec()]);
        framer.reset();
        assert!(!framer.line_mode());
    }
}

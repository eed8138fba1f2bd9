//! Reads one reply at a time from either server, with no timer.
//!
//! A reply ends at the first of:
//! - a `\n` (seatnet's native framing; a `\r` before it is dropped);
//! - a whole original-form reply, both bracket lists closed (the original
//!   server sends no terminator at all);
//! - end of stream: the bytes read so far are the reply, and none at all
//!   means the server closed without replying (the original does that on
//!   input it cannot parse).
//!
//! Bytes after a reply stay buffered for the next one. When an original-form
//! reply ends a read, a `\n` that follows it (seatnet appends one when the
//! request had one) belongs to that reply and is skipped, even if it
//! arrives later.

use std::io::{self, Read};

use crate::original_reply::{self, Scan};

/// Longest reply accepted; longer means a broken or hostile peer.
const MAX_REPLY: usize = 1 << 20;

/// Why no reply could be read.
#[derive(Debug)]
pub(crate) enum ReplyError {
    /// End of stream before any byte of a reply.
    Closed,
    /// More than [`MAX_REPLY`] bytes without an end.
    TooLong,
    /// The read failed (a read timeout shows up here too).
    Io(io::Error),
}

/// Splits a byte stream into replies.
pub(crate) struct ReplyReader<R> {
    inner: R,
    buf: Vec<u8>,
    /// The last reply was original-form; a `\n` right after it is its own.
    skip_newline: bool,
}

impl<R: Read> ReplyReader<R> {
    pub(crate) fn new(inner: R) -> Self {
        Self {
            inner,
            buf: Vec::new(),
            skip_newline: false,
        }
    }

    /// The next reply, without its terminator.
    pub(crate) fn read_reply(&mut self) -> Result<String, ReplyError> {
        loop {
            if self.skip_newline && !self.buf.is_empty() {
                let skip = match self.buf.as_slice() {
                    [b'\n', ..] => 1,
                    [b'\r', b'\n', ..] => 2,
                    // A lone `\r` may be followed by `\n`: wait for it.
                    [b'\r'] => 0,
                    _ => {
                        self.skip_newline = false;
                        0
                    }
                };
                if skip > 0 {
                    self.buf.drain(..skip);
                    self.skip_newline = false;
                }
            }
            if !self.skip_newline {
                if let Some(reply) = self.take_reply() {
                    return Ok(reply);
                }
            }
            if self.buf.len() > MAX_REPLY {
                return Err(ReplyError::TooLong);
            }
            let mut chunk = [0u8; 4096];
            match self.inner.read(&mut chunk) {
                Ok(0) => {
                    if self.buf.is_empty() || self.skip_newline {
                        return Err(ReplyError::Closed);
                    }
                    let rest = std::mem::take(&mut self.buf);
                    return Ok(String::from_utf8_lossy(&rest).into_owned());
                }
                Ok(n) => self.buf.extend_from_slice(&chunk[..n]),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(ReplyError::Io(e)),
            }
        }
    }

    /// Cuts one whole reply off the front of the buffer, if there is one.
    fn take_reply(&mut self) -> Option<String> {
        if let Some(pos) = self.buf.iter().position(|&b| b == b'\n') {
            let line = &self.buf[..pos];
            let line = line.strip_suffix(b"\r").unwrap_or(line);
            let reply = String::from_utf8_lossy(line).into_owned();
            self.buf.drain(..=pos);
            return Some(reply);
        }
        if let Scan::Complete(len) = original_reply::scan(&self.buf) {
            let reply = String::from_utf8_lossy(&self.buf[..len]).into_owned();
            self.buf.drain(..len);
            self.skip_newline = true;
            return Some(reply);
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::VecDeque;

    /// A stream that hands out the given chunks, one per `read`, then
    /// reports end of stream, or (`stall`) a read timeout.
    struct Chunks(VecDeque<Vec<u8>>, bool);

    impl Read for Chunks {
        fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
            let Some(mut chunk) = self.0.pop_front() else {
                if self.1 {
                    return Err(io::ErrorKind::TimedOut.into());
                }
                return Ok(0);
            };
            let n = chunk.len().min(out.len());
            out[..n].copy_from_slice(&chunk[..n]);
            if n < chunk.len() {
                self.0.push_front(chunk.split_off(n));
            }
            Ok(n)
        }
    }

    fn reader(chunks: &[&str]) -> ReplyReader<Chunks> {
        let chunks = chunks.iter().map(|c| c.as_bytes().to_vec()).collect();
        ReplyReader::new(Chunks(chunks, false))
    }

    fn stalling_reader(chunks: &[&str]) -> ReplyReader<Chunks> {
        let chunks = chunks.iter().map(|c| c.as_bytes().to_vec()).collect();
        ReplyReader::new(Chunks(chunks, true))
    }

    const ORIGINAL: &str = "Reservados: [5, 10] | Indisponíveis/Inválidos: [22]";

    #[test]
    fn newline_terminated_replies_are_split_and_pipelined() {
        let mut r = reader(&["OK 1 seats=5\r\nOK 2 se", "ats=6\n"]);
        assert_eq!(r.read_reply().unwrap(), "OK 1 seats=5");
        assert_eq!(r.read_reply().unwrap(), "OK 2 seats=6");
        assert!(matches!(r.read_reply(), Err(ReplyError::Closed)));
    }

    #[test]
    fn an_original_reply_ends_without_a_newline_or_eof() {
        // The stream stalls after the reply, as the original server does
        // while it waits for the next request: no newline, no EOF.
        let mut r = stalling_reader(&["Reservados: [5, 10] | Indisp", "oníveis/Inválidos: [22]"]);
        assert_eq!(r.read_reply().unwrap(), ORIGINAL);
        assert!(matches!(r.read_reply(), Err(ReplyError::Io(_))));
    }

    #[test]
    fn the_newline_after_an_original_reply_is_skipped_even_when_late() {
        let second = "Reservados: [] | Indisponíveis/Inválidos: [5]";
        let mut r = reader(&[ORIGINAL, "\r", "\n", second, "\n"]);
        assert_eq!(r.read_reply().unwrap(), ORIGINAL);
        assert_eq!(r.read_reply().unwrap(), second);
        assert!(matches!(r.read_reply(), Err(ReplyError::Closed)));
    }

    #[test]
    fn eof_before_any_byte_is_closed_and_after_some_is_the_reply() {
        assert!(matches!(reader(&[]).read_reply(), Err(ReplyError::Closed)));
        let mut r = reader(&["OK bye"]);
        assert_eq!(r.read_reply().unwrap(), "OK bye");
    }

    #[test]
    fn a_reply_that_never_ends_is_too_long() {
        let big = "x".repeat(MAX_REPLY + 10);
        let mut r = reader(&[&big]);
        assert!(matches!(r.read_reply(), Err(ReplyError::TooLong)));
    }
}

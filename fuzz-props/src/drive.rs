//! One connection's framing, as the server drives it, on made-up time:
//! chunks arrive after given pauses, the framer's deadlines fire when no
//! chunk comes first, and end of stream comes last. The framer never reads
//! a clock, so a run is exactly reproducible.

use std::time::{Duration, Instant};

use seatnet::protocol::{Frame, Framer};

/// How a connection ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum End {
    /// The stream ended and every request was answered.
    Eof,
    /// A request asked to close (`QUIT`).
    Closed,
    /// A request over the line limit: answered with an error, then closed.
    TooLong,
}

/// Feeds `chunks` (each with the pause before it) to `framer`, handing
/// every request to `handle(bytes, newline) -> close?`; returns how it
/// ended.
pub(crate) fn drive<'a>(
    framer: &mut Framer,
    chunks: impl IntoIterator<Item = (&'a [u8], Duration)>,
    mut handle: impl FnMut(&[u8], bool) -> bool,
) -> End {
    let mut now = Instant::now();
    for (chunk, pause) in chunks {
        let arrival = now + pause;
        // The server answers whatever is due before the next bytes come.
        if let Some(end) = answer_until(framer, &mut now, Some(arrival), &mut handle) {
            return end;
        }
        now = arrival;
        framer.push(chunk, now);
    }
    // No more bytes: let every deadline pass, then end of stream.
    if let Some(end) = answer_until(framer, &mut now, None, &mut handle) {
        return end;
    }
    match framer.finish() {
        Frame::Request { bytes, newline } => {
            let bytes = bytes.to_vec();
            if handle(&bytes, newline) {
                return End::Closed;
            }
            End::Eof
        }
        Frame::TooLong => End::TooLong,
        Frame::Wait(_) => End::Eof,
    }
}

/// Answers every request due up to `until` (or all, with `None`),
/// advancing `now` to each deadline that fires.
fn answer_until(
    framer: &mut Framer,
    now: &mut Instant,
    until: Option<Instant>,
    handle: &mut impl FnMut(&[u8], bool) -> bool,
) -> Option<End> {
    loop {
        match framer.next(*now) {
            Frame::Request { bytes, newline } => {
                let bytes = bytes.to_vec();
                if handle(&bytes, newline) {
                    return Some(End::Closed);
                }
            }
            Frame::TooLong => return Some(End::TooLong),
            Frame::Wait(Some(at)) if until.is_none_or(|until| at <= until) => *now = at,
            Frame::Wait(_) => return None,
        }
    }
}

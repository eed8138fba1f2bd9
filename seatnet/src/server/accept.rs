//! The accept thread: admits connections up to the limit, answers the rest
//! with one `ERR busy` line, and hands admitted ones to the workers.

use std::io::{self, Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::thread;
use std::time::Duration;

use crossbeam_channel::Sender;
use tracing::{info, warn};

use super::Shared;
use super::worker::Accepted;
use crate::protocol::Reply;

/// Accepts until shutdown; returns when `stopping` is seen.
pub(crate) fn accept_loop(listener: &TcpListener, queue: &Sender<Accepted>, shared: &Shared) {
    let max = shared.config.max_conns() as u64;
    loop {
        let accepted = listener.accept();
        if shared.stop.is_stopping() {
            return;
        }
        match accepted {
            Ok((stream, peer)) => {
                if !shared.counters.try_open(max) {
                    warn!(%peer, max, "busy: connection refused");
                    turn_away(stream, max);
                    continue;
                }
                info!(%peer, "connected");
                if queue.send((stream, peer)).is_err() {
                    // Workers only leave after the sender is dropped.
                    return;
                }
            }
            Err(e) => match e.kind() {
                io::ErrorKind::Interrupted | io::ErrorKind::ConnectionAborted => {}
                _ => {
                    // Out of file descriptors and the like: wait a little
                    // rather than spin, and keep serving.
                    warn!(error = %e, "accept failed");
                    thread::sleep(Duration::from_millis(10));
                }
            },
        }
    }
}

/// Tells a client over the limit that the server is busy, then closes.
///
/// The line goes into an empty send buffer, so the write does not block;
/// the timeout is a guard. Reading what the client may already have sent
/// before closing avoids a reset that could destroy the line unread.
pub(super) fn turn_away(stream: TcpStream, max: u64) {
    let mut line = Vec::with_capacity(96);
    Reply::Busy(usize::try_from(max).unwrap_or(usize::MAX)).write_to(&mut line);
    line.push(b'\n');
    let _ = stream.set_write_timeout(Some(Duration::from_secs(1)));
    let _ = (&stream).write_all(&line);
    let _ = stream.shutdown(Shutdown::Write);
    if stream.set_nonblocking(true).is_ok() {
        let mut sink = [0u8; 1024];
        let _ = (&stream).read(&mut sink);
    }
}

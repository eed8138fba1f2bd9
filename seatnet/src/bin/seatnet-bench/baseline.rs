//! A straight port of the ORIGINAL server's design, to measure against.
//!
//! Kept as the original is, on purpose: a thread per connection, one global
//! `Mutex<Vec<bool>>` held around the whole check-and-mark loop, one `read`
//! of at most 1024 bytes taken as one request, the original reply bytes with
//! no newline, and the connection closed on input it cannot parse. Only the
//! console printing is left out (it would measure the terminal). It binds
//! 127.0.0.1 port 0 and lives inside the bench process.

use std::io::{self, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::thread::{self, JoinHandle};

/// The original reads at most this much per request.
const RECV_SIZE: usize = 1024;

/// A running baseline server; [`BaselineServer::stop`] ends it.
pub(crate) struct BaselineServer {
    addr: SocketAddr,
    stopping: Arc<AtomicBool>,
    acceptor: JoinHandle<()>,
}

impl BaselineServer {
    /// Starts serving `seats` seats, numbered 1..=seats, on 127.0.0.1:0.
    pub(crate) fn start(seats: u64) -> io::Result<Self> {
        let listener = TcpListener::bind("127.0.0.1:0")?;
        let addr = listener.local_addr()?;
        let seats = usize::try_from(seats).map_err(io::Error::other)?;
        let state = Arc::new(Mutex::new(vec![false; seats + 1]));
        let stopping = Arc::new(AtomicBool::new(false));
        let flag = Arc::clone(&stopping);
        let acceptor = thread::Builder::new()
            .name("baseline-accept".into())
            .spawn(move || accept_loop(&listener, &state, &flag))?;
        Ok(Self {
            addr,
            stopping,
            acceptor,
        })
    }

    pub(crate) fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// Stops accepting, closes every connection and joins every thread.
    pub(crate) fn stop(self) {
        // Release pairs with the acceptor's Acquire load after `accept`
        // returns: it then sees the flag set before the waking connection.
        self.stopping.store(true, Ordering::Release);
        // Wake the blocking `accept` with a connection of our own.
        let _ = TcpStream::connect(self.addr);
        let _ = self.acceptor.join();
    }
}

fn accept_loop(listener: &TcpListener, state: &Arc<Mutex<Vec<bool>>>, stopping: &AtomicBool) {
    let mut connections: Vec<(TcpStream, JoinHandle<()>)> = Vec::new();
    for stream in listener.incoming() {
        // Acquire pairs with the Release store in `stop`.
        if stopping.load(Ordering::Acquire) {
            break;
        }
        let Ok(stream) = stream else { continue };
        let Ok(handle) = stream.try_clone() else {
            continue;
        };
        let state = Arc::clone(state);
        let spawned = thread::Builder::new()
            .name("baseline-conn".into())
            .spawn(move || serve(stream, &state));
        if let Ok(thread) = spawned {
            connections.push((handle, thread));
        }
    }
    for (stream, thread) in connections {
        // Unblocks a thread still waiting in `read`.
        let _ = stream.shutdown(Shutdown::Both);
        let _ = thread.join();
    }
}

/// One connection: one read is one request, as in the original.
fn serve(mut stream: TcpStream, state: &Mutex<Vec<bool>>) {
    serve_requests(&mut stream, state);
    // The acceptor holds a clone of this socket (to unblock us on stop), so
    // dropping ours would not close it: shut it down explicitly.
    let _ = stream.shutdown(Shutdown::Both);
}

fn serve_requests(stream: &mut TcpStream, state: &Mutex<Vec<bool>>) {
    let _ = stream.set_nodelay(true);
    let mut buf = [0u8; RECV_SIZE];
    let mut reply = Vec::with_capacity(128);
    loop {
        let n = match stream.read(&mut buf) {
            Ok(0) | Err(_) => return,
            Ok(n) => n,
        };
        reply.clear();
        if !handle(&buf[..n], state, &mut reply) {
            return; // The original closes the connection on bad input.
        }
        if stream.write_all(&reply).is_err() {
            return;
        }
    }
}

/// One number of a request, as Python's `int()` reads it.
struct Number<'a> {
    negative: bool,
    /// Decimal digits, leading zeros removed (at least one digit).
    digits: &'a [u8],
}

impl Number<'_> {
    /// Parses one comma-separated piece; `None` where Python would throw.
    fn parse(piece: &[u8]) -> Option<Number<'_>> {
        let text = piece.trim_ascii();
        let (negative, digits) = match text {
            [b'-', rest @ ..] => (true, rest),
            [b'+', rest @ ..] => (false, rest),
            _ => (false, text),
        };
        if digits.is_empty() || !digits.iter().all(u8::is_ascii_digit) {
            return None;
        }
        let first = digits.iter().position(|&d| d != b'0');
        let digits = first.map_or(&digits[digits.len() - 1..], |i| &digits[i..]);
        let negative = negative && digits != b"0";
        Some(Number { negative, digits })
    }

    /// The seat index this number names, if it could be one at all.
    fn index(&self) -> Option<usize> {
        if self.negative || self.digits.len() > 18 {
            return None;
        }
        std::str::from_utf8(self.digits).ok()?.parse().ok()
    }

    fn write(&self, out: &mut Vec<u8>) {
        if self.negative {
            out.push(b'-');
        }
        out.extend_from_slice(self.digits);
    }
}

/// Handles one request; writes the reply, or returns `false` for input
/// the original cannot parse.
fn handle(request: &[u8], state: &Mutex<Vec<bool>>, reply: &mut Vec<u8>) -> bool {
    let Ok(text) = std::str::from_utf8(request) else {
        return false;
    };
    let numbers: Option<Vec<Number<'_>>> = text
        .trim()
        .as_bytes()
        .split(|&b| b == b',')
        .map(Number::parse)
        .collect();
    let Some(numbers) = numbers else {
        return false;
    };
    let mut reserved = Vec::with_capacity(numbers.len());
    let mut refused = Vec::new();
    {
        // The original holds one global lock over the whole loop. A
        // poisoned lock only means another connection thread panicked; the
        // seats themselves are still consistent booleans.
        let mut seats = state.lock().unwrap_or_else(PoisonError::into_inner);
        for number in &numbers {
            match number.index() {
                Some(i) if i >= 1 && i < seats.len() && !seats[i] => {
                    seats[i] = true;
                    reserved.push(number);
                }
                _ => refused.push(number),
            }
        }
    }
    reply.extend_from_slice(b"Reservados: ");
    write_list(&reserved, reply);
    reply.extend_from_slice(" | Indisponíveis/Inválidos: ".as_bytes());
    write_list(&refused, reply);
    true
}

/// A Python list: `[1, 2]`, `[]` when empty.
fn write_list(numbers: &[&Number<'_>], out: &mut Vec<u8>) {
    out.push(b'[');
    for (i, number) in numbers.iter().enumerate() {
        if i > 0 {
            out.extend_from_slice(b", ");
        }
        number.write(out);
    }
    out.push(b']');
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ask(state: &Mutex<Vec<bool>>, request: &str) -> Option<String> {
        let mut reply = Vec::new();
        handle(request.as_bytes(), state, &mut reply)
            .then(|| String::from_utf8(reply).expect("replies are UTF-8"))
    }

    #[test]
    fn replies_match_the_documented_examples_byte_for_byte() {
        let state = Mutex::new(vec![false; 101]);
        let expected = [
            (
                "1,2,3",
                "Reservados: [1, 2, 3] | Indisponíveis/Inválidos: []",
            ),
            (
                "2,3,4,5",
                "Reservados: [4, 5] | Indisponíveis/Inválidos: [2, 3]",
            ),
            ("7,7", "Reservados: [7] | Indisponíveis/Inválidos: [7]"),
            (
                "0,101,-3",
                "Reservados: [] | Indisponíveis/Inválidos: [0, 101, -3]",
            ),
            (
                " 05 , +9,-0, 123456789012345678901234567890\n",
                "Reservados: [9] | Indisponíveis/Inválidos: [5, 0, 123456789012345678901234567890]",
            ),
        ];
        for (request, reply) in expected {
            assert_eq!(ask(&state, request).as_deref(), Some(reply), "{request:?}");
        }
    }

    #[test]
    fn unparsable_input_gets_no_reply() {
        let state = Mutex::new(vec![false; 101]);
        for bad in ["", "abc", "5,,6", "2.5", "- 3", "\u{ff}"] {
            assert_eq!(ask(&state, bad), None, "{bad:?}");
        }
        assert!(ask(&state, "8").is_some(), "state is still usable");
    }

    #[test]
    fn the_server_answers_over_tcp_and_stops() {
        let server = BaselineServer::start(100).expect("bind loopback");
        let mut stream = TcpStream::connect(server.local_addr()).expect("connect");
        stream
            .set_read_timeout(Some(std::time::Duration::from_secs(10)))
            .expect("timeout");
        stream.write_all(b"5,5").expect("write");
        let mut buf = [0u8; 256];
        let n = stream.read(&mut buf).expect("reply");
        assert_eq!(
            std::str::from_utf8(&buf[..n]).expect("UTF-8"),
            "Reservados: [5] | Indisponíveis/Inválidos: [5]"
        );
        stream.write_all(b"x").expect("write");
        assert_eq!(
            stream.read(&mut buf).expect("close"),
            0,
            "closed on bad input"
        );
        server.stop();
    }
}

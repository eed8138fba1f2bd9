//! Stopping a running server: [`ShutdownHandle`].
//!
//! Shutdown, in order:
//!
//! 1. `stopping` is set; the accept thread is woken by a connection to the
//!    server's own (loopback) address and stops accepting;
//! 2. every connection a worker is serving gets `shutdown(Read)`, so a
//!    worker blocked in `read` wakes at once with end-of-stream; a worker
//!    busy with a batch finishes it, writes the replies and closes;
//! 3. the accept thread drops the channel's sender; workers close the
//!    connections still queued, see the channel closed, and exit;
//!    [`Server::run`](crate::Server::run) joins them and returns.
//!
//! In the event-loop mode there are no workers and no slots: the wake-up
//! connection makes the listener readable, the loop sees `stopping` on
//! waking (and at least once per tick anyway), sends what each connection's
//! socket takes of its unsent replies, closes them all and returns.

use std::net::{Shutdown, SocketAddr, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use parking_lot::Mutex;

/// Stops the server it came from; cheap to clone, usable from any thread
/// (a signal handler thread, a test).
///
/// # Examples
///
/// ```
/// use seatnet::{Config, Server};
///
/// let server = Server::bind(Config { port: 0, threads: 2, ..Config::default() })?;
/// let stop = server.shutdown_handle();
/// let running = std::thread::spawn(move || server.run());
/// stop.shutdown();
/// running.join().unwrap()?;
/// # Ok::<(), std::io::Error>(())
/// ```
#[derive(Debug, Clone)]
pub struct ShutdownHandle {
    stop: Arc<Stop>,
}

impl ShutdownHandle {
    pub(crate) fn new(stop: Arc<Stop>) -> Self {
        ShutdownHandle { stop }
    }

    /// Starts the shutdown and returns at once; `run` returns when it is
    /// done. Calling it again does nothing.
    pub fn shutdown(&self) {
        self.stop.trigger();
    }

    /// Whether shutdown has started.
    #[must_use]
    pub fn is_shutting_down(&self) -> bool {
        self.stop.is_stopping()
    }
}

/// The shared shutdown state: the flag, the accept thread's wake-up address
/// and one slot per worker for the connection it serves.
#[derive(Debug)]
pub(crate) struct Stop {
    stopping: AtomicBool,
    wake: SocketAddr,
    slots: Box<[Mutex<Option<TcpStream>>]>,
}

impl Stop {
    pub(crate) fn new(wake: SocketAddr, workers: usize) -> Self {
        Stop {
            stopping: AtomicBool::new(false),
            wake,
            slots: (0..workers).map(|_| Mutex::new(None)).collect(),
        }
    }

    pub(crate) fn is_stopping(&self) -> bool {
        // Acquire pairs with the Release half of the swap in `trigger`. The
        // flag publishes no data, so Relaxed would be enough for the flag
        // itself; where seeing it promptly matters, the order comes from a
        // lock (`register`) or from the connect/accept pair (the accept
        // loop). On x86 an Acquire load costs nothing more.
        self.stopping.load(Ordering::Acquire)
    }

    fn trigger(&self) {
        // AcqRel: the Release half pairs with the Acquire in `is_stopping`;
        // the swap's atomicity makes exactly one caller do the work below.
        if self.stopping.swap(true, Ordering::AcqRel) {
            return;
        }
        // Wake the accept thread, blocked in `accept` (or the event loop,
        // blocked in its poll on the listener). The connect happens after
        // the store above, and the thread reads the flag after `accept` (or
        // the poll) returns, so it sees `true`.
        let _ = TcpStream::connect_timeout(&self.wake, Duration::from_secs(1));
        for slot in &self.slots {
            if let Some(stream) = &*slot.lock() {
                let _ = stream.shutdown(Shutdown::Read);
            }
        }
    }

    /// Records the connection worker `worker` is about to serve, so a
    /// shutdown can wake it. Returns `false` (serve nothing, close it) if
    /// shutdown has started.
    ///
    /// The flag is read under the slot's lock, and `trigger` sets the flag
    /// before taking each lock: either `trigger` locks the slot after this
    /// and shuts the stream, or this sees the flag.
    pub(crate) fn register(&self, worker: usize, stream: &TcpStream) -> bool {
        let mut slot = self.slots[worker].lock();
        if self.is_stopping() {
            return false;
        }
        // A failed clone (out of descriptors) only costs the prompt wake-up
        // of this one connection; the idle timeout still ends it.
        *slot = stream.try_clone().ok();
        true
    }

    /// The worker is done with its connection.
    pub(crate) fn unregister(&self, worker: usize) {
        self.slots[worker].lock().take();
    }
}

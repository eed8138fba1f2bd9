//! Stopping a running server: [`ShutdownHandle`].
//!
//! Shutdown, in order:
//!
//! 1. `stopping` is set and the poller is woken through its `mio::Waker`
//!    (never by connecting to the server's own port);
//! 2. the poller stops accepting (it drops the listener) and closes every
//!    connection it holds, once its unsent replies are sent (or its idle
//!    timeout ends the wait for a client that does not read), except one
//!    with a request partly received: that request may still complete
//!    within its request timeout, is answered, and then the connection
//!    closes;
//! 3. a connection lent to a worker comes back after the batch the worker
//!    is answering (the worker checks the flag between reads) and is closed
//!    the same way;
//! 4. once no connection is left, the poller closes the job channel, the
//!    workers exit and [`Server::run`](crate::Server::run) joins them and
//!    returns.
//!
//! Every close is orderly (replies flushed, `shutdown(Write)`, input
//! drained briefly), so each client reads its last reply, then end of
//! stream.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use mio::Waker;

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

/// The shared shutdown state: the flag and the poller's waker.
#[derive(Debug)]
pub(crate) struct Stop {
    stopping: AtomicBool,
    waker: Arc<Waker>,
}

impl Stop {
    pub(crate) fn new(waker: Arc<Waker>) -> Self {
        Stop {
            stopping: AtomicBool::new(false),
            waker,
        }
    }

    pub(crate) fn is_stopping(&self) -> bool {
        // Acquire pairs with the Release half of the swap in `trigger`. The
        // flag publishes no data, so Relaxed would do for the flag itself;
        // the poller sees it promptly because `trigger` wakes it after the
        // store (the waker's eventfd write and the poll's read order them).
        self.stopping.load(Ordering::Acquire)
    }

    fn trigger(&self) {
        // AcqRel: the Release half pairs with the Acquire in `is_stopping`;
        // the swap's atomicity makes exactly one caller wake the poller.
        if self.stopping.swap(true, Ordering::AcqRel) {
            return;
        }
        // If the wake-up failed (it cannot, short of memory exhaustion),
        // the poller would still see the flag at its next event or
        // deadline.
        let _ = self.waker.wake();
    }
}

//! The worker pool: a fixed number of threads, each taking a connection
//! that has a complete request from the poller, answering it
//! ([`answer::serve`]) and handing it back.
//!
//! A worker blocks only on its channel, never on the disk: replies that
//! wait for the journal go back to the poller with their ticket
//! ([`Done::held`]).

use std::io;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering, fence};
use std::thread::{self, JoinHandle};

use crossbeam_channel::{Receiver, Sender};
use mio::Waker;

use super::Shared;
use super::answer::{self, Served, WorkerBuffers};
use super::conn::{Conn, End};
use super::timers::Key;

/// Stack size of a worker: it parses and answers one request at a time and
/// never recurses.
const WORKER_STACK: usize = 256 * 1024;

/// A connection lent to a worker.
#[derive(Debug)]
pub(crate) struct Job {
    pub(crate) key: Key,
    pub(crate) conn: Box<Conn>,
}

/// A connection handed back: `Ok`: wait for more; `Err`: it ends.
#[derive(Debug)]
pub(crate) struct Done {
    pub(crate) key: Key,
    pub(crate) conn: Box<Conn>,
    pub(crate) verdict: Result<(), End>,
    /// Its unsent replies wait until this journal ticket is durable.
    pub(crate) held: Option<seatlog::Ticket>,
    /// The lowest ticket they wait for ([`answer::Served::held_from`]).
    pub(crate) held_from: u64,
}

/// How workers wake the poller when they hand a connection back: only if
/// it is (about to be) asleep in its poll, so a busy poller is not sent one
/// wake-up system call per request.
#[derive(Debug)]
pub(crate) struct PollerWake {
    waker: Arc<Waker>,
    asleep: AtomicBool,
}

impl PollerWake {
    pub(crate) fn new(waker: Arc<Waker>) -> Self {
        PollerWake {
            waker,
            asleep: AtomicBool::new(false),
        }
    }

    /// The poller is about to sleep: returns whether it may (no connection
    /// was handed back meanwhile; `returned_empty` checks the channel).
    ///
    /// The store-buffering pattern: the poller stores `asleep` then reads
    /// the channel; a worker writes the channel then loads `asleep`. With a
    /// SeqCst fence between the two steps on both sides, at least one side
    /// sees the other's write: either the poller sees the connection and
    /// does not sleep, or the worker sees `asleep` and wakes it. Relaxed is
    /// enough for the flag itself given the fences. The journal's writer
    /// is the same pattern: it moves the watermark, then (fence) loads
    /// `asleep`; the poller stores `asleep`, then (fence) reads the
    /// watermark (`returned_empty` checks it too).
    pub(crate) fn sleep_if(&self, returned_empty: impl FnOnce() -> bool) -> bool {
        self.asleep.store(true, Ordering::Relaxed);
        fence(Ordering::SeqCst);
        returned_empty()
    }

    /// The poller is awake again.
    pub(crate) fn awake(&self) {
        // Relaxed: a stale `true` seen by a worker costs one spare wake-up.
        self.asleep.store(false, Ordering::Relaxed);
    }

    /// A worker handed a connection back (after the channel send), or the
    /// journal's watermark moved (after the progress lock was released).
    pub(crate) fn wake(&self) {
        fence(Ordering::SeqCst);
        if self.asleep.load(Ordering::Relaxed) {
            // A failed wake-up (cannot happen with an eventfd short of
            // memory exhaustion) would leave the connection waiting for the
            // poller's next event or deadline, not lost.
            let _ = self.waker.wake();
        }
    }
}

/// Starts `count` workers taking jobs from `jobs`, handing connections
/// back through `done` and waking the poller through `wake`. They exit when
/// the job channel is closed and empty.
pub(crate) fn spawn_workers(
    count: usize,
    jobs: &Receiver<Job>,
    done: &Sender<Done>,
    wake: &Arc<PollerWake>,
    shared: &Arc<Shared>,
) -> io::Result<Vec<JoinHandle<()>>> {
    (0..count)
        .map(|id| {
            let jobs = jobs.clone();
            let done = done.clone();
            let wake = Arc::clone(wake);
            let shared = Arc::clone(shared);
            thread::Builder::new()
                .name(format!("seatnet-worker-{id}"))
                .stack_size(WORKER_STACK)
                .spawn(move || work(&jobs, &done, &wake, &shared))
        })
        .collect()
}

fn work(jobs: &Receiver<Job>, done: &Sender<Done>, wake: &PollerWake, shared: &Shared) {
    let mut buffers = WorkerBuffers::new();
    for Job { key, mut conn } in jobs {
        let Served {
            verdict,
            held,
            held_from,
        } = answer::serve(&mut conn, shared, &mut buffers);
        let done_job = Done {
            key,
            conn,
            verdict,
            held,
            held_from,
        };
        if done.send(done_job).is_err() {
            return;
        }
        wake.wake();
    }
}

//! The worker pool: a fixed number of threads, each taking a connection
//! that has a complete request from the poller, answering it
//! ([`answer::serve`]) and handing it back.
//!
//! A worker blocks only on its channel (and, in time, on durable writes):
//! a blocked worker costs a parked thread, never the poller.

use std::io;
use std::sync::Arc;
use std::thread::{self, JoinHandle};

use crossbeam_channel::{Receiver, Sender};
use mio::Waker;

use super::Shared;
use super::answer::{self, WorkerBuffers};
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
}

/// Starts `count` workers taking jobs from `jobs`, handing connections
/// back through `done` and waking the poller with `waker`. They exit when
/// the job channel is closed and empty.
pub(crate) fn spawn_workers(
    count: usize,
    jobs: &Receiver<Job>,
    done: &Sender<Done>,
    waker: &Arc<Waker>,
    shared: &Arc<Shared>,
) -> io::Result<Vec<JoinHandle<()>>> {
    (0..count)
        .map(|id| {
            let jobs = jobs.clone();
            let done = done.clone();
            let waker = Arc::clone(waker);
            let shared = Arc::clone(shared);
            thread::Builder::new()
                .name(format!("seatnet-worker-{id}"))
                .stack_size(WORKER_STACK)
                .spawn(move || work(&jobs, &done, &waker, &shared))
        })
        .collect()
}

fn work(jobs: &Receiver<Job>, done: &Sender<Done>, waker: &Waker, shared: &Shared) {
    let mut buffers = WorkerBuffers::new();
    for Job { key, mut conn } in jobs {
        let verdict = answer::serve(&mut conn, shared, &mut buffers);
        if done.send(Done { key, conn, verdict }).is_err() {
            return;
        }
        // A failed wake-up (cannot happen with an eventfd short of memory
        // exhaustion) would leave the connection waiting for the poller's
        // next event or deadline, not lost.
        let _ = waker.wake();
    }
}

//! The worker pool: a fixed number of threads, each taking connections from
//! the accept thread's channel and serving one at a time.

use std::io;
use std::net::{SocketAddr, TcpStream};
use std::sync::Arc;
use std::thread::{self, JoinHandle};

use crossbeam_channel::Receiver;
use tracing::debug;

use super::Shared;
use super::connection::{Buffers, serve};

/// Stack size of a worker: it parses and answers one request at a time and
/// never recurses, so a small stack lets hundreds of workers cost little.
const WORKER_STACK: usize = 128 * 1024;

/// A connection accepted and admitted, waiting for a worker.
pub(crate) type Accepted = (TcpStream, SocketAddr);

/// Starts `count` workers fed by `queue`. They exit when the channel is
/// closed and empty.
pub(crate) fn spawn_workers(
    count: usize,
    queue: &Receiver<Accepted>,
    shared: &Arc<Shared>,
) -> io::Result<Vec<JoinHandle<()>>> {
    (0..count)
        .map(|id| {
            let queue = queue.clone();
            let shared = Arc::clone(shared);
            thread::Builder::new()
                .name(format!("seatnet-worker-{id}"))
                .stack_size(WORKER_STACK)
                .spawn(move || work(id, &queue, &shared))
        })
        .collect()
}

fn work(id: usize, queue: &Receiver<Accepted>, shared: &Shared) {
    let mut buffers = Buffers::new(shared.config.max_line);
    for (stream, peer) in queue {
        if shared.stop.register(id, &stream) {
            serve(stream, peer, shared, &mut buffers);
            shared.stop.unregister(id);
        } else {
            debug!(%peer, "closed unserved: shutting down");
            drop(stream);
        }
        shared.counters.close();
    }
}

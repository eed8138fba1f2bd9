//! [`Server`]: a readiness poller holding every connection and a fixed
//! pool of workers answering requests (half-sync/half-async, as memcached
//! does).
//!
//! - `poller`: the poller thread: every connection nonblocking in one
//!   `mio` poll, its deadlines, the hand-off to workers;
//! - `accept`: the connection limits, `ERR busy`, out of descriptors
//!   (with `spare`, the descriptor kept for that moment);
//! - `conn`: one connection's socket, framer and unsent replies;
//! - `worker`: the pool, fed through a crossbeam channel;
//! - `answer`: what a worker does with a connection lent to it;
//! - `timers`: the poller's deadline heap;
//! - `shutdown`: [`ShutdownHandle`].
//!
//! A worker holds a connection only while it has a complete request to
//! answer, so idle and slow clients cost a slot in the poller (a few
//! hundred bytes), never a worker.

mod accept;
mod answer;
mod conn;
mod poller;
mod shutdown;
mod spare;
mod timers;
mod worker;

use std::io;
use std::net::{SocketAddr, TcpListener as StdListener};
use std::sync::Arc;

use mio::net::TcpListener;
use mio::{Poll, Waker};
use tracing::{error, info, warn};

pub use shutdown::ShutdownHandle;
use shutdown::Stop;

use crate::config::Config;
use crate::inventory::Inventory;
use crate::stats::Counters;

/// Descriptors kept free for everything but connections (the listener,
/// the poll, the waker, the spare, standard streams, log files).
const RESERVED_FDS: u64 = 32;

/// What the poller and the workers share.
#[derive(Debug)]
struct Shared {
    config: Config,
    inventory: Inventory,
    counters: Counters,
    stop: Arc<Stop>,
}

/// A bound, not yet running, seat server.
///
/// # Examples
///
/// ```
/// use std::io::{Read, Write};
/// use std::net::TcpStream;
/// use seatnet::{Config, Server};
///
/// let server = Server::bind(Config { port: 0, threads: 4, ..Config::default() })?;
/// let addr = server.local_addr();
/// let stop = server.shutdown_handle();
/// let running = std::thread::spawn(move || server.run());
///
/// let mut client = TcpStream::connect(addr)?;
/// client.write_all(b"5,10,22")?; // the original client: no newline
/// let mut reply = [0u8; 128];
/// let n = client.read(&mut reply)?;
/// assert_eq!(&reply[..n], "Reservados: [5, 10, 22] | Indisponíveis/Inválidos: []".as_bytes());
///
/// stop.shutdown();
/// running.join().unwrap()?;
/// # Ok::<(), std::io::Error>(())
/// ```
#[derive(Debug)]
pub struct Server {
    listener: TcpListener,
    poll: Poll,
    waker: Arc<Waker>,
    /// `config.max_conns()` capped by the descriptor limit.
    max_conns: usize,
    shared: Arc<Shared>,
    local_addr: SocketAddr,
}

impl Server {
    /// Checks `config`, creates the seats (with `data_dir`: opens it and
    /// replays it) and binds the listener.
    ///
    /// # Errors
    ///
    /// `InvalidInput` for a bad setting (message says which), `Other` for
    /// a data directory that cannot be used (message says why), or the
    /// bind error (address in use, unknown host, …).
    pub fn bind(config: Config) -> io::Result<Server> {
        config
            .validate()
            .map_err(|m| io::Error::new(io::ErrorKind::InvalidInput, m))?;
        let inventory = match &config.data_dir {
            None => Inventory::new(config.seats)
                .map_err(|e| io::Error::new(io::ErrorKind::InvalidInput, e))?,
            Some(dir) => open_data(&config, dir)?,
        }
        .with_max_seats_per_request(config.max_seats_per_request);
        Server::bind_with(config, inventory)
    }

    /// Binds a server for `inventory` (made for `config`, which is valid).
    fn bind_with(config: Config, inventory: Inventory) -> io::Result<Server> {
        let listener = StdListener::bind((config.host.as_str(), config.port))?;
        let local_addr = listener.local_addr()?;
        listener.set_nonblocking(true)?;
        let poll = Poll::new()?;
        let waker = Arc::new(Waker::new(poll.registry(), poller::WAKER)?);
        let stop = Arc::new(Stop::new(Arc::clone(&waker)));
        let max_conns = capped_max_conns(config.max_conns());
        Ok(Server {
            listener: TcpListener::from_std(listener),
            poll,
            waker,
            max_conns,
            shared: Arc::new(Shared {
                config,
                inventory,
                counters: Counters::default(),
                stop,
            }),
            local_addr,
        })
    }

    /// The address actually bound (with the real port if 0 was asked).
    #[must_use]
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// The settings in force.
    #[must_use]
    pub fn config(&self) -> &Config {
        &self.shared.config
    }

    /// The seats and bookings (to inspect from tests and tools).
    #[must_use]
    pub fn inventory(&self) -> &Inventory {
        &self.shared.inventory
    }

    /// A handle that stops [`run`](Self::run) from another thread.
    #[must_use]
    pub fn shutdown_handle(&self) -> ShutdownHandle {
        ShutdownHandle::new(Arc::clone(&self.shared.stop))
    }

    /// The connection limit in force: `max_conns` capped by what the
    /// descriptor limit (`RLIMIT_NOFILE`) allows.
    #[must_use]
    pub fn max_conns(&self) -> usize {
        self.max_conns
    }

    /// Serves until [`ShutdownHandle::shutdown`] is called and every
    /// connection is closed, then joins the workers and returns. The
    /// calling thread is the poller.
    ///
    /// # Errors
    ///
    /// If the worker threads cannot be started or the poll fails.
    pub fn run(self) -> io::Result<()> {
        let Server {
            listener,
            poll,
            waker,
            max_conns,
            shared,
            local_addr,
        } = self;
        let (jobs, queue) = crossbeam_channel::unbounded();
        let (done, returned) = crossbeam_channel::unbounded();
        // Unbounded in type, bounded in fact: each holds at most the open
        // connections, each of which is in one place at a time.
        let wake = Arc::new(worker::PollerWake::new(waker));
        let workers = worker::spawn_workers(shared.config.threads, &queue, &done, &wake, &shared)?;
        drop((queue, done));
        // The poller releases replies held for the journal when the
        // journal's writer says its watermark moved.
        let hook_wake = Arc::clone(&wake);
        shared
            .inventory
            .set_progress_hook(Some(Arc::new(move || hook_wake.wake())));
        info!(addr = %local_addr, workers = workers.len(), max_conns, "serving");
        let result =
            poller::Poller::new(&shared, poll, listener, max_conns, jobs, returned, wake).run();
        shared.inventory.set_progress_hook(None);
        for worker in workers {
            if worker.join().is_err() {
                error!("a worker panicked");
            }
        }
        final_snapshot(&shared.inventory);
        info!("stopped");
        result
    }
}

/// Opens and replays the data directory, then snapshots what was replayed
/// so the next start has less to read.
fn open_data(config: &Config, dir: &std::path::Path) -> io::Result<Inventory> {
    let (inventory, opened) = Inventory::open(config.seats, dir, config.data)
        .map_err(|e| io::Error::other(e.to_string()))?;
    for warning in &opened.warnings {
        warn!(dir = %dir.display(), "{warning}");
    }
    info!(
        dir = %dir.display(),
        snapshot = ?opened.snapshot_seq,
        records = opened.records,
        "replayed the data directory"
    );
    if opened.records > 0 {
        if let Err(e) = inventory.snapshot() {
            warn!(error = %e, "snapshot after replay failed");
        }
    }
    Ok(inventory)
}

#[cfg(test)]
#[path = "held_tests.rs"]
mod held_tests;

/// At clean shutdown, once no request runs: a snapshot, so the next start
/// replays nothing.
fn final_snapshot(inventory: &Inventory) {
    match inventory.snapshot() {
        Ok(Some(seq)) => info!(seq, "snapshot written"),
        Ok(None) => {}
        Err(e) => error!(error = %e, "snapshot at shutdown failed"),
    }
}

/// `wanted` capped by the descriptor limit: one descriptor per connection,
/// plus a few for the server itself. Logged when it caps.
fn capped_max_conns(wanted: usize) -> usize {
    let Ok((soft, _hard)) = rlimit::getrlimit(rlimit::Resource::NOFILE) else {
        return wanted;
    };
    let allowed = usize::try_from(soft.saturating_sub(RESERVED_FDS).max(1)).unwrap_or(usize::MAX);
    if wanted > allowed {
        warn!(
            wanted,
            allowed,
            soft_limit = soft,
            "max-conns capped by the descriptor limit"
        );
        allowed
    } else {
        wanted
    }
}

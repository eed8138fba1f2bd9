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

use crate::catalog::{Catalog, MapDef};
use crate::cluster::{ClusterLog, Routing};
use crate::config::Config;
use crate::inventory::{Clock, Inventory, SystemClock};
use crate::stats::Counters;

/// Descriptors kept free for everything but connections (the listener,
/// the poll, the waker, the spare, standard streams, log files).
const RESERVED_FDS: u64 = 32;

/// What the poller and the workers share.
#[derive(Debug)]
struct Shared {
    config: Config,
    catalog: Arc<Catalog>,
    counters: Counters,
    stop: Arc<Stop>,
    /// Cluster mode (`--etcd`): who serves which map.
    routing: Option<Routing>,
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
    /// The `--admin-listen` listener and its address.
    admin: Option<(TcpListener, SocketAddr)>,
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
        Server::bind_with_clock(config, Arc::new(SystemClock))
    }

    /// [`bind`](Self::bind), with holds expiring by `clock` (tests drive
    /// expiry with a [`ManualClock`](crate::ManualClock) and
    /// [`Catalog::expire_due`]).
    ///
    /// # Errors
    ///
    /// As [`bind`](Self::bind).
    pub fn bind_with_clock(config: Config, clock: Arc<dyn Clock>) -> io::Result<Server> {
        config
            .validate()
            .map_err(|m| io::Error::new(io::ErrorKind::InvalidInput, m))?;
        let defs = config
            .all_maps()
            .map_err(|m| io::Error::new(io::ErrorKind::InvalidInput, m))?;
        // Cluster mode keeps every change in etcd (`validate` refuses a
        // data directory with it).
        let cluster_log = config.cluster.as_ref().map(|_| ClusterLog::new());
        let catalog = match (&config.data_dir, &cluster_log) {
            (_, Some(log)) => {
                let journal = crate::durable::Log::Cluster(Arc::clone(log));
                Catalog::for_cluster(&defs, config.max_seats_per_request, journal)
                    .map_err(|m| io::Error::new(io::ErrorKind::InvalidInput, m))?
            }
            (None, None) => Catalog::new(&defs, config.max_seats_per_request)
                .map_err(|m| io::Error::new(io::ErrorKind::InvalidInput, m))?,
            (Some(dir), None) => open_data(&config, &defs, dir)?,
        };
        let mut catalog = catalog;
        catalog.configure_holds(config.hold_ttl, config.hold_max, clock);
        Server::bind_with(config, catalog, cluster_log)
    }

    /// Binds a server for `catalog` (made for `config`, which is valid).
    fn bind_with(
        config: Config,
        catalog: Catalog,
        cluster_log: Option<Arc<ClusterLog>>,
    ) -> io::Result<Server> {
        let catalog = Arc::new(catalog);
        let listener = StdListener::bind((config.host.as_str(), config.port))?;
        let local_addr = listener.local_addr()?;
        listener.set_nonblocking(true)?;
        let admin = config.admin_listen.as_deref().map(bind_admin).transpose()?;
        let poll = Poll::new()?;
        let waker = Arc::new(Waker::new(poll.registry(), poller::WAKER)?);
        let stop = Arc::new(Stop::new(Arc::clone(&waker)));
        let max_conns = capped_max_conns(config.max_conns());
        // Joined last, once the port is bound: from here on, other nodes
        // may send clients to this one.
        let routing = match (&config.cluster, &cluster_log) {
            (Some(c), Some(log)) => Some(
                Routing::start(c, &catalog, log, local_addr.port()).map_err(io::Error::other)?,
            ),
            _ => None,
        };
        Ok(Server {
            listener: TcpListener::from_std(listener),
            poll,
            waker,
            max_conns,
            shared: Arc::new(Shared {
                config,
                catalog,
                counters: Counters::default(),
                stop,
                routing,
            }),
            local_addr,
            admin,
        })
    }

    /// The address of the `--admin-listen` listener, if there is one.
    #[must_use]
    pub fn admin_addr(&self) -> Option<SocketAddr> {
        self.admin.as_ref().map(|(_, addr)| *addr)
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

    /// The seats and bookings of the map `default` (to inspect from
    /// tests and tools).
    #[must_use]
    pub fn inventory(&self) -> &Inventory {
        self.shared.catalog.default_map()
    }

    /// Every map (to inspect from tests and tools, also while it runs).
    #[must_use]
    pub fn catalog(&self) -> Arc<Catalog> {
        Arc::clone(&self.shared.catalog)
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
            admin,
        } = self;
        let (jobs, queue) = crossbeam_channel::unbounded();
        let (done, returned) = crossbeam_channel::unbounded();
        // Unbounded in type, bounded in fact: each holds at most the open
        // connections, each of which is in one place at a time.
        let wake = Arc::new(worker::PollerWake::new(waker));
        let workers = worker::spawn_workers(shared.config.threads, &queue, &done, &wake, &shared)?;
        drop((queue, done));
        let catalog = Arc::clone(&shared.catalog);
        let expiry = std::thread::Builder::new()
            .name("seatnet-expiry".into())
            .spawn(move || catalog.run_expiry())?;
        // The poller releases replies held for the journal when the
        // journal's writer says its watermark moved (every map shares the
        // one journal, so the default map's handle stands for all).
        let hook_wake = Arc::clone(&wake);
        shared
            .catalog
            .default_map()
            .set_progress_hook(Some(Arc::new(move || hook_wake.wake())));
        info!(addr = %local_addr, workers = workers.len(), max_conns, "serving");
        let admin = admin.map(|(listener, _)| listener);
        let listeners = (listener, admin);
        let result =
            poller::Poller::new(&shared, poll, listeners, max_conns, jobs, returned, wake).run();
        shared.catalog.default_map().set_progress_hook(None);
        for worker in workers {
            if worker.join().is_err() {
                error!("a worker panicked");
            }
        }
        shared.catalog.stop_expiry();
        if expiry.join().is_err() {
            error!("the expiry thread panicked");
        }
        final_snapshot(&shared.catalog);
        // Every worker has ended, so nothing else holds `shared`.
        if let Some(routing) = Arc::into_inner(shared).and_then(|s| s.routing) {
            routing.leave();
        }
        info!("stopped");
        result
    }
}

/// Binds the `--admin-listen` address `addr` (`host:port`). Its
/// connections may run operator commands and nothing authenticates them,
/// so an address other than loopback is logged as a warning.
fn bind_admin(addr: &str) -> io::Result<(TcpListener, SocketAddr)> {
    // `Other`: the message is whole (the binary shows it as is).
    let listener = StdListener::bind(addr)
        .map_err(|e| io::Error::other(format!("cannot listen on the admin address {addr}: {e}")))?;
    let local = listener.local_addr()?;
    listener.set_nonblocking(true)?;
    if !local.ip().is_loopback() {
        warn!(
            %local,
            "the admin address is not loopback: anyone who can reach it may run operator commands"
        );
    }
    Ok((TcpListener::from_std(listener), local))
}

/// Opens and replays the data directory, then snapshots what was replayed
/// so the next start has less to read.
fn open_data(config: &Config, defs: &[MapDef], dir: &std::path::Path) -> io::Result<Catalog> {
    let (mut catalog, opened) =
        Catalog::open(defs, dir, config.data).map_err(|e| io::Error::other(e.to_string()))?;
    catalog.set_max_seats_per_request(config.max_seats_per_request);
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
        if let Err(e) = catalog.snapshot() {
            warn!(error = %e, "snapshot after replay failed");
        }
    }
    Ok(catalog)
}

#[cfg(test)]
#[path = "held_tests.rs"]
mod held_tests;

/// At clean shutdown, once no request runs: a snapshot, so the next start
/// replays nothing.
fn final_snapshot(catalog: &Catalog) {
    match catalog.snapshot() {
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

//! [`Server`]: a listener and either an accept thread and a fixed pool of
//! workers ([`Io::Threads`], the default) or one event loop
//! ([`Io::Events`]).
//!
//! - `accept`: admits up to `max_conns` connections, turns away the rest;
//! - `worker`: the pool, fed through a crossbeam channel;
//! - `connection`: serving one connection on a worker;
//! - `batch`: answering the requests of one read (both modes);
//! - `events`: the event loop serving every connection;
//! - `shutdown`: [`ShutdownHandle`] and waking blocked threads.
//!
//! Connections beyond `threads` (when `max_conns > threads`) wait in the
//! channel until a worker is free.

mod accept;
mod batch;
mod connection;
mod events;
mod shutdown;
mod worker;

use std::io;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, TcpListener};
use std::sync::Arc;

use tracing::{error, info, warn};

pub use shutdown::ShutdownHandle;
use shutdown::Stop;

use crate::config::{Config, Io};
use crate::inventory::Inventory;
use crate::stats::Counters;

/// What the accept thread and the workers share.
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
        let listener = TcpListener::bind((config.host.as_str(), config.port))?;
        let local_addr = listener.local_addr()?;
        // One shutdown slot per worker; the event loop needs none.
        let workers = match config.io {
            Io::Threads => config.threads,
            Io::Events => 0,
        };
        let stop = Arc::new(Stop::new(wake_address(local_addr), workers));
        Ok(Server {
            listener,
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

    /// Serves until [`ShutdownHandle::shutdown`] is called, then closes
    /// every connection, joins the workers and returns. With
    /// [`Io::Events`] the calling thread is the event loop.
    ///
    /// # Errors
    ///
    /// If the worker threads cannot be started, or (events mode) the poll
    /// cannot be created or fails.
    pub fn run(self) -> io::Result<()> {
        if self.shared.config.io == Io::Events {
            info!(addr = %self.local_addr, io = "events", "serving");
            let result = events::run(self.listener, &self.shared);
            final_snapshot(&self.shared.inventory);
            info!("stopped");
            return result;
        }
        let shared = &self.shared;
        // Unbounded in type, bounded in fact: the accept thread admits at
        // most `max_conns` open connections (`Counters::try_open`), so the
        // queue never holds more than that; the rest are told `busy`.
        let (sender, queue) = crossbeam_channel::unbounded();
        // On error, the workers that did start exit when `sender` drops.
        let workers = worker::spawn_workers(shared.config.threads, &queue, shared)?;
        drop(queue);
        info!(addr = %self.local_addr, workers = workers.len(), "serving");
        accept::accept_loop(&self.listener, &sender, shared);
        drop(sender);
        drop(self.listener);
        for worker in workers {
            if worker.join().is_err() {
                error!("a worker panicked");
            }
        }
        final_snapshot(&shared.inventory);
        info!("stopped");
        Ok(())
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

/// At clean shutdown, once no request runs: a snapshot, so the next start
/// replays nothing.
fn final_snapshot(inventory: &Inventory) {
    match inventory.snapshot() {
        Ok(Some(seq)) => info!(seq, "snapshot written"),
        Ok(None) => {}
        Err(e) => error!(error = %e, "snapshot at shutdown failed"),
    }
}

/// Where the shutdown connects to wake the accept thread: the bound
/// address, with an unspecified IP (`0.0.0.0`, `::`) replaced by loopback.
fn wake_address(bound: SocketAddr) -> SocketAddr {
    let ip = match bound.ip() {
        IpAddr::V4(ip) if ip.is_unspecified() => IpAddr::V4(Ipv4Addr::LOCALHOST),
        IpAddr::V6(ip) if ip.is_unspecified() => IpAddr::V6(Ipv6Addr::LOCALHOST),
        ip => ip,
    };
    SocketAddr::new(ip, bound.port())
}

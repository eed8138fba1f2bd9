//! A seatnet server started inside the bench process, on 127.0.0.1:0, so
//! that one command measures everything.

use std::net::SocketAddr;
use std::thread::{self, JoinHandle};

use seatnet::{Config, Server, ShutdownHandle};

/// A running in-process seatnet server; [`Spawned::stop`] ends it.
pub(crate) struct Spawned {
    addr: SocketAddr,
    stop: ShutdownHandle,
    thread: JoinHandle<std::io::Result<()>>,
}

impl Spawned {
    /// Starts a server with `seats` seats and the default
    /// configuration otherwise; a worker for each of `connections` honest
    /// clients and room for `hostile` more connections.
    pub(crate) fn start(seats: u64, connections: u32, hostile: u64) -> Result<Self, String> {
        let defaults = Config::default();
        let mut config = Config {
            host: "127.0.0.1".into(),
            port: 0,
            seats,
            threads: defaults.threads.max(connections as usize),
            ..defaults
        };
        let all = usize::try_from(u64::from(connections) + hostile).unwrap_or(usize::MAX);
        config.max_conns = Some(config.max_conns().max(all));
        let server = Server::bind(config).map_err(|e| format!("cannot start seatnet: {e}"))?;
        let addr = server.local_addr();
        let stop = server.shutdown_handle();
        let thread = thread::Builder::new()
            .name("seatnet-server".into())
            .spawn(move || server.run())
            .map_err(|e| format!("cannot start seatnet: {e}"))?;
        Ok(Self { addr, stop, thread })
    }

    pub(crate) fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Shuts the server down and waits for it; reports a failed run.
    pub(crate) fn stop(self) {
        self.stop.shutdown();
        match self.thread.join() {
            Ok(Ok(())) => {}
            Ok(Err(e)) => eprintln!("warning: the spawned seatnet server failed: {e}"),
            Err(_) => eprintln!("warning: the spawned seatnet server panicked"),
        }
    }
}

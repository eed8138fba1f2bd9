//! A seatnet server started inside the bench process, on 127.0.0.1:0.

use std::net::SocketAddr;

/// A running in-process seatnet server.
pub(crate) struct Spawned {
    addr: SocketAddr,
}

impl Spawned {
    pub(crate) fn start(_seats: u64) -> Result<Self, String> {
        Err("--spawn is not available yet: start seatnet-server and use --port".into())
    }

    pub(crate) fn addr(&self) -> SocketAddr {
        self.addr
    }

    pub(crate) fn stop(self) {}
}

//! [`Config`]: everything a server is started with.

use std::path::PathBuf;
use std::time::Duration;

use crate::durable::DataOptions;

/// How a [`Server`](crate::Server) does its network I/O.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Io {
    /// The default: an accept thread and a fixed pool of `threads` blocking
    /// workers, each serving one connection at a time. Simple, and every
    /// connection has a thread of its own; it pays one thread wake-up per
    /// request, and serves at most `threads` clients at once.
    #[default]
    Threads,
    /// One event-loop thread (`mio`, edge-triggered, nonblocking sockets)
    /// serving every connection: fewer wake-ups and context switches, so
    /// lower latency under many connections, and many more clients than
    /// threads. `threads` is ignored. All requests are answered on that one
    /// thread, so one slow request (`AVAIL` on a huge map) delays the
    /// others.
    Events,
}

/// How to run a [`Server`](crate::Server). `Config::default()` is the
/// original's setup: `127.0.0.1:12345`, 100 seats; plus 256 workers.
///
/// # Examples
///
/// ```
/// use seatnet::Config;
///
/// // A server for tests: any free port, 10 seats.
/// let config = Config { port: 0, seats: 10, ..Config::default() };
/// assert_eq!(config.max_conns(), 256);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    /// Address to listen on (a name or an IP address).
    pub host: String,
    /// Port; 0 picks a free one (read it back with
    /// [`Server::local_addr`](crate::Server::local_addr)).
    pub port: u16,
    /// Number of seats, numbered 1..=seats on the wire.
    pub seats: u64,
    /// Worker threads: the number of connections served at once (with
    /// [`Io::Threads`]; unused with [`Io::Events`]).
    pub threads: usize,
    /// Connections open at once, served or waiting for a worker; one more
    /// is answered `ERR busy` and closed. `None`: the same as `threads` with
    /// [`Io::Threads`], [`Config::DEFAULT_EVENT_CONNS`] with [`Io::Events`].
    pub max_conns: Option<usize>,
    /// A connection with nothing to read, or whose replies cannot be
    /// written, for this long is closed.
    pub idle_timeout: Duration,
    /// Longest request in bytes, line terminator not counted.
    pub max_line: usize,
    /// Blocking worker pool (default) or one event loop.
    pub io: Io,
    /// Most seats one `ANY`, `TOGETHER`, `BOOK` or `ALL` may ask for; more
    /// is `ERR too-many-seats`. Bounds the work and memory of one request.
    pub max_seats_per_request: u64,
    /// Keep every change in a journal in this directory and replay it at
    /// start (`--data-dir`); `None`: in memory only.
    pub data_dir: Option<PathBuf>,
    /// How the data directory is kept (`--fsync`, `--snapshot-every`).
    pub data: DataOptions,
}

impl Config {
    /// Seats of the original aircraft.
    pub const DEFAULT_SEATS: u64 = 100;
    /// Port of the original server.
    pub const DEFAULT_PORT: u16 = 12345;
    /// Default number of workers.
    pub const DEFAULT_THREADS: usize = 256;
    /// Default idle timeout.
    pub const DEFAULT_IDLE_TIMEOUT: Duration = Duration::from_secs(60);
    /// Default longest request.
    pub const DEFAULT_MAX_LINE: usize = 4096;
    /// Default most seats per request: far above any party that books
    /// together, small enough that one request costs microseconds.
    pub const DEFAULT_MAX_SEATS_PER_REQUEST: u64 = 1024;
    /// Default connection limit with [`Io::Events`]: one thread serves them
    /// all, each costing about 8 KiB of buffers plus its unsent replies.
    pub const DEFAULT_EVENT_CONNS: usize = 1024;

    /// The connection limit in force: `max_conns`, or if unset `threads`
    /// ([`Io::Threads`]) or [`DEFAULT_EVENT_CONNS`](Self::DEFAULT_EVENT_CONNS)
    /// ([`Io::Events`]).
    #[must_use]
    pub fn max_conns(&self) -> usize {
        self.max_conns.unwrap_or(match self.io {
            Io::Threads => self.threads,
            Io::Events => Self::DEFAULT_EVENT_CONNS,
        })
    }

    /// Checks the values that have a lower bound.
    ///
    /// # Errors
    ///
    /// A message naming the first bad setting.
    pub fn validate(&self) -> Result<(), String> {
        if self.seats == 0 {
            return Err("seats must be at least 1".into());
        }
        if self.threads == 0 {
            return Err("threads must be at least 1".into());
        }
        if self.max_conns() == 0 {
            return Err("max-conns must be at least 1".into());
        }
        if self.idle_timeout.is_zero() {
            return Err("idle-timeout must be more than 0".into());
        }
        if self.max_line == 0 {
            return Err("max-line must be at least 1".into());
        }
        if self.max_seats_per_request == 0 {
            return Err("max-seats-per-request must be at least 1".into());
        }
        Ok(())
    }
}

impl Default for Config {
    fn default() -> Self {
        Config {
            host: "127.0.0.1".into(),
            port: Self::DEFAULT_PORT,
            seats: Self::DEFAULT_SEATS,
            threads: Self::DEFAULT_THREADS,
            max_conns: None,
            idle_timeout: Self::DEFAULT_IDLE_TIMEOUT,
            max_line: Self::DEFAULT_MAX_LINE,
            io: Io::Threads,
            max_seats_per_request: Self::DEFAULT_MAX_SEATS_PER_REQUEST,
            data_dir: None,
            data: DataOptions::default(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_the_originals() {
        let c = Config::default();
        assert_eq!(
            (c.host.as_str(), c.port, c.seats),
            ("127.0.0.1", 12345, 100)
        );
        assert_eq!(c.max_conns(), c.threads);
        assert_eq!(c.validate(), Ok(()));
        let events = Config {
            io: Io::Events,
            ..Config::default()
        };
        assert_eq!(events.max_conns(), Config::DEFAULT_EVENT_CONNS);
    }

    #[test]
    fn bad_values_are_named() {
        let bad = [
            Config {
                seats: 0,
                ..Config::default()
            },
            Config {
                threads: 0,
                ..Config::default()
            },
            Config {
                max_conns: Some(0),
                ..Config::default()
            },
            Config {
                idle_timeout: Duration::ZERO,
                ..Config::default()
            },
            Config {
                max_line: 0,
                ..Config::default()
            },
            Config {
                max_seats_per_request: 0,
                ..Config::default()
            },
        ];
        for config in bad {
            assert!(config.validate().is_err(), "{config:?}");
        }
    }
}

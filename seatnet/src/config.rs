//! [`Config`]: everything a server is started with.

use std::path::PathBuf;
use std::time::Duration;

use crate::catalog::{MapDef, resolve_maps};
use crate::cluster::ClusterConfig;
use crate::durable::DataOptions;

/// How to run a [`Server`](crate::Server). `Config::default()` is the
/// original's setup: `127.0.0.1:12345`, 100 seats; plus the limits below.
///
/// # Examples
///
/// ```
/// use seatnet::Config;
///
/// // A server for tests: any free port, 10 seats.
/// let config = Config { port: 0, seats: 10, ..Config::default() };
/// assert_eq!(config.max_conns(), 10_000);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    /// Address to listen on (a name or an IP address).
    pub host: String,
    /// Port; 0 picks a free one (read it back with
    /// [`Server::local_addr`](crate::Server::local_addr)).
    pub port: u16,
    /// Number of seats of the map named `default`, numbered 1..=seats on
    /// the wire (unless `maps` defines `default`; then this must stay
    /// [`Config::DEFAULT_SEATS`]).
    pub seats: u64,
    /// More maps (`--map NAME=SPEC`), and perhaps `default`.
    pub maps: Vec<MapDef>,
    /// Worker threads: requests answered at once. Independent of the
    /// number of connections, which wait in the poller.
    pub threads: usize,
    /// Connections open at once; one more is answered `ERR busy` and
    /// closed. `None`: [`Config::DEFAULT_MAX_CONNS`]. Capped at start to
    /// what the descriptor limit allows.
    pub max_conns: Option<usize>,
    /// Connections open at once from one IP address (`None`: no cap).
    pub max_conns_per_addr: Option<usize>,
    /// A connection with nothing read or written for this long is closed.
    pub idle_timeout: Duration,
    /// A request must arrive whole within this time from its first byte.
    pub request_timeout: Duration,
    /// How long undecided bytes wait for more before they are answered as
    /// an original request (see `protocol::Framer`).
    pub grace: Duration,
    /// Longest request in bytes, line terminator not counted.
    pub max_line: usize,
    /// Replies one batch may leave unsent, in bytes (beyond the socket's
    /// buffers); past it, the connection is closed. (A connection with
    /// unsent replies is not read until they are sent.)
    pub max_output: usize,
    /// Most seats one `ANY`, `TOGETHER`, `BOOK` or `ALL` may ask for; more
    /// is `ERR too-many-seats`. Bounds the work and memory of one request.
    pub max_seats_per_request: u64,
    /// How long a `HOLD` holds its seats (`--hold-ttl`), and how much
    /// longer each `EXTEND` gives (from the moment it is asked).
    pub hold_ttl: Duration,
    /// The longest a hold may last in all, from when it was placed, however
    /// often it is extended (`--hold-max`; at least `hold_ttl`).
    pub hold_max: Duration,
    /// Keep every change in a journal in this directory and replay it at
    /// start (`--data-dir`); `None`: in memory only. A reply that changed
    /// seats is sent once its change is durable; if the journal fails (a
    /// write or sync error) the process exits with status 70 (fail-stop,
    /// [`durable::fail_stop`](crate::durable::fail_stop)).
    pub data_dir: Option<PathBuf>,
    /// How the data directory is kept (`--fsync`, `--snapshot-every`).
    pub data: DataOptions,
    /// A second listening address, `host:port` (`--admin-listen`): only
    /// connections accepted there may run operator commands (`SNAPSHOT`,
    /// `BACKUP`, `ADDMAP`, `REMOVEMAP`). `None` (the default): no
    /// connection may.
    pub admin_listen: Option<String>,
    /// Join a cluster (`--etcd`, `--node`, `--advertise`, `--lease-ttl`;
    /// `docs/cluster.md`); `None` (the default): a server on its own.
    pub cluster: Option<ClusterConfig>,
}

impl Config {
    /// Seats of the original aircraft.
    pub const DEFAULT_SEATS: u64 = 100;
    /// Port of the original server.
    pub const DEFAULT_PORT: u16 = 12345;
    /// Default number of workers.
    pub const DEFAULT_THREADS: usize = 16;
    /// Default connection limit.
    pub const DEFAULT_MAX_CONNS: usize = 10_000;
    /// Default idle timeout.
    pub const DEFAULT_IDLE_TIMEOUT: Duration = Duration::from_secs(60);
    /// Default request timeout.
    pub const DEFAULT_REQUEST_TIMEOUT: Duration = Duration::from_secs(10);
    /// Default grace for undecided bytes.
    pub const DEFAULT_GRACE: Duration = Duration::from_millis(5);
    /// Longest grace accepted (a longer one would stall original clients).
    pub const MAX_GRACE: Duration = Duration::from_secs(10);
    /// Default longest request.
    pub const DEFAULT_MAX_LINE: usize = 4096;
    /// Default bound on unread replies per connection.
    pub const DEFAULT_MAX_OUTPUT: usize = 1024 * 1024;
    /// Default `hold_ttl`: 15 minutes.
    pub const DEFAULT_HOLD_TTL: Duration = Duration::from_secs(900);
    /// Default `hold_max`: 1 hour.
    pub const DEFAULT_HOLD_MAX: Duration = Duration::from_secs(3600);
    /// Default most seats per request: far above any party that books
    /// together, small enough that one request costs microseconds.
    pub const DEFAULT_MAX_SEATS_PER_REQUEST: u64 = 1024;

    /// The connection limit asked for: `max_conns` or
    /// [`DEFAULT_MAX_CONNS`](Self::DEFAULT_MAX_CONNS) (before the cap by
    /// the descriptor limit).
    #[must_use]
    pub fn max_conns(&self) -> usize {
        self.max_conns.unwrap_or(Self::DEFAULT_MAX_CONNS)
    }

    /// Checks the values that have a bound.
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
        if self.max_conns_per_addr == Some(0) {
            return Err("max-conns-per-addr must be at least 1".into());
        }
        if self.idle_timeout.is_zero() {
            return Err("idle-timeout must be more than 0".into());
        }
        if self.request_timeout.is_zero() {
            return Err("request-timeout must be more than 0".into());
        }
        if self.grace > Self::MAX_GRACE {
            return Err("grace-ms must be at most 10000".into());
        }
        if self.max_line == 0 {
            return Err("max-line must be at least 1".into());
        }
        if self.max_output == 0 {
            return Err("max-output must be at least 1".into());
        }
        if let Some(cluster) = &self.cluster {
            cluster.validate()?;
            if self.data_dir.is_some() {
                return Err(
                    "--data-dir and --etcd: a cluster node keeps every change in etcd, not in a data directory; give one or the other"
                        .into(),
                );
            }
        }
        if self.max_seats_per_request == 0 {
            return Err("max-seats-per-request must be at least 1".into());
        }
        if self.hold_ttl < Duration::from_secs(1) {
            return Err("hold-ttl must be at least 1 second".into());
        }
        if self.hold_max < self.hold_ttl {
            return Err("hold-max must be at least hold-ttl".into());
        }
        self.all_maps().map(drop)
    }

    /// Every map to serve, `default` first: `maps`, plus `default` as
    /// `seats` numbered seats unless `maps` defines it.
    ///
    /// # Errors
    ///
    /// A name given twice, or `default` given both ways.
    pub fn all_maps(&self) -> Result<Vec<MapDef>, String> {
        resolve_maps(self.seats, &self.maps)
    }
}

impl Default for Config {
    fn default() -> Self {
        Config {
            host: "127.0.0.1".into(),
            port: Self::DEFAULT_PORT,
            seats: Self::DEFAULT_SEATS,
            maps: Vec::new(),
            threads: Self::DEFAULT_THREADS,
            max_conns: None,
            max_conns_per_addr: None,
            idle_timeout: Self::DEFAULT_IDLE_TIMEOUT,
            request_timeout: Self::DEFAULT_REQUEST_TIMEOUT,
            grace: Self::DEFAULT_GRACE,
            max_line: Self::DEFAULT_MAX_LINE,
            max_output: Self::DEFAULT_MAX_OUTPUT,
            max_seats_per_request: Self::DEFAULT_MAX_SEATS_PER_REQUEST,
            hold_ttl: Self::DEFAULT_HOLD_TTL,
            hold_max: Self::DEFAULT_HOLD_MAX,
            data_dir: None,
            data: DataOptions::default(),
            admin_listen: None,
            cluster: None,
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
        assert_eq!(c.max_conns(), Config::DEFAULT_MAX_CONNS);
        assert_eq!(c.validate(), Ok(()));
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
                max_conns_per_addr: Some(0),
                ..Config::default()
            },
            Config {
                idle_timeout: Duration::ZERO,
                ..Config::default()
            },
            Config {
                request_timeout: Duration::ZERO,
                ..Config::default()
            },
            Config {
                grace: Duration::from_secs(11),
                ..Config::default()
            },
            Config {
                max_line: 0,
                ..Config::default()
            },
            Config {
                max_output: 0,
                ..Config::default()
            },
            Config {
                max_seats_per_request: 0,
                ..Config::default()
            },
            Config {
                hold_ttl: Duration::ZERO,
                ..Config::default()
            },
            Config {
                hold_max: Duration::from_secs(10),
                ..Config::default()
            },
            Config {
                maps: vec!["default=5".parse().unwrap()],
                seats: 7,
                ..Config::default()
            },
        ];
        for config in bad {
            assert!(config.validate().is_err(), "{config:?}");
        }
    }
}

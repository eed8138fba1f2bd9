//! [`Config`]: everything a server is started with.

use std::time::Duration;

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
    /// Worker threads: the number of connections served at once.
    pub threads: usize,
    /// Connections open at once, served or waiting for a worker; one more
    /// is answered `ERR busy` and closed. `None`: the same as `threads`.
    pub max_conns: Option<usize>,
    /// A connection with nothing to read, or whose replies cannot be
    /// written, for this long is closed.
    pub idle_timeout: Duration,
    /// Longest request in bytes, line terminator not counted.
    pub max_line: usize,
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

    /// The connection limit in force: `max_conns`, or `threads` if unset.
    #[must_use]
    pub fn max_conns(&self) -> usize {
        self.max_conns.unwrap_or(self.threads)
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
        ];
        for config in bad {
            assert!(config.validate().is_err(), "{config:?}");
        }
    }
}

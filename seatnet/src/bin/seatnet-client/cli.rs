//! Command line: flags, subcommands and exit codes.

use std::time::Duration;

use clap::{Parser, Subcommand};

/// Exit codes, as documented in `--help`.
pub(crate) mod exit {
    /// The request was granted (or the interactive session ended normally).
    pub(crate) const OK: u8 = 0;
    /// The server answered but granted nothing (`Reservados: []`, `ERR ...`).
    pub(crate) const REFUSED: u8 = 1;
    /// Bad command line (clap uses 2 as well).
    pub(crate) const USAGE: u8 = 2;
    /// No connection, or the connection broke before a reply.
    pub(crate) const CONNECTION: u8 = 3;
}

const EXIT_CODES: &str = "\
Exit codes:
  0  the server granted the request (interactive: session ended normally)
  1  the server answered but granted nothing (`Reservados: []`, `ERR ...`)
  2  bad command line
  3  could not connect, or the server closed the connection / timed out
     before replying";

/// Client for seatnet-server and for the original seat server.
///
/// Without a subcommand it runs the original interactive dialogue; with one
/// it sends a single request, prints the reply and exits.
#[derive(Debug, Parser)]
#[command(version, after_help = EXIT_CODES)]
pub(crate) struct Args {
    /// Server host name or address.
    #[arg(long, default_value = "127.0.0.1")]
    pub(crate) host: String,
    /// Server TCP port.
    #[arg(long, default_value_t = 12345)]
    pub(crate) port: u16,
    /// Seconds to wait for the connection and for each reply.
    #[arg(long, default_value_t = 10.0, value_parser = parse_seconds)]
    pub(crate) timeout: f64,
    /// How many times a change (book, all, any, together, cancel, hold,
    /// extend, confirm; the same typed in the interactive mode) is sent
    /// again, on a new connection, when the connection is lost before its
    /// reply. Each change carries a request id (`id=...`), so a retry gets
    /// the first reply instead of doing the change twice. Original seat
    /// lists (`5,10,22`) carry none and are never sent twice.
    #[arg(long, default_value_t = 3, value_parser = clap::value_parser!(u32).range(0..=100))]
    pub(crate) retries: u32,
    /// Work on this map (the client sends `USE NAME` first); without it,
    /// the server's map "default".
    #[arg(long, value_name = "NAME")]
    pub(crate) map: Option<String>,
    /// Interactive: after every reply that changed seats, draw the map.
    #[arg(long)]
    pub(crate) show_map: bool,
    #[command(subcommand)]
    pub(crate) command: Option<OneShot>,
}

impl Args {
    pub(crate) fn timeout(&self) -> Duration {
        Duration::from_secs_f64(self.timeout)
    }
}

/// One request, for scripts.
#[derive(Debug, Subcommand)]
pub(crate) enum OneShot {
    /// Reserve these seats in the original request form (e.g. `5,10,22`).
    Reserve {
        /// Comma-separated seat numbers.
        seats: String,
    },
    /// Reserve what is free among these seats (`BOOK`).
    Book {
        /// Comma-separated seat numbers.
        seats: String,
    },
    /// Reserve all of these seats or none (`ALL`).
    All {
        /// Comma-separated seat numbers.
        seats: String,
    },
    /// Reserve this many seats wherever they are free (`ANY`).
    Any {
        /// Number of seats.
        count: u64,
    },
    /// Reserve this many adjacent seats (`TOGETHER`).
    Together {
        /// Number of seats.
        count: u64,
    },
    /// Cancel a booking by its reference (`CANCEL`).
    Cancel {
        /// The reference from an `OK <ref> ...` reply.
        reference: String,
    },
    /// Show a booking's seats by its reference (`SHOW`).
    Show {
        /// The reference from an `OK <ref> ...` reply.
        reference: String,
    },
    /// Hold seats for a while (`HOLD`): `hold 5,10` (all or none),
    /// `hold any 3`, `hold together 3`; then `confirm` or `cancel` it.
    Hold {
        /// Seats (`5,10`, `12A-12C`), or `any N`, or `together N`.
        #[arg(required = true, num_args = 1..=2)]
        what: Vec<String>,
    },
    /// Hold longer (`EXTEND`).
    Extend {
        /// The reference from a `hold` reply.
        reference: String,
    },
    /// Turn a hold into a booking (`CONFIRM`).
    Confirm {
        /// The reference from a `hold` reply.
        reference: String,
    },
    /// Check that a map exists and say what it is (`USE`).
    Use {
        /// The map's name.
        name: String,
    },
    /// List the maps: name, spec, seats, free, and in a cluster the owner
    /// (`MAPS`).
    Maps,
    /// List a cluster's live nodes (`NODES`).
    Nodes,
    /// Draw a map: rows, letters, aisles, free / held / taken (`MAP`).
    Map {
        /// The map (default: --map, else "default").
        name: Option<String>,
    },
    /// Show the free seats (`AVAIL`).
    Avail,
    /// Show the server's counters (`STATS`).
    Stats,
    /// Send one line exactly as given.
    Raw {
        /// The request line (no newline inside).
        line: String,
    },
}

impl OneShot {
    /// The request line this subcommand sends.
    pub(crate) fn request_line(&self) -> String {
        match self {
            Self::Reserve { seats } => seats.clone(),
            Self::Book { seats } => format!("BOOK {seats}"),
            Self::All { seats } => format!("ALL {seats}"),
            Self::Any { count } => format!("ANY {count}"),
            Self::Together { count } => format!("TOGETHER {count}"),
            Self::Cancel { reference } => format!("CANCEL {reference}"),
            Self::Show { reference } => format!("SHOW {reference}"),
            Self::Hold { what } => format!("HOLD {}", what.join(" ")),
            Self::Extend { reference } => format!("EXTEND {reference}"),
            Self::Confirm { reference } => format!("CONFIRM {reference}"),
            Self::Use { name } => format!("USE {name}"),
            Self::Maps => "MAPS".to_owned(),
            Self::Nodes => "NODES".to_owned(),
            Self::Map { name: Some(name) } => format!("MAP {name}"),
            Self::Map { name: None } => "MAP".to_owned(),
            Self::Avail => "AVAIL".to_owned(),
            Self::Stats => "STATS".to_owned(),
            Self::Raw { line } => line.clone(),
        }
    }

    /// Whether this subcommand changes seats: it carries a request id and
    /// may be retried.
    pub(crate) fn changes(&self) -> bool {
        matches!(
            self,
            Self::Book { .. }
                | Self::All { .. }
                | Self::Any { .. }
                | Self::Together { .. }
                | Self::Cancel { .. }
                | Self::Hold { .. }
                | Self::Extend { .. }
                | Self::Confirm { .. }
        )
    }
}

/// A fresh request id: 16 random hex digits (unique, not secret).
pub(crate) fn request_id() -> String {
    format!("{:016x}", fastrand::u64(..))
}

fn parse_seconds(text: &str) -> Result<f64, String> {
    match text.parse::<f64>() {
        Ok(s) if s > 0.0 && s <= 3600.0 => Ok(s),
        _ => Err("expected seconds between 0 and 3600".to_owned()),
    }
}

//! Command line, checked into a [`Plan`] before anything is started.

use std::fmt;
use std::net::{SocketAddr, ToSocketAddrs};
use std::time::Duration;

use clap::{Parser, ValueEnum};

use crate::holds::HoldsPlan;
use crate::hostile::HostilePlan;

/// Exit codes, as documented in `--help`.
pub(crate) mod exit {
    /// Every request answered, no seat granted twice.
    pub(crate) const OK: u8 = 0;
    /// A seat was granted twice (or a seat off the map was granted), or
    /// the holds workload's consistency check failed.
    pub(crate) const DOUBLE_GRANT: u8 = 1;
    /// Bad command line, a refused target, or no connection.
    pub(crate) const SETUP: u8 = 2;
    /// The run finished but some requests failed (timeouts, closed
    /// connections, `ERR` or malformed replies).
    pub(crate) const ERRORS: u8 = 3;
}

const AFTER_HELP: &str = "\
Only loopback targets are accepted: this tool must never load another host.

Hostile connections (--idle, --trickle, --no-read) are held open during the
run, never measured, and reopened when the server closes them; the report
counts them. The tool raises its RLIMIT_NOFILE to the hard limit and refuses
a plan that needs more descriptors than that.

Exit codes:
  0  every request answered and no seat granted twice
  1  double-grant check failed (--workload holds: the consistency check)
  2  bad command line, non-loopback target, or cannot connect
  3  finished with errors (timeouts, closed connections, bad replies)";

/// How requests are delimited on the wire.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum Framing {
    /// The original's: no terminator, one request in flight.
    Original,
    /// seatnet's native: one request per `\n`-terminated line.
    Newline,
    /// Redis's RESP (`--target redis`), not a choice of its own.
    #[value(skip)]
    Resp,
}

impl fmt::Display for Framing {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Original => "original",
            Self::Newline => "newline",
            Self::Resp => "resp",
        })
    }
}

/// What the connections ask for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum WorkloadKind {
    /// K random seat numbers per request, in the original form; seats are
    /// never given back.
    Reserve,
    /// USE a random map of m0..m{--maps - 1}, HOLD ANY K, then CONFIRM or
    /// CANCEL the hold; confirmed bookings beyond --keep are cancelled
    /// later (newline framing, one request in flight).
    Holds,
}

/// Which server to load.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum Target {
    /// seatnet-server at --host/--port (or in-process with --spawn).
    Ours,
    /// The in-process port of the original design only.
    Baseline,
    /// A Redis server at --host/--port (default port 6379): seat s is
    /// claimed with `SETBIT <key> <s> 1` and granted when it returns 0.
    Redis,
}

/// Load generator for seat servers, with a double-grant check.
///
/// Opens C connections to a seat server and sends random reservation
/// requests in the original form (`5,10,22`) as fast as replies come back,
/// for a bounded time or number of requests. Reports throughput, latency
/// percentiles and whether any seat was granted twice.
#[derive(Debug, Parser)]
#[command(version, after_help = AFTER_HELP)]
pub(crate) struct Args {
    /// Target host (must resolve to a loopback address).
    #[arg(long, default_value = "127.0.0.1")]
    host: String,
    /// Target port (default 12345, or 6379 with --target redis).
    #[arg(long)]
    port: Option<u16>,
    /// Concurrent connections.
    #[arg(short, long, default_value_t = 16, value_parser = clap::value_parser!(u32).range(1..=4096))]
    connections: u32,
    /// Seconds of measured load (default 5 when --requests is not given).
    #[arg(short, long, value_parser = parse_seconds)]
    duration: Option<f64>,
    /// Measured requests in total (the run also stops at --duration, or
    /// after 60 s when only --requests is given).
    #[arg(short = 'n', long, value_parser = clap::value_parser!(u64).range(1..))]
    requests: Option<u64>,
    /// Request framing.
    #[arg(long, value_enum, default_value_t = Framing::Original)]
    framing: Framing,
    /// Requests in flight per connection (newline framing only).
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..=1024))]
    pipeline: u32,
    /// What each connection asks for (see docs/performance.md).
    #[arg(long, value_enum, default_value_t = WorkloadKind::Reserve)]
    workload: WorkloadKind,
    /// --workload holds: the server serves maps m0..m{N-1} (start it with
    /// --map m0=SPEC ... --map m{N-1}=SPEC).
    #[arg(long, value_name = "N", default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..=1_000_000))]
    maps: u32,
    /// --workload holds: percent of holds confirmed; the rest are cancelled.
    #[arg(long, value_name = "PCT", default_value_t = 70, value_parser = clap::value_parser!(u32).range(0..=100))]
    confirm: u32,
    /// --workload holds: confirmed bookings a connection keeps before it
    /// cancels its oldest.
    #[arg(long, value_name = "N", default_value_t = 4, value_parser = clap::value_parser!(u32).range(0..=10_000))]
    keep: u32,
    /// Seat numbers per request (--workload holds: seats per HOLD ANY).
    #[arg(short = 'k', long, default_value_t = 2, value_parser = clap::value_parser!(u32).range(1..=64))]
    seats_per_request: u32,
    /// The server's seat count: requests pick seats in 1..=S.
    #[arg(long, default_value_t = 100, value_parser = clap::value_parser!(u64).range(1..=100_000_000))]
    seats: u64,
    /// Seconds of unmeasured load before measuring.
    #[arg(long, default_value_t = 0.5, value_parser = parse_warmup)]
    warmup: f64,
    /// Driver threads, each multiplexing its share of the connections.
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..=64))]
    threads: u32,
    /// Seconds a connection may wait for a reply before it counts as an
    /// error and is closed.
    #[arg(long, default_value_t = 5.0, value_parser = parse_seconds)]
    timeout: f64,
    /// Seed of the random seat choice (default: random).
    #[arg(long)]
    seed: Option<u64>,
    /// Also run the same load against an in-process port of the original
    /// design (thread per connection, one global mutex) and print the ratio.
    #[arg(long)]
    baseline: bool,
    /// Which server to load.
    #[arg(long, value_enum, default_value_t = Target::Ours)]
    target: Target,
    /// The bitmap key of --target redis. It is deleted before the run, so
    /// every run starts with all seats free.
    #[arg(long, value_name = "KEY", default_value = "seatnet-bench:seats")]
    redis_key: String,
    /// Start a seatnet server in-process on 127.0.0.1:0 instead of loading
    /// --host/--port.
    #[arg(long)]
    spawn: bool,
    /// Hostile connections held open during the run that connect and send
    /// nothing. Only held, never measured; reopened when the server closes
    /// them.
    #[arg(long, value_name = "N", default_value_t = 0, value_parser = clap::value_parser!(u32).range(0..=1_000_000))]
    idle: u32,
    /// Hostile connections that send one byte a second of a line that never
    /// ends (`5,5,5,...`, no newline). Held like --idle.
    #[arg(long, value_name = "N", default_value_t = 0, value_parser = clap::value_parser!(u32).range(0..=1_000_000))]
    trickle: u32,
    /// Hostile connections that pipeline newline requests (`0`) as fast as
    /// the server takes them and never read a reply. Held like --idle.
    #[arg(long, value_name = "N", default_value_t = 0, value_parser = clap::value_parser!(u32).range(0..=1_000_000))]
    no_read: u32,
    /// Print the results as JSON on stdout (the text goes to stderr).
    #[arg(long)]
    json: bool,
    /// Print no progress line.
    #[arg(short, long)]
    quiet: bool,
}

/// Everything a run needs, checked.
#[derive(Debug, Clone)]
pub(crate) struct Plan {
    /// Where "ours" lives, unless spawned.
    pub(crate) ours: Option<SocketAddr>,
    /// The Redis server and key to load instead of ours (`--target redis`).
    pub(crate) redis: Option<(SocketAddr, String)>,
    pub(crate) spawn: bool,
    pub(crate) run_ours: bool,
    pub(crate) run_baseline: bool,
    pub(crate) load: Load,
    /// Hostile connections held while "ours" is loaded.
    pub(crate) hostile: HostilePlan,
    pub(crate) threads: u32,
    pub(crate) json: bool,
    pub(crate) quiet: bool,
}

/// The workload, the same for every target.
#[derive(Debug, Clone)]
pub(crate) struct Load {
    pub(crate) connections: u32,
    pub(crate) framing: Framing,
    pub(crate) pipeline: u32,
    pub(crate) seats_per_request: u32,
    pub(crate) seats: u64,
    pub(crate) warmup: Duration,
    pub(crate) duration: Duration,
    pub(crate) requests: Option<u64>,
    pub(crate) timeout: Duration,
    pub(crate) seed: u64,
    /// The bitmap key of `Framing::Resp` (empty otherwise).
    pub(crate) redis_key: String,
    /// `--workload holds` (`None`: the reserve workload).
    pub(crate) holds: Option<HoldsPlan>,
}

/// Cap on a run bounded only by --requests.
const REQUESTS_ONLY_CAP: Duration = Duration::from_secs(60);

impl Args {
    /// Checks the flags against each other and resolves the target.
    pub(crate) fn plan(&self) -> Result<Plan, String> {
        let redis = self.target == Target::Redis;
        if redis && self.spawn {
            return Err(
                "--spawn starts seatnet, not Redis: start redis-server yourself \
                        (on loopback) and give --port"
                    .into(),
            );
        }
        if redis && !valid_redis_key(&self.redis_key) {
            return Err("--redis-key must be 1 to 128 printable ASCII characters".into());
        }
        if !redis && self.framing == Framing::Original && self.pipeline > 1 {
            return Err(
                "--pipeline needs --framing newline: the original framing has no \
                 request boundaries, so only one request may be in flight"
                    .into(),
            );
        }
        let holds = self.holds_plan()?;
        let run_ours = self.target == Target::Ours;
        if self.target == Target::Baseline && self.idle + self.trickle + self.no_read > 0 {
            return Err("--idle, --trickle and --no-read load seatnet or Redis \
                        (--target ours or redis), not the baseline"
                .into());
        }
        let run_baseline = self.baseline || self.target == Target::Baseline;
        let ours = if run_ours && !self.spawn {
            Some(loopback(&self.host, self.port.unwrap_or(12345))?)
        } else {
            None
        };
        let redis = if redis {
            let addr = loopback(&self.host, self.port.unwrap_or(6379))?;
            Some((addr, self.redis_key.clone()))
        } else {
            None
        };
        let duration = match (self.duration, self.requests) {
            (Some(d), _) => Duration::from_secs_f64(d),
            (None, Some(_)) => REQUESTS_ONLY_CAP,
            (None, None) => Duration::from_secs(5),
        };
        Ok(Plan {
            ours,
            redis: redis.clone(),
            spawn: self.spawn,
            run_ours,
            run_baseline,
            load: Load {
                connections: self.connections,
                framing: if redis.is_some() {
                    Framing::Resp
                } else if holds.is_some() {
                    Framing::Newline
                } else {
                    self.framing
                },
                pipeline: self.pipeline,
                seats_per_request: self.seats_per_request,
                seats: self.seats,
                warmup: Duration::from_secs_f64(self.warmup),
                duration,
                requests: self.requests,
                timeout: Duration::from_secs_f64(self.timeout),
                seed: self.seed.unwrap_or_else(|| fastrand::u64(..)),
                redis_key: redis
                    .as_ref()
                    .map(|(_, key)| key.clone())
                    .unwrap_or_default(),
                holds,
            },
            hostile: HostilePlan {
                idle: self.idle,
                trickle: self.trickle,
                no_read: self.no_read,
            },
            threads: self.threads.min(self.connections),
            json: self.json,
            quiet: self.quiet,
        })
    }
}

impl Args {
    /// The holds workload's settings, checked against the other flags.
    fn holds_plan(&self) -> Result<Option<HoldsPlan>, String> {
        if self.workload != WorkloadKind::Holds {
            return Ok(None);
        }
        if self.target != Target::Ours || self.baseline || self.spawn {
            return Err("--workload holds loads a seatnet-server started with maps \
                        m0..m{N-1} (--map m0=SPEC ...): not the baseline, Redis or --spawn"
                .into());
        }
        if self.pipeline > 1 {
            return Err(
                "--workload holds sends one request in flight per connection: \
                        each request depends on the reply before it"
                    .into(),
            );
        }
        Ok(Some(HoldsPlan {
            maps: self.maps,
            seats: self.seats_per_request,
            confirm: self.confirm,
            keep: self.keep,
        }))
    }
}

impl Plan {
    /// File descriptors the plan holds at once at most: every connection,
    /// twice when its server lives in this process (`--spawn`, the
    /// baseline), plus a margin for pollers, wakers, listeners and stdio.
    pub(crate) fn descriptors(&self) -> u64 {
        const MARGIN: u64 = 64;
        let honest = u64::from(self.load.connections);
        let ours = if self.run_ours || self.redis.is_some() {
            let conns = honest + self.hostile.total();
            if self.spawn { 2 * conns } else { conns }
        } else {
            0
        };
        let baseline = if self.run_baseline { 2 * honest } else { 0 };
        ours.max(baseline) + MARGIN
    }

    /// Refuses a plan that needs more descriptors than `limit`.
    pub(crate) fn check_descriptors(&self, limit: u64) -> Result<(), String> {
        let needed = self.descriptors();
        if needed <= limit {
            return Ok(());
        }
        Err(format!(
            "this run would hold about {needed} file descriptors ({} honest and {} hostile \
             connections{}), but this process may hold at most {limit} (RLIMIT_NOFILE, \
             raised to its hard limit): lower -c, --idle, --trickle or --no-read{}",
            self.load.connections,
            self.hostile.total(),
            if self.spawn {
                ", both ends in this process with --spawn"
            } else {
                ""
            },
            if self.spawn {
                ", or load a separately started server instead of --spawn"
            } else {
                ""
            },
        ))
    }
}

/// Resolves `host:port` and refuses anything that is not loopback.
pub(crate) fn loopback(host: &str, port: u16) -> Result<SocketAddr, String> {
    let addrs: Vec<SocketAddr> = (host, port)
        .to_socket_addrs()
        .map_err(|e| format!("cannot resolve {host}: {e}"))?
        .collect();
    if let Some(outside) = addrs.iter().find(|a| !a.ip().is_loopback()) {
        return Err(format!(
            "refusing to load {host} ({}): seatnet-bench only ever loads loopback addresses",
            outside.ip()
        ));
    }
    addrs
        .first()
        .copied()
        .ok_or_else(|| format!("{host} resolves to no address"))
}

/// A key that needs no quoting anywhere it is printed.
fn valid_redis_key(key: &str) -> bool {
    (1..=128).contains(&key.len()) && key.bytes().all(|b| b.is_ascii_graphic())
}

fn parse_seconds(text: &str) -> Result<f64, String> {
    match text.parse::<f64>() {
        Ok(s) if s > 0.0 && s <= 3600.0 => Ok(s),
        _ => Err("expected seconds, more than 0 and at most 3600".into()),
    }
}

fn parse_warmup(text: &str) -> Result<f64, String> {
    match text.parse::<f64>() {
        Ok(s) if (0.0..=600.0).contains(&s) => Ok(s),
        _ => Err("expected seconds between 0 and 600".into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_names_and_addresses_are_accepted() {
        assert!(loopback("127.0.0.1", 1).is_ok());
        assert!(loopback("::1", 1).is_ok());
    }

    #[test]
    fn other_addresses_are_refused() {
        let err = loopback("10.1.2.3", 1).unwrap_err();
        assert!(err.contains("only ever loads loopback"), "{err}");
        assert!(loopback("0.0.0.0", 1).is_err());
    }

    #[test]
    fn pipelining_the_original_framing_is_refused() {
        let args = Args::parse_from(["bench", "--pipeline", "4"]);
        assert!(args.plan().unwrap_err().contains("--framing newline"));
        let args = Args::parse_from(["bench", "--pipeline", "4", "--framing", "newline"]);
        assert_eq!(args.plan().unwrap().load.pipeline, 4);
    }

    #[test]
    fn plans_beyond_the_descriptor_limit_are_refused() {
        let plan = Args::parse_from(["bench", "--idle", "1000", "--no-read", "10", "-c", "6"])
            .plan()
            .unwrap();
        assert_eq!(plan.hostile.total(), 1010);
        assert!(plan.check_descriptors(2000).is_ok());
        let err = plan.check_descriptors(1000).unwrap_err();
        assert!(err.contains("at most 1000 (RLIMIT_NOFILE"), "{err}");
        assert!(err.contains("6 honest and 1010 hostile"), "{err}");
        let spawned = Args::parse_from(["bench", "--spawn", "--idle", "1000"])
            .plan()
            .unwrap();
        assert!(spawned.descriptors() > 2000, "both ends count");
        assert!(
            spawned
                .check_descriptors(1500)
                .unwrap_err()
                .contains("--spawn")
        );
    }

    #[test]
    fn redis_targets_speak_resp_on_their_own_port() {
        let plan = Args::parse_from(["bench", "--target", "redis", "--pipeline", "4"])
            .plan()
            .unwrap();
        assert_eq!(plan.load.framing, Framing::Resp);
        let (addr, key) = plan.redis.unwrap();
        assert_eq!((addr.port(), key.as_str()), (6379, "seatnet-bench:seats"));
        assert!(!plan.run_ours && !plan.run_baseline);
        let spawn = Args::parse_from(["bench", "--target", "redis", "--spawn"]);
        assert!(spawn.plan().unwrap_err().contains("--spawn starts seatnet"));
        let key = Args::parse_from(["bench", "--target", "redis", "--redis-key", "a b"]);
        assert!(key.plan().unwrap_err().contains("--redis-key"));
        let far = Args::parse_from(["bench", "--target", "redis", "--host", "10.0.0.1"]);
        assert!(far.plan().unwrap_err().contains("only ever loads loopback"));
    }

    #[test]
    fn the_holds_workload_speaks_newlines_to_seatnet_only() {
        let plan = Args::parse_from(["bench", "--workload", "holds", "--maps", "9", "-k", "3"])
            .plan()
            .unwrap();
        assert_eq!(plan.load.framing, Framing::Newline);
        let holds = plan.load.holds.unwrap();
        assert_eq!(
            (holds.maps, holds.seats, holds.confirm, holds.keep),
            (9, 3, 70, 4)
        );
        for refused in [
            &["--baseline"][..],
            &["--spawn"],
            &["--target", "redis"],
            &["--pipeline", "2"],
        ] {
            let args = Args::parse_from(["bench", "--workload", "holds"].iter().chain(refused));
            assert!(args.plan().is_err(), "{refused:?}");
        }
        assert!(
            Args::parse_from(["bench"])
                .plan()
                .unwrap()
                .load
                .holds
                .is_none()
        );
    }

    #[test]
    fn runs_are_always_bounded() {
        let plan = Args::parse_from(["bench"]).plan().unwrap();
        assert_eq!(plan.load.duration, Duration::from_secs(5));
        let plan = Args::parse_from(["bench", "-n", "10"]).plan().unwrap();
        assert_eq!(plan.load.duration, REQUESTS_ONLY_CAP);
        assert_eq!(plan.load.requests, Some(10));
    }
}

//! `seatnet-server`: the seat server, a drop-in for the original
//! `servidor.py` (same port, same replies), plus richer commands.
//!
//! Prints one line with the bound address to stdout once listening; logs go
//! to stderr. SIGINT or SIGTERM stops it cleanly (exit status 0).
//! `config_file`: `--config FILE`.

mod config_file;

use std::io::{IsTerminal as _, Write as _};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::parser::ValueSource;
use clap::{ArgMatches, CommandFactory as _, FromArgMatches as _, Parser};
use config_file::ConfigFile;
use seatlog::SyncPolicy;
use seatnet::{ClusterConfig, Config, DataOptions, MapDef, Server, ShutdownHandle};
use signal_hook::consts::{SIGINT, SIGTERM};
use signal_hook::iterator::Signals;
use tracing_subscriber::EnvFilter;

/// Seat reservation server speaking the original seat protocol
/// (`5,10,22` → `Reservados: [5, 10] | Indisponíveis/Inválidos: [22]`)
/// plus newline-terminated commands (send HELP). See docs/protocol.md.
#[derive(Debug, Parser)]
#[command(name = "seatnet-server", version)]
struct Args {
    /// Address to listen on (loopback by default; 0.0.0.0 for all interfaces).
    #[arg(long, default_value = "127.0.0.1")]
    host: String,

    /// TCP port; 0 picks a free one (the startup line says which).
    #[arg(long, default_value_t = Config::DEFAULT_PORT)]
    port: u16,

    /// Number of seats of the map "default", numbered 1..=SEATS on the
    /// wire. Not together with --map default=SPEC.
    #[arg(long, default_value_t = Config::DEFAULT_SEATS, value_parser = clap::value_parser!(u64).range(1..))]
    seats: u64,

    /// A map to serve, besides "default" (repeatable): NAME is 1 to 32 of
    /// A-Z a-z 0-9 _ -; SPEC is a seat count (SHOW1=5000: seats 1..5000)
    /// or a cabin of rows and seat groups (AB123=30x3-3: rows 1..30, seats
    /// A-C, aisle, D-F). --map default=SPEC replaces the 100 numbered
    /// seats of the map every connection starts on.
    #[arg(long = "map", value_name = "NAME=SPEC")]
    maps: Vec<MapDef>,

    /// A TOML file with a `[maps]` table (NAME = "SPEC") and optionally
    /// host, port, seats, threads, max_conns, max_seats_per_request,
    /// data_dir, fsync, snapshot_every, hold_ttl, hold_max. The command line wins
    /// over the file.
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,

    /// Deprecated and ignored (a warning says so): there is one I/O design
    /// now, a readiness poller holding every connection and a pool of
    /// --threads workers answering requests.
    #[arg(long, value_name = "MODE", hide_possible_values = true)]
    io: Option<String>,

    /// Worker threads: requests answered at once. Connections do not hold
    /// a worker while they wait, so this is independent of --max-conns.
    #[arg(long, default_value_t = Config::DEFAULT_THREADS as u64, value_parser = clap::value_parser!(u64).range(1..=4096))]
    threads: u64,

    /// Connections open at once; one more gets "ERR busy" and is closed.
    /// Capped at start to what the descriptor limit allows (raised to its
    /// hard limit first; the cap is logged).
    #[arg(long, default_value_t = Config::DEFAULT_MAX_CONNS as u64, value_parser = clap::value_parser!(u64).range(1..))]
    max_conns: u64,

    /// Connections open at once from one IP address; one more gets "ERR
    /// busy" and is closed. Off by default (many honest clients may share
    /// an address).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..))]
    max_conns_per_addr: Option<u64>,

    /// Seconds a connection may stay silent (nothing read or written)
    /// before it is closed.
    #[arg(long, value_name = "SECS", default_value_t = 60, value_parser = clap::value_parser!(u64).range(1..))]
    idle_timeout: u64,

    /// Seconds within which a request must arrive whole, from its first
    /// byte; a connection that takes longer is closed (slow clients).
    #[arg(long, value_name = "SECS", default_value_t = 10, value_parser = clap::value_parser!(u64).range(1..))]
    request_timeout: u64,

    /// Milliseconds a new connection's bytes without newline wait for more
    /// before they are answered as an original request (a native line
    /// written in pieces joins up); once per connection. A partial starting
    /// with a letter waits max(this, 1000). See docs/protocol.md.
    #[arg(long, value_name = "MS", default_value_t = 5, value_parser = clap::value_parser!(u64).range(0..=10_000))]
    grace_ms: u64,

    /// Bytes of replies one batch may leave unsent (beyond the socket's
    /// buffers); past it, the connection is closed. A client that does not
    /// read its replies is not read either until they are sent.
    #[arg(long, value_name = "BYTES", default_value_t = Config::DEFAULT_MAX_OUTPUT as u64, value_parser = clap::value_parser!(u64).range(1..))]
    max_output: u64,

    /// Longest request in bytes (line terminator not counted); a longer one
    /// gets "ERR line-too-long" and the connection is closed.
    #[arg(long, value_name = "BYTES", default_value_t = Config::DEFAULT_MAX_LINE, value_parser = parse_max_line)]
    max_line: usize,

    /// Most seats one ANY, TOGETHER, BOOK or ALL may ask for; more gets
    /// "ERR too-many-seats".
    #[arg(long, value_name = "N", default_value_t = Config::DEFAULT_MAX_SEATS_PER_REQUEST, value_parser = clap::value_parser!(u64).range(1..))]
    max_seats_per_request: u64,

    /// Seconds a HOLD keeps its seats before they return by themselves;
    /// each EXTEND gives this much again, from when it is asked.
    #[arg(long, value_name = "SECS", default_value_t = Config::DEFAULT_HOLD_TTL.as_secs(), value_parser = clap::value_parser!(u64).range(1..))]
    hold_ttl: u64,

    /// Seconds a hold may last in all, from when it was placed, however
    /// often it is extended (at least --hold-ttl).
    #[arg(long, value_name = "SECS", default_value_t = Config::DEFAULT_HOLD_MAX.as_secs(), value_parser = clap::value_parser!(u64).range(1..))]
    hold_max: u64,

    /// Keep every change in a journal in DIR (created if missing) and
    /// replay it at start; without it, everything is in memory only.
    #[arg(long, value_name = "DIR")]
    data_dir: Option<PathBuf>,

    /// When the journal is synced (with --data-dir): "always" (a reply
    /// that changed seats waits for fdatasync: nothing acknowledged is
    /// lost, even on power loss), "interval=MS" (synced every MS ms: a
    /// power loss may lose the last MS ms of acknowledged changes), or
    /// "never" (the OS decides: a power loss may lose about 30 s). A
    /// process crash loses nothing acknowledged under any of them.
    #[arg(long, value_name = "POLICY", default_value = "always", value_parser = parse_fsync)]
    fsync: SyncPolicy,

    /// With --data-dir: write a snapshot every N journal records (0: only
    /// after replay at start and at clean shutdown), so a restart replays
    /// at most N records.
    #[arg(long, value_name = "N", default_value_t = DataOptions::DEFAULT_SNAPSHOT_EVERY)]
    snapshot_every: u64,

    /// With --data-dir: preallocated size of each journal segment, in
    /// bytes (at least 1 MiB plus a few bytes; default 64 MiB).
    #[arg(long, value_name = "BYTES", default_value_t = DataOptions::DEFAULT_SEGMENT_SIZE)]
    segment_size: u64,

    /// Also listen on ADDR (host:port, e.g. 127.0.0.1:12346) for operators:
    /// only connections accepted there may run operator commands (SNAPSHOT,
    /// BACKUP <dir>, ADDMAP <name> <spec>, REMOVEMAP <name> [FORCE]); on the
    /// public port they get "ERR forbidden". Nothing
    /// authenticates them: keep ADDR on loopback. Off by default.
    #[arg(long, value_name = "ADDR")]
    admin_listen: Option<String>,

    /// Join a cluster through these etcd members (HOST:PORT, comma-separated;
    /// docs/cluster.md): the maps are spread over the live nodes, and a
    /// request for a map another node serves is answered "ERR moved
    /// HOST:PORT". Every change is committed to etcd before it is
    /// acknowledged, so when a node dies another takes its maps with every
    /// acknowledged booking, hold and request id. Needs --node and
    /// --advertise; not with --data-dir. Off by default.
    #[arg(long, value_name = "HOST:PORT,...", value_delimiter = ',', requires_all = ["node", "advertise"])]
    etcd: Vec<String>,

    /// With --etcd: this node's name, unique in the cluster.
    #[arg(long, value_name = "NAME", requires = "etcd")]
    node: Option<String>,

    /// With --etcd: the HOST:PORT clients reach this node at (what other
    /// nodes answer in "ERR moved").
    #[arg(long, value_name = "HOST:PORT", requires = "etcd")]
    advertise: Option<String>,

    /// With --etcd: seconds after this node stops renewing its lease (dies,
    /// freezes, is cut off from etcd) before others may take its maps.
    #[arg(long, value_name = "SECS", default_value_t = 5, requires = "etcd")]
    lease_ttl: u64,

    /// Check the data directory DIR without changing it, print what it
    /// holds (snapshots, segments, records, torn tail, corruption; seats
    /// taken, bookings and request ids after replay) and exit: status 0 if
    /// a server could start on it, 1 if not.
    #[arg(long, value_name = "DIR", exclusive = true)]
    check_data: Option<PathBuf>,

    /// Log filter for stderr: error, warn, info, debug (every request),
    /// trace, or a tracing directive like "seatnet=debug".
    #[arg(long, value_name = "FILTER", default_value = "info")]
    log_level: String,

    /// Log every request (same as --log-level debug).
    #[arg(short, long, conflicts_with = "quiet")]
    verbose: bool,

    /// Log only warnings and errors (same as --log-level warn).
    #[arg(short, long)]
    quiet: bool,
}

fn parse_max_line(text: &str) -> Result<usize, String> {
    match text.parse::<usize>() {
        Ok(n) if (1..=16 * 1024 * 1024).contains(&n) => Ok(n),
        _ => Err("expected a number of bytes from 1 to 16777216".into()),
    }
}

fn parse_fsync(text: &str) -> Result<SyncPolicy, String> {
    match text {
        "always" => Ok(SyncPolicy::Always),
        "never" => Ok(SyncPolicy::Never),
        _ => match text.strip_prefix("interval=").map(str::parse::<u64>) {
            Some(Ok(ms)) if ms >= 1 => Ok(SyncPolicy::Interval(Duration::from_millis(ms))),
            _ => Err("expected always, never or interval=MS (MS at least 1)".into()),
        },
    }
}

fn main() -> ExitCode {
    let matches = Args::command().get_matches();
    let args = match Args::from_arg_matches(&matches) {
        Ok(args) => args,
        Err(e) => e.exit(),
    };
    if let Some(dir) = &args.check_data {
        let report = seatnet::check_data(dir);
        print!("{report}");
        return if report.is_ok() {
            ExitCode::SUCCESS
        } else {
            ExitCode::FAILURE
        };
    }
    match with_config_file(args, &matches).and_then(run) {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("seatnet-server: {message}");
            ExitCode::FAILURE
        }
    }
}

/// `args` with the settings of `--config` that the command line did not
/// give, and its maps; checks the `default` map rule (--seats, or a map
/// named default, not both).
fn with_config_file(mut args: Args, matches: &ArgMatches) -> Result<Args, String> {
    let from_command_line = |id: &str| matches.value_source(id) == Some(ValueSource::CommandLine);
    let file = match &args.config {
        Some(path) => ConfigFile::read(path)?,
        None => ConfigFile::default(),
    };
    macro_rules! take {
        ($field:ident) => {
            if let Some(value) = file.$field.clone() {
                if !from_command_line(stringify!($field)) {
                    args.$field = value;
                }
            }
        };
    }
    take!(host);
    take!(port);
    take!(seats);
    take!(threads);
    take!(max_conns);
    take!(max_seats_per_request);
    take!(snapshot_every);
    take!(hold_ttl);
    take!(hold_max);
    if file.data_dir.is_some() && args.data_dir.is_none() {
        args.data_dir.clone_from(&file.data_dir);
    }
    if let Some(text) = &file.fsync {
        if !from_command_line("fsync") {
            args.fsync = parse_fsync(text).map_err(|e| format!("--config: fsync: {e}"))?;
        }
    }
    for def in file.maps()? {
        if !args.maps.iter().any(|d| d.name() == def.name()) {
            args.maps.push(def);
        }
    }
    let seats_given = from_command_line("seats") || file.seats.is_some();
    if seats_given && args.maps.iter().any(|d| d.name() == seatnet::DEFAULT_MAP) {
        return Err(format!(
            "--seats {} and a map named {} both say what the default map is; give one",
            args.seats,
            seatnet::DEFAULT_MAP
        ));
    }
    if args.threads == 0 || args.max_conns == 0 || args.seats == 0 {
        return Err("--config: seats, threads and max_conns must be at least 1".into());
    }
    Ok(args)
}

fn run(args: Args) -> Result<(), String> {
    init_logging(&args)?;
    if let Some(mode) = &args.io {
        tracing::warn!(
            mode,
            "--io is deprecated and ignored: one I/O design serves every connection"
        );
    }
    raise_descriptor_limit();
    let config = Config {
        host: args.host,
        port: args.port,
        seats: if args.maps.iter().any(|d| d.name() == seatnet::DEFAULT_MAP) {
            Config::DEFAULT_SEATS
        } else {
            args.seats
        },
        maps: args.maps,
        threads: usize::try_from(args.threads).map_err(|e| e.to_string())?,
        max_conns: Some(usize::try_from(args.max_conns).unwrap_or(usize::MAX)),
        max_conns_per_addr: args
            .max_conns_per_addr
            .map(|n| usize::try_from(n).unwrap_or(usize::MAX)),
        idle_timeout: Duration::from_secs(args.idle_timeout),
        request_timeout: Duration::from_secs(args.request_timeout),
        grace: Duration::from_millis(args.grace_ms),
        max_line: args.max_line,
        max_output: usize::try_from(args.max_output).unwrap_or(usize::MAX),
        max_seats_per_request: args.max_seats_per_request,
        hold_ttl: Duration::from_secs(args.hold_ttl),
        hold_max: Duration::from_secs(args.hold_max),
        data_dir: args.data_dir,
        data: DataOptions {
            fsync: args.fsync,
            snapshot_every: args.snapshot_every,
            segment_size: args.segment_size,
            ..DataOptions::default()
        },
        admin_listen: args.admin_listen,
        cluster: match (args.etcd.is_empty(), args.node, args.advertise) {
            (true, _, _) => None,
            (false, Some(node), Some(advertise)) => Some(ClusterConfig {
                endpoints: args.etcd,
                node,
                advertise,
                lease_ttl: Duration::from_secs(args.lease_ttl),
            }),
            _ => return Err("--etcd needs --node and --advertise".into()),
        },
    };
    let server = Server::bind(config.clone()).map_err(|e| {
        if e.kind() == std::io::ErrorKind::Other {
            e.to_string()
        } else if e.kind() == std::io::ErrorKind::InvalidInput {
            format!("invalid setting: {e}")
        } else {
            format!("cannot listen on {}:{}: {e}", config.host, config.port)
        }
    })?;
    stop_on_signals(server.shutdown_handle())?;
    let mut stdout = std::io::stdout().lock();
    let mut storage = match &config.data_dir {
        None if config.cluster.is_some() => "durable in etcd".to_string(),
        None => "in memory only".to_string(),
        Some(dir) => format!(
            "durable in {}, fsync {}",
            dir.display(),
            fsync_name(config.data.fsync)
        ),
    };
    if let Some(admin) = server.admin_addr() {
        storage.push_str(&format!(", operator commands on {admin}"));
    }
    if let Some(cluster) = &config.cluster {
        storage.push_str(&format!(
            ", cluster node {} through etcd {}",
            cluster.node,
            cluster.endpoints.join(",")
        ));
    }
    let catalog = server.catalog();
    let maps = match catalog.len() {
        1 => String::new(),
        n => format!(" in map default, {n} maps"),
    };
    writeln!(
        stdout,
        "seatnet-server listening on {} ({} seats{maps}, {} workers, up to {} connections, {storage})",
        server.local_addr(),
        catalog.default_map().map().capacity(),
        config.threads,
        server.max_conns(),
    )
    .and_then(|()| stdout.flush())
    .map_err(|e| format!("cannot write to stdout: {e}"))?;
    drop(stdout);
    server.run().map_err(|e| format!("server failed: {e}"))
}

fn fsync_name(policy: SyncPolicy) -> String {
    match policy {
        SyncPolicy::Always => "always".into(),
        SyncPolicy::Never => "never".into(),
        SyncPolicy::Interval(d) => format!("interval={}", d.as_millis()),
    }
}

fn init_logging(args: &Args) -> Result<(), String> {
    let filter = if args.verbose {
        "debug"
    } else if args.quiet {
        "warn"
    } else {
        &args.log_level
    };
    let filter = EnvFilter::try_new(filter).map_err(|e| format!("bad --log-level: {e}"))?;
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .init();
    Ok(())
}

/// Raises the soft `RLIMIT_NOFILE` to the hard limit, so that
/// `--max-conns` connections fit (the server caps it to what is allowed).
fn raise_descriptor_limit() {
    match rlimit::increase_nofile_limit(u64::MAX) {
        Ok(limit) => tracing::debug!(limit, "descriptor limit"),
        Err(e) => tracing::warn!(error = %e, "cannot raise the descriptor limit"),
    }
}

/// Exit status when a second signal cuts the shutdown short.
const FORCED_EXIT: i32 = 2;

/// A thread that turns the first SIGINT or SIGTERM into a clean shutdown,
/// and a second one into an immediate exit (the clean shutdown may wait
/// for a request partly received, up to the request timeout, and for
/// clients to read their last replies, up to the idle timeout).
fn stop_on_signals(stop: ShutdownHandle) -> Result<(), String> {
    let mut signals =
        Signals::new([SIGINT, SIGTERM]).map_err(|e| format!("cannot catch signals: {e}"))?;
    std::thread::Builder::new()
        .name("seatnet-signals".into())
        .spawn(move || {
            let mut signals = signals.forever();
            if let Some(signal) = signals.next() {
                tracing::info!(signal, "stopping; a second signal forces exit");
                stop.shutdown();
            }
            if let Some(signal) = signals.next() {
                tracing::warn!(signal, "second signal: exiting without waiting for clients");
                std::process::exit(FORCED_EXIT);
            }
        })
        .map(drop)
        .map_err(|e| format!("cannot start the signal thread: {e}"))
}

//! `seatnet-server`: the seat server, a drop-in for the original
//! `servidor.py` (same port, same replies), plus richer commands.
//!
//! Prints one line with the bound address to stdout once listening; logs go
//! to stderr. SIGINT or SIGTERM stops it cleanly (exit status 0).

use std::io::{IsTerminal as _, Write as _};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::Parser;
use seatlog::SyncPolicy;
use seatnet::{Config, DataOptions, Io, Server, ShutdownHandle};
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

    /// Number of seats, numbered 1..=SEATS on the wire.
    #[arg(long, default_value_t = Config::DEFAULT_SEATS, value_parser = clap::value_parser!(u64).range(1..))]
    seats: u64,

    /// How connections are served. "threads" (default): a fixed pool of
    /// blocking worker threads, one connection each (simple; at most
    /// --threads clients at once; one thread wake-up per request).
    /// "events": one event-loop thread serving every connection (lower
    /// latency and more throughput under many connections, up to
    /// --max-conns clients, default 1024; --threads is ignored; one slow
    /// request delays all the others).
    #[arg(long, value_enum, default_value_t = IoMode::Threads)]
    io: IoMode,

    /// Worker threads = connections served at once (--io threads only).
    #[arg(long, default_value_t = 256, value_parser = clap::value_parser!(u64).range(1..=65536))]
    threads: u64,

    /// Connections open at once (served or queued); one more gets
    /// "ERR busy" and is closed. Default: the number of threads (--io
    /// threads) or 1024 (--io events). Above --threads, the extra
    /// connections wait until a worker is free (--io threads).
    #[arg(long, value_parser = clap::value_parser!(u64).range(1..))]
    max_conns: Option<u64>,

    /// Seconds a connection may stay silent (or leave its replies unread)
    /// before it is closed.
    #[arg(long, value_name = "SECS", default_value_t = 60, value_parser = clap::value_parser!(u64).range(1..))]
    idle_timeout: u64,

    /// Longest request in bytes (line terminator not counted); a longer one
    /// gets "ERR line-too-long" and the connection is closed.
    #[arg(long, value_name = "BYTES", default_value_t = Config::DEFAULT_MAX_LINE, value_parser = parse_max_line)]
    max_line: usize,

    /// Most seats one ANY, TOGETHER, BOOK or ALL may ask for; more gets
    /// "ERR too-many-seats".
    #[arg(long, value_name = "N", default_value_t = Config::DEFAULT_MAX_SEATS_PER_REQUEST, value_parser = clap::value_parser!(u64).range(1..))]
    max_seats_per_request: u64,

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

    /// Check the data directory DIR without changing it, print what it
    /// holds (snapshots, segments, records, torn tail, corruption) and
    /// exit: status 0 if a server could start on it, 1 if not.
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

/// The `--io` values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum IoMode {
    /// A fixed pool of blocking worker threads (the default).
    Threads,
    /// One event-loop thread serving every connection.
    Events,
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
    let args = Args::parse();
    if let Some(dir) = &args.check_data {
        let report = seatlog::check(dir);
        print!("{report}");
        return if report.is_ok() {
            ExitCode::SUCCESS
        } else {
            ExitCode::FAILURE
        };
    }
    match run(args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("seatnet-server: {message}");
            ExitCode::FAILURE
        }
    }
}

fn run(args: Args) -> Result<(), String> {
    init_logging(&args)?;
    let config = Config {
        host: args.host,
        port: args.port,
        seats: args.seats,
        threads: usize::try_from(args.threads).map_err(|e| e.to_string())?,
        max_conns: args
            .max_conns
            .map(|n| usize::try_from(n).unwrap_or(usize::MAX)),
        idle_timeout: Duration::from_secs(args.idle_timeout),
        max_line: args.max_line,
        io: match args.io {
            IoMode::Threads => Io::Threads,
            IoMode::Events => Io::Events,
        },
        max_seats_per_request: args.max_seats_per_request,
        data_dir: args.data_dir,
        data: DataOptions {
            fsync: args.fsync,
            snapshot_every: args.snapshot_every,
            segment_size: args.segment_size,
            ..DataOptions::default()
        },
    };
    let server = Server::bind(config.clone()).map_err(|e| {
        if e.kind() == std::io::ErrorKind::Other {
            e.to_string()
        } else {
            format!("cannot listen on {}:{}: {e}", config.host, config.port)
        }
    })?;
    stop_on_signals(server.shutdown_handle())?;
    let mut stdout = std::io::stdout().lock();
    let serving = match config.io {
        Io::Threads => format!("{} workers", config.threads),
        Io::Events => format!("event loop, up to {} connections", config.max_conns()),
    };
    let storage = match &config.data_dir {
        None => "in memory only".to_string(),
        Some(dir) => format!(
            "durable in {}, fsync {}",
            dir.display(),
            fsync_name(config.data.fsync)
        ),
    };
    writeln!(
        stdout,
        "seatnet-server listening on {} ({} seats, {serving}, {storage})",
        server.local_addr(),
        config.seats,
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

/// A thread that turns the first SIGINT or SIGTERM into a clean shutdown.
fn stop_on_signals(stop: ShutdownHandle) -> Result<(), String> {
    let mut signals =
        Signals::new([SIGINT, SIGTERM]).map_err(|e| format!("cannot catch signals: {e}"))?;
    std::thread::Builder::new()
        .name("seatnet-signals".into())
        .spawn(move || {
            if let Some(signal) = signals.forever().next() {
                tracing::info!(signal, "stopping");
                stop.shutdown();
            }
        })
        .map(drop)
        .map_err(|e| format!("cannot start the signal thread: {e}"))
}

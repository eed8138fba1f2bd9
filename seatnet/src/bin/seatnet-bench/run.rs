//! One measured run against one server: connect, drive, merge, report.

use std::io::{self, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

use crate::cli::Load;
use crate::driver::{self, Schedule};
use crate::hostile::HostileReport;
use crate::stats::Stats;

/// The result of one run.
pub(crate) struct RunResult {
    pub(crate) label: String,
    pub(crate) addr: SocketAddr,
    pub(crate) stats: Stats,
    /// From the end of the warm-up to the last measured reply.
    pub(crate) elapsed: Duration,
    /// What became of the hostile connections held meanwhile, if any.
    pub(crate) hostile: Option<HostileReport>,
}

impl RunResult {
    pub(crate) fn throughput(&self) -> f64 {
        let secs = self.elapsed.as_secs_f64();
        if secs > 0.0 {
            self.stats.measured as f64 / secs
        } else {
            0.0
        }
    }
}

/// Loads `addr` with `load` on `threads` driver threads.
pub(crate) fn run(
    label: &str,
    addr: SocketAddr,
    load: &Load,
    threads: u32,
    quiet: bool,
) -> Result<RunResult, String> {
    if !addr.ip().is_loopback() {
        return Err(format!("refusing to load {addr}: not a loopback address"));
    }
    let streams = connect_all(addr, load)?;
    let threads = (threads as usize).clamp(1, streams.len());
    let mut groups: Vec<Vec<TcpStream>> = (0..threads).map(|_| Vec::new()).collect();
    for (i, stream) in streams.into_iter().enumerate() {
        groups[i % threads].push(stream);
    }
    let start = Instant::now();
    let measure_from = start + load.warmup;
    let send_until = measure_from + load.duration;
    let schedule = Schedule {
        measure_from,
        send_until,
        hard_stop: send_until + load.timeout,
    };
    let progress = AtomicU64::new(0);
    let (done_tx, done_rx) = mpsc::channel();
    let results = thread::scope(|scope| {
        for (i, group) in groups.into_iter().enumerate() {
            let quota = load.requests.map(|n| share(n, i, threads));
            let seed = load.seed.wrapping_add(i as u64);
            let (progress, tx) = (&progress, done_tx.clone());
            let spawned = thread::Builder::new()
                .name(format!("bench-driver-{i}"))
                .spawn_scoped(scope, move || {
                    let result = driver::drive(group, load, schedule, quota, seed, progress);
                    // The receiver outlives every driver (same scope).
                    let _ = tx.send(result);
                });
            if let Err(e) = spawned {
                let _ = done_tx.send(Err(e));
            }
        }
        drop(done_tx);
        collect(label, &done_rx, &progress, start, quiet)
    });
    let mut merged = Stats::new(load.seats);
    for result in results {
        let stats = result.map_err(|e| format!("{label}: driver failed: {e}"))?;
        merged.merge(&stats);
    }
    let end = merged.last_reply.unwrap_or(measure_from);
    Ok(RunResult {
        label: label.to_owned(),
        addr,
        elapsed: end.saturating_duration_since(measure_from),
        stats: merged,
        hostile: None,
    })
}

/// Waits for every driver, printing a progress line once a second.
fn collect(
    label: &str,
    done: &mpsc::Receiver<io::Result<Stats>>,
    progress: &AtomicU64,
    start: Instant,
    quiet: bool,
) -> Vec<io::Result<Stats>> {
    let mut results = Vec::new();
    let mut last = (start, 0u64);
    let mut printed = false;
    loop {
        match done.recv_timeout(Duration::from_secs(1)) {
            Ok(result) => results.push(result),
            Err(mpsc::RecvTimeoutError::Disconnected) => break,
            Err(mpsc::RecvTimeoutError::Timeout) if !quiet => {
                let now = Instant::now();
                // Relaxed: a statistic; see `Driver::publish`.
                let replies = progress.load(Ordering::Relaxed);
                let rate = (replies - last.1) as f64 / now.duration_since(last.0).as_secs_f64();
                last = (now, replies);
                let mut err = io::stderr().lock();
                let _ = write!(
                    err,
                    "\r{label}: {:>4.0} s  {replies:>10} replies  {rate:>10.0} req/s   ",
                    now.duration_since(start).as_secs_f64()
                );
                let _ = err.flush();
                printed = true;
            }
            Err(mpsc::RecvTimeoutError::Timeout) => {}
        }
    }
    if printed {
        eprintln!();
    }
    results
}

/// Opens every connection before the clock starts.
fn connect_all(addr: SocketAddr, load: &Load) -> Result<Vec<TcpStream>, String> {
    let mut streams = Vec::with_capacity(load.connections as usize);
    for i in 0..load.connections {
        let stream = TcpStream::connect_timeout(&addr, load.timeout).map_err(|e| {
            format!(
                "cannot connect to {addr} (connection {} of {}): {e}",
                i + 1,
                load.connections
            )
        })?;
        // Requests are tiny and latency is what we measure: no Nagle.
        stream
            .set_nodelay(true)
            .map_err(|e| format!("set TCP_NODELAY: {e}"))?;
        streams.push(stream);
    }
    Ok(streams)
}

/// Driver `i`'s share of `total` requests.
fn share(total: u64, i: usize, threads: usize) -> u64 {
    let threads = threads as u64;
    total / threads + u64::from((i as u64) < total % threads)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::baseline::BaselineServer;
    use crate::cli::Framing;

    #[test]
    fn a_bounded_run_answers_exactly_the_requests_asked() {
        let server = BaselineServer::start(100).expect("bind loopback");
        let load = Load {
            connections: 3,
            framing: Framing::Original,
            pipeline: 1,
            seats_per_request: 3,
            seats: 100,
            warmup: Duration::ZERO,
            duration: Duration::from_secs(10),
            requests: Some(101),
            timeout: Duration::from_secs(5),
            seed: 42,
            redis_key: String::new(),
            holds: None,
        };
        let result = run("baseline", server.local_addr(), &load, 2, true);
        server.stop();
        let result = result.expect("run");
        assert_eq!(result.stats.measured, 101);
        assert_eq!(result.stats.errors.total(), 0);
        assert!(
            result.stats.grants.ok(),
            "{}",
            result.stats.grants.verdict()
        );
        assert!(result.stats.grants.granted() > 0);
    }

    #[test]
    fn non_loopback_addresses_are_refused_here_too() {
        let load = Load {
            connections: 1,
            framing: Framing::Original,
            pipeline: 1,
            seats_per_request: 1,
            seats: 1,
            warmup: Duration::ZERO,
            duration: Duration::from_secs(1),
            requests: Some(1),
            timeout: Duration::from_secs(1),
            seed: 1,
            redis_key: String::new(),
            holds: None,
        };
        let addr: SocketAddr = "192.0.2.1:9".parse().expect("address");
        assert!(run("x", addr, &load, 1, true).is_err());
    }

    #[test]
    fn shares_add_up_to_the_total() {
        for (total, threads) in [(10, 3), (1, 4), (200, 1), (7, 7)] {
            let sum: u64 = (0..threads).map(|i| share(total, i, threads)).sum();
            assert_eq!(sum, total, "{total} over {threads}");
        }
    }
}

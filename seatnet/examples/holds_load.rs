//! A mixed hold / confirm / cancel workload over many maps, against an
//! in-process server on loopback, in memory and with a data directory:
//! requests per second at 16 and 64 connections, for 1,000 maps of 200
//! seats and, in the same run, for one map of 200,000 seats.
//!
//! Each connection repeats: pick a map (`USE`, not counted, skipped when
//! there is one map), `HOLD ANY 2`, then either `CONFIRM` and `CANCEL` the
//! booking, or `CANCEL` the hold; every reply is checked.
//!
//! ```text
//! cargo run --release -p seatnet --example holds_load [SECONDS] [MAPS]
//! ```
//!
//! `docs/performance.md` ("Many maps") has the figures.

use std::io::{BufRead, BufReader, Write};
use std::net::TcpStream;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use seatnet::{Config, DataOptions, MapDef, Server};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let seconds: f64 = args.next().map_or(Ok(3.0), |a| a.parse())?;
    let maps: usize = args.next().map_or(Ok(1000), |a| a.parse())?;
    println!(
        "| storage | maps | connections | hold/confirm/cancel per s | all requests per s (with USE) |"
    );
    println!("|---|---|---|---|---|");
    for durable in [false, true] {
        for (count, seats) in [(maps, 200u64), (1, 200 * maps as u64)] {
            for connections in [16usize, 64] {
                let (rate, all) = run(durable, count, seats, connections, seconds)?;
                println!(
                    "| {} | {count} x {seats} | {connections} | {rate:.0} | {all:.0} |",
                    if durable {
                        "durable (fsync always)"
                    } else {
                        "in memory"
                    },
                );
            }
        }
    }
    Ok(())
}

/// One case: a fresh server, `connections` clients for `seconds`.
fn run(
    durable: bool,
    maps: usize,
    seats: u64,
    connections: usize,
    seconds: f64,
) -> Result<(f64, f64), Box<dyn std::error::Error>> {
    let dir = std::env::temp_dir().join(format!(
        "seatnet-holds-load-{}-{maps}-{connections}",
        std::process::id()
    ));
    let _ = std::fs::remove_dir_all(&dir);
    let defs: Vec<MapDef> = if maps == 1 {
        Vec::new()
    } else {
        (0..maps)
            .map(|i| format!("M{i}={seats}").parse())
            .collect::<Result<_, _>>()?
    };
    let server = Server::bind(Config {
        port: 0,
        threads: 4,
        seats: if maps == 1 { seats } else { 100 },
        maps: defs,
        data_dir: durable.then(|| dir.clone()),
        data: DataOptions {
            segment_size: 16 << 20,
            ..DataOptions::default()
        },
        ..Config::default()
    })?;
    let addr = server.local_addr();
    let stop = server.shutdown_handle();
    let running = std::thread::spawn(move || server.run());
    let done = Arc::new(AtomicBool::new(false));
    let answered = Arc::new(AtomicU64::new(0));
    let switched = Arc::new(AtomicU64::new(0));
    let clients: Vec<_> = (0..connections)
        .map(|k| {
            let (done, answered, switched) = (
                Arc::clone(&done),
                Arc::clone(&answered),
                Arc::clone(&switched),
            );
            std::thread::spawn(move || client(addr, k as u64, maps, &done, &answered, &switched))
        })
        .collect();
    let started = Instant::now();
    std::thread::sleep(Duration::from_secs_f64(seconds));
    // Relaxed is enough for both: the flag only has to arrive, and the
    // count is read after every client thread is joined.
    done.store(true, Ordering::Relaxed);
    for c in clients {
        c.join().expect("a client panicked")?;
    }
    let elapsed = started.elapsed().as_secs_f64();
    stop.shutdown();
    running.join().expect("the server panicked")?;
    let _ = std::fs::remove_dir_all(&dir);
    // Relaxed: every client thread is joined, which orders their adds
    // before these loads.
    let answered = answered.load(Ordering::Relaxed) as f64;
    let switched = switched.load(Ordering::Relaxed) as f64;
    Ok((answered / elapsed, (answered + switched) / elapsed))
}

/// One connection's loop; counts the hold, confirm and cancel requests,
/// and the `USE`s apart.
fn client(
    addr: std::net::SocketAddr,
    seed: u64,
    maps: usize,
    done: &AtomicBool,
    answered: &AtomicU64,
    switched: &AtomicU64,
) -> std::io::Result<()> {
    let stream = TcpStream::connect(addr)?;
    stream.set_nodelay(true)?;
    stream.set_read_timeout(Some(Duration::from_secs(30)))?;
    let mut writer = stream.try_clone()?;
    let mut reader = BufReader::new(stream);
    let mut ask = |line: &str| -> std::io::Result<String> {
        writer.write_all(line.as_bytes())?;
        writer.write_all(b"\n")?;
        let mut reply = String::new();
        reader.read_line(&mut reply)?;
        Ok(reply.trim_end().to_owned())
    };
    let mut rng = fastrand::Rng::with_seed(seed);
    let (mut count, mut uses) = (0, 0);
    // Relaxed: the flag carries no data; it only has to arrive.
    while !done.load(Ordering::Relaxed) {
        if maps > 1 {
            ask(&format!("USE M{}", rng.usize(0..maps)))?;
            uses += 1;
        }
        let held = ask("HOLD ANY 2")?;
        count += 1;
        let Some(reference) = held.strip_prefix("OK ").and_then(|r| r.split(' ').next()) else {
            continue; // the map is full for a moment
        };
        let reference = reference.to_owned();
        if rng.bool() {
            let confirmed = ask(&format!("CONFIRM {reference}"))?;
            assert!(confirmed.starts_with("OK confirmed"), "{confirmed}");
            count += 1;
        }
        let cancelled = ask(&format!("CANCEL {reference}"))?;
        assert!(cancelled.starts_with("OK cancelled"), "{cancelled}");
        count += 1;
    }
    // Relaxed: read after the join (see `run`).
    answered.fetch_add(count, Ordering::Relaxed);
    switched.fetch_add(uses, Ordering::Relaxed);
    Ok(())
}

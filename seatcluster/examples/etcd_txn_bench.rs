//! Throughput and latency of fenced etcd transactions by batch size: what
//! `docs/cluster.md` ("Measured") grounds its batch sizes on.
//!
//! Each client thread sends, one at a time, transactions of B puts of V
//! bytes guarded by one mod-revision compare (the fence every batch
//! carries), for a bounded time per row.
//!
//! ```sh
//! cargo run --release -p seatcluster --example etcd_txn_bench -- \
//!     [--members 3] [--batches 1,16,64] [--clients 1,4,16] [--seconds 5] \
//!     [--value-bytes 100] [--endpoints HOST:PORT,...] [--takeover]
//! ```
//!
//! `--takeover` adds what a node taking a map over reads: snapshots of
//! several sizes written and read back (`put_snapshot`, `get_snapshot`)
//! and a log of 1,000 entries read back (`read_log`), median of 5 each.
//!
//! Without `--endpoints` it starts its own members on loopback (needs the
//! etcd-server package) and stops them at the end.

use std::time::{Duration, Instant};

use hdrhistogram::Histogram;
use seatcluster::testing::EtcdCluster;
use seatcluster::{Acquire, Client, Cluster, Cmp, Compare, LogEntry, Op, Txn};

struct Args {
    members: usize,
    batches: Vec<usize>,
    clients: Vec<usize>,
    seconds: u64,
    value_bytes: usize,
    endpoints: Vec<String>,
    takeover: bool,
}

fn list(text: &str) -> Vec<usize> {
    text.split(',')
        .map(|n| n.trim().parse().expect("a list of numbers"))
        .collect()
}

fn parse() -> Args {
    let mut args = Args {
        members: 3,
        batches: vec![1, 16, 64],
        clients: vec![1, 4, 16],
        seconds: 5,
        value_bytes: 100,
        endpoints: Vec::new(),
        takeover: false,
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        if flag == "--takeover" {
            args.takeover = true;
            continue;
        }
        let value = it.next().unwrap_or_else(|| panic!("{flag} needs a value"));
        match flag.as_str() {
            "--members" => args.members = value.parse().expect("a number"),
            "--batches" => args.batches = list(&value),
            "--clients" => args.clients = list(&value),
            "--seconds" => args.seconds = value.parse().expect("a number"),
            "--value-bytes" => args.value_bytes = value.parse().expect("a number"),
            "--endpoints" => args.endpoints = value.split(',').map(str::to_string).collect(),
            other => panic!("unknown flag {other}"),
        }
    }
    args.seconds = args.seconds.clamp(1, 60);
    args
}

fn main() {
    let args = parse();
    let cluster;
    let endpoints = if args.endpoints.is_empty() {
        cluster = match EtcdCluster::start("etcd_txn_bench", args.members) {
            Some(c) => c,
            None => std::process::exit(2),
        };
        cluster.endpoints()
    } else {
        args.endpoints.clone()
    };
    let setup = Client::new(&endpoints).expect("client");
    let fence_key = "/bench/owner";
    let fence = setup.put(fence_key, "bench").expect("put the fence key");
    println!(
        "etcd {} member(s) at {}; fenced transactions of B puts of {} bytes; {} s per row",
        endpoints.len(),
        endpoints.join(","),
        args.value_bytes,
        args.seconds
    );
    println!("| batch B | clients | txn/s | puts/s | p50 ms | p99 ms | max ms |");
    println!("|---|---|---|---|---|---|---|");
    for &batch in &args.batches {
        for &clients in &args.clients {
            let row = run(&endpoints, fence_key, fence, batch, clients, &args);
            println!("{row}");
        }
    }
    if args.takeover {
        takeover(&endpoints);
    }
}

/// Median milliseconds of `runs` calls of `f`.
fn median_ms(runs: usize, mut f: impl FnMut()) -> f64 {
    let mut times: Vec<f64> = (0..runs)
        .map(|_| {
            let start = Instant::now();
            f();
            start.elapsed().as_secs_f64() * 1000.0
        })
        .collect();
    times.sort_by(f64::total_cmp);
    times[runs / 2]
}

fn takeover(endpoints: &[String]) {
    let cluster = Cluster::new(Client::new(endpoints).expect("client"), "/bench-takeover/");
    let lease = cluster
        .client()
        .grant_lease(Duration::from_secs(60))
        .expect("lease");
    let Acquire::Owned(own) = cluster.try_acquire("m", b"bench", &lease).expect("acquire") else {
        panic!("the bench map is taken");
    };
    println!();
    println!("| what a takeover reads | write ms | read ms |");
    println!("|---|---|---|");
    for size in [10usize << 10, 1 << 20, 8 << 20] {
        let bytes: Vec<u8> = (0..size).map(|i| (i * 31 % 251) as u8).collect();
        let mut seq = 0;
        let write = median_ms(5, || {
            seq += 1;
            cluster
                .put_snapshot(&own, seq, &bytes)
                .expect("put_snapshot");
        });
        let read = median_ms(5, || {
            let back = cluster
                .get_snapshot("m")
                .expect("get_snapshot")
                .expect("a snapshot");
            assert_eq!(back.bytes.len(), size);
        });
        println!(
            "| snapshot of {} KiB | {write:.1} | {read:.1} |",
            size >> 10
        );
    }
    let base = 1_000;
    let entries: Vec<LogEntry> = (1..=1000u64)
        .map(|i| LogEntry {
            map: "m".into(),
            last_seq: base + i,
            records: vec![b'r'; 1024],
        })
        .collect();
    let write = median_ms(1, || {
        for chunk in entries.chunks(100) {
            cluster
                .commit_batch(std::slice::from_ref(&own), chunk)
                .expect("commit");
        }
    });
    let read = median_ms(5, || {
        let log = cluster.read_log("m", base, 2_000).expect("read_log");
        assert_eq!(log.len(), 1000);
    });
    println!(
        "| log of 1,000 entries of 1 KiB (written 100 per transaction) | {write:.1} | {read:.1} |"
    );
    let _ = cluster.client().revoke_lease(lease.id);
}

fn run(
    endpoints: &[String],
    fence_key: &str,
    fence: i64,
    batch: usize,
    clients: usize,
    args: &Args,
) -> String {
    let duration = Duration::from_secs(args.seconds);
    let value = vec![b'x'; args.value_bytes];
    let results: Vec<(Histogram<u64>, u64)> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..clients)
            .map(|c| {
                let value = value.clone();
                s.spawn(move || {
                    let client = Client::new(endpoints).expect("client");
                    let mut hist =
                        Histogram::<u64>::new_with_bounds(1, 60_000_000, 3).expect("histogram");
                    let mut errors = 0;
                    let ops: Vec<Op> = (0..batch)
                        .map(|j| Op::put(format!("/bench/c{c}/{j}"), value.clone()))
                        .collect();
                    let txn = Txn::new()
                        .when([Compare::mod_revision(fence_key, Cmp::Equal, fence)])
                        .and_then(ops);
                    let end = Instant::now() + duration;
                    while Instant::now() < end {
                        let start = Instant::now();
                        match client.txn(&txn) {
                            Ok(r) if r.succeeded => {
                                hist.saturating_record(start.elapsed().as_micros() as u64)
                            }
                            _ => errors += 1,
                        }
                    }
                    (hist, errors)
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("client thread"))
            .collect()
    });
    let mut all = Histogram::<u64>::new_with_bounds(1, 60_000_000, 3).expect("histogram");
    let mut errors = 0;
    for (h, e) in &results {
        all.add(h).expect("same bounds");
        errors += e;
    }
    let txns = all.len() as f64 / duration.as_secs_f64();
    let ms = |us: u64| us as f64 / 1000.0;
    let mut row = format!(
        "| {batch} | {clients} | {:.0} | {:.0} | {:.1} | {:.1} | {:.1} |",
        txns,
        txns * batch as f64,
        ms(all.value_at_quantile(0.5)),
        ms(all.value_at_quantile(0.99)),
        ms(all.max())
    );
    if errors > 0 {
        row.push_str(&format!(" {errors} failed"));
    }
    row
}

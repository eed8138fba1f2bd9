//! Appends per second with group commit, on the real disk.
//!
//! Each of N threads appends a 32-byte record and waits for it to be
//! acknowledged, in a loop, for a fixed time; the journal's counters give
//! the mean batch size. Usage (figures in docs/performance.md, "seatlog"):
//!
//! ```sh
//! cargo run --release -p seatlog --example append_throughput -- [SECONDS] [DIR]
//! ```
//!
//! DIR defaults to a fresh directory under the system temp dir (removed at
//! the end); give one on the disk you want measured.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Barrier};
use std::time::{Duration, Instant};

use seatlog::{Journal, Options, SyncPolicy};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let seconds: f64 = args.next().map_or(Ok(2.0), |s| s.parse())?;
    let base = args.next().map_or_else(std::env::temp_dir, Into::into);
    println!("| sync | threads | appends/s | mean batch | syncs/s |");
    println!("|---|---:|---:|---:|---:|");
    for policy in [SyncPolicy::Always, SyncPolicy::Never] {
        for threads in [1usize, 16, 64] {
            let dir = base.join(format!(
                "seatlog-bench-{}-{threads}-{:?}",
                std::process::id(),
                policy
            ));
            let result = run(&dir, policy, threads, Duration::from_secs_f64(seconds));
            // Clean up even when the run failed.
            let _ = std::fs::remove_dir_all(&dir);
            let (rate, batch, syncs) = result?;
            println!("| {policy:?} | {threads} | {rate:.0} | {batch:.1} | {syncs:.0} |");
        }
    }
    Ok(())
}

fn run(
    dir: &std::path::Path,
    policy: SyncPolicy,
    threads: usize,
    time: Duration,
) -> Result<(f64, f64, f64), Box<dyn std::error::Error>> {
    let options = Options {
        sync: policy,
        ..Options::new("bench")
    };
    let (journal, _) = Journal::open(dir, options)?;
    let journal = Arc::new(journal);
    let stop = Arc::new(AtomicBool::new(false));
    let start = Arc::new(Barrier::new(threads + 1));
    let workers: Vec<_> = (0..threads)
        .map(|t| {
            let (journal, stop, start) = (journal.clone(), stop.clone(), start.clone());
            std::thread::spawn(move || -> Result<(), String> {
                start.wait();
                // Relaxed: the flag only ends the loop; no data rides on it.
                while !stop.load(Ordering::Relaxed) {
                    let ticket = journal
                        .append(t as u32, 0, |seq| [seq.to_le_bytes(); 4].concat())
                        .map_err(|e| e.to_string())?;
                    journal.wait_durable(ticket).map_err(|e| e.to_string())?;
                }
                Ok(())
            })
        })
        .collect();
    start.wait();
    let before = journal.stats();
    let began = Instant::now();
    std::thread::sleep(time);
    // Relaxed: see the load above.
    stop.store(true, Ordering::Relaxed);
    for worker in workers {
        worker.join().map_err(|_| "worker panicked")??;
    }
    let elapsed = began.elapsed().as_secs_f64();
    let after = journal.stats();
    let records = (after.records - before.records) as f64;
    let batches = (after.batches - before.batches).max(1) as f64;
    let syncs = (after.syncs - before.syncs) as f64;
    Ok((records / elapsed, records / batches, syncs / elapsed))
}

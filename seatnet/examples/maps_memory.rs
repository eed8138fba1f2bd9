//! Memory and start-up time of a server of many maps: 10,000 maps of 200
//! seats (half numbered, half `20x5-5` cabins), in memory and from a data
//! directory. Prints the process's resident set size (`VmRSS`, Linux)
//! before and after, and the time to open (and replay) the directory.
//!
//! ```text
//! cargo run --release -p seatnet --example maps_memory [MAPS] [DIR]
//! ```
//!
//! `docs/performance.md` ("Many maps") has the figures.

use std::time::Instant;

use seatnet::{Catalog, Commit, Config, Counters, DataOptions, MapDef, Scratch, resolve_maps};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let count: usize = args.next().map_or(Ok(10_000), |a| a.parse())?;
    let dir = args.next().map_or_else(
        || std::env::temp_dir().join(format!("seatnet-maps-memory-{}", std::process::id())),
        std::path::PathBuf::from,
    );
    let defs: Vec<MapDef> = (0..count)
        .map(|i| {
            let spec = if i % 2 == 0 { "200" } else { "20x5-5" };
            format!("M{i:05}={spec}").parse()
        })
        .collect::<Result<_, _>>()?;
    let defs = resolve_maps(Config::DEFAULT_SEATS, &defs)?;
    let base = rss_kib();
    println!("before: {} KiB resident", base);

    let started = Instant::now();
    let catalog = Catalog::new(&defs, Config::DEFAULT_MAX_SEATS_PER_REQUEST)?;
    let built = started.elapsed();
    touch(&catalog);
    let in_memory = rss_kib();
    println!(
        "{} maps in memory: {} KiB resident ({} KiB more, {:.0} bytes a map), built in {:.1} ms",
        catalog.len(),
        in_memory,
        in_memory - base,
        (in_memory - base) as f64 * 1024.0 / catalog.len() as f64,
        built.as_secs_f64() * 1e3
    );
    drop(catalog);

    let _ = std::fs::remove_dir_all(&dir);
    let options = DataOptions::default();
    let started = Instant::now();
    let (catalog, _) = Catalog::open(&defs, &dir, options)?;
    println!(
        "first start on {}: {} maps defined in {:.1} ms",
        dir.display(),
        catalog.len(),
        started.elapsed().as_secs_f64() * 1e3
    );
    touch(&catalog);
    drop(catalog);
    let started = Instant::now();
    let (catalog, opened) = Catalog::open(&defs, &dir, options)?;
    println!(
        "restart from the journal ({} records, snapshot {:?}): {:.1} ms",
        opened.records,
        opened.snapshot_seq,
        started.elapsed().as_secs_f64() * 1e3
    );
    catalog.snapshot()?;
    drop(catalog);
    let started = Instant::now();
    let (catalog, opened) = Catalog::open(&defs, &dir, options)?;
    println!(
        "restart from the snapshot ({} records after it): {:.1} ms",
        opened.records,
        started.elapsed().as_secs_f64() * 1e3
    );
    let durable = rss_kib();
    println!("resident with the durable catalog: {durable} KiB");
    drop(catalog);
    let _ = std::fs::remove_dir_all(&dir);
    Ok(())
}

/// One booking and one hold on every map, through the protocol, so every
/// map's tables are used (journaled when the catalog is durable); then one
/// wait for the last change, which covers every earlier one (the journal's
/// durable watermark).
fn touch(catalog: &Catalog) {
    let (mut scratch, counters) = (Scratch::default(), Counters::default());
    let mut last = None;
    for map in catalog.maps() {
        let mut out = Vec::new();
        map.respond(b"ANY 2", &mut scratch, &counters, &mut out);
        let held = map.respond(b"HOLD ANY 2", &mut scratch, &counters, &mut out);
        if let Commit::Pending(ticket) = held.commit {
            last = Some((map, ticket));
        }
    }
    if let Some((map, ticket)) = last {
        map.wait_durable(ticket).expect("the journal works");
    }
}

/// This process's resident set, in KiB (0 where /proc is not there).
fn rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("VmRSS:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        })
        .unwrap_or(0)
}

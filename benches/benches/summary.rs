//! The summary level on huge maps: `reserve_any(1)` then freeing a random
//! *other* reserved seat (constant occupancy; the search cannot find the
//! seat it just freed), on maps of 1k, 1M and 16M seats at one seat,
//! 50%, 99% and all-but-one occupancy, for seatcore and for a linear scan
//! from the same start over the same words. Single thread.
//!
//! Run with `cargo bench -p seatcore-benches --bench summary`;
//! `docs/performance.md` has the figures.

use criterion::{BenchmarkId, Criterion, criterion_group, criterion_main};
use seatcore::SeatMap;
use seatcore_benches::{Churn, LinearScan, OneSeatSearch, short_runs};

/// Occupancies: name and reserved seats for a map of `capacity`.
fn occupancies(capacity: u64) -> [(&'static str, u64); 4] {
    [
        ("one_taken", 1),
        ("50pct", capacity / 2),
        ("99pct", capacity * 99 / 100),
        ("all_but_one", capacity - 1),
    ]
}

fn churn<M: OneSeatSearch>(c: &mut Criterion, capacity: u64, label: &str) {
    let mut group = c.benchmark_group(format!("churn_{label}"));
    for (name, reserved) in occupancies(capacity) {
        let mut churn = Churn::<M>::new(capacity, reserved);
        group.bench_function(BenchmarkId::new(M::NAME, name), |b| b.iter(|| churn.step()));
    }
    group.finish();
}

fn summary(c: &mut Criterion) {
    for (capacity, label) in [(1_000, "1k"), (1_000_000, "1M"), (16 << 20, "16M")] {
        churn::<SeatMap>(c, capacity, label);
        churn::<LinearScan>(c, capacity, label);
    }
}

criterion_group! {
    name = benches;
    config = short_runs();
    targets = summary
}
criterion_main!(benches);

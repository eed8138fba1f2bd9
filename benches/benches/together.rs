//! seatplan's TOGETHER chooser on cabins: a party of 2, 4 and 8 on a
//! 30x3-3 aircraft half full; the largest party (100) on 999 rows of
//! 3-4-3, half full and nearly empty; and a party of 6 on a 999x3-4-3
//! cabin whose only two-row seats are far apart (the non-adjacent path,
//! the table of reachable sums). Single thread; `is_free` reads a
//! prepared `Vec<bool>`, so the figures are the chooser's own work.
//!
//! Run with `cargo bench -p seatcore-benches --bench together`;
//! `docs/performance.md` has the figures.

use criterion::{BenchmarkId, Criterion, criterion_group, criterion_main};
use seatcore_benches::short_runs;
use seatplan::{Cabin, choose_together};

/// A reproducible pattern: seat `s` free unless its hash falls under
/// `taken` (a share in 0..=1).
fn pattern(seats: u64, taken: f64) -> Vec<bool> {
    (0..seats)
        .map(|s| {
            let h = (s ^ 0x5EED).wrapping_mul(0x9E37_79B9_7F4A_7C15);
            (h >> 11) as f64 / (1u64 << 53) as f64 >= taken
        })
        .collect()
}

fn together(c: &mut Criterion) {
    let mut group = c.benchmark_group("together");
    let aircraft = Cabin::new(30, &[3, 3]).expect("30x3-3");
    let half = pattern(aircraft.seats(), 0.5);
    for n in [2, 4, 8] {
        group.bench_function(BenchmarkId::new("30x3-3_half", n), |b| {
            b.iter(|| choose_together(&aircraft, |s| half[s as usize], n))
        });
    }
    let hall = Cabin::new(999, &[3, 4, 3]).expect("999x3-4-3");
    for (name, taken) in [("999x3-4-3_half", 0.5), ("999x3-4-3_empty", 0.0)] {
        let free = pattern(hall.seats(), taken);
        group.bench_function(BenchmarkId::new(name, 100), |b| {
            b.iter(|| choose_together(&hall, |s| free[s as usize], 100))
        });
    }
    // Every row full but rows 1 and 999, which have three free seats each
    // (A-C): a party of 6 needs both, far apart.
    let mut sparse = vec![false; hall.seats() as usize];
    for seat in [0, 1, 2, 9980, 9981, 9982] {
        sparse[seat] = true;
    }
    let far = choose_together(&hall, |s| sparse[s as usize], 6);
    assert_eq!(far.map(|c| c.split()), Some(2), "rows 1 and 999");
    group.bench_function(BenchmarkId::new("999x3-4-3_far_apart", 6), |b| {
        b.iter(|| choose_together(&hall, |s| sparse[s as usize], 6))
    });
    group.finish();
}

criterion_group! {
    name = benches;
    config = short_runs();
    targets = together
}
criterion_main!(benches);

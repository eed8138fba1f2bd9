//! Interleaved A/B timing of the summary churn (seatcore against the linear
//! scan), alternating short rounds so that machine noise hits both alike.
//! `cargo run --release -p seatcore-benches --example churn_ab -- 16777216 50`

use std::time::Instant;

use seatcore::SeatMap;
use seatcore_benches::{Churn, LinearScan, OneSeatSearch};

fn round<M: OneSeatSearch>(churn: &mut Churn<M>, steps: u32) -> f64 {
    let start = Instant::now();
    for _ in 0..steps {
        churn.step();
    }
    start.elapsed().as_nanos() as f64 / f64::from(steps)
}

fn main() {
    let mut args = std::env::args().skip(1);
    let capacity: u64 = args.next().and_then(|a| a.parse().ok()).unwrap_or(16 << 20);
    let percent: u64 = args.next().and_then(|a| a.parse().ok()).unwrap_or(50);
    let reserved = if percent >= 100 {
        capacity - 1
    } else {
        (capacity * percent / 100).max(1)
    };
    // Built in the order asked for: the first allocation of a large list can
    // sit worse in memory than the second.
    let linear_first = std::env::var_os("LINEAR_FIRST").is_some();
    let mut b_early = linear_first.then(|| Churn::<LinearScan>::new(capacity, reserved));
    let mut a = Churn::<SeatMap>::new(capacity, reserved);
    let mut b = b_early
        .take()
        .unwrap_or_else(|| Churn::<LinearScan>::new(capacity, reserved));
    let steps = if percent >= 100 { 2_000 } else { 200_000 };
    let (mut ta, mut tb) = (Vec::new(), Vec::new());
    let only = std::env::var("ONLY").unwrap_or_default();
    for _ in 0..15 {
        if only != "linear" {
            ta.push(round(&mut a, steps));
        }
        if only != "seatcore" {
            tb.push(round(&mut b, steps));
        }
    }
    ta.push(f64::NAN);
    tb.push(f64::NAN);
    ta.sort_by(f64::total_cmp);
    tb.sort_by(f64::total_cmp);
    let (ma, mb) = (ta[ta.len() / 2], tb[tb.len() / 2]);
    println!(
        "capacity {capacity} reserved {reserved}: seatcore {ma:.1} ns, linear {mb:.1} ns, linear/seatcore {:.2}x",
        mb / ma
    );
}

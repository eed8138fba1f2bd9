//! seatcore against its baselines, case by case.
//!
//! Every case runs against every contender (see `seatcore_benches`), and
//! times only the concurrent section: worker threads are started once per
//! case and released by a barrier (`Crew`). One iteration is one
//! reserve-then-release per thread, so criterion's time per iteration is
//! the wall time for every thread to do one, and its throughput counts the
//! reserve/release pairs of all threads.
//!
//! Run with `cargo bench -p seatcore-benches`; `docs/performance.md` has
//! the figures and how to read them.

use std::hint::black_box;
use std::sync::Arc;

use criterion::measurement::WallTime;
use criterion::{
    BenchmarkGroup, BenchmarkId, Criterion, Throughput, criterion_group, criterion_main,
};
use seatcore::SeatMap;
use seatcore_benches::{
    BareAtomic, Crew, LockedBitset, SeatStore, StdMutexSeats, fill, short_runs,
};

/// The loop one worker runs: `iters` iterations as thread `thread`.
trait Body {
    fn run<S: SeatStore>(store: &S, thread: usize, iters: u64);
}

/// Reserve then release one seat of the thread's own; thread `t` uses seat
/// `t * STRIDE`. A stride of 1 puts two threads in one word (the same cache
/// line, contended at the hardware level though no seat is shared); 512
/// seats is 8 words, a different 64-byte cache line.
struct OwnSeat<const STRIDE: u64>;

impl<const STRIDE: u64> Body for OwnSeat<STRIDE> {
    fn run<S: SeatStore>(store: &S, thread: usize, iters: u64) {
        let seat = thread as u64 * STRIDE;
        for _ in 0..iters {
            black_box(store.reserve(black_box(seat)));
            black_box(store.release(black_box(seat)));
        }
    }
}

/// A request for a list of 4 seats over two words, like the original's
/// `5,10,22,80`, then its release; thread `t` shifts every seat by `t`, so
/// two threads share words but never seats.
struct ListOfFour;

impl Body for ListOfFour {
    fn run<S: SeatStore>(store: &S, thread: usize, iters: u64) {
        let shift = thread as u64;
        let seats = [5 + shift, 10 + shift, 22 + shift, 80 + shift];
        for _ in 0..iters {
            black_box(store.reserve_each(black_box(&seats)));
            black_box(store.release_each(black_box(&seats)));
        }
    }
}

/// Reserve any one free seat, then release it.
struct AnyOne;

impl Body for AnyOne {
    fn run<S: SeatStore>(store: &S, _thread: usize, iters: u64) {
        for _ in 0..iters {
            if let Some(seats) = store.reserve_any(black_box(1)) {
                for seat in seats {
                    black_box(store.release(seat));
                }
            }
        }
    }
}

/// One case: `threads` workers running `B` on a store of `capacity` seats
/// with `percent`% of them reserved beforehand.
#[derive(Clone, Copy)]
struct Setup {
    name: &'static str,
    threads: usize,
    capacity: u64,
    percent: u64,
}

/// Runs case `setup` against contender `S`.
fn against<B: Body, S: SeatStore>(group: &mut BenchmarkGroup<'_, WallTime>, setup: Setup) {
    let store = Arc::new(S::with_capacity(setup.capacity));
    fill(&*store, setup.capacity, setup.percent);
    let crew = Crew::start(setup.threads, {
        let store = Arc::clone(&store);
        move |thread, iters| B::run(&*store, thread, iters)
    });
    group.throughput(Throughput::Elements(setup.threads as u64));
    group.bench_function(BenchmarkId::new(S::NAME, setup.name), |b| {
        b.iter_custom(|iters| crew.run(iters));
    });
}

/// Runs case `setup` against every contender, seatcore first.
fn every_contender<B: Body>(group: &mut BenchmarkGroup<'_, WallTime>, setup: Setup) {
    against::<B, SeatMap>(group, setup);
    against::<B, BareAtomic>(group, setup);
    against::<B, LockedBitset>(group, setup);
    against::<B, StdMutexSeats>(group, setup);
}

/// Exact seats: one seat per thread, alone and in pairs of threads.
fn reserve_release(c: &mut Criterion) {
    let mut group = c.benchmark_group("reserve_release");
    let small = |name, threads| Setup {
        name,
        threads,
        capacity: 1024,
        percent: 0,
    };
    every_contender::<OwnSeat<1>>(&mut group, small("1_thread", 1));
    every_contender::<OwnSeat<1>>(&mut group, small("2_threads_same_word", 2));
    every_contender::<OwnSeat<512>>(&mut group, small("2_threads_different_words", 2));
    group.finish();
}

/// The original's request shape: a list of seats, each reported.
fn reserve_each(c: &mut Criterion) {
    let mut group = c.benchmark_group("reserve_each_4");
    for (name, threads) in [("1_thread", 1), ("2_threads", 2)] {
        let setup = Setup {
            name,
            threads,
            capacity: 1024,
            percent: 0,
        };
        every_contender::<ListOfFour>(&mut group, setup);
    }
    group.finish();
}

/// Searches on small and large maps, half and nearly full.
fn reserve_any(c: &mut Criterion) {
    let mut group = c.benchmark_group("reserve_any_1");
    let cases = [
        ("1k_50pct", 1, 1_000, 50),
        ("1k_99pct", 1, 1_000, 99),
        ("1M_50pct", 1, 1_000_000, 50),
        ("1M_99pct", 1, 1_000_000, 99),
        ("1M_99pct_2_threads", 2, 1_000_000, 99),
    ];
    for (name, threads, capacity, percent) in cases {
        let setup = Setup {
            name,
            threads,
            capacity,
            percent,
        };
        every_contender::<AnyOne>(&mut group, setup);
    }
    group.finish();
}

criterion_group! {
    name = benches;
    config = short_runs();
    targets = reserve_release, reserve_each, reserve_any
}
criterion_main!(benches);

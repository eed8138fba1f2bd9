//! [`Crew`]: worker threads that run a benchmark's concurrent section.
//!
//! Criterion's `iter_custom` asks for the time of `iters` iterations. The
//! crew's threads are started once per benchmark (spawning is not what we
//! measure), wait at a barrier, and each times only its own loop; a sample
//! takes the slowest thread's time, so it covers the whole concurrent
//! section and nothing else (the approach of sharded-slab's benches).

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Barrier};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// What the workers share with the thread that drives them.
struct Shared {
    /// Releases the workers into a round (or into shutdown).
    start: Barrier,
    /// Every worker has finished the round and recorded its time.
    done: Barrier,
    /// Iterations each worker runs this round.
    iters: AtomicU64,
    /// Set before the last `start`: workers leave instead of running.
    stop: AtomicBool,
    /// The slowest worker's time this round, in nanoseconds.
    slowest_nanos: AtomicU64,
}

/// A fixed set of threads that run `work(thread_index, iters)` together on
/// demand and report how long the slowest took.
///
/// # Examples
///
/// ```
/// use std::sync::atomic::{AtomicU64, Ordering};
/// use std::sync::Arc;
/// use seatcore_benches::Crew;
///
/// let count = Arc::new(AtomicU64::new(0));
/// let crew = Crew::start(2, {
///     let count = Arc::clone(&count);
///     move |_thread, iters| {
///         count.fetch_add(iters, Ordering::Relaxed);
///     }
/// });
/// crew.run(10);
/// crew.run(5);
/// drop(crew);
/// assert_eq!(count.load(Ordering::Relaxed), 30);
/// ```
pub struct Crew {
    shared: Arc<Shared>,
    workers: Vec<JoinHandle<()>>,
}

impl Crew {
    /// Starts `threads` workers that will run `work` on each
    /// [`run`](Self::run).
    ///
    /// # Panics
    ///
    /// If a thread cannot be spawned (benchmark setup only).
    pub fn start<F>(threads: usize, work: F) -> Crew
    where
        F: Fn(usize, u64) + Send + Sync + 'static,
    {
        let shared = Arc::new(Shared {
            start: Barrier::new(threads + 1),
            done: Barrier::new(threads + 1),
            iters: AtomicU64::new(0),
            stop: AtomicBool::new(false),
            slowest_nanos: AtomicU64::new(0),
        });
        let work = Arc::new(work);
        let workers = (0..threads)
            .map(|index| {
                let shared = Arc::clone(&shared);
                let work = Arc::clone(&work);
                std::thread::Builder::new()
                    .name(format!("bench-worker-{index}"))
                    .spawn(move || worker(index, &shared, &*work))
                    .expect("spawn a benchmark worker")
            })
            .collect();
        Crew { shared, workers }
    }

    /// Runs `iters` iterations on every worker at once; the slowest
    /// worker's time.
    pub fn run(&self, iters: u64) -> Duration {
        // Relaxed everywhere in this file: the barriers order these stores
        // and loads (a barrier wait synchronizes with every other
        // participant's), so the atomics need no ordering of their own.
        self.shared.iters.store(iters, Ordering::Relaxed);
        self.shared.slowest_nanos.store(0, Ordering::Relaxed);
        self.shared.start.wait();
        self.shared.done.wait();
        Duration::from_nanos(self.shared.slowest_nanos.load(Ordering::Relaxed))
    }
}

impl Drop for Crew {
    fn drop(&mut self) {
        // Relaxed: published to the workers by the barrier below.
        self.shared.stop.store(true, Ordering::Relaxed);
        self.shared.start.wait();
        for worker in self.workers.drain(..) {
            // A worker that panicked already printed why; nothing to add.
            let _ = worker.join();
        }
    }
}

/// A worker's life: wait for a round, run it, report, until told to stop.
fn worker(index: usize, shared: &Shared, work: &(dyn Fn(usize, u64) + Send + Sync)) {
    loop {
        shared.start.wait();
        // Relaxed: see `Crew::run`.
        if shared.stop.load(Ordering::Relaxed) {
            return;
        }
        let iters = shared.iters.load(Ordering::Relaxed);
        let began = Instant::now();
        work(index, iters);
        let nanos = u64::try_from(began.elapsed().as_nanos()).unwrap_or(u64::MAX);
        shared.slowest_nanos.fetch_max(nanos, Ordering::Relaxed);
        shared.done.wait();
    }
}

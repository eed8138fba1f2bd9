//! When holds expire: a [`Clock`] (injectable, so tests drive expiry
//! without sleeping) and one ordered deadline queue for every hold of
//! every map ([`HoldTimer`]), served by one thread (the catalog's expiry
//! loop), never a thread or a timer per hold.
//!
//! The queue holds `(expiry, map id, reference)`. An `EXTEND` pushes the
//! new deadline and leaves the old entry: when it comes up, the hold's
//! real expiry (in the hold table) is later and the entry is dropped. So
//! the queue holds at most one entry per hold and per extension, and an
//! extension is bounded by `--hold-max`.

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::fmt;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use parking_lot::{Condvar, Mutex};

/// Wall-clock time for holds, in ms since the Unix epoch.
pub trait Clock: Send + Sync + fmt::Debug {
    /// Now.
    fn now_ms(&self) -> u64;
}

/// The system's wall clock.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now_ms(&self) -> u64 {
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_millis() as u64)
    }
}

/// A clock that moves only when told to (tests).
///
/// # Examples
///
/// ```
/// use seatnet::{Clock, ManualClock};
///
/// let clock = ManualClock::new(1_000);
/// clock.advance(std::time::Duration::from_secs(2));
/// assert_eq!(clock.now_ms(), 3_000);
/// ```
#[derive(Debug, Default)]
pub struct ManualClock(AtomicU64);

impl ManualClock {
    /// A clock showing `now_ms`.
    #[must_use]
    pub fn new(now_ms: u64) -> ManualClock {
        ManualClock(AtomicU64::new(now_ms))
    }

    /// Moves the clock on by `by`.
    pub fn advance(&self, by: Duration) {
        // SeqCst: a test advances the clock, then asks the server over TCP;
        // the worker must see the new time. (The socket round trip orders
        // it anyway; SeqCst costs nothing in a test clock.)
        self.0.fetch_add(by.as_millis() as u64, Ordering::SeqCst);
    }
}

impl Clock for ManualClock {
    fn now_ms(&self) -> u64 {
        // SeqCst: pairs with `advance`.
        self.0.load(Ordering::SeqCst)
    }
}

/// One deadline: when, which map, which hold.
pub(crate) type Deadline = Reverse<(u64, u32, u128)>;

/// The hold settings and the deadline queue every map shares.
#[derive(Debug)]
pub(crate) struct HoldTimer {
    pub(crate) clock: std::sync::Arc<dyn Clock>,
    /// `--hold-ttl`, in ms.
    pub(crate) ttl_ms: u64,
    /// `--hold-max`, in ms.
    pub(crate) max_ms: u64,
    queue: Mutex<BinaryHeap<Deadline>>,
    /// Wakes the expiry loop: an earlier deadline, or stop.
    wake: Condvar,
    stopping: AtomicBool,
    /// The queue's length after the last compaction.
    compacted_to: AtomicUsize,
}

/// Below this many entries the queue is never compacted.
pub(crate) const COMPACT_FLOOR: usize = 4096;

impl HoldTimer {
    pub(crate) fn new(clock: std::sync::Arc<dyn Clock>, ttl: Duration, max: Duration) -> HoldTimer {
        HoldTimer {
            clock,
            ttl_ms: ttl.as_millis() as u64,
            max_ms: max.as_millis().max(ttl.as_millis()) as u64,
            queue: Mutex::new(BinaryHeap::new()),
            wake: Condvar::new(),
            stopping: AtomicBool::new(false),
            compacted_to: AtomicUsize::new(0),
        }
    }

    pub(crate) fn now_ms(&self) -> u64 {
        self.clock.now_ms()
    }

    /// The expiry of a hold placed (or extended) at `now_ms`: the TTL on,
    /// rounded up to a whole second (replies say seconds), and never past
    /// `placed_ms` plus the maximum.
    pub(crate) fn expiry(&self, now_ms: u64, placed_ms: u64) -> u64 {
        let wanted = (now_ms + self.ttl_ms).div_ceil(1000) * 1000;
        wanted.min(placed_ms + self.max_ms)
    }

    /// Queues a deadline, and wakes the loop if it is now the first.
    pub(crate) fn schedule(&self, expires_ms: u64, map: u32, reference: u128) {
        let mut queue = self.queue.lock();
        let first = queue
            .peek()
            .is_none_or(|Reverse((t, _, _))| expires_ms < *t);
        queue.push(Reverse((expires_ms, map, reference)));
        if first {
            self.wake.notify_one();
        }
    }

    /// Takes the next deadline due at `now_ms`, if any.
    pub(crate) fn pop_due(&self, now_ms: u64) -> Option<(u32, u128)> {
        let mut queue = self.queue.lock();
        match queue.peek() {
            Some(Reverse((t, _, _))) if *t <= now_ms => {
                queue.pop().map(|Reverse((_, map, r))| (map, r))
            }
            _ => None,
        }
    }

    /// How many deadlines are queued.
    pub(crate) fn queued(&self) -> usize {
        self.queue.lock().len()
    }

    /// Drops the deadlines `live` says are stale (their hold was
    /// confirmed, cancelled or extended), if `force` or if the queue has
    /// grown past twice its size after the last compaction (and past
    /// [`COMPACT_FLOOR`]): a client that holds and cancels in a loop would
    /// otherwise leave one dead entry per hold until its expiry. `live` is
    /// called without the queue's lock (it takes a hold table's lock, and
    /// an `EXTEND` takes them the other way round). Returns the entries
    /// dropped.
    pub(crate) fn compact(&self, force: bool, live: impl Fn(u32, u128, u64) -> bool) -> usize {
        // Relaxed: a size hint (see the store below); a stale one only
        // moves when the compaction happens.
        let limit = COMPACT_FLOOR.max(2 * self.compacted_to.load(Ordering::Relaxed));
        let taken = {
            let mut queue = self.queue.lock();
            if queue.len() <= limit && !force {
                return 0;
            }
            std::mem::take(&mut *queue)
        };
        let before = taken.len();
        let mut kept: BinaryHeap<Deadline> = taken
            .into_vec()
            .into_iter()
            .filter(|Reverse((t, map, r))| live(*map, *r, *t))
            .collect();
        let dropped = before - kept.len();
        let mut queue = self.queue.lock();
        // Deadlines pushed meanwhile join the kept ones.
        kept.append(&mut queue);
        *queue = kept;
        // Relaxed: a size hint for the next compaction; a stale value
        // only moves when the next one happens.
        self.compacted_to.store(queue.len(), Ordering::Relaxed);
        // The first deadline may have changed: let the loop look again.
        self.wake.notify_one();
        dropped
    }

    /// Sleeps until the first deadline, `most` at the longest, or until
    /// woken. Returns false once stopping.
    pub(crate) fn wait(&self, most: Duration) -> bool {
        let mut queue = self.queue.lock();
        // Acquire: pairs with the Release in `stop`; read under the queue
        // lock `stop` stores under, so no wake-up is missed.
        if self.stopping.load(Ordering::Acquire) {
            return false;
        }
        let now = self.clock.now_ms();
        let until_first = queue.peek().map_or(most, |Reverse((t, _, _))| {
            Duration::from_millis(t.saturating_sub(now))
        });
        if !until_first.is_zero() {
            let _ = self.wake.wait_for(&mut queue, until_first.min(most));
        }
        // Acquire: pairs with the Release in `stop`; nothing else rides on it.
        !self.stopping.load(Ordering::Acquire)
    }

    /// Stops the loop.
    pub(crate) fn stop(&self) {
        let _queue = self.queue.lock();
        // Release, under the queue lock the loop waits on: the loop sees
        // it at its next check, before or after its wait.
        self.stopping.store(true, Ordering::Release);
        self.wake.notify_all();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    #[test]
    fn deadlines_come_out_in_order_and_only_when_due() {
        let clock = Arc::new(ManualClock::new(10_000));
        let timer = HoldTimer::new(
            clock.clone(),
            Duration::from_secs(5),
            Duration::from_secs(8),
        );
        assert_eq!(
            timer.expiry(10_001, 10_001),
            16_000,
            "rounded up to a second"
        );
        assert_eq!(
            timer.expiry(16_000, 10_000),
            18_000,
            "capped by the maximum"
        );
        timer.schedule(15_000, 1, 7);
        timer.schedule(12_000, 0, 9);
        timer.schedule(12_000, 2, 3);
        assert_eq!(timer.pop_due(11_999), None);
        assert_eq!(timer.pop_due(12_000), Some((0, 9)));
        assert_eq!(timer.pop_due(12_000), Some((2, 3)));
        assert_eq!(timer.pop_due(14_000), None);
        assert_eq!(timer.queued(), 1);
        timer.stop();
        assert!(
            !timer.wait(Duration::from_secs(60)),
            "returns at once once stopped"
        );
    }
}

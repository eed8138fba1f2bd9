//! Group commit: appenders queue encoded records under one lock (which
//! assigns the seq, so queue order is seq order); one writer thread drains
//! the queue, does one write and one `fdatasync` for everything it took,
//! then raises the durable watermark and wakes every waiter.
//!
//! The writer also prepares the next segment ahead of time (created under a
//! temporary name, preallocated and synced), so rotation costs a rename,
//! not an allocation. When no next segment can be had, an append that might
//! need it is refused with [`AppendError::DiskFull`] before its closure
//! runs, and the next such append retries the allocation itself.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use parking_lot::{Condvar, Mutex};

use crate::codec;
use crate::error::{AppendError, Fatal};
use crate::segment::{self, SEGMENT_HEADER_LEN};
use crate::storage::{Storage, StorageFile};
use crate::{Stats, SyncPolicy};

/// A queued record's receipt: pass it to
/// [`Journal::wait_durable`](crate::Journal::wait_durable).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Ticket {
    /// The record's sequence number.
    pub seq: u64,
}

/// What appenders and the writer share.
pub(crate) struct Shared {
    pub(crate) storage: Arc<dyn Storage>,
    pub(crate) segment_size: u64,
    pub(crate) max_payload: usize,
    pub(crate) policy: SyncPolicy,
    pub(crate) queue: Mutex<Queue>,
    /// Wakes the writer: records queued, a spare wanted, a sync asked for,
    /// shutdown.
    pub(crate) work: Condvar,
    /// Wakes appenders waiting for the spare segment.
    pub(crate) spare_ready: Condvar,
    pub(crate) progress: Mutex<Progress>,
    /// Wakes `wait_durable` callers when `progress` moves.
    pub(crate) progress_moved: Condvar,
    /// Called by the writer after `progress` moved or the journal failed
    /// (see [`Journal::set_progress_hook`](crate::Journal::set_progress_hook)).
    pub(crate) hook: Mutex<Option<ProgressHook>>,
    pub(crate) counters: Counters,
}

/// What the writer calls when the watermark moves (or the journal fails).
pub type ProgressHook = Arc<dyn Fn() + Send + Sync>;

/// The queue lock's contents.
pub(crate) struct Queue {
    /// The last seq handed out.
    pub(crate) last_seq: u64,
    /// Encoded records not yet taken by the writer, one batch per segment.
    pub(crate) pending: Vec<Batch>,
    /// Bytes left in the segment the last queued record goes to.
    pub(crate) room: u64,
    pub(crate) spare: Spare,
    /// Numbers the temporary names of preallocated segments.
    pub(crate) prealloc_counter: u64,
    pub(crate) failed: Option<Fatal>,
    pub(crate) sync_wanted: bool,
    pub(crate) shutdown: bool,
    /// The writer is gathering a batch (see [`gather`]): it looks at the
    /// queue on its own clock, so appends need not wake it.
    pub(crate) gathering: bool,
}

/// Records for one segment.
pub(crate) struct Batch {
    /// Set when these records open a new segment: the preallocated file,
    /// its temporary name and the segment's first seq. `bytes` then starts
    /// with the segment header.
    new_segment: Option<(Box<dyn StorageFile>, String, u64)>,
    bytes: Vec<u8>,
    last_seq: u64,
}

/// The next segment.
pub(crate) enum Spare {
    /// Preallocated and synced under this temporary name.
    Ready(Box<dyn StorageFile>, String),
    /// The writer should prepare one.
    Wanted,
    /// The writer is preparing one.
    Preparing,
    /// The last attempt failed; the next append that needs it retries.
    Missing,
}

/// What the writer has done, under the progress lock.
pub(crate) struct Progress {
    /// Every record up to here was written to the OS.
    pub(crate) written: u64,
    /// Every record up to here was `fdatasync`ed.
    pub(crate) synced: u64,
    pub(crate) failed: Option<Fatal>,
    /// The segment being written and how far (for backups: bytes before
    /// this offset never change again).
    pub(crate) active_name: String,
    pub(crate) active_offset: u64,
}

/// Statistics counters. Each is only ever added to and read for
/// reporting, with no other memory depending on its value, so `Relaxed`
/// is enough everywhere.
#[derive(Default)]
pub(crate) struct Counters {
    batches: AtomicU64,
    records: AtomicU64,
    bytes: AtomicU64,
    syncs: AtomicU64,
}

impl Counters {
    pub(crate) fn snapshot(&self) -> Stats {
        Stats {
            // Relaxed: reporting only (see the type's comment).
            batches: self.batches.load(Ordering::Relaxed),
            records: self.records.load(Ordering::Relaxed),
            bytes: self.bytes.load(Ordering::Relaxed),
            syncs: self.syncs.load(Ordering::Relaxed),
        }
    }
}

impl Shared {
    /// Queues one record; see [`Journal::append`](crate::Journal::append).
    pub(crate) fn append(
        &self,
        map: u32,
        time_ms: u64,
        payload_fn: impl FnOnce(u64) -> Vec<u8>,
    ) -> Result<Ticket, AppendError> {
        let mut q = self.queue.lock();
        if let Some(fatal) = &q.failed {
            return Err(AppendError::Failed(fatal.clone()));
        }
        // Make sure the largest possible record has a place before running
        // the closure: it may change the caller's memory, so it must not
        // run for a record that is then refused.
        let max_frame = codec::frame_len(self.max_payload) as u64;
        if q.room < max_frame {
            self.ensure_spare(&mut q)?;
        }
        let seq = q.last_seq + 1;
        let payload = payload_fn(seq);
        if payload.len() > self.max_payload {
            return Err(AppendError::TooLarge {
                len: payload.len(),
                max: self.max_payload,
            });
        }
        q.last_seq = seq;
        let frame = codec::frame_len(payload.len()) as u64;
        if frame <= q.room {
            q.room -= frame;
            match q.pending.last_mut() {
                Some(batch) => {
                    codec::encode(seq, map, time_ms, &payload, &mut batch.bytes);
                    batch.last_seq = seq;
                }
                None => {
                    let mut bytes = Vec::with_capacity(frame as usize);
                    codec::encode(seq, map, time_ms, &payload, &mut bytes);
                    q.pending.push(Batch {
                        new_segment: None,
                        bytes,
                        last_seq: seq,
                    });
                }
            }
        } else {
            let Spare::Ready(file, tmp) = std::mem::replace(&mut q.spare, Spare::Wanted) else {
                unreachable!("ensure_spare left a ready spare");
            };
            let mut bytes = Vec::with_capacity(SEGMENT_HEADER_LEN + frame as usize);
            segment::encode_header(seq, &mut bytes);
            codec::encode(seq, map, time_ms, &payload, &mut bytes);
            q.room = self.segment_size - bytes.len() as u64;
            q.pending.push(Batch {
                new_segment: Some((file, tmp, seq)),
                bytes,
                last_seq: seq,
            });
        }
        let gathering = q.gathering;
        drop(q);
        if !gathering {
            self.work.notify_one();
        }
        Ok(Ticket { seq })
    }

    /// Waits until a preallocated segment is ready, or allocates one here
    /// if the writer's last attempt failed.
    fn ensure_spare(&self, q: &mut parking_lot::MutexGuard<'_, Queue>) -> Result<(), AppendError> {
        loop {
            match q.spare {
                Spare::Ready(..) => return Ok(()),
                Spare::Wanted | Spare::Preparing => {
                    self.work.notify_one();
                    self.spare_ready.wait(q);
                    if let Some(fatal) = &q.failed {
                        return Err(AppendError::Failed(fatal.clone()));
                    }
                }
                Spare::Missing => {
                    q.prealloc_counter += 1;
                    match prepare_spare(&*self.storage, self.segment_size, q.prealloc_counter) {
                        Ok((file, name)) => q.spare = Spare::Ready(file, name),
                        Err(e) if e.kind() == std::io::ErrorKind::StorageFull => {
                            return Err(AppendError::DiskFull);
                        }
                        Err(e) => return Err(AppendError::Allocate(e.to_string())),
                    }
                }
            }
        }
    }

    /// Blocks until record `ticket.seq` is acknowledged under the policy.
    pub(crate) fn wait_durable(&self, ticket: Ticket) -> Result<(), Fatal> {
        let mut p = self.progress.lock();
        loop {
            let acked = match self.policy {
                SyncPolicy::Always => p.synced,
                SyncPolicy::Interval(_) | SyncPolicy::Never => p.written,
            };
            if acked >= ticket.seq {
                return Ok(());
            }
            if let Some(fatal) = &p.failed {
                return Err(fatal.clone());
            }
            self.progress_moved.wait(&mut p);
        }
    }

    /// The acknowledged watermark: every record up to it may be
    /// acknowledged under the policy (as [`wait_durable`](Self::wait_durable)
    /// would for it), or the journal's failure.
    pub(crate) fn acknowledged(&self) -> Result<u64, Fatal> {
        let p = self.progress.lock();
        if let Some(fatal) = &p.failed {
            return Err(fatal.clone());
        }
        Ok(match self.policy {
            SyncPolicy::Always => p.synced,
            SyncPolicy::Interval(_) | SyncPolicy::Never => p.written,
        })
    }

    /// Calls the progress hook, if one is set. The hook is cloned out
    /// first, so it runs without the lock (it may take its time, or set
    /// another hook).
    fn call_hook(&self) {
        let hook = self.hook.lock().clone();
        if let Some(hook) = hook {
            hook();
        }
    }

    /// Forces an `fdatasync` of everything appended so far, whatever the
    /// policy, and waits for it.
    pub(crate) fn sync(&self) -> Result<(), Fatal> {
        let target = {
            let mut q = self.queue.lock();
            if let Some(fatal) = &q.failed {
                return Err(fatal.clone());
            }
            q.sync_wanted = true;
            q.last_seq
        };
        self.work.notify_one();
        let mut p = self.progress.lock();
        while p.synced < target {
            if let Some(fatal) = &p.failed {
                return Err(fatal.clone());
            }
            self.progress_moved.wait(&mut p);
        }
        Ok(())
    }

    /// Fail-stop: records the error for every appender and waiter.
    fn fail(&self, what: &str, e: std::io::Error) {
        let fatal = Fatal::new(format!("{what}: {e}"));
        self.queue.lock().failed = Some(fatal.clone());
        self.progress.lock().failed = Some(fatal);
        self.progress_moved.notify_all();
        self.spare_ready.notify_all();
        self.call_hook();
    }
}

/// Creates, preallocates and syncs a segment under a temporary name.
fn prepare_spare(
    storage: &dyn Storage,
    size: u64,
    n: u64,
) -> std::io::Result<(Box<dyn StorageFile>, String)> {
    let name = format!("prealloc-{n:020}.tmp");
    let result = storage.create(&name).and_then(|mut file| {
        file.allocate(size)?;
        file.sync_data()?;
        Ok(file)
    });
    match result {
        Ok(file) => Ok((file, name)),
        Err(e) => {
            // Give back whatever was allocated; the error is what matters.
            let _ = storage.remove(&name);
            Err(e)
        }
    }
}

/// The segment the writer appends to.
pub(crate) struct Active {
    pub(crate) file: Box<dyn StorageFile>,
    pub(crate) name: String,
    pub(crate) offset: u64,
}

/// A pause in arrivals this long ends a [`gather`].
const GATHER_GAP: Duration = Duration::from_micros(50);

/// What the last synced round was like, for [`gather`].
#[derive(Default)]
struct LastRound {
    records: u64,
    sync_time: Duration,
}

/// Under [`SyncPolicy::Always`], when the last round synced more than one
/// record (more than one client is waiting on syncs): before taking the
/// queue, waits while records keep arriving (no pause of
/// [`GATHER_GAP`]), for at most half the last sync's time. Without it,
/// the clients whose replies a sync released send their next requests
/// while the next sync already runs for whoever came first, and the
/// clients settle into two groups that alternate, each sync taking about
/// half of them; gathering lets the late half join. One client (a last
/// round of one record) never waits. Correctness does not depend on it:
/// it only delays a write.
fn gather(shared: &Shared, q: &mut parking_lot::MutexGuard<'_, Queue>, last: &LastRound) {
    if shared.policy != SyncPolicy::Always || last.records <= 1 {
        return;
    }
    let deadline = Instant::now() + last.sync_time / 2;
    q.gathering = true;
    let mut seen = q.last_seq;
    while !q.shutdown && !q.sync_wanted && !matches!(q.spare, Spare::Wanted) {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            break;
        }
        shared.work.wait_for(q, GATHER_GAP.min(left));
        if q.last_seq == seen {
            break;
        }
        seen = q.last_seq;
    }
    q.gathering = false;
}

/// The writer thread's body.
pub(crate) fn run(shared: Arc<Shared>, mut active: Active) {
    let mut last_sync = Instant::now();
    let mut written = shared.progress.lock().written;
    let mut synced = written;
    let mut last_round = LastRound::default();
    loop {
        let (batches, prepare, force_sync, exit) = {
            let mut q = shared.queue.lock();
            loop {
                if !q.pending.is_empty()
                    || q.shutdown
                    || q.sync_wanted
                    || matches!(q.spare, Spare::Wanted)
                {
                    break;
                }
                match shared.policy {
                    SyncPolicy::Interval(every) if written > synced => {
                        let left = every.saturating_sub(last_sync.elapsed());
                        if left == Duration::ZERO {
                            break;
                        }
                        shared.work.wait_for(&mut q, left);
                    }
                    _ => shared.work.wait(&mut q),
                }
            }
            if !q.pending.is_empty() {
                gather(&shared, &mut q, &last_round);
            }
            let prepare = matches!(q.spare, Spare::Wanted);
            if prepare {
                q.spare = Spare::Preparing;
            }
            let force_sync = std::mem::take(&mut q.sync_wanted);
            (
                std::mem::take(&mut q.pending),
                prepare,
                force_sync,
                q.shutdown,
            )
        };
        match write_batches(&shared, &mut active, batches, &mut written) {
            // A round that ended by opening a segment has synced it already.
            Ok(true) => synced = written,
            Ok(false) => {}
            Err((what, e)) => return shared.fail(what, e),
        }
        let due = match shared.policy {
            SyncPolicy::Always => true,
            SyncPolicy::Interval(every) => last_sync.elapsed() >= every,
            SyncPolicy::Never => false,
        };
        if written > synced && (due || force_sync || exit) {
            let started = Instant::now();
            if let Err(e) = active.file.sync_data() {
                return shared.fail("fdatasync of the journal failed", e);
            }
            last_round = LastRound {
                records: written - synced,
                sync_time: started.elapsed(),
            };
            // Relaxed: a statistics counter (see `Counters`).
            shared.counters.syncs.fetch_add(1, Ordering::Relaxed);
            synced = written;
            last_sync = Instant::now();
        }
        {
            let mut p = shared.progress.lock();
            p.written = written;
            p.synced = synced;
            p.active_name.clone_from(&active.name);
            p.active_offset = active.offset;
        }
        shared.progress_moved.notify_all();
        shared.call_hook();
        if exit {
            if let Spare::Ready(_, name) =
                std::mem::replace(&mut shared.queue.lock().spare, Spare::Missing)
            {
                // Tidy only: open removes leftover temporary files anyway.
                let _ = shared.storage.remove(&name);
            }
            return;
        }
        if prepare {
            let n = {
                let mut q = shared.queue.lock();
                q.prealloc_counter += 1;
                q.prealloc_counter
            };
            let spare = prepare_spare(&*shared.storage, shared.segment_size, n);
            let mut q = shared.queue.lock();
            q.spare = match spare {
                Ok((file, name)) => Spare::Ready(file, name),
                Err(_) => Spare::Missing,
            };
            drop(q);
            shared.spare_ready.notify_all();
        }
    }
}

/// Writes the drained batches: one write per segment touched. Rotation
/// syncs the old segment before the new one is named, so a segment that
/// exists on disk always follows a complete one (see docs/design.md), and
/// syncs the new one with the directory. Returns whether everything
/// written is synced already (the last batch opened a segment).
fn write_batches(
    shared: &Shared,
    active: &mut Active,
    batches: Vec<Batch>,
    written: &mut u64,
) -> Result<bool, (&'static str, std::io::Error)> {
    let Some(last_seq) = batches.last().map(|b| b.last_seq) else {
        return Ok(false);
    };
    let all_synced = batches.last().is_some_and(|b| b.new_segment.is_some());
    let records = last_seq - *written;
    let mut bytes = 0;
    for batch in batches {
        if let Some((file, tmp, first_seq)) = batch.new_segment {
            active
                .file
                .sync_data()
                .map_err(|e| ("fdatasync of a full segment failed", e))?;
            let name = segment::name(first_seq);
            shared
                .storage
                .rename(&tmp, &name)
                .map_err(|e| ("renaming a new segment failed", e))?;
            *active = Active {
                file,
                name,
                offset: 0,
            };
            active
                .file
                .write_at(0, &batch.bytes)
                .map_err(|e| ("journal write failed", e))?;
            active
                .file
                .sync_data()
                .map_err(|e| ("fdatasync of a new segment failed", e))?;
            shared
                .storage
                .sync_dir()
                .map_err(|e| ("fsync of the data directory failed", e))?;
        } else {
            active
                .file
                .write_at(active.offset, &batch.bytes)
                .map_err(|e| ("journal write failed", e))?;
        }
        active.offset += batch.bytes.len() as u64;
        bytes += batch.bytes.len() as u64;
    }
    *written = last_seq;
    // Relaxed: statistics counters (see `Counters`).
    shared.counters.batches.fetch_add(1, Ordering::Relaxed);
    shared
        .counters
        .records
        .fetch_add(records, Ordering::Relaxed);
    shared.counters.bytes.fetch_add(bytes, Ordering::Relaxed);
    if all_synced {
        // Relaxed: a statistics counter (see `Counters`).
        shared.counters.syncs.fetch_add(1, Ordering::Relaxed);
    }
    Ok(all_synced)
}

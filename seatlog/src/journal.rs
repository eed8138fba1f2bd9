//! [`Journal`]: opening a data directory, appending, snapshots, backup.

use std::path::Path;
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

use parking_lot::{Condvar, Mutex};

use crate::codec::{self, Record};
use crate::error::{AppendError, Error, Fatal};
use crate::meta;
use crate::recovery::{self, TornTail};
use crate::segment::{self, SEGMENT_HEADER_LEN};
use crate::snapshot;
use crate::storage::{DirStorage, Storage};
use crate::writer::{self, Active, Counters, Progress, ProgressHook, Queue, Shared, Spare, Ticket};

/// When the writer calls `fdatasync`, and so when `wait_durable` returns.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SyncPolicy {
    /// After every batch; `wait_durable` returns once the record is synced.
    /// A process crash or a power loss loses only unacknowledged records.
    Always,
    /// On a timer; `wait_durable` returns once the record is written to
    /// the OS. A process crash loses nothing acknowledged (the kernel has
    /// it); a power loss loses up to the last interval of acknowledged
    /// records.
    Interval(Duration),
    /// Never, except at rotation, `sync`, snapshots and close;
    /// `wait_durable` returns once written to the OS. A process crash loses
    /// nothing acknowledged; a power loss loses whatever the kernel had not
    /// written back (up to about 30 s on Linux defaults).
    Never,
}

/// How to open a journal.
#[derive(Debug, Clone)]
pub struct Options {
    /// What the directory holds, e.g. `seats=100`: stored in `META` at
    /// creation, and opening with another is [`Error::MetaMismatch`].
    pub descriptor: String,
    /// Preallocated size of each segment, in bytes (default 64 MiB).
    pub segment_size: u64,
    /// Largest payload, in bytes (default 1 MiB).
    pub max_record_size: usize,
    /// When to sync (default [`SyncPolicy::Always`]).
    pub sync: SyncPolicy,
}

impl Options {
    /// The defaults, for a directory described by `descriptor`.
    pub fn new(descriptor: impl Into<String>) -> Options {
        Options {
            descriptor: descriptor.into(),
            segment_size: 64 << 20,
            max_record_size: 1 << 20,
            sync: SyncPolicy::Always,
        }
    }
}

/// Counters since open; mean batch size is `records / batches`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Stats {
    /// Writer rounds that wrote records (one write per segment touched).
    pub batches: u64,
    /// Records written.
    pub records: u64,
    /// Bytes written.
    pub bytes: u64,
    /// `fdatasync` calls on the journal after writes.
    pub syncs: u64,
}

/// A snapshot as recovered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Snapshot {
    /// The last record it covers.
    pub seq: u64,
    /// The caller's bytes.
    pub bytes: Vec<u8>,
}

/// What `open` found: start from `snapshot`, then apply `records`.
#[derive(Debug)]
pub struct Recovered {
    /// The newest valid snapshot.
    pub snapshot: Option<Snapshot>,
    /// Every record after the snapshot, in seq order, without gaps.
    pub records: Vec<Record>,
    /// Loud warnings (a newest snapshot that was invalid and skipped).
    pub warnings: Vec<String>,
    /// A torn tail that was dropped, if any.
    pub torn_tail: Option<TornTail>,
}

/// A durable, append-only journal of opaque records. See the crate docs.
pub struct Journal {
    shared: Arc<Shared>,
    writer: Option<JoinHandle<()>>,
    /// Serialises snapshots and backups (a backup must not see segments
    /// vanish under it).
    maintenance: Mutex<()>,
    _lock: Box<dyn Send + Sync>,
}

impl Journal {
    /// Opens (or creates) the journal in directory `dir` on disk.
    pub fn open(dir: impl AsRef<Path>, options: Options) -> Result<(Journal, Recovered), Error> {
        let dir = dir.as_ref();
        let storage = DirStorage::new(dir)
            .map_err(|e| Error::io(format!("use {} as a data directory", dir.display()), e))?;
        Journal::open_in(Arc::new(storage), options)
    }

    /// Opens (or creates) the journal in `storage`.
    pub fn open_in(
        storage: Arc<dyn Storage>,
        options: Options,
    ) -> Result<(Journal, Recovered), Error> {
        let min = SEGMENT_HEADER_LEN + codec::frame_len(options.max_record_size);
        if options.segment_size < min as u64 {
            return Err(Error::InvalidOptions(format!(
                "segment size {} cannot hold one record of the maximum size ({min} bytes)",
                options.segment_size
            )));
        }
        let dir = storage.describe();
        let lock = meta::lock(&*storage)?;
        let files = recovery::classify(&*storage)?;
        meta::check_or_create(
            &*storage,
            &options.descriptor,
            !files.segments.is_empty() || !files.snapshots.is_empty(),
        )?;
        let scan = recovery::scan(&*storage, options.max_record_size, true)?;
        if !scan.files.temps.is_empty() {
            for name in &scan.files.temps {
                storage
                    .remove(name)
                    .map_err(|e| Error::io(format!("remove {dir}/{name}"), e))?;
            }
            storage
                .sync_dir()
                .map_err(|e| Error::io(format!("sync {dir}"), e))?;
        }
        let last_seq = scan.last_seq;
        let active = match scan.segments.last() {
            Some(seg) if seg.first_seq + seg.records == last_seq + 1 => {
                let file = storage
                    .open(&seg.name)
                    .map_err(|e| Error::io(format!("open {dir}/{}", seg.name), e))?;
                Active {
                    file,
                    name: seg.name.clone(),
                    offset: seg.end_offset,
                }
            }
            // No segment, or the snapshot is ahead of the last one: start a
            // new segment right after the last seq.
            _ => create_segment(&*storage, last_seq + 1, options.segment_size)?,
        };
        let room = active
            .file
            .size()
            .map_err(|e| Error::io(format!("stat {dir}/{}", active.name), e))?
            .saturating_sub(active.offset);
        let shared = Arc::new(Shared {
            storage,
            segment_size: options.segment_size,
            max_payload: options.max_record_size,
            policy: options.sync,
            queue: Mutex::new(Queue {
                last_seq,
                pending: Vec::new(),
                room,
                spare: Spare::Wanted,
                prealloc_counter: 0,
                failed: None,
                sync_wanted: false,
                shutdown: false,
                gathering: false,
            }),
            work: Condvar::new(),
            spare_ready: Condvar::new(),
            progress: Mutex::new(Progress {
                written: last_seq,
                synced: last_seq,
                failed: None,
                active_name: active.name.clone(),
                active_offset: active.offset,
            }),
            progress_moved: Condvar::new(),
            hook: Mutex::new(None),
            counters: Counters::default(),
        });
        let writer = {
            let shared = shared.clone();
            std::thread::Builder::new()
                .name("seatlog-writer".to_string())
                .spawn(move || writer::run(shared, active))
                .map_err(|e| Error::io("start the journal writer thread", e))?
        };
        let recovered = Recovered {
            snapshot: scan.snapshot.map(|(seq, bytes)| Snapshot { seq, bytes }),
            records: scan.records,
            warnings: scan.warnings,
            torn_tail: scan.torn_tail,
        };
        let journal = Journal {
            shared,
            writer: Some(writer),
            maintenance: Mutex::new(()),
            _lock: lock,
        };
        Ok((journal, recovered))
    }

    /// Queues a record and returns its ticket; it is durable once
    /// [`Journal::wait_durable`] returns for the ticket.
    ///
    /// `payload_fn` is called with the record's seq while the queue lock is
    /// held, so records are queued (and written) in seq order: whatever
    /// the closure does happens in seq order too. It must return at most
    /// `max_record_size` bytes (otherwise the record is refused with
    /// `TooLarge` after the closure ran, and no seq is used), must be
    /// quick, and must not call back into the journal.
    ///
    /// `DiskFull` is returned before the closure runs.
    pub fn append(
        &self,
        map: u32,
        time_ms: u64,
        payload_fn: impl FnOnce(u64) -> Vec<u8>,
    ) -> Result<Ticket, AppendError> {
        self.shared.append(map, time_ms, payload_fn)
    }

    /// Blocks until the ticket's record (and so every record before it) is
    /// acknowledged under the sync policy: synced for `Always`, written to
    /// the OS otherwise. Once the journal has failed, every record not yet
    /// acknowledged gets the [`Fatal`] error.
    pub fn wait_durable(&self, ticket: Ticket) -> Result<(), Fatal> {
        self.shared.wait_durable(ticket)
    }

    /// The acknowledged watermark: every record up to this seq is durable
    /// under the sync policy (what [`Journal::wait_durable`] waits for), or
    /// the journal's failure. For callers that do not block on each
    /// ticket: they hold replies back and release every one whose ticket
    /// is at or below this, when the progress hook says it moved.
    pub fn acknowledged(&self) -> Result<u64, Fatal> {
        self.shared.acknowledged()
    }

    /// Sets (or, with `None`, clears) a function the writer thread calls
    /// after each round that may have moved the [acknowledged]
    /// watermark, and when the journal fails. It runs on the writer
    /// thread with no lock held, before the writer's next round, so it
    /// must be quick: waking the thread that releases replies is what it is
    /// for.
    ///
    /// [acknowledged]: Journal::acknowledged
    pub fn set_progress_hook(&self, hook: Option<ProgressHook>) {
        *self.shared.hook.lock() = hook;
    }

    /// Syncs everything appended so far, whatever the policy.
    pub fn sync(&self) -> Result<(), Fatal> {
        self.shared.sync()
    }

    /// The last seq handed out (0 for an empty journal).
    pub fn last_seq(&self) -> u64 {
        self.shared.queue.lock().last_seq
    }

    /// Counters since open.
    pub fn stats(&self) -> Stats {
        self.shared.counters.snapshot()
    }

    /// Stores `bytes` as the state after record `seq` (which must have been
    /// appended), durably, then drops what recovery no longer needs.
    ///
    /// The journal is synced through `seq` first, so records never have a
    /// gap before the snapshot. The two newest snapshots are kept (the
    /// older is the fallback if the newer is found corrupt), with every
    /// segment after the older one; older snapshots and segments wholly
    /// covered by the older snapshot are removed.
    pub fn write_snapshot(&self, seq: u64, bytes: &[u8]) -> Result<(), Error> {
        let last = self.last_seq();
        if seq > last {
            return Err(Error::SnapshotPastEnd { seq, last });
        }
        self.sync().map_err(Error::Failed)?;
        let _maintenance = self.maintenance.lock();
        let storage = &*self.shared.storage;
        snapshot::write(storage, seq, bytes)?;
        let files = recovery::classify(storage)?;
        let keep_from = match files.snapshots.len() {
            0 | 1 => return Ok(()),
            n => files.snapshots[n - 2],
        };
        let mut doomed: Vec<String> = files
            .snapshots
            .iter()
            .filter(|&&s| s < keep_from)
            .map(|&s| snapshot::name(s))
            .collect();
        // A segment is covered when the next one starts at or before
        // keep_from + 1. The last segment is never removed.
        for pair in files.segments.windows(2) {
            if pair[1] <= keep_from + 1 {
                doomed.push(segment::name(pair[0]));
            }
        }
        let dir = storage.describe();
        for name in &doomed {
            storage
                .remove(name)
                .map_err(|e| Error::io(format!("remove {dir}/{name}"), e))?;
        }
        storage
            .sync_dir()
            .map_err(|e| Error::io(format!("sync {dir}"), e))
    }

    /// Copies the data directory to `dest` (a new or empty directory on
    /// disk) while the journal keeps running. The copy holds `META`, every
    /// snapshot, and every segment up to the bytes written when the copy
    /// began; opening it recovers that state. Snapshots wait for it.
    pub fn backup_to(&self, dest: impl AsRef<Path>) -> Result<(), Error> {
        let dest = dest.as_ref();
        let _maintenance = self.maintenance.lock();
        let (active_name, active_offset) = {
            let p = self.shared.progress.lock();
            (p.active_name.clone(), p.active_offset)
        };
        let out = DirStorage::new(dest)
            .map_err(|e| Error::io(format!("create backup directory {}", dest.display()), e))?;
        let out_dir = out.describe();
        if !recovery::classify(&out)?.segments.is_empty()
            || out
                .list()
                .map_err(|e| Error::io(format!("list {out_dir}"), e))?
                .iter()
                .any(|n| n == meta::META_FILE)
        {
            return Err(Error::io(
                format!("back up into {out_dir}"),
                std::io::Error::new(
                    std::io::ErrorKind::AlreadyExists,
                    "it already holds a journal",
                ),
            ));
        }
        let storage = &*self.shared.storage;
        let dir = storage.describe();
        let files = recovery::classify(storage)?;
        let active_first = segment::parse_name(&active_name).unwrap_or(u64::MAX);
        let mut names = vec![meta::META_FILE.to_string()];
        names.extend(files.snapshots.iter().map(|&s| snapshot::name(s)));
        names.extend(
            files
                .segments
                .iter()
                .filter(|&&s| s <= active_first)
                .map(|&s| segment::name(s)),
        );
        for name in names {
            let mut bytes = storage
                .open(&name)
                .and_then(|f| f.read_all())
                .map_err(|e| Error::io(format!("read {dir}/{name}"), e))?;
            if name == active_name {
                // Bytes past this offset may be mid-write: leave them out.
                bytes.truncate(active_offset as usize);
            }
            let io = |e| Error::io(format!("write {out_dir}/{name}"), e);
            let mut file = out.create(&name).map_err(io)?;
            file.write_at(0, &bytes).map_err(io)?;
            file.sync_data().map_err(io)?;
        }
        out.sync_dir()
            .map_err(|e| Error::io(format!("sync {out_dir}"), e))
    }
}

/// Creates segment `first_seq` directly under its final name: header,
/// preallocation, sync, directory sync.
fn create_segment(storage: &dyn Storage, first_seq: u64, size: u64) -> Result<Active, Error> {
    let name = segment::name(first_seq);
    let io = |e| Error::io(format!("create {}/{name}", storage.describe()), e);
    let mut file = storage.create(&name).map_err(io)?;
    let mut header = Vec::new();
    segment::encode_header(first_seq, &mut header);
    file.allocate(size).map_err(io)?;
    file.write_at(0, &header).map_err(io)?;
    file.sync_data().map_err(io)?;
    storage.sync_dir().map_err(io)?;
    Ok(Active {
        file,
        name,
        offset: header.len() as u64,
    })
}

impl Drop for Journal {
    /// Writes and syncs what is queued, then stops the writer.
    fn drop(&mut self) {
        self.shared.queue.lock().shutdown = true;
        self.shared.work.notify_one();
        if let Some(writer) = self.writer.take() {
            // A panicked writer has nothing left to clean up.
            let _ = writer.join();
        }
    }
}

impl std::fmt::Debug for Journal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Journal")
            .field("dir", &self.shared.storage.describe())
            .field("last_seq", &self.last_seq())
            .finish()
    }
}

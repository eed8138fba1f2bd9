//! [`ClusterLog`]: the journal of a cluster node. Every map's records go
//! to etcd, one fenced transaction per batch, before any reply that
//! reports them is sent (`docs/cluster.md`, "The write path").
//!
//! It offers the request paths what `seatlog`'s journal offers them
//! (`durable/log.rs` puts the two behind one type): `append` hands out a
//! node-wide ticket under the queue lock, calling the change's closure
//! there, and one **committer thread** takes everything queued, groups it
//! by map and commits it with [`seatcluster::Committer::commit`], the one
//! transaction in flight. The acknowledged watermark then passes the
//! batch, and the progress hook wakes the poller, which releases the held
//! replies.
//!
//! Two sequences: the node-wide ticket (what replies wait for, and the
//! seq a change's closure and the id table see), and each map's own
//! sequence in etcd (`log/<map>/<seq>`), continued by whichever node owns
//! the map. A map is registered here (with its fence and its next seq)
//! when the node gains it, and unregistered when it loses it; an append
//! for a map that is not registered is refused
//! ([`AppendError::Unavailable`]), so a request still running on a map
//! this node has just lost can never queue a record under a newer fence.
//!
//! **Records not committed.** When a map's fence fails (another node owns
//! it now), or the batch cannot be committed before the node stops, its
//! records are *lost*: the watermark still passes them (later batches
//! must not wait for them), but their tickets are remembered, and the
//! poller closes a connection whose held replies include one
//! ([`ClusterLog::lost_between`]) instead of sending them. The client
//! sees a lost connection and retries with its request id on the map's
//! new owner. A transient error (etcd unreachable, an outcome unknown)
//! retries the identical batch until it commits or its fence fails; see
//! `docs/cluster.md`, "Unknown outcomes". Once the node cannot prove its
//! lease, the replies of that batch and of every record queued behind it
//! are *abandoned* (settled as lost) while the batch is still retried; a
//! ticket abandoned whose batch commits after all stops counting as lost.

use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use parking_lot::{Condvar, Mutex};
use seatcluster::{Committer, Fence, MapRecords, Outcome, Record};
use seatlog::{AppendError, Fatal, ProgressHook, Stats, Ticket};
use tracing::{debug, warn};

use crate::inventory::MapState;

/// Largest record a change may write (a record of a thousand-seat request
/// is a few kilobytes); well inside one etcd value.
pub(crate) const MAX_RECORD: usize = 256 << 10;

/// Most records queued and not yet committed; beyond it appends are
/// refused (`ERR no-owner`, retry) so a stalled etcd cannot grow memory
/// without bound.
const MAX_QUEUED: usize = 200_000;

/// Tickets of lost records remembered (for the poller's check); a held
/// reply older than all of them counts as lost too (safe: the connection
/// is closed and the client retries with its id).
const LOST_REMEMBERED: usize = 1 << 20;

/// How long the committer waits for the next record while gathering a
/// batch: a client's next request, sent when its reply arrives, takes
/// about a tenth of a millisecond on loopback.
const GATHER_PAUSE: Duration = Duration::from_micros(200);

/// The longest the committer gathers a batch.
const MAX_GATHER: Duration = Duration::from_millis(5);

/// A map's snapshot is written to etcd after this many committed log
/// entries since the last one (`docs/cluster.md`, "Snapshots and log
/// trimming"), so a takeover reads at most about this many entries.
pub(crate) const SNAPSHOT_EVERY_ENTRIES: u64 = 1000;

/// Whether the node can still prove it holds its lease.
pub(crate) type Liveness = Box<dyn Fn() -> bool + Send + Sync>;

/// The journal of a cluster node: see the module docs.
pub(crate) struct ClusterLog {
    shared: Arc<Shared>,
    thread: Mutex<Option<JoinHandle<()>>>,
}

impl std::fmt::Debug for ClusterLog {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClusterLog").finish_non_exhaustive()
    }
}

struct Shared {
    queue: Mutex<Queue>,
    /// Signalled when records are queued or the log stops.
    work: Condvar,
    progress: Mutex<Progress>,
    /// Signalled when the watermark moves (for `wait_durable`).
    progressed: Condvar,
    hook: Mutex<Option<ProgressHook>>,
    committer: OnceLock<Committer>,
    /// The maps of the batch being committed (set under the queue lock
    /// when the batch is taken, so a map's records are always either
    /// queued or here until settled).
    in_flight: Mutex<Vec<Arc<str>>>,
    /// Whether the node still proves its lease (`Node::is_live`): a batch
    /// still failing after that has its replies abandoned.
    live: OnceLock<Liveness>,
    /// Statistics only: Relaxed, read by `STATS` with no other data.
    batches: AtomicU64,
    records: AtomicU64,
    bytes: AtomicU64,
}

/// What appenders and the committer thread share.
#[derive(Default)]
struct Queue {
    /// The last node-wide ticket handed out.
    last_seq: u64,
    pending: Vec<Pending>,
    /// The maps this node serves now, by the catalog's id of their
    /// current state (a map gained again gets a new id).
    maps: HashMap<u32, Registered>,
    stop: bool,
}

/// A map this node owns.
struct Registered {
    name: Arc<str>,
    fence: Fence,
    /// The map's next seq in etcd.
    next_seq: u64,
    /// Log entries committed since its last snapshot in etcd.
    entries_since_snapshot: u64,
    /// Its state, for snapshots.
    state: Arc<MapState>,
}

/// One queued record.
struct Pending {
    ticket: u64,
    map: u32,
    name: Arc<str>,
    fence: Fence,
    map_seq: u64,
    /// When the change was made, ms since the Unix epoch.
    time_ms: u64,
    /// The change (`durable/record.rs`).
    change: Vec<u8>,
}

impl Pending {
    /// The record as etcd keeps it: the time (u64, little-endian), then
    /// the change. Built by the committer thread, not under the queue
    /// lock the workers append under.
    fn record(self) -> Record {
        let mut bytes = Vec::with_capacity(8 + self.change.len());
        bytes.extend_from_slice(&self.time_ms.to_le_bytes());
        bytes.extend_from_slice(&self.change);
        Record {
            seq: self.map_seq,
            bytes,
        }
    }
}

/// The watermark and the tickets that never committed.
#[derive(Default)]
struct Progress {
    acknowledged: u64,
    /// Lost tickets, ascending.
    lost: VecDeque<u64>,
    /// Tickets below this may have been lost and forgotten.
    forgotten_below: u64,
}

impl ClusterLog {
    /// A log with no map registered and no committer yet: appends queue,
    /// and are committed once [`start`](Self::start) gives the committer.
    pub(crate) fn new() -> Arc<ClusterLog> {
        Arc::new(ClusterLog {
            shared: Arc::new(Shared {
                queue: Mutex::new(Queue::default()),
                work: Condvar::new(),
                progress: Mutex::new(Progress::default()),
                progressed: Condvar::new(),
                hook: Mutex::new(None),
                committer: OnceLock::new(),
                in_flight: Mutex::new(Vec::new()),
                live: OnceLock::new(),
                batches: AtomicU64::new(0),
                records: AtomicU64::new(0),
                bytes: AtomicU64::new(0),
            }),
            thread: Mutex::new(None),
        })
    }

    /// Starts the committer thread with the node's committer, and what
    /// says whether the node still proves its lease.
    pub(crate) fn start(&self, committer: Committer, live: Liveness) -> std::io::Result<()> {
        let _ = self.shared.committer.set(committer);
        let _ = self.shared.live.set(live);
        let shared = Arc::clone(&self.shared);
        let thread = std::thread::Builder::new()
            .name("seatnet-committer".into())
            .spawn(move || run(&shared))?;
        *self.thread.lock() = Some(thread);
        Ok(())
    }

    /// Commits what is queued, then stops the committer thread (a batch
    /// that cannot commit within `patience` is given up: lost).
    pub(crate) fn stop(&self) {
        self.shared.queue.lock().stop = true;
        self.shared.work.notify_all();
        if let Some(thread) = self.thread.lock().take() {
            let _ = thread.join();
        }
    }

    /// Serves `state` (the map `name`, gained under `fence`) from now on:
    /// its next record gets seq `next_seq` in etcd. `backlog` is how many
    /// log entries the takeover read after the snapshot (a snapshot comes
    /// sooner when it was long).
    pub(crate) fn register(
        &self,
        name: &str,
        fence: Fence,
        next_seq: u64,
        backlog: u64,
        state: Arc<MapState>,
    ) {
        let mut queue = self.shared.queue.lock();
        queue.maps.retain(|_, r| &*r.name != name);
        queue.maps.insert(
            state.id,
            Registered {
                name: name.into(),
                fence,
                next_seq,
                entries_since_snapshot: backlog,
                state,
            },
        );
    }

    /// Whether records of the map `name` are queued or being committed. A
    /// map this node has just dropped is not gained again until they are
    /// settled: gained again under the same owner key (a hand-back whose
    /// release failed), it would share their fence, and a late commit of
    /// theirs would land after the map was read back from etcd.
    pub(crate) fn has_unsettled(&self, name: &str) -> bool {
        let queue = self.shared.queue.lock();
        queue.pending.iter().any(|p| &*p.name == name)
            || self.shared.in_flight.lock().iter().any(|n| &**n == name)
    }

    /// Stops taking records for the map `name` (lost, or given up).
    /// Records already queued are still sent, under their fence: they
    /// commit only if the node still owned the map.
    pub(crate) fn unregister(&self, name: &str) {
        let _ = self.close_map(name);
    }

    /// Stops taking records for the map `name` and returns the last
    /// ticket handed out: once the watermark passes it, every record of
    /// the map is committed or lost (the hand-back waits for that).
    pub(crate) fn close_map(&self, name: &str) -> u64 {
        let mut queue = self.shared.queue.lock();
        queue.maps.retain(|_, r| &*r.name != name);
        queue.last_seq
    }

    /// Waits until the watermark reaches `ticket`, for at most `patience`;
    /// whether it did.
    pub(crate) fn wait_for(&self, ticket: u64, patience: Duration) -> bool {
        let deadline = Instant::now() + patience;
        let mut progress = self.shared.progress.lock();
        while progress.acknowledged < ticket {
            if self
                .shared
                .progressed
                .wait_until(&mut progress, deadline)
                .timed_out()
            {
                return progress.acknowledged >= ticket;
            }
        }
        true
    }

    /// Queues a record of map `map` (the catalog's id of its state): see
    /// [`seatlog::Journal::append`], whose contract this keeps (the
    /// closure runs under the queue lock, so records are queued in ticket
    /// order and, per map, in seq order).
    pub(crate) fn append(
        &self,
        map: u32,
        time_ms: u64,
        payload: impl FnOnce(u64) -> Vec<u8>,
    ) -> Result<Ticket, AppendError> {
        let mut queue = self.shared.queue.lock();
        if queue.pending.len() >= MAX_QUEUED {
            return Err(AppendError::Unavailable(
                "this node's changes are not reaching etcd fast enough; nothing was changed, retry in a second"
                    .into(),
            ));
        }
        let ticket = queue.last_seq + 1;
        let Some(registered) = queue.maps.get_mut(&map) else {
            return Err(AppendError::Unavailable(
                "the map left this node during the request (another node owns it now, or this node cannot reach etcd); nothing was changed, retry in a second"
                    .into(),
            ));
        };
        let change = payload(ticket);
        if change.len() > MAX_RECORD {
            return Err(AppendError::TooLarge {
                len: change.len(),
                max: MAX_RECORD,
            });
        }
        let pending = Pending {
            ticket,
            map,
            name: Arc::clone(&registered.name),
            fence: registered.fence,
            map_seq: registered.next_seq,
            time_ms,
            change,
        };
        registered.next_seq += 1;
        queue.last_seq = ticket;
        queue.pending.push(pending);
        drop(queue);
        self.shared.work.notify_one();
        Ok(Ticket { seq: ticket })
    }

    /// Blocks until `ticket` is committed.
    ///
    /// # Errors
    ///
    /// If it was lost (never committed): it must not be acknowledged.
    pub(crate) fn wait_durable(&self, ticket: Ticket) -> Result<(), Fatal> {
        let mut progress = self.shared.progress.lock();
        while progress.acknowledged < ticket.seq {
            self.shared.progressed.wait(&mut progress);
        }
        if progress.was_lost(ticket.seq, ticket.seq) {
            return Err(Fatal::new(format!(
                "change {} was not committed to etcd (its map left this node)",
                ticket.seq
            )));
        }
        Ok(())
    }

    /// The watermark: every ticket up to it is committed or lost.
    pub(crate) fn acknowledged(&self) -> u64 {
        self.shared.progress.lock().acknowledged
    }

    /// Whether some ticket in `low..=high` was lost: replies waiting for
    /// those tickets must never be sent.
    pub(crate) fn lost_between(&self, low: u64, high: u64) -> bool {
        self.shared.progress.lock().was_lost(low, high)
    }

    pub(crate) fn set_progress_hook(&self, hook: Option<ProgressHook>) {
        *self.shared.hook.lock() = hook;
    }

    /// Transactions (batches), records and bytes committed. `syncs` counts
    /// transactions too: each is synced by a majority of etcd members.
    pub(crate) fn stats(&self) -> Stats {
        // Relaxed: independent counters, for statistics only.
        let batches = self.shared.batches.load(Ordering::Relaxed);
        Stats {
            batches,
            records: self.shared.records.load(Ordering::Relaxed),
            bytes: self.shared.bytes.load(Ordering::Relaxed),
            syncs: batches,
        }
    }
}

impl Progress {
    fn was_lost(&self, low: u64, high: u64) -> bool {
        if low < self.forgotten_below {
            return true;
        }
        let first = self.lost.partition_point(|&t| t < low);
        self.lost.get(first).is_some_and(|&t| t <= high)
    }

    /// Notes `tickets` as lost, keeping the list ascending and without
    /// repeats (a batch's tickets may be noted when its replies are
    /// abandoned, and again if it then fails its fence).
    fn note_lost(&mut self, mut tickets: Vec<u64>) {
        tickets.sort_unstable();
        for t in tickets {
            if t < self.forgotten_below {
                continue;
            }
            if self.lost.back().is_none_or(|&last| last < t) {
                self.lost.push_back(t);
                continue;
            }
            let at = self.lost.partition_point(|&l| l < t);
            if self.lost.get(at) != Some(&t) {
                self.lost.insert(at, t);
            }
        }
        while self.lost.len() > LOST_REMEMBERED {
            if let Some(t) = self.lost.pop_front() {
                self.forgotten_below = t + 1;
            }
        }
    }

    /// `tickets` committed: none of them counts as lost any more. Only a
    /// ticket whose reply was abandoned (its batch retried past the
    /// lease) can be in the list; once its batch committed, a retry of
    /// its request id may be answered (the change is durable), instead of
    /// ending every such retry's connection as long as the map stays here.
    fn note_committed(&mut self, tickets: &[u64]) {
        if self.lost.is_empty() {
            return;
        }
        for t in tickets {
            let at = self.lost.partition_point(|&l| l < *t);
            if self.lost.get(at) == Some(t) {
                self.lost.remove(at);
            }
        }
    }
}

/// The committer thread: one batch at a time, until stopped.
fn run(shared: &Shared) {
    let Some(committer) = shared.committer.get() else {
        return;
    };
    let mut last_commit = Duration::ZERO;
    loop {
        let (batch, stopping) = {
            let mut queue = shared.queue.lock();
            while queue.pending.is_empty() && !queue.stop {
                shared.work.wait(&mut queue);
            }
            gather(shared, &mut queue, last_commit / 2);
            let batch = std::mem::take(&mut queue.pending);
            let mut names: Vec<Arc<str>> = Vec::new();
            for p in &batch {
                if !names.contains(&p.name) {
                    names.push(Arc::clone(&p.name));
                }
            }
            *shared.in_flight.lock() = names;
            (batch, queue.stop)
        };
        let Some(high) = batch.last().map(|p| p.ticket) else {
            return;
        };
        let started = Instant::now();
        let (lost, committed_maps, committed) = commit(shared, committer, batch, stopping);
        last_commit = started.elapsed().min(MAX_GATHER * 2);
        settle(shared, lost, &committed, high);
        shared.in_flight.lock().clear();
        snapshot_due_maps(shared, committer, &committed_maps);
    }
}

/// Waits for more records while they keep coming, so that the clients
/// answered by the last transaction, whose next requests arrive a moment
/// after it, join this one rather than wait for the next: until a pause of
/// [`GATHER_PAUSE`] with nothing new, or `most` (half the last
/// transaction's time, at most [`MAX_GATHER`]). With one transaction in
/// flight, this is what makes a batch hold every busy connection instead
/// of half of them taking turns.
fn gather(shared: &Shared, queue: &mut parking_lot::MutexGuard<'_, Queue>, most: Duration) {
    let until = Instant::now() + most.min(MAX_GATHER);
    let mut seen = queue.pending.len();
    while !queue.stop {
        let now = Instant::now();
        if now >= until {
            return;
        }
        let _ = shared.work.wait_for(queue, GATHER_PAUSE.min(until - now));
        if queue.pending.len() == seen {
            return;
        }
        seen = queue.pending.len();
    }
}

/// Notes `lost` and `committed` tickets, moves the watermark to `high`
/// and wakes whoever releases replies.
fn settle(shared: &Shared, lost: Vec<u64>, committed: &[u64], high: u64) {
    {
        let mut progress = shared.progress.lock();
        progress.note_lost(lost);
        progress.note_committed(committed);
        progress.acknowledged = progress.acknowledged.max(high);
    }
    shared.progressed.notify_all();
    let hook = shared.hook.lock().clone();
    if let Some(hook) = hook {
        hook();
    }
}

/// Commits `batch`; returns the tickets lost, the maps (ids) whose
/// records committed, and those records' tickets.
///
/// A batch still failing once the node can no longer prove its lease has
/// its replies **abandoned** at once (its tickets settled as lost, so the
/// clients waiting for them see their connections close and retry with
/// their ids elsewhere, instead of waiting without end), while the same
/// batch is still retried: committed later, it is durable but was never
/// acknowledged, which is allowed; and the map's log keeps no hole should
/// the lease turn out to be alive.
fn commit(
    shared: &Shared,
    committer: &Committer,
    batch: Vec<Pending>,
    stopping: bool,
) -> (Vec<u64>, Vec<u32>, Vec<u64>) {
    // One group per map name, in first-appearance order. A map lost and
    // gained again within one batch has records under two fences: only
    // the newest fence can commit, so the older one's records are lost
    // at once (a batch may name a map only once).
    let high = batch.last().map_or(0, |p| p.ticket);
    let mut groups: Vec<(MapRecords, u32, Vec<u64>)> = Vec::new();
    let mut lost = Vec::new();
    let mut index: HashMap<Arc<str>, usize> = HashMap::new();
    for p in batch {
        let i = *index.entry(Arc::clone(&p.name)).or_insert_with(|| {
            groups.push((
                MapRecords {
                    map: p.name.to_string(),
                    fence: p.fence,
                    records: Vec::new(),
                },
                p.map,
                Vec::new(),
            ));
            groups.len() - 1
        });
        let group = &mut groups[i];
        if p.fence.revision > group.0.fence.revision {
            lost.append(&mut group.2);
            group.0.fence = p.fence;
            group.0.records.clear();
            group.1 = p.map;
        } else if p.fence.revision < group.0.fence.revision {
            lost.push(p.ticket);
            continue;
        }
        group.2.push(p.ticket);
        group.0.records.push(p.record());
    }
    let (records, groups): (Vec<MapRecords>, Vec<(u32, Vec<u64>)>) = groups
        .into_iter()
        .map(|(records, map, tickets)| (records, (map, tickets)))
        .unzip();
    let mut groups = groups;
    let mut delay = Duration::from_millis(20);
    let started = Instant::now();
    let mut attempts = 0u32;
    let mut abandoned = false;
    loop {
        attempts += 1;
        match committer.commit(&records) {
            Ok(outcomes) => {
                let mut committed = Vec::new();
                let mut tickets = Vec::new();
                let (mut n, mut bytes) = (0, 0);
                for ((g, sent), outcome) in groups.iter_mut().zip(&records).zip(outcomes) {
                    match outcome {
                        Outcome::Committed => {
                            committed.push(g.0);
                            tickets.extend_from_slice(&g.1);
                            n += sent.records.len();
                            bytes += sent.records.iter().map(|r| r.bytes.len()).sum::<usize>();
                        }
                        Outcome::Fenced => lost.append(&mut g.1),
                    }
                }
                shared.batches.fetch_add(1, Ordering::Relaxed);
                shared.records.fetch_add(n as u64, Ordering::Relaxed);
                shared.bytes.fetch_add(bytes as u64, Ordering::Relaxed);
                if attempts > 1 {
                    debug!(attempts, abandoned, "a batch committed after retries");
                }
                if abandoned {
                    // Its tickets are settled as lost already.
                    lost.clear();
                }
                return (lost, committed, tickets);
            }
            Err(e) => {
                // Stopping: a few seconds more at most, then the batch is
                // given up (lost: never acknowledged; it may or may not
                // have committed, which a retry with the id tells).
                let give_up = (stopping || shared.queue.lock().stop)
                    && started.elapsed() > Duration::from_secs(5);
                if give_up {
                    warn!(error = %e, "stopping: a batch could not be committed to etcd; its replies are not sent");
                    if abandoned {
                        return (Vec::new(), Vec::new(), Vec::new());
                    }
                    lost.extend(groups.iter().flat_map(|g| g.1.iter().copied()));
                    return (lost, Vec::new(), Vec::new());
                }
                let live = shared.live.get().is_none_or(|live| live());
                if !abandoned && !live {
                    abandoned = true;
                    warn!(error = %e, "this node can no longer prove its lease and the batch has not committed: its replies are abandoned (the clients retry elsewhere), the batch is still retried");
                    let mut tickets = std::mem::take(&mut lost);
                    tickets.extend(groups.iter().flat_map(|g| g.1.iter().copied()));
                    settle(shared, tickets, &[], high);
                }
                if !live {
                    abandon_queued(shared);
                }
                if attempts == 1 || attempts.is_power_of_two() {
                    warn!(error = %e, attempts, "a batch could not be committed to etcd; retrying the same batch");
                }
                std::thread::sleep(delay);
                delay = (delay * 2).min(Duration::from_millis(500));
            }
        }
    }
}

/// Abandons the replies of the records queued behind a batch that is
/// being retried past the node's lease: they cannot commit before it, so
/// without this their clients would wait as long as etcd stays out of
/// reach. Their tickets are settled as lost (the poller ends those
/// connections; the clients retry elsewhere with their ids), while the
/// records stay queued and are committed in order after the batch.
/// Called on every retry while the lease is unproven, so records queued
/// meanwhile go the same way.
fn abandon_queued(shared: &Shared) {
    let tickets: Vec<u64> = {
        let acknowledged = shared.progress.lock().acknowledged;
        let queue = shared.queue.lock();
        queue
            .pending
            .iter()
            .map(|p| p.ticket)
            .filter(|&t| t > acknowledged)
            .collect()
    };
    if let Some(&high) = tickets.last() {
        settle(shared, tickets, &[], high);
    }
}

/// Writes a snapshot of every map in `maps` that has enough log entries
/// since its last one (between batches: this thread commits nothing
/// meanwhile, so the snapshot never overtakes the records it covers in
/// flight).
fn snapshot_due_maps(shared: &Shared, committer: &Committer, maps: &[u32]) {
    let mut due = Vec::new();
    {
        let mut queue = shared.queue.lock();
        for id in maps {
            if let Some(r) = queue.maps.get_mut(id) {
                r.entries_since_snapshot += 1;
                if r.entries_since_snapshot >= SNAPSHOT_EVERY_ENTRIES {
                    r.entries_since_snapshot = 0;
                    due.push((*id, Arc::clone(&r.name), r.fence, Arc::clone(&r.state)));
                }
            }
        }
    }
    for (id, name, fence, state) in due {
        let captured = super::state::capture(&state, || {
            shared.queue.lock().maps.get(&id).map(|r| r.next_seq - 1)
        });
        let Some((seq, bytes)) = captured else {
            continue;
        };
        match committer.put_snapshot(&name, fence, seq, &bytes) {
            Ok(Outcome::Committed) => {
                debug!(map = %name, seq, bytes = bytes.len(), "snapshot stored in etcd");
            }
            Ok(Outcome::Fenced) => {}
            Err(e) => {
                warn!(map = %name, error = %e, "a snapshot could not be stored in etcd; trying again later");
                if let Some(r) = shared.queue.lock().maps.get_mut(&id) {
                    r.entries_since_snapshot = SNAPSHOT_EVERY_ENTRIES / 2;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use seatcluster::testing::EtcdCluster;
    use seatcluster::{LoadedMap, Lost, MapEvents, MapOwner, Node, NodeConfig};
    use seatcore::SeatMap;

    use super::*;

    struct Accept;
    impl MapEvents for Accept {
        fn gained(&self, _: &str, _: Fence, _: LoadedMap) -> Result<(), String> {
            Ok(())
        }
        fn lost(&self, _: &str, _: Fence, _: Lost) {}
    }

    fn state(id: u32, name: &str) -> Arc<MapState> {
        let spec: seatplan::MapSpec = "10".parse().unwrap();
        Arc::new(MapState::new(id, name, spec, SeatMap::new(10).unwrap()))
    }

    fn mine(node: &Node, map: &str) -> Fence {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if let MapOwner::Mine(fence) = node.owner_of(map) {
                return fence;
            }
            assert!(Instant::now() < deadline, "the node never took {map}");
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Lost tickets stay ascending without repeats whatever order they
    /// are noted in, and a ticket whose batch committed after all no
    /// longer counts as lost.
    #[test]
    fn lost_tickets_stay_ordered_and_committed_ones_leave() {
        let mut progress = Progress::default();
        progress.note_lost(vec![5, 6, 7]);
        progress.note_lost(vec![9, 3, 6]);
        assert_eq!(progress.lost, [3, 5, 6, 7, 9]);
        assert!(progress.was_lost(4, 5) && !progress.was_lost(8, 8));
        progress.note_committed(&[5, 6, 8]);
        assert_eq!(progress.lost, [3, 7, 9]);
        assert!(!progress.was_lost(4, 6) && progress.was_lost(4, 7));
    }

    /// The commit fence, through the journal: records under a fence the
    /// node no longer holds are lost (never acknowledged, not in etcd),
    /// while the other map's records of the same batch commit.
    #[test]
    fn records_under_a_stale_fence_are_lost_and_the_rest_commits() {
        let Some(etcd) = EtcdCluster::start("seatnet cluster log fence", 1) else {
            return;
        };
        let config = NodeConfig::new(&etcd.endpoints(), "n1", "127.0.0.1:1", &["good", "stale"]);
        let node = Node::start(config, Arc::new(Accept)).unwrap();
        let good = mine(&node, "good");
        let held = mine(&node, "stale");
        let stale = Fence {
            revision: held.revision - 1,
            ..held
        };
        let log = ClusterLog::new();
        log.register("good", good, 1, 0, state(0, "good"));
        log.register("stale", stale, 1, 0, state(1, "stale"));
        // Queued before the committer starts: one batch.
        let a = log.append(0, 5, |_| b"first".to_vec()).unwrap();
        let b = log.append(1, 5, |_| b"lost".to_vec()).unwrap();
        let c = log.append(0, 6, |_| b"second".to_vec()).unwrap();
        assert_eq!((a.seq, b.seq, c.seq), (1, 2, 3));
        // An unregistered map takes nothing.
        assert!(matches!(
            log.append(7, 5, |_| Vec::new()),
            Err(AppendError::Unavailable(_))
        ));
        assert!(log.has_unsettled("good") && log.has_unsettled("stale"));
        assert!(!log.has_unsettled("other"));
        log.start(node.committer(), Box::new(|| true)).unwrap();
        assert!(log.wait_durable(a).is_ok());
        assert!(log.wait_durable(c).is_ok());
        assert!(log.wait_durable(b).is_err());
        // Settled: nothing of either map is queued or in flight.
        let deadline = Instant::now() + Duration::from_secs(10);
        while log.has_unsettled("good") || log.has_unsettled("stale") {
            assert!(Instant::now() < deadline, "records still unsettled");
            std::thread::sleep(Duration::from_millis(10));
        }
        assert!(log.acknowledged() >= 3);
        assert!(log.lost_between(2, 2) && log.lost_between(1, 3));
        assert!(!log.lost_between(1, 1) && !log.lost_between(3, 3));
        let committed = node.load_map("good").unwrap();
        let bodies: Vec<_> = committed
            .records
            .iter()
            .map(|r| (r.seq, r.bytes[8..].to_vec()))
            .collect();
        assert_eq!(bodies, [(1, b"first".to_vec()), (2, b"second".to_vec())]);
        assert_eq!(committed.records[0].bytes[..8], 5u64.to_le_bytes());
        assert!(node.load_map("stale").unwrap().records.is_empty());
        assert_eq!(log.stats().records, 2);
        // Unregistered: the map's next change is refused.
        log.unregister("good");
        assert!(matches!(
            log.append(0, 5, |_| Vec::new()),
            Err(AppendError::Unavailable(_))
        ));
        log.stop();
        node.shutdown().unwrap();
    }
}

//! [`LeaseKeeper`]: a node's lease, kept alive by a thread of its own, and
//! the question every reply asks before it goes out: is the lease still
//! live, with a margin?
//!
//! The keeper renews once per `every` through its own [`Client`] (so a
//! keep-alive never waits behind a large transaction), each attempt with
//! a timeout of `every`, and moves the local deadline to the attempt's
//! *send* time plus the TTL ([`Lease`]). It never gives up on errors
//! (etcd may come back before the deadline); it stops for good when etcd
//! says the lease is gone ([`LeaseKeeper::lost`]), or when dropped.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crate::client::{Client, Config};
use crate::error::{Error, Result};
use crate::lease::Lease;

/// A lease kept alive in the background; stops (without revoking) when
/// dropped, revokes with [`LeaseKeeper::revoke`].
pub struct LeaseKeeper {
    shared: Arc<Shared>,
    thread: Option<JoinHandle<()>>,
    client: Arc<Client>,
}

struct Shared {
    state: Mutex<State>,
    wake: Condvar,
    live: Arc<Liveness>,
}

/// The lease's local deadline, readable without a lock: what a node
/// checks on every request ([`crate::Node::owner_of`]).
#[derive(Debug)]
pub(crate) struct Liveness {
    /// The origin of `deadline`, taken before the grant was sent, so that
    /// every deadline is after it.
    base: Instant,
    /// The deadline in nanoseconds after `base`; 0 once the lease is lost.
    deadline: AtomicU64,
}

impl Liveness {
    fn new(base: Instant, lease: &Lease) -> Liveness {
        let live = Liveness {
            base,
            deadline: AtomicU64::new(0),
        };
        live.set(lease);
        live
    }

    fn set(&self, lease: &Lease) {
        let nanos = lease
            .deadline()
            .saturating_duration_since(self.base)
            .as_nanos();
        // Relaxed: the deadline is the only thing published here (no
        // other data is read because of it), and the keeper is its only
        // writer; a reader that sees an older value sees an earlier
        // deadline (renewals only move it later), which errs on the safe
        // side.
        self.deadline
            .store(u64::try_from(nanos).unwrap_or(u64::MAX), Ordering::Relaxed);
    }

    fn lose(&self) {
        // Relaxed: as in `set`; 0 is never live.
        self.deadline.store(0, Ordering::Relaxed);
    }

    /// Whether the deadline is more than `margin` away.
    pub(crate) fn is_live(&self, margin: Duration) -> bool {
        let now = Instant::now().saturating_duration_since(self.base) + margin;
        // Relaxed: see `set`.
        let deadline = self.deadline.load(Ordering::Relaxed);
        now.as_nanos() < u128::from(deadline)
    }
}

struct State {
    lease: Lease,
    /// Set once etcd answered that the lease is gone.
    lost: Option<Error>,
    /// The last failed attempt, cleared by a success.
    last_error: Option<Error>,
    stopping: bool,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, State> {
        // A panic elsewhere while holding the lock leaves plain data that
        // is still consistent (every update is one assignment).
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl LeaseKeeper {
    /// Grants a lease of `ttl` through `config`'s members and keeps it
    /// alive every `every` (at most a third of the TTL makes sense; the
    /// cluster uses 1 s for 5 s). `config.timeout` is replaced by `every`.
    pub fn start(mut config: Config, ttl: Duration, every: Duration) -> Result<LeaseKeeper> {
        if every.is_zero() || every >= ttl {
            return Err(Error::Invalid(format!(
                "keep-alive interval {every:?} must be above zero and below the TTL {ttl:?}"
            )));
        }
        config.timeout = every;
        config.connect_timeout = config.connect_timeout.min(every);
        let client = Arc::new(Client::with_config(config)?);
        let base = Instant::now();
        let lease = client.grant_lease(ttl)?;
        let shared = Arc::new(Shared {
            live: Arc::new(Liveness::new(base, &lease)),
            state: Mutex::new(State {
                lease,
                lost: None,
                last_error: None,
                stopping: false,
            }),
            wake: Condvar::new(),
        });
        let thread = {
            let (shared, client) = (Arc::clone(&shared), Arc::clone(&client));
            std::thread::Builder::new()
                .name(format!("lease-{:x}", lease.id))
                .spawn(move || keep(&shared, &client, every))
                .map_err(|e| Error::Invalid(format!("cannot start the keep-alive thread: {e}")))?
        };
        Ok(LeaseKeeper {
            shared,
            thread: Some(thread),
            client,
        })
    }

    /// The lease, with its current local deadline.
    pub fn lease(&self) -> Lease {
        self.shared.lock().lease
    }

    /// Whether the lease is known to etcd and its deadline is more than
    /// `margin` away: false from then on until a keep-alive succeeds.
    /// Takes no lock.
    pub fn is_live(&self, margin: Duration) -> bool {
        self.shared.live.is_live(margin)
    }

    /// The same check, shareable with readers that outlive the keeper.
    pub(crate) fn liveness(&self) -> Arc<Liveness> {
        Arc::clone(&self.shared.live)
    }

    /// Why the lease is gone for good, once etcd has said so.
    pub fn lost(&self) -> Option<Error> {
        self.shared.lock().lost.clone()
    }

    /// The last keep-alive's error, if it failed (cleared by a success):
    /// what a node tells its clients when it stops answering.
    pub fn last_error(&self) -> Option<Error> {
        self.shared.lock().last_error.clone()
    }

    /// Stops keeping the lease alive and revokes it, deleting every key
    /// attached (a clean shutdown hands the node's maps over at once).
    pub fn revoke(mut self) -> Result<()> {
        self.stop();
        self.shared.live.lose();
        let id = self.shared.lock().lease.id;
        self.client.revoke_lease(id)
    }

    fn stop(&mut self) {
        self.shared.lock().stopping = true;
        self.shared.wake.notify_all();
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

impl Drop for LeaseKeeper {
    fn drop(&mut self) {
        self.stop();
    }
}

impl std::fmt::Debug for LeaseKeeper {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let state = self.shared.lock();
        f.debug_struct("LeaseKeeper")
            .field("lease", &state.lease)
            .field("lost", &state.lost)
            .finish()
    }
}

/// The keeper thread: renew every `every` until stopped or lost.
fn keep(shared: &Shared, client: &Client, every: Duration) {
    loop {
        let mut lease = {
            let state = shared.lock();
            let (state, _) = shared
                .wake
                .wait_timeout_while(state, every, |s| !s.stopping)
                .unwrap_or_else(PoisonError::into_inner);
            if state.stopping {
                return;
            }
            state.lease
        };
        let result = client.keep_alive(&mut lease);
        let mut state = shared.lock();
        match result {
            Ok(()) => {
                state.lease = lease;
                state.last_error = None;
                shared.live.set(&lease);
            }
            Err(e @ Error::LeaseExpired { .. }) => {
                shared.live.lose();
                state.lost = Some(e.clone());
                state.last_error = Some(e);
                return;
            }
            Err(e) => state.last_error = Some(e),
        }
    }
}

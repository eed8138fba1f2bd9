//! Leases: granted with a TTL, kept alive by the holder, gone (with every
//! key attached) when the holder stops.
//!
//! A [`Lease`] carries a local deadline that is never later than etcd's:
//! it is the time a grant or keep-alive request was *sent* plus the TTL
//! etcd answered. etcd starts the TTL when it handles the request, which
//! is after we sent it, so however long the request and the answer took,
//! the lease cannot expire in etcd before our deadline (etcd only ever
//! extends leases on its own, at a leader change). A node that stops
//! acknowledging at its deadline therefore stops before any other node
//! can own its maps (`docs/cluster.md`, "Partitions").

use std::time::{Duration, Instant};

use crate::client::{Client, Kind};
use crate::error::{CODE_NOT_FOUND, Error, Result};
use crate::wire;

/// A lease held by this process.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Lease {
    /// etcd's id for it.
    pub id: i64,
    /// The TTL etcd granted.
    pub ttl: Duration,
    /// No later than the lease's expiry in etcd (see the module docs).
    deadline: Instant,
}

impl Lease {
    /// No later than when etcd will expire the lease unless it is kept
    /// alive.
    pub fn deadline(&self) -> Instant {
        self.deadline
    }

    /// Time left before [`Lease::deadline`] (zero once past it).
    pub fn remaining(&self) -> Duration {
        self.deadline.saturating_duration_since(Instant::now())
    }

    /// Whether the deadline is still more than `margin` away: what a
    /// holder checks before it acknowledges anything that its lease
    /// protects.
    pub fn is_live(&self, margin: Duration) -> bool {
        self.remaining() > margin
    }
}

impl Client {
    /// Grants a lease of `ttl` (whole seconds, at least 1; etcd may raise
    /// it to its minimum).
    pub fn grant_lease(&self, ttl: Duration) -> Result<Lease> {
        let seconds = ttl.as_secs().max(1) as i64;
        let sent = Instant::now();
        let request = wire::LeaseGrantRequest { TTL: seconds };
        let r: wire::LeaseResponse = self.call("/lease/grant", &request, Kind::Change)?;
        if !r.error.is_empty() || r.ID == 0 || r.TTL <= 0 {
            return Err(Error::Etcd {
                code: 0,
                message: format!("lease grant refused: {:?} (ttl {})", r.error, r.TTL),
            });
        }
        let ttl = Duration::from_secs(r.TTL as u64);
        Ok(Lease {
            id: r.ID,
            ttl,
            deadline: sent + ttl,
        })
    }

    /// Renews `lease` once, moving its deadline to the time this request
    /// was sent plus the TTL. [`Error::LeaseExpired`] when etcd no longer
    /// has it (the deadline is then left as it was, in the past or not).
    pub fn keep_alive(&self, lease: &mut Lease) -> Result<()> {
        let sent = Instant::now();
        let request = wire::LeaseIdRequest { ID: lease.id };
        // The gateway answers a stream of `{"result": ...}` lines, one per
        // request message; we send one, so it ends after one.
        let line: wire::KeepAliveMessage =
            self.call("/lease/keepalive", &request, Kind::Repeatable)?;
        if let Some(error) = line.error {
            return Err(Error::Etcd {
                code: error.code,
                message: error.message,
            });
        }
        let ttl = line.result.map(|r| r.TTL).unwrap_or(0);
        if ttl <= 0 {
            return Err(Error::LeaseExpired { lease: lease.id });
        }
        lease.ttl = Duration::from_secs(ttl as u64);
        lease.deadline = sent + lease.ttl;
        Ok(())
    }

    /// Revokes a lease, deleting every key attached to it.
    /// [`Error::LeaseExpired`] when it was already gone.
    pub fn revoke_lease(&self, id: i64) -> Result<()> {
        let request = wire::LeaseIdRequest { ID: id };
        match self.call::<_, wire::Empty>("/lease/revoke", &request, Kind::Repeatable) {
            Ok(_) => Ok(()),
            Err(Error::Etcd { code, .. }) if code == CODE_NOT_FOUND => {
                Err(Error::LeaseExpired { lease: id })
            }
            Err(e) => Err(e),
        }
    }

    /// The time etcd says is left on a lease; `None` when it is gone.
    pub fn lease_time_to_live(&self, id: i64) -> Result<Option<Duration>> {
        let request = wire::LeaseIdRequest { ID: id };
        let r: wire::LeaseResponse = self.call("/lease/timetolive", &request, Kind::Repeatable)?;
        Ok((r.TTL > 0).then(|| Duration::from_secs(r.TTL as u64)))
    }
}

//! One error type for every call, each variant saying what the caller can
//! do about it.

use std::fmt;

/// Why an etcd call (or an ownership or snapshot operation) failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Error {
    /// No endpoint could serve the request, and none applied it: every
    /// one refused the connection, timed out before the request was
    /// sent, or answered that it has no leader. Safe to retry later.
    Unavailable {
        /// One line per endpoint tried: `host:port: reason`.
        failures: Vec<String>,
    },
    /// A change was sent but no answer came back (timeout, connection
    /// reset): etcd may or may not have applied it. Read back, or retry
    /// only what is idempotent (every [`Cluster`](crate::Cluster) batch
    /// is; see `docs/cluster.md`, "Unknown outcomes").
    Indeterminate {
        /// The endpoint the request went to.
        endpoint: String,
        /// What went wrong.
        detail: String,
    },
    /// etcd answered with an error (gRPC code and message), for example
    /// `etcdserver: too many operations in txn request`.
    Etcd {
        /// The gRPC status code (3: invalid argument, 5: not found, ...).
        code: i32,
        /// etcd's message.
        message: String,
    },
    /// The lease no longer exists (expired or revoked).
    LeaseExpired {
        /// The lease id.
        lease: i64,
    },
    /// A fenced commit failed: these maps are no longer owned under the
    /// revisions the caller holds. Nothing of the failing transaction was
    /// written; `committed` earlier transactions of the same batch were.
    OwnershipLost {
        /// The maps whose owner key changed or disappeared.
        maps: Vec<String>,
        /// Transactions of this batch committed before the failing one.
        committed: usize,
    },
    /// The caller asked for something these limits do not allow (an entry
    /// larger than one transaction may carry, a map it does not own).
    Invalid(String),
    /// A stored snapshot is incomplete or does not match its manifest.
    Snapshot(String),
    /// A stored log entry cannot be unpacked into records.
    Log(String),
    /// An answer that is not what the etcd v3 JSON gateway sends.
    BadResponse {
        /// The endpoint that sent it.
        endpoint: String,
        /// What was wrong with it.
        detail: String,
    },
}

/// gRPC status code `NotFound`.
pub(crate) const CODE_NOT_FOUND: i32 = 5;
/// gRPC status code `Unavailable`.
pub(crate) const CODE_UNAVAILABLE: i32 = 14;

impl Error {
    /// Whether retrying the same request later may succeed without any
    /// change by the caller (no endpoint reachable, no leader, or an
    /// unknown outcome of an idempotent request).
    pub fn is_transient(&self) -> bool {
        match self {
            Error::Unavailable { .. } | Error::Indeterminate { .. } => true,
            Error::Etcd { code, .. } => *code == CODE_UNAVAILABLE,
            _ => false,
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Unavailable { failures } => {
                write!(f, "etcd unavailable: {}", failures.join("; "))
            }
            Error::Indeterminate { endpoint, detail } => write!(
                f,
                "etcd at {endpoint}: no answer ({detail}); the change may or may not have been applied"
            ),
            Error::Etcd { code, message } => write!(f, "etcd refused: {message} (code {code})"),
            Error::LeaseExpired { lease } => write!(f, "etcd lease {lease:x} has expired"),
            Error::OwnershipLost { maps, committed } => write!(
                f,
                "ownership lost for map(s) {} ({committed} earlier transaction(s) of the batch committed)",
                maps.join(", ")
            ),
            Error::Invalid(what) => write!(f, "invalid request: {what}"),
            Error::Snapshot(what) => write!(f, "snapshot: {what}"),
            Error::Log(what) => write!(f, "log: {what}"),
            Error::BadResponse { endpoint, detail } => {
                write!(f, "etcd at {endpoint}: unexpected answer: {detail}")
            }
        }
    }
}

impl std::error::Error for Error {}

/// The result of every call in this crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;

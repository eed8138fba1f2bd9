//! The journal's errors: one type for opening and maintenance, one for
//! appending, and the fail-stop [`Fatal`].

use std::fmt;
use std::io;
use std::sync::Arc;

/// Why a data directory could not be opened, checked or maintained.
#[derive(Debug)]
pub enum Error {
    /// A file operation failed.
    Io {
        /// What was being done, e.g. "read journal-...log in /data".
        what: String,
        /// The underlying error.
        source: io::Error,
    },
    /// Another journal (another process, or another `Journal` in this one)
    /// holds the directory's lock.
    Locked {
        /// The directory.
        dir: String,
    },
    /// The directory was created for another descriptor.
    MetaMismatch {
        /// The directory.
        dir: String,
        /// The descriptor stored in `META`.
        on_disk: String,
        /// The descriptor this open asked for.
        given: String,
    },
    /// A whole record or header that fails its checks, or a gap in the
    /// sequence numbers. The journal refuses to open rather than serve a
    /// wrong state.
    Corrupt {
        /// The file.
        file: String,
        /// The byte offset in it.
        offset: u64,
        /// What is wrong.
        reason: String,
    },
    /// A file whose name looks like a journal file but is not one.
    BadFileName {
        /// The directory.
        dir: String,
        /// The file's name.
        name: String,
    },
    /// Snapshots exist but none of them is valid.
    NoValidSnapshot {
        /// The directory.
        dir: String,
        /// What was wrong with each.
        detail: String,
    },
    /// The options cannot work (e.g. a segment smaller than one record).
    InvalidOptions(String),
    /// A snapshot was asked for at a seq that was never appended.
    SnapshotPastEnd {
        /// The seq asked for.
        seq: u64,
        /// The last seq appended.
        last: u64,
    },
    /// The journal has failed (see [`Fatal`]).
    Failed(Fatal),
}

impl Error {
    pub(crate) fn io(what: impl Into<String>, source: io::Error) -> Error {
        Error::Io {
            what: what.into(),
            source,
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Io { what, source } => write!(f, "cannot {what}: {source}"),
            Error::Locked { dir } => {
                write!(
                    f,
                    "data directory {dir} is in use by another process (its LOCK is held)"
                )
            }
            Error::MetaMismatch {
                dir,
                on_disk,
                given,
            } => write!(
                f,
                "data directory {dir} was created for \"{on_disk}\", not \"{given}\""
            ),
            Error::Corrupt {
                file,
                offset,
                reason,
            } => {
                write!(f, "corrupt journal: {file} at byte {offset}: {reason}")
            }
            Error::BadFileName { dir, name } => write!(
                f,
                "data directory {dir} holds {name}, which is named like a journal file but is not one; move it away"
            ),
            Error::NoValidSnapshot { dir, detail } => {
                write!(
                    f,
                    "data directory {dir} has snapshots but none is valid: {detail}"
                )
            }
            Error::InvalidOptions(why) => write!(f, "invalid journal options: {why}"),
            Error::SnapshotPastEnd { seq, last } => {
                write!(f, "cannot snapshot at seq {seq}: the last record is {last}")
            }
            Error::Failed(fatal) => fatal.fmt(f),
        }
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Error::Io { source, .. } => Some(source),
            _ => None,
        }
    }
}

/// A failed write or sync: the journal has stopped for good (fail-stop).
///
/// After a failed `fdatasync` the kernel may have dropped the dirty pages
/// and cleared the error, so a retry could "succeed" over lost data
/// ("fsyncgate"). Nothing is retried; the owner must exit and recover from
/// what is on disk.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fatal(Arc<str>);

impl Fatal {
    /// A failure with this text (also for journals built on this API
    /// elsewhere, such as a journal kept in another store).
    pub fn new(msg: String) -> Fatal {
        Fatal(msg.into())
    }

    /// The error text.
    pub fn message(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Fatal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "journal failed: {}", self.0)
    }
}

impl std::error::Error for Fatal {}

/// Why [`Journal::append`](crate::Journal::append) refused a record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AppendError {
    /// No new segment could be allocated (ENOSPC). Nothing was queued;
    /// allocation is retried by later appends, so this clears when space
    /// returns.
    DiskFull,
    /// Allocating a new segment failed for another reason; retried like
    /// `DiskFull`.
    Allocate(String),
    /// The payload is longer than the maximum record size.
    TooLarge {
        /// The payload's length.
        len: usize,
        /// The maximum.
        max: usize,
    },
    /// The journal has failed.
    Failed(Fatal),
    /// The journal cannot take records for this map right now (a journal
    /// kept elsewhere, such as seatnet's cluster journal in etcd, whose
    /// map has left this node). Nothing was queued; the text says why.
    Unavailable(String),
}

impl fmt::Display for AppendError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AppendError::DiskFull => write!(f, "disk full: cannot allocate a journal segment"),
            AppendError::Allocate(e) => write!(f, "cannot allocate a journal segment: {e}"),
            AppendError::TooLarge { len, max } => {
                write!(f, "record of {len} bytes exceeds the maximum of {max}")
            }
            AppendError::Failed(fatal) => fatal.fmt(f),
            AppendError::Unavailable(why) => f.write_str(why),
        }
    }
}

impl std::error::Error for AppendError {}

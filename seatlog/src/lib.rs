//! seatlog: a durable, append-only journal of small opaque records.
//!
//! Each record carries a sequence number (assigned by the journal), a map
//! id, the caller's wall-clock timestamp and an opaque payload. The journal
//! knows nothing about what the payloads mean.
//!
//! - **Appending** ([`Journal::append`], [`Journal::wait_durable`]): group
//!   commit; one writer thread does one write and one `fdatasync` for
//!   every record queued meanwhile, and under `Always`, after a round of
//!   several records, waits a little while records keep arriving
//!   (`writer.rs`, `gather`). A caller that must not
//!   block per record reads [`Journal::acknowledged`] when its
//!   [`Journal::set_progress_hook`] says the watermark moved.
//! - **On disk**: `LOCK` and `META` (`meta.rs`); preallocated segments
//!   `journal-<seq>.log` (`segment.rs`) of checksummed records
//!   (`codec.rs`); snapshots `snapshot-<seq>.snap` (`snapshot.rs`).
//! - **Recovery** ([`Journal::open`]): newest valid snapshot plus every
//!   later record; a torn tail is dropped, corruption refuses to open
//!   (`recovery.rs`).
//! - **Failure**: a failed write or sync is fatal ([`Fatal`]); a segment
//!   that cannot be allocated is [`AppendError::DiskFull`] until space
//!   returns.
//! - **Operators**: [`check`] prints what a directory holds;
//!   [`Journal::backup_to`] copies a live one.
//! - **Storage** (`storage.rs`): the file operations as a trait, over
//!   `std::fs`; `testing::FaultyStorage` (`faulty.rs`) loses
//!   unsynced writes on a simulated power loss.
//!
//! `docs/design.md` ("seatlog design") has the formats and the rules.
//!
//! # Example
//!
//! ```
//! use seatlog::{Journal, Options};
//! let dir = std::env::temp_dir().join(format!("seatlog-doc-{}", std::process::id()));
//! let (journal, recovered) = Journal::open(&dir, Options::new("seats=100")).unwrap();
//! assert!(recovered.records.is_empty());
//! let ticket = journal.append(0, 1_700_000_000_000, |seq| format!("book 7 as {seq}").into_bytes()).unwrap();
//! journal.wait_durable(ticket).unwrap(); // now it may be acknowledged
//! drop(journal);
//! let (_journal, recovered) = Journal::open(&dir, Options::new("seats=100")).unwrap();
//! assert_eq!(recovered.records[0].payload, b"book 7 as 1");
//! # drop(_journal); std::fs::remove_dir_all(&dir).unwrap();
//! ```

#![forbid(unsafe_code)]

mod check;
mod codec;
mod error;
mod faulty;
mod journal;
mod meta;
mod recovery;
mod segment;
mod snapshot;
mod storage;
mod writer;

pub use check::{Report, check, check_in};
pub use codec::Record;
pub use error::{AppendError, Error, Fatal};
pub use journal::{Journal, Options, Recovered, Snapshot, Stats, SyncPolicy};
pub use meta::{LOCK_FILE, META_FILE};
pub use recovery::{SegmentSummary, TornTail};
pub use storage::{DirStorage, Storage, StorageFile};
pub use writer::{ProgressHook, Ticket};

/// Test doubles: [`FaultyStorage`](testing::FaultyStorage), for this
/// crate's tests and other crates' (hidden from the docs: not for
/// production use).
#[doc(hidden)]
pub mod testing {
    pub use crate::faulty::{FaultyStorage, SYNC_HOLD_LIMIT};
}

/// Encoding internals, public only for this crate's integration tests.
#[doc(hidden)]
pub mod format {
    pub use crate::codec::{RECORD_HEADER_LEN, frame_len};
    pub use crate::segment::{SEGMENT_HEADER_LEN, name as segment_name};
    pub use crate::snapshot::name as snapshot_name;
}

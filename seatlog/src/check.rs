//! `check`: what a data directory holds, for an operator (like
//! `redis-check-aof`). It only reads: a torn tail is reported, not fixed.

use std::fmt;
use std::path::Path;

use crate::error::Error;
use crate::journal::{Recovered, Snapshot};
use crate::meta;
use crate::recovery::{self, SegmentSummary, TornTail};
use crate::storage::{DirStorage, Storage};

/// What [`check`] found.
#[derive(Debug, Default)]
pub struct Report {
    /// The directory.
    pub dir: String,
    /// The descriptor in `META`, if readable.
    pub descriptor: Option<String>,
    /// Segments, in order, up to the first problem.
    pub segments: Vec<SegmentSummary>,
    /// Seq of the snapshot recovery would start from.
    pub snapshot_seq: Option<u64>,
    /// Every snapshot file's seq.
    pub snapshots: Vec<u64>,
    /// Records recovery would replay after the snapshot.
    pub records_after_snapshot: u64,
    /// First and last seq held in segments.
    pub first_seq: Option<u64>,
    /// See `first_seq`.
    pub last_seq: Option<u64>,
    /// A torn tail recovery would drop.
    pub torn_tail: Option<TornTail>,
    /// Warnings (e.g. a corrupt newest snapshot).
    pub warnings: Vec<String>,
    /// Leftover temporary files and files that are not ours.
    pub other_files: Vec<String>,
    /// Why the directory would not open: corruption (file and offset) or
    /// another error.
    pub error: Option<String>,
    /// What recovery would start from and replay (the newest valid
    /// snapshot and every record after it), when the scan got that far:
    /// the owner of the payloads can say what they hold. Not printed.
    pub contents: Option<Recovered>,
}

impl Report {
    /// True when `open` would succeed (a torn tail is fine).
    pub fn is_ok(&self) -> bool {
        self.error.is_none()
    }
}

/// Checks the data directory `dir` on disk without changing it. Safe to run
/// beside a live journal, though a write in flight may show as a torn tail.
pub fn check(dir: impl AsRef<Path>) -> Report {
    let dir = dir.as_ref();
    if !dir.is_dir() {
        return Report {
            dir: dir.display().to_string(),
            error: Some(format!("{} is not a directory", dir.display())),
            ..Report::default()
        };
    }
    match DirStorage::new(dir) {
        Ok(storage) => check_in(&storage, usize::MAX),
        Err(e) => Report {
            dir: dir.display().to_string(),
            error: Some(format!("cannot open {}: {e}", dir.display())),
            ..Report::default()
        },
    }
}

/// [`check`] over any storage; `max_payload` bounds record lengths.
pub fn check_in(storage: &dyn Storage, max_payload: usize) -> Report {
    let mut report = Report {
        dir: storage.describe(),
        ..Report::default()
    };
    match meta::read(storage) {
        Ok(descriptor) => report.descriptor = descriptor,
        Err(e) => report.error = Some(e.to_string()),
    }
    let result: Result<(), Error> = (|| {
        let files = recovery::classify(storage)?;
        report.snapshots.clone_from(&files.snapshots);
        report.other_files = files.temps.iter().chain(&files.ignored).cloned().collect();
        let scan = recovery::scan(storage, max_payload, false)?;
        report.snapshot_seq = scan.snapshot.as_ref().map(|(seq, _)| *seq);
        report.records_after_snapshot = scan.records.len() as u64;
        report.first_seq = scan
            .segments
            .iter()
            .find(|s| s.records > 0)
            .map(|s| s.first_seq);
        report.last_seq = scan
            .segments
            .iter()
            .rev()
            .find(|s| s.records > 0)
            .map(|s| s.first_seq + s.records - 1);
        report.segments = scan.segments;
        report.torn_tail = scan.torn_tail;
        report.contents = Some(Recovered {
            snapshot: scan.snapshot.map(|(seq, bytes)| Snapshot { seq, bytes }),
            records: scan.records,
            warnings: scan.warnings.clone(),
            torn_tail: report.torn_tail.clone(),
        });
        report.warnings = scan.warnings;
        Ok(())
    })();
    if let Err(e) = result {
        report.error.get_or_insert(e.to_string());
    }
    report
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "data directory: {}", self.dir)?;
        writeln!(
            f,
            "descriptor:     {}",
            self.descriptor.as_deref().unwrap_or("(none)")
        )?;
        let seqs: Vec<String> = self.snapshots.iter().map(u64::to_string).collect();
        writeln!(
            f,
            "snapshots:      {}",
            if seqs.is_empty() {
                "(none)".to_string()
            } else {
                seqs.join(", ")
            }
        )?;
        match self.snapshot_seq {
            Some(seq) => writeln!(f, "recovery from:  snapshot at seq {seq}")?,
            None => writeln!(f, "recovery from:  the start (no snapshot)")?,
        }
        writeln!(f, "segments:       {}", self.segments.len())?;
        for s in &self.segments {
            writeln!(
                f,
                "  {}  {} records, {} of {} bytes used",
                s.name, s.records, s.end_offset, s.file_len
            )?;
        }
        match (self.first_seq, self.last_seq) {
            (Some(first), Some(last)) => writeln!(f, "records:        seq {first} to {last}")?,
            _ => writeln!(f, "records:        none")?,
        }
        writeln!(
            f,
            "to replay:      {} records after the snapshot",
            self.records_after_snapshot
        )?;
        match &self.torn_tail {
            Some(t) => writeln!(
                f,
                "torn tail:      {} at byte {} ({} bytes, dropped at open)",
                t.file, t.offset, t.bytes
            )?,
            None => writeln!(f, "torn tail:      none")?,
        }
        for w in &self.warnings {
            writeln!(f, "{w}")?;
        }
        for name in &self.other_files {
            writeln!(
                f,
                "other file:     {name} (ignored; temporary files are removed at open)"
            )?;
        }
        match &self.error {
            Some(e) => writeln!(f, "status:         BAD: {e}"),
            None => writeln!(f, "status:         OK"),
        }
    }
}

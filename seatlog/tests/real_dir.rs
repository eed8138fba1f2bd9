//! The journal on a real directory: the lock, directories that cannot be
//! used, backup of a live journal, and the check report.

mod common;

use common::{TempDir, append_n};
use seatlog::{Error, Journal, Options, SyncPolicy};

fn options() -> Options {
    Options {
        descriptor: "seats=100".to_string(),
        segment_size: 64 << 10,
        max_record_size: 1024,
        sync: SyncPolicy::Always,
    }
}

#[test]
fn a_locked_directory_gives_a_clear_error_naming_it() {
    let dir = TempDir::new("lock");
    let (journal, _) = Journal::open(&dir.0, options()).unwrap();
    let err = Journal::open(&dir.0, options()).unwrap_err();
    assert!(matches!(err, Error::Locked { .. }), "{err}");
    let text = err.to_string();
    assert!(
        text.contains(&dir.0.display().to_string()) && text.contains("in use"),
        "{text}"
    );
    drop(journal);
    let (_journal, _) = Journal::open(&dir.0, options()).unwrap();
}

#[test]
fn a_path_that_is_not_a_directory_gives_a_clear_error() {
    let dir = TempDir::new("notdir");
    let file = dir.0.join("plain-file");
    std::fs::write(&file, b"x").unwrap();
    let err = Journal::open(&file, options()).unwrap_err().to_string();
    assert!(err.contains(&file.display().to_string()), "{err}");
    let report = seatlog::check(&file);
    assert!(!report.is_ok());
}

#[test]
fn segments_are_preallocated_and_reopen_recovers() {
    let dir = TempDir::new("reopen");
    let (journal, _) = Journal::open(&dir.0, options()).unwrap();
    let records = append_n(&journal, 50);
    drop(journal);
    let segment = dir.0.join(seatlog::format::segment_name(1));
    let meta = std::fs::metadata(&segment).unwrap();
    assert_eq!(meta.len(), 64 << 10);
    {
        use std::os::unix::fs::MetadataExt;
        // Really allocated, not sparse: at least the file's size in blocks.
        assert!(
            meta.blocks() * 512 >= meta.len(),
            "segment is sparse: {} blocks",
            meta.blocks()
        );
    }
    let (_journal, recovered) = Journal::open(&dir.0, options()).unwrap();
    assert_eq!(recovered.records, records);
}

#[test]
fn backup_of_a_live_journal_opens_to_what_was_written() {
    let dir = TempDir::new("live");
    let backup = TempDir::new("backup");
    let (journal, _) = Journal::open(&dir.0, options()).unwrap();
    let records = append_n(&journal, 40);
    journal.write_snapshot(20, b"state at 20").unwrap();
    journal.backup_to(&backup.0).unwrap();
    append_n(&journal, 5); // after the copy: not in it
    // Copying into a directory that already holds a journal is refused.
    assert!(journal.backup_to(&backup.0).is_err());
    let (_copy, recovered) = Journal::open(&backup.0, options()).unwrap();
    assert_eq!(recovered.snapshot.unwrap().seq, 20);
    assert_eq!(recovered.records, records[20..]);
}

#[test]
fn check_reports_what_the_directory_holds() {
    let dir = TempDir::new("check");
    let (journal, _) = Journal::open(&dir.0, options()).unwrap();
    append_n(&journal, 12);
    journal.write_snapshot(5, b"five").unwrap();
    drop(journal);
    let report = seatlog::check(&dir.0);
    assert!(report.is_ok(), "{report}");
    assert_eq!(
        (report.first_seq, report.last_seq, report.snapshot_seq),
        (Some(1), Some(12), Some(5))
    );
    assert_eq!(report.records_after_snapshot, 7);
    assert_eq!(report.descriptor.as_deref(), Some("seats=100"));
    let text = report.to_string();
    assert!(
        text.contains("seq 1 to 12") && text.contains("status:         OK"),
        "{text}"
    );
}

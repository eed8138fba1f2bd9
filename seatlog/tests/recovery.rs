//! Recovery from damaged files: every truncation, every flipped byte,
//! snapshots and their fallback, and directories that are not ours.

mod common;

use common::{append_n, copy_of, open};
use seatlog::format::{SEGMENT_HEADER_LEN, frame_len, segment_name, snapshot_name};
use seatlog::testing::FaultyStorage;
use seatlog::{Error, Record};

/// A closed journal of `n` records in one segment, and the records.
fn journal_of(n: u64) -> (FaultyStorage, Vec<Record>) {
    let storage = FaultyStorage::new();
    let (journal, _) = open(&storage).unwrap();
    let records = append_n(&journal, n);
    drop(journal);
    (storage, records)
}

#[test]
fn every_truncation_recovers_exactly_the_whole_records_before_it() {
    let (storage, records) = journal_of(5);
    let seg = segment_name(1);
    let bytes = storage.file_bytes(&seg).unwrap();
    let mut ends = vec![SEGMENT_HEADER_LEN];
    for r in &records {
        ends.push(ends.last().unwrap() + frame_len(r.payload.len()));
    }
    let data_end = *ends.last().unwrap();
    for cut in 0..=data_end + 4 {
        // Two ways a tail goes missing: a shorter file, and zeros over the
        // end of a preallocated one.
        let mut zeroed = bytes.clone();
        zeroed[cut..].fill(0);
        for damaged in [bytes[..cut].to_vec(), zeroed] {
            let copy = copy_of(&storage);
            copy.set_file_bytes(&seg, damaged);
            let whole = ends[1..].iter().filter(|&&end| end <= cut).count();
            let (journal, recovered) = open(&copy).unwrap_or_else(|e| panic!("cut at {cut}: {e}"));
            assert_eq!(recovered.records, records[..whole], "cut at {cut}");
            assert_eq!(
                recovered.torn_tail.is_some(),
                cut < data_end && !ends.contains(&cut) || (cut > 0 && cut < SEGMENT_HEADER_LEN),
                "cut at {cut}"
            );
            // The journal goes on from there.
            let more = append_n(&journal, 1);
            assert_eq!(more[0].seq, whole as u64 + 1, "cut at {cut}");
            drop(journal);
            let (_journal, again) = open(&copy).unwrap();
            assert_eq!(again.torn_tail, None, "cut at {cut}: tail was not repaired");
            assert_eq!(again.records.len(), whole + 1, "cut at {cut}");
        }
    }
}

#[test]
fn every_flipped_byte_is_detected() {
    // Enough records for three segments, so flips hit earlier segments too.
    let (storage, records) = journal_of(24);
    let names = storage.names();
    assert!(
        names.iter().filter(|n| n.starts_with("journal-")).count() >= 3,
        "{names:?}"
    );
    for name in names
        .iter()
        .filter(|n| n.starts_with("journal-") || *n == "META")
    {
        let bytes = storage.file_bytes(name).unwrap();
        let data_end = bytes.iter().rposition(|&b| b != 0).map_or(0, |i| i + 1);
        for offset in 0..(data_end + 40).min(bytes.len()) {
            for mask in [0xFF, 0x01, 0x80] {
                let copy = copy_of(&storage);
                let mut bad = bytes.clone();
                bad[offset] ^= mask;
                copy.set_file_bytes(name, bad);
                match open(&copy) {
                    Err(Error::Corrupt { .. }) => {}
                    Err(other) => panic!("{name}@{offset}^{mask:#x}: unexpected error {other}"),
                    Ok((_, recovered)) => {
                        // Only a flip in the zero padding may pass, and then
                        // nothing may change.
                        assert!(
                            offset >= data_end,
                            "{name}@{offset}^{mask:#x}: flip in data not detected"
                        );
                        assert_eq!(recovered.records, records, "{name}@{offset}^{mask:#x}");
                    }
                }
            }
        }
    }
}

#[test]
fn corruption_names_the_file_and_offset() {
    let (storage, records) = journal_of(3);
    let seg = segment_name(1);
    let mut bytes = storage.file_bytes(&seg).unwrap();
    let second = SEGMENT_HEADER_LEN + frame_len(records[0].payload.len());
    bytes[second + 40] ^= 0x10; // inside the second record's payload
    storage.set_file_bytes(&seg, bytes);
    let err = open(&storage).unwrap_err().to_string();
    assert!(
        err.contains(&seg) && err.contains(&format!("at byte {second}")),
        "{err}"
    );
    let report = seatlog::check_in(&storage, 64);
    assert!(!report.is_ok());
    assert!(
        report.to_string().contains(&format!("at byte {second}")),
        "{report}"
    );
}

#[test]
fn a_gap_in_sequence_numbers_is_corruption() {
    let (storage, _) = journal_of(24);
    let segments: Vec<String> = storage
        .names()
        .into_iter()
        .filter(|n| n.starts_with("journal-"))
        .collect();
    // Drop a middle segment: the records it held are missing.
    let copy = FaultyStorage::new();
    for name in storage.names().into_iter().filter(|n| *n != segments[1]) {
        copy.set_file_bytes(&name, storage.file_bytes(&name).unwrap());
    }
    let err = open(&copy).unwrap_err().to_string();
    assert!(
        err.contains("missing") && err.contains(&segments[2]),
        "{err}"
    );
}

#[test]
fn snapshots_bound_replay_and_a_corrupt_newest_falls_back() {
    let storage = FaultyStorage::new();
    let (journal, _) = open(&storage).unwrap();
    let records = append_n(&journal, 30);
    assert!(matches!(
        journal.write_snapshot(31, b"too far"),
        Err(Error::SnapshotPastEnd { seq: 31, last: 30 })
    ));
    journal.write_snapshot(10, b"state at 10").unwrap();
    journal.write_snapshot(25, b"state at 25").unwrap();
    let more = append_n(&journal, 5);
    // Segments wholly covered by the older snapshot (10) are gone.
    let first_segment = storage
        .names()
        .into_iter()
        .find(|n| n.starts_with("journal-"))
        .unwrap();
    let first_seq: u64 = first_segment[8..28].parse().unwrap();
    assert!(first_seq > 1 && first_seq <= 11, "{first_segment}");
    // Power loss, torn: snapshot 25 and everything after it survive.
    let rebooted = storage.power_loss(Some(7));
    drop(journal);
    let (journal, recovered) = open(&rebooted).unwrap();
    let snapshot = recovered.snapshot.unwrap();
    assert_eq!(
        (snapshot.seq, &snapshot.bytes[..]),
        (25, &b"state at 25"[..])
    );
    let want: Vec<Record> = records[25..].iter().chain(&more).cloned().collect();
    assert_eq!(recovered.records, want);
    assert!(recovered.warnings.is_empty());
    drop(journal);

    // The newest snapshot corrupt: back to 10, loudly, with every record.
    let name = snapshot_name(25);
    let mut bad = rebooted.file_bytes(&name).unwrap();
    *bad.last_mut().unwrap() ^= 1;
    rebooted.set_file_bytes(&name, bad);
    let (journal, recovered) = open(&rebooted).unwrap();
    assert_eq!(recovered.snapshot.unwrap().seq, 10);
    assert!(
        recovered.warnings[0].contains("WARNING") && recovered.warnings[0].contains(&name),
        "{:?}",
        recovered.warnings
    );
    let want: Vec<Record> = records[10..].iter().chain(&more).cloned().collect();
    assert_eq!(recovered.records, want);
    drop(journal);

    // Both corrupt: refuse.
    let name = snapshot_name(10);
    let mut bad = rebooted.file_bytes(&name).unwrap();
    bad[0] ^= 1;
    rebooted.set_file_bytes(&name, bad);
    let err = open(&rebooted).unwrap_err();
    assert!(matches!(err, Error::NoValidSnapshot { .. }), "{err}");
}

#[test]
fn meta_mismatch_is_a_clear_error() {
    let (storage, _) = journal_of(1);
    let mut options = common::small_options();
    options.descriptor = "seats=200".to_string();
    let err = seatlog::Journal::open_in(std::sync::Arc::new(storage.clone()), options)
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("seats=100") && err.contains("seats=200"),
        "{err}"
    );
}

#[test]
fn garbage_files_named_like_ours_are_refused_and_others_ignored() {
    let (storage, records) = journal_of(2);
    storage.set_file_bytes("notes.txt", b"hello".to_vec());
    let (journal, recovered) = open(&storage).unwrap();
    assert_eq!(recovered.records, records);
    drop(journal);
    assert!(
        seatlog::check_in(&storage, 64)
            .to_string()
            .contains("notes.txt")
    );

    storage.set_file_bytes("journal-xyz.log", b"junk".to_vec());
    let err = open(&storage).unwrap_err().to_string();
    assert!(err.contains("journal-xyz.log"), "{err}");
}

#[test]
fn a_second_open_of_the_same_directory_is_refused() {
    let (storage, _) = journal_of(1);
    let (journal, _) = open(&storage).unwrap();
    assert!(matches!(open(&storage), Err(Error::Locked { .. })));
    drop(journal);
    assert!(open(&storage).is_ok());
}

//! Helpers shared by the integration tests.
#![allow(dead_code, unreachable_pub)]

use std::sync::Arc;

use seatlog::testing::FaultyStorage;
use seatlog::{Journal, Options, Record, Recovered, SyncPolicy};

/// Small segments so a few records span several of them.
pub fn small_options() -> Options {
    Options {
        descriptor: "seats=100".to_string(),
        segment_size: 512,
        max_record_size: 64,
        sync: SyncPolicy::Always,
    }
}

pub fn open(storage: &FaultyStorage) -> Result<(Journal, Recovered), seatlog::Error> {
    Journal::open_in(Arc::new(storage.clone()), small_options())
}

/// The payload of the `i`-th test record.
pub fn payload(i: u64) -> Vec<u8> {
    format!("record {i} {}", "x".repeat((i % 7) as usize * 5)).into_bytes()
}

/// Appends `n` records (payload `payload(seq)`, map `i % 3`, time
/// `1000 + i`), each waited for, and returns them as they should recover.
pub fn append_n(journal: &Journal, n: u64) -> Vec<Record> {
    (0..n)
        .map(|i| {
            let mut record = None;
            let (map, time_ms) = ((i % 3) as u32, 1000 + i);
            let ticket = journal
                .append(map, time_ms, |seq| {
                    record = Some(Record {
                        seq,
                        map,
                        time_ms,
                        payload: payload(seq),
                    });
                    payload(seq)
                })
                .expect("append");
            journal.wait_durable(ticket).expect("durable");
            record.expect("closure ran")
        })
        .collect()
}

/// A copy of every file in `storage`, all durable, in a fresh directory.
pub fn copy_of(storage: &FaultyStorage) -> FaultyStorage {
    let copy = FaultyStorage::new();
    for name in storage.names() {
        copy.set_file_bytes(
            &name,
            storage.file_bytes(&name).expect("listed file exists"),
        );
    }
    copy
}

/// A unique, empty directory under the system temp dir, removed on drop.
pub struct TempDir(pub std::path::PathBuf);

impl TempDir {
    pub fn new(tag: &str) -> TempDir {
        static COUNTER: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
        // Relaxed: only uniqueness of the number matters.
        let n = COUNTER.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.subsec_nanos());
        let path = std::env::temp_dir().join(format!(
            "seatlog-test-{tag}-{}-{n}-{nanos}",
            std::process::id()
        ));
        std::fs::create_dir_all(&path).expect("create temp dir");
        TempDir(path)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

//! Reading a data directory back: which files are ours, the newest valid
//! snapshot, and every record after it, telling a torn tail (dropped and
//! zeroed) from corruption (refused).
//!
//! The rule, exact because segments are zero-filled: `data_end` is one past
//! the last non-zero byte of a segment. At offset `o`, `o >= data_end` is
//! the clean end; a record reaching past `data_end` is a torn tail, allowed
//! only in the last segment; a record wholly inside `data_end` that fails a
//! check is corruption. Sequence numbers run on by one, across segments
//! too, except where a snapshot covers the gap.

use crate::codec::{self, Decoded, Record};
use crate::error::Error;
use crate::meta::{LOCK_FILE, META_FILE};
use crate::segment::{self, SEGMENT_HEADER_LEN};
use crate::snapshot;
use crate::storage::Storage;

/// The files of a data directory, sorted by kind.
#[derive(Debug, Default)]
pub(crate) struct Files {
    /// Segment first seqs, ascending.
    pub(crate) segments: Vec<u64>,
    /// Snapshot seqs, ascending.
    pub(crate) snapshots: Vec<u64>,
    /// Leftover temporary files of an interrupted write (removed at open).
    pub(crate) temps: Vec<String>,
    /// Files that are none of ours (left alone).
    pub(crate) ignored: Vec<String>,
}

/// Sorts the directory's names. A name with one of our prefixes that does
/// not parse is an error: it is most likely a damaged or misplaced file
/// that the operator should look at, not something to skip silently.
pub(crate) fn classify(storage: &dyn Storage) -> Result<Files, Error> {
    let dir = storage.describe();
    let names = storage
        .list()
        .map_err(|e| Error::io(format!("list {dir}"), e))?;
    let mut files = Files::default();
    for name in names {
        if name == LOCK_FILE || name == META_FILE {
            continue;
        } else if name.ends_with(".tmp")
            && (name.starts_with("snapshot-")
                || name.starts_with("prealloc-")
                || name == "META.tmp")
        {
            files.temps.push(name);
        } else if name.starts_with("journal-") {
            let seq = segment::parse_name(&name).ok_or_else(|| Error::BadFileName {
                dir: dir.clone(),
                name: name.clone(),
            })?;
            files.segments.push(seq);
        } else if name.starts_with("snapshot-") {
            let seq = snapshot::parse_name(&name).ok_or_else(|| Error::BadFileName {
                dir: dir.clone(),
                name: name.clone(),
            })?;
            files.snapshots.push(seq);
        } else {
            files.ignored.push(name);
        }
    }
    files.segments.sort_unstable();
    files.snapshots.sort_unstable();
    files.temps.sort();
    files.ignored.sort();
    Ok(files)
}

/// One segment as found.
#[derive(Debug, Clone)]
pub struct SegmentSummary {
    /// File name.
    pub name: String,
    /// Seq of its first record (from the name and header).
    pub first_seq: u64,
    /// Whole records in it.
    pub records: u64,
    /// Byte offset just past its last whole record.
    pub end_offset: u64,
    /// File length (its preallocated size).
    pub file_len: u64,
}

/// A torn tail: where it started and how many bytes were dropped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TornTail {
    /// The segment's file name.
    pub file: String,
    /// Offset of the incomplete record.
    pub offset: u64,
    /// Bytes from there to the last non-zero byte.
    pub bytes: u64,
}

/// Everything read from a directory.
#[derive(Debug, Default)]
pub(crate) struct Scan {
    pub(crate) files: Files,
    pub(crate) snapshot: Option<(u64, Vec<u8>)>,
    pub(crate) warnings: Vec<String>,
    /// Records after the snapshot, in seq order.
    pub(crate) records: Vec<Record>,
    pub(crate) segments: Vec<SegmentSummary>,
    pub(crate) torn_tail: Option<TornTail>,
    /// The last seq the directory holds (record or snapshot); 0 if none.
    pub(crate) last_seq: u64,
}

/// Reads the directory. With `repair`, a torn tail is zeroed and synced
/// (a segment torn inside its own header is removed), so the next open
/// finds a clean end; without, nothing is written (for `check`).
pub(crate) fn scan(storage: &dyn Storage, max_payload: usize, repair: bool) -> Result<Scan, Error> {
    let dir = storage.describe();
    let files = classify(storage)?;
    let loaded = snapshot::load_newest(storage, &files.snapshots)?;
    let base = loaded.snapshot.as_ref().map_or(0, |(seq, _)| *seq);
    let mut scan = Scan {
        snapshot: loaded.snapshot,
        warnings: loaded.warnings,
        last_seq: base,
        ..Scan::default()
    };
    let mut next_seq = 1;
    for (i, &first) in files.segments.iter().enumerate() {
        let is_last = i + 1 == files.segments.len();
        let name = segment::name(first);
        let path = format!("{dir}/{name}");
        let corrupt = |offset: usize, reason: String| Error::Corrupt {
            file: path.clone(),
            offset: offset as u64,
            reason,
        };
        let io = |e| Error::io(format!("read {path}"), e);
        let mut file = storage.open(&name).map_err(io)?;
        let buf = file.read_all().map_err(io)?;
        let end = codec::data_end(&buf);
        if is_last && end < SEGMENT_HEADER_LEN {
            // Torn while being created: it holds no record.
            scan.torn_tail = Some(TornTail {
                file: name.clone(),
                offset: 0,
                bytes: end as u64,
            });
            if repair {
                drop(file);
                storage
                    .remove(&name)
                    .and_then(|()| storage.sync_dir())
                    .map_err(|e| Error::io(format!("remove {path}"), e))?;
            }
            break;
        }
        let header_first =
            segment::decode_header(&buf).map_err(|why| corrupt(0, why.to_string()))?;
        if header_first != first {
            return Err(corrupt(
                0,
                format!("header says first seq {header_first}, name says {first}"),
            ));
        }
        if first != next_seq && first > base + 1 {
            return Err(corrupt(
                0,
                format!("records {next_seq}..{} are missing", first - 1),
            ));
        }
        next_seq = first;
        let mut offset = SEGMENT_HEADER_LEN;
        let mut records = 0;
        loop {
            match codec::decode(&buf, offset, end, max_payload) {
                Decoded::Record(record, len) => {
                    if record.seq != next_seq {
                        return Err(corrupt(
                            offset,
                            format!("seq {} where {next_seq} was expected", record.seq),
                        ));
                    }
                    next_seq += 1;
                    records += 1;
                    offset += len;
                    if record.seq > base {
                        scan.records.push(record);
                    }
                }
                Decoded::End => break,
                Decoded::Torn if !is_last => {
                    return Err(corrupt(
                        offset,
                        "incomplete record in a segment that is not the last".to_string(),
                    ));
                }
                Decoded::Torn => {
                    scan.torn_tail = Some(TornTail {
                        file: name.clone(),
                        offset: offset as u64,
                        bytes: (end - offset) as u64,
                    });
                    if repair {
                        file.write_at(offset as u64, &vec![0; end - offset])
                            .and_then(|()| file.sync_data())
                            .map_err(|e| Error::io(format!("truncate torn tail of {path}"), e))?;
                    }
                    break;
                }
                Decoded::Corrupt(why) => return Err(corrupt(offset, why.to_string())),
            }
        }
        scan.segments.push(SegmentSummary {
            name,
            first_seq: first,
            records,
            end_offset: offset as u64,
            file_len: buf.len() as u64,
        });
    }
    scan.last_seq = scan.last_seq.max(next_seq - 1);
    scan.files = files;
    Ok(scan)
}

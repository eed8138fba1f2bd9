//! Record framing: how one record is laid out in a segment, and the one
//! function that tells a whole record from a torn tail from corruption.
//!
//! | bytes | field | |
//! |---|---|---|
//! | 0..4 | `header_crc` | CRC32C of bytes 4..32, so a flipped length is caught |
//! | 4..8 | `payload_crc` | CRC32C of the payload |
//! | 8..12 | `len` | payload length |
//! | 12..20 | `seq` | sequence number |
//! | 20..24 | `map` | map id |
//! | 24..32 | `time_ms` | caller's wall clock, ms since the Unix epoch |
//! | 32..32+len | payload | |
//! | 32+len | `0xA5` | trailer: a whole record never ends in a zero byte |
//!
//! All integers are little-endian.

/// Bytes of a record header.
pub const RECORD_HEADER_LEN: usize = 32;
/// The byte after every payload.
pub(crate) const TRAILER: u8 = 0xA5;

/// One journal record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record {
    /// Sequence number, assigned by the journal: 1, 2, 3, ...
    pub seq: u64,
    /// The map the record belongs to.
    pub map: u32,
    /// The caller's timestamp, ms since the Unix epoch.
    pub time_ms: u64,
    /// The caller's bytes.
    pub payload: Vec<u8>,
}

/// Bytes a record with a payload of `payload_len` bytes takes on disk.
pub fn frame_len(payload_len: usize) -> usize {
    RECORD_HEADER_LEN + payload_len + 1
}

/// Appends the framed record to `out`.
pub(crate) fn encode(seq: u64, map: u32, time_ms: u64, payload: &[u8], out: &mut Vec<u8>) {
    let start = out.len();
    out.extend_from_slice(&[0; 4]);
    out.extend_from_slice(&crc32c::crc32c(payload).to_le_bytes());
    out.extend_from_slice(&(payload.len() as u32).to_le_bytes());
    out.extend_from_slice(&seq.to_le_bytes());
    out.extend_from_slice(&map.to_le_bytes());
    out.extend_from_slice(&time_ms.to_le_bytes());
    let header_crc = crc32c::crc32c(&out[start + 4..start + RECORD_HEADER_LEN]);
    out[start..start + 4].copy_from_slice(&header_crc.to_le_bytes());
    out.extend_from_slice(payload);
    out.push(TRAILER);
}

/// What lies at one offset of a segment.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Decoded {
    /// A whole, valid record taking `len` bytes.
    Record(Record, usize),
    /// Nothing but zeros from here: the clean end of the data.
    End,
    /// A record that reaches past the last non-zero byte: a write that was
    /// cut short.
    Torn,
    /// A record wholly inside the data that fails a check.
    Corrupt(&'static str),
}

/// One past the last non-zero byte of `buf` (segments are zero-filled).
pub(crate) fn data_end(buf: &[u8]) -> usize {
    buf.iter().rposition(|&b| b != 0).map_or(0, |i| i + 1)
}

/// Decodes the record at `offset`, where `end` is [`data_end`] of `buf`.
///
/// The rule (docs/design.md, "Recovery"): at or past `end` is the clean
/// end; a record whose extent reaches past `end` is torn; a record wholly
/// before `end` that fails a checksum, is longer than `max_payload` or lacks
/// its trailer is corrupt.
pub(crate) fn decode(buf: &[u8], offset: usize, end: usize, max_payload: usize) -> Decoded {
    if offset >= end {
        return Decoded::End;
    }
    if offset + RECORD_HEADER_LEN > end {
        return Decoded::Torn;
    }
    let h = &buf[offset..offset + RECORD_HEADER_LEN];
    let u32_at = |i: usize| u32::from_le_bytes(h[i..i + 4].try_into().expect("4 bytes"));
    let u64_at = |i: usize| u64::from_le_bytes(h[i..i + 8].try_into().expect("8 bytes"));
    if crc32c::crc32c(&h[4..]) != u32_at(0) {
        return Decoded::Corrupt("record header checksum mismatch");
    }
    let len = u32_at(8) as usize;
    if len > max_payload {
        return Decoded::Corrupt("record longer than the maximum record size");
    }
    let total = frame_len(len);
    if offset + total > end {
        return Decoded::Torn;
    }
    let payload = &buf[offset + RECORD_HEADER_LEN..offset + RECORD_HEADER_LEN + len];
    if crc32c::crc32c(payload) != u32_at(4) {
        return Decoded::Corrupt("record payload checksum mismatch");
    }
    if buf[offset + total - 1] != TRAILER {
        return Decoded::Corrupt("record trailer byte missing");
    }
    let record = Record {
        seq: u64_at(12),
        map: u32_at(20),
        time_ms: u64_at(24),
        payload: payload.to_vec(),
    };
    Decoded::Record(record, total)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn round_trip(seq: u64, map: u32, time_ms: u64, payload in proptest::collection::vec(any::<u8>(), 0..300), lead in 0usize..40) {
            let mut buf = vec![0xEE; lead];
            encode(seq, map, time_ms, &payload, &mut buf);
            prop_assert_eq!(buf.len(), lead + frame_len(payload.len()));
            let end = data_end(&buf);
            let want = Record { seq, map, time_ms, payload: payload.clone() };
            prop_assert_eq!(decode(&buf, lead, end, 1 << 20), Decoded::Record(want, frame_len(payload.len())));
        }
    }

    #[test]
    fn zeros_are_the_end_and_a_short_header_is_torn() {
        let mut buf = Vec::new();
        encode(1, 2, 3, b"abc", &mut buf);
        buf.resize(100, 0);
        let end = data_end(&buf);
        assert_eq!(end, frame_len(3));
        assert_eq!(decode(&buf, end, end, 1 << 20), Decoded::End);
        assert_eq!(decode(&buf[..10], 0, 10, 1 << 20), Decoded::Torn);
    }

    #[test]
    fn a_flipped_length_is_corruption_not_a_torn_tail() {
        let mut buf = Vec::new();
        encode(1, 2, 3, b"abc", &mut buf);
        buf[8] ^= 0x40;
        let end = data_end(&buf);
        assert_eq!(
            decode(&buf, 0, end, 1 << 20),
            Decoded::Corrupt("record header checksum mismatch")
        );
    }
}

//! Segment files: names, the header, and preallocation.
//!
//! A segment is `journal-<first seq, 20 digits>.log`: a 24-byte header
//! (magic `SEATJRNL`, format version u32 = 1, first seq u64, CRC32C of the
//! previous 20 bytes, little-endian), then records back to back, then zeros
//! to its preallocated size.

/// Bytes of a segment header.
pub const SEGMENT_HEADER_LEN: usize = 24;
/// The segment magic.
pub(crate) const MAGIC: &[u8; 8] = b"SEATJRNL";
/// The format version this crate writes and reads.
pub(crate) const FORMAT_VERSION: u32 = 1;

/// The file name of the segment whose first record is `first_seq`.
pub fn name(first_seq: u64) -> String {
    format!("journal-{first_seq:020}.log")
}

/// Parses a segment name back to its first seq. `None` if the name has the
/// segment prefix but not the exact form (the caller reports it).
pub(crate) fn parse_name(name: &str) -> Option<u64> {
    parse_numbered(name, "journal-", ".log")
}

/// `<prefix><20 digits><suffix>` to the number.
pub(crate) fn parse_numbered(name: &str, prefix: &str, suffix: &str) -> Option<u64> {
    let digits = name.strip_prefix(prefix)?.strip_suffix(suffix)?;
    if digits.len() != 20 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    digits.parse().ok()
}

/// The header of a segment starting at `first_seq`.
pub(crate) fn encode_header(first_seq: u64, out: &mut Vec<u8>) {
    let start = out.len();
    out.extend_from_slice(MAGIC);
    out.extend_from_slice(&FORMAT_VERSION.to_le_bytes());
    out.extend_from_slice(&first_seq.to_le_bytes());
    let crc = crc32c::crc32c(&out[start..]);
    out.extend_from_slice(&crc.to_le_bytes());
}

/// Checks a segment header; returns its first seq or what is wrong.
pub(crate) fn decode_header(buf: &[u8]) -> Result<u64, &'static str> {
    let h = buf
        .get(..SEGMENT_HEADER_LEN)
        .ok_or("segment shorter than its header")?;
    if &h[..8] != MAGIC {
        return Err("bad segment magic");
    }
    if crc32c::crc32c(&h[..20]).to_le_bytes() != h[20..24] {
        return Err("segment header checksum mismatch");
    }
    if u32::from_le_bytes(h[8..12].try_into().expect("4 bytes")) != FORMAT_VERSION {
        return Err("unsupported segment format version");
    }
    Ok(u64::from_le_bytes(h[12..20].try_into().expect("8 bytes")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_odd_names_are_refused() {
        assert_eq!(name(7), "journal-00000000000000000007.log");
        assert_eq!(parse_name(&name(u64::MAX)), Some(u64::MAX));
        assert_eq!(parse_name("journal-xyz.log"), None);
        assert_eq!(parse_name("journal-7.log"), None);
    }

    #[test]
    fn header_round_trip_and_flip() {
        let mut h = Vec::new();
        encode_header(42, &mut h);
        assert_eq!(decode_header(&h), Ok(42));
        h[13] ^= 1;
        assert!(decode_header(&h).is_err());
    }
}

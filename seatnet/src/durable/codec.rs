//! Little-endian integers and LEB128 varints for the record and snapshot
//! payloads, read back with bounds checks (a short or malformed payload is
//! an error, never a panic).

use std::ops::Range;

/// Appends `v` as a LEB128 varint (7 bits a byte, low first).
pub(crate) fn put_varint(out: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

/// Appends runs as a count, then `start` and `len` of each.
pub(crate) fn put_runs(out: &mut Vec<u8>, runs: &[Range<u64>]) {
    put_varint(out, runs.len() as u64);
    for run in runs {
        put_varint(out, run.start);
        put_varint(out, run.end - run.start);
    }
}

/// A cursor over a payload.
#[derive(Debug)]
pub(crate) struct Reader<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl<'a> Reader<'a> {
    pub(crate) fn new(bytes: &'a [u8]) -> Self {
        Reader { bytes, at: 0 }
    }

    pub(crate) fn is_done(&self) -> bool {
        self.at == self.bytes.len()
    }

    pub(crate) fn take(&mut self, n: usize) -> Result<&'a [u8], String> {
        let end = self
            .at
            .checked_add(n)
            .filter(|&e| e <= self.bytes.len())
            .ok_or_else(|| format!("payload ends early at byte {}", self.at))?;
        let slice = &self.bytes[self.at..end];
        self.at = end;
        Ok(slice)
    }

    pub(crate) fn u8(&mut self) -> Result<u8, String> {
        Ok(self.take(1)?[0])
    }

    pub(crate) fn u64(&mut self) -> Result<u64, String> {
        let b = self.take(8)?;
        Ok(u64::from_le_bytes(b.try_into().expect("8 bytes")))
    }

    pub(crate) fn u128(&mut self) -> Result<u128, String> {
        let b = self.take(16)?;
        Ok(u128::from_le_bytes(b.try_into().expect("16 bytes")))
    }

    pub(crate) fn varint(&mut self) -> Result<u64, String> {
        let mut v = 0u64;
        for shift in (0..64).step_by(7) {
            let b = self.u8()?;
            v |= u64::from(b & 0x7f) << shift;
            if b & 0x80 == 0 {
                return Ok(v);
            }
        }
        Err(format!("varint too long at byte {}", self.at))
    }

    /// A count that cannot exceed the bytes left (each item takes at least
    /// `min_item` bytes), so a corrupt count cannot make us allocate much.
    pub(crate) fn count(&mut self, min_item: usize) -> Result<usize, String> {
        let n = self.varint()?;
        let left = (self.bytes.len() - self.at) as u64;
        if n.saturating_mul(min_item as u64) > left {
            return Err(format!("count {n} exceeds the payload at byte {}", self.at));
        }
        Ok(n as usize)
    }

    /// Runs within `capacity` seats.
    pub(crate) fn runs(&mut self, capacity: u64) -> Result<Vec<Range<u64>>, String> {
        let n = self.count(2)?;
        let mut runs = Vec::with_capacity(n);
        for _ in 0..n {
            let start = self.varint()?;
            let len = self.varint()?;
            let end = start
                .checked_add(len)
                .filter(|&e| e <= capacity && len > 0)
                .ok_or_else(|| format!("run {start}+{len} outside {capacity} seats"))?;
            runs.push(start..end);
        }
        Ok(runs)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn varints_and_runs_round_trip() {
        let mut out = Vec::new();
        for v in [0, 1, 127, 128, 300, u64::MAX] {
            put_varint(&mut out, v);
        }
        put_runs(&mut out, &[3..7, 100..101]);
        let mut r = Reader::new(&out);
        for v in [0, 1, 127, 128, 300, u64::MAX] {
            assert_eq!(r.varint().unwrap(), v);
        }
        assert_eq!(r.runs(200).unwrap(), [3..7, 100..101]);
        assert!(r.is_done());
        assert!(r.u8().is_err());
    }

    #[test]
    fn runs_outside_the_map_are_refused() {
        let mut out = Vec::new();
        put_runs(&mut out, &[3..7, 8..9]);
        assert!(Reader::new(&out).runs(5).is_err());
        let mut huge = Vec::new();
        put_varint(&mut huge, u64::MAX);
        assert!(Reader::new(&huge).runs(5).is_err());
    }
}

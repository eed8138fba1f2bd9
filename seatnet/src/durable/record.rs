//! The payload of one journal record: what one change request did, enough
//! to replay it (format in `docs/design.md`, "seatnet's journal records").

use std::ops::Range;

use super::codec::{Reader, put_runs, put_varint};

/// The format of a change record (the first byte of its payload).
pub(crate) const RECORD_VERSION: u8 = 1;
/// The first byte of a map's removal record (`REMOVEMAP`), whose payload
/// is this byte alone (the record's map id names the map). Builds before
/// it refuse it as an unknown version, as they must: they cannot forget
/// a map.
pub(crate) const MAP_REMOVED: u8 = 2;

const HAS_GRANT_REF: u8 = 1;
const HAS_RELEASE: u8 = 2;
const HAS_ID: u8 = 4;
/// A map is defined: its name and spec (the record's map id is its id).
const DEFINES_MAP: u8 = 8;
/// The granted seats are a hold (reference, expiry, first placed), not a
/// booking.
const HAS_HOLD: u8 = 16;
/// A hold becomes a booking under the same reference.
const HAS_CONFIRM: u8 = 32;
/// A hold's expiry moves.
const HAS_EXTEND: u8 = 64;
/// The release is a hold's expiry (its reference answers `expired`).
const RELEASE_EXPIRED: u8 = 128;

/// What a change did, borrowed from the request being answered.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub(crate) struct Change<'a> {
    /// Seats granted (library seats, ascending runs).
    pub(crate) granted: &'a [Range<u64>],
    /// The booking that holds them (none for an original request).
    pub(crate) booking: Option<u128>,
    /// A booking cancelled and its seats, freed.
    pub(crate) released: Option<(u128, &'a [Range<u64>])>,
    /// The request id and the exact reply (without terminator).
    pub(crate) id: Option<(&'a str, &'a [u8])>,
    /// A new map: its name and spec.
    pub(crate) define: Option<(&'a str, &'a str)>,
    /// The grant is a hold: reference, expiry and first placement (ms).
    pub(crate) hold: Option<HoldTimes>,
    /// A hold confirmed into a booking.
    pub(crate) confirm: Option<u128>,
    /// A hold extended: reference and new expiry (ms).
    pub(crate) extend: Option<(u128, u64)>,
    /// The release is an expiry.
    pub(crate) expired: bool,
    /// The map is removed (a removal record: nothing else is written).
    pub(crate) removed: bool,
}

/// A hold's reference and times, as journaled.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct HoldTimes {
    pub(crate) reference: u128,
    pub(crate) expires_ms: u64,
    pub(crate) placed_ms: u64,
}

impl Change<'_> {
    /// The payload.
    pub(crate) fn encode(&self) -> Vec<u8> {
        if self.removed {
            return vec![MAP_REMOVED];
        }
        let mut out = Vec::with_capacity(64);
        let mut flags = 0;
        if self.booking.is_some() {
            flags |= HAS_GRANT_REF;
        }
        if self.released.is_some() {
            flags |= HAS_RELEASE;
        }
        if self.id.is_some() {
            flags |= HAS_ID;
        }
        if self.define.is_some() {
            flags |= DEFINES_MAP;
        }
        if self.hold.is_some() {
            flags |= HAS_HOLD;
        }
        if self.confirm.is_some() {
            flags |= HAS_CONFIRM;
        }
        if self.extend.is_some() {
            flags |= HAS_EXTEND;
        }
        if self.expired {
            flags |= RELEASE_EXPIRED;
        }
        out.extend_from_slice(&[RECORD_VERSION, flags]);
        if let Some(r) = self.booking {
            out.extend_from_slice(&r.to_le_bytes());
        }
        put_runs(&mut out, self.granted);
        if let Some((r, runs)) = self.released {
            out.extend_from_slice(&r.to_le_bytes());
            put_runs(&mut out, runs);
        }
        if let Some((id, reply)) = self.id {
            out.push(id.len() as u8);
            out.extend_from_slice(id.as_bytes());
            put_varint(&mut out, reply.len() as u64);
            out.extend_from_slice(reply);
        }
        if let Some((name, spec)) = self.define {
            for text in [name, spec] {
                out.push(text.len() as u8);
                out.extend_from_slice(text.as_bytes());
            }
        }
        if let Some(h) = self.hold {
            out.extend_from_slice(&h.reference.to_le_bytes());
            out.extend_from_slice(&h.expires_ms.to_le_bytes());
            out.extend_from_slice(&h.placed_ms.to_le_bytes());
        }
        if let Some(r) = self.confirm {
            out.extend_from_slice(&r.to_le_bytes());
        }
        if let Some((r, expires)) = self.extend {
            out.extend_from_slice(&r.to_le_bytes());
            out.extend_from_slice(&expires.to_le_bytes());
        }
        out
    }
}

/// A decoded payload, owned.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub(crate) struct ChangeRecord {
    pub(crate) granted: Vec<Range<u64>>,
    pub(crate) booking: Option<u128>,
    pub(crate) released: Option<(u128, Vec<Range<u64>>)>,
    pub(crate) id: Option<(String, Vec<u8>)>,
    pub(crate) define: Option<(String, String)>,
    pub(crate) hold: Option<HoldTimes>,
    pub(crate) confirm: Option<u128>,
    pub(crate) extend: Option<(u128, u64)>,
    pub(crate) expired: bool,
    pub(crate) removed: bool,
}

impl ChangeRecord {
    /// Reads a payload for a map of `capacity` seats (0 for a map not yet
    /// defined: only a definition may come with it).
    pub(crate) fn decode(bytes: &[u8], capacity: u64) -> Result<ChangeRecord, String> {
        let mut r = Reader::new(bytes);
        let version = r.u8()?;
        if version == MAP_REMOVED && r.is_done() {
            return Ok(ChangeRecord {
                removed: true,
                ..ChangeRecord::default()
            });
        }
        if version != RECORD_VERSION {
            return Err(format!(
                "record format version {version}, this build reads {RECORD_VERSION} and {MAP_REMOVED} (a map's removal)"
            ));
        }
        // Every bit of the flags has a meaning (earlier builds refuse the
        // ones they do not know).
        let flags = r.u8()?;
        let booking = if flags & HAS_GRANT_REF != 0 {
            Some(r.u128()?)
        } else {
            None
        };
        let granted = r.runs(capacity)?;
        let released = if flags & HAS_RELEASE != 0 {
            Some((r.u128()?, r.runs(capacity)?))
        } else {
            None
        };
        let id = if flags & HAS_ID != 0 {
            let len = usize::from(r.u8()?);
            let id = std::str::from_utf8(r.take(len)?)
                .map_err(|_| "request id is not UTF-8".to_string())?
                .to_owned();
            let reply_len = r.count(1)?;
            Some((id, r.take(reply_len)?.to_vec()))
        } else {
            None
        };
        let define = if flags & DEFINES_MAP != 0 {
            let mut text = || -> Result<String, String> {
                let len = usize::from(r.u8()?);
                std::str::from_utf8(r.take(len)?)
                    .map(str::to_owned)
                    .map_err(|_| "map name or spec is not UTF-8".to_string())
            };
            Some((text()?, text()?))
        } else {
            None
        };
        let hold = if flags & HAS_HOLD != 0 {
            Some(HoldTimes {
                reference: r.u128()?,
                expires_ms: r.u64()?,
                placed_ms: r.u64()?,
            })
        } else {
            None
        };
        let confirm = if flags & HAS_CONFIRM != 0 {
            Some(r.u128()?)
        } else {
            None
        };
        let extend = if flags & HAS_EXTEND != 0 {
            Some((r.u128()?, r.u64()?))
        } else {
            None
        };
        if !r.is_done() {
            return Err("bytes after the record's fields".to_string());
        }
        Ok(ChangeRecord {
            granted,
            booking,
            released,
            id,
            define,
            hold,
            confirm,
            extend,
            expired: flags & RELEASE_EXPIRED != 0,
            removed: false,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_shape_round_trips() {
        let runs = [4..7, 9..10];
        let shapes = [
            Change::default(),
            Change {
                granted: &runs,
                ..Change::default()
            },
            Change {
                granted: &runs,
                booking: Some(u128::MAX - 5),
                id: Some(("abc-_9", b"OK x seats=5-7,10")),
                ..Change::default()
            },
            Change {
                released: Some((42, &runs)),
                id: Some(("z", b"OK cancelled")),
                ..Change::default()
            },
            Change {
                define: Some(("AB123", "30x3-3")),
                ..Change::default()
            },
            Change {
                granted: &runs,
                hold: Some(HoldTimes {
                    reference: 9,
                    expires_ms: 1 << 40,
                    placed_ms: 3,
                }),
                ..Change::default()
            },
            Change {
                confirm: Some(9),
                extend: Some((8, 12345)),
                released: Some((7, &runs)),
                expired: true,
                ..Change::default()
            },
        ];
        for change in shapes {
            let bytes = change.encode();
            let back = ChangeRecord::decode(&bytes, 100).unwrap();
            assert_eq!(back.granted, change.granted);
            assert_eq!(back.booking, change.booking);
            assert_eq!(
                back.released.as_ref().map(|(r, v)| (*r, v.as_slice())),
                change.released
            );
            assert_eq!(
                back.id.as_ref().map(|(i, r)| (i.as_str(), r.as_slice())),
                change.id
            );
            assert_eq!(
                back.define.as_ref().map(|(n, s)| (n.as_str(), s.as_str())),
                change.define
            );
            assert_eq!(
                (back.hold, back.confirm, back.extend, back.expired),
                (change.hold, change.confirm, change.extend, change.expired)
            );
            assert!(!back.removed);
            // Every truncation is an error, never a panic.
            for cut in 0..bytes.len() {
                assert!(ChangeRecord::decode(&bytes[..cut], 100).is_err(), "{cut}");
            }
        }
    }

    #[test]
    fn a_removal_is_one_byte_and_nothing_after_it() {
        let runs = [1..2, 4..5];
        let bytes = Change {
            removed: true,
            granted: &runs,
            ..Change::default()
        }
        .encode();
        assert_eq!(bytes, [MAP_REMOVED]);
        assert!(ChangeRecord::decode(&bytes, 0).unwrap().removed);
        assert!(ChangeRecord::decode(&[MAP_REMOVED, 0], 10).is_err());
    }

    #[test]
    fn other_versions_and_flags_are_refused() {
        let mut bytes = Change::default().encode();
        bytes[0] = 3;
        assert!(
            ChangeRecord::decode(&bytes, 10)
                .unwrap_err()
                .contains("version 3")
        );
        bytes[0] = RECORD_VERSION;
        bytes[1] = HAS_GRANT_REF;
        assert!(ChangeRecord::decode(&bytes, 10).is_err());
    }
}

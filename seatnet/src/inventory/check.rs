//! `seatnet-server --check-data DIR`: what a data directory holds, like
//! `redis-check-aof`. The journal's own report ([`seatlog::check`]: files,
//! records, torn tail, corruption) plus what replaying it gives: maps,
//! seats taken, bookings, holds, request ids kept. Only reads.

use std::fmt;
use std::path::Path;

use crate::catalog::{default_spec_of, rebuild};

/// At most this many maps are listed one per line; the totals cover all.
const MAPS_LISTED: usize = 50;

/// What [`check_data`] found.
#[derive(Debug)]
pub struct DataCheck {
    /// The journal's report.
    pub journal: seatlog::Report,
    /// What replay gives, once the journal reads cleanly: `Ok(None)` when
    /// the directory holds no journal yet, `Err` when a snapshot or record
    /// does not decode (corruption the checksums could not see).
    pub contents: Result<Option<DataContents>, String>,
}

/// The state a data directory replays to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DataContents {
    /// Every map, in journal id order (`default` first).
    pub maps: Vec<MapContents>,
}

/// One map's replayed state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MapContents {
    /// Its name.
    pub name: String,
    /// Its spec, canonical (`100`, `30x3-3`).
    pub spec: String,
    /// Seat count.
    pub seats: u64,
    /// Seats reserved (booked or held).
    pub taken: u64,
    /// Bookings that can be cancelled.
    pub bookings: usize,
    /// Holds not yet confirmed, cancelled or expired.
    pub holds: usize,
    /// Request ids remembered (their replies are kept for retries).
    pub request_ids: usize,
}

impl DataContents {
    /// The sum of one field over every map.
    fn total(&self, field: impl Fn(&MapContents) -> u64) -> u64 {
        self.maps.iter().map(field).sum()
    }
}

impl DataCheck {
    /// True when a server could start on the directory.
    #[must_use]
    pub fn is_ok(&self) -> bool {
        self.journal.is_ok() && self.contents.is_ok()
    }
}

/// Checks the data directory `dir` without changing it: the journal, then
/// a replay of it in memory.
pub fn check_data(dir: impl AsRef<Path>) -> DataCheck {
    let journal = seatlog::check(dir);
    let contents = match (&journal.contents, journal.descriptor.as_deref()) {
        (Some(recovered), Some(descriptor)) if journal.is_ok() => default_spec_of(descriptor)
            .and_then(|spec| {
                let (maps, _) =
                    rebuild(&spec, recovered, &journal.dir).map_err(|e| e.to_string())?;
                Ok(Some(DataContents {
                    maps: maps
                        .by_id
                        .values()
                        .map(|m| MapContents {
                            name: m.name.to_string(),
                            spec: m.spec.to_string(),
                            seats: m.map.capacity(),
                            taken: m.map.reserved_count(),
                            bookings: m.bookings.len(),
                            holds: m.holds.len(),
                            request_ids: m.ids.lock().len(),
                        })
                        .collect(),
                }))
            }),
        _ => Ok(None),
    };
    DataCheck { journal, contents }
}

impl fmt::Display for DataCheck {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.journal)?;
        match &self.contents {
            Ok(Some(c)) => {
                writeln!(f, "maps:           {}", c.maps.len())?;
                writeln!(
                    f,
                    "seats taken:    {} of {}",
                    c.total(|m| m.taken),
                    c.total(|m| m.seats)
                )?;
                writeln!(f, "bookings:       {}", c.total(|m| m.bookings as u64))?;
                writeln!(f, "holds:          {}", c.total(|m| m.holds as u64))?;
                writeln!(f, "request ids:    {}", c.total(|m| m.request_ids as u64))?;
                for m in c.maps.iter().take(MAPS_LISTED) {
                    writeln!(
                        f,
                        "  map {} ({}): {} of {} taken, {} bookings, {} holds, {} request ids",
                        m.name, m.spec, m.taken, m.seats, m.bookings, m.holds, m.request_ids
                    )?;
                }
                if c.maps.len() > MAPS_LISTED {
                    writeln!(f, "  ... and {} more maps", c.maps.len() - MAPS_LISTED)?;
                }
                Ok(())
            }
            Ok(None) => Ok(()),
            Err(e) => writeln!(f, "state:          BAD: {e}"),
        }
    }
}

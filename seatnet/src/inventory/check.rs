//! `seatnet-server --check-data DIR`: what a data directory holds, like
//! `redis-check-aof`. The journal's own report ([`seatlog::check`]: files,
//! records, torn tail, corruption) plus what replaying it gives: seats
//! taken, bookings, request ids kept. Only reads.

use std::fmt;
use std::path::Path;

use super::journal::{Rebuilt, rebuild};

/// What [`check_data`] found.
#[derive(Debug)]
pub struct DataCheck {
    /// The journal's report.
    pub journal: seatlog::Report,
    /// What replay gives, once the journal reads cleanly: `Ok(None)` when
    /// the directory holds no journal yet, `Err` when a snapshot or record
    /// does not decode (corruption the checksums could not see).
    pub holds: Result<Option<Holds>, String>,
}

/// The state a data directory replays to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Holds {
    /// Seat count (from `META`).
    pub seats: u64,
    /// Seats reserved.
    pub taken: u64,
    /// Bookings that can be cancelled.
    pub bookings: usize,
    /// Request ids remembered (their replies are kept for retries).
    pub request_ids: usize,
}

impl DataCheck {
    /// True when a server could start on the directory.
    #[must_use]
    pub fn is_ok(&self) -> bool {
        self.journal.is_ok() && self.holds.is_ok()
    }
}

/// Checks the data directory `dir` without changing it: the journal, then
/// a replay of it in memory.
pub fn check_data(dir: impl AsRef<Path>) -> DataCheck {
    let journal = seatlog::check(dir);
    let holds = match (&journal.contents, journal.descriptor.as_deref()) {
        (Some(contents), Some(descriptor)) if journal.is_ok() => {
            seats_of(descriptor).and_then(|seats| {
                let Rebuilt {
                    map, bookings, ids, ..
                } = rebuild(seats, contents, &journal.dir).map_err(|e| e.to_string())?;
                Ok(Some(Holds {
                    seats,
                    taken: map.reserved_count(),
                    bookings: bookings.len(),
                    request_ids: ids.len(),
                }))
            })
        }
        _ => Ok(None),
    };
    DataCheck { journal, holds }
}

/// The seat count of a `seats=N` descriptor.
fn seats_of(descriptor: &str) -> Result<u64, String> {
    descriptor
        .strip_prefix("seats=")
        .and_then(|n| n.parse::<u64>().ok())
        .filter(|&n| n > 0)
        .ok_or_else(|| format!("META holds \"{descriptor}\", not seats=N"))
}

impl fmt::Display for DataCheck {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.journal)?;
        match &self.holds {
            Ok(Some(h)) => {
                writeln!(f, "seats taken:    {} of {}", h.taken, h.seats)?;
                writeln!(f, "bookings:       {}", h.bookings)?;
                writeln!(f, "request ids:    {}", h.request_ids)
            }
            Ok(None) => Ok(()),
            Err(e) => writeln!(f, "state:          BAD: {e}"),
        }
    }
}

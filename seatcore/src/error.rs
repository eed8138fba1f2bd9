//! The errors of the engine, one type per kind of operation. Every misuse is
//! one of these, never a panic. All are `#[non_exhaustive]`: a later version
//! may say more.

use std::fmt;
use std::ops::Range;

/// Why [`SeatMap::reserve`](crate::SeatMap::reserve) reserved nothing.
///
/// # Examples
///
/// ```
/// use seatcore::{ReserveError, SeatMap};
///
/// let map = SeatMap::new(4)?;
/// map.reserve(1)?;
/// assert_eq!(map.reserve(1), Err(ReserveError::Taken { seat: 1 }));
/// assert_eq!(map.reserve(4), Err(ReserveError::OutOfRange { seat: 4, capacity: 4 }));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ReserveError {
    /// `seat` is not below `capacity`: it is not on this map.
    OutOfRange {
        /// The seat asked for.
        seat: u64,
        /// The map's capacity (valid seats are `0..capacity`).
        capacity: u64,
    },
    /// The seat is already reserved.
    Taken {
        /// The seat asked for.
        seat: u64,
    },
}

impl fmt::Display for ReserveError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            ReserveError::OutOfRange { seat, capacity } => out_of_range(f, seat, capacity),
            ReserveError::Taken { seat } => write!(f, "seat {seat} is already reserved"),
        }
    }
}

impl std::error::Error for ReserveError {}

/// Why [`SeatMap::release`](crate::SeatMap::release) freed nothing.
///
/// # Examples
///
/// ```
/// use seatcore::{ReleaseError, SeatMap};
///
/// let map = SeatMap::new(4)?;
/// assert_eq!(map.release(2), Err(ReleaseError::NotReserved { seat: 2 }));
/// assert_eq!(map.release(9), Err(ReleaseError::OutOfRange { seat: 9, capacity: 4 }));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ReleaseError {
    /// `seat` is not below `capacity`: it is not on this map.
    OutOfRange {
        /// The seat asked for.
        seat: u64,
        /// The map's capacity (valid seats are `0..capacity`).
        capacity: u64,
    },
    /// The seat was not reserved.
    NotReserved {
        /// The seat asked for.
        seat: u64,
    },
}

impl fmt::Display for ReleaseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            ReleaseError::OutOfRange { seat, capacity } => out_of_range(f, seat, capacity),
            ReleaseError::NotReserved { seat } => write!(f, "seat {seat} is not reserved"),
        }
    }
}

impl std::error::Error for ReleaseError {}

/// A seat that is not on the map, from a query or an exclusive setter.
///
/// # Examples
///
/// ```
/// use seatcore::{OutOfRange, SeatMap};
///
/// let map = SeatMap::new(4)?;
/// assert_eq!(map.is_reserved(7), Err(OutOfRange { seat: 7, capacity: 4 }));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct OutOfRange {
    /// The seat asked for.
    pub seat: u64,
    /// The map's capacity (valid seats are `0..capacity`).
    pub capacity: u64,
}

impl fmt::Display for OutOfRange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        out_of_range(f, self.seat, self.capacity)
    }
}

impl std::error::Error for OutOfRange {}

fn out_of_range(f: &mut fmt::Formatter<'_>, seat: u64, capacity: u64) -> fmt::Result {
    write!(
        f,
        "seat {seat} is out of range (this map has seats 0..{capacity})"
    )
}

/// Why a map could not be built.
///
/// # Examples
///
/// ```
/// use seatcore::{CapacityError, SeatMap};
///
/// assert_eq!(SeatMap::new(0).unwrap_err(), CapacityError::Zero);
/// let huge = SeatMap::new(u64::MAX).unwrap_err();
/// assert_eq!(huge.requested(), u64::MAX);
/// assert!(huge.to_string().contains("does not fit in memory"));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum CapacityError {
    /// A map needs at least one seat.
    Zero,
    /// The bitset for this many seats cannot be allocated on this machine
    /// (too many words for `usize`, or the allocator refused).
    TooLarge {
        /// The capacity that was asked for.
        requested: u64,
    },
}

impl CapacityError {
    /// The capacity that was asked for.
    #[must_use]
    pub const fn requested(&self) -> u64 {
        match *self {
            CapacityError::Zero => 0,
            CapacityError::TooLarge { requested } => requested,
        }
    }
}

impl fmt::Display for CapacityError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            CapacityError::Zero => write!(f, "a seat map needs at least 1 seat"),
            CapacityError::TooLarge { requested } => write!(
                f,
                "a seat map of {requested} seats does not fit in memory ({} bytes of bitset)",
                requested.div_ceil(8)
            ),
        }
    }
}

impl std::error::Error for CapacityError {}

/// Why [`SeatMap::reserve_all`](crate::SeatMap::reserve_all) reserved
/// nothing.
///
/// # Examples
///
/// ```
/// use seatcore::{AllOrNothingError, SeatMap};
///
/// let map = SeatMap::new(100)?;
/// map.reserve(70)?;
/// assert_eq!(
///     map.reserve_all(&[5, 70, 6]),
///     Err(AllOrNothingError::Conflict { taken: vec![70] })
/// );
/// assert!(!map.is_reserved(5)?); // nothing was kept
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum AllOrNothingError {
    /// A seat is not on the map; nothing was touched.
    OutOfRange {
        /// The first out-of-range seat, in request order.
        seat: u64,
        /// The map's capacity.
        capacity: u64,
    },
    /// The same seat appears twice; nothing was touched.
    Duplicate {
        /// The lowest repeated seat.
        seat: u64,
    },
    /// Some seats were reserved by others; every seat this call had claimed
    /// was given back before it returned.
    Conflict {
        /// Seats found taken, ascending. Always holds the seat(s) that made
        /// the claim fail; seats in later words are added from a plain read,
        /// so they are a hint, not a promise.
        taken: Vec<u64>,
    },
}

impl fmt::Display for AllOrNothingError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AllOrNothingError::OutOfRange { seat, capacity } => out_of_range(f, *seat, *capacity),
            AllOrNothingError::Duplicate { seat } => {
                write!(f, "seat {seat} appears more than once")
            }
            AllOrNothingError::Conflict { taken } => {
                write!(f, "seats {taken:?} are already reserved")
            }
        }
    }
}

impl std::error::Error for AllOrNothingError {}

/// Why an operation on a run of seats
/// ([`SeatMap::reserve_range`](crate::SeatMap::reserve_range),
/// [`SeatMap::release_range`](crate::SeatMap::release_range),
/// [`SeatMap::set_range_mut`](crate::SeatMap::set_range_mut)) did nothing.
///
/// # Examples
///
/// ```
/// use seatcore::{RangeError, SeatMap};
///
/// let map = SeatMap::new(100)?;
/// map.reserve(42)?;
/// assert_eq!(map.reserve_range(40..50), Err(RangeError::Conflict { seat: 42 }));
/// assert_eq!(map.reserve_range(90..101), Err(RangeError::OutOfRange { range: 90..101, capacity: 100 }));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum RangeError {
    /// The range ends past the map (or starts after it ends); nothing was
    /// touched.
    OutOfRange {
        /// The range asked for.
        range: Range<u64>,
        /// The map's capacity.
        capacity: u64,
    },
    /// A seat of the run was reserved by someone else; everything this call
    /// had claimed was given back before it returned.
    Conflict {
        /// The lowest taken seat of the word where the claim failed.
        seat: u64,
    },
}

impl fmt::Display for RangeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RangeError::OutOfRange { range, capacity } => write!(
                f,
                "seats {range:?} are not a run of this map (it has seats 0..{capacity})"
            ),
            RangeError::Conflict { seat } => write!(f, "seat {seat} is already reserved"),
        }
    }
}

impl std::error::Error for RangeError {}

/// Why a search ([`SeatMap::reserve_any`](crate::SeatMap::reserve_any),
/// [`SeatMap::reserve_adjacent`](crate::SeatMap::reserve_adjacent)) reserved
/// nothing.
///
/// # Examples
///
/// ```
/// use seatcore::{SearchError, SeatMap};
///
/// let map = SeatMap::new(3)?;
/// assert_eq!(map.reserve_any(5), Err(SearchError::NotEnough { requested: 5, free: 3 }));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum SearchError {
    /// Not enough free seats, or no free run long enough. Nothing was kept.
    NotEnough {
        /// How many seats were asked for.
        requested: u64,
        /// How many free seats the search counted before giving up: a lower
        /// bound on the seats free at some moment of the search, when it
        /// gave up before claiming anything; otherwise a count taken as it
        /// gave up. For a run, the count of free seats, not the longest run.
        free: u64,
    },
    /// The seats were there, but the list of their runs could not be
    /// allocated. Nothing was kept.
    TooLarge {
        /// How many seats were asked for.
        requested: u64,
    },
}

impl fmt::Display for SearchError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            SearchError::NotEnough { requested, free } => write!(
                f,
                "not enough free seats: asked for {requested}, {free} free"
            ),
            SearchError::TooLarge { requested } => write!(
                f,
                "the result of a search for {requested} seats does not fit in memory"
            ),
        }
    }
}

impl std::error::Error for SearchError {}

/// Why a [`Snapshot`](crate::Snapshot) could not be built from words.
///
/// # Examples
///
/// ```
/// use seatcore::{Snapshot, SnapshotError};
///
/// // 70 seats need 2 words, and the second may only use its lowest 6 bits.
/// assert_eq!(Snapshot::from_words(70, vec![0]), Err(SnapshotError::WordCount { expected: 2, found: 1 }));
/// assert_eq!(Snapshot::from_words(70, vec![0, 1 << 6]), Err(SnapshotError::SeatPastCapacity { seat: 70 }));
/// assert!(Snapshot::from_words(70, vec![u64::MAX, 0b11_1111]).is_ok());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum SnapshotError {
    /// The capacity is not a valid map capacity.
    Capacity(CapacityError),
    /// `ceil(capacity / 64)` words are needed.
    WordCount {
        /// Words a map of that capacity has.
        expected: u64,
        /// Words given.
        found: u64,
    },
    /// A bit past the capacity is set.
    SeatPastCapacity {
        /// The lowest such seat.
        seat: u64,
    },
}

impl fmt::Display for SnapshotError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            SnapshotError::Capacity(e) => e.fmt(f),
            SnapshotError::WordCount { expected, found } => write!(
                f,
                "a snapshot of this capacity has {expected} words, not {found}"
            ),
            SnapshotError::SeatPastCapacity { seat } => {
                write!(f, "seat {seat} is set but lies past the capacity")
            }
        }
    }
}

impl std::error::Error for SnapshotError {}

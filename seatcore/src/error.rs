//! The errors of the engine. Every misuse is one of these, never a panic.

use std::fmt;

/// Why a single-seat operation did nothing.
///
/// # Examples
///
/// ```
/// use seatcore::{SeatError, SeatMap};
///
/// let map = SeatMap::new(4)?;
/// map.reserve(1)?;
/// assert_eq!(map.reserve(1), Err(SeatError::Taken { seat: 1 }));
/// assert_eq!(map.reserve(4), Err(SeatError::OutOfRange { seat: 4, capacity: 4 }));
/// assert_eq!(map.release(2), Err(SeatError::NotReserved { seat: 2 }));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SeatError {
    /// `seat` is not below `capacity`: it is not on this map.
    OutOfRange {
        /// The seat asked for.
        seat: u64,
        /// The map's capacity (valid seats are `0..capacity`).
        capacity: u64,
    },
    /// `reserve`: the seat is already reserved.
    Taken {
        /// The seat asked for.
        seat: u64,
    },
    /// `release`: the seat was not reserved.
    NotReserved {
        /// The seat asked for.
        seat: u64,
    },
}

impl fmt::Display for SeatError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            SeatError::OutOfRange { seat, capacity } => write!(
                f,
                "seat {seat} is out of range (this map has seats 0..{capacity})"
            ),
            SeatError::Taken { seat } => write!(f, "seat {seat} is already reserved"),
            SeatError::NotReserved { seat } => write!(f, "seat {seat} is not reserved"),
        }
    }
}

impl std::error::Error for SeatError {}

/// Why a map could not be built with the capacity asked for.
///
/// # Examples
///
/// ```
/// use seatcore::SeatMap;
///
/// let err = SeatMap::new(0).unwrap_err();
/// assert_eq!(err.requested(), 0);
/// assert!(err.to_string().contains("at least 1"));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct CapacityError {
    pub(crate) requested: u64,
}

impl CapacityError {
    /// The capacity that was asked for.
    #[must_use]
    pub const fn requested(&self) -> u64 {
        self.requested
    }
}

impl fmt::Display for CapacityError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.requested == 0 {
            write!(f, "a seat map needs at least 1 seat")
        } else {
            write!(
                f,
                "a seat map of {} seats does not fit in memory",
                self.requested
            )
        }
    }
}

impl std::error::Error for CapacityError {}

/// Why [`SeatMap::reserve_all`](crate::SeatMap::reserve_all) reserved nothing.
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
pub enum AllOrNothingError {
    /// Some seats are not on the map; nothing was touched.
    OutOfRange {
        /// The out-of-range seats, in request order.
        seats: Vec<u64>,
        /// The map's capacity.
        capacity: u64,
    },
    /// The same seat appears twice; nothing was touched.
    Duplicate {
        /// The first repeated seat.
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
            AllOrNothingError::OutOfRange { seats, capacity } => write!(
                f,
                "seats {seats:?} are out of range (this map has seats 0..{capacity})"
            ),
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

/// Not enough free seats (or no free run long enough) for
/// [`SeatMap::reserve_any`](crate::SeatMap::reserve_any) or
/// [`SeatMap::reserve_adjacent`](crate::SeatMap::reserve_adjacent).
/// Nothing was kept.
///
/// # Examples
///
/// ```
/// use seatcore::SeatMap;
///
/// let map = SeatMap::new(3)?;
/// let err = map.reserve_any(5).unwrap_err();
/// assert_eq!((err.requested, err.free), (5, 3));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct NotEnough {
    /// How many seats were asked for.
    pub requested: u64,
    /// How many seats were free when the search gave up (a plain count taken
    /// after the search, so concurrent calls may have changed it since).
    pub free: u64,
}

impl fmt::Display for NotEnough {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "not enough free seats: asked for {}, {} free",
            self.requested, self.free
        )
    }
}

impl std::error::Error for NotEnough {}

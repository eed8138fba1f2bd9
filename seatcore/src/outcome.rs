//! What happened to each seat of a per-seat list request.

/// The outcome for one seat of [`SeatMap::reserve_each`](crate::SeatMap::reserve_each).
///
/// # Examples
///
/// ```
/// use seatcore::{ReserveOutcome, SeatMap};
///
/// let map = SeatMap::new(10)?;
/// map.reserve(3)?;
/// assert_eq!(
///     map.reserve_each(&[2, 3, 2, 99]),
///     [
///         ReserveOutcome::Reserved,   // free: now ours
///         ReserveOutcome::Taken,      // somebody else had it
///         ReserveOutcome::Taken,      // we took it one step ago
///         ReserveOutcome::OutOfRange, // not a seat of this map
///     ]
/// );
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ReserveOutcome {
    /// The seat was free and this call reserved it.
    Reserved,
    /// The seat was already reserved, by another caller or by an earlier
    /// copy of the same seat in this very request.
    Taken,
    /// The seat number is not below the map's capacity.
    OutOfRange,
}

impl ReserveOutcome {
    /// Whether this call reserved the seat.
    #[must_use]
    pub const fn is_reserved(self) -> bool {
        matches!(self, ReserveOutcome::Reserved)
    }
}

/// The outcome for one seat of [`SeatMap::release_each`](crate::SeatMap::release_each).
///
/// # Examples
///
/// ```
/// use seatcore::{ReleaseOutcome, SeatMap};
///
/// let map = SeatMap::new(10)?;
/// map.reserve(3)?;
/// assert_eq!(
///     map.release_each(&[3, 3, 4, 10]),
///     [
///         ReleaseOutcome::Released,
///         ReleaseOutcome::NotReserved, // released one step ago
///         ReleaseOutcome::NotReserved,
///         ReleaseOutcome::OutOfRange,
///     ]
/// );
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ReleaseOutcome {
    /// The seat was reserved and this call freed it.
    Released,
    /// The seat was already free (or freed by an earlier copy of the same
    /// seat in this very request).
    NotReserved,
    /// The seat number is not below the map's capacity.
    OutOfRange,
}

impl ReleaseOutcome {
    /// Whether this call freed the seat.
    #[must_use]
    pub const fn is_released(self) -> bool {
        matches!(self, ReleaseOutcome::Released)
    }
}

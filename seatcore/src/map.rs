//! [`SeatMap`]: the public seat inventory.

use std::fmt;
use std::ops::Range;
use std::sync::atomic::AtomicU64;

use crate::error::{AllOrNothingError, CapacityError, NotEnough, SeatError};
use crate::hint;
use crate::layout::first_seat_of;
use crate::outcome::{ReleaseOutcome, ReserveOutcome};
use crate::raw::{RawSeatMap, SeatBits};
use crate::snapshot::Snapshot;

/// A fixed number of seats, each free or reserved, shared by any number of
/// threads without locks.
///
/// Seats are numbered **from 0** to `capacity - 1`. A seat outside that
/// range is never an index into anything: it is reported as
/// [`SeatError::OutOfRange`] or [`ReserveOutcome::OutOfRange`].
///
/// Memory is one bit per seat (in `AtomicU64` words) plus a constant, so a
/// map of 2^32 seats takes 512 MiB. Maps are independent (`Send + Sync`, no
/// global state): create as many as you need and share them with `Arc`.
///
/// | operation | atomic operations | progress |
/// |---|---|---|
/// | [`reserve`](Self::reserve), [`release`](Self::release) | one `fetch_or` / `fetch_and` | wait-free |
/// | [`reserve_each`](Self::reserve_each), [`release_each`](Self::release_each) | one per word touched | wait-free |
/// | [`reserve_all`](Self::reserve_all) | one CAS per word touched, one `fetch_and` per word on rollback | lock-free |
/// | [`reserve_any`](Self::reserve_any), [`reserve_adjacent`](Self::reserve_adjacent) | loads to search, one RMW per word claimed | lock-free, bounded to one pass |
/// | queries | loads only | wait-free |
///
/// # Examples
///
/// ```
/// use std::sync::Arc;
/// use seatcore::SeatMap;
///
/// let plane = Arc::new(SeatMap::new(100)?);
/// let winners: Vec<bool> = (0..4)
///     .map(|_| {
///         let plane = Arc::clone(&plane);
///         std::thread::spawn(move || plane.reserve(42).is_ok())
///     })
///     .collect::<Vec<_>>()
///     .into_iter()
///     .map(|t| t.join().unwrap())
///     .collect();
/// assert_eq!(winners.iter().filter(|&&won| won).count(), 1);
/// assert_eq!(plane.free_count(), 99);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct SeatMap {
    raw: RawSeatMap<AtomicU64>,
}

impl SeatMap {
    /// A map of `capacity` free seats, numbered `0..capacity`.
    ///
    /// # Errors
    ///
    /// [`CapacityError`] if `capacity` is 0 or the bitset would not fit in
    /// memory on this platform.
    ///
    /// # Examples
    ///
    /// ```
    /// let map = seatcore::SeatMap::new(100)?;
    /// assert_eq!((map.capacity(), map.free_count()), (100, 100));
    /// assert!(seatcore::SeatMap::new(0).is_err());
    /// # Ok::<(), seatcore::CapacityError>(())
    /// ```
    pub fn new(capacity: u64) -> Result<Self, CapacityError> {
        Ok(SeatMap {
            raw: RawSeatMap::new(capacity)?,
        })
    }

    /// The number of seats; valid seats are `0..capacity()`.
    #[must_use]
    pub fn capacity(&self) -> u64 {
        self.raw.capacity()
    }

    /// Reserves one seat with a single `fetch_or`. Of any number of threads
    /// reserving the same free seat, exactly one gets `Ok`.
    ///
    /// # Errors
    ///
    /// [`SeatError::Taken`] if it was reserved already,
    /// [`SeatError::OutOfRange`] if `seat >= capacity()`.
    ///
    /// # Examples
    ///
    /// ```
    /// # use seatcore::{SeatError, SeatMap};
    /// let map = SeatMap::new(10)?;
    /// assert_eq!(map.reserve(3), Ok(()));
    /// assert_eq!(map.reserve(3), Err(SeatError::Taken { seat: 3 }));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[inline]
    pub fn reserve(&self, seat: u64) -> Result<(), SeatError> {
        self.raw.reserve(seat)
    }

    /// Frees one seat with a single `fetch_and`.
    ///
    /// The map does not know who holds a seat: release only seats you
    /// reserved (a server keeps that record; seatnet uses booking
    /// references). Releasing a seat that another caller holds frees it for
    /// anyone.
    ///
    /// # Errors
    ///
    /// [`SeatError::NotReserved`] if it was free,
    /// [`SeatError::OutOfRange`] if `seat >= capacity()`.
    ///
    /// # Examples
    ///
    /// ```
    /// # use seatcore::{SeatError, SeatMap};
    /// let map = SeatMap::new(10)?;
    /// map.reserve(3)?;
    /// assert_eq!(map.release(3), Ok(()));
    /// assert_eq!(map.release(3), Err(SeatError::NotReserved { seat: 3 }));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[inline]
    pub fn release(&self, seat: u64) -> Result<(), SeatError> {
        self.raw.release(seat)
    }

    /// Reserves every free seat of `seats` and reports each one, in request
    /// order: the original server's semantics. Not all-or-nothing: free seats
    /// are kept even when others are taken. A seat repeated in the list is
    /// reserved by its first copy and reported [`ReserveOutcome::Taken`]
    /// after that.
    ///
    /// The seats are grouped by word: one `fetch_or` per word touched, so a
    /// request for seats in one word is a single atomic operation.
    ///
    /// # Examples
    ///
    /// ```
    /// use seatcore::{ReserveOutcome::*, SeatMap};
    ///
    /// let map = SeatMap::new(100)?;
    /// map.reserve(21)?;
    /// assert_eq!(map.reserve_each(&[4, 9, 21, 4, 500]), [Reserved, Reserved, Taken, Taken, OutOfRange]);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[must_use = "the outcomes say which seats were reserved"]
    pub fn reserve_each(&self, seats: &[u64]) -> Vec<ReserveOutcome> {
        self.raw.reserve_each(seats)
    }

    /// Frees every reserved seat of `seats` and reports each one, in request
    /// order; one `fetch_and` per word touched. The same caveat as
    /// [`release`](Self::release) applies.
    ///
    /// # Examples
    ///
    /// ```
    /// use seatcore::{ReleaseOutcome::*, SeatMap};
    ///
    /// let map = SeatMap::new(100)?;
    /// map.reserve(4)?;
    /// assert_eq!(map.release_each(&[4, 5, 100]), [Released, NotReserved, OutOfRange]);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[must_use = "the outcomes say which seats were released"]
    pub fn release_each(&self, seats: &[u64]) -> Vec<ReleaseOutcome> {
        self.raw.release_each(seats)
    }

    /// Reserves every seat of `seats`, or none of them.
    ///
    /// Words are claimed in ascending order, one compare-and-swap each that
    /// succeeds only if none of its seats is taken; on a conflict the words
    /// already claimed are given back before this returns. While a claim is
    /// under way its seats can look taken to others for an instant even if
    /// it then fails; no seat is ever held by two callers
    /// (`docs/design.md` has the argument). An empty list succeeds.
    ///
    /// # Errors
    ///
    /// [`AllOrNothingError::OutOfRange`] or [`AllOrNothingError::Duplicate`]
    /// (nothing touched), or [`AllOrNothingError::Conflict`] with the seats
    /// found taken (nothing kept).
    ///
    /// # Examples
    ///
    /// ```
    /// # use seatcore::SeatMap;
    /// let map = SeatMap::new(200)?;
    /// map.reserve_all(&[10, 11, 150])?;
    /// assert!(map.reserve_all(&[9, 10]).is_err());
    /// assert!(!map.is_reserved(9)?);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn reserve_all(&self, seats: &[u64]) -> Result<(), AllOrNothingError> {
        self.raw.reserve_all(seats)
    }

    /// Reserves `n` free seats wherever they are, and returns them.
    ///
    /// The search starts where this thread's last search ended, so threads
    /// spread over the map, and makes at most one pass over it. All or
    /// nothing: if it cannot find `n` seats it gives back those it took.
    /// `n == 0` returns no seats.
    ///
    /// # Errors
    ///
    /// [`NotEnough`] if one pass found fewer than `n` free seats. Seats that
    /// a competing search holds for an instant count as taken, so two
    /// searches racing for the last `n` free seats can both fail; retrying
    /// is the remedy.
    ///
    /// # Examples
    ///
    /// ```
    /// # use seatcore::SeatMap;
    /// let map = SeatMap::new(10)?;
    /// let mine = map.reserve_any(3)?;
    /// assert_eq!(mine.len(), 3);
    /// assert!(mine.iter().all(|&s| map.is_reserved(s).unwrap()));
    /// assert!(map.reserve_any(8).is_err());
    /// assert_eq!(map.free_count(), 7);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn reserve_any(&self, n: u64) -> Result<Vec<u64>, NotEnough> {
        let start = hint::start_seat(self.capacity());
        let word = crate::layout::word_of(start);
        let (seats, end_word) = self.raw.reserve_any_from(n, word)?;
        hint::remember(first_seat_of(end_word));
        Ok(seats)
    }

    /// Reserves `n` adjacent seats (a run that may span words but never
    /// wraps from the last seat to the first) and returns them as a range.
    ///
    /// The search starts where this thread's last search ended and makes at
    /// most one pass; a run it found free but lost to a racer is skipped.
    /// `n == 0` returns an empty range.
    ///
    /// # Errors
    ///
    /// [`NotEnough`] if one pass found no free run of `n` seats.
    ///
    /// # Examples
    ///
    /// ```
    /// # use seatcore::SeatMap;
    /// let map = SeatMap::new(10)?;
    /// map.reserve(4)?;
    /// let row = map.reserve_adjacent(5)?;
    /// assert_eq!(row, 5..10); // seats 0..4 are too few
    /// assert!(map.reserve_adjacent(5).is_err());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn reserve_adjacent(&self, n: u64) -> Result<Range<u64>, NotEnough> {
        let start = hint::start_seat(self.capacity());
        let (first, end_word) = self.raw.reserve_adjacent_from(n, start)?;
        hint::remember(first_seat_of(end_word));
        Ok(first..first + n)
    }

    /// Whether `seat` is reserved now.
    ///
    /// # Errors
    ///
    /// [`SeatError::OutOfRange`] if `seat >= capacity()`.
    ///
    /// # Examples
    ///
    /// ```
    /// # use seatcore::SeatMap;
    /// let map = SeatMap::new(10)?;
    /// map.reserve(2)?;
    /// assert_eq!(map.is_reserved(2), Ok(true));
    /// assert_eq!(map.is_reserved(3), Ok(false));
    /// assert!(map.is_reserved(10).is_err());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn is_reserved(&self, seat: u64) -> Result<bool, SeatError> {
        self.raw.is_reserved(seat)
    }

    /// How many seats are free. Reads every word once (O(capacity / 64));
    /// not one instant's count while others are reserving.
    ///
    /// # Examples
    ///
    /// ```
    /// # use seatcore::SeatMap;
    /// let map = SeatMap::new(130)?;
    /// map.reserve_all(&[0, 64, 129])?;
    /// assert_eq!((map.free_count(), map.reserved_count()), (127, 3));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[must_use]
    pub fn free_count(&self) -> u64 {
        self.raw.free_count()
    }

    /// How many seats are reserved; see [`free_count`](Self::free_count).
    #[must_use]
    pub fn reserved_count(&self) -> u64 {
        self.raw.reserved_count()
    }

    /// The free seats, ascending. Each word is read once, when the iterator
    /// reaches it: the result is not one instant's picture if others are
    /// reserving meanwhile (use [`snapshot`](Self::snapshot) to hold one).
    ///
    /// # Examples
    ///
    /// ```
    /// # use seatcore::SeatMap;
    /// let map = SeatMap::new(5)?;
    /// map.reserve_all(&[1, 3])?;
    /// assert_eq!(map.free_seats().collect::<Vec<_>>(), [0, 2, 4]);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn free_seats(&self) -> impl Iterator<Item = u64> + '_ {
        SeatBits::new(
            |i| self.raw.load_word(i),
            self.capacity(),
            self.raw.word_count(),
            false,
        )
    }

    /// The reserved seats, ascending; see [`free_seats`](Self::free_seats).
    ///
    /// # Examples
    ///
    /// ```
    /// # use seatcore::SeatMap;
    /// let map = SeatMap::new(200)?;
    /// map.reserve_all(&[150, 1])?;
    /// assert_eq!(map.reserved_seats().collect::<Vec<_>>(), [1, 150]);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn reserved_seats(&self) -> impl Iterator<Item = u64> + '_ {
        SeatBits::new(
            |i| self.raw.load_word(i),
            self.capacity(),
            self.raw.word_count(),
            true,
        )
    }

    /// A copy of the map to inspect at leisure. Each word is copied
    /// atomically, but not all words at the same instant.
    ///
    /// # Examples
    ///
    /// ```
    /// # use seatcore::SeatMap;
    /// let map = SeatMap::new(10)?;
    /// map.reserve(7)?;
    /// let before = map.snapshot();
    /// map.reserve(8)?;
    /// assert_eq!(before.reserved_seats().collect::<Vec<_>>(), [7]);
    /// assert_eq!(map.snapshot().reserved_count(), 2);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[must_use]
    pub fn snapshot(&self) -> Snapshot {
        Snapshot::new(self.raw.copy_words(), self.capacity())
    }

    /// Frees every seat. Takes `&mut self`: nobody else can be using the map,
    /// so this needs no atomic operation.
    ///
    /// # Examples
    ///
    /// ```
    /// # use seatcore::SeatMap;
    /// let mut map = SeatMap::new(10)?;
    /// map.reserve_any(10)?;
    /// map.clear();
    /// assert_eq!(map.free_count(), 10);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn clear(&mut self) {
        self.raw.clear();
    }
}

impl fmt::Debug for SeatMap {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SeatMap")
            .field("capacity", &self.capacity())
            .field("reserved", &self.reserved_count())
            .finish()
    }
}

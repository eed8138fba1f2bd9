//! [`SeatMap`]: the public seat inventory.

use std::fmt;
use std::ops::Range;

use crate::error::{
    AllOrNothingError, CapacityError, OutOfRange, RangeError, ReleaseError, ReserveError,
    SearchError,
};
use crate::hint::{self, MapId};
use crate::layout::{first_seat_of, word_of};
use crate::outcome::{ReleaseOutcome, ReserveOutcome};
use crate::raw::{FreeRuns, RawSeatMap, SeatBits};
use crate::snapshot::Snapshot;
use crate::sync::StdAtomicU64;

/// A fixed number of seats, each free or reserved, shared by any number of
/// threads without locks.
///
/// Seats are numbered **from 0** to `capacity - 1`. A seat outside that
/// range is never an index into anything: it is reported as an error or an
/// [`ReserveOutcome::OutOfRange`] outcome.
///
/// Memory is one bit per seat (in `AtomicU64` words), 1/64 of that again for
/// the search summary, plus a constant: a map of 2^32 seats takes 520 MiB.
/// Maps are independent (`Send + Sync`, no global state but an id counter):
/// create as many as you need and share them with `Arc`.
///
/// | operation | atomic operations | progress |
/// |---|---|---|
/// | [`reserve`](Self::reserve), [`release`](Self::release) | one `fetch_or` / `fetch_and` | wait-free |
/// | [`reserve_each`](Self::reserve_each), [`release_each`](Self::release_each) (and `_into`) | one per word touched | wait-free |
/// | [`reserve_all`](Self::reserve_all), [`reserve_range`](Self::reserve_range) | one CAS per word touched, one `fetch_and` per word on rollback | lock-free |
/// | [`release_range`](Self::release_range) | one `fetch_and` per word | wait-free |
/// | [`reserve_any`](Self::reserve_any), [`reserve_adjacent`](Self::reserve_adjacent) | loads to count and search, one RMW per word claimed | lock-free, one pass |
/// | queries | loads only | wait-free |
///
/// A release that turns a full word into one with a free seat also sets a
/// summary bit (one more RMW per summary level, at most five): rare, and
/// bounded.
///
/// # What a winner sees: the ordering contract
///
/// Every operation that grants a seat (`reserve`, the list and range forms,
/// `reserve_all`, the searches) *acquires* it, and every operation that
/// frees one (`release`, the list and range forms, and the rollback of a
/// failed all-or-nothing claim or search) *releases* it. So, as with a
/// mutex per seat: **whoever wins a seat sees everything the previous holder
/// did before freeing it**, through any number of failed claims on the same
/// word in between. A query that sees a seat free ([`is_reserved`],
/// [`free_seats`], ...) also sees everything its last holder did before
/// freeing it. `docs/design.md` has the argument and the loom models that
/// check it.
///
/// [`is_reserved`]: Self::is_reserved
/// [`free_seats`]: Self::free_seats
///
/// # Journaling: the sequence-number rule
///
/// To log changes so that replaying the log in sequence order reproduces
/// every seat's history, take the sequence number (one shared counter,
/// `fetch_add`) **after** a grant's operation returns and **before** a
/// release's operation starts. If a release of seat 7 is followed by a grant
/// of seat 7 to another thread, the grant's read-modify-write read the
/// release's (the contract above makes it *happen after* it), so the
/// release's number was taken before the grant's: the log orders them as
/// memory did. The same holds for a grant followed by its release, since
/// the holder releases only after learning that it won. Rebuild with
/// [`from_snapshot`](Self::from_snapshot) and the `&mut self` setters
/// ([`set_mut`](Self::set_mut), [`set_range_mut`](Self::set_range_mut)).
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
    raw: RawSeatMap<StdAtomicU64>,
    /// This map's key in the per-thread search hints.
    id: MapId,
}

impl SeatMap {
    /// A map of `capacity` free seats, numbered `0..capacity`.
    ///
    /// # Errors
    ///
    /// [`CapacityError::Zero`], or [`CapacityError::TooLarge`] if the
    /// bitset would not fit in memory on this machine.
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
            id: MapId::next(),
        })
    }

    /// A map holding exactly the seats of `snapshot` (for instance one
    /// rebuilt from saved words with [`Snapshot::from_words`]).
    ///
    /// # Errors
    ///
    /// [`CapacityError::TooLarge`] if the memory cannot be had.
    ///
    /// # Examples
    ///
    /// ```
    /// use seatcore::{SeatMap, Snapshot};
    ///
    /// let map = SeatMap::new(130)?;
    /// map.reserve_all(&[1, 64, 129])?;
    /// let saved: Vec<u64> = map.snapshot().words().to_vec();
    /// let again = SeatMap::from_snapshot(&Snapshot::from_words(130, saved)?)?;
    /// assert_eq!(again.reserved_seats().collect::<Vec<_>>(), [1, 64, 129]);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn from_snapshot(snapshot: &Snapshot) -> Result<Self, CapacityError> {
        let mut map = SeatMap::new(snapshot.capacity())?;
        map.raw.load_words_mut(snapshot.words());
        Ok(map)
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
    /// [`ReserveError::Taken`] if it was reserved already,
    /// [`ReserveError::OutOfRange`] if `seat >= capacity()`.
    ///
    /// # Examples
    ///
    /// ```
    /// # use seatcore::{ReserveError, SeatMap};
    /// let map = SeatMap::new(10)?;
    /// assert_eq!(map.reserve(3), Ok(()));
    /// assert_eq!(map.reserve(3), Err(ReserveError::Taken { seat: 3 }));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[inline]
    pub fn reserve(&self, seat: u64) -> Result<(), ReserveError> {
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
    /// [`ReleaseError::NotReserved`] if it was free,
    /// [`ReleaseError::OutOfRange`] if `seat >= capacity()`.
    ///
    /// # Examples
    ///
    /// ```
    /// # use seatcore::{ReleaseError, SeatMap};
    /// let map = SeatMap::new(10)?;
    /// map.reserve(3)?;
    /// assert_eq!(map.release(3), Ok(()));
    /// assert_eq!(map.release(3), Err(ReleaseError::NotReserved { seat: 3 }));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[inline]
    pub fn release(&self, seat: u64) -> Result<(), ReleaseError> {
        self.raw.release(seat)
    }

    /// Reserves every free seat of `seats` and reports each one, in request
    /// order: the original server's semantics. Not all-or-nothing: free seats
    /// are kept even when others are taken. A seat repeated in the list is
    /// reserved by its first copy and reported [`ReserveOutcome::Taken`]
    /// after that.
    ///
    /// The seats are grouped by word: one `fetch_or` per word touched, so the
    /// grants of one request within one word are a single atomic step. Lists
    /// of up to 16 seats are grouped without sorting or allocating; see
    /// [`reserve_each_into`](Self::reserve_each_into) to reuse the outcome
    /// buffer too.
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
        let mut outcomes = Vec::with_capacity(seats.len());
        self.raw.reserve_each_into(seats, &mut outcomes);
        outcomes
    }

    /// [`reserve_each`](Self::reserve_each), writing the outcomes into
    /// `outcomes` (cleared first): no allocation once the buffer is large
    /// enough and the list has at most 16 seats.
    ///
    /// # Examples
    ///
    /// ```
    /// use seatcore::{ReserveOutcome::*, SeatMap};
    ///
    /// let map = SeatMap::new(100)?;
    /// let mut outcomes = Vec::with_capacity(16);
    /// map.reserve_each_into(&[4, 4], &mut outcomes);
    /// assert_eq!(outcomes, [Reserved, Taken]);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn reserve_each_into(&self, seats: &[u64], outcomes: &mut Vec<ReserveOutcome>) {
        self.raw.reserve_each_into(seats, outcomes);
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
        let mut outcomes = Vec::with_capacity(seats.len());
        self.raw.release_each_into(seats, &mut outcomes);
        outcomes
    }

    /// [`release_each`](Self::release_each), writing the outcomes into
    /// `outcomes` (cleared first).
    ///
    /// # Examples
    ///
    /// ```
    /// use seatcore::{ReleaseOutcome::*, SeatMap};
    ///
    /// let map = SeatMap::new(100)?;
    /// map.reserve(4)?;
    /// let mut outcomes = Vec::new();
    /// map.release_each_into(&[4, 4], &mut outcomes);
    /// assert_eq!(outcomes, [Released, NotReserved]);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn release_each_into(&self, seats: &[u64], outcomes: &mut Vec<ReleaseOutcome>) {
        self.raw.release_each_into(seats, outcomes);
    }

    /// Reserves every seat of `seats`, or none of them.
    ///
    /// Words are claimed in ascending order, one compare-and-swap each that
    /// succeeds only if none of its seats is taken; on a conflict the words
    /// already claimed are given back before this returns. While a claim is
    /// under way its seats can look taken to others for an instant even if
    /// it then fails; no seat is ever held by two callers
    /// (`docs/design.md` has the argument). An empty list succeeds. Lists of
    /// up to 16 seats use no heap unless the claim fails.
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

    /// Reserves every seat of the run `range`, or none: as
    /// [`reserve_all`](Self::reserve_all), one CAS per word, with no
    /// allocation whatever the length. An empty range succeeds.
    ///
    /// # Errors
    ///
    /// [`RangeError::OutOfRange`] (nothing touched) or
    /// [`RangeError::Conflict`] (nothing kept).
    ///
    /// # Examples
    ///
    /// ```
    /// # use seatcore::SeatMap;
    /// let map = SeatMap::new(1000)?;
    /// map.reserve_range(60..200)?;
    /// assert_eq!(map.reserved_count(), 140);
    /// assert!(map.reserve_range(0..61).is_err());
    /// assert!(!map.is_reserved(0)?);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn reserve_range(&self, range: Range<u64>) -> Result<(), RangeError> {
        self.raw.reserve_range(range)
    }

    /// Frees every reserved seat of the run `range`, one `fetch_and` per
    /// word, and returns how many were reserved. The same caveat as
    /// [`release`](Self::release) applies.
    ///
    /// # Errors
    ///
    /// [`RangeError::OutOfRange`] (nothing touched).
    ///
    /// # Examples
    ///
    /// ```
    /// # use seatcore::SeatMap;
    /// let map = SeatMap::new(1000)?;
    /// map.reserve_range(60..200)?;
    /// assert_eq!(map.release_range(100..300)?, 100);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn release_range(&self, range: Range<u64>) -> Result<u64, RangeError> {
        self.raw.release_range(range)
    }

    /// Reserves `n` free seats wherever they are, and returns them as
    /// ascending, maximal runs.
    ///
    /// The search starts where this thread's last search of this map ended,
    /// so threads spread over the map, follows the summary past full
    /// regions, and makes at most one pass. It first counts (loads only),
    /// and claims only once it has seen `n` free seats. All or nothing: if it
    /// cannot get `n` seats it gives back those it took. `n == 0` returns no
    /// seats.
    ///
    /// # Errors
    ///
    /// [`SearchError::NotEnough`] if fewer than `n` seats were free (no seat
    /// was touched), or if racers took seats it had counted (it gave back
    /// what it took; two searches racing for the last `n` free seats can
    /// both fail, and retrying is the remedy).
    /// [`SearchError::TooLarge`] if the list of runs cannot be allocated.
    ///
    /// # Examples
    ///
    /// ```
    /// # use seatcore::SeatMap;
    /// let map = SeatMap::new(10)?;
    /// map.reserve(5)?;
    /// let mine = map.reserve_any(9)?;
    /// assert_eq!(mine, [0..5, 6..10]);
    /// assert!(map.reserve_any(1).is_err());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn reserve_any(&self, n: u64) -> Result<Vec<Range<u64>>, SearchError> {
        let mut runs = Vec::new();
        self.reserve_any_into(n, &mut runs)?;
        Ok(runs)
    }

    /// [`reserve_any`](Self::reserve_any), writing the runs into `runs`
    /// (cleared first; empty on error): no allocation once the buffer is
    /// large enough.
    ///
    /// # Errors
    ///
    /// As [`reserve_any`](Self::reserve_any).
    ///
    /// # Examples
    ///
    /// ```
    /// # use seatcore::SeatMap;
    /// let map = SeatMap::new(100)?;
    /// let mut runs = Vec::with_capacity(8);
    /// map.reserve_any_into(3, &mut runs)?;
    /// assert_eq!(runs.iter().map(|r| r.end - r.start).sum::<u64>(), 3);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn reserve_any_into(&self, n: u64, runs: &mut Vec<Range<u64>>) -> Result<(), SearchError> {
        let start = hint::start_seat(self.id, self.capacity());
        let end_word = self.raw.reserve_any_from(n, word_of(start), runs)?;
        hint::remember(self.id, first_seat_of(end_word));
        Ok(())
    }

    /// [`reserve_any_into`](Self::reserve_any_into) starting at `start`
    /// (taken modulo the capacity) instead of this thread's hint: for
    /// callers that keep their own hints, and for tests and fuzzers that
    /// must replay exactly. The search starts at `start`'s word.
    ///
    /// # Errors
    ///
    /// As [`reserve_any`](Self::reserve_any).
    ///
    /// # Examples
    ///
    /// ```
    /// # use seatcore::SeatMap;
    /// let map = SeatMap::new(1000)?;
    /// let mut runs = Vec::new();
    /// map.reserve_any_at(2, 500, &mut runs)?;
    /// assert_eq!(runs, [448..450]); // seat 500 is in the word of seats 448..512
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn reserve_any_at(
        &self,
        n: u64,
        start: u64,
        runs: &mut Vec<Range<u64>>,
    ) -> Result<(), SearchError> {
        let start = start % self.capacity();
        self.raw.reserve_any_from(n, word_of(start), runs)?;
        Ok(())
    }

    /// Reserves `n` adjacent seats (a run that may span words but never
    /// wraps from the last seat to the first) and returns them as a range.
    ///
    /// The search starts where this thread's last search of this map ended
    /// and makes at most one pass; a run it found free but lost to a racer
    /// is skipped. `n == 0` returns an empty range.
    ///
    /// # Errors
    ///
    /// [`SearchError::NotEnough`] if one pass found no free run of `n`
    /// seats (its `free` is the map's free count when it gave up).
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
    pub fn reserve_adjacent(&self, n: u64) -> Result<Range<u64>, SearchError> {
        let start = hint::start_seat(self.id, self.capacity());
        let (first, end_word) = self.raw.reserve_adjacent_from(n, start)?;
        hint::remember(self.id, first_seat_of(end_word));
        Ok(first..first + n)
    }

    /// [`reserve_adjacent`](Self::reserve_adjacent) trying runs that start
    /// at or after `start` (modulo the capacity) first, then those before
    /// it, instead of this thread's hint.
    ///
    /// # Errors
    ///
    /// As [`reserve_adjacent`](Self::reserve_adjacent).
    ///
    /// # Examples
    ///
    /// ```
    /// # use seatcore::SeatMap;
    /// let map = SeatMap::new(100)?;
    /// assert_eq!(map.reserve_adjacent_at(3, 40)?, 40..43);
    /// assert_eq!(map.reserve_adjacent_at(3, 98)?, 0..3); // no run of 3 at 98 or after
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn reserve_adjacent_at(&self, n: u64, start: u64) -> Result<Range<u64>, SearchError> {
        let (first, _) = self.raw.reserve_adjacent_from(n, start)?;
        Ok(first..first + n)
    }

    /// Whether `seat` is reserved now.
    ///
    /// # Errors
    ///
    /// [`OutOfRange`] if `seat >= capacity()`.
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
    pub fn is_reserved(&self, seat: u64) -> Result<bool, OutOfRange> {
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

    /// The maximal runs of free seats at or after seat `from`, ascending,
    /// reading a word at a time (a full word costs one load and one
    /// compare). Stop early with `take`: a caller that wants the first 256
    /// runs of a huge map reads only the words they span. Not one instant's
    /// picture, as for [`free_seats`](Self::free_seats).
    ///
    /// # Examples
    ///
    /// ```
    /// # use seatcore::SeatMap;
    /// let map = SeatMap::new(300)?;
    /// map.reserve_range(10..250)?;
    /// map.reserve(260)?;
    /// assert_eq!(map.free_runs(0).collect::<Vec<_>>(), [0..10, 250..260, 261..300]);
    /// assert_eq!(map.free_runs(255).next(), Some(255..260));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn free_runs(&self, from: u64) -> impl Iterator<Item = Range<u64>> + '_ {
        FreeRuns::new(
            |i| self.raw.load_word(i),
            self.capacity(),
            self.raw.word_count(),
            from,
        )
    }

    /// A copy of the map to inspect at leisure or to save. Each word is
    /// copied atomically, but not all words at the same instant.
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

    /// Sets one seat reserved or free through exclusive access (no atomic
    /// operation): for replaying a journal before the map is shared.
    /// Returns whether the seat was reserved before.
    ///
    /// # Errors
    ///
    /// [`OutOfRange`] if `seat >= capacity()`.
    ///
    /// # Examples
    ///
    /// ```
    /// # use seatcore::SeatMap;
    /// let mut map = SeatMap::new(10)?;
    /// assert_eq!(map.set_mut(3, true), Ok(false));
    /// assert_eq!(map.set_mut(3, true), Ok(true));
    /// assert!(map.is_reserved(3)?);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn set_mut(&mut self, seat: u64, reserved: bool) -> Result<bool, OutOfRange> {
        self.raw.set_mut(seat, reserved)
    }

    /// Sets every seat of `range` reserved or free through exclusive access;
    /// returns how many seats changed.
    ///
    /// # Errors
    ///
    /// [`RangeError::OutOfRange`] (nothing touched).
    ///
    /// # Examples
    ///
    /// ```
    /// # use seatcore::SeatMap;
    /// let mut map = SeatMap::new(1000)?;
    /// assert_eq!(map.set_range_mut(10..500, true)?, 490);
    /// assert_eq!(map.set_range_mut(0..20, false)?, 10);
    /// assert_eq!(map.free_count(), 1000 - 480);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn set_range_mut(&mut self, range: Range<u64>, reserved: bool) -> Result<u64, RangeError> {
        self.raw.set_range_mut(range, reserved)
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

//! Every call into `SeatMap` the history test makes, in one place: a
//! [`Call`] in, an [`Outcome`] out. When the public API changes, this is the
//! file to adapt; the driver and the checker only see calls and outcomes.

use seatcore::{AllOrNothingError, ReleaseError, ReserveError, SeatMap};

use super::history::{Call, Outcome};

/// Runs `call` on `map`. The driver only makes calls with seats on the map
/// and never releases a seat it does not hold, so any other error is a bug
/// and panics the test.
pub(crate) fn run(map: &SeatMap, call: &Call) -> Outcome {
    match call {
        Call::Reserve(seat) => Outcome::Yes(match map.reserve(*seat) {
            Ok(()) => true,
            Err(ReserveError::Taken { .. }) => false,
            Err(other) => panic!("{call:?}: {other:?}"),
        }),
        Call::Release(seat) => Outcome::Yes(match map.release(*seat) {
            Ok(()) => true,
            Err(ReleaseError::NotReserved { .. }) => false,
            Err(other) => panic!("{call:?}: {other:?}"),
        }),
        Call::ReserveEach(seats) => Outcome::Each(
            map.reserve_each(seats)
                .iter()
                .map(|o| o.is_reserved())
                .collect(),
        ),
        Call::ReleaseEach(seats) => Outcome::Each(
            map.release_each(seats)
                .iter()
                .map(|o| o.is_released())
                .collect(),
        ),
        Call::ReserveAll(seats) => Outcome::All(match map.reserve_all(seats) {
            Ok(()) => Ok(()),
            Err(AllOrNothingError::Conflict { taken }) => Err(taken),
            Err(other) => panic!("{call:?}: {other:?}"),
        }),
        Call::ReserveAny(n) => Outcome::Found(
            map.reserve_any(*n)
                .ok()
                .map(|runs| runs.into_iter().flatten().collect()),
        ),
        Call::ReserveAdjacent(n) => {
            Outcome::Found(map.reserve_adjacent(*n).ok().map(|run| run.collect()))
        }
        Call::IsReserved(seat) => Outcome::Yes(map.is_reserved(*seat).expect("seat on the map")),
    }
}

/// The seats reserved now, ascending.
pub(crate) fn reserved(map: &SeatMap) -> Vec<u64> {
    map.reserved_seats().collect()
}

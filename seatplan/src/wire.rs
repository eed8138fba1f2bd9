//! A map's seat states in one reply line, bounded however big the map.
//!
//! # Format
//!
//! Runs of equal states, each a letter and a count: `F` free, `H` held,
//! `T` taken, then the run's length in ASCII decimal (at least 1, no
//! leading zero). Consecutive runs differ in state, so each map has one
//! encoding: `F12T3H2F1` is 12 free seats, 3 taken, 2 held, 1 free.
//!
//! # Bound
//!
//! The line covers the first [`MAX_DRAWN`] seats of a map (25,000: every
//! cabin, up to 999 rows of 25, whole); a numbered map beyond that is
//! drawn in part, and its free count comes from elsewhere (`MAPS`).
//! The longest line is every seat its own run: two bytes a seat, at most
//! [`MAX_LINE`] (50,000) bytes.

use std::fmt;

/// The most seats a state line covers (and a drawing shows).
pub const MAX_DRAWN: u64 = 25_000;

/// The longest state line, in bytes: [`MAX_DRAWN`] runs of one seat.
pub const MAX_LINE: usize = 2 * MAX_DRAWN as usize;

/// What a seat is to someone looking at the map.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SeatState {
    /// Nobody has it.
    Free,
    /// Someone holds it while they pay; it may come back.
    Held,
    /// Booked.
    Taken,
}

impl SeatState {
    /// The letter of this state in a state line.
    #[must_use]
    pub fn letter(self) -> char {
        match self {
            SeatState::Free => 'F',
            SeatState::Held => 'H',
            SeatState::Taken => 'T',
        }
    }

    fn from_letter(letter: u8) -> Option<SeatState> {
        match letter {
            b'F' => Some(SeatState::Free),
            b'H' => Some(SeatState::Held),
            b'T' => Some(SeatState::Taken),
            _ => None,
        }
    }
}

/// The state line of the first [`MAX_DRAWN`] of `states` (the rest are
/// not read).
///
/// # Examples
///
/// ```
/// use seatplan::{SeatState::{Free, Held, Taken}, decode_states, encode_states};
///
/// let states = [Free, Free, Taken, Held, Held, Free];
/// let line = encode_states(states);
/// assert_eq!(line, "F2T1H2F1");
/// assert_eq!(decode_states(&line, 6)?, states);
/// # Ok::<(), seatplan::StateLineError>(())
/// ```
pub fn encode_states(states: impl IntoIterator<Item = SeatState>) -> String {
    let mut line = String::new();
    let mut run: Option<(SeatState, u64)> = None;
    let push = |line: &mut String, (state, count): (SeatState, u64)| {
        line.push(state.letter());
        line.push_str(&count.to_string());
    };
    for state in states.into_iter().take(MAX_DRAWN as usize) {
        run = match run {
            Some((s, count)) if s == state => Some((s, count + 1)),
            Some(done) => {
                push(&mut line, done);
                Some((state, 1))
            }
            None => Some((state, 1)),
        };
    }
    if let Some(done) = run {
        push(&mut line, done);
    }
    line
}

/// The states a line gives for a map of `seats` seats: exactly
/// `min(seats, MAX_DRAWN)` of them.
///
/// # Errors
///
/// [`StateLineError`] for anything but a canonical line of that many
/// seats; never a panic, and never more than [`MAX_DRAWN`] states held.
///
/// # Examples
///
/// ```
/// use seatplan::{StateLineError, decode_states};
///
/// assert!(matches!(decode_states("F3", 4), Err(StateLineError::Total { .. })));
/// assert!(matches!(decode_states("F1X2", 3), Err(StateLineError::Letter { .. })));
/// assert_eq!(decode_states("F25000", 100_000)?.len(), 25_000); // the first 25,000
/// # Ok::<(), StateLineError>(())
/// ```
pub fn decode_states(line: &str, seats: u64) -> Result<Vec<SeatState>, StateLineError> {
    let expected = seats.min(MAX_DRAWN);
    if line.len() > MAX_LINE {
        return Err(StateLineError::TooLong { len: line.len() });
    }
    let bytes = line.as_bytes();
    // `expected` is at most MAX_DRAWN, so the allocation is bounded.
    let mut states = Vec::with_capacity(expected as usize);
    let mut previous = None;
    let mut at = 0;
    while at < bytes.len() {
        let state = SeatState::from_letter(bytes[at]).ok_or(StateLineError::Letter { at })?;
        if previous == Some(state) {
            return Err(StateLineError::Repeated { at });
        }
        previous = Some(state);
        let digits_start = at + 1;
        let digits_end = bytes[digits_start..]
            .iter()
            .position(|b| !b.is_ascii_digit())
            .map_or(bytes.len(), |len| digits_start + len);
        let digits = &bytes[digits_start..digits_end];
        if digits.is_empty() || digits[0] == b'0' {
            return Err(StateLineError::Count { at: digits_start });
        }
        let count = digits.iter().try_fold(0u64, |n, &d| {
            n.checked_mul(10)?.checked_add(u64::from(d - b'0'))
        });
        let have = states.len() as u64;
        match count {
            Some(count) if count <= expected - have => {
                // At most MAX_DRAWN in all, checked just above.
                states.resize((have + count) as usize, state);
            }
            _ => return Err(StateLineError::Total { expected }),
        }
        at = digits_end;
    }
    if states.len() as u64 != expected {
        return Err(StateLineError::Total { expected });
    }
    Ok(states)
}

/// Why a text is not the state line of a map.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum StateLineError {
    /// Longer than [`MAX_LINE`] bytes.
    TooLong {
        /// Its length in bytes.
        len: usize,
    },
    /// At byte `at` there should be a state letter `F`, `H` or `T`.
    Letter {
        /// The byte offset.
        at: usize,
    },
    /// The run at byte `at` has the same state as the one before it.
    Repeated {
        /// The byte offset.
        at: usize,
    },
    /// At byte `at` there should be a count: digits, not starting with 0.
    Count {
        /// The byte offset.
        at: usize,
    },
    /// The runs do not add up to the seats the line should cover.
    Total {
        /// How many seats it should cover.
        expected: u64,
    },
}

impl fmt::Display for StateLineError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StateLineError::TooLong { len } => {
                write!(f, "a state line of {len} bytes is over {MAX_LINE}")
            }
            StateLineError::Letter { at } => {
                write!(f, "byte {at} of the state line is not F, H or T")
            }
            StateLineError::Repeated { at } => {
                write!(f, "the run at byte {at} repeats the state before it")
            }
            StateLineError::Count { at } => write!(
                f,
                "byte {at} of the state line does not start a count (1 or more, no leading 0)"
            ),
            StateLineError::Total { expected } => {
                write!(f, "the state line does not cover exactly {expected} seats")
            }
        }
    }
}

impl std::error::Error for StateLineError {}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::SeatState::{Free, Held, Taken};
    use super::*;

    #[test]
    fn lines_are_runs() {
        assert_eq!(encode_states([]), "");
        assert_eq!(encode_states([Free]), "F1");
        assert_eq!(encode_states([Taken; 12]), "T12");
        assert_eq!(encode_states([Held, Free, Free, Held, Taken]), "H1F2H1T1");
        assert_eq!(decode_states("", 0), Ok(vec![]));
        assert_eq!(
            decode_states("H1F2H1T1", 5),
            Ok(vec![Held, Free, Free, Held, Taken])
        );
    }

    #[test]
    fn a_big_map_is_cut_at_the_bound() {
        let line = encode_states(std::iter::repeat_n(Free, 1_000_000));
        assert_eq!(line, "F25000");
        let alternating = (0..100_000).map(|s| if s % 2 == 0 { Free } else { Taken });
        let line = encode_states(alternating);
        assert_eq!(line.len(), MAX_LINE);
        assert_eq!(decode_states(&line, 100_000).unwrap().len(), 25_000);
        assert_eq!(
            decode_states(&line, 20_000),
            Err(StateLineError::Total { expected: 20_000 })
        );
    }

    #[test]
    fn garbage_gets_a_clear_error() {
        for (line, seats, error) in [
            ("X1", 1, StateLineError::Letter { at: 0 }),
            ("f1", 1, StateLineError::Letter { at: 0 }),
            ("1F", 1, StateLineError::Letter { at: 0 }),
            ("F1 ", 1, StateLineError::Letter { at: 2 }),
            ("F1é", 1, StateLineError::Letter { at: 2 }),
            ("F", 1, StateLineError::Count { at: 1 }),
            ("F01", 1, StateLineError::Count { at: 1 }),
            ("F0", 1, StateLineError::Count { at: 1 }),
            ("F1T", 2, StateLineError::Count { at: 3 }),
            ("F1F1", 2, StateLineError::Repeated { at: 2 }),
            ("F2", 1, StateLineError::Total { expected: 1 }),
            ("F1", 2, StateLineError::Total { expected: 2 }),
            ("", 1, StateLineError::Total { expected: 1 }),
            (
                "F99999999999999999999999",
                5,
                StateLineError::Total { expected: 5 },
            ),
        ] {
            assert_eq!(decode_states(line, seats), Err(error), "{line:?}");
        }
        let long = "F1T1".repeat(MAX_LINE / 4 + 1);
        assert_eq!(
            decode_states(&long, u64::MAX),
            Err(StateLineError::TooLong { len: long.len() })
        );
    }

    fn states() -> impl Strategy<Value = Vec<SeatState>> {
        prop::collection::vec(prop_oneof![Just(Free), Just(Held), Just(Taken)], 0..300)
    }

    proptest! {
        #[test]
        fn lines_round_trip(states in states()) {
            let line = encode_states(states.iter().copied());
            prop_assert_eq!(decode_states(&line, states.len() as u64), Ok(states));
        }

        #[test]
        fn decoding_garbage_never_panics(line in "([FHTx ]?[0-9]{0,2}){0,10}", seats in 0u64..50) {
            if let Ok(states) = decode_states(&line, seats) {
                // Whatever decodes is canonical: it encodes back to itself.
                prop_assert_eq!(states.len() as u64, seats);
                prop_assert_eq!(encode_states(states), line);
            }
        }
    }
}

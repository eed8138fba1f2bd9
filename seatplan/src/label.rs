//! Seat names: `12A` on a cabin, the wire number on a numbered map; runs
//! (`12A-12C`, `5-7`); and the Python list the original reply prints.
//!
//! # Numbered maps and the original number syntax
//!
//! [`MapSpec::parse_seat`] is the inverse of [`MapSpec::label`]: on a
//! numbered map it reads plain ASCII digits (`7` is library seat 6). It is
//! **not** the reader of original-protocol requests: those must keep
//! CPython's `int()` spellings (` 05`, `+5`, `５`, `1_0`), which live in
//! seatnet (`protocol::Number`) and stay there, so that the default map
//! answers byte for byte as before. Every spelling `parse_seat` accepts,
//! `int()` reads as the same number. On a cabin map, requests are read
//! with `parse_seat` (after the caller trims the piece).

use std::fmt;
use std::ops::Range;

use crate::spec::{Cabin, MapSpec};

/// The most characters of a bad label kept in an error.
const SHOWN: usize = 32;

impl MapSpec {
    /// The library seat (from 0) a label names.
    ///
    /// Numbered maps: ASCII digits, `1..=seats` (`7` is seat 6). Cabins:
    /// a row number in ASCII digits then one letter in any case (`12A`,
    /// `12a`); no spaces, no sign.
    ///
    /// # Errors
    ///
    /// [`SeatError`]: not a label at all, a bare number on a cabin, a row
    /// or letter the cabin lacks (`0A`, `31A` on 30 rows, `12Z`, `12I`), a
    /// number outside `1..=seats`.
    ///
    /// # Examples
    ///
    /// ```
    /// use seatplan::{MapSpec, SeatError};
    ///
    /// let cabin: MapSpec = "30x3-3".parse()?;
    /// assert_eq!(cabin.parse_seat("12A"), Ok(66));
    /// assert_eq!(cabin.parse_seat("12f"), Ok(71));
    /// assert_eq!(cabin.parse_seat("31A"), Err(SeatError::NoSuchRow { row: 31, rows: 30 }));
    /// assert_eq!(cabin.parse_seat("12"), Err(SeatError::BareNumber { number: 12 }));
    /// let numbered: MapSpec = "100".parse()?;
    /// assert_eq!(numbered.parse_seat("7"), Ok(6));
    /// assert!(numbered.parse_seat("101").is_err());
    /// # Ok::<(), seatplan::SpecError>(())
    /// ```
    pub fn parse_seat(&self, text: &str) -> Result<u64, SeatError> {
        match self {
            MapSpec::Numbered { seats } => {
                let number = digits(text).ok_or_else(|| malformed(text))?;
                if (1..=*seats).contains(&number) {
                    Ok(number - 1)
                } else {
                    Err(SeatError::OutOfRange {
                        number,
                        seats: *seats,
                    })
                }
            }
            MapSpec::Cabin(cabin) => parse_cabin_seat(cabin, text),
        }
    }

    /// The seats a run names: one label (`12A`, `7`) or two joined by `-`
    /// (`12A-12C`, `5-7`), as library seats. A cabin run stays in one row
    /// (it may cross an aisle).
    ///
    /// # Errors
    ///
    /// What [`parse_seat`](Self::parse_seat) reports for either end, and
    /// [`SeatError::Reversed`] or [`SeatError::CrossesRows`].
    ///
    /// # Examples
    ///
    /// ```
    /// use seatplan::{MapSpec, SeatError};
    ///
    /// let cabin: MapSpec = "30x3-3".parse()?;
    /// assert_eq!(cabin.parse_run("12A-12c"), Ok(66..69));
    /// assert_eq!(cabin.parse_run("12F"), Ok(71..72));
    /// assert!(matches!(cabin.parse_run("12F-13A"), Err(SeatError::CrossesRows { .. })));
    /// let numbered: MapSpec = "100".parse()?;
    /// assert_eq!(numbered.parse_run("5-7"), Ok(4..7));
    /// # Ok::<(), seatplan::SpecError>(())
    /// ```
    pub fn parse_run(&self, text: &str) -> Result<Range<u64>, SeatError> {
        let Some((first, last)) = text.split_once('-') else {
            let seat = self.parse_seat(text)?;
            return Ok(seat..seat + 1);
        };
        let (first, last) = (self.parse_seat(first)?, self.parse_seat(last)?);
        if last < first {
            return Err(SeatError::Reversed { text: shown(text) });
        }
        if let MapSpec::Cabin(cabin) = self
            && cabin.row_of(first) != cabin.row_of(last)
        {
            return Err(SeatError::CrossesRows { text: shown(text) });
        }
        Ok(first..last + 1)
    }

    /// The name of library seat `seat`: `12A` on a cabin, `seat + 1` on a
    /// numbered map. A seat past the end is named as if the map went on.
    ///
    /// # Examples
    ///
    /// ```
    /// use seatplan::MapSpec;
    ///
    /// let cabin: MapSpec = "30x3-3".parse()?;
    /// assert_eq!(cabin.label(66).to_string(), "12A");
    /// assert_eq!(MapSpec::DEFAULT.label(6).to_string(), "7");
    /// # Ok::<(), seatplan::SpecError>(())
    /// ```
    #[must_use]
    pub fn label(&self, seat: u64) -> Label {
        match self {
            MapSpec::Numbered { .. } => Label::Number(seat.saturating_add(1)),
            MapSpec::Cabin(cabin) => Label::Cabin {
                row: cabin.row_of(seat),
                // position_of is below the width, so there is a letter.
                letter: cabin.letter(cabin.position_of(seat)).unwrap_or('?'),
            },
        }
    }

    /// Writes ascending runs of library seats as the protocol's `seats=`
    /// list: `,`-joined, a run of one seat as its label, a longer one as
    /// `first-last`. On a cabin a run crossing rows is written as one run
    /// per row (`12E-12F,13A-13B`). Empty runs are skipped, so no runs
    /// write nothing (the protocol's `-` for an empty list is the
    /// caller's).
    ///
    /// # Examples
    ///
    /// ```
    /// use seatplan::MapSpec;
    ///
    /// let cabin: MapSpec = "30x3-3".parse()?;
    /// assert_eq!(cabin.runs(&[70..74, 80..81]).to_string(), "12E-12F,13A-13B,14C");
    /// assert_eq!(MapSpec::DEFAULT.runs(&[4..7, 9..10]).to_string(), "5-7,10");
    /// # Ok::<(), seatplan::SpecError>(())
    /// ```
    #[must_use]
    pub fn runs<'a>(&'a self, runs: &'a [Range<u64>]) -> RunList<'a> {
        RunList { spec: self, runs }
    }

    /// Writes library seats as the original reply lists them, a Python
    /// list: `[7, 8]` on a numbered map (wire numbers, as today),
    /// `['12A', '12B']` on a cabin.
    ///
    /// # Examples
    ///
    /// ```
    /// use seatplan::MapSpec;
    ///
    /// let cabin: MapSpec = "30x3-3".parse()?;
    /// assert_eq!(cabin.py_list(&[66, 67]).to_string(), "['12A', '12B']");
    /// assert_eq!(MapSpec::DEFAULT.py_list(&[4, 9]).to_string(), "[5, 10]");
    /// assert_eq!(cabin.py_list(&[]).to_string(), "[]");
    /// # Ok::<(), seatplan::SpecError>(())
    /// ```
    #[must_use]
    pub fn py_list<'a>(&'a self, seats: &'a [u64]) -> PyList<'a> {
        PyList { spec: self, seats }
    }
}

/// A seat's name, from [`MapSpec::label`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Label {
    /// A numbered map's wire number (library seat + 1).
    Number(u64),
    /// A cabin seat: row (from 1) and letter.
    Cabin {
        /// The row, from 1.
        row: u64,
        /// The seat letter, upper case.
        letter: char,
    },
}

impl fmt::Display for Label {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Label::Number(n) => write!(f, "{n}"),
            Label::Cabin { row, letter } => write!(f, "{row}{letter}"),
        }
    }
}

/// Runs of seats written with labels, from [`MapSpec::runs`].
#[derive(Debug, Clone, Copy)]
pub struct RunList<'a> {
    spec: &'a MapSpec,
    runs: &'a [Range<u64>],
}

impl fmt::Display for RunList<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut first = true;
        for run in self.runs.iter().filter(|r| !r.is_empty()) {
            let mut start = run.start;
            while start < run.end {
                // A cabin piece ends at its row's end; a numbered run is
                // one piece.
                let end = match self.spec {
                    MapSpec::Numbered { .. } => run.end,
                    MapSpec::Cabin(cabin) => {
                        let row_end = cabin.row_of(start) * u64::from(cabin.width());
                        run.end.min(row_end)
                    }
                };
                if !first {
                    f.write_str(",")?;
                }
                first = false;
                write!(f, "{}", self.spec.label(start))?;
                if end - start > 1 {
                    write!(f, "-{}", self.spec.label(end - 1))?;
                }
                start = end;
            }
        }
        Ok(())
    }
}

/// Seats written as a Python list, from [`MapSpec::py_list`].
#[derive(Debug, Clone, Copy)]
pub struct PyList<'a> {
    spec: &'a MapSpec,
    seats: &'a [u64],
}

impl fmt::Display for PyList<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[")?;
        for (i, &seat) in self.seats.iter().enumerate() {
            if i > 0 {
                f.write_str(", ")?;
            }
            match self.spec {
                MapSpec::Numbered { .. } => write!(f, "{}", self.spec.label(seat))?,
                // A label is digits and a letter: Python's repr is the
                // label in single quotes, nothing to escape.
                MapSpec::Cabin(_) => write!(f, "'{}'", self.spec.label(seat))?,
            }
        }
        f.write_str("]")
    }
}

/// Why a text names no seat of a map.
///
/// # Examples
///
/// ```
/// use seatplan::MapSpec;
///
/// let cabin: MapSpec = "30x3-3".parse()?;
/// let e = cabin.parse_seat("12Z").unwrap_err();
/// assert_eq!(e.to_string(), "no seat Z in a row (letters A-F)");
/// # Ok::<(), seatplan::SpecError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum SeatError {
    /// Not a label at all (`A12`, `12AB`, `12 A`, empty).
    Malformed {
        /// The text (its first 32 characters).
        text: String,
    },
    /// A bare number on a cabin, where seats are written `12A`.
    BareNumber {
        /// The number (saturated at `u64::MAX`).
        number: u64,
    },
    /// A row the cabin does not have (`0A`, `31A` on 30 rows).
    NoSuchRow {
        /// The row written (saturated at `u64::MAX`).
        row: u64,
        /// The cabin's rows (1..=rows).
        rows: u32,
    },
    /// A letter the cabin's rows do not have (`12Z` on A-F, `12I`).
    NoSuchLetter {
        /// The letter written, upper case.
        letter: char,
        /// The last letter of a row.
        last: char,
    },
    /// A number outside `1..=seats` on a numbered map.
    OutOfRange {
        /// The number written (saturated at `u64::MAX`).
        number: u64,
        /// The map's seats.
        seats: u64,
    },
    /// A run whose end comes before its start (`12C-12A`).
    Reversed {
        /// The run (its first 32 characters).
        text: String,
    },
    /// A cabin run over two rows (`12F-13A`): runs stay in one row.
    CrossesRows {
        /// The run (its first 32 characters).
        text: String,
    },
}

impl fmt::Display for SeatError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SeatError::Malformed { text } => {
                write!(
                    f,
                    "'{text}' is not a seat (write 12A, or 7 on a numbered map)"
                )
            }
            SeatError::BareNumber { number } => {
                write!(
                    f,
                    "{number} is not a seat here: seats are row and letter (12A)"
                )
            }
            SeatError::NoSuchRow { row, rows } => write!(f, "no row {row} (rows are 1..{rows})"),
            SeatError::NoSuchLetter { letter, last } => {
                write!(f, "no seat {letter} in a row (letters A-{last})")
            }
            SeatError::OutOfRange { number, seats } => {
                write!(f, "no seat {number} (seats are 1..{seats})")
            }
            SeatError::Reversed { text } => write!(f, "'{text}' ends before it starts"),
            SeatError::CrossesRows { text } => {
                write!(f, "'{text}' crosses rows: a run stays in one row")
            }
        }
    }
}

impl std::error::Error for SeatError {}

/// `12A` on `cabin`.
fn parse_cabin_seat(cabin: &Cabin, text: &str) -> Result<u64, SeatError> {
    let split = text
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(text.len());
    let (row_text, rest) = text.split_at(split);
    let Some(row) = digits(row_text) else {
        return Err(malformed(text));
    };
    let mut rest_chars = rest.chars();
    let letter = match (rest_chars.next(), rest_chars.next()) {
        (None, _) => return Err(SeatError::BareNumber { number: row }),
        (Some(c), None) if c.is_ascii_alphabetic() => c.to_ascii_uppercase(),
        _ => return Err(malformed(text)),
    };
    if !(1..=u64::from(cabin.rows())).contains(&row) {
        return Err(SeatError::NoSuchRow {
            row,
            rows: cabin.rows(),
        });
    }
    cabin
        .position_of_letter(letter)
        .and_then(|pos| cabin.seat_at(row, pos))
        .ok_or(SeatError::NoSuchLetter {
            letter,
            last: cabin.letter(cabin.width() - 1).unwrap_or('A'),
        })
}

/// A non-empty run of ASCII digits, saturating at `u64::MAX`.
fn digits(text: &str) -> Option<u64> {
    (!text.is_empty() && text.bytes().all(|b| b.is_ascii_digit())).then(|| {
        text.bytes().fold(0u64, |n, b| {
            n.saturating_mul(10).saturating_add(u64::from(b - b'0'))
        })
    })
}

fn shown(text: &str) -> String {
    text.chars().take(SHOWN).collect()
}

fn malformed(text: &str) -> SeatError {
    SeatError::Malformed { text: shown(text) }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(text: &str) -> MapSpec {
        text.parse().unwrap()
    }

    #[test]
    fn every_cabin_label_round_trips_in_both_cases() {
        for text in ["30x3-3", "2x2-4-2", "3x3-4-3", "1x25", "999x1"] {
            let map = spec(text);
            for seat in 0..map.seats() {
                let label = map.label(seat).to_string();
                assert_eq!(map.parse_seat(&label), Ok(seat), "{text} {label}");
                let lower = label.to_ascii_lowercase();
                assert_eq!(map.parse_seat(&lower), Ok(seat), "{text} {lower}");
            }
        }
    }

    #[test]
    fn labels_follow_rows_and_letters() {
        let map = spec("30x3-3");
        let labels: Vec<String> = [0, 5, 6, 66, 179]
            .iter()
            .map(|&s| map.label(s).to_string())
            .collect();
        assert_eq!(labels, ["1A", "1F", "2A", "12A", "30F"]);
        let wide = spec("2x3-4-3");
        assert_eq!(wide.label(8).to_string(), "1J");
        assert_eq!(wide.label(19).to_string(), "2K");
    }

    #[test]
    fn bad_cabin_labels_say_why() {
        let map = spec("30x3-3");
        let malformed = |t: &str| SeatError::Malformed { text: t.into() };
        for (text, error) in [
            (
                "12Z",
                SeatError::NoSuchLetter {
                    letter: 'Z',
                    last: 'F',
                },
            ),
            (
                "12i",
                SeatError::NoSuchLetter {
                    letter: 'I',
                    last: 'F',
                },
            ),
            ("0A", SeatError::NoSuchRow { row: 0, rows: 30 }),
            ("00A", SeatError::NoSuchRow { row: 0, rows: 30 }),
            ("31A", SeatError::NoSuchRow { row: 31, rows: 30 }),
            (
                "99999999999999999999A",
                SeatError::NoSuchRow {
                    row: u64::MAX,
                    rows: 30,
                },
            ),
            ("12", SeatError::BareNumber { number: 12 }),
            ("0", SeatError::BareNumber { number: 0 }),
            ("", malformed("")),
            ("A12", malformed("A12")),
            ("12AB", malformed("12AB")),
            ("12 A", malformed("12 A")),
            (" 12A", malformed(" 12A")),
            ("12A ", malformed("12A ")),
            ("+12A", malformed("+12A")),
            ("12é", malformed("12é")),
            ("１２A", malformed("１２A")),
            ("12-", malformed("12-")),
        ] {
            assert_eq!(map.parse_seat(text), Err(error), "{text:?}");
        }
        assert_eq!(map.parse_seat("012A"), Ok(66), "leading zeros are read");
    }

    #[test]
    fn numbered_labels_are_wire_numbers() {
        let map = spec("100");
        for seat in 0..100 {
            let label = map.label(seat).to_string();
            assert_eq!(label, (seat + 1).to_string());
            assert_eq!(map.parse_seat(&label), Ok(seat));
        }
        assert_eq!(
            map.parse_seat("0"),
            Err(SeatError::OutOfRange {
                number: 0,
                seats: 100
            })
        );
        assert_eq!(
            map.parse_seat("101"),
            Err(SeatError::OutOfRange {
                number: 101,
                seats: 100
            })
        );
        for text in ["", "12A", "-1", "+1", " 1", "1_0", "５"] {
            assert!(
                matches!(map.parse_seat(text), Err(SeatError::Malformed { .. })),
                "{text:?}"
            );
        }
    }

    #[test]
    fn runs_parse_within_a_row() {
        let map = spec("30x3-3");
        assert_eq!(map.parse_run("1A-1F"), Ok(0..6));
        assert_eq!(map.parse_run("1c-1d"), Ok(2..4));
        assert_eq!(map.parse_run("1C-1C"), Ok(2..3));
        assert_eq!(
            map.parse_run("1C-1A"),
            Err(SeatError::Reversed {
                text: "1C-1A".into()
            })
        );
        assert_eq!(
            map.parse_run("1F-2A"),
            Err(SeatError::CrossesRows {
                text: "1F-2A".into()
            })
        );
        assert_eq!(
            map.parse_run("1A-1Z"),
            Err(SeatError::NoSuchLetter {
                letter: 'Z',
                last: 'F'
            })
        );
        assert!(map.parse_run("1A-").is_err());
        assert!(map.parse_run("1A-1B-1C").is_err());
        let numbered = spec("100");
        assert_eq!(numbered.parse_run("1-100"), Ok(0..100));
        assert!(numbered.parse_run("7-5").is_err());
    }

    #[test]
    fn run_lists_split_at_row_ends_and_round_trip() {
        let map = spec("3x2-2");
        assert_eq!(map.runs(&[0..12]).to_string(), "1A-1D,2A-2D,3A-3D");
        assert_eq!(map.runs(&[3..5, 7..8, 8..8]).to_string(), "1D,2A,2D");
        assert_eq!(map.runs(&[]).to_string(), "");
        let written = map.runs(&[1..7, 9..11]).to_string();
        assert_eq!(written, "1B-1D,2A-2C,3B-3C");
        let read: Vec<_> = written
            .split(',')
            .map(|r| map.parse_run(r).unwrap())
            .collect();
        assert_eq!(read, [1..4, 4..7, 9..11]);
        assert_eq!(spec("100").runs(&[0..100]).to_string(), "1-100");
    }

    #[test]
    fn python_lists_match_python() {
        let map = spec("30x3-3");
        assert_eq!(map.py_list(&[66]).to_string(), "['12A']");
        assert_eq!(
            map.py_list(&[66, 0, 179]).to_string(),
            "['12A', '1A', '30F']"
        );
        assert_eq!(spec("100").py_list(&[]).to_string(), "[]");
        assert_eq!(spec("100").py_list(&[0, 99]).to_string(), "[1, 100]");
    }

    proptest::proptest! {
        /// Any text names a seat of the map or gets an error, never a
        /// panic; a seat it names has that text's label, up to letter
        /// case and leading zeros.
        #[test]
        fn any_text_is_a_seat_or_an_error(text in "[0-9]{0,4}[A-Za-z]?|\\PC{0,8}") {
            for map in [spec("30x3-3"), spec("2x3-4-3"), spec("100")] {
                if let Ok(seat) = map.parse_seat(&text) {
                    proptest::prop_assert!(seat < map.seats());
                    let label = map.label(seat).to_string();
                    let trimmed = text.trim_start_matches('0').to_ascii_uppercase();
                    proptest::prop_assert_eq!(label, trimmed);
                }
                let _ = map.parse_run(&text);
            }
        }
    }
}

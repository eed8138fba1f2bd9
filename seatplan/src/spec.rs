//! What a map is: a count of numbered seats, or a cabin of rows and seat
//! groups, written as a short spec (`5000`, `30x3-3`, `40x2-4-2`).
//!
//! A cabin is row-major: the library seat (from 0) of row `r` (from 1) and
//! position `p` (from 0, left to right) is `(r - 1) * width + p`, where
//! `width` is the sum of the groups. Positions carry the letters A, B, C, ...
//! skipping I (as airlines do), so a row holds at most 25 seats.

use std::fmt;
use std::ops::Range;
use std::str::FromStr;

/// The seat letters, in order: A to Z without I.
pub(crate) const LETTERS: &[u8; 25] = b"ABCDEFGHJKLMNOPQRSTUVWXYZ";

/// The most seats a cabin row holds: one per letter (A-Z without I).
pub const MAX_WIDTH: u32 = 25;

/// The most rows a cabin has. Three-digit row numbers cover aircraft,
/// trains and theatres; bigger venues are numbered maps. The bound also
/// keeps the TOGETHER chooser's tables small.
pub const MAX_ROWS: u32 = 999;

/// The most seats a numbered map has: 2^32, a 512 MiB bitset in seatcore.
pub const MAX_NUMBERED_SEATS: u64 = 1 << 32;

/// A map: numbered seats or a cabin.
///
/// Read from a spec with [`str::parse`], written back in canonical form by
/// `Display` (so `spec.to_string().parse()` gives the same map).
///
/// | spec | map |
/// |---|---|
/// | `5000` | seats 1..5000 |
/// | `30x3-3` | rows 1..30, seats A-C, aisle, D-F |
/// | `40x2-4-2` | rows 1..40, A-B, aisle, C-F, aisle, G-H |
/// | `20x3-4-3` | rows 1..20, A-C, D-G, H-K (no I) |
///
/// Bounds: a numbered map has 1..=[`MAX_NUMBERED_SEATS`] seats; a cabin
/// 1..=[`MAX_ROWS`] rows and groups of at least one seat, at most
/// [`MAX_WIDTH`] seats per row in all. `x` may be written `X`; numbers are
/// ASCII digits (leading zeros are read and dropped); nothing else, not even
/// spaces, is accepted.
///
/// # Examples
///
/// ```
/// use seatplan::MapSpec;
///
/// let spec: MapSpec = "40x2-4-2".parse()?;
/// assert_eq!(spec.seats(), 320);
/// assert_eq!(spec.to_string(), "40x2-4-2");
/// assert_eq!("0100".parse::<MapSpec>()?, MapSpec::Numbered { seats: 100 });
/// assert!("30x3-0".parse::<MapSpec>().is_err());
/// # Ok::<(), seatplan::SpecError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum MapSpec {
    /// Seats numbered 1..=`seats` on the wire (library seats `0..seats`).
    Numbered {
        /// How many seats (at least 1).
        seats: u64,
    },
    /// Rows of lettered seats in groups separated by aisles.
    Cabin(Cabin),
}

impl MapSpec {
    /// The original's aircraft: 100 numbered seats.
    pub const DEFAULT: MapSpec = MapSpec::Numbered { seats: 100 };

    /// How many seats the map has (library seats are `0..seats()`).
    #[must_use]
    pub fn seats(&self) -> u64 {
        match self {
            MapSpec::Numbered { seats } => *seats,
            MapSpec::Cabin(cabin) => cabin.seats(),
        }
    }

    /// The cabin, if this map is one.
    #[must_use]
    pub fn cabin(&self) -> Option<&Cabin> {
        match self {
            MapSpec::Numbered { .. } => None,
            MapSpec::Cabin(cabin) => Some(cabin),
        }
    }
}

/// Rows of seats split by aisles into groups, the same in every row.
///
/// # Examples
///
/// ```
/// use seatplan::Cabin;
///
/// let cabin = Cabin::new(30, &[3, 3])?;
/// assert_eq!((cabin.rows(), cabin.width(), cabin.seats()), (30, 6, 180));
/// assert_eq!(cabin.letter(3), Some('D'));
/// assert_eq!((cabin.row_of(7), cabin.position_of(7)), (2, 1)); // 2B
/// assert_eq!(cabin.seat_at(2, 1), Some(7));
/// assert_eq!(cabin.group_span(4), 3..6); // E sits in D-F
/// assert_eq!(cabin.aisles().collect::<Vec<_>>(), [3]); // between C and D
/// # Ok::<(), seatplan::SpecError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Cabin {
    rows: u32,
    groups: Box<[u32]>,
    width: u32,
}

impl Cabin {
    /// A cabin of `rows` rows whose seats form `groups`, left to right.
    ///
    /// # Errors
    ///
    /// [`SpecError`] when a bound of [`MapSpec`] is broken: no rows or more
    /// than [`MAX_ROWS`], no groups or an empty group, more than
    /// [`MAX_WIDTH`] seats in a row.
    pub fn new(rows: u32, groups: &[u32]) -> Result<Cabin, SpecError> {
        if rows == 0 {
            return Err(SpecError::NoRows);
        }
        if rows > MAX_ROWS {
            return Err(SpecError::TooManyRows {
                rows: u64::from(rows),
            });
        }
        if groups.is_empty() || groups.contains(&0) {
            return Err(SpecError::EmptyGroup);
        }
        let width: u64 = groups.iter().map(|&g| u64::from(g)).sum();
        if width > u64::from(MAX_WIDTH) {
            return Err(SpecError::TooWide { width });
        }
        Ok(Cabin {
            rows,
            groups: groups.into(),
            // At most MAX_WIDTH, checked above.
            width: width as u32,
        })
    }

    /// How many rows (numbered 1..=rows).
    #[must_use]
    pub fn rows(&self) -> u32 {
        self.rows
    }

    /// Seats per row: the sum of the groups.
    #[must_use]
    pub fn width(&self) -> u32 {
        self.width
    }

    /// The group sizes, left to right (an aisle between each two).
    #[must_use]
    pub fn groups(&self) -> &[u32] {
        &self.groups
    }

    /// How many seats: rows × width.
    #[must_use]
    pub fn seats(&self) -> u64 {
        u64::from(self.rows) * u64::from(self.width)
    }

    /// The letter of position `pos` (0 is A), or `None` past the row's end.
    #[must_use]
    pub fn letter(&self, pos: u32) -> Option<char> {
        (pos < self.width).then(|| char::from(LETTERS[pos as usize]))
    }

    /// The position (0 for A) of a letter in any case, or `None` if the
    /// row has no such seat (I never exists).
    #[must_use]
    pub fn position_of_letter(&self, letter: char) -> Option<u32> {
        let upper = letter.to_ascii_uppercase();
        let at = LETTERS.iter().position(|&l| char::from(l) == upper)?;
        // `at` is below 25.
        let pos = at as u32;
        (pos < self.width).then_some(pos)
    }

    /// The row (from 1) of library seat `seat`. Past the last row it goes
    /// on counting, so a label can always be written.
    #[must_use]
    pub fn row_of(&self, seat: u64) -> u64 {
        seat / u64::from(self.width) + 1
    }

    /// The position (from 0, the letter's index) of library seat `seat`.
    #[must_use]
    pub fn position_of(&self, seat: u64) -> u32 {
        // Below width, which is at most 25.
        (seat % u64::from(self.width)) as u32
    }

    /// The library seat at `row` (from 1) and position `pos` (from 0), if
    /// the cabin has it.
    #[must_use]
    pub fn seat_at(&self, row: u64, pos: u32) -> Option<u64> {
        ((1..=u64::from(self.rows)).contains(&row) && pos < self.width)
            .then(|| (row - 1) * u64::from(self.width) + u64::from(pos))
    }

    /// The library seats of row `row` (from 1); empty past the last row.
    #[must_use]
    pub fn row_seats(&self, row: u64) -> Range<u64> {
        if !(1..=u64::from(self.rows)).contains(&row) {
            return 0..0;
        }
        let start = (row - 1) * u64::from(self.width);
        start..start + u64::from(self.width)
    }

    /// The positions of each group, left to right (`3-3` gives `0..3`,
    /// `3..6`).
    pub fn group_spans(&self) -> impl Iterator<Item = Range<u32>> + '_ {
        self.groups.iter().scan(0u32, |start, &g| {
            let span = *start..*start + g;
            *start += g;
            Some(span)
        })
    }

    /// The positions of the group holding position `pos` (an empty range
    /// past the row's end).
    #[must_use]
    pub fn group_span(&self, pos: u32) -> Range<u32> {
        self.group_spans()
            .find(|span| span.contains(&pos))
            .unwrap_or(pos..pos)
    }

    /// The aisles, each as the position just after it (`3-3` has one, at
    /// 3: between C and D).
    pub fn aisles(&self) -> impl Iterator<Item = u32> + '_ {
        self.group_spans().skip(1).map(|span| span.start)
    }
}

impl fmt::Display for MapSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            MapSpec::Numbered { seats } => write!(f, "{seats}"),
            MapSpec::Cabin(cabin) => cabin.fmt(f),
        }
    }
}

impl fmt::Display for Cabin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}x", self.rows)?;
        for (i, g) in self.groups.iter().enumerate() {
            if i > 0 {
                f.write_str("-")?;
            }
            write!(f, "{g}")?;
        }
        Ok(())
    }
}

impl FromStr for MapSpec {
    type Err = SpecError;

    fn from_str(text: &str) -> Result<MapSpec, SpecError> {
        if text.is_empty() {
            return Err(SpecError::Empty);
        }
        let Some((rows, groups)) = text.split_once(['x', 'X']) else {
            let seats = number(text, "seat count")?;
            return match seats {
                0 => Err(SpecError::NoSeats),
                s if s > MAX_NUMBERED_SEATS => Err(SpecError::TooManySeats { seats: s }),
                s => Ok(MapSpec::Numbered { seats: s }),
            };
        };
        let rows = number(rows, "row count")?;
        if rows == 0 {
            return Err(SpecError::NoRows);
        }
        let rows = u32::try_from(rows)
            .ok()
            .filter(|&r| r <= MAX_ROWS)
            .ok_or(SpecError::TooManyRows { rows })?;
        let mut sizes = Vec::new();
        let mut width = 0u64;
        for piece in groups.split('-') {
            if piece.is_empty() {
                return Err(SpecError::EmptyGroup);
            }
            let size = number(piece, "group size")?;
            width = width.saturating_add(size);
            if width > u64::from(MAX_WIDTH) {
                return Err(SpecError::TooWide { width });
            }
            // At most MAX_WIDTH, checked just above.
            sizes.push(size as u32);
        }
        Cabin::new(rows, &sizes).map(MapSpec::Cabin)
    }
}

/// A number of ASCII digits; saturates at `u64::MAX` (beyond every bound).
fn number(text: &str, part: &'static str) -> Result<u64, SpecError> {
    if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
        return Err(SpecError::NotANumber {
            part,
            text: text.chars().take(32).collect(),
        });
    }
    Ok(text.bytes().fold(0u64, |n, b| {
        n.saturating_mul(10).saturating_add(u64::from(b - b'0'))
    }))
}

/// Why a spec is not a map.
///
/// # Examples
///
/// ```
/// use seatplan::{MapSpec, SpecError};
///
/// assert_eq!("31x".parse::<MapSpec>(), Err(SpecError::EmptyGroup));
/// assert_eq!("1x20-6".parse::<MapSpec>(), Err(SpecError::TooWide { width: 26 }));
/// let e = "3O".parse::<MapSpec>().unwrap_err();
/// assert_eq!(e.to_string(), "the seat count '3O' is not a number (ASCII digits)");
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum SpecError {
    /// The spec is empty.
    Empty,
    /// A part that should be a number is not one.
    NotANumber {
        /// Which part: `seat count`, `row count` or `group size`.
        part: &'static str,
        /// The part as written (its first 32 characters).
        text: String,
    },
    /// A numbered map of 0 seats.
    NoSeats,
    /// A numbered map of more than [`MAX_NUMBERED_SEATS`] seats.
    TooManySeats {
        /// The count asked for (saturated at `u64::MAX`).
        seats: u64,
    },
    /// A cabin of 0 rows.
    NoRows,
    /// A cabin of more than [`MAX_ROWS`] rows.
    TooManyRows {
        /// The count asked for (saturated at `u64::MAX`).
        rows: u64,
    },
    /// A cabin group of no seats (`30x`, `30x3--3`, `30x3-0`).
    EmptyGroup,
    /// More than [`MAX_WIDTH`] seats in a row.
    TooWide {
        /// The row width asked for, counted up to the first group over.
        width: u64,
    },
}

impl fmt::Display for SpecError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SpecError::Empty => f.write_str("the map spec is empty (write 100, or 30x3-3)"),
            SpecError::NotANumber { part, text } => {
                write!(f, "the {part} '{text}' is not a number (ASCII digits)")
            }
            SpecError::NoSeats => f.write_str("a map needs at least 1 seat"),
            SpecError::TooManySeats { seats } => write!(
                f,
                "{seats} seats is more than a map holds ({MAX_NUMBERED_SEATS})"
            ),
            SpecError::NoRows => f.write_str("a cabin needs at least 1 row"),
            SpecError::TooManyRows { rows } => {
                write!(f, "{rows} rows is more than a cabin holds ({MAX_ROWS})")
            }
            SpecError::EmptyGroup => {
                f.write_str("every seat group needs at least 1 seat (write 30x3-3)")
            }
            SpecError::TooWide { width } => write!(
                f,
                "{width} seats in a row is more than the {MAX_WIDTH} letters A-Z without I"
            ),
        }
    }
}

impl std::error::Error for SpecError {}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<MapSpec, SpecError> {
        text.parse()
    }

    #[test]
    fn good_specs_parse_and_print_canonically() {
        for (text, canonical, seats) in [
            ("5000", "5000", 5000),
            ("1", "1", 1),
            ("007", "7", 7),
            ("4294967296", "4294967296", 1 << 32),
            ("30x3-3", "30x3-3", 180),
            ("40X2-4-2", "40x2-4-2", 320),
            ("1x1", "1x1", 1),
            ("999x25", "999x25", 24_975),
            ("02x03-3", "2x3-3", 12),
            ("20x3-4-3", "20x3-4-3", 200),
        ] {
            let spec = parse(text).unwrap_or_else(|e| panic!("{text}: {e}"));
            assert_eq!(spec.to_string(), canonical, "{text}");
            assert_eq!(spec.seats(), seats, "{text}");
            assert_eq!(parse(canonical), Ok(spec), "{text} round trip");
        }
    }

    #[test]
    fn bad_specs_say_why() {
        let not_a_number = |part, text: &str| SpecError::NotANumber {
            part,
            text: text.into(),
        };
        for (text, error) in [
            ("", SpecError::Empty),
            ("0", SpecError::NoSeats),
            ("000", SpecError::NoSeats),
            (
                "4294967297",
                SpecError::TooManySeats {
                    seats: (1 << 32) + 1,
                },
            ),
            (
                "99999999999999999999999",
                SpecError::TooManySeats { seats: u64::MAX },
            ),
            ("-5", not_a_number("seat count", "-5")),
            (" 5", not_a_number("seat count", " 5")),
            ("５", not_a_number("seat count", "５")),
            ("x3", not_a_number("row count", "")),
            ("0x3", SpecError::NoRows),
            ("1000x3", SpecError::TooManyRows { rows: 1000 }),
            ("30x", SpecError::EmptyGroup),
            ("30x3--3", SpecError::EmptyGroup),
            ("30x3-3-", SpecError::EmptyGroup),
            ("30x3-0", SpecError::EmptyGroup),
            ("30x3x3", not_a_number("group size", "3x3")),
            ("30x3-a", not_a_number("group size", "a")),
            ("1x26", SpecError::TooWide { width: 26 }),
            ("1x10-10-10", SpecError::TooWide { width: 30 }),
            (
                "1x99999999999999999999999",
                SpecError::TooWide { width: u64::MAX },
            ),
        ] {
            assert_eq!(parse(text), Err(error), "{text:?}");
        }
        assert!(
            parse("1x26")
                .unwrap_err()
                .to_string()
                .contains("25 letters")
        );
    }

    #[test]
    fn letters_skip_i_and_stop_at_the_width() {
        let cabin = Cabin::new(20, &[3, 4, 3]).unwrap();
        let letters: String = (0..10).filter_map(|p| cabin.letter(p)).collect();
        assert_eq!(letters, "ABCDEFGHJK");
        assert_eq!(cabin.letter(10), None);
        assert_eq!(cabin.position_of_letter('k'), Some(9));
        assert_eq!(cabin.position_of_letter('I'), None);
        assert_eq!(cabin.position_of_letter('L'), None);
        assert_eq!(cabin.position_of_letter('é'), None);
        let full = Cabin::new(1, &[25]).unwrap();
        assert_eq!(full.letter(24), Some('Z'));
    }

    #[test]
    fn seats_are_row_major() {
        let cabin = Cabin::new(3, &[2, 3]).unwrap();
        for seat in 0..cabin.seats() {
            let (row, pos) = (cabin.row_of(seat), cabin.position_of(seat));
            assert_eq!(cabin.seat_at(row, pos), Some(seat), "{seat}");
            assert!(cabin.row_seats(row).contains(&seat));
        }
        assert_eq!(cabin.seat_at(0, 0), None);
        assert_eq!(cabin.seat_at(4, 0), None);
        assert_eq!(cabin.seat_at(1, 5), None);
        assert_eq!(cabin.row_seats(3), 10..15);
        assert_eq!(cabin.row_seats(4), 0..0);
        assert_eq!(cabin.group_span(1), 0..2);
        assert_eq!(cabin.group_span(2), 2..5);
        assert_eq!(cabin.group_span(5), 5..5);
        assert_eq!(
            Cabin::new(1, &[2, 4, 2])
                .unwrap()
                .aisles()
                .collect::<Vec<_>>(),
            [2, 6]
        );
    }

    proptest::proptest! {
        /// Every valid cabin prints a spec that parses back to it.
        #[test]
        fn cabins_round_trip(rows in 1u32..=MAX_ROWS, groups in proptest::collection::vec(1u32..=5, 1..=5)) {
            if let Ok(cabin) = Cabin::new(rows, &groups) {
                let spec = MapSpec::Cabin(cabin);
                proptest::prop_assert_eq!(parse(&spec.to_string()), Ok(spec));
            }
        }

        /// Any text gets a map or an error, never a panic; a map prints
        /// a spec that parses back to it.
        #[test]
        fn any_text_parses_or_fails_cleanly(text in "[0-9xX-]{0,12}|\\PC{0,12}") {
            if let Ok(spec) = parse(&text) {
                proptest::prop_assert_eq!(parse(&spec.to_string()), Ok(spec));
            }
        }
    }
}

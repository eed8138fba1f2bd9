//! One number of a request, read the way Python's `int(text)` reads it.
//!
//! The original server turned each comma-separated piece into a number with
//! `int(piece)`, so the accepted spellings are Python's (base 10):
//!
//! | piece | value | echoed as |
//! |---|---|---|
//! | `5`, ` 5 `, `+5`, `05`, `0_5` | 5 | `5` |
//! | `-0`, `+0`, `000` | 0 | `0` |
//! | `-007` | -7 | `-7` |
//! | `1_000` | 1000 | `1000` |
//! | `123456789012345678901234567890` | itself | in full |
//!
//! Digits are every Unicode decimal digit (category Nd), as in Python:
//! `５` and `٥` are 5, and scripts may mix (`1٥` is 15). The non-ASCII ones
//! come from a table generated from Python's `unicodedata`
//! (`nd_table.rs`, by `seatnet/tools/gen_nd_table.py`).
//!
//! Whitespace around the piece is what `int()` skips ([`is_int_space`]):
//! ASCII whitespace and the Unicode spaces, but **not** the separators
//! `\x1c`..`\x1f`, although `str.isspace` ([`is_python_space`]) and so
//! `str.strip()` count them as whitespace. Rejected, as by Python: an empty
//! piece, a sign alone or doubled (`+-5`), a space after the sign (`- 5`),
//! `_` at either end or doubled (`1__0`), anything else (`2.5`, `0x10`,
//! `abc`, `\x1c5`).

use std::fmt;

use super::nd_table::ND_RANGES;

/// A number as written in a request, kept exactly enough to echo it back in
/// canonical decimal and to tell whether it names a seat.
///
/// # Examples
///
/// ```
/// use seatnet::protocol::Number;
///
/// let n = Number::parse(" -007 ").unwrap();
/// assert_eq!(n.to_string(), "-7");
/// assert_eq!(Number::parse("42").unwrap().wire_seat(100), Some(42));
/// assert_eq!(Number::parse("0").unwrap().wire_seat(100), None);
/// assert!(Number::parse("2.5").is_none());
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Number {
    /// A number whose magnitude fits in a `u64` (the common case: no
    /// allocation).
    Small {
        /// Whether a `-` sign was written (and the magnitude is not 0).
        negative: bool,
        /// The absolute value.
        magnitude: u64,
    },
    /// A number too large for a `u64`, kept as its canonical decimal text
    /// (sign included). Never a seat.
    Big(Box<str>),
    /// On a cabin map: a piece that names no seat (`12Z`, `0A`, a bare
    /// `5`), kept as typed (trimmed) to echo it. Never a seat.
    Text(Box<str>),
}

impl Number {
    /// Reads one piece the way Python's `int()` does, or `None` if Python
    /// would raise `ValueError`.
    #[must_use]
    pub fn parse(piece: &str) -> Option<Number> {
        let body = piece.trim_matches(is_int_space);
        let (negative, digits) = match body.as_bytes().first()? {
            b'-' => (true, &body[1..]),
            b'+' => (false, &body[1..]),
            _ => (false, body),
        };
        // `digit ( '_'? digit )*`: Python's grammar for a base-10 integer
        // without sign. `None` in `magnitude` once it no longer fits a u64.
        let mut magnitude = Some(0u64);
        let mut previous_was_digit = false;
        for c in digits.chars() {
            if c == '_' && previous_was_digit {
                previous_was_digit = false;
                continue;
            }
            let digit = decimal_digit(c)?;
            previous_was_digit = true;
            magnitude = magnitude
                .and_then(|m| m.checked_mul(10))
                .and_then(|m| m.checked_add(u64::from(digit)));
        }
        if !previous_was_digit {
            return None;
        }
        Some(match magnitude {
            Some(magnitude) => Number::Small {
                negative: negative && magnitude != 0,
                magnitude,
            },
            None => Number::Big(canonical_big(negative, digits)),
        })
    }

    /// A seat named by its label on a cabin map: stored as its wire number
    /// (library seat + 1).
    #[must_use]
    pub fn seat(library_seat: u64) -> Number {
        Number::Small {
            negative: false,
            magnitude: library_seat + 1,
        }
    }

    /// The seat this number names on the wire (1..=`seats`), if it does.
    #[must_use]
    pub fn wire_seat(&self, seats: u64) -> Option<u64> {
        match *self {
            Number::Small {
                negative: false,
                magnitude,
            } if (1..=seats).contains(&magnitude) => Some(magnitude),
            _ => None,
        }
    }

    /// The library seat (from 0) this number names, if it names one of
    /// `seats` wire seats.
    #[must_use]
    pub fn library_seat(&self, seats: u64) -> Option<u64> {
        self.wire_seat(seats).map(|s| s - 1)
    }

    /// Appends the canonical decimal form (as Python's `str(int)` writes it).
    pub fn write_to(&self, out: &mut Vec<u8>) {
        match self {
            Number::Small {
                negative,
                magnitude,
            } => {
                if *negative {
                    out.push(b'-');
                }
                push_u64(out, *magnitude);
            }
            Number::Big(text) | Number::Text(text) => out.extend_from_slice(text.as_bytes()),
        }
    }
}

impl fmt::Display for Number {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut out = Vec::new();
        self.write_to(&mut out);
        f.write_str(&String::from_utf8_lossy(&out))
    }
}

/// Python's `str.isspace`, the set `str.strip()` removes: Unicode
/// White_Space plus the four ASCII separators `\x1c`..`\x1f`, which Python
/// counts as whitespace and Rust's `char::is_whitespace` does not.
#[must_use]
pub fn is_python_space(c: char) -> bool {
    is_int_space(c) || ('\x1c'..='\x1f').contains(&c)
}

/// The whitespace Python's `int()` skips around a number: ASCII whitespace
/// (`Py_ISSPACE`: space, `\t`, `\n`, `\x0b`, `\x0c`, `\r`) and every
/// non-ASCII character `str.isspace` accepts (`\u0085`, `\u00a0`,
/// `\u3000`, `\u2028`, ...). That is exactly Unicode White_Space, Rust's
/// `char::is_whitespace` (checked against `python3` for every character by
/// `tests/python_parity.rs`). Not `\x1c`..`\x1f`: CPython maps non-ASCII
/// spaces to ASCII ones before parsing, leaves ASCII as it is, and the
/// ASCII test does not count the separators.
#[must_use]
pub fn is_int_space(c: char) -> bool {
    c.is_whitespace()
}

/// The value of a decimal digit in any script (Unicode category Nd, what
/// `int()` accepts), or `None`.
fn decimal_digit(c: char) -> Option<u8> {
    if let Some(d) = c.to_digit(10) {
        // `to_digit(10)` is below 10, so the cast cannot truncate.
        return Some(d as u8);
    }
    if c.is_ascii() {
        return None;
    }
    let cp = u32::from(c);
    let at = ND_RANGES.partition_point(|&(_, last)| last < cp);
    let &(first, last) = ND_RANGES.get(at)?;
    // Each range is whole runs of 0..9 (checked by the generator), so the
    // remainder is the digit's value and below 10.
    (first..=last)
        .contains(&cp)
        .then(|| ((cp - first) % 10) as u8)
}

/// Appends `n` in decimal without going through `fmt`.
pub(crate) fn push_u64(out: &mut Vec<u8>, mut n: u64) {
    let mut buf = [0u8; 20];
    let mut at = buf.len();
    loop {
        at -= 1;
        // `n % 10` is below 10, so the cast cannot truncate.
        buf[at] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    out.extend_from_slice(&buf[at..]);
}

/// The canonical text of a number too big for a `u64`: sign, then the
/// digits in ASCII without `_` and leading zeros. Never called for zero,
/// and only on `digits` that [`Number::parse`] validated.
fn canonical_big(negative: bool, digits: &str) -> Box<str> {
    let mut text = String::with_capacity(digits.len() + 1);
    if negative {
        text.push('-');
    }
    text.extend(
        digits
            .chars()
            .filter_map(decimal_digit)
            .skip_while(|&d| d == 0)
            .map(|d| char::from(b'0' + d)),
    );
    text.into_boxed_str()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn canonical(piece: &str) -> Option<String> {
        Number::parse(piece).map(|n| n.to_string())
    }

    #[test]
    fn accepts_what_python_int_accepts() {
        let cases = [
            ("5", "5"),
            (" 5 ", "5"),
            ("+5", "5"),
            ("05", "5"),
            ("-0", "0"),
            ("+0", "0"),
            ("000", "0"),
            ("-007", "-7"),
            ("1_0", "10"),
            ("1_000_000", "1000000"),
            ("0_0", "0"),
            ("\t\n\r\x0b\x0c\u{1680}7\u{a0}\u{3000}\u{2028}\u{85}", "7"),
            ("18446744073709551615", "18446744073709551615"),
            ("18446744073709551616", "18446744073709551616"),
            (
                "-000123456789012345678901234567890",
                "-123456789012345678901234567890",
            ),
            ("0_0018446744073709551616", "18446744073709551616"),
            ("５", "5"),
            ("٣", "3"),
            ("-٠٠٧", "-7"),
            ("1٥", "15"),
            ("１_０", "10"),
            ("\u{3000}+\u{1D7D0}\u{1D7CF}\u{2028}", "21"),
            ("٩٩٩٩٩_٩٩٩٩٩٩٩٩٩٩٩٩٩٩٩٩٩٩٩٩", "9999999999999999999999999"),
        ];
        for (piece, expected) in cases {
            assert_eq!(canonical(piece).as_deref(), Some(expected), "{piece:?}");
        }
    }

    #[test]
    fn rejects_what_python_int_rejects() {
        for piece in [
            "",
            " ",
            "+",
            "-",
            "+-5",
            "--5",
            "- 5",
            "5 5",
            "2.5",
            "0x10",
            "1e3",
            "abc",
            "_1",
            "1_",
            "1__0",
            "5\0",
            "\u{7f}5",
            "1,2",
            "\x1c5",
            "5\x1f",
            "\x1d",
            "-\u{3000}5",
            "５\x1e",
            "²",
            "½",
            "Ⅴ",
            "①",
            "5\u{200b}",
        ] {
            assert_eq!(Number::parse(piece), None, "{piece:?}");
        }
    }

    #[test]
    fn seats_are_one_to_capacity() {
        let seat = |piece: &str| Number::parse(piece).unwrap().wire_seat(100);
        assert_eq!(seat("1"), Some(1));
        assert_eq!(seat("100"), Some(100));
        assert_eq!(seat("0"), None);
        assert_eq!(seat("-0"), None);
        assert_eq!(seat("-5"), None);
        assert_eq!(seat("101"), None);
        assert_eq!(seat("99999999999999999999999"), None);
        assert_eq!(Number::parse("7").unwrap().library_seat(100), Some(6));
    }

    #[test]
    fn push_u64_writes_decimal() {
        for n in [0, 1, 9, 10, 12345, u64::MAX] {
            let mut out = Vec::new();
            push_u64(&mut out, n);
            assert_eq!(out, n.to_string().as_bytes());
        }
    }

    #[test]
    fn python_space_includes_file_separators_and_int_space_does_not() {
        assert!(is_python_space('\x1c') && is_python_space('\x1f'));
        assert!(!is_int_space('\x1c') && !is_int_space('\x1f'));
        assert!(is_python_space('\u{3000}') && is_int_space('\u{3000}'));
        assert!(!is_python_space('\0') && !is_python_space('\x7f'));
    }

    #[test]
    fn digit_table_is_sorted_whole_runs_of_ten() {
        let mut previous_last = 0x7f;
        for &(first, last) in ND_RANGES {
            assert!(first > previous_last && last >= first, "{first:x}");
            assert_eq!((last - first + 1) % 10, 0, "{first:x}");
            previous_last = last;
        }
        assert_eq!(decimal_digit('\u{FF10}'), Some(0));
        assert_eq!(decimal_digit('\u{FF19}'), Some(9));
        assert_eq!(decimal_digit('\u{FF1A}'), None);
        assert_eq!(decimal_digit('\u{065F}'), None);
        assert_eq!(decimal_digit('\u{10FFFF}'), None);
    }
}

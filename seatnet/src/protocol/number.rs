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
//! Whitespace around the piece is Python's `str.isspace` set (ASCII
//! whitespace, `\x1c`..`\x1f` and the Unicode spaces). Rejected, as by
//! Python: an empty piece, a sign alone or doubled (`+-5`), a space after the
//! sign (`- 5`), `_` at either end or doubled (`1__0`), anything else
//! (`2.5`, `0x10`, `abc`). One divergence: Python also accepts non-ASCII
//! decimal digits (`５`, `٥`); seatnet does not.

use std::fmt;

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
}

impl Number {
    /// Reads one piece the way Python's `int()` does, or `None` if Python
    /// would raise `ValueError` (or the digits are not ASCII).
    #[must_use]
    pub fn parse(piece: &str) -> Option<Number> {
        let body = piece.trim_matches(is_python_space);
        let (negative, digits) = match body.as_bytes().first()? {
            b'-' => (true, &body[1..]),
            b'+' => (false, &body[1..]),
            _ => (false, body),
        };
        if !valid_digits(digits.as_bytes()) {
            return None;
        }
        let mut magnitude: u64 = 0;
        for &b in digits.as_bytes().iter().filter(|&&b| b != b'_') {
            let next = magnitude
                .checked_mul(10)
                .and_then(|m| m.checked_add(u64::from(b - b'0')));
            match next {
                Some(m) => magnitude = m,
                None => return Some(Number::Big(canonical_big(negative, digits))),
            }
        }
        Some(Number::Small {
            negative: negative && magnitude != 0,
            magnitude,
        })
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
            Number::Big(text) => out.extend_from_slice(text.as_bytes()),
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

/// Python's `str.isspace`: Unicode White_Space plus the four ASCII
/// separators `\x1c`..`\x1f`, which Python counts as whitespace and Rust's
/// `char::is_whitespace` does not.
#[must_use]
pub fn is_python_space(c: char) -> bool {
    c.is_whitespace() || ('\x1c'..='\x1f').contains(&c)
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

/// `digit ( '_'? digit )*` over ASCII digits: Python's grammar for a
/// base-10 integer without sign.
fn valid_digits(digits: &[u8]) -> bool {
    let mut previous_was_digit = false;
    for &b in digits {
        match b {
            b'0'..=b'9' => previous_was_digit = true,
            b'_' if previous_was_digit => previous_was_digit = false,
            _ => return false,
        }
    }
    previous_was_digit
}

/// The canonical text of a number too big for a `u64`: sign, then the
/// digits without `_` and leading zeros. Never called for zero.
fn canonical_big(negative: bool, digits: &str) -> Box<str> {
    let mut text = String::with_capacity(digits.len() + 1);
    if negative {
        text.push('-');
    }
    text.extend(
        digits
            .chars()
            .filter(|&c| c != '_')
            .skip_while(|&c| c == '0'),
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
            (
                "\t\n\r\x0b\x0c\x1c\x1d\x1e\x1f7\u{a0}\u{3000}\u{2028}\u{85}",
                "7",
            ),
            ("18446744073709551615", "18446744073709551615"),
            ("18446744073709551616", "18446744073709551616"),
            (
                "-000123456789012345678901234567890",
                "-123456789012345678901234567890",
            ),
            ("0_0018446744073709551616", "18446744073709551616"),
        ];
        for (piece, expected) in cases {
            assert_eq!(canonical(piece).as_deref(), Some(expected), "{piece:?}");
        }
    }

    #[test]
    fn rejects_what_python_int_rejects() {
        for piece in [
            "", " ", "+", "-", "+-5", "--5", "- 5", "5 5", "2.5", "0x10", "1e3", "abc", "_1", "1_",
            "1__0", "5\0", "\u{7f}5", "٥", "５", "1,2",
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
    fn python_space_includes_file_separators() {
        assert!(is_python_space('\x1c') && is_python_space('\x1f'));
        assert!(is_python_space('\u{3000}'));
        assert!(!is_python_space('\0') && !is_python_space('\x7f'));
    }
}

//! Python's `repr()` of a string, for echoing what a person typed in the
//! original reply's lists on a cabin map (`['12Z', '0A']`).
//!
//! CPython's rules (`unicode_repr`): quote with `'`, or with `"` when the
//! text holds a `'` and no `"`; escape `\` and the chosen quote with a
//! backslash; write tab, newline and carriage return as `\t`, `\n`, `\r`;
//! other ASCII controls and DEL as `\xNN`; keep printable characters as
//! they are; write the non-printable non-ASCII ones (`str.isprintable()`
//! false: controls, format characters, private use, unassigned, separators
//! but the space) as `\xNN`, `\uNNNN` or `\UNNNNNNNN`, hex in lower case.
//! Which characters are printable comes from a table generated from
//! Python's own `unicodedata` (`printable_table.rs`, by
//! `seatplan/tools/gen_printable_table.py`); `tests/python_repr.rs` checks
//! every character against `python3`.

use std::fmt::{self, Write as _};

use crate::printable_table::NOT_PRINTABLE;

/// Writes `text` as Python's `repr(text)` does.
///
/// # Examples
///
/// ```
/// use seatplan::py_str;
///
/// assert_eq!(py_str("12Z").to_string(), "'12Z'");
/// assert_eq!(py_str("it's").to_string(), r#""it's""#);
/// assert_eq!(py_str("a\tb\u{7f}é\u{a0}").to_string(), r"'a\tb\x7fé\xa0'");
/// ```
#[must_use]
pub fn py_str(text: &str) -> PyStr<'_> {
    PyStr(text)
}

/// A string written as Python's `repr()`, from [`py_str`].
#[derive(Debug, Clone, Copy)]
pub struct PyStr<'a>(&'a str);

impl fmt::Display for PyStr<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let quote = if self.0.contains('\'') && !self.0.contains('"') {
            '"'
        } else {
            '\''
        };
        f.write_char(quote)?;
        for c in self.0.chars() {
            match c {
                '\\' => f.write_str("\\\\")?,
                c if c == quote => {
                    f.write_char('\\')?;
                    f.write_char(c)?;
                }
                '\t' => f.write_str("\\t")?,
                '\n' => f.write_str("\\n")?,
                '\r' => f.write_str("\\r")?,
                c if c < ' ' || c == '\x7f' => write!(f, "\\x{:02x}", u32::from(c))?,
                c if c.is_ascii() || printable(c) => f.write_char(c)?,
                c if u32::from(c) <= 0xff => write!(f, "\\x{:02x}", u32::from(c))?,
                c if u32::from(c) <= 0xffff => write!(f, "\\u{:04x}", u32::from(c))?,
                c => write!(f, "\\U{:08x}", u32::from(c))?,
            }
        }
        f.write_char(quote)
    }
}

/// Whether Python's `str.isprintable()` accepts a non-ASCII character.
fn printable(c: char) -> bool {
    let cp = u32::from(c);
    let at = NOT_PRINTABLE.partition_point(|&(_, last)| last < cp);
    NOT_PRINTABLE.get(at).is_none_or(|&(first, _)| first > cp)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quotes_and_escapes_follow_python() {
        // Each expected text is what python3 prints for repr(input).
        for (input, expected) in [
            ("", "''"),
            ("12A", "'12A'"),
            ("'", r#""'""#),
            ("\"", r#"'"'"#),
            ("'\"", r#"'\'"'"#),
            ("a\\b", r"'a\\b'"),
            ("\0\x01\x1f\x7f", r"'\x00\x01\x1f\x7f'"),
            ("\t\n\r\x0b\x0c", r"'\t\n\r\x0b\x0c'"),
            ("\u{80}\u{9f}\u{a0}\u{ad}", r"'\x80\x9f\xa0\xad'"),
            ("é５٣", "'é５٣'"),
            ("\u{200b}\u{2028}\u{3000}", r"'\u200b\u2028\u3000'"),
            (
                "\u{e000}\u{10ffff}\u{e0001}",
                r"'\ue000\U0010ffff\U000e0001'",
            ),
            ("😀", "'😀'"),
        ] {
            assert_eq!(py_str(input).to_string(), expected, "{input:?}");
        }
    }

    #[test]
    fn table_is_sorted_and_disjoint() {
        let mut previous_last = 0x7f;
        for &(first, last) in NOT_PRINTABLE {
            assert!(first > previous_last && last >= first, "{first:x}");
            previous_last = last;
        }
    }
}

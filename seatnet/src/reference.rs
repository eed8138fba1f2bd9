//! Booking references: the secret that lets whoever holds it cancel a
//! booking. Neither `protocol` (which writes and reads them on the wire)
//! nor `inventory` (which keeps the table) owns them.
//!
//! - drawn from the operating system's CSPRNG (`getrandom`): 128 random
//!   bits, so guessing one of `n` open bookings takes about `2^128 / n`
//!   tries;
//! - compared in constant time (`subtle`), so a `CANCEL` that guesses
//!   learns nothing from how long the comparison took;
//! - never shown by `Debug` (so never by a `?reference` in a log), and
//!   [`Redacted`] hides them in request text that is logged.

use std::fmt;
use std::hash::{Hash, Hasher};

use subtle::ConstantTimeEq;

/// A booking reference: 128 random bits, written as 32 lowercase hex digits.
///
/// Equality is constant-time; `Debug` prints `BookingRef(<redacted>)`.
/// `Display` writes the full reference, for the reply to its holder only.
///
/// # Examples
///
/// ```
/// use seatnet::BookingRef;
///
/// let r = BookingRef::from_raw(0xabc);
/// assert_eq!(r.to_string(), "00000000000000000000000000000abc");
/// assert_eq!(BookingRef::from_text(&r.to_string()), Some(r));
/// assert_eq!(BookingRef::from_text("abc"), None);
/// assert_eq!(format!("{r:?}"), "BookingRef(<redacted>)");
/// assert_ne!(BookingRef::random(), BookingRef::random());
/// ```
#[derive(Clone, Copy)]
pub struct BookingRef(u128);

impl BookingRef {
    /// The number of hex digits in a written reference.
    pub const LEN: usize = 32;

    /// A fresh reference from the operating system's random number
    /// generator.
    ///
    /// # Panics
    ///
    /// If the operating system cannot supply random bytes (on Linux,
    /// `getrandom(2)` then `/dev/urandom` both failing), which no input can
    /// cause: there is no safe reference to hand out without them.
    #[must_use]
    pub fn random() -> Self {
        let mut bytes = [0u8; 16];
        getrandom::fill(&mut bytes).expect("the operating system's random number generator failed");
        BookingRef(u128::from_be_bytes(bytes))
    }

    /// A reference with this value (tests and tools).
    #[must_use]
    pub const fn from_raw(value: u128) -> Self {
        BookingRef(value)
    }

    /// Its value, the inverse of [`from_raw`](Self::from_raw) (journal
    /// records and snapshots store it).
    #[must_use]
    pub const fn to_raw(self) -> u128 {
        self.0
    }

    /// Reads a written reference: exactly 32 hex digits, either case.
    #[must_use]
    pub fn from_text(text: &str) -> Option<Self> {
        if text.len() != Self::LEN || !text.bytes().all(|b| b.is_ascii_hexdigit()) {
            return None;
        }
        u128::from_str_radix(text, 16).ok().map(BookingRef)
    }
}

impl PartialEq for BookingRef {
    /// Constant-time: the time taken does not depend on where two
    /// references first differ.
    fn eq(&self, other: &Self) -> bool {
        self.0.to_be_bytes().ct_eq(&other.0.to_be_bytes()).into()
    }
}

impl Eq for BookingRef {}

impl Hash for BookingRef {
    /// Hashes the value, consistent with `eq`. The booking table's
    /// `HashMap` uses the standard library's randomly keyed SipHash, so
    /// which bucket a guess lands in tells a client nothing about the
    /// references stored there; what decides a match is `eq`, which is
    /// constant-time.
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.0.hash(state);
    }
}

impl fmt::Display for BookingRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:032x}", self.0)
    }
}

impl fmt::Debug for BookingRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("BookingRef(<redacted>)")
    }
}

/// Request bytes made fit for a log line: lossy UTF-8, with anything that
/// may be a booking reference replaced by `<redacted>`: the argument of a
/// `CANCEL` (any letter case) and every run of 32 or more hex digits.
///
/// # Examples
///
/// ```
/// use seatnet::Redacted;
///
/// let secret = "0123456789abcdef0123456789abcdef";
/// assert_eq!(Redacted(format!("cancel {secret}").as_bytes()).to_string(), "cancel <redacted>");
/// assert_eq!(Redacted(b"5,10,22").to_string(), "5,10,22");
/// ```
#[derive(Clone, Copy)]
pub struct Redacted<'a>(pub &'a [u8]);

impl fmt::Display for Redacted<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        const MASK: &str = "<redacted>";
        let text = String::from_utf8_lossy(self.0);
        let trimmed = text.trim_start();
        let verb_len = trimmed.find(char::is_whitespace).unwrap_or(trimmed.len());
        if trimmed[..verb_len].eq_ignore_ascii_case("CANCEL") {
            let lead = text.len() - trimmed.len();
            f.write_str(&text[..lead + verb_len])?;
            return if trimmed[verb_len..].trim().is_empty() {
                f.write_str(&trimmed[verb_len..])
            } else {
                write!(f, " {MASK}")
            };
        }
        let mut rest = text.as_ref();
        while !rest.is_empty() {
            let start = rest
                .find(|c: char| c.is_ascii_hexdigit())
                .unwrap_or(rest.len());
            f.write_str(&rest[..start])?;
            rest = &rest[start..];
            let run = rest
                .find(|c: char| !c.is_ascii_hexdigit())
                .unwrap_or(rest.len());
            f.write_str(if run >= BookingRef::LEN {
                MASK
            } else {
                &rest[..run]
            })?;
            rest = &rest[run..];
        }
        Ok(())
    }
}

impl fmt::Debug for Redacted<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?}", self.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn random_references_are_distinct_and_round_trip() {
        let refs: Vec<BookingRef> = (0..1000).map(|_| BookingRef::random()).collect();
        let unique: std::collections::HashSet<u128> = refs.iter().map(|r| r.0).collect();
        assert_eq!(unique.len(), 1000);
        for r in &refs {
            assert_eq!(BookingRef::from_text(&r.to_string()), Some(*r));
            assert_eq!(
                BookingRef::from_text(&r.to_string().to_uppercase()),
                Some(*r)
            );
        }
    }

    #[test]
    fn random_bits_are_spread() {
        // 1000 draws: every one of the 128 bit positions is set in some and
        // clear in others (a fixed or counter-like source would fail).
        let (mut any_set, mut all_set) = (0u128, u128::MAX);
        for _ in 0..1000 {
            let r = BookingRef::random().0;
            any_set |= r;
            all_set &= r;
        }
        assert_eq!(any_set, u128::MAX);
        assert_eq!(all_set, 0);
    }

    #[test]
    fn equality_and_hash_agree() {
        use std::hash::BuildHasher;
        let (a, b) = (BookingRef::from_raw(7), BookingRef::from_raw(7));
        assert_eq!(a, b);
        assert_ne!(a, BookingRef::from_raw(7 | 1 << 127));
        assert_ne!(a, BookingRef::from_raw(6));
        let state = std::hash::RandomState::new();
        assert_eq!(state.hash_one(a), state.hash_one(b));
    }

    #[test]
    fn malformed_references_are_rejected() {
        for text in [
            "",
            "0",
            "+0000000000000000000000000000000",
            &"g".repeat(32),
            &"0".repeat(33),
            "00000000000000000000000000000é",
        ] {
            assert_eq!(BookingRef::from_text(text), None, "{text:?}");
        }
    }

    #[test]
    fn debug_never_shows_the_reference() {
        let r = BookingRef::random();
        let shown = format!("{r:?} {:?} {r:#?}", Some(r));
        assert!(!shown.contains(&r.to_string()), "{shown}");
    }

    #[test]
    fn redacted_hides_references_in_requests() {
        let secret = BookingRef::random().to_string();
        for request in [
            format!("CANCEL {secret}"),
            format!("  cancel\t{secret}\r"),
            format!("Cancel {}", &secret[..20]),
            format!("5,{secret}"),
            format!("x{secret}ff"),
            format!("BOOK {}", secret.to_uppercase()),
        ] {
            let logged = Redacted(request.as_bytes()).to_string();
            assert!(logged.contains("<redacted>"), "{logged}");
            assert!(!logged.to_lowercase().contains(&secret[..20]), "{logged}");
        }
        assert_eq!(Redacted(b"CANCEL").to_string(), "CANCEL");
        assert_eq!(Redacted(b"ANY 3").to_string(), "ANY 3");
        assert_eq!(Redacted(b"1,2,ff").to_string(), "1,2,ff");
        assert_eq!(Redacted(b"\xff5").to_string(), "\u{fffd}5");
    }
}

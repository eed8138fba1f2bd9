//! Where a seat lives: all index arithmetic of the bitset, in one place.
//!
//! Seats are numbered from **0** in the library (the wire protocol's seat `n`
//! is the library's seat `n - 1`). Seat `s` is one bit:
//!
//! | quantity            | formula                 | example: seat 130 |
//! |---------------------|-------------------------|-------------------|
//! | word index          | `s / 64` (`s >> 6`)     | 2                 |
//! | bit within the word | `s % 64` (`s & 63`)     | 2                 |
//! | mask                | `1 << (s % 64)`         | `0b100`           |
//! | bit value           | `1` = reserved, `0` = free                   |
//!
//! A map of `capacity` seats has `ceil(capacity / 64)` words. The bits of the
//! last word past `capacity` are never set; [`valid_bits`] masks them off.

/// Seats per word.
pub(crate) const BITS: u64 = u64::BITS as u64;
/// `log2(BITS)`: a shift turns a seat into its word index.
const SHIFT: u32 = BITS.trailing_zeros();
/// `BITS - 1`: a mask turns a seat into its bit index.
const BIT_MASK: u64 = BITS - 1;

/// The index of the word holding `seat`.
///
/// Callers check `seat < capacity` first, and the constructor checked that
/// the word count fits `usize`, so the cast cannot truncate.
#[inline]
pub(crate) const fn word_of(seat: u64) -> usize {
    (seat >> SHIFT) as usize
}

/// The position of `seat`'s bit within its word (0..64).
#[inline]
pub(crate) const fn bit_of(seat: u64) -> u32 {
    (seat & BIT_MASK) as u32
}

/// The single-bit mask of `seat` within its word.
#[inline]
pub(crate) const fn mask_of(seat: u64) -> u64 {
    1 << bit_of(seat)
}

/// The first seat held by word `word`.
#[inline]
pub(crate) const fn first_seat_of(word: usize) -> u64 {
    (word as u64) << SHIFT
}

/// How many words a map of `capacity` seats needs.
#[inline]
pub(crate) const fn words_for(capacity: u64) -> u64 {
    capacity.div_ceil(BITS)
}

/// The bits of word `word` that are real seats of a map of `capacity` seats:
/// all ones except in a partial last word.
#[inline]
pub(crate) const fn valid_bits(word: usize, capacity: u64) -> u64 {
    let first = first_seat_of(word);
    let seats_here = capacity.saturating_sub(first);
    low_mask(seats_here)
}

/// Whether a word holding `value` has no free seat, given its `valid` bits.
#[inline]
pub(crate) const fn is_full(value: u64, valid: u64) -> bool {
    value | !valid == u64::MAX
}

/// The lowest `len` bits set (`len` in `0..=64`).
#[inline]
pub(crate) const fn low_mask(len: u64) -> u64 {
    if len >= BITS {
        u64::MAX
    } else {
        (1 << len) - 1
    }
}

/// The bits of word `word` that fall in `range` (which may extend past the
/// word on either side).
#[inline]
pub(crate) fn range_mask(word: usize, range: &std::ops::Range<u64>) -> u64 {
    let first = first_seat_of(word);
    let low = range.start.max(first);
    let high = range.end.min(first + BITS);
    if low >= high {
        return 0;
    }
    low_mask(high - low) << (low - first)
}

/// Calls `f` with each maximal run of set bits of `bits` in word `word`, as
/// seat ranges, lowest first.
#[inline]
pub(crate) fn for_each_run(word: usize, mut bits: u64, mut f: impl FnMut(std::ops::Range<u64>)) {
    let first = first_seat_of(word);
    while bits != 0 {
        let low = bits.trailing_zeros();
        let len = (bits >> low).trailing_ones();
        let start = first + u64::from(low);
        f(start..start + u64::from(len));
        bits &= !(low_mask(u64::from(len)) << low);
    }
}

/// Calls `f` with every seat whose bit is set in `bits` of word `word`,
/// lowest first.
#[inline]
pub(crate) fn for_each_seat(word: usize, mut bits: u64, mut f: impl FnMut(u64)) {
    let first = first_seat_of(word);
    while bits != 0 {
        f(first + u64::from(bits.trailing_zeros()));
        // Clear the lowest set bit.
        bits &= bits - 1;
    }
}

/// The lowest `n` set bits of `bits` (all of them when it has fewer).
#[inline]
pub(crate) fn lowest_bits(mut bits: u64, n: u64) -> u64 {
    if u64::from(bits.count_ones()) <= n {
        return bits;
    }
    let mut picked = 0;
    for _ in 0..n {
        let lowest = bits & bits.wrapping_neg();
        picked |= lowest;
        bits ^= lowest;
    }
    picked
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seat_to_word_and_bit() {
        assert_eq!((word_of(0), bit_of(0), mask_of(0)), (0, 0, 1));
        assert_eq!((word_of(63), bit_of(63), mask_of(63)), (0, 63, 1 << 63));
        assert_eq!((word_of(64), bit_of(64), mask_of(64)), (1, 0, 1));
        assert_eq!((word_of(130), bit_of(130), mask_of(130)), (2, 2, 0b100));
        assert_eq!(first_seat_of(2), 128);
        let big = (1u64 << 32) + 5;
        assert_eq!(first_seat_of(word_of(big)) + u64::from(bit_of(big)), big);
    }

    #[test]
    fn word_counts() {
        assert_eq!(words_for(1), 1);
        assert_eq!(words_for(64), 1);
        assert_eq!(words_for(65), 2);
        assert_eq!(words_for(1 << 32), 1 << 26);
    }

    #[test]
    fn valid_bits_of_partial_last_word() {
        assert_eq!(valid_bits(0, 1), 1);
        assert_eq!(valid_bits(0, 63), u64::MAX >> 1);
        assert_eq!(valid_bits(0, 64), u64::MAX);
        assert_eq!(valid_bits(0, 65), u64::MAX);
        assert_eq!(valid_bits(1, 65), 1);
        assert_eq!(valid_bits(1, 128), u64::MAX);
        assert_eq!(valid_bits(2, 129), 1);
    }

    #[test]
    fn seats_of_bits() {
        let mut seen = Vec::new();
        for_each_seat(1, 0b1010_0001, |s| seen.push(s));
        assert_eq!(seen, [64, 69, 71]);
    }

    #[test]
    fn masks_and_runs() {
        assert_eq!(low_mask(0), 0);
        assert_eq!(low_mask(3), 0b111);
        assert_eq!(low_mask(64), u64::MAX);
        assert_eq!(range_mask(0, &(3..5)), 0b11000);
        assert_eq!(range_mask(1, &(60..70)), 0b11_1111);
        assert_eq!(range_mask(0, &(60..70)), 0b1111 << 60);
        assert_eq!(range_mask(2, &(60..70)), 0);
        assert_eq!(range_mask(1, &(0..1000)), u64::MAX);
        let mut runs = Vec::new();
        for_each_run(1, 0b1110_0110 | 1 << 63, |r| runs.push(r));
        assert_eq!(runs, [65..67, 69..72, 127..128]);
        assert!(is_full(u64::MAX, u64::MAX));
        assert!(is_full(0b111, 0b111));
        assert!(!is_full(0b101, 0b111));
    }

    #[test]
    fn lowest_bits_picks_from_the_bottom() {
        assert_eq!(lowest_bits(0b1011_0110, 2), 0b0000_0110);
        assert_eq!(lowest_bits(0b1011_0110, 9), 0b1011_0110);
        assert_eq!(lowest_bits(u64::MAX, 64), u64::MAX);
        assert_eq!(lowest_bits(0b1, 0), 0);
    }
}

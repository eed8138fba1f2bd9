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
    if seats_here >= BITS {
        u64::MAX
    } else {
        (1 << seats_here) - 1
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
    fn lowest_bits_picks_from_the_bottom() {
        assert_eq!(lowest_bits(0b1011_0110, 2), 0b0000_0110);
        assert_eq!(lowest_bits(0b1011_0110, 9), 0b1011_0110);
        assert_eq!(lowest_bits(u64::MAX, 64), u64::MAX);
        assert_eq!(lowest_bits(0b1, 0), 0);
    }
}

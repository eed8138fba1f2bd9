//! The index arithmetic the two bitset baselines share: seat `s` is bit
//! `s % 64` of word `s / 64`, as in seatcore.

/// Seats per word.
pub(crate) const BITS: u64 = 64;

/// How many words hold `capacity` seats.
pub(crate) fn word_count(capacity: u64) -> usize {
    usize::try_from(capacity.div_ceil(BITS)).expect("capacity fits in memory")
}

/// The word index and mask of `seat`, if it is below `capacity`.
#[inline]
pub(crate) fn locate(seat: u64, capacity: u64) -> Option<(usize, u64)> {
    (seat < capacity).then(|| ((seat / BITS) as usize, 1 << (seat % BITS)))
}

/// The bits of word `word` that are real seats of a `capacity`-seat map.
#[inline]
pub(crate) fn valid_bits(word: usize, capacity: u64) -> u64 {
    let here = capacity - word as u64 * BITS;
    if here >= BITS {
        u64::MAX
    } else {
        (1 << here) - 1
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn index_math() {
        assert_eq!(word_count(64), 1);
        assert_eq!(word_count(65), 2);
        assert_eq!(locate(65, 100), Some((1, 0b10)));
        assert_eq!(locate(100, 100), None);
        assert_eq!(valid_bits(1, 65), 1);
        assert_eq!(valid_bits(0, 65), u64::MAX);
    }
}

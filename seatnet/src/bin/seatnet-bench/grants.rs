//! Which seats a run has seen granted: the double-grant check.
//!
//! The workload never releases a seat, so a seat that shows up in two
//! `Reservados` lists was sold twice. Each driver thread keeps its own set
//! (no sharing on the hot path); the sets are merged at the end, where a
//! seat present in two of them is a double grant too.

/// At most this many offending seats are kept for the report.
const KEEP: usize = 8;

/// A bitset of granted seats 1..=capacity, plus what went wrong.
#[derive(Debug, Clone)]
pub(crate) struct Grants {
    words: Vec<u64>,
    capacity: u64,
    granted: u64,
    /// Seats granted twice (the first few).
    twice: Vec<u64>,
    twice_count: u64,
    /// Seats granted that are not seats at all (the first few).
    outside: Vec<u64>,
    outside_count: u64,
}

impl Grants {
    pub(crate) fn new(capacity: u64) -> Self {
        let words = usize::try_from(capacity / 64 + 1).unwrap_or(usize::MAX);
        Self {
            words: vec![0; words],
            capacity,
            granted: 0,
            twice: Vec::new(),
            twice_count: 0,
            outside: Vec::new(),
            outside_count: 0,
        }
    }

    /// Records one granted seat.
    pub(crate) fn grant(&mut self, seat: u64) {
        if seat == 0 || seat > self.capacity {
            self.outside_count += 1;
            keep(&mut self.outside, seat);
            return;
        }
        let (word, bit) = ((seat / 64) as usize, 1u64 << (seat % 64));
        if self.words[word] & bit != 0 {
            self.twice_count += 1;
            keep(&mut self.twice, seat);
        } else {
            self.words[word] |= bit;
            self.granted += 1;
        }
    }

    /// Folds another driver's set into this one.
    pub(crate) fn merge(&mut self, other: &Grants) {
        for (i, (mine, theirs)) in self.words.iter_mut().zip(&other.words).enumerate() {
            let both = *mine & *theirs;
            if both != 0 {
                for bit in 0..64 {
                    if both & (1 << bit) != 0 {
                        self.twice_count += 1;
                        keep(&mut self.twice, i as u64 * 64 + bit);
                    }
                }
            }
            *mine |= *theirs;
        }
        self.granted = self.words.iter().map(|w| u64::from(w.count_ones())).sum();
        self.twice_count += other.twice_count;
        for &seat in &other.twice {
            keep(&mut self.twice, seat);
        }
        self.outside_count += other.outside_count;
        for &seat in &other.outside {
            keep(&mut self.outside, seat);
        }
    }

    pub(crate) fn ok(&self) -> bool {
        self.twice_count == 0 && self.outside_count == 0
    }

    /// Distinct seats granted.
    pub(crate) fn granted(&self) -> u64 {
        self.granted
    }

    /// The report line.
    pub(crate) fn verdict(&self) -> String {
        if self.ok() {
            return format!(
                "double-grant check: OK ({} seats granted, none twice)",
                self.granted
            );
        }
        let mut parts = Vec::new();
        if self.twice_count > 0 {
            parts.push(format!(
                "{} double grants, e.g. seat {} granted twice",
                self.twice_count,
                list(&self.twice)
            ));
        }
        if self.outside_count > 0 {
            parts.push(format!(
                "{} grants of seats outside 1..={}: {}",
                self.outside_count,
                self.capacity,
                list(&self.outside)
            ));
        }
        format!("double-grant check: FAILED: {}", parts.join("; "))
    }
}

fn keep(list: &mut Vec<u64>, seat: u64) {
    if list.len() < KEEP && !list.contains(&seat) {
        list.push(seat);
    }
}

fn list(seats: &[u64]) -> String {
    let text: Vec<String> = seats.iter().map(u64::to_string).collect();
    text.join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn distinct_grants_pass() {
        let mut g = Grants::new(100);
        for seat in [1, 64, 100, 63] {
            g.grant(seat);
        }
        assert!(g.ok());
        assert_eq!(g.granted(), 4);
        assert_eq!(
            g.verdict(),
            "double-grant check: OK (4 seats granted, none twice)"
        );
    }

    #[test]
    fn a_seat_granted_twice_fails_within_one_set() {
        let mut g = Grants::new(100);
        g.grant(17);
        g.grant(17);
        assert!(!g.ok());
        assert!(
            g.verdict().contains("seat 17 granted twice"),
            "{}",
            g.verdict()
        );
    }

    #[test]
    fn a_seat_granted_in_two_sets_fails_on_merge() {
        let mut a = Grants::new(200);
        let mut b = Grants::new(200);
        a.grant(130);
        a.grant(5);
        b.grant(130);
        b.grant(6);
        a.merge(&b);
        assert!(!a.ok());
        assert_eq!(a.granted(), 3);
        assert!(a.verdict().contains("seat 130 granted twice"));
    }

    #[test]
    fn seats_off_the_map_fail() {
        let mut g = Grants::new(100);
        g.grant(0);
        g.grant(101);
        assert!(!g.ok());
        assert!(
            g.verdict().contains("outside 1..=100: 0, 101"),
            "{}",
            g.verdict()
        );
    }
}

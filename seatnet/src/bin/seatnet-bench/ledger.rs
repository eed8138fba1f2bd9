//! The holds workload's own bookkeeping: what every reply was, and which
//! seats this driver's connections hold or have booked on each map, so a
//! seat handed out twice (or a hold that will not confirm) shows up.
//!
//! Unlike [`crate::grants`], seats come back here (cancelled holds and
//! bookings), so the check is of *live* seats: a `HOLD` that answers with a
//! seat this driver still holds or has booked on that map is a double
//! grant. One ledger per driver thread: with `--threads 1` (the default)
//! it sees every connection.

use std::collections::HashMap;

/// At most this many problem descriptions are kept for the report.
const KEEP: usize = 8;

/// Longest run a reply may list (a hold is at most 64 seats).
const MAX_RUN: u64 = 1024;

/// Replies of the holds workload, by kind (measured requests only).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Counts {
    /// `USE <map>` answered `OK using`.
    pub(crate) uses: u64,
    /// `HOLD ANY k` answered `OK <ref> seats=...`.
    pub(crate) holds: u64,
    /// `HOLD ANY k` answered `ERR not-enough` (the map was full).
    pub(crate) full: u64,
    /// `CONFIRM <ref>` of a live hold answered `OK confirmed`.
    pub(crate) confirmed: u64,
    /// `CANCEL <ref>` of a live hold answered `OK cancelled`.
    pub(crate) cancelled_holds: u64,
    /// `CANCEL <ref>` of an earlier booking answered `OK cancelled`.
    pub(crate) cancelled_bookings: u64,
}

impl Counts {
    pub(crate) fn add(&mut self, other: &Counts) {
        self.uses += other.uses;
        self.holds += other.holds;
        self.full += other.full;
        self.confirmed += other.confirmed;
        self.cancelled_holds += other.cancelled_holds;
        self.cancelled_bookings += other.cancelled_bookings;
    }
}

/// Live seats per map and the inconsistencies seen.
#[derive(Debug, Clone, Default)]
pub(crate) struct Ledger {
    /// Map → seat → the hold or booking that has it.
    live: HashMap<u32, HashMap<u64, Owner>>,
    next_id: u64,
    /// Inconsistencies seen (a seat handed out twice, a hold of ours that
    /// would not confirm or cancel, a reply about other seats).
    pub(crate) problems: u64,
    examples: Vec<String>,
}

/// Who has a live seat.
#[derive(Debug, Clone, Copy)]
struct Owner {
    id: u64,
    /// A `CANCEL` of it is in flight: the server may already have freed
    /// the seat and given it to another connection, whose reply can reach
    /// us before the `CANCEL`'s.
    releasing: bool,
}

impl Ledger {
    /// Records seats a `HOLD` on `map` answered and returns the hold's id.
    /// A seat live and not being released is a double grant (recorded).
    pub(crate) fn hold(&mut self, map: u32, seats: &[u64]) -> u64 {
        self.next_id += 1;
        let id = self.next_id;
        let live = self.live.entry(map).or_default();
        for &seat in seats {
            let before = live.insert(
                seat,
                Owner {
                    id,
                    releasing: false,
                },
            );
            if before.is_some_and(|o| !o.releasing) {
                self.problems += 1;
                keep(
                    &mut self.examples,
                    format!("map m{map}: seat {seat} held while already held or booked"),
                );
            }
        }
        id
    }

    /// A `CANCEL` of hold or booking `id` is about to be sent.
    pub(crate) fn releasing(&mut self, map: u32, seats: &[u64], id: u64) {
        if let Some(live) = self.live.get_mut(&map) {
            for seat in seats {
                if let Some(owner) = live.get_mut(seat).filter(|o| o.id == id) {
                    owner.releasing = true;
                }
            }
        }
    }

    /// Seats of hold or booking `id` that went back (cancelled, or lost to
    /// an error: after one, nothing about them is known). Seats another
    /// hold has since taken stay that hold's.
    pub(crate) fn release(&mut self, map: u32, seats: &[u64], id: u64) {
        if let Some(live) = self.live.get_mut(&map) {
            for seat in seats {
                if live.get(seat).is_some_and(|o| o.id == id) {
                    live.remove(seat);
                }
            }
            if live.is_empty() {
                self.live.remove(&map);
            }
        }
    }

    /// Records an inconsistency described by `what`.
    pub(crate) fn problem(&mut self, what: String) {
        self.problems += 1;
        keep(&mut self.examples, what);
    }

    /// Folds another driver's ledger in: a seat live in both is a double
    /// grant too (seats whose `CANCEL` never got its reply are left out:
    /// the server may have freed them).
    pub(crate) fn merge(&mut self, other: &Ledger) {
        for (&map, seats) in &other.live {
            let seats: Vec<u64> = seats
                .iter()
                .filter(|(_, owner)| !owner.releasing)
                .map(|(&seat, _)| seat)
                .collect();
            self.hold(map, &seats);
        }
        self.problems += other.problems;
        for e in &other.examples {
            keep(&mut self.examples, e.clone());
        }
    }

    pub(crate) fn ok(&self) -> bool {
        self.problems == 0
    }

    /// Seats held or booked by the run's connections when it ended.
    pub(crate) fn live_seats(&self) -> usize {
        self.live.values().map(HashMap::len).sum()
    }

    /// The report line.
    pub(crate) fn verdict(&self) -> String {
        if self.ok() {
            format!(
                "consistency check: OK (no seat held twice, every own hold confirmed or \
                 cancelled as asked; {} seats still held or booked at the end)",
                self.live_seats()
            )
        } else {
            format!(
                "consistency check: FAILED: {} problems, e.g. {}",
                self.problems,
                self.examples.join("; ")
            )
        }
    }
}

fn keep(list: &mut Vec<String>, what: String) {
    if list.len() < KEEP {
        list.push(what);
    }
}

/// The seats of a reply's `seats=` list (`4-6,9`, or labels `12A-12C,14D`
/// on a cabin map) as numbers: a seat number, or a label's row times 64
/// plus its letter. `None` if the list does not parse or runs too long.
pub(crate) fn parse_seats(list: &str, out: &mut Vec<u64>) -> Option<()> {
    out.clear();
    for item in list.split(',') {
        let (first, last) = match item.split_once('-') {
            Some((a, b)) => (seat_key(a)?, seat_key(b)?),
            None => (seat_key(item)?, seat_key(item)?),
        };
        if last < first || last - first > MAX_RUN {
            return None;
        }
        let cabin = item.as_bytes().last()?.is_ascii_alphabetic();
        if cabin && first / 64 != last / 64 {
            return None; // a run in a reply stays within its row
        }
        for key in first..=last {
            if cabin && key % 64 == u64::from(b'I' - b'A') {
                continue; // letters skip I, as the server's do
            }
            out.push(key);
        }
    }
    Some(())
}

/// One seat: digits, then at most one upper-case letter.
fn seat_key(text: &str) -> Option<u64> {
    let (digits, letter) = match text.as_bytes().last()? {
        b'A'..=b'Z' => (
            &text[..text.len() - 1],
            Some(text.as_bytes()[text.len() - 1]),
        ),
        _ => (text, None),
    };
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) || digits.len() > 9 {
        return None;
    }
    let n: u64 = digits.parse().ok()?;
    Some(match letter {
        Some(l) => n * 64 + u64::from(l - b'A'),
        None => n,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn seats(list: &str) -> Option<Vec<u64>> {
        let mut out = Vec::new();
        parse_seats(list, &mut out).map(|()| out)
    }

    #[test]
    fn numbered_runs_and_labels_parse() {
        assert_eq!(seats("4-6,9"), Some(vec![4, 5, 6, 9]));
        assert_eq!(seats("12"), Some(vec![12]));
        assert_eq!(seats("2A-2C,3D"), Some(vec![128, 129, 130, 195]));
        // H, J, K: I is skipped, as the server's letters do.
        assert_eq!(seats("1H-1K"), Some(vec![71, 73, 74]));
        for bad in ["", "x", "5-", "6-4", "1-5000", "1a", "A", "1A-2A"] {
            assert_eq!(seats(bad), None, "{bad}");
        }
    }

    #[test]
    fn a_seat_held_while_live_is_a_problem_until_released() {
        let mut l = Ledger::default();
        let first = l.hold(3, &[1, 2]);
        l.hold(4, &[1]);
        assert!(l.ok(), "the same number on another map is another seat");
        l.release(3, &[1, 2], first);
        let second = l.hold(3, &[2]);
        assert!(l.ok(), "released seats may be held again");
        l.releasing(3, &[2], second);
        let third = l.hold(3, &[2]);
        assert!(l.ok(), "a seat whose CANCEL is in flight may be held again");
        l.release(3, &[2], second);
        assert_eq!(
            l.live_seats(),
            2,
            "the late CANCEL leaves the new hold's seat (and m4's)"
        );
        l.hold(3, &[2]);
        assert!(!l.ok());
        l.release(3, &[2], third);
        assert!(
            l.verdict().contains("map m3: seat 2 held"),
            "{}",
            l.verdict()
        );
    }

    #[test]
    fn merging_finds_a_seat_live_in_two_drivers() {
        let (mut a, mut b) = (Ledger::default(), Ledger::default());
        a.hold(0, &[7]);
        b.hold(0, &[7, 8]);
        let id = b.hold(0, &[9]);
        b.releasing(0, &[9], id);
        a.hold(0, &[9]);
        a.merge(&b);
        assert_eq!((a.problems, a.live_seats()), (1, 3));
    }
}

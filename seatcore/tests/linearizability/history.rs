//! A history: the calls made on a map and what they returned, and each
//! call compiled into the atomic steps the ordering contract promises.
//!
//! What one step is, by call:
//!
//! - `reserve`, `release`, `is_reserved`: one step on one word;
//! - `reserve_each`, `release_each`: one step per word the list touches, in
//!   any order (a list is not atomic across words);
//! - `reserve_all` that succeeds: one claim per word, ascending;
//! - `reserve_all` that fails with a conflict: claims of the words below the
//!   conflicting one, the failed claim of that word (which saw exactly the
//!   reported seats taken), the rollback of the claimed words, then a read
//!   of the words above (the reported hint);
//! - `reserve_any` that succeeds: one step per seat (a search can win a
//!   word's seats in several read-modify-writes);
//! - `reserve_adjacent` that succeeds: `Begin`, one claim per word of the
//!   run (ascending), `End`;
//! - a failing search: `Begin`, `End`. Between the two, a search may hold
//!   free seats for a while and give them back; the API does not say which,
//!   so the checker decides (see `checker.rs`).

/// Seats per word.
pub(crate) const BITS: u64 = 64;

/// A call as made on the map.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Call {
    Reserve(u64),
    Release(u64),
    ReserveEach(Vec<u64>),
    ReleaseEach(Vec<u64>),
    ReserveAll(Vec<u64>),
    ReserveAny(u64),
    ReserveAdjacent(u64),
    IsReserved(u64),
}

/// What a call returned.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Outcome {
    /// `reserve`: won; `release`: freed; `is_reserved`: reserved.
    Yes(bool),
    /// List forms: per seat, in request order, reserved / released.
    Each(Vec<bool>),
    /// `reserve_all`: `Ok`, or the seats reported taken.
    All(Result<(), Vec<u64>>),
    /// Searches: the seats won, ascending, or `None` for "not enough".
    Found(Option<Vec<u64>>),
}

/// One call of a history: invoked at tick `start`, returned at tick `end`
/// (ticks of one logical clock shared by all threads).
#[derive(Debug, Clone)]
pub(crate) struct Op {
    pub(crate) start: u64,
    pub(crate) end: u64,
    pub(crate) call: Call,
    pub(crate) outcome: Outcome,
}

/// One atomic step on one word.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Step {
    /// Read-modify-write that sets bits: `won` were free and become set;
    /// `lost` were already set.
    Claim { word: usize, won: u64, lost: u64 },
    /// Read-modify-write that clears bits: `freed` were set and become free;
    /// `missing` were already free.
    Free {
        word: usize,
        freed: u64,
        missing: u64,
    },
    /// A read of the bits `mask`, of which exactly `seen` were set.
    Read { word: usize, mask: u64, seen: u64 },
    /// A search starts: from now on it may hold seats for a while.
    Begin,
    /// A search ends, giving back every seat it held for a while. `need`
    /// is set for a failing search that overlapped no other call: then it
    /// must have found fewer than `need.n` free seats (in a row if
    /// `adjacent`).
    End { need: Option<(u64, bool)> },
}

/// A call compiled into its steps.
pub(crate) struct Compiled {
    pub(crate) start: u64,
    pub(crate) end: u64,
    pub(crate) steps: Vec<Step>,
    /// Whether the steps must happen in order (else in any order).
    pub(crate) ordered: bool,
    /// Whether the call may hold seats between `Begin` and `End`.
    pub(crate) search: bool,
}

/// Whether call `i` overlaps no other call in time.
pub(crate) fn isolated(ops: &[Op], i: usize) -> bool {
    ops.iter()
        .enumerate()
        .all(|(j, other)| j == i || other.end < ops[i].start || ops[i].end < other.start)
}

pub(crate) fn word_bit(seat: u64) -> (usize, u64) {
    ((seat / BITS) as usize, 1 << (seat % BITS))
}

/// Per word touched, in order of first appearance: the positions of the
/// list's seats in it.
fn by_word(seats: &[u64]) -> Vec<(usize, Vec<usize>)> {
    let mut groups: Vec<(usize, Vec<usize>)> = Vec::new();
    for (i, &seat) in seats.iter().enumerate() {
        let (word, _) = word_bit(seat);
        match groups.iter_mut().find(|(w, _)| *w == word) {
            Some((_, positions)) => positions.push(i),
            None => groups.push((word, vec![i])),
        }
    }
    groups
}

/// The mask of `seats` that fall in `word`.
fn mask_in(seats: &[u64], word: usize) -> u64 {
    seats
        .iter()
        .map(|&s| word_bit(s))
        .filter(|&(w, _)| w == word)
        .fold(0, |mask, (_, bit)| mask | bit)
}

/// Compiles `op` into its steps; `alone` says whether it overlapped no
/// other call. `Err` if the outcome cannot be an answer to the call.
pub(crate) fn compile(capacity: u64, op: &Op, alone: bool) -> Result<Compiled, String> {
    let (steps, ordered, search) =
        steps_of(capacity, op, alone).map_err(|why| format!("malformed {op:?}: {why}"))?;
    Ok(Compiled {
        start: op.start,
        end: op.end,
        steps,
        ordered,
        search,
    })
}

/// The steps of `op`, whether they are ordered, and whether it is a search
/// that may hold seats for a while.
fn steps_of(capacity: u64, op: &Op, alone: bool) -> Result<(Vec<Step>, bool, bool), String> {
    let on_map = |seats: &[u64]| seats.iter().all(|&s| s < capacity);
    // One seat: `yes` is its bit if the answer was yes, `no` otherwise.
    let one = |s: u64, answer: bool| {
        let (word, bit) = word_bit(s);
        if answer {
            (word, bit, 0)
        } else {
            (word, 0, bit)
        }
    };
    Ok(match (&op.call, &op.outcome) {
        (Call::Reserve(s), Outcome::Yes(won)) if *s < capacity => {
            let (word, won, lost) = one(*s, *won);
            (vec![Step::Claim { word, won, lost }], false, false)
        }
        (Call::Release(s), Outcome::Yes(freed)) if *s < capacity => {
            let (word, freed, missing) = one(*s, *freed);
            (
                vec![Step::Free {
                    word,
                    freed,
                    missing,
                }],
                false,
                false,
            )
        }
        (Call::IsReserved(s), Outcome::Yes(set)) if *s < capacity => {
            let (word, seen, unseen) = one(*s, *set);
            let mask = seen | unseen;
            (vec![Step::Read { word, mask, seen }], false, false)
        }
        (Call::ReserveEach(seats), Outcome::Each(outs)) if on_map(seats) => {
            (list_steps(seats, outs, true)?, false, false)
        }
        (Call::ReleaseEach(seats), Outcome::Each(outs)) if on_map(seats) => {
            (list_steps(seats, outs, false)?, false, false)
        }
        (Call::ReserveAll(seats), Outcome::All(result)) if on_map(seats) => {
            (all_or_nothing_steps(seats, result)?, true, false)
        }
        (Call::ReserveAny(n), Outcome::Found(Some(seats))) if on_map(seats) => {
            (any_steps(*n, seats)?, false, false)
        }
        (Call::ReserveAdjacent(n), Outcome::Found(Some(seats))) if on_map(seats) => {
            (adjacent_steps(*n, seats)?, true, true)
        }
        (Call::ReserveAny(n), Outcome::Found(None)) => {
            (failed_search(*n, false, alone), true, true)
        }
        (Call::ReserveAdjacent(n), Outcome::Found(None)) => {
            (failed_search(*n, true, alone), true, true)
        }
        _ => return Err("outcome does not fit the call, or seats off the map".into()),
    })
}

/// A per-seat list: one step per word, reserving (`Claim`) or releasing
/// (`Free`). A repeated seat is done by its first copy only.
fn list_steps(seats: &[u64], outs: &[bool], reserving: bool) -> Result<Vec<Step>, String> {
    if seats.len() != outs.len() {
        return Err("not one outcome per seat".into());
    }
    let mut steps = Vec::new();
    for (word, positions) in by_word(seats) {
        let (mut yes, mut no) = (0u64, 0u64);
        for &i in &positions {
            let (_, bit) = word_bit(seats[i]);
            if (yes | no) & bit != 0 {
                if outs[i] {
                    return Err("a repeated seat done twice".into());
                }
            } else if outs[i] {
                yes |= bit;
            } else {
                no |= bit;
            }
        }
        steps.push(if reserving {
            Step::Claim {
                word,
                won: yes,
                lost: no,
            }
        } else {
            Step::Free {
                word,
                freed: yes,
                missing: no,
            }
        });
    }
    Ok(steps)
}

/// `reserve_all`: claims in ascending word order; on a conflict, the
/// claims below the conflicting word, the failed claim, the rollbacks and
/// the read of the later words.
fn all_or_nothing_steps(seats: &[u64], result: &Result<(), Vec<u64>>) -> Result<Vec<Step>, String> {
    let mut words: Vec<usize> = seats.iter().map(|&s| word_bit(s).0).collect();
    words.sort_unstable();
    words.dedup();
    let claim = |word| Step::Claim {
        word,
        won: mask_in(seats, word),
        lost: 0,
    };
    let Err(taken) = result else {
        return Ok(words.iter().map(|&w| claim(w)).collect());
    };
    let conflict = match taken.iter().min() {
        Some(&first) if taken.iter().all(|s| seats.contains(s)) => word_bit(first).0,
        _ => return Err("no taken seats, or some not in the request".into()),
    };
    let read = |word| Step::Read {
        word,
        mask: mask_in(seats, word),
        seen: mask_in(taken, word),
    };
    let below: Vec<usize> = words.iter().copied().filter(|&w| w < conflict).collect();
    let mut steps: Vec<Step> = below.iter().map(|&w| claim(w)).collect();
    steps.push(read(conflict));
    steps.extend(below.iter().map(|&word| Step::Free {
        word,
        freed: mask_in(seats, word),
        missing: 0,
    }));
    steps.extend(words.iter().filter(|&&w| w > conflict).map(|&w| read(w)));
    Ok(steps)
}

/// A successful `reserve_any`: one claim per seat, in any order.
fn any_steps(n: u64, seats: &[u64]) -> Result<Vec<Step>, String> {
    let mut distinct = seats.to_vec();
    distinct.sort_unstable();
    distinct.dedup();
    if distinct.len() as u64 != n {
        return Err("not n distinct seats".into());
    }
    Ok(seats
        .iter()
        .map(|&s| {
            let (word, bit) = word_bit(s);
            Step::Claim {
                word,
                won: bit,
                lost: 0,
            }
        })
        .collect())
}

/// A successful `reserve_adjacent`: `Begin`, one claim per word of the run
/// (ascending), `End`.
fn adjacent_steps(n: u64, seats: &[u64]) -> Result<Vec<Step>, String> {
    let is_run = seats
        .first()
        .is_none_or(|&f| seats.iter().copied().eq(f..f + n));
    if seats.len() as u64 != n || !is_run {
        return Err("not a run of n seats".into());
    }
    let mut words: Vec<usize> = seats.iter().map(|&s| word_bit(s).0).collect();
    words.dedup();
    let mut steps = vec![Step::Begin];
    steps.extend(words.iter().map(|&word| Step::Claim {
        word,
        won: mask_in(seats, word),
        lost: 0,
    }));
    steps.push(Step::End { need: None });
    Ok(steps)
}

/// A failing search: `Begin`, `End`; one that ran alone must have had a
/// reason to fail.
fn failed_search(n: u64, adjacent: bool, alone: bool) -> Vec<Step> {
    vec![
        Step::Begin,
        Step::End {
            need: alone.then_some((n, adjacent)),
        },
    ]
}

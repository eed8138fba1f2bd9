//! A linearizability checker for seat-map histories: a Wing–Gong search
//! with memoisation (as in Lowe's "just-in-time" checkers) over the
//! **atomic steps** that the ordering contract promises, not over whole
//! calls.
//!
//! What the contract says is atomic, and so what one step is:
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
//! - `reserve_adjacent` that succeeds: one claim per word of the run,
//!   ascending;
//! - a search (`reserve_any`, `reserve_adjacent`) may also hold seats it
//!   later gives back, and the API does not say which: while it runs, the
//!   checker lets it hold any free seat for a while, and lets it do so only
//!   when that explains what another call saw (a seat reported taken that
//!   nobody holds). A failing search that overlapped no other call must
//!   have had a reason to fail.
//!
//! Every step of a call happens between its invocation and its response,
//! and a call's steps keep the order above. The checker accepts a history
//! iff some order of all steps respecting that is a legal sequential
//! history of the map, and the map's final state is the sequential one.

use std::collections::HashSet;

/// Seats per word.
const BITS: u64 = 64;

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
enum Step {
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
struct Compiled {
    start: u64,
    end: u64,
    steps: Vec<Step>,
    /// Whether the steps must happen in order (else in any order).
    ordered: bool,
    /// Whether the call may hold seats between `Begin` and `End`.
    search: bool,
}

/// The sequential map plus the seats searches in progress hold for a while.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct State {
    /// Seats held by completed claims (and by a failing `reserve_all`
    /// between its claims and its rollback), one bit per seat.
    held: Vec<u64>,
    /// `(call, seats)`: seats a search in progress holds for a while.
    transient: Vec<(usize, Vec<u64>)>,
}

impl State {
    fn set_bits(&self, word: usize) -> u64 {
        self.transient
            .iter()
            .fold(self.held[word], |bits, (_, t)| bits | t[word])
    }
}

/// Checks a history; `Err` says why it is not linearizable (or malformed).
/// `budget` bounds the search (nodes visited), so a check always ends.
pub(crate) fn check(
    capacity: u64,
    ops: &[Op],
    final_reserved: &[u64],
    budget: u64,
) -> Result<(), String> {
    let words = capacity.div_ceil(BITS) as usize;
    let compiled: Vec<Compiled> = ops
        .iter()
        .enumerate()
        .map(|(i, op)| compile(capacity, op, isolated(ops, i)))
        .collect::<Result<_, _>>()?;
    let mut final_words = vec![0u64; words];
    if let Some(seat) = final_reserved.iter().find(|&&s| s >= capacity) {
        return Err(format!("seat {seat} reserved on a map of {capacity}"));
    }
    for &seat in final_reserved {
        final_words[(seat / BITS) as usize] |= 1 << (seat % BITS);
    }
    let mut search = Search {
        capacity,
        ops: &compiled,
        final_words,
        dead: HashSet::new(),
        budget,
    };
    let state = State {
        held: vec![0; words],
        transient: Vec::new(),
    };
    let mut done = vec![0u32; compiled.len()];
    if search.explore(&mut done, state)? {
        Ok(())
    } else {
        Err(format!("no linearization of {} calls: {ops:#?}", ops.len()))
    }
}

/// Whether call `i` overlaps no other call in time.
fn isolated(ops: &[Op], i: usize) -> bool {
    ops.iter()
        .enumerate()
        .all(|(j, other)| j == i || other.end < ops[i].start || ops[i].end < other.start)
}

fn word_bit(seat: u64) -> (usize, u64) {
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

fn compile(capacity: u64, op: &Op, alone: bool) -> Result<Compiled, String> {
    let bad = |why: &str| Err(format!("malformed {op:?}: {why}"));
    let in_range = |seats: &[u64]| seats.iter().all(|&s| s < capacity);
    let mut ordered = false;
    let mut search = false;
    let steps =
        match (&op.call, &op.outcome) {
            (Call::Reserve(s), Outcome::Yes(won)) if *s < capacity => {
                let (word, bit) = word_bit(*s);
                let (won, lost) = if *won { (bit, 0) } else { (0, bit) };
                vec![Step::Claim { word, won, lost }]
            }
            (Call::Release(s), Outcome::Yes(freed)) if *s < capacity => {
                let (word, bit) = word_bit(*s);
                let (freed, missing) = if *freed { (bit, 0) } else { (0, bit) };
                vec![Step::Free {
                    word,
                    freed,
                    missing,
                }]
            }
            (Call::IsReserved(s), Outcome::Yes(set)) if *s < capacity => {
                let (word, bit) = word_bit(*s);
                vec![Step::Read {
                    word,
                    mask: bit,
                    seen: if *set { bit } else { 0 },
                }]
            }
            (Call::ReserveEach(seats), Outcome::Each(outs))
            | (Call::ReleaseEach(seats), Outcome::Each(outs))
                if in_range(seats) && seats.len() == outs.len() =>
            {
                let reserving = matches!(op.call, Call::ReserveEach(_));
                let mut steps = Vec::new();
                for (word, positions) in by_word(seats) {
                    // A repeated seat is done by its first copy only.
                    let (mut yes, mut no) = (0u64, 0u64);
                    for &i in &positions {
                        let (_, bit) = word_bit(seats[i]);
                        if yes & bit != 0 || no & bit != 0 {
                            if outs[i] {
                                return bad("a repeated seat done twice");
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
                steps
            }
            (Call::ReserveAll(seats), Outcome::All(result)) if in_range(seats) => {
                ordered = true;
                let mut words: Vec<usize> = seats.iter().map(|&s| word_bit(s).0).collect();
                words.sort_unstable();
                words.dedup();
                let claim = |word| Step::Claim {
                    word,
                    won: mask_in(seats, word),
                    lost: 0,
                };
                match result {
                    Ok(()) => words.iter().map(|&w| claim(w)).collect(),
                    Err(taken) => {
                        if taken.is_empty() || !taken.iter().all(|s| seats.contains(s)) {
                            return bad("taken seats not in the request");
                        }
                        let conflict = word_bit(*taken.iter().min().unwrap()).0;
                        let below: Vec<usize> =
                            words.iter().copied().filter(|&w| w < conflict).collect();
                        let mut steps: Vec<Step> = below.iter().map(|&w| claim(w)).collect();
                        steps.push(Step::Read {
                            word: conflict,
                            mask: mask_in(seats, conflict),
                            seen: mask_in(taken, conflict),
                        });
                        steps.extend(below.iter().map(|&word| Step::Free {
                            word,
                            freed: mask_in(seats, word),
                            missing: 0,
                        }));
                        steps.extend(words.iter().filter(|&&w| w > conflict).map(|&word| {
                            Step::Read {
                                word,
                                mask: mask_in(seats, word),
                                seen: mask_in(taken, word),
                            }
                        }));
                        steps
                    }
                }
            }
            (Call::ReserveAny(n), Outcome::Found(Some(seats))) => {
                let mut sorted = seats.clone();
                sorted.dedup();
                if sorted.len() as u64 != *n || !in_range(seats) {
                    return bad("not n distinct seats on the map");
                }
                seats
                    .iter()
                    .map(|&s| {
                        let (word, bit) = word_bit(s);
                        Step::Claim {
                            word,
                            won: bit,
                            lost: 0,
                        }
                    })
                    .collect()
            }
            (Call::ReserveAdjacent(n), Outcome::Found(Some(seats))) => {
                ordered = true;
                search = true;
                let run = seats
                    .first()
                    .is_none_or(|&f| seats.iter().copied().eq(f..f + n));
                if seats.len() as u64 != *n || !run || !in_range(seats) {
                    return bad("not a run of n seats on the map");
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
                steps
            }
            (Call::ReserveAny(n), Outcome::Found(None))
            | (Call::ReserveAdjacent(n), Outcome::Found(None)) => {
                ordered = true;
                search = true;
                let adjacent = matches!(op.call, Call::ReserveAdjacent(_));
                vec![
                    Step::Begin,
                    Step::End {
                        need: alone.then_some((*n, adjacent)),
                    },
                ]
            }
            _ => return bad("outcome does not fit the call"),
        };
    Ok(Compiled {
        start: op.start,
        end: op.end,
        steps,
        ordered,
        search,
    })
}

struct Search<'a> {
    capacity: u64,
    ops: &'a [Compiled],
    final_words: Vec<u64>,
    /// `(done, state)` pairs already explored without success.
    dead: HashSet<(Vec<u32>, State)>,
    budget: u64,
}

impl Search<'_> {
    /// Depth-first: `done[i]` has bit `k` set once step `k` of call `i` is
    /// placed. True iff the rest can be placed.
    fn explore(&mut self, done: &mut Vec<u32>, state: State) -> Result<bool, String> {
        if self.budget == 0 {
            return Err("search budget exhausted".into());
        }
        self.budget -= 1;
        let complete =
            |i: usize, done: &[u32]| done[i].count_ones() as usize == self.ops[i].steps.len();
        if (0..self.ops.len()).all(|i| complete(i, done)) {
            return Ok(state.held == self.final_words && state.transient.is_empty());
        }
        let key = (done.clone(), state.clone());
        if self.dead.contains(&key) {
            return Ok(false);
        }
        // A call may take a step only if no unfinished call returned
        // before it was invoked.
        let horizon = (0..self.ops.len())
            .filter(|&i| !complete(i, done))
            .map(|i| self.ops[i].end)
            .min()
            .expect("some call is unfinished");
        for i in 0..self.ops.len() {
            let op = &self.ops[i];
            if complete(i, done) || op.start > horizon {
                continue;
            }
            let candidates: Vec<usize> = if op.ordered {
                vec![done[i].count_ones() as usize]
            } else {
                (0..op.steps.len())
                    .filter(|k| done[i] & (1 << k) == 0)
                    .collect()
            };
            for k in candidates {
                for next in self.apply(&state, done, i, op.steps[k]) {
                    done[i] |= 1 << k;
                    let found = self.explore(done, next)?;
                    done[i] &= !(1 << k);
                    if found {
                        return Ok(true);
                    }
                }
            }
        }
        self.dead.insert(key);
        Ok(false)
    }

    /// The states step `step` of call `call` can lead to (none if it cannot
    /// happen now; several when the seats it saw taken can be explained by
    /// different searches in progress).
    fn apply(&self, state: &State, done: &[u32], call: usize, step: Step) -> Vec<State> {
        match step {
            Step::Claim { word, won, lost } => self
                .explain(state, done, call, word, lost, won)
                .into_iter()
                .map(|mut s| {
                    s.held[word] |= won;
                    s
                })
                .collect(),
            Step::Free {
                word,
                freed,
                missing,
            } => {
                // A release frees only seats held by completed claims: the
                // histories here never release a seat their thread does not
                // hold (the documented caveat is not exercised).
                if state.held[word] & freed != freed {
                    return Vec::new();
                }
                let mut s = state.clone();
                s.held[word] &= !freed;
                self.explain(&s, done, call, word, 0, missing)
            }
            Step::Read { word, mask, seen } => {
                self.explain(state, done, call, word, seen, mask & !seen)
            }
            Step::Begin => vec![state.clone()],
            Step::End { need } => {
                let mut s = state.clone();
                s.transient.retain(|(owner, _)| *owner != call);
                if let Some((n, adjacent)) = need
                    && self.could_serve(&s, n, adjacent)
                {
                    return Vec::new();
                }
                vec![s]
            }
        }
    }

    /// States in which, on `word`, the bits `set` are set and `clear` are
    /// clear, reached from `state` only by searches in progress (other than
    /// `call`) taking free seats or giving back seats they held.
    fn explain(
        &self,
        state: &State,
        done: &[u32],
        call: usize,
        word: usize,
        set: u64,
        clear: u64,
    ) -> Vec<State> {
        if state.held[word] & clear != 0 {
            return Vec::new();
        }
        let mut s = state.clone();
        // Seats that must be free but a search holds: it gave them back.
        for (_, seats) in &mut s.transient {
            seats[word] &= !clear;
        }
        s.transient
            .retain(|(_, seats)| seats.iter().any(|&w| w != 0));
        let missing = set & !s.set_bits(word);
        if missing == 0 {
            return vec![s];
        }
        // Seats that must be taken but nobody holds: a search in progress
        // took them (each seat from any such search).
        let holders: Vec<usize> = (0..self.ops.len())
            .filter(|&i| i != call && self.in_progress(i, done))
            .collect();
        let mut states = vec![s];
        let mut bits = missing;
        while bits != 0 {
            let bit = bits & bits.wrapping_neg();
            bits &= bits - 1;
            states = states
                .into_iter()
                .flat_map(|s| {
                    holders.iter().map(move |&holder| {
                        let mut t = s.clone();
                        let words = t.held.len();
                        match t.transient.iter_mut().find(|(owner, _)| *owner == holder) {
                            Some((_, seats)) => seats[word] |= bit,
                            None => {
                                let mut seats = vec![0; words];
                                seats[word] = bit;
                                t.transient.push((holder, seats));
                                t.transient.sort_unstable();
                            }
                        }
                        t
                    })
                })
                .collect();
        }
        states
    }

    /// Whether call `i` is a search that has begun and not ended.
    fn in_progress(&self, i: usize, done: &[u32]) -> bool {
        let op = &self.ops[i];
        op.search && done[i] & 1 != 0 && (done[i].count_ones() as usize) < op.steps.len()
    }

    /// Whether the map in `state` has `n` free seats (in a row if
    /// `adjacent`).
    fn could_serve(&self, state: &State, n: u64, adjacent: bool) -> bool {
        let free = |seat: u64| {
            let (word, bit) = word_bit(seat);
            state.set_bits(word) & bit == 0
        };
        if adjacent {
            let mut run = 0;
            (0..self.capacity).any(|s| {
                run = if free(s) { run + 1 } else { 0 };
                run >= n
            })
        } else {
            (0..self.capacity).filter(|&s| free(s)).count() as u64 >= n
        }
    }
}

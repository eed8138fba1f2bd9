//! A linearizability checker for seat-map histories: a Wing–Gong search
//! with memoisation (as in Lowe's "just-in-time" checkers) over the atomic
//! steps of each call (`history.rs`), not over whole calls.
//!
//! Every step of a call happens between its invocation and its response,
//! and a call's steps keep their order where they have one. The checker
//! accepts a history iff some order of all steps respecting that is a
//! legal sequential history of the map that ends in the map's final state.
//!
//! The documented exceptions are part of the model: a failing
//! `reserve_all`'s claims and rollbacks are steps of their own, and a
//! search in progress may hold a free seat for a while, which the checker
//! uses only to explain a seat that another call saw taken while nobody
//! held it. A failing search that overlapped no other call must have had a
//! reason to fail.

use std::collections::HashSet;

use super::history::{BITS, Compiled, Op, Step, compile, isolated, word_bit};

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

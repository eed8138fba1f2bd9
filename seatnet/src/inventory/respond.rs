//! One request in, one reply out: parse, execute, write.

use std::ops::Range;

use super::{ExecScratch, Inventory};
use crate::durable::Commit;
use crate::protocol::{Command, Number, Reply, SeatOutcome, parse_request_on};
use crate::stats::Counters;

/// Buffers reused from one request to the next, so the common request
/// allocates nothing once they have grown. One per connection (or worker).
#[derive(Debug, Default)]
pub struct Scratch {
    numbers: Vec<Number>,
    outcomes: Vec<SeatOutcome>,
    grants: Vec<seatcore::ReserveOutcome>,
    seats: Vec<u64>,
    runs: Vec<Range<u64>>,
    text: String,
}

/// What a connection may run, fixed when it is accepted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Access {
    /// The seat commands; an operator command gets `ERR forbidden`.
    #[default]
    Public,
    /// Also the operator commands ([`Operator`](crate::protocol::Operator)):
    /// connections accepted on `--admin-listen`.
    Operator,
}

/// What the connection must do after a reply.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Answered {
    /// The reply was an `ERR` line.
    pub error: bool,
    /// The client said `QUIT`: close after sending the reply.
    pub close: bool,
    /// With a journal: whether the reply must wait for its change to be
    /// durable before it is sent (see [`Unsettled`](crate::Unsettled)).
    pub commit: Commit,
}

impl Inventory {
    /// Answers one request (without its line terminator): appends the reply,
    /// without terminator, to `out`.
    ///
    /// # Examples
    ///
    /// ```
    /// use seatnet::{Counters, Inventory, Scratch};
    ///
    /// let inventory = Inventory::new(100)?;
    /// let (mut scratch, mut out) = (Scratch::default(), Vec::new());
    /// inventory.respond(b"5,10,5", &mut scratch, &Counters::default(), &mut out);
    /// assert_eq!(out, "Reservados: [5, 10] | Indisponíveis/Inválidos: [5]".as_bytes());
    /// # Ok::<(), seatcore::CapacityError>(())
    /// ```
    pub fn respond(
        &self,
        line: &[u8],
        scratch: &mut Scratch,
        counters: &Counters,
        out: &mut Vec<u8>,
    ) -> Answered {
        self.respond_as(Access::Public, line, scratch, counters, out)
    }

    /// [`respond`](Self::respond) for a connection with `access`: an
    /// operator command runs only with [`Access::Operator`].
    ///
    /// # Examples
    ///
    /// ```
    /// use seatnet::{Access, Counters, Inventory, Scratch};
    ///
    /// let inventory = Inventory::new(100)?;
    /// let (mut scratch, counters) = (Scratch::default(), Counters::default());
    /// let mut out = Vec::new();
    /// inventory.respond_as(Access::Public, b"SNAPSHOT", &mut scratch, &counters, &mut out);
    /// assert!(out.starts_with(b"ERR forbidden: SNAPSHOT is an operator command"));
    /// out.clear();
    /// inventory.respond_as(Access::Operator, b"SNAPSHOT", &mut scratch, &counters, &mut out);
    /// assert!(out.starts_with(b"ERR not-durable: "));
    /// # Ok::<(), seatcore::CapacityError>(())
    /// ```
    pub fn respond_as(
        &self,
        access: Access,
        line: &[u8],
        scratch: &mut Scratch,
        counters: &Counters,
        out: &mut Vec<u8>,
    ) -> Answered {
        let Scratch {
            numbers,
            outcomes,
            grants,
            seats,
            runs,
            text,
        } = scratch;
        let reply = match parse_request_on(line, numbers, &self.state.spec) {
            Ok((command, _))
                if self.is_removed() && !matches!(command, Command::Quit | Command::Help) =>
            {
                Reply::MapGone(&self.state.name)
            }
            Ok((command, id)) if self.logs(&command, id) => {
                return self.respond_change(
                    command,
                    id,
                    ExecScratch {
                        outcomes,
                        grants,
                        seats,
                        runs,
                        text,
                    },
                    counters,
                    out,
                );
            }
            Ok((Command::Operator(op), _)) if access != Access::Operator => {
                Reply::Forbidden(op.verb())
            }
            Ok((command, _)) => self.execute(
                command,
                ExecScratch {
                    outcomes,
                    grants,
                    seats,
                    runs,
                    text,
                },
                counters,
            ),
            Err(e) => {
                // The error is written at once: it borrows from this arm.
                Reply::BadRequest(&e).write_on(out, &self.state.spec);
                return Answered {
                    error: true,
                    close: false,
                    commit: Commit::None,
                };
            }
        };
        reply.write_on(out, &self.state.spec);
        Answered {
            error: reply.is_error(),
            close: matches!(reply, Reply::Bye),
            commit: Commit::None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Fixture {
        inventory: Inventory,
        scratch: Scratch,
        counters: Counters,
    }

    impl Fixture {
        fn new(seats: u64) -> Self {
            Fixture {
                inventory: Inventory::new(seats).unwrap(),
                scratch: Scratch::default(),
                counters: Counters::default(),
            }
        }

        fn ask(&mut self, line: &str) -> String {
            let mut out = Vec::new();
            self.inventory
                .respond(line.as_bytes(), &mut self.scratch, &self.counters, &mut out);
            String::from_utf8(out).unwrap()
        }

        /// The reference of an `OK <ref> ...` reply.
        fn reference(reply: &str) -> String {
            reply.split(' ').nth(1).unwrap().to_owned()
        }
    }

    #[test]
    fn original_table() {
        let mut f = Fixture::new(100);
        let table = [
            (
                "1,2,3",
                "Reservados: [1, 2, 3] | Indisponíveis/Inválidos: []",
            ),
            (
                "2,3,4,5",
                "Reservados: [4, 5] | Indisponíveis/Inválidos: [2, 3]",
            ),
            ("7,7", "Reservados: [7] | Indisponíveis/Inválidos: [7]"),
            (
                "0,101,-3",
                "Reservados: [] | Indisponíveis/Inválidos: [0, 101, -3]",
            ),
        ];
        for (request, reply) in table {
            assert_eq!(f.ask(request), reply, "{request}");
        }
        assert_eq!(f.inventory.map().reserved_count(), 6);
    }

    #[test]
    fn book_and_cancel() {
        let mut f = Fixture::new(100);
        f.ask("22");
        let booked = f.ask("BOOK 5,10,22,0");
        assert!(
            booked.ends_with(" reserved=5,10 taken=22 invalid=0"),
            "{booked}"
        );
        assert_eq!(f.ask("book 5,0"), "ERR none-reserved: taken=5 invalid=0");
        let r = Fixture::reference(&booked);
        assert_eq!(
            f.ask(&format!("CANCEL {r}")),
            format!("OK cancelled {r} seats=5,10")
        );
        assert_eq!(
            f.ask(&format!("CANCEL {r}")),
            format!("ERR unknown-booking: {r}")
        );
        assert_eq!(f.ask("CANCEL nope"), "ERR unknown-booking: nope");
        assert!(!f.inventory.map().is_reserved(4).unwrap());
        assert!(
            f.inventory.map().is_reserved(21).unwrap(),
            "plain seats stay"
        );
        assert_eq!(f.inventory.booking_count(), 0);
    }

    #[test]
    fn all_or_nothing() {
        let mut f = Fixture::new(100);
        f.ask("22");
        assert_eq!(f.ask("ALL 5,22,6"), "ERR conflict: taken=22");
        assert_eq!(
            f.ask("ALL 5,0,101"),
            "ERR invalid-seat: 0,101 (seats are 1..100)"
        );
        assert_eq!(f.ask("ALL 5,6,5"), "ERR duplicate-seat: 5");
        assert_eq!(f.inventory.map().reserved_count(), 1);
        let ok = f.ask("all 5,10");
        assert!(ok.starts_with("OK ") && ok.ends_with(" seats=5,10"), "{ok}");
        let r = Fixture::reference(&ok);
        assert_eq!(r.len(), 32);
        assert_eq!(
            f.ask(&format!("cancel {r}")),
            format!("OK cancelled {r} seats=5,10")
        );
    }

    #[test]
    fn any_and_together() {
        let mut f = Fixture::new(10);
        f.ask("3,7");
        let any = f.ask("ANY 3");
        assert!(any.starts_with("OK ") && any.contains(" seats="), "{any}");
        assert_eq!(f.inventory.map().reserved_count(), 5);
        assert_eq!(f.ask("ANY 6"), "ERR not-enough: asked for 6, 5 free");
        assert_eq!(
            f.ask("ANY 18446744073709551615"),
            "ERR too-many-seats: ANY may ask for at most 1024 seats at once, not 18446744073709551615"
        );
        let mut g = Fixture::new(10);
        g.ask("3,7,8"); // the only run of 3 left is 4-6
        let together = g.ask("TOGETHER 3");
        assert!(together.ends_with(" seats=4-6"), "{together}");
        assert_eq!(
            g.ask("TOGETHER 3"),
            "ERR not-enough: no 3 adjacent free seats (4 free)"
        );
        let r = Fixture::reference(&together);
        assert_eq!(
            g.ask(&format!("CANCEL {r}")),
            format!("OK cancelled {r} seats=4-6")
        );
        assert_eq!(g.inventory.map().reserved_count(), 3);
    }

    #[test]
    fn requests_over_the_cap_are_refused_before_any_work() {
        let mut f = Fixture::new(100);
        f.inventory = Inventory::new(100).unwrap().with_max_seats_per_request(3);
        for (request, verb, asked) in [
            ("ANY 4", "ANY", 4),
            ("TOGETHER 5", "TOGETHER", 5),
            ("BOOK 1,2,3,4", "BOOK", 4),
            ("ALL 1,2,3,4", "ALL", 4),
        ] {
            assert_eq!(
                f.ask(request),
                format!(
                    "ERR too-many-seats: {verb} may ask for at most 3 seats at once, not {asked}"
                )
            );
        }
        assert_eq!(f.inventory.map().reserved_count(), 0);
        assert!(f.ask("ANY 3").starts_with("OK "));
        assert!(f.ask("ALL 10,11,12").starts_with("OK "));
        // Original requests are not capped (--max-line bounds them).
        assert_eq!(
            f.ask("20,21,22,23"),
            "Reservados: [20, 21, 22, 23] | Indisponíveis/Inválidos: []"
        );
    }

    #[test]
    fn bookings_are_runs_and_replies_print_them() {
        let mut f = Fixture::new(100);
        let all = f.ask("ALL 7,5,6,9,20");
        assert!(all.ends_with(" seats=5-7,9,20"), "{all}");
        let book = f.ask("BOOK 30,31,32,7,40");
        assert!(
            book.ends_with(" reserved=30,31,32,40 taken=7 invalid=-"),
            "{book}"
        );
        let r = Fixture::reference(&book);
        assert_eq!(
            f.ask(&format!("CANCEL {r}")),
            format!("OK cancelled {r} seats=30-32,40")
        );
        let r = Fixture::reference(&all);
        assert_eq!(
            f.ask(&format!("CANCEL {r}")),
            format!("OK cancelled {r} seats=5-7,9,20")
        );
        assert_eq!(f.inventory.map().reserved_count(), 0);
        let mut g = Fixture::new(10);
        g.ask("1,2,6");
        let any = g.ask("ANY 7");
        assert!(any.ends_with(" seats=3-5,7-10"), "{any}");
    }

    #[test]
    fn a_long_run_is_one_run_from_booking_to_cancel() {
        let mut f = Fixture::new(100_000);
        f.inventory = Inventory::new(100_000)
            .unwrap()
            .with_max_seats_per_request(100_000);
        f.ask("1,100000");
        let together = f.ask("TOGETHER 99998");
        assert!(together.ends_with(" seats=2-99999"), "{together}");
        let r = Fixture::reference(&together);
        assert_eq!(
            f.ask(&format!("CANCEL {r}")),
            format!("OK cancelled {r} seats=2-99999")
        );
        assert_eq!(f.inventory.map().reserved_count(), 2);
    }

    #[test]
    fn racing_original_requests_never_split_a_word() {
        use std::sync::atomic::{AtomicUsize, Ordering};
        // Two threads ask for the same 64 seats of one word (a fresh word
        // each round), one ascending and one descending, started together
        // by a spinning barrier. Granted one `fetch_or` per word, one gets
        // all 64 and the other none; seat by seat they would meet in the
        // middle and split the word.
        const ROUNDS: u64 = 2000;
        const SPIN_LIMIT: u64 = 1 << 32;
        let inventory = Inventory::new(64 * ROUNDS).unwrap();
        let arrived = AtomicUsize::new(0);
        let requests = |round: u64, descending: bool| {
            let mut seats: Vec<String> = (1..=64).map(|s| (64 * round + s).to_string()).collect();
            if descending {
                seats.reverse();
            }
            seats.join(",")
        };
        let run = |descending: bool| {
            let (mut scratch, counters) = (Scratch::default(), Counters::default());
            let mut granted = Vec::new();
            for round in 0..ROUNDS {
                let line = requests(round, descending);
                // Relaxed would do: the counter publishes no other data
                // (the map's own atomics order the seats), it only has to
                // reach the target; SeqCst costs nothing here.
                arrived.fetch_add(1, Ordering::SeqCst);
                let target = 2 * (round as usize + 1);
                let mut spins = 0u64;
                while arrived.load(Ordering::SeqCst) < target {
                    spins += 1;
                    assert!(spins < SPIN_LIMIT, "the other thread never arrived");
                    std::hint::spin_loop();
                }
                let mut out = Vec::new();
                inventory.respond(line.as_bytes(), &mut scratch, &counters, &mut out);
                let reply = String::from_utf8(out).unwrap();
                let reserved = reply.split(" | ").next().unwrap();
                granted.push(
                    reserved.matches(',').count() + usize::from(reserved != "Reservados: []"),
                );
            }
            granted
        };
        let (up, down) = std::thread::scope(|scope| {
            let up = scope.spawn(|| run(false));
            let down = scope.spawn(|| run(true));
            (up.join().unwrap(), down.join().unwrap())
        });
        for (round, (a, b)) in up.iter().zip(&down).enumerate() {
            let mut pair = [*a, *b];
            pair.sort_unstable();
            assert_eq!(pair, [0, 64], "round {round}: the word was split");
        }
        assert_eq!(inventory.map().reserved_count(), 64 * ROUNDS);
    }

    #[test]
    fn queries() {
        let mut f = Fixture::new(100);
        f.ask("5,10");
        f.ask("BOOK 20");
        assert_eq!(
            f.ask("AVAIL"),
            "OK free=97 total=100 seats=1-4,6-9,11-19,21-100"
        );
        let stats = f.ask("STATS");
        assert!(
            stats.starts_with("OK seats=100 free=97 reserved=3 bookings=1 "),
            "{stats}"
        );
        assert!(f.ask("HELP").starts_with("OK commands:"));
        let mut out = Vec::new();
        let answered = f
            .inventory
            .respond(b"QUIT", &mut f.scratch, &f.counters, &mut out);
        assert_eq!(out, b"OK bye");
        assert_eq!(
            answered,
            Answered {
                error: false,
                close: true,
                commit: Commit::None,
            }
        );
    }

    #[test]
    fn errors_are_flagged() {
        let mut f = Fixture::new(100);
        let mut out = Vec::new();
        let answered = f
            .inventory
            .respond(b"2.5", &mut f.scratch, &f.counters, &mut out);
        assert_eq!(
            answered,
            Answered {
                error: true,
                close: false,
                commit: Commit::None,
            }
        );
        assert!(out.starts_with(b"ERR bad-request: '2.5'"));
        assert!(f.ask("FOO 1").starts_with("ERR unknown-command: 'FOO'"));
        assert!(f.ask("").starts_with("ERR bad-request: empty request"));
    }
}

//! Holds over real TCP, with a [`ManualClock`] so expiry is driven by the
//! test, never by sleeping: every hold command's success and failure in
//! both seat notations, request ids, confirm racing expiry, 64 clients on
//! 100 maps, and holds across a restart.

use std::collections::{HashMap, HashSet};
use std::io;
use std::net::SocketAddr;
use std::sync::{Arc, mpsc};
use std::thread;
use std::time::Duration;

use seatnet::{Catalog, Config, ManualClock, Server, ShutdownHandle};

use crate::maps::{durable_maps, maps_config};
use crate::support::TempDir;
use crate::support::{LineClient, READ_TIMEOUT, field, reference};

/// Where the manual clocks start: 2026-11-27, a whole second.
const T0: u64 = 1_795_000_000_000;

/// A server whose holds expire by a manual clock.
struct ClockServer {
    addr: SocketAddr,
    stop: ShutdownHandle,
    catalog: Arc<Catalog>,
    clock: Arc<ManualClock>,
    done: Option<mpsc::Receiver<io::Result<()>>>,
}

impl ClockServer {
    fn start(config: Config, clock: Arc<ManualClock>) -> ClockServer {
        let server = Server::bind_with_clock(
            Config {
                host: "127.0.0.1".into(),
                port: 0,
                ..config
            },
            clock.clone(),
        )
        .expect("bind");
        let (addr, stop, catalog) = (
            server.local_addr(),
            server.shutdown_handle(),
            server.catalog(),
        );
        let (tx, done) = mpsc::channel();
        thread::spawn(move || {
            let _ = tx.send(server.run());
        });
        ClockServer {
            addr,
            stop,
            catalog,
            clock,
            done: Some(done),
        }
    }

    fn client(&self) -> LineClient {
        LineClient::connect(self.addr)
    }

    fn advance(&self, secs: u64) {
        self.clock.advance(Duration::from_secs(secs));
    }
}

impl Drop for ClockServer {
    fn drop(&mut self) {
        self.stop.shutdown();
        if let Some(done) = self.done.take() {
            let result = done.recv_timeout(READ_TIMEOUT).expect("run() returned");
            if !thread::panicking() {
                result.expect("server ran cleanly");
            }
        }
    }
}

fn secs(ms: u64) -> String {
    (ms / 1000).to_string()
}

#[test]
fn hold_extend_confirm_cancel_and_their_errors_on_a_numbered_map() {
    let s = ClockServer::start(maps_config(&[]), Arc::new(ManualClock::new(T0)));
    let mut c = s.client();
    let held = c.ask("HOLD 5,6");
    let r = reference(&held);
    let ttl = 900_000;
    assert_eq!(held, format!("OK {r} seats=5-6 expires={}", secs(T0 + ttl)));
    // Held seats are unavailable to everyone, original clients too.
    let mut original = crate::support::OriginalClient::connect(s.addr);
    assert_eq!(
        original.ask("5,7"),
        "Reservados: [7] | Indisponíveis/Inválidos: [5]"
    );
    assert_eq!(c.ask("HOLD 6,8"), "ERR conflict: taken=6");
    assert_eq!(c.ask("HOLD 8,0"), "ERR invalid-seat: 0 (seats are 1..100)");
    assert_eq!(c.ask("HOLD 8,8"), "ERR duplicate-seat: 8");
    assert!(
        c.ask("HOLD ANY 101")
            .starts_with("ERR not-enough: asked for 101")
    );
    assert!(
        c.ask("HOLD")
            .starts_with("ERR bad-request: missing argument")
    );
    assert!(
        c.ask("HOLD ANY x")
            .starts_with("ERR bad-request: 'x' is not a seat count")
    );
    assert_eq!(
        c.ask(&format!("SHOW {r}")),
        format!("OK held seats=5-6 expires={}", secs(T0 + ttl))
    );
    // EXTEND: the TTL again from now, up to --hold-max (1 hour) in all.
    s.advance(100);
    assert_eq!(
        c.ask(&format!("EXTEND {r}")),
        format!(
            "OK extended {r} seats=5-6 expires={}",
            secs(T0 + 100_000 + ttl)
        )
    );
    for at in [900, 1700, 2500] {
        s.advance(800);
        assert_eq!(
            c.ask(&format!("EXTEND {r}")),
            format!(
                "OK extended {r} seats=5-6 expires={}",
                secs(T0 + at * 1000 + ttl)
            )
        );
    }
    s.advance(800);
    assert_eq!(
        c.ask(&format!("EXTEND {r}")),
        format!("OK extended {r} seats=5-6 expires={}", secs(T0 + 3_600_000))
    );
    assert_eq!(
        c.ask(&format!("EXTEND {r}")),
        format!(
            "ERR hold-limit: {r} is held until {}, the longest --hold-max allows; CONFIRM it or let it go",
            secs(T0 + 3_600_000)
        )
    );
    // CONFIRM: a booking under the same reference.
    assert_eq!(
        c.ask(&format!("CONFIRM {r}")),
        format!("OK confirmed {r} seats=5-6")
    );
    assert_eq!(c.ask(&format!("SHOW {r}")), "OK booked seats=5-6");
    assert_eq!(
        c.ask(&format!("CONFIRM {r}")),
        format!(
            "ERR not-a-hold: {r} is a booking (CONFIRM and EXTEND take a hold; CANCEL ends either)"
        )
    );
    assert!(c.ask(&format!("EXTEND {r}")).starts_with("ERR not-a-hold"));
    assert_eq!(c.ask("CONFIRM nope"), "ERR unknown-booking: nope");
    assert_eq!(c.ask("EXTEND 0123"), "ERR unknown-booking: 0123");
    assert!(
        c.ask("CONFIRM")
            .starts_with("ERR bad-request: missing argument")
    );
    // The expiry never touches a confirmed hold.
    s.advance(10_000);
    s.catalog.expire_due();
    assert_eq!(
        c.ask(&format!("CANCEL {r}")),
        format!("OK cancelled {r} seats=5-6")
    );
    // CANCEL of a hold releases it.
    let any = c.ask("HOLD ANY 3");
    let a = reference(&any);
    let any_seats = field(&any, "seats").to_owned();
    assert_eq!(crate::support::seats(&any_seats).len(), 3);
    let together = c.ask("HOLD TOGETHER 4");
    let run = crate::support::seats(field(&together, "seats"));
    assert!(
        run.windows(2).all(|w| w[1] == w[0] + 1) && run.len() == 4,
        "{together}"
    );
    assert_eq!(
        c.ask(&format!("CANCEL {a}")),
        format!("OK cancelled {a} seats={any_seats}")
    );
    assert!(
        c.ask(&format!("SHOW {a}"))
            .starts_with("ERR unknown-booking")
    );
    assert!(c.ask("AVAIL").starts_with("OK free=95 total=100 "));
}

#[test]
fn an_expired_hold_frees_its_seats_and_its_reference_says_expired() {
    let s = ClockServer::start(maps_config(&["AB=3x3-3"]), Arc::new(ManualClock::new(T0)));
    let mut c = s.client();
    let h = c.ask("HOLD 10");
    let r = reference(&h);
    let due = c.ask("HOLD 20");
    let d = reference(&due);
    s.advance(899);
    assert_eq!(s.catalog.expire_due(), 0, "not yet");
    s.advance(1);
    // Both are due: expired by this call or by the server's own expiry
    // loop, whichever comes first (each hold exactly once).
    s.catalog.expire_due();
    assert_eq!(s.catalog.default_map().hold_count(), 0);
    let mut original = crate::support::OriginalClient::connect(s.addr);
    assert_eq!(
        original.ask("10"),
        "Reservados: [10] | Indisponíveis/Inválidos: []"
    );
    for verb in ["CONFIRM", "EXTEND", "CANCEL", "SHOW"] {
        assert_eq!(c.ask(&format!("{verb} {r}")), format!("ERR expired: {r}"));
        assert_eq!(c.ask(&format!("{verb} {d}")), format!("ERR expired: {d}"));
    }
    assert!(c.ask("BOOK 20").ends_with("reserved=20 taken=- invalid=-"));
    // Even with the seats since taken by others, the reference stays expired.
    assert_eq!(c.ask(&format!("CONFIRM {r}")), format!("ERR expired: {r}"));

    // On a cabin map, in labels.
    assert!(c.ask("USE AB").starts_with("OK using AB"));
    let h = c.ask("HOLD 1a,1B");
    let r = reference(&h);
    assert_eq!(
        h,
        format!(
            "OK {r} seats=1A-1B expires={}",
            secs(T0 + 900_000 + 900_000)
        )
    );
    assert_eq!(c.ask("HOLD 1B,1C"), "ERR conflict: taken=1B");
    assert_eq!(
        c.ask("HOLD 1C,4A"),
        "ERR invalid-seat: 4A (seats are 1A..3F, a row then a letter)"
    );
    let mut o = s.client();
    o.ask("USE AB");
    assert_eq!(
        o.ask("1A,1C"),
        "Reservados: ['1C'] | Indisponíveis/Inválidos: ['1A']"
    );
    let t = c.ask("HOLD TOGETHER 4");
    assert!(t.contains(" split=2 expires="), "{t}");
    let any = c.ask("HOLD ANY 2");
    let a = reference(&any);
    let seats = field(&any, "seats").to_owned();
    assert!(
        seats.contains(|ch: char| ch.is_ascii_uppercase()),
        "labels: {any}"
    );
    assert!(
        c.ask(&format!("EXTEND {a}"))
            .starts_with(&format!("OK extended {a} seats={seats} expires="))
    );
    assert_eq!(
        c.ask(&format!("CANCEL {a}")),
        format!("OK cancelled {a} seats={seats}")
    );
    assert_eq!(
        c.ask(&format!("SHOW {r}")),
        format!("OK held seats=1A-1B expires={}", secs(T0 + 1_800_000))
    );
    assert_eq!(
        c.ask(&format!("CONFIRM {r}")),
        format!("OK confirmed {r} seats=1A-1B")
    );
    assert_eq!(c.ask(&format!("SHOW {r}")), "OK booked seats=1A-1B");
}

#[test]
fn request_ids_work_on_every_hold_command() {
    let s = ClockServer::start(maps_config(&[]), Arc::new(ManualClock::new(T0)));
    let mut c = s.client();
    let h = c.ask("HOLD ANY 2 id=h1");
    assert_eq!(c.ask("HOLD ANY 2 id=h1"), h);
    let r = reference(&h);
    let e = c.ask(&format!("EXTEND {r} id=e1"));
    assert!(e.starts_with("OK extended"), "{e}");
    s.advance(5);
    assert_eq!(
        c.ask(&format!("EXTEND {r} id=e1")),
        e,
        "the first reply, not a new expiry"
    );
    let confirmed = c.ask(&format!("CONFIRM {r} id=c1"));
    assert_eq!(c.ask(&format!("CONFIRM {r} id=c1")), confirmed);
    let cancelled = c.ask(&format!("CANCEL {r} id=x1"));
    assert!(cancelled.starts_with("OK cancelled"), "{cancelled}");
    assert_eq!(c.ask(&format!("CANCEL {r} id=x1")), cancelled);
    assert!(c.ask("HOLD TOGETHER 3 id=t1").starts_with("OK "));
    assert!(c.ask("AVAIL").starts_with("OK free=97 "));
}

#[test]
fn confirm_racing_expiry_has_exactly_one_winner() {
    const HOLDS: usize = 200;
    let s = ClockServer::start(maps_config(&["R=400"]), Arc::new(ManualClock::new(T0)));
    let mut c = s.client();
    c.ask("USE R");
    let refs: Vec<String> = (0..HOLDS)
        .map(|_| reference(&c.ask("HOLD ANY 2")))
        .collect();
    // One thread confirms every hold, another moves the clock past their
    // expiry and runs the expiry; which wins each hold is up to timing.
    let confirmer = {
        let refs = refs.clone();
        let addr = s.addr;
        thread::spawn(move || {
            let mut c = LineClient::connect(addr);
            c.ask("USE R");
            refs.iter()
                .map(|r| c.ask(&format!("CONFIRM {r}")))
                .collect::<Vec<_>>()
        })
    };
    thread::sleep(Duration::from_millis(2));
    s.advance(900);
    let expired = s.catalog.expire_due();
    let replies = confirmer.join().unwrap();
    let mut booked = 0;
    for (r, reply) in refs.iter().zip(&replies) {
        let shown = c.ask(&format!("SHOW {r}"));
        if reply.starts_with("OK confirmed") {
            booked += 1;
            assert!(shown.starts_with("OK booked seats="), "{r}: {shown}");
        } else {
            assert_eq!(reply, &format!("ERR expired: {r}"));
            assert_eq!(shown, format!("ERR expired: {r}"));
        }
    }
    assert!(expired <= HOLDS - booked);
    let map = s.catalog.get("R").unwrap();
    assert_eq!(
        map.map().reserved_count(),
        2 * booked as u64,
        "seats match the winners"
    );
    assert_eq!(map.hold_count(), 0);
}

#[test]
fn sixty_four_clients_hold_confirm_and_cancel_on_a_hundred_maps() {
    const CLIENTS: usize = 64;
    const ROUNDS: usize = 30;
    let names: Vec<String> = (0..100).map(|i| format!("M{i}=40")).collect();
    let names: Vec<&str> = names.iter().map(String::as_str).collect();
    let s = ClockServer::start(
        Config {
            threads: 8,
            ..maps_config(&names)
        },
        Arc::new(ManualClock::new(T0)),
    );
    let workers: Vec<_> = (0..CLIENTS)
        .map(|k| {
            let addr = s.addr;
            thread::spawn(move || {
                let mut rng = fastrand::Rng::with_seed(k as u64);
                let mut c = LineClient::connect(addr);
                // What this client was told it holds or booked, per map.
                let mut mine: Vec<(usize, String, Vec<u64>)> = Vec::new();
                for _ in 0..ROUNDS {
                    let m = rng.usize(0..100);
                    c.ask(&format!("USE M{m}"));
                    let reply = match rng.u8(0..3) {
                        0 => c.ask(&format!("HOLD ANY {}", rng.u64(1..4))),
                        1 => c.ask(&format!("HOLD TOGETHER {}", rng.u64(1..4))),
                        _ => {
                            let a = rng.u64(1..40);
                            c.ask(&format!("HOLD {a},{}", a + 1))
                        }
                    };
                    if !reply.starts_with("OK ") {
                        continue;
                    }
                    let r = reference(&reply);
                    let seats = crate::support::seats(field(&reply, "seats"));
                    match rng.u8(0..3) {
                        0 => {
                            let ok = c.ask(&format!("CONFIRM {r}"));
                            assert!(ok.starts_with("OK confirmed"), "{ok}");
                            mine.push((m, r, seats));
                        }
                        1 => {
                            let ok = c.ask(&format!("CANCEL {r}"));
                            assert!(ok.starts_with("OK cancelled"), "{ok}");
                        }
                        _ => mine.push((m, r, seats)),
                    }
                }
                mine
            })
        })
        .collect();
    let mut claimed: HashMap<usize, HashSet<u64>> = HashMap::new();
    let mut c = s.client();
    let mut count: HashMap<usize, u64> = HashMap::new();
    for w in workers {
        for (m, r, seats) in w.join().unwrap() {
            c.ask(&format!("USE M{m}"));
            let shown = c.ask(&format!("SHOW {r}"));
            assert!(shown.starts_with("OK "), "{shown}");
            assert_eq!(crate::support::seats(field(&shown, "seats")), seats);
            for seat in seats {
                assert!(
                    claimed.entry(m).or_default().insert(seat),
                    "seat {seat} of M{m} twice"
                );
                *count.entry(m).or_default() += 1;
            }
        }
    }
    for (i, map) in s.catalog.maps().iter().enumerate().skip(1) {
        let m = i - 1;
        assert_eq!(map.name(), format!("M{m}"));
        assert_eq!(
            map.map().reserved_count(),
            count.get(&m).copied().unwrap_or(0)
        );
    }
}

#[test]
fn a_restart_keeps_maps_holds_bookings_and_expired_references() {
    let dir = TempDir::new("holds");
    let clock = Arc::new(ManualClock::new(T0));
    let (held, expired, booked);
    {
        let s = ClockServer::start(durable_maps(&dir, &["AB=3x3-3"]), clock.clone());
        let mut c = s.client();
        c.ask("USE AB");
        held = c.ask("HOLD 2A-2C id=k");
        let e = c.ask("HOLD 3A");
        expired = reference(&e);
        let b = c.ask("HOLD 1A");
        c.ask(&format!("CONFIRM {}", reference(&b)));
        booked = reference(&b);
        s.advance(100);
        c.ask(&format!("EXTEND {}", reference(&held)));
        s.advance(850);
        s.catalog.expire_due();
        assert_eq!(
            s.catalog.get("AB").unwrap().hold_count(),
            1,
            "3A's hold expired"
        );
    }
    let s = ClockServer::start(durable_maps(&dir, &[]), clock.clone());
    let mut c = s.client();
    c.ask("USE AB");
    let r = reference(&held);
    assert_eq!(c.ask("HOLD 2A-2C id=k"), held, "the id survives");
    assert_eq!(
        c.ask(&format!("SHOW {r}")),
        format!(
            "OK held seats=2A-2C expires={}",
            secs(T0 + 100_000 + 900_000)
        )
    );
    assert_eq!(
        c.ask(&format!("SHOW {expired}")),
        format!("ERR expired: {expired}")
    );
    assert_eq!(c.ask(&format!("SHOW {booked}")), "OK booked seats=1A");
    assert_eq!(
        c.ask("AVAIL"),
        "OK free=14 total=18 seats=1B-1F,2D-2F,3A-3F"
    );
    // After the restart the hold expires by the (wall) clock.
    s.advance(60);
    s.catalog.expire_due();
    assert_eq!(s.catalog.get("AB").unwrap().hold_count(), 0);
    assert_eq!(c.ask(&format!("CONFIRM {r}")), format!("ERR expired: {r}"));
    assert!(c.ask("AVAIL").starts_with("OK free=17 "));
}

#[test]
fn holds_cancelled_long_before_their_expiry_leave_no_deadlines_behind() {
    const CYCLES: usize = 5000;
    let s = ClockServer::start(maps_config(&[]), Arc::new(ManualClock::new(T0)));
    let mut c = s.client();
    let kept = reference(&c.ask("HOLD 99"));
    for _ in 0..CYCLES {
        let r = reference(&c.ask("HOLD 1"));
        assert!(c.ask(&format!("CANCEL {r}")).starts_with("OK cancelled"));
    }
    // Each cancelled hold left its deadline queued; the expiry loop
    // compacts too, and whichever runs first drops them.
    s.catalog.compact_deadlines();
    assert_eq!(s.catalog.queued_deadlines(), 1, "only the open hold's");
    assert!(
        c.ask(&format!("SHOW {kept}"))
            .starts_with("OK held seats=99")
    );
}

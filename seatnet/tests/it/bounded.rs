//! Bounded work per request: the per-request cap, bookings and replies as
//! runs, `AVAIL`'s cap, and original requests granted a word at a time.

use std::sync::{Arc, Barrier};
use std::thread;

use seatnet::Config;

use crate::support::{
    LineClient, OriginalClient, TestServer, field, reference, reserved_in, seats,
};

#[test]
fn requests_over_the_cap_get_too_many_seats_and_the_connection_goes_on() {
    let server = TestServer::start(Config {
        threads: 2,
        max_seats_per_request: 4,
        ..Config::default()
    });
    let mut client = server.line_client();
    for (request, verb, asked) in [
        ("ANY 5", "ANY", 5),
        ("TOGETHER 18446744073709551615", "TOGETHER", u64::MAX),
        ("BOOK 1,2,3,4,5", "BOOK", 5),
        ("ALL 1,2,3,4,5,6", "ALL", 6),
    ] {
        assert_eq!(
            client.ask(request),
            format!("ERR too-many-seats: {verb} may ask for at most 4 seats at once, not {asked}")
        );
    }
    assert_eq!(field(&client.ask("STATS"), "reserved"), "0");
    assert_eq!(field(&client.ask("ALL 1,2,3,4"), "seats"), "1-4");
    assert_eq!(seats(field(&client.ask("TOGETHER 4"), "seats")).len(), 4);
}

#[test]
fn a_long_run_is_booked_listed_and_cancelled_as_one_run() {
    let server = TestServer::start(Config {
        threads: 2,
        seats: 1_000_000,
        max_seats_per_request: 1_000_000,
        ..Config::default()
    });
    let mut client = server.line_client();
    client.ask("1,1000000");
    let together = client.ask("TOGETHER 999998");
    assert_eq!(field(&together, "seats"), "2-999999");
    assert_eq!(client.ask("AVAIL"), "OK free=0 total=1000000 seats=-");
    let r = reference(&together);
    assert_eq!(
        client.ask(&format!("CANCEL {r}")),
        format!("OK cancelled {r} seats=2-999999")
    );
    assert_eq!(
        client.ask("AVAIL"),
        "OK free=999998 total=1000000 seats=2-999999"
    );
}

#[test]
fn avail_lists_at_most_its_cap_of_runs() {
    let server = TestServer::small();
    let mut client = server.line_client();
    // Every even seat of 2..=600 taken: 300 free runs of one seat.
    let evens: Vec<String> = (1..=300).map(|i| (2 * i).to_string()).collect();
    client.ask(&evens.join(","));
    let server_100 = client.ask("AVAIL");
    assert_eq!(
        server_100,
        "OK free=50 total=100 seats=1,3,5,7,9,11,13,15,17,19,21,23,25,27,29,31,33,35,37,39,41,43,45,47,49,51,53,55,57,59,61,63,65,67,69,71,73,75,77,79,81,83,85,87,89,91,93,95,97,99"
    );
    let big = TestServer::start(Config {
        threads: 2,
        seats: 1000,
        ..Config::default()
    });
    let mut client = big.line_client();
    client.ask(&evens.join(","));
    let avail = client.ask("AVAIL");
    let list = field(&avail, "seats");
    assert!(list.starts_with("1,3,5,"), "{avail}");
    // 256 runs, then ",...": seat 511 is the 256th odd seat.
    assert!(list.ends_with(",511,..."), "{avail}");
    assert_eq!(
        list.split(',').count(),
        seatnet::protocol::AVAIL_MAX_RANGES + 1
    );
    assert_eq!(field(&avail, "free"), "700");
}

#[test]
fn an_original_request_within_one_word_is_granted_whole_or_not_at_all() {
    // Eight clients race for the same ten seats of one word, round after
    // round (a fresh word each round). The grants of one request within a
    // word are one atomic operation, so one client gets all ten and the
    // others none; seat by seat, two clients could split them. Over TCP the
    // requests rarely overlap closely enough to split a word, so this is
    // the end-to-end check of the property (and of the totals); the unit
    // test `racing_original_requests_never_split_a_word` in
    // `inventory/respond.rs` is the one that catches a per-seat grant.
    const CLIENTS: usize = 8;
    const ROUNDS: u64 = 50;
    let server = TestServer::start(Config {
        threads: CLIENTS,
        seats: 64 * ROUNDS,
        ..Config::default()
    });
    let start = Arc::new(Barrier::new(CLIENTS));
    let clients: Vec<_> = (0..CLIENTS)
        .map(|i| {
            let (addr, start) = (server.addr, Arc::clone(&start));
            thread::spawn(move || {
                let mut client = OriginalClient::connect(addr);
                let mut got = Vec::new();
                for round in 0..ROUNDS {
                    // Seats 64r+1..=64r+10 are library seats 64r..64r+9:
                    // all in word r. Each client names them in its own
                    // order.
                    let mut seats: Vec<u64> = (1..=10).map(|s| 64 * round + s).collect();
                    seats.rotate_left(i % 10);
                    let request: Vec<String> = seats.iter().map(u64::to_string).collect();
                    start.wait();
                    got.push(reserved_in(&client.ask(&request.join(","))).len());
                }
                got
            })
        })
        .collect();
    let got: Vec<Vec<usize>> = clients.into_iter().map(|c| c.join().unwrap()).collect();
    for round in 0..ROUNDS as usize {
        let mut counts: Vec<usize> = got.iter().map(|g| g[round]).collect();
        counts.sort_unstable();
        assert_eq!(
            counts,
            [0, 0, 0, 0, 0, 0, 0, 10],
            "round {round}: one client gets the whole word's seats"
        );
    }
    let mut line = LineClient::connect(server.addr);
    assert_eq!(
        field(&line.ask("STATS"), "reserved"),
        (10 * ROUNDS).to_string()
    );
}

//! Many clients at once: no seat is ever granted twice.

use std::collections::HashSet;
use std::net::SocketAddr;
use std::sync::{Arc, Barrier};
use std::thread;

use seatnet::Config;

use crate::support::{LineClient, OriginalClient, TestServer, field, reserved_in, seats};

/// Runs `client(i, addr, start)` on `count` threads (each connects, then
/// waits on `start` so that all race together) and returns every seat any
/// of them was granted, failing if one was granted twice.
fn race(
    addr: SocketAddr,
    count: usize,
    client: fn(usize, SocketAddr, &Barrier) -> Vec<u64>,
) -> HashSet<u64> {
    let start = Arc::new(Barrier::new(count));
    let clients: Vec<_> = (0..count)
        .map(|i| {
            let start = Arc::clone(&start);
            thread::spawn(move || client(i, addr, &start))
        })
        .collect();
    let mut all = Vec::new();
    for client in clients {
        all.extend(client.join().unwrap());
    }
    let unique: HashSet<_> = all.iter().copied().collect();
    assert_eq!(unique.len(), all.len(), "a seat was granted twice");
    unique
}

#[test]
fn sixty_four_clients_racing_for_the_same_seats() {
    const CLIENTS: usize = 64;
    let server = TestServer::start(Config {
        // Two connections per client.
        threads: 2 * CLIENTS,
        seats: 200,
        ..Config::default()
    });
    let granted = race(server.addr, CLIENTS, |i, addr, start| {
        let mut granted = Vec::new();
        let mut line = LineClient::connect(addr);
        let mut original = OriginalClient::connect(addr);
        start.wait();
        // Everyone asks for every seat, in a different order, in
        // small requests of both kinds and through BOOK / ANY.
        for round in 0..20u64 {
            let first = (i as u64 * 7 + round * 10) % 200;
            let request: Vec<String> = (first..first + 10)
                .map(|s| (s % 200 + 1).to_string())
                .collect();
            let request = request.join(",");
            granted.extend(reserved_in(&original.ask(&request)));
            let booked = line.ask(&format!("BOOK {request}"));
            if booked.starts_with("OK ") {
                granted.extend(seats(field(&booked, "reserved")));
            }
            let any = line.ask("ANY 1");
            if any.starts_with("OK ") {
                granted.extend(seats(field(&any, "seats")));
            }
        }
        granted
    });
    assert_eq!(
        granted.len(),
        200,
        "every seat was asked for, so every seat went"
    );
    let stats = LineClient::connect(server.addr).ask("STATS");
    assert_eq!(field(&stats, "reserved"), "200");
}

#[test]
fn all_or_nothing_races_never_split_a_group() {
    const CLIENTS: usize = 16;
    let server = TestServer::start(Config {
        threads: CLIENTS,
        seats: 64,
        ..Config::default()
    });
    let granted = race(server.addr, CLIENTS, |i, addr, start| {
        let mut client = LineClient::connect(addr);
        start.wait();
        let mut won = Vec::new();
        for round in 0..32u64 {
            // Overlapping pairs: (k, k+1).
            let k = (i as u64 * 3 + round) % 63 + 1;
            let reply = client.ask(&format!("ALL {k},{}", k + 1));
            if reply.starts_with("OK ") {
                won.extend(seats(field(&reply, "seats")));
            } else {
                assert!(reply.starts_with("ERR conflict: taken="), "{reply}");
            }
        }
        won
    });
    let stats = LineClient::connect(server.addr).ask("STATS");
    assert_eq!(
        field(&stats, "reserved"),
        granted.len().to_string(),
        "no half-kept group"
    );
}

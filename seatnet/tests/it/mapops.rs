//! `ADDMAP` and `REMOVEMAP` over TCP: only on `--admin-listen`, bad names
//! and specs, refusals with bookings unless `FORCE`, connections on a
//! removed map, in memory and on disk, and restarts that replay the same
//! catalog (a name removed and added again included).

use std::thread;

use seatnet::Config;

use crate::maps::{durable_maps, maps_config};
use crate::support::TempDir;
use crate::support::{LineClient, TestServer, reference};

fn with_admin(config: Config) -> Config {
    Config {
        admin_listen: Some("127.0.0.1:0".into()),
        ..config
    }
}

fn admin(server: &TestServer) -> LineClient {
    LineClient::connect(server.admin.expect("an admin listener"))
}

/// The whole life of an added map on `server`; returns `MAPS` at the end.
fn add_use_remove_and_add_again(server: &TestServer) -> String {
    let mut op = admin(server);
    let mut public = server.line_client();
    // Only the admin listener may add or remove.
    assert_eq!(
        public.ask("ADDMAP X 10"),
        "ERR forbidden: ADDMAP is an operator command; send it on the server's --admin-listen address"
    );
    assert!(
        public
            .ask("removemap default force")
            .starts_with("ERR forbidden: REMOVEMAP is an operator command")
    );
    assert!(public.ask("USE X").starts_with("ERR unknown-map: X"));

    assert_eq!(
        op.ask("ADDMAP AB7 30x2-2"),
        "OK added AB7 spec=30x2-2 seats=120 free=120"
    );
    assert!(
        public
            .ask("USE AB7")
            .starts_with("OK using AB7 spec=30x2-2")
    );
    let booked = public.ask("BOOK 1A,1B");
    assert!(booked.starts_with("OK "), "{booked}");
    let held = public.ask("HOLD 2A");
    assert!(held.starts_with("OK "), "{held}");

    // Bad names, bad specs, a name that exists: clear errors, nothing added.
    for (line, start) in [
        ("ADDMAP AB7 10", "ERR map-exists: map AB7 exists"),
        ("ADDMAP default 10", "ERR map-exists: map default exists"),
        (
            "ADDMAP bad!name 10",
            "ERR bad-request: 'bad!name' is not a map name",
        ),
        ("ADDMAP Z 0", "ERR bad-request: map spec '0': "),
        ("ADDMAP Z 30x3-Q", "ERR bad-request: map spec '30x3-Q': "),
        ("ADDMAP Z", "ERR bad-request: "),
        ("ADDMAP Z 10 11", "ERR bad-request: "),
        ("REMOVEMAP", "ERR bad-request: "),
        ("REMOVEMAP AB7 NOW", "ERR bad-request: "),
    ] {
        let reply = op.ask(line);
        assert!(reply.starts_with(start), "{line}: {reply}");
    }
    assert!(op.ask("USE Z").starts_with("ERR unknown-map: Z"));

    // Removal: refused with bookings and holds, and for default.
    assert_eq!(
        op.ask("REMOVEMAP AB7"),
        "ERR map-in-use: map AB7 has 1 bookings and 1 open holds; REMOVEMAP AB7 FORCE removes it with them"
    );
    assert!(public.ask("BOOK 3A").starts_with("OK "), "still served");
    assert!(
        op.ask("REMOVEMAP default FORCE")
            .starts_with("ERR default-map: the map default cannot be removed")
    );
    assert!(
        op.ask("REMOVEMAP nope")
            .starts_with("ERR unknown-map: nope")
    );
    assert_eq!(
        op.ask("removemap AB7 force"),
        "OK removed AB7 bookings=2 holds=1"
    );

    // The connection that used it: every request gets `ERR removed` (but
    // QUIT would still close it), until it uses another map.
    for line in [
        "ANY 1",
        "AVAIL",
        "MAP",
        &format!("CANCEL {}", reference(&booked)),
    ] {
        assert_eq!(
            public.ask(line),
            "ERR removed: map AB7 was removed by an operator; USE another map (MAPS lists the maps)",
            "{line}"
        );
    }
    assert!(public.ask("USE AB7").starts_with("ERR unknown-map: AB7"));
    assert!(!public.ask("MAPS").contains("AB7"));
    assert!(public.ask("USE default").starts_with("OK using default"));
    assert!(public.ask("BOOK 5").starts_with("OK "));

    // The name again: a fresh, empty map.
    assert_eq!(op.ask("ADDMAP AB7 6"), "OK added AB7 spec=6 seats=6 free=6");
    assert!(
        public
            .ask("USE AB7")
            .starts_with("OK using AB7 spec=6 seats=6 free=6")
    );
    assert_eq!(
        public.ask(&format!("SHOW {}", reference(&booked))),
        format!("ERR unknown-booking: {}", reference(&booked))
    );
    assert!(public.ask("BOOK 6").starts_with("OK "));
    // A map without bookings goes without FORCE.
    assert_eq!(
        op.ask("ADDMAP EMPTY 4"),
        "OK added EMPTY spec=4 seats=4 free=4"
    );
    assert_eq!(
        op.ask("REMOVEMAP EMPTY"),
        "OK removed EMPTY bookings=0 holds=0"
    );
    let maps = op.ask("MAPS");
    assert_eq!(maps, "OK maps=3 AB7:6:6:5 S:10:10:10 default:100:100:99");
    maps
}

#[test]
fn maps_are_added_and_removed_in_memory() {
    let server = TestServer::start(with_admin(maps_config(&["S=10"])));
    add_use_remove_and_add_again(&server);
}

#[test]
fn added_and_removed_maps_survive_restarts() {
    let dir = TempDir::new("mapops");
    let config = || with_admin(durable_maps(&dir, &["S=10"]));
    let mut server = TestServer::start(config());
    let maps = add_use_remove_and_add_again(&server);
    server.shutdown().unwrap();
    drop(server);
    for _ in 0..2 {
        let mut server = TestServer::start(config());
        let mut c = server.line_client();
        assert_eq!(c.ask("MAPS"), maps);
        assert_eq!(c.ask("USE AB7"), "OK using AB7 spec=6 seats=6 free=5");
        assert!(c.ask("BOOK 6").starts_with("ERR "), "still booked");
        drop(c);
        server.shutdown().unwrap();
    }
}

#[test]
fn changes_racing_a_forced_removal_never_reach_the_map_added_after_it() {
    let dir = TempDir::new("mapops-race");
    let config = || with_admin(durable_maps(&dir, &[]));
    let mut server = TestServer::start(config());
    let mut op = admin(&server);
    assert!(op.ask("ADDMAP R 400").starts_with("OK added R "));
    let clients: Vec<_> = (0..4)
        .map(|_| {
            let mut c = server.line_client();
            assert!(c.ask("USE R").starts_with("OK using R"));
            thread::spawn(move || {
                let mut gone = 0;
                // Bounded: 100 requests per client at most.
                for _ in 0..100 {
                    let reply = c.ask("ANY 1");
                    if reply.starts_with("ERR removed: map R ") {
                        gone += 1;
                    } else {
                        assert!(reply.starts_with("OK "), "{reply}");
                    }
                }
                gone
            })
        })
        .collect();
    let removed = op.ask("REMOVEMAP R FORCE");
    assert!(removed.starts_with("OK removed R bookings="), "{removed}");
    assert!(
        op.ask("ADDMAP R 400")
            .starts_with("OK added R spec=400 seats=400 free=400")
    );
    for c in clients {
        c.join().unwrap();
    }
    server.shutdown().unwrap();
    drop(server);
    let server = TestServer::start(config());
    assert!(
        server
            .line_client()
            .ask("USE R")
            .starts_with("OK using R spec=400 seats=400 free=400"),
        "no change to the removed R is replayed onto the new one"
    );
}

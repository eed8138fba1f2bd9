//! Cluster mode (`--etcd`) against real etcd members on loopback, started
//! and killed by each test (every test skips loudly without etcd):
//!
//! - two library servers sharing maps: each map served by exactly one,
//!   the other answering `ERR moved <owner>`; `NODES` and `MAPS` show it;
//!   a server shut down hands its maps to the other;
//! - the real binary `kill -9`ed: the other node serves its maps;
//! - the real binary frozen (SIGSTOP) past its lease with a request
//!   waiting, its map taken meanwhile, resumed (SIGCONT): it grants
//!   nothing, and points at the new owner;
//! - a change applied just before its node was cut off from etcd, whose
//!   map another node took meanwhile: never acknowledged (the commit
//!   fence at the reply);
//! - the flags' errors (no etcd needed).
//!
//! No timing assertions: every wait is bounded and only decides how long
//! to look for an outcome.

use std::collections::HashMap;
use std::io::BufRead;
use std::time::{Duration, Instant};

use seatcluster::testing::{EtcdCluster, Proxy};
use seatnet::{ClusterConfig, Config, MapDef};

use crate::client_cli::client;
use crate::processes::{ServerProcess, stderr, stdout};
use crate::support::{LineClient, TestServer};

/// How long any single outcome is waited for.
const PATIENCE: Duration = Duration::from_secs(40);

const MAPS: [&str; 4] = ["A=10", "B=10", "C=10", "D=10"];

fn eventually(what: &str, mut check: impl FnMut() -> bool) {
    let deadline = Instant::now() + PATIENCE;
    while !check() {
        assert!(Instant::now() < deadline, "gave up waiting: {what}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

fn node_config(etcd: &EtcdCluster, node: &str) -> Config {
    Config {
        threads: 4,
        maps: MAPS.iter().map(|m| m.parse::<MapDef>().unwrap()).collect(),
        cluster: Some(ClusterConfig {
            endpoints: etcd.endpoints(),
            node: node.into(),
            advertise: "127.0.0.1:0".into(),
            lease_ttl: Duration::from_secs(3),
        }),
        ..Config::default()
    }
}

/// Every map's owner as one node's `MAPS` says it (`here`, an address,
/// `none`).
fn owners(client: &mut LineClient) -> HashMap<String, String> {
    let reply = client.ask("MAPS");
    assert!(reply.starts_with("OK maps=5 "), "{reply}");
    reply
        .split(' ')
        .skip(2)
        .map(|entry| {
            let fields: Vec<&str> = entry.split(':').collect();
            assert!(fields.len() >= 5, "{entry} in {reply}");
            // The owner is the last field; an address has a `:` itself.
            (fields[0].to_owned(), fields[4..].join(":"))
        })
        .collect()
}

#[test]
fn a_request_for_another_nodes_map_is_moved_there() {
    let Some(etcd) = EtcdCluster::start("seatnet cluster moved", 3) else {
        return;
    };
    let a = TestServer::start(Config {
        admin_listen: Some("127.0.0.1:0".into()),
        ..node_config(&etcd, "node-a")
    });
    let mut b = TestServer::start(node_config(&etcd, "node-b"));
    let (mut ca, mut cb) = (a.line_client(), b.line_client());
    let (addr_a, addr_b) = (a.addr.to_string(), b.addr.to_string());
    // Each map is served by exactly one node, and the other points at it.
    let mut seen = (HashMap::new(), HashMap::new());
    eventually("every map owned, both nodes agreeing", || {
        seen = (owners(&mut ca), owners(&mut cb));
        seen.0.iter().all(|(map, at_a)| {
            let at_b = &seen.1[map];
            (at_a == "here" && *at_b == addr_a) || (at_b == "here" && *at_a == addr_b)
        })
    });
    let (by_a, by_b) = &seen;
    let on_b: Vec<&String> = by_b.keys().filter(|m| by_b[*m] == "here").collect();
    let on_a: Vec<&String> = by_a.keys().filter(|m| by_a[*m] == "here").collect();
    assert_eq!(on_a.len() + on_b.len(), 5, "{seen:?}");
    // etcd keeps the state: no snapshot or backup of a node's own.
    let mut operator = LineClient::connect(a.admin.expect("an operator port"));
    for command in ["SNAPSHOT", "BACKUP /tmp/never-written"] {
        let reply = operator.ask(command);
        assert!(reply.starts_with("ERR not-in-cluster: "), "{reply}");
    }
    // Maps are not added or removed on one node of a cluster.
    assert!(
        ca.ask("ADDMAP X 10")
            .starts_with("ERR not-in-cluster: ADDMAP is not available in cluster mode"),
    );
    assert!(
        cb.ask("REMOVEMAP X")
            .starts_with("ERR not-in-cluster: REMOVEMAP ")
    );
    // A map of b asked of a: moved to b; b serves it.
    for map in &on_b {
        assert_eq!(ca.ask(&format!("USE {map}")), format!("ERR moved {addr_b}"));
        assert!(cb.ask(&format!("USE {map}")).starts_with("OK using"));
        assert!(cb.ask("BOOK 1").starts_with("OK "));
    }
    for map in &on_a {
        assert!(ca.ask(&format!("USE {map}")).starts_with("OK using"));
        assert_eq!(cb.ask(&format!("USE {map}")), format!("ERR moved {addr_a}"));
    }
    // seatnet-client follows `ERR moved` by itself, with --map and with
    // `use`, and shows the nodes.
    for map in &on_b {
        let out = client(a.addr.port(), &["--map", map, "book", "2"], "");
        assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
        assert!(stdout(&out).starts_with("OK "), "{}", stdout(&out));
        assert!(
            stderr(&out).contains(&format!("moved to {addr_b}")),
            "{}",
            stderr(&out)
        );
        let out = client(a.addr.port(), &["use", map], "");
        assert!(
            stdout(&out).starts_with(&format!("OK using {map} ")),
            "{}",
            stdout(&out)
        );
        // Seats 1 and 2 are taken at b, as b sees it.
        let out = client(b.addr.port(), &["--map", map, "book", "1,2"], "");
        assert!(stdout(&out).starts_with("ERR "), "{}", stdout(&out));
    }
    let out = client(b.addr.port(), &["nodes"], "");
    assert_eq!(
        stdout(&out),
        format!("OK nodes=2 self=node-b node-a@{addr_a} node-b@{addr_b}\n")
    );
    // Node commands are answered anywhere.
    let nodes = ca.ask("NODES");
    assert_eq!(
        nodes,
        format!("OK nodes=2 self=node-a node-a@{addr_a} node-b@{addr_b}")
    );
    assert!(cb.ask("STATS").starts_with("OK "));
    // An original-protocol client (no newline, no `USE`) gets the same
    // reply from either node: the one that does not own `default` passes
    // its request to the owner.
    let (owner, other) = if on_a.iter().any(|m| *m == "default") {
        (&a, &b)
    } else {
        (&b, &a)
    };
    let first = other.original_client().ask("8,9");
    assert_eq!(first, "Reservados: [8, 9] | Indisponíveis/Inválidos: []");
    let again = owner.original_client().ask("9,10");
    assert_eq!(again, "Reservados: [10] | Indisponíveis/Inválidos: [9]");
    // A line client is told where `default` is instead.
    let mut line = other.line_client();
    assert_eq!(line.ask("11"), format!("ERR moved {}", owner.addr));
    // `MAP name` is answered by the map's owner only.
    if let Some(map) = on_a.first() {
        let mut c = b.line_client();
        assert_eq!(c.ask(&format!("MAP {map}")), format!("ERR moved {addr_a}"));
    }
    // b leaves cleanly (its lease revoked): a serves every map.
    drop(cb);
    b.shutdown().unwrap();
    eventually("a serving every map after b left", || {
        owners(&mut ca).values().all(|o| o == "here")
    });
    for map in &on_b {
        assert!(ca.ask(&format!("USE {map}")).starts_with("OK using"));
    }
    assert_eq!(
        ca.ask("NODES"),
        format!("OK nodes=1 self=node-a node-a@{addr_a}")
    );
    // A booking made on a while it holds every map...
    let moved = on_b.first().map(|m| (*m).clone()).expect("b owned a map");
    assert!(ca.ask(&format!("USE {moved}")).starts_with("OK using"));
    let booked = ca.ask("BOOK 5");
    assert!(booked.starts_with("OK "), "{booked}");
    // ...and a node joining again: a hands maps back (it holds more than
    // its share) until each holds its share, and every booking goes with
    // its map.
    let c = TestServer::start(node_config(&etcd, "node-c"));
    let mut cc = c.line_client();
    eventually("a handing maps back to c", || {
        let owners = owners(&mut cc);
        owners.values().filter(|o| *o == "here").count() >= 2
            && owners.values().all(|o| o == "here" || *o == addr_a)
    });
    for (map, owner) in owners(&mut cc) {
        let client = if owner == "here" { &mut cc } else { &mut ca };
        let reply = client.ask(&format!("USE {map}"));
        assert!(reply.starts_with("OK using"), "{map} at {owner}: {reply}");
        if map == moved {
            assert!(
                client.ask("BOOK 5").starts_with("ERR "),
                "{map} lost seat 5"
            );
        }
    }
}

#[test]
fn a_killed_nodes_maps_are_served_by_another() {
    let Some(etcd) = EtcdCluster::start("seatnet cluster kill -9", 3) else {
        return;
    };
    let endpoints = etcd.endpoints().join(",");
    let start = |node: &str| start_binary_node(&endpoints, node);
    let first = start("n1");
    let second = start("n2");
    assert!(
        first.first_line.ends_with(&format!(
            "durable in etcd, cluster node n1 through etcd {endpoints})\n"
        )),
        "{}",
        first.first_line
    );
    let mut c2 = LineClient::connect(second.addr);
    let addr1 = first.addr.to_string();
    let map = &a_map_owned_by(&mut c2, &addr1);
    assert_eq!(c2.ask(&format!("USE {map}")), format!("ERR moved {addr1}"));
    // Acknowledged by n1 before it dies: a booking and a hold.
    let mut c1 = LineClient::connect(first.addr);
    assert!(c1.ask(&format!("USE {map}")).starts_with("OK using"));
    let booked = c1.ask("BOOK 3,4 id=before-the-kill");
    assert!(booked.starts_with("OK "), "{booked}");
    let reference = booked.split(' ').nth(1).unwrap().to_owned();
    let held = c1.ask("HOLD 9");
    assert!(held.starts_with("OK "), "{held}");
    let hold = held.split(' ').nth(1).unwrap().to_owned();
    drop(first); // kill -9: the lease is not revoked, it expires
    // The client, asking n2, waits out the takeover by itself: n2 first
    // sends it to the dead n1 (which does not answer), then says no-owner,
    // then serves the map.
    let out = client(second.addr.port(), &["--map", map, "book", "7"], "");
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(stdout(&out).starts_with("OK "), "{}", stdout(&out));
    eventually("n2 serving n1's map after the kill", || {
        let reply = c2.ask(&format!("USE {map}"));
        assert!(
            reply.starts_with("OK using")
                || reply == format!("ERR moved {addr1}")
                || reply.starts_with("ERR no-owner: "),
            "{reply}"
        );
        reply.starts_with("OK using")
    });
    assert!(c2.ask("BOOK 1").starts_with("OK "));
    assert!(
        c2.ask("BOOK 7").starts_with("ERR "),
        "seat 7 was booked by the client"
    );
    // What n1 acknowledged is on n2, rebuilt from etcd: the booking (its
    // seats taken, its reference known, its id's reply the same byte for
    // byte) and the hold.
    assert!(c2.ask("BOOK 3").starts_with("ERR "), "seat 3 is free again");
    assert_eq!(c2.ask("BOOK 3,4 id=before-the-kill"), booked);
    assert!(
        c2.ask(&format!("SHOW {reference}")).contains("booked"),
        "the booking is gone"
    );
    assert!(c2.ask(&format!("SHOW {hold}")).contains("held"));
    assert!(
        c2.ask(&format!("CANCEL {reference}"))
            .starts_with("OK cancelled")
    );
    assert!(c2.ask("BOOK 3,4").starts_with("OK "));
}

/// A map the node at `owner` serves, once `client`'s node sees every map
/// owned and at least one owned there.
fn a_map_owned_by(client: &mut LineClient, owner: &str) -> String {
    let mut theirs = Vec::new();
    eventually(
        &format!("{owner} owning a map, as another node sees it"),
        || {
            let owners = owners(client);
            theirs = owners
                .iter()
                .filter(|(_, o)| **o == owner)
                .map(|(m, _)| m.clone())
                .collect();
            !theirs.is_empty() && owners.values().all(|o| o != "none")
        },
    );
    theirs.swap_remove(0)
}

/// Sends `signal` (`STOP`, `CONT`) to `child` with kill(1).
fn signal(child: &std::process::Child, signal: &str) {
    let status = std::process::Command::new("kill")
        .args([&format!("-{signal}"), &child.id().to_string()])
        .status()
        .expect("run kill");
    assert!(status.success(), "kill -{signal} failed");
}

/// The fencing test at the request check: a node frozen past its lease
/// (SIGSTOP) while a request for its map waits in its socket, its map
/// taken by the other node meanwhile, then resumed (SIGCONT), grants
/// nothing: its lease's local deadline has passed, so the check before
/// the request answers `ERR no-owner` or `ERR moved`, never `OK`.
#[test]
fn a_node_frozen_past_its_lease_grants_nothing_when_it_wakes() {
    let Some(etcd) = EtcdCluster::start("seatnet cluster SIGSTOP", 3) else {
        return;
    };
    let endpoints = etcd.endpoints().join(",");
    let start = |node: &str| start_binary_node(&endpoints, node);
    let frozen = start("n1");
    let other = start("n2");
    let mut c2 = LineClient::connect(other.addr);
    let (addr1, addr2) = (frozen.addr.to_string(), other.addr.to_string());
    let map = &a_map_owned_by(&mut c2, &addr1);
    let mut c1 = LineClient::connect(frozen.addr);
    assert!(c1.ask(&format!("USE {map}")).starts_with("OK using"));
    signal(&frozen.child, "STOP");
    // Waits in n1's socket while n1 is frozen.
    c1.send(b"BOOK 5 id=frozen\n");
    eventually("n2 serving n1's map while n1 is frozen", || {
        c2.ask(&format!("USE {map}")).starts_with("OK using")
    });
    assert!(c2.ask("BOOK 5").starts_with("OK "));
    signal(&frozen.child, "CONT");
    let reply = c1.line();
    assert!(
        reply.starts_with("ERR no-owner: ") || reply == format!("ERR moved {addr2}"),
        "the frozen node answered {reply}"
    );
    // Once it has seen the new owner, it sends clients there.
    eventually("n1 pointing at n2", || {
        let reply = c1.ask("BOOK 6");
        assert!(!reply.starts_with("OK"), "the old owner granted: {reply}");
        reply == format!("ERR moved {addr2}")
    });
}

/// The cluster flags' errors are clear, and need no etcd: a flag without
/// the others it needs, a bad value, and etcd not answering (a loopback
/// port nothing listens on).
#[test]
fn cluster_flags_without_their_partners_or_etcd_are_clear_errors() {
    let run = |args: &[&str]| {
        std::process::Command::new(env!("CARGO_BIN_EXE_seatnet-server"))
            .args(["--host", "127.0.0.1", "--port", "0"])
            .args(args)
            .output()
            .expect("run seatnet-server")
    };
    let cases: [(&[&str], &str); 5] = [
        (&["--etcd", "127.0.0.1:9"], "--node"),
        (&["--node", "a"], "--etcd"),
        (&["--lease-ttl", "9"], "--etcd"),
        (
            &[
                "--etcd",
                "127.0.0.1:9",
                "--node",
                "a b",
                "--advertise",
                "127.0.0.1:0",
            ],
            "node name 'a b'",
        ),
        (
            &[
                "--etcd",
                "127.0.0.1:9",
                "--node",
                "a",
                "--advertise",
                "127.0.0.1:0",
            ],
            "cannot join the cluster: etcd unavailable",
        ),
    ];
    for (args, says) in cases {
        let out = run(args);
        assert!(!out.status.success(), "{args:?} started");
        let err = stderr(&out);
        assert!(err.contains(says), "{args:?}: {err}");
    }
}

/// The real binary as cluster node `node` over `endpoints`, serving
/// `MAPS`, with a 3 s lease.
fn start_binary_node(endpoints: &str, node: &str) -> ServerProcess {
    start_binary_node_over(endpoints, node, &MAPS)
}

/// The real binary as cluster node `node` over `endpoints` (etcd members
/// or proxies in front of them, comma-separated), serving `maps`
/// (`NAME=SPEC` each), with a 3 s lease.
pub(crate) fn start_binary_node_over(endpoints: &str, node: &str, maps: &[&str]) -> ServerProcess {
    let mut args = vec![
        "--threads",
        "4",
        "--etcd",
        endpoints,
        "--node",
        node,
        "--advertise",
        "127.0.0.1:0",
        "--lease-ttl",
        "3",
    ];
    for map in maps {
        args.extend(["--map", map]);
    }
    ServerProcess::start(&args)
}

/// The commit fence at the reply: a change applied while its node still
/// proved its lease, but whose batch cannot reach etcd (the node's path
/// to every member cut), is never acknowledged: once the node can no
/// longer prove its lease, the connection is closed without the reply
/// (or, if the request came after that, it is refused), while the cut
/// lasts; the new owner does not have the change; after the heal the old
/// node sends clients to the new owner.
#[test]
fn a_change_cut_off_from_etcd_is_never_acknowledged() {
    let Some(etcd) = EtcdCluster::start("seatnet cluster partition at the reply", 3) else {
        return;
    };
    let proxies: Vec<Proxy> = etcd
        .endpoints()
        .iter()
        .map(|e| Proxy::start(e.parse().unwrap()).unwrap())
        .collect();
    let mut cut_off = node_config(&etcd, "n1");
    if let Some(cluster) = &mut cut_off.cluster {
        cluster.endpoints = proxies.iter().map(|p| p.addr().to_string()).collect();
    }
    let n1 = TestServer::start(cut_off);
    let n2 = TestServer::start(node_config(&etcd, "n2"));
    let mut c2 = n2.line_client();
    let addr1 = n1.addr.to_string();
    let map = &a_map_owned_by(&mut c2, &addr1);
    let mut c1 = n1.line_client();
    assert!(c1.ask(&format!("USE {map}")).starts_with("OK using"));
    assert!(c1.ask("BOOK 1").starts_with("OK "), "before the cut");
    for proxy in &proxies {
        proxy.cut();
    }
    c1.send(b"BOOK 2 id=cut-off\n");
    eventually("n2 serving n1's map while n1 is cut off", || {
        c2.ask(&format!("USE {map}")).starts_with("OK using")
    });
    // Seat 1 was acknowledged before the cut: n2 has it. Seat 2 never
    // reached etcd: n2 grants it.
    assert!(c2.ask("BOOK 1").starts_with("ERR "), "seat 1 lost");
    assert!(c2.ask("BOOK 2").starts_with("OK "), "seat 2 in etcd");
    // Still cut off: the node cannot prove its lease, so it abandons the
    // reply (closes the connection) rather than keep the client waiting.
    let deadline = Instant::now() + PATIENCE;
    let answer = loop {
        let mut line = String::new();
        match c1.reader.read_line(&mut line) {
            Ok(0) => break None,
            Ok(_) => break Some(line),
            Err(e)
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                ) =>
            {
                assert!(Instant::now() < deadline, "n1 neither answered nor closed");
            }
            Err(_) => break None,
        }
    };
    match answer {
        None => eprintln!("n1 closed the connection without acknowledging the cut-off change"),
        Some(line) => assert!(
            line.starts_with("ERR no-owner: "),
            "n1 answered the cut-off change: {line}"
        ),
    }
    // Healed: n1 learns its lease is gone and points at the new owner.
    for proxy in &proxies {
        proxy.heal();
    }
    let mut again = n1.line_client();
    eventually("n1 pointing at n2 after the heal", || {
        let reply = again.ask(&format!("USE {map}"));
        assert!(!reply.starts_with("OK"), "n1 serves the map again: {reply}");
        reply == format!("ERR moved {}", n2.addr)
    });
}

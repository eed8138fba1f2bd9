//! Failover with every change journaled through etcd (`docs/cluster.md`),
//! end to end: real etcd members and real `seatnet-server` nodes on
//! loopback, killed and cut off by each test (every test that needs etcd
//! skips loudly without it):
//!
//! - three nodes under six booking clients while the owner of a busy map
//!   is `kill -9`ed and restarted, three times: every acknowledged change
//!   is on the map's owner afterwards, no seat is granted twice, the
//!   seats taken are exactly those of the acknowledged bookings and holds,
//!   and every request id repeats its first reply byte for byte;
//! - etcd members killed: with one of three gone bookings go on; with two
//!   gone no change is acknowledged; with them back bookings go on and
//!   nothing acknowledged is lost;
//! - a node cut off from etcd (its `--etcd` points at proxies the test
//!   cuts): it stops acknowledging, another node takes its map with
//!   everything it acknowledged, and after the heal it sends clients to
//!   the new owner;
//! - `--data-dir` with `--etcd` is refused.
//!
//! The clients (`careful_client`) behave as a careful client must: every
//! change carries an `id=`; on `ERR moved` they ask the node named (after
//! `USE`), on `ERR no-owner` or a lost connection they ask again with the
//! same id, within bounds.
//!
//! No timing assertions: every wait is bounded and only decides how long
//! to look for an outcome.

use std::collections::HashMap;
use std::io;
use std::net::SocketAddr;
use std::process::Command;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::thread;
use std::time::{Duration, Instant};

use seatcluster::testing::{EtcdCluster, Proxy};

use crate::careful_client::{
    Answer, Booker, Change, Conn, Granted, IO_TIMEOUT, Ledger, Outcome, PATIENCE, PAUSE,
    RESEND_MAX, Router, Seeds, assert_no_failures, eventually, expected_show, grant_request,
    owner_among, owner_at, seed, summary, timed_out, verify,
};
use crate::cluster::start_binary_node_over;
use crate::processes::{ServerProcess, stderr};

/// How long a node that must not acknowledge may take to answer a change
/// (its commit is retried until its lease deadline, 3 s here, passes).
const DARK_TIMEOUT: Duration = Duration::from_secs(30);

/// A change sent to a node that must not acknowledge it (cut off from
/// etcd, or etcd without a quorum), on a connection that selected its
/// map while the node served it.
struct Dark {
    map: &'static str,
    change: Change,
    id: String,
    conn: Conn,
    /// No answer came within [`DARK_TIMEOUT`].
    hung: bool,
}

/// A change whose outcome the client does not know yet, and what its
/// connection finally said, if anything.
type Unresolved = (&'static str, Change, String, Option<String>);

/// Connections to `at` with `map` selected, `count` of them, made while
/// `at` serves `map` (waited for).
fn selected(at: &[SocketAddr], map: &str, count: usize) -> (SocketAddr, Vec<Conn>) {
    let mut found = None;
    eventually(
        &format!("{count} connections to the owner of {map}"),
        || {
            let owner = at[owner_among(at, map)];
            let conns: Vec<Conn> = (0..count)
                .map_while(|_| Conn::using(owner, map, DARK_TIMEOUT).ok())
                .collect();
            if conns.len() == count {
                found = Some((owner, conns));
            }
            found.is_some()
        },
    );
    found.expect("found above")
}

/// Sends every change of `dark` at once (so that they reach the node
/// together, while it may still count itself live and apply them), then
/// reads each answer, all within one [`DARK_TIMEOUT`]: a refusal, or the
/// connection closed. Panics on an `OK`; a change with no answer at all
/// is a failure (`failures`), and stays `hung`. Returns the answers.
fn refused_in_the_dark(dark: &mut [Dark], what: &str, failures: &mut Vec<String>) -> Vec<String> {
    let requests: Vec<String> = dark
        .iter()
        .map(|d| grant_request(d.change, &d.id))
        .collect();
    let sent: Vec<io::Result<()>> = dark
        .iter_mut()
        .zip(&requests)
        .map(|(d, r)| d.conn.send(r))
        .collect();
    let deadline = Instant::now() + DARK_TIMEOUT;
    let mut answers = Vec::new();
    for ((d, request), sent) in dark.iter_mut().zip(&requests).zip(sent) {
        let answer = match sent.and_then(|()| d.conn.reply_by(deadline)) {
            Ok(reply) => {
                assert!(
                    !reply.starts_with("OK"),
                    "{what}: {request} on {} was acknowledged: {reply}",
                    d.map
                );
                reply
            }
            Err(e) if timed_out(&e) => {
                d.hung = true;
                failures.push(format!(
                    "{what}: {request} on {} got no answer within {DARK_TIMEOUT:?} \
                     (neither a refusal nor the connection closed)",
                    d.map
                ));
                "no answer".to_owned()
            }
            Err(e) => format!("connection closed ({e})"),
        };
        eprintln!("{what}: {request} on {}: {answer}", d.map);
        answers.push(answer);
    }
    answers
}

/// The changes of `dark`, once a node can commit them again, with what
/// the hung ones finally got on their connections (read for at most
/// `within`, all together).
fn unresolved(dark: Vec<Dark>, within: Duration) -> Vec<Unresolved> {
    let deadline = Instant::now() + within;
    dark.into_iter()
        .map(|mut d| {
            let late = if d.hung {
                let late = d.conn.reply_by(deadline);
                eprintln!(
                    "{} on {}, hung before, finally got: {late:?}",
                    grant_request(d.change, &d.id),
                    d.map
                );
                late.ok()
            } else {
                None
            };
            (d.map, d.change, d.id, late)
        })
        .collect()
}

/// The `k`-th grant sent in the dark: `BOOK` of the next seat from the
/// top, `ANY 1` or `HOLD ANY 1`.
fn dark_grant(k: usize, map: &str, top: &mut HashMap<String, u64>) -> Change {
    match k % 3 {
        0 => {
            let seat = top.entry(map.to_owned()).or_insert(100);
            *seat -= 1;
            Change::Book(*seat + 1)
        }
        1 => Change::Any,
        _ => Change::HoldAny,
    }
}

/// Sends every change of `dark` again with its id, now that a node can
/// commit it: each is acknowledged (done now, or done then and its reply
/// repeated).
fn resolve(booker: &mut Booker, dark: impl IntoIterator<Item = Unresolved>, what: &str) {
    for (map, change, id, late) in dark {
        let outcome = booker.change_with_id(map, change, &id);
        assert_eq!(
            outcome,
            Outcome::Acked,
            "{what}: {change:?} id={id} on {map}: {:?}",
            booker.ledger.failures
        );
        // An answer that came late on the first connection is the one
        // the id repeats.
        if let Some(late) = late.filter(|l| l.starts_with("OK")) {
            let again = &booker.ledger.acked.last().expect("acknowledged").reply;
            assert_eq!(
                again, &late,
                "{what}: {change:?} id={id} on {map}: the retry's reply, not the late one"
            );
        }
    }
}

/// Changes on `maps` that must all be acknowledged: books seats from
/// `top` down, and lets the others (`ANY`, `HOLD ANY`, `CONFIRM`,
/// `CANCEL`) take seats from the bottom.
fn all_acknowledged(
    booker: &mut Booker,
    maps: &[&str],
    top: &mut HashMap<String, u64>,
    count: usize,
    what: &str,
) {
    for i in 0..count {
        let map = maps[i % maps.len()];
        let change = match i % 5 {
            0 => {
                let seat = top.entry(map.to_owned()).or_insert(100);
                *seat -= 1;
                Change::Book(*seat + 1)
            }
            1 => Change::Any,
            2 => Change::HoldAny,
            3 => booker.pick(true).map_or(Change::HoldAny, Change::Confirm),
            _ => booker.pick(false).map_or(Change::Any, Change::Cancel),
        };
        let outcome = booker.change(map, change);
        assert_eq!(
            outcome,
            Outcome::Acked,
            "{what}: {change:?} on {map}: {:?}",
            booker.ledger.failures
        );
    }
}

const FAILOVER_MAPS: [&str; 6] = ["F1=200", "F2=200", "F3=200", "F4=200", "F5=200", "F6=200"];

const FAILOVER_CLIENTS: usize = 6;

const KILL_ROUNDS: usize = 3;

/// Changes per client at most (the clock bounds them well before).
const MAX_CHANGES: usize = 100_000;

/// One client of the failover test: random changes on random maps
/// through random nodes until told to stop.
fn busy_client(
    mut booker: Booker,
    stop: &AtomicBool,
    acked: &AtomicU64,
    maps: &[(&str, u64)],
) -> Ledger {
    let deadline = Instant::now() + 5 * PATIENCE;
    for _ in 0..MAX_CHANGES {
        // Relaxed: the flag only tells the client to stop soon; the
        // ledger goes back through `join`.
        if stop.load(Ordering::Relaxed) || Instant::now() >= deadline {
            break;
        }
        let (map, total) = maps[booker.rng.usize(..maps.len())];
        let roll = booker.rng.u32(0..100);
        let change = match roll {
            0..25 => Change::Book(booker.rng.u64(1..=total)),
            25..45 => Change::Any,
            45..55 => Change::HoldAny,
            55..65 => booker.pick(true).map_or(Change::Any, Change::Confirm),
            _ => booker
                .pick(false)
                .map_or(Change::Book(booker.rng.u64(1..=total)), Change::Cancel),
        };
        if booker.change(map, change) == Outcome::Acked {
            // Relaxed: a progress count the main thread only watches.
            acked.fetch_add(1, Ordering::Relaxed);
        }
    }
    booker.finish()
}

/// Three nodes, six busy clients, the owner of a busy map `kill -9`ed and
/// restarted three times: nothing acknowledged is lost, nothing granted
/// twice, nothing granted that nobody was told about, and every id
/// repeats its reply.
#[test]
fn acknowledged_changes_survive_kill_9_of_their_owner_under_load() {
    let Some(etcd) = EtcdCluster::start("seatnet failover: kill -9 under load", 3) else {
        return;
    };
    let endpoints = etcd.endpoints().join(",");
    let names = ["n1", "n2", "n3"];
    let mut nodes: Vec<ServerProcess> = names
        .iter()
        .map(|name| start_binary_node_over(&endpoints, name, &FAILOVER_MAPS))
        .collect();
    let addrs = |nodes: &[ServerProcess]| nodes.iter().map(|n| n.addr).collect::<Vec<_>>();
    let seeds = Seeds::new(addrs(&nodes));
    let maps: Vec<(&str, u64)> = FAILOVER_MAPS
        .iter()
        .map(|m| {
            let (name, n) = m.split_once('=').unwrap();
            (name, n.parse().unwrap())
        })
        .collect();
    for (map, _) in &maps {
        owner_among(&addrs(&nodes), map);
    }
    let seed = seed();
    let granted = Granted::default();
    let stop = AtomicBool::new(false);
    let acked = AtomicU64::new(0);
    let ledger = thread::scope(|s| {
        let clients: Vec<_> = (0..FAILOVER_CLIENTS)
            .map(|c| {
                let booker = Booker::new(&format!("c{c}"), &seeds, &granted, seed + c as u64);
                let (stop, acked, maps) = (&stop, &acked, &maps);
                s.spawn(move || busy_client(booker, stop, acked, maps))
            })
            .collect();
        // Relaxed (every load of `acked` here): a progress count.
        eventually("the clients' first acknowledgments", || {
            acked.load(Ordering::Relaxed) >= 20
        });
        for round in 0..KILL_ROUNDS {
            let (map, _) = maps[(2 * round) % maps.len()];
            let i = owner_among(&addrs(&nodes), map);
            let before = acked.load(Ordering::Relaxed);
            eventually("changes acknowledged before the kill", || {
                acked.load(Ordering::Relaxed) >= before + 20
            });
            eprintln!(
                "round {round}: kill -9 {} ({}), owner of {map}, after {} acknowledged changes",
                names[i],
                nodes[i].addr,
                acked.load(Ordering::Relaxed)
            );
            let _ = nodes[i].child.kill();
            let _ = nodes[i].child.wait();
            seeds.set(
                addrs(&nodes)
                    .into_iter()
                    .enumerate()
                    .filter(|&(j, _)| j != i)
                    .map(|(_, a)| a)
                    .collect(),
            );
            // Clients meet the dead node for a moment.
            thread::sleep(Duration::from_millis(500));
            nodes[i] = start_binary_node_over(&endpoints, names[i], &FAILOVER_MAPS);
            seeds.set(addrs(&nodes));
            // Served again: a read of the map is answered by its owner.
            let mut router = Router::new(&seeds, seed ^ round as u64);
            match router.ask(map, "AVAIL") {
                Answer::Reply { line, .. } => {
                    assert!(line.starts_with("OK free="), "AVAIL on {map}: {line}");
                }
                Answer::GaveUp(last) => panic!("{map} not served again after the kill: {last}"),
            }
            let after = acked.load(Ordering::Relaxed);
            eventually(&format!("changes acknowledged after round {round}"), || {
                acked.load(Ordering::Relaxed) >= after + 20
            });
        }
        // Relaxed: see `busy_client`.
        stop.store(true, Ordering::Relaxed);
        let mut ledger = Ledger::default();
        for client in clients {
            ledger.merge(client.join().expect("a client thread"));
        }
        ledger
    });
    let mut router = Router::new(&seeds, seed ^ 0xfeed);
    let mut failures = ledger.failures.clone();
    failures.extend(verify(&mut router, &ledger, &maps));
    summary("kill -9 under load", &ledger.tally, &failures);
    let live = ledger.bookings.iter().filter(|b| b.live()).count();
    eprintln!(
        "{} bookings and holds acknowledged, {live} live at the end; {} ids sent again",
        ledger.bookings.len(),
        ledger.acked.len().min(RESEND_MAX),
    );
    // Each node counts its records and etcd transactions since its start.
    let journal: Vec<(String, Option<(u64, u64)>)> = nodes
        .iter()
        .map(|node| {
            let stats = Conn::open(node.addr, IO_TIMEOUT)
                .and_then(|mut c| c.ask("STATS"))
                .unwrap_or_else(|e| format!("STATS failed: {e}"));
            let count = |key: &str| -> Option<u64> {
                stats
                    .split(' ')
                    .find_map(|p| p.strip_prefix(key)?.strip_prefix('='))?
                    .parse()
                    .ok()
            };
            let counts = count("journal_records").zip(count("journal_batches"));
            eprintln!("{}: {stats}", node.addr);
            (stats, counts)
        })
        .collect();
    assert_no_failures("kill -9 under load", &failures);
    assert_eq!(ledger.tally.gave_up + ledger.tally.unexpected, 0);
    assert!(ledger.tally.acked > 0);
    let mut records = 0;
    for (stats, counts) in &journal {
        let Some((r, b)) = *counts else {
            panic!("no journal_records= and journal_batches= in {stats}");
        };
        assert!(b <= r, "more etcd transactions than records: {stats}");
        records += r;
    }
    assert!(records > 0, "no node journaled a record: {journal:?}");
    drop(etcd);
}

/// With one etcd member of three killed, changes go on; with two, none
/// is acknowledged (each is refused, or its connection closed, within a
/// bound); with them back, changes go on and nothing acknowledged is
/// lost.
#[test]
fn etcd_members_killed_then_restarted_lose_nothing_acknowledged() {
    let Some(mut etcd) = EtcdCluster::start("seatnet failover: etcd members killed", 3) else {
        return;
    };
    let endpoints = etcd.endpoints().join(",");
    let specs = ["E1=100", "E2=100"];
    let names = ["E1", "E2"];
    let n1 = start_binary_node_over(&endpoints, "n1", &specs);
    let n2 = start_binary_node_over(&endpoints, "n2", &specs);
    let nodes = [n1.addr, n2.addr];
    let seeds = Seeds::new(nodes.to_vec());
    let granted = Granted::default();
    let mut booker = Booker::new("b", &seeds, &granted, seed());
    let mut top = HashMap::new();
    all_acknowledged(&mut booker, &names, &mut top, 15, "every member up");

    etcd.kill(0);
    all_acknowledged(
        &mut booker,
        &names,
        &mut top,
        15,
        "one member of three killed",
    );

    // Changes sent to each map's owner once etcd has no quorum, on
    // connections that selected the map while it was served: three at
    // once (the node may still count itself live, and apply them), then
    // one after its lease's deadline.
    let mut dark = Vec::new();
    let mut late = Vec::new();
    for map in names {
        let (_, mut conns) = selected(&nodes, map, 4);
        late.push(Dark {
            map,
            change: dark_grant(0, map, &mut top),
            id: format!("late-{map}"),
            conn: conns.pop().expect("four connections"),
            hung: false,
        });
        for (k, conn) in conns.into_iter().enumerate() {
            dark.push(Dark {
                map,
                change: dark_grant(k, map, &mut top),
                id: format!("dark-{map}-{k}"),
                conn,
                hung: false,
            });
        }
    }
    etcd.kill(1);
    let mut hangs = Vec::new();
    let mut answers = refused_in_the_dark(&mut dark, "two members of three killed", &mut hangs);
    thread::sleep(Duration::from_secs(4));
    answers.extend(refused_in_the_dark(
        &mut late,
        "two members of three killed, later",
        &mut hangs,
    ));
    assert!(
        answers
            .iter()
            .any(|a| a.starts_with("ERR no-owner: ")
                || (a.starts_with("ERR ") && a.contains("etcd"))),
        "no change was refused for want of etcd: {answers:?}"
    );

    etcd.restart(0);
    etcd.restart(1);
    assert!(etcd.wait_ready(PATIENCE), "members back:\n{}", etcd.logs());
    dark.extend(late);
    resolve(
        &mut booker,
        unresolved(dark, Duration::from_secs(20)),
        "after the members came back",
    );
    all_acknowledged(&mut booker, &names, &mut top, 15, "members back");
    let ledger = booker.finish();
    let mut router = Router::new(&seeds, 7);
    let mut failures = hangs;
    failures.extend(ledger.failures.iter().cloned());
    failures.extend(verify(&mut router, &ledger, &[("E1", 100), ("E2", 100)]));
    summary("etcd members killed", &ledger.tally, &failures);
    assert_no_failures("etcd members killed", &failures);
}

/// A node cut off from etcd (proxies in front of every member, cut)
/// stops acknowledging; the other node takes its map with every change
/// it acknowledged before the cut; once the cut heals, the old owner
/// sends clients to the new one.
///
/// The names are chosen so that every map ranks `taker` first
/// (`seatcluster::rank`): `cut`, started alone, takes every map, and may
/// hand back those beyond its share to `taker`; after the takeover
/// `taker` has no reason to hand any back, so what `cut` answers after
/// the heal is about a map that stays `taker`'s.
#[test]
fn a_node_cut_off_from_etcd_stops_acknowledging_and_its_map_moves_whole() {
    let names = ["P2", "P4"];
    for map in names.iter().chain(&["default"]) {
        assert_eq!(
            seatcluster::rank(map, &["cut", "taker"])[0],
            "taker",
            "{map}"
        );
    }
    let Some(etcd) = EtcdCluster::start("seatnet failover: partition", 3) else {
        return;
    };
    let proxies: Vec<Proxy> = etcd
        .endpoints()
        .iter()
        .map(|e| Proxy::start(e.parse().expect("a member address")).expect("a proxy"))
        .collect();
    let through: Vec<String> = proxies.iter().map(|p| p.addr().to_string()).collect();
    let specs = ["P2=100", "P4=100"];
    // Alone, `cut` takes every map; then `taker` joins.
    let cut = start_binary_node_over(&through.join(","), "cut", &specs);
    for map in names {
        eventually(&format!("cut serving {map}"), || {
            owner_at(cut.addr, map) == Some(cut.addr)
        });
    }
    let taker = start_binary_node_over(&etcd.endpoints().join(","), "taker", &specs);
    let (a1, a2) = (cut.addr, taker.addr);
    eventually("both nodes listed", || {
        Conn::open(a1, IO_TIMEOUT)
            .and_then(|mut c| c.ask("NODES"))
            .is_ok_and(|r| r.starts_with("OK nodes=2 "))
    });
    // A node over its share hands maps back: wait a little for that (not
    // asserted: the partition means the same either way).
    let settle = Instant::now() + Duration::from_secs(5);
    while Instant::now() < settle
        && !names
            .iter()
            .chain(&["default"])
            .any(|map| owner_at(a2, map) == Some(a2))
    {
        thread::sleep(PAUSE);
    }
    let seeds = Seeds::new(vec![a1, a2]);
    let granted = Granted::default();
    let mut booker = Booker::new("p", &seeds, &granted, seed());
    let mut top = HashMap::new();
    all_acknowledged(&mut booker, &names, &mut top, 30, "before the cut");

    // A map `cut` serves, and connections to `cut` with it selected.
    let mut chosen = None;
    eventually("a map cut serves, with connections to it", || {
        chosen = names.iter().find_map(|&map| {
            let conns: Result<Vec<Conn>, String> =
                (0..5).map(|_| Conn::using(a1, map, DARK_TIMEOUT)).collect();
            conns.ok().map(|conns| (map, conns))
        });
        chosen.is_some()
    });
    let (map, mut conns) = chosen.expect("chosen above");
    eprintln!("cutting cut ({a1}) off etcd; it serves {map}; taker is {a2}");
    let spare = conns.pop().expect("five connections");
    let mut late = vec![Dark {
        map,
        change: dark_grant(0, map, &mut top),
        id: "late-0".into(),
        conn: conns.pop().expect("five connections"),
        hung: false,
    }];
    let mut dark: Vec<Dark> = conns
        .into_iter()
        .enumerate()
        .map(|(k, conn)| Dark {
            map,
            change: dark_grant(k, map, &mut top),
            id: format!("cut-{k}"),
            conn,
            hung: false,
        })
        .collect();
    for proxy in &proxies {
        proxy.cut();
    }
    booker.forbidden = Some(a1);
    let mut hangs = Vec::new();
    refused_in_the_dark(&mut dark, "a node cut off from etcd", &mut hangs);
    thread::sleep(Duration::from_secs(4));
    refused_in_the_dark(&mut late, "a node cut off from etcd, later", &mut hangs);
    dark.extend(late);
    // `taker` takes the map (a read there is answered once it serves
    // it), with everything acknowledged before the cut.
    let mut at_taker = Router::new(&Seeds::new(vec![a2]), 11);
    match at_taker.ask(map, "AVAIL") {
        Answer::Reply { line, from, .. } => {
            assert!(line.starts_with("OK free="), "AVAIL at {from}: {line}");
            assert_eq!(from, a2, "AVAIL of {map} answered by {from}");
        }
        Answer::GaveUp(last) => panic!("{map} not served by taker: {last}"),
    }
    for b in booker.ledger.bookings.iter().filter(|b| b.map == map) {
        match at_taker.ask(map, &format!("SHOW {}", b.reference)) {
            Answer::Reply { line, from, .. } => {
                assert_eq!(from, a2, "SHOW answered by {from}");
                assert_eq!(
                    line,
                    expected_show(b),
                    "{b:?} at the new owner; in etcd: {}",
                    in_etcd(&etcd, map, &b.reference)
                );
            }
            Answer::GaveUp(last) => panic!("SHOW {} at the new owner: {last}", b.reference),
        }
    }
    // Changes go on there, never acknowledged by `cut`.
    all_acknowledged(&mut booker, &[map], &mut top, 10, "taker taking over");

    for proxy in &proxies {
        proxy.heal();
    }
    let mut unresolved = unresolved(dark, Duration::from_secs(20));
    // `cut` learns the new owner, and acknowledges nothing meanwhile.
    let moved = format!("ERR moved {a2}");
    let mut spare = Some(spare);
    let mut healed = 0;
    eventually("cut sending clients of the map to taker", || {
        let reply = match spare.as_mut() {
            Some(conn) => {
                healed += 1;
                let change = dark_grant(healed, map, &mut top);
                let id = format!("healed-{healed}");
                let request = grant_request(change, &id);
                unresolved.push((map, change, id, None));
                match conn.ask(&request) {
                    Ok(reply) => reply,
                    Err(_) => {
                        spare = None;
                        return false;
                    }
                }
            }
            None => {
                match Conn::open(a1, IO_TIMEOUT).and_then(|mut c| c.ask(&format!("USE {map}"))) {
                    Ok(reply) => reply,
                    Err(_) => return false,
                }
            }
        };
        assert!(
            reply == moved || reply.starts_with("ERR no-owner: "),
            "cut, the old owner, answered {reply}"
        );
        reply == moved
    });
    booker.forbidden = None;
    // The changes `cut` did not acknowledge, sent again with their ids to
    // whoever owns the map.
    resolve(&mut booker, unresolved, "after the heal");
    let ledger = booker.finish();
    let mut router = Router::new(&seeds, 13);
    let mut failures = hangs;
    failures.extend(ledger.failures.iter().cloned());
    failures.extend(verify(&mut router, &ledger, &[("P2", 100), ("P4", 100)]));
    summary("partition", &ledger.tally, &failures);
    assert_no_failures("partition", &failures);
    drop(proxies);
}

/// What etcd holds of `map` (for a failure message): its owner key, and
/// each log entry with its revision, marked where it holds `reference`.
fn in_etcd(etcd: &EtcdCluster, map: &str, reference: &str) -> String {
    use seatcluster::Range;
    let client = etcd.client();
    let wanted = u128::from_str_radix(reference, 16).unwrap_or_default();
    let holds = |value: &[u8]| {
        [wanted.to_le_bytes(), wanted.to_be_bytes()]
            .iter()
            .any(|r| value.windows(16).any(|w| w == r))
    };
    let mut out = Vec::new();
    for prefix in [
        format!("/seatnet/default/owner/{map}"),
        format!("/seatnet/default/log/{map}/"),
    ] {
        match client.range(&Range::prefix(prefix.clone())) {
            Ok(r) => {
                for kv in r.kvs {
                    out.push(format!(
                        "{} (create {}, mod {}, {} bytes{})",
                        String::from_utf8_lossy(&kv.key),
                        kv.create_revision,
                        kv.mod_revision,
                        kv.value.len(),
                        if holds(&kv.value) {
                            ", holds the reference"
                        } else {
                            ""
                        }
                    ));
                }
            }
            Err(e) => out.push(format!("{prefix}: {e}")),
        }
    }
    out.join("; ")
}

/// A node keeps its changes in etcd, so a local data directory would be
/// a second truth: the combination is refused, clearly, before joining.
/// Needs no etcd.
#[test]
fn data_dir_with_etcd_is_refused() {
    let dir = std::env::temp_dir().join(format!("seatnet-failover-{}", std::process::id()));
    let out = Command::new(env!("CARGO_BIN_EXE_seatnet-server"))
        .args(["--host", "127.0.0.1", "--port", "0"])
        .args(["--etcd", "127.0.0.1:9", "--node", "a"])
        .args(["--advertise", "127.0.0.1:0", "--data-dir"])
        .arg(&dir)
        .output()
        .expect("run seatnet-server");
    let _ = std::fs::remove_dir_all(&dir);
    let err = stderr(&out);
    assert!(!out.status.success(), "started: {err}");
    assert!(
        err.contains("--data-dir") && err.contains("--etcd"),
        "the error names both flags: {err}"
    );
    assert!(
        !err.contains("etcd unavailable"),
        "refused before trying to join: {err}"
    );
}

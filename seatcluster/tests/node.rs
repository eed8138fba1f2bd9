//! The node library against real etcd members on loopback (started and
//! killed by each test; every test skips loudly without etcd):
//!
//! - three nodes sharing maps: each map served by exactly one, the others
//!   pointing at it;
//! - a node dropped without revoking (what `kill -9` leaves): the other
//!   takes its maps, loads snapshot and log, and sees every committed
//!   record;
//! - a node cut off from etcd (a proxy the test cuts, as a freeze would)
//!   past its TTL: once another node took its map, its late batch is
//!   fenced, it drops the map, and it rejoins pointing at the new owner;
//! - a batch across several maps commits in one transaction, and a map
//!   whose fence failed is left out while the others commit;
//! - hand-back: a node holding more than its share gives maps back to the
//!   node that ranks first for them.
//!
//! No timing assertions: every wait is bounded and only decides how long
//! to look for an outcome.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use seatcluster::testing::{EtcdCluster, Proxy};
use seatcluster::{
    Cluster, Committer, Fence, LoadedMap, Lost, MapEvents, MapOwner, MapRecords, Node, NodeConfig,
    Outcome, Range, Record, rank,
};

/// How long any single outcome is waited for.
const PATIENCE: Duration = Duration::from_secs(40);

fn eventually(what: &str, mut check: impl FnMut() -> bool) {
    let deadline = Instant::now() + PATIENCE;
    while !check() {
        assert!(Instant::now() < deadline, "gave up waiting: {what}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// A stand-in for the server: the maps it serves, rebuilt from what the
/// node loaded, and every event.
#[derive(Default)]
struct Server {
    serving: Mutex<HashMap<String, (Fence, LoadedMap)>>,
    lost: Mutex<Vec<(String, Fence, Lost)>>,
}

impl MapEvents for Server {
    fn gained(&self, map: &str, fence: Fence, state: LoadedMap) -> Result<(), String> {
        let old = self
            .serving
            .lock()
            .unwrap()
            .insert(map.to_string(), (fence, state));
        assert!(old.is_none(), "{map} gained twice without a loss");
        Ok(())
    }

    fn lost(&self, map: &str, fence: Fence, why: Lost) {
        let held = self.serving.lock().unwrap().remove(map);
        assert_eq!(held.map(|(f, _)| f), Some(fence), "{map} lost but not held");
        self.lost
            .lock()
            .unwrap()
            .push((map.to_string(), fence, why));
    }
}

impl Server {
    fn loaded(&self, map: &str) -> Option<LoadedMap> {
        self.serving
            .lock()
            .unwrap()
            .get(map)
            .map(|(_, l)| l.clone())
    }

    fn losses(&self, map: &str) -> Vec<Lost> {
        let lost = self.lost.lock().unwrap();
        lost.iter()
            .filter(|(m, _, _)| m == map)
            .map(|(_, _, why)| why.clone())
            .collect()
    }
}

fn maps(count: usize) -> Vec<String> {
    (0..count).map(|i| format!("map{i}")).collect()
}

/// Short timings for tests: TTL 3 s, renewed and polled often.
fn config(endpoints: &[String], root: &str, name: &str, maps: &[String]) -> NodeConfig {
    let advertise = format!("127.0.0.1:{}", 7000 + name.len());
    let mut c = NodeConfig::new(endpoints, name, &advertise, maps);
    c.root = root.to_string();
    c.lease_ttl = Duration::from_secs(3);
    c.keep_alive_every = Duration::from_millis(500);
    c.poll_every = Duration::from_millis(200);
    c.margin = Duration::from_millis(500);
    c.etcd_timeout = Duration::from_secs(1);
    c
}

fn start(config: NodeConfig) -> (Node, Arc<Server>) {
    let server = Arc::new(Server::default());
    let node = Node::start(config, Arc::clone(&server) as Arc<dyn MapEvents>).expect("node starts");
    (node, server)
}

fn mine(node: &Node, map: &str) -> Option<Fence> {
    match node.owner_of(map) {
        MapOwner::Mine(fence) => Some(fence),
        _ => None,
    }
}

fn records(seqs: std::ops::RangeInclusive<u64>, tag: &str) -> Vec<Record> {
    seqs.map(|seq| Record {
        seq,
        bytes: format!("{tag}{seq}").into_bytes(),
    })
    .collect()
}

/// Commits, retrying the identical batch while etcd's answer is unknown
/// or it is unavailable (the design's rule), bounded.
fn commit(committer: &Committer, batch: &[MapRecords]) -> Vec<Outcome> {
    let deadline = Instant::now() + PATIENCE;
    loop {
        match committer.commit(batch) {
            Ok(outcomes) => return outcomes,
            Err(e) if e.is_transient() && Instant::now() < deadline => {
                std::thread::sleep(Duration::from_millis(200));
            }
            Err(e) => panic!("commit failed: {e}"),
        }
    }
}

#[test]
fn three_nodes_serve_every_map_exactly_once_and_point_at_each_other() {
    let Some(etcd) = EtcdCluster::start("node-spread", 1) else {
        return;
    };
    let maps = maps(12);
    let nodes: Vec<(Node, Arc<Server>)> = ["a", "bb", "ccc"]
        .iter()
        .map(|n| start(config(&etcd.endpoints(), "/spread/", n, &maps)))
        .collect();
    eventually("every map served by one node, known to the others", || {
        maps.iter().all(|m| {
            let owners: Vec<&Node> = nodes
                .iter()
                .map(|(n, _)| n)
                .filter(|n| mine(n, m).is_some())
                .collect();
            owners.len() == 1
                && nodes.iter().all(|(n, _)| {
                    n.name() == owners[0].name()
                        || n.owner_of(m) == MapOwner::Other(owners[0].advertise().into())
                })
        })
    });
    let cluster = Cluster::new(etcd.client(), "/spread/");
    for m in &maps {
        let (node, server) = nodes.iter().find(|(n, _)| mine(n, m).is_some()).unwrap();
        let fence = mine(node, m).unwrap();
        let key = cluster.owner(m).unwrap().expect("an owner key");
        assert_eq!((key.mod_revision, key.lease), (fence.revision, fence.lease));
        // Served by exactly the owner's server, from an empty state.
        assert_eq!(server.loaded(m).unwrap().last_seq(), 0);
        for (other, server) in &nodes {
            if other.name() != node.name() {
                assert!(server.loaded(m).is_none(), "{m} served twice");
            }
        }
    }
    for (node, _) in &nodes {
        assert_eq!(node.nodes().len(), 3);
        assert!(node.is_live());
    }
    for (node, _) in nodes {
        node.shutdown().unwrap();
    }
    assert!(cluster.owners(100).unwrap().is_empty(), "shutdown revokes");
}

#[test]
fn a_node_dropped_without_revoking_has_its_maps_taken_with_every_committed_record() {
    let Some(etcd) = EtcdCluster::start("node-kill", 1) else {
        return;
    };
    let maps = maps(4);
    // `a` alone first, so it owns every map.
    let (a, a_server) = start(config(&etcd.endpoints(), "/kill/", "a", &maps));
    eventually("a serves every map", || {
        maps.iter().all(|m| mine(&a, m).is_some())
    });
    let (b, b_server) = start(config(&etcd.endpoints(), "/kill/", "bb", &maps));
    eventually("b sees a's maps", || {
        maps.iter()
            .all(|m| b.owner_of(m) == MapOwner::Other(a.advertise().into()))
    });

    // Batches across every map, a snapshot of one, more batches.
    let committer = a.committer();
    let fences: Vec<Fence> = maps.iter().map(|m| mine(&a, m).unwrap()).collect();
    let batch = |from: u64, to: u64| -> Vec<MapRecords> {
        maps.iter()
            .zip(&fences)
            .map(|(m, f)| MapRecords {
                map: m.clone(),
                fence: *f,
                records: records(from..=to, m),
            })
            .collect()
    };
    for (from, to) in [(1, 3), (4, 4), (5, 9)] {
        let outcomes = commit(&committer, &batch(from, to));
        assert!(
            outcomes.iter().all(|o| *o == Outcome::Committed),
            "{outcomes:?}"
        );
    }
    assert_eq!(
        committer
            .put_snapshot(&maps[0], fences[0], 4, b"state through 4")
            .unwrap(),
        Outcome::Committed
    );
    let outcomes = commit(&committer, &batch(10, 12));
    assert!(outcomes.iter().all(|o| *o == Outcome::Committed));

    // kill -9: the threads stop, the lease is not revoked.
    drop(committer);
    drop(a);
    eventually("b takes every map", || {
        maps.iter().all(|m| mine(&b, m).is_some())
    });
    for m in &maps {
        let loaded = b_server.loaded(m).expect("b rebuilt it");
        let after = if m == &maps[0] {
            let snap = loaded.snapshot.as_ref().expect("the snapshot");
            assert_eq!(
                (snap.seq, snap.bytes.as_slice()),
                (4, &b"state through 4"[..])
            );
            5
        } else {
            assert!(loaded.snapshot.is_none());
            1
        };
        assert_eq!(loaded.records, records(after..=12, m), "{m}");
        assert_eq!(loaded.last_seq(), 12);
        assert_eq!(b.load_map(m).unwrap(), loaded);
        // a's server was never told: it was "killed" with its memory.
        assert!(a_server.losses(m).is_empty());
    }
    // b continues each map's sequence.
    let next: Vec<MapRecords> = maps
        .iter()
        .map(|m| MapRecords {
            map: m.clone(),
            fence: mine(&b, m).unwrap(),
            records: records(13..=13, m),
        })
        .collect();
    let outcomes = commit(&b.committer(), &next);
    assert!(outcomes.iter().all(|o| *o == Outcome::Committed));
    assert_eq!(
        b.load_map(&maps[1]).unwrap().records,
        records(1..=13, &maps[1])
    );
}

#[test]
fn a_node_cut_off_past_its_ttl_is_fenced_once_another_took_its_map() {
    let Some(etcd) = EtcdCluster::start("node-freeze", 1) else {
        return;
    };
    let maps = maps(2);
    let proxy = Proxy::start(etcd.endpoints()[0].parse().unwrap()).unwrap();
    let through_proxy = [proxy.addr().to_string()];
    let (a, a_server) = start(config(&through_proxy, "/freeze/", "a", &maps));
    eventually("a serves every map", || {
        maps.iter().all(|m| mine(&a, m).is_some())
    });
    let (b, _b_server) = start(config(&etcd.endpoints(), "/freeze/", "bb", &maps));
    let m = &maps[0];
    let old = mine(&a, m).unwrap();
    let committer = a.committer();
    let first = [MapRecords {
        map: m.clone(),
        fence: old,
        records: records(1..=1, "a"),
    }];
    assert_eq!(commit(&committer, &first), [Outcome::Committed]);

    // Frozen, as far as etcd can tell: nothing from a gets through.
    proxy.cut();
    eventually("a stops claiming the map", || mine(&a, m).is_none());
    eventually("b takes the map", || mine(&b, m).is_some());
    let b_fence = mine(&b, m).unwrap();
    assert_ne!(b_fence, old);
    assert_eq!(
        b_server_records(&b, m),
        records(1..=1, "a"),
        "b sees a's committed record"
    );
    let from_b = [MapRecords {
        map: m.clone(),
        fence: b_fence,
        records: records(2..=2, "b"),
    }];
    assert_eq!(commit(&b.committer(), &from_b), [Outcome::Committed]);

    // a wakes up with a batch built under its old fence: it never lands.
    proxy.heal();
    let late = [MapRecords {
        map: m.clone(),
        fence: old,
        records: records(2..=2, "late"),
    }];
    assert_eq!(commit(&committer, &late), [Outcome::Fenced]);
    assert!(mine(&a, m).is_none());
    let losses = a_server.losses(m);
    assert_eq!(losses.len(), 1, "{losses:?}");
    assert!(a_server.loaded(m).is_none());
    assert_eq!(
        b.load_map(m).unwrap().records,
        [records(1..=1, "a"), records(2..=2, "b")].concat()
    );
    // a joins again with a new lease and points at b.
    eventually("a rejoins and points at b", || {
        a.owner_of(m) == MapOwner::Other(b.advertise().into()) && a.is_live()
    });
}

fn b_server_records(b: &Node, map: &str) -> Vec<Record> {
    b.load_map(map).unwrap().records
}

#[test]
fn a_batch_across_maps_is_one_transaction_and_a_fenced_map_is_left_out() {
    let Some(etcd) = EtcdCluster::start("node-batch", 1) else {
        return;
    };
    let maps = maps(3);
    let (a, a_server) = start(config(&etcd.endpoints(), "/batch/", "a", &maps));
    eventually("a serves every map", || {
        maps.iter().all(|m| mine(&a, m).is_some())
    });
    let committer = a.committer();
    let batch: Vec<MapRecords> = maps
        .iter()
        .map(|m| MapRecords {
            map: m.clone(),
            fence: mine(&a, m).unwrap(),
            records: records(1..=5, m),
        })
        .collect();
    assert_eq!(commit(&committer, &batch), [Outcome::Committed; 3]);
    // One value per map, all written at one revision: one transaction.
    let log = etcd.client().range(&Range::prefix("/batch/log/")).unwrap();
    assert_eq!(log.kvs.len(), 3);
    assert!(
        log.kvs
            .iter()
            .all(|kv| kv.mod_revision == log.kvs[0].mod_revision)
    );

    // The third map is handed back; a batch still carrying it commits the
    // other two and reports it fenced, writing nothing of it.
    assert!(a.release_map(&maps[2]).unwrap());
    assert_eq!(a_server.losses(&maps[2]), [Lost::Released]);
    let next: Vec<MapRecords> = batch
        .iter()
        .map(|b| MapRecords {
            records: records(6..=6, &b.map),
            ..b.clone()
        })
        .collect();
    assert_eq!(
        commit(&committer, &next),
        [Outcome::Committed, Outcome::Committed, Outcome::Fenced]
    );
    assert_eq!(a_server.losses(&maps[2]).len(), 1, "lost once");
    for m in &maps[..2] {
        assert_eq!(a.load_map(m).unwrap().records, records(1..=6, m));
    }
    assert_eq!(
        a.load_map(&maps[2]).unwrap().records,
        records(1..=5, &maps[2])
    );
    // Bad batches are refused before anything is sent.
    let twice = [batch[0].clone(), batch[0].clone()];
    assert!(committer.commit(&twice).is_err());
    let disorder = [MapRecords {
        records: [records(8..=8, "x"), records(7..=7, "x")].concat(),
        ..batch[0].clone()
    }];
    assert!(committer.commit(&disorder).is_err());
}

#[test]
fn a_node_over_its_share_hands_maps_back_to_the_first_in_rank() {
    let Some(etcd) = EtcdCluster::start("node-handback", 1) else {
        return;
    };
    let maps = maps(6);
    let (a, _) = start(config(&etcd.endpoints(), "/hand/", "a", &maps));
    eventually("a serves every map", || {
        maps.iter().all(|m| mine(&a, m).is_some())
    });
    let (b, _) = start(config(&etcd.endpoints(), "/hand/", "bb", &maps));
    eventually("a sees b", || a.nodes().len() == 2);
    // Never stolen: b takes nothing by itself.
    assert!(maps.iter().all(|m| mine(&b, m).is_none()));
    let b_first = maps
        .iter()
        .filter(|m| rank(m, &["a", "bb"])[0] == "bb")
        .count();
    let expect_a = (maps.len() - b_first).max(maps.len().div_ceil(2));
    for _ in 0..maps.len() {
        // The candidate is computed at each poll: give it two.
        std::thread::sleep(Duration::from_millis(500));
        let Some(m) = a.hand_back_candidate() else {
            break;
        };
        assert_eq!(rank(&m, &["a", "bb"])[0], "bb");
        assert!(a.release_map(&m).unwrap());
        eventually("b takes the map handed back", || mine(&b, &m).is_some());
    }
    let held = maps.iter().filter(|m| mine(&a, m).is_some()).count();
    assert_eq!(held, expect_a);
    assert!(
        maps.iter()
            .all(|m| mine(&a, m).is_some() != mine(&b, m).is_some())
    );
}

#[test]
fn a_node_restarted_after_a_kill_waits_for_its_old_keys_then_loads_its_maps_again() {
    let Some(etcd) = EtcdCluster::start("node-restart", 1) else {
        return;
    };
    let maps = maps(2);
    let (a, _) = start(config(&etcd.endpoints(), "/restart/", "a", &maps));
    eventually("a serves every map", || {
        maps.iter().all(|m| mine(&a, m).is_some())
    });
    let fence = mine(&a, &maps[0]).unwrap();
    let batch = [MapRecords {
        map: maps[0].clone(),
        fence,
        records: records(1..=2, "a"),
    }];
    assert_eq!(commit(&a.committer(), &batch), [Outcome::Committed]);
    drop(a); // kill -9

    let (again, server) = start(config(&etcd.endpoints(), "/restart/", "a", &maps));
    // The old run's keys never read as another node at our own address.
    eventually("the restarted node owns the map again", || {
        let now = again.owner_of(&maps[0]);
        assert!(!matches!(now, MapOwner::Other(_)), "{now:?}");
        matches!(now, MapOwner::Mine(f) if f != fence)
    });
    assert_eq!(
        server.loaded(&maps[0]).unwrap().records,
        records(1..=2, "a")
    );
}

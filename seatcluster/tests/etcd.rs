//! seatcluster against real etcd members on loopback (started and killed
//! by each test; every test skips loudly when etcd is not installed).
//!
//! - leases: grant, keep-alive, expiry and revocation take attached keys;
//! - ownership: of two contenders exactly one takes each map; live nodes
//!   are listed until their lease goes, with their maps;
//! - fencing: a batch after the lease is revoked or expired, or after
//!   another node took the map, fails and writes nothing;
//! - batches over etcd's limits are split, in order, and all land;
//! - snapshots over the request size limit round-trip, trim the log, and
//!   a damaged one is refused;
//! - one member of three killed: everything goes on; two killed: requests
//!   fail with a clear error, then succeed once the members are back;
//! - a lease keeper renews past the TTL and reports a revoked lease;
//! - a node cut off from etcd (a proxy the test cuts) stops counting
//!   itself live while its lease still exists in etcd, and its late batch
//!   is fenced off after another node took the map;
//! - members are killed when a test panics.
//!
//! No timing assertions: every wait is bounded and only decides how long
//! to look for an outcome.

use std::sync::Barrier;
use std::time::{Duration, Instant};

use seatcluster::testing::{EtcdCluster, Proxy};
use seatcluster::{
    Acquire, Client, Cluster, Config, Error, Lease, LeaseKeeper, LogEntry, Op, Ownership, Range,
    Txn,
};

/// How long any single outcome is waited for.
const PATIENCE: Duration = Duration::from_secs(30);

/// Polls `check` every 100 ms until it holds or `PATIENCE` runs out.
fn eventually(what: &str, mut check: impl FnMut() -> bool) {
    let deadline = Instant::now() + PATIENCE;
    while !check() {
        assert!(Instant::now() < deadline, "gave up waiting: {what}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

fn entry(map: &str, last_seq: u64, records: &[u8]) -> LogEntry {
    LogEntry {
        map: map.into(),
        last_seq,
        records: records.to_vec(),
    }
}

fn owned(cluster: &Cluster, map: &str, node: &[u8], lease: &Lease) -> Ownership {
    match cluster.try_acquire(map, node, lease).expect("acquire") {
        Acquire::Owned(o) => o,
        Acquire::Taken(owner) => panic!("{map} already taken: {owner:?}"),
    }
}

fn seqs(cluster: &Cluster, map: &str) -> Vec<u64> {
    let log = cluster.read_log(map, 0, 10_000).expect("read the log");
    log.iter().map(|e| e.last_seq).collect()
}

#[test]
fn leases_keep_alive_then_expire_or_are_revoked_with_their_keys() {
    let Some(etcd) = EtcdCluster::start("leases", 1) else {
        return;
    };
    let client = etcd.client();
    let sent = Instant::now();
    let mut lease = client.grant_lease(Duration::from_secs(2)).unwrap();
    let answered = Instant::now();
    // The deadline counts from the request's sending, before etcd's clock
    // for the lease started: between the two.
    assert!(sent + lease.ttl <= lease.deadline());
    assert!(lease.deadline() <= answered + lease.ttl);
    client.keep_alive(&mut lease).unwrap();
    let key = "/t/leased";
    let put = Txn::new().and_then([Op::put_with_lease(key, "v", lease.id)]);
    assert!(client.txn(&put).unwrap().succeeded);
    assert_eq!(client.get(key).unwrap().unwrap().lease, lease.id);
    assert!(client.lease_time_to_live(lease.id).unwrap().is_some());

    // No more keep-alives: etcd expires the lease and deletes the key.
    eventually("the lease expires", || client.get(key).unwrap().is_none());
    assert_eq!(
        client.keep_alive(&mut lease),
        Err(Error::LeaseExpired { lease: lease.id })
    );
    assert_eq!(client.lease_time_to_live(lease.id).unwrap(), None);

    // Revoking deletes at once; a second revoke finds nothing.
    let other = client.grant_lease(Duration::from_secs(30)).unwrap();
    let put = Txn::new().and_then([Op::put_with_lease(key, "w", other.id)]);
    assert!(client.txn(&put).unwrap().succeeded);
    client.revoke_lease(other.id).unwrap();
    assert_eq!(client.get(key).unwrap(), None);
    assert_eq!(
        client.revoke_lease(other.id),
        Err(Error::LeaseExpired { lease: other.id })
    );
}

#[test]
fn exactly_one_of_two_contenders_owns_each_map() {
    let Some(etcd) = EtcdCluster::start("ownership", 1) else {
        return;
    };
    let maps: Vec<String> = (0..20).map(|i| format!("map{i}")).collect();
    let barrier = Barrier::new(2);
    let results: Vec<(Lease, Vec<Acquire>)> = std::thread::scope(|s| {
        let handles: Vec<_> = [b"node-a".as_slice(), b"node-b".as_slice()]
            .into_iter()
            .map(|node| {
                let (etcd, maps, barrier) = (&etcd, &maps, &barrier);
                s.spawn(move || {
                    let cluster = Cluster::new(etcd.client(), "/own/");
                    let lease = cluster
                        .client()
                        .grant_lease(Duration::from_secs(30))
                        .unwrap();
                    barrier.wait();
                    let got = maps
                        .iter()
                        .map(|m| cluster.try_acquire(m, node, &lease).unwrap())
                        .collect();
                    (lease, got)
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let cluster = Cluster::new(etcd.client(), "/own/");
    for (i, map) in maps.iter().enumerate() {
        let (a, b) = (&results[0].1[i], &results[1].1[i]);
        let (winner, loser_saw, winner_node) = match (a, b) {
            (Acquire::Owned(o), Acquire::Taken(t)) => (o, t, b"node-a"),
            (Acquire::Taken(t), Acquire::Owned(o)) => (o, t, b"node-b"),
            other => panic!("{map}: not exactly one owner: {other:?}"),
        };
        assert_eq!(loser_saw.value, winner_node);
        assert_eq!(loser_saw.lease, winner.lease);
        assert_eq!(loser_saw.mod_revision, winner.mod_revision);
        let now = cluster.owner(map).unwrap().unwrap();
        assert_eq!(
            (now.lease, now.mod_revision),
            (winner.lease, winner.mod_revision)
        );
    }
    let listed = cluster.owners(100).unwrap();
    assert_eq!(listed.len(), maps.len());
    assert!(matches!(cluster.owners(5), Err(Error::Invalid(_))));
    // A holder that lost track of its ownership gets it back from the key.
    // (Either contender may have won every map: take the first map's.)
    let first = &listed[0];
    let lease = results
        .iter()
        .map(|(l, _)| l)
        .find(|l| l.id == first.1.lease)
        .unwrap();
    let back = first.1.as_ours(&first.0, lease).unwrap();
    let other = results
        .iter()
        .map(|(l, _)| l)
        .find(|l| l.id != lease.id)
        .unwrap();
    assert_eq!(first.1.as_ours(&first.0, other), None);
    let mine = first;
    assert!(
        cluster
            .commit_batch(&[back], &[entry(&mine.0, 1, b"r")])
            .is_ok()
    );

    // Live nodes: listed while their leases live; a node whose lease goes
    // leaves the list, and its maps are free.
    cluster
        .register_node("node-a", "127.0.0.1:7001", &results[0].0)
        .unwrap();
    cluster
        .register_node("node-b", "127.0.0.1:7002", &results[1].0)
        .unwrap();
    let live = cluster.nodes(10).unwrap();
    assert_eq!(
        live,
        [
            ("node-a".to_string(), "127.0.0.1:7001".to_string()),
            ("node-b".to_string(), "127.0.0.1:7002".to_string())
        ]
    );
    assert!(matches!(cluster.nodes(1), Err(Error::Invalid(_))));
    assert!(matches!(
        cluster.register_node("a/b", "x:1", &results[0].0),
        Err(Error::Invalid(_))
    ));
    let gone = &results[0].0;
    let held_by_b = listed.iter().filter(|(_, o)| o.lease != gone.id).count();
    cluster.client().revoke_lease(gone.id).unwrap();
    assert_eq!(cluster.nodes(10).unwrap().len(), 1);
    assert_eq!(cluster.owners(100).unwrap().len(), held_by_b);
}

#[test]
fn a_batch_after_ownership_is_lost_fails_and_writes_nothing() {
    let Some(etcd) = EtcdCluster::start("fencing", 1) else {
        return;
    };
    let cluster = Cluster::new(etcd.client(), "/fence/");
    let client = cluster.client();
    let lease_a = client.grant_lease(Duration::from_secs(30)).unwrap();
    let a_m = owned(&cluster, "m", b"a", &lease_a);
    let a_n = owned(&cluster, "n", b"a", &lease_a);
    let both = [a_m.clone(), a_n.clone()];
    let done = cluster
        .commit_batch(&both, &[entry("m", 1, b"m1"), entry("n", 1, b"n1")])
        .unwrap();
    assert_eq!(done.transactions, 1);

    // Revoked: the owner keys go, and no batch of A commits any more.
    client.revoke_lease(lease_a.id).unwrap();
    let err = cluster
        .commit_batch(&both, &[entry("m", 2, b"m2"), entry("n", 2, b"n2")])
        .unwrap_err();
    assert_eq!(
        err,
        Error::OwnershipLost {
            maps: vec!["m".into(), "n".into()],
            committed: 0
        }
    );
    assert_eq!(seqs(&cluster, "m"), [1]);
    assert_eq!(seqs(&cluster, "n"), [1]);

    // B takes m; A's old ownership still fails, for m alone, and nothing
    // of the transaction is written (n's entry neither).
    let lease_a2 = client.grant_lease(Duration::from_secs(30)).unwrap();
    let a2_n = owned(&cluster, "n", b"a", &lease_a2);
    let lease_b = client.grant_lease(Duration::from_secs(30)).unwrap();
    let b_m = owned(&cluster, "m", b"b", &lease_b);
    let err = cluster
        .commit_batch(
            &[a_m.clone(), a2_n.clone()],
            &[entry("m", 2, b"stale"), entry("n", 2, b"n2")],
        )
        .unwrap_err();
    assert_eq!(
        err,
        Error::OwnershipLost {
            maps: vec!["m".into()],
            committed: 0
        }
    );
    assert_eq!(seqs(&cluster, "n"), [1]);
    cluster
        .commit_batch(&[b_m], &[entry("m", 2, b"from b")])
        .unwrap();
    let log = cluster.read_log("m", 0, 10).unwrap();
    assert_eq!(log[1].records, b"from b");

    // Expired (no keep-alive): the same, once etcd has expired it.
    let short = client.grant_lease(Duration::from_secs(2)).unwrap();
    let s_x = owned(&cluster, "x", b"s", &short);
    cluster
        .commit_batch(std::slice::from_ref(&s_x), &[entry("x", 1, b"x1")])
        .unwrap();
    eventually("the short lease expires", || {
        cluster.owner("x").unwrap().is_none()
    });
    let err = cluster
        .commit_batch(&[s_x], &[entry("x", 2, b"x2")])
        .unwrap_err();
    assert!(matches!(err, Error::OwnershipLost { .. }), "{err}");
    assert_eq!(seqs(&cluster, "x"), [1]);
}

#[test]
fn batches_over_the_limits_are_split_in_order_and_all_land() {
    let Some(etcd) = EtcdCluster::start("limits", 1) else {
        return;
    };
    let cluster = Cluster::new(etcd.client(), "/big/");
    let lease = cluster
        .client()
        .grant_lease(Duration::from_secs(30))
        .unwrap();
    let maps = ["a", "b", "c"];
    let own: Vec<Ownership> = maps
        .iter()
        .map(|m| owned(&cluster, m, b"n", &lease))
        .collect();
    // 300 entries: more than 128 operations per transaction.
    let entries: Vec<LogEntry> = (1..=100)
        .flat_map(|seq| maps.map(|m| entry(m, seq, format!("{m}{seq}").as_bytes())))
        .collect();
    let done = cluster.commit_batch(&own, &entries).unwrap();
    assert_eq!(done.transactions, 3);
    for m in maps {
        let log = cluster.read_log(m, 0, 1000).unwrap();
        let expect: Vec<u64> = (1..=100).collect();
        assert_eq!(log.iter().map(|e| e.last_seq).collect::<Vec<_>>(), expect);
        assert_eq!(log[41].records, format!("{m}42").as_bytes());
    }
    // 600 KiB entries: two exceed the 1 MiB budget (and etcd's 1.5 MiB).
    let big: Vec<LogEntry> = (101..=103)
        .map(|seq| entry("a", seq, &vec![1; 600 << 10]))
        .collect();
    let done = cluster.commit_batch(&own, &big).unwrap();
    assert_eq!(done.transactions, 3);
    assert_eq!(cluster.read_log("a", 100, 10).unwrap().len(), 3);
    // A page bound is enforced.
    assert!(matches!(
        cluster.read_log("b", 0, 50),
        Err(Error::Invalid(_))
    ));
    // etcd's own limit, for the record: 129 operations are refused.
    let ops: Vec<Op> = (0..129)
        .map(|i| Op::put(format!("/big/raw/{i}"), "v"))
        .collect();
    let err = cluster.client().txn(&Txn::new().and_then(ops)).unwrap_err();
    assert!(matches!(err, Error::Etcd { code: 3, .. }), "{err}");
    assert!(err.to_string().contains("too many operations"), "{err}");
}

#[test]
fn snapshots_over_the_request_limit_round_trip_and_trim_the_log() {
    let Some(etcd) = EtcdCluster::start("snapshots", 1) else {
        return;
    };
    let cluster = Cluster::new(etcd.client(), "/snap/");
    let lease = cluster
        .client()
        .grant_lease(Duration::from_secs(30))
        .unwrap();
    let own = owned(&cluster, "m", b"n", &lease);
    assert_eq!(cluster.get_snapshot("m").unwrap(), None);
    let entries: Vec<LogEntry> = (1..=10).map(|s| entry("m", s, b"r")).collect();
    cluster
        .commit_batch(std::slice::from_ref(&own), &entries)
        .unwrap();

    // 3.5 MiB, not a multiple of the chunk: 4 chunks.
    let bytes: Vec<u8> = (0..(7u32 << 19))
        .map(|i| (i.wrapping_mul(2654435761) >> 24) as u8)
        .collect();
    let info = cluster.put_snapshot(&own, 6, &bytes).unwrap();
    assert_eq!(info.chunks, 4);
    let back = cluster.get_snapshot("m").unwrap().unwrap();
    assert_eq!(back.seq, 6);
    assert!(back.bytes == bytes, "snapshot bytes differ");
    assert_eq!(
        seqs(&cluster, "m"),
        [7, 8, 9, 10],
        "entries through 6 trimmed"
    );

    // A smaller, newer one replaces it; the old chunks go.
    let info = cluster.put_snapshot(&own, 9, b"small").unwrap();
    assert_eq!(info.chunks, 1);
    let back = cluster.get_snapshot("m").unwrap().unwrap();
    assert_eq!((back.seq, back.bytes.as_slice()), (9, b"small".as_slice()));
    assert_eq!(seqs(&cluster, "m"), [10]);
    let chunks = cluster
        .client()
        .range(&Range::prefix("/snap/snap/m/chunk/"))
        .unwrap();
    assert_eq!(chunks.count, 1);

    // A damaged chunk is refused, never returned.
    let key = String::from_utf8(chunks.kvs[0].key.clone()).unwrap();
    cluster.client().put(key, "smell").unwrap();
    let err = cluster.get_snapshot("m").unwrap_err();
    assert!(matches!(err, Error::Snapshot(_)), "{err}");

    // Not the owner any more: nothing is written.
    cluster.client().revoke_lease(lease.id).unwrap();
    let err = cluster.put_snapshot(&own, 10, b"late").unwrap_err();
    assert!(matches!(err, Error::OwnershipLost { .. }), "{err}");
    assert_eq!(seqs(&cluster, "m"), [10]);
}

/// A put that may hit an unknown outcome is retried until it lands.
fn put_eventually(client: &Client, key: &str, value: &str) {
    eventually("a put succeeds", || client.put(key, value).is_ok());
    assert_eq!(client.get(key).unwrap().unwrap().value, value.as_bytes());
}

#[test]
fn one_member_killed_goes_on_two_killed_fail_clearly_then_recover() {
    let Some(mut etcd) = EtcdCluster::start("members", 3) else {
        return;
    };
    let cluster = Cluster::new(etcd.client(), "/ha/");
    let client = cluster.client();
    let mut lease = client.grant_lease(Duration::from_secs(30)).unwrap();
    let own = owned(&cluster, "m", b"n", &lease);
    cluster
        .commit_batch(std::slice::from_ref(&own), &[entry("m", 1, b"r1")])
        .unwrap();

    // The member the client used first goes: the others serve.
    etcd.kill(0);
    eventually("a batch commits with one member down", || {
        match cluster.commit_batch(std::slice::from_ref(&own), &[entry("m", 2, b"r2")]) {
            Ok(_) => true,
            // Retrying the same batch is safe (docs/cluster.md).
            Err(e) if e.is_transient() => false,
            Err(e) => panic!("{e}"),
        }
    });
    client.keep_alive(&mut lease).unwrap();
    assert_eq!(seqs(&cluster, "m"), [1, 2]);

    // Two of three gone: no quorum. Requests fail, clearly, and say so.
    etcd.kill(1);
    let err = client.put("/ha/k", "v").unwrap_err();
    eprintln!("without quorum, a put: {err}");
    assert!(err.is_transient(), "{err}");
    let err = client.get("/ha/k").unwrap_err();
    eprintln!("without quorum, a read: {err}");
    assert!(matches!(err, Error::Unavailable { .. }), "{err}");
    assert!(err.to_string().starts_with("etcd unavailable: "), "{err}");

    etcd.restart(0);
    etcd.restart(1);
    assert!(etcd.wait_ready(PATIENCE), "members back:\n{}", etcd.logs());
    put_eventually(client, "/ha/k", "v");
    eventually("the batch commits again", || {
        cluster
            .commit_batch(std::slice::from_ref(&own), &[entry("m", 3, b"r3")])
            .is_ok()
    });
    assert_eq!(seqs(&cluster, "m"), [1, 2, 3]);
}

#[test]
fn members_are_killed_when_a_test_panics() {
    let started = std::panic::catch_unwind(|| {
        let etcd = EtcdCluster::start("harness", 1)?;
        etcd.client().put("/p", "v").unwrap();
        let endpoints = etcd.endpoints();
        std::panic::panic_any(endpoints);
    });
    let endpoints = match started {
        Ok(None) => return, // skipped
        Ok(Some(())) => unreachable!(),
        Err(payload) => *payload.downcast::<Vec<String>>().expect("the endpoints"),
    };
    for endpoint in endpoints {
        let err = std::net::TcpStream::connect(&endpoint).unwrap_err();
        assert_eq!(
            err.kind(),
            std::io::ErrorKind::ConnectionRefused,
            "{endpoint}"
        );
    }
}

#[test]
fn a_kept_lease_outlives_its_ttl_and_a_revoked_one_is_reported_lost() {
    let Some(etcd) = EtcdCluster::start("keeper", 1) else {
        return;
    };
    let config = Config::new(&etcd.endpoints());
    let ttl = Duration::from_secs(3);
    let keeper = LeaseKeeper::start(config.clone(), ttl, Duration::from_millis(300)).unwrap();
    let first = keeper.lease();
    // A renewal sent after the first deadline succeeded: the lease outlived
    // its TTL.
    eventually("a renewal past the first TTL", || {
        keeper.lease().deadline() > first.deadline() + ttl
    });
    assert_eq!(keeper.lost(), None);
    assert!(
        etcd.client()
            .lease_time_to_live(first.id)
            .unwrap()
            .is_some()
    );
    // Revoked behind its back: the keeper says so and is never live again.
    etcd.client().revoke_lease(first.id).unwrap();
    eventually("the keeper notices", || keeper.lost().is_some());
    assert_eq!(keeper.lost(), Some(Error::LeaseExpired { lease: first.id }));
    assert!(!keeper.is_live(Duration::ZERO));

    // A clean shutdown revokes, taking the attached keys.
    let keeper = LeaseKeeper::start(config, ttl, Duration::from_millis(300)).unwrap();
    let id = keeper.lease().id;
    let put = Txn::new().and_then([Op::put_with_lease("/keeper/k", "v", id)]);
    assert!(etcd.client().txn(&put).unwrap().succeeded);
    keeper.revoke().unwrap();
    assert_eq!(etcd.client().get("/keeper/k").unwrap(), None);
    assert!(matches!(
        LeaseKeeper::start(Config::new(&etcd.endpoints()), ttl, ttl),
        Err(Error::Invalid(_))
    ));
}

/// The partition rule: a node cut off from etcd stops counting itself
/// live (with a margin) while its owner key still exists in etcd, that is
/// before any other node could take its maps.
///
/// Not a timing assertion of the code: the local deadline is never later
/// than etcd's expiry by construction; the margin only has to cover the
/// moment between this test seeing "not live" and reading the key (3 s).
#[test]
fn a_node_cut_off_from_etcd_stops_before_its_lease_can_expire_elsewhere() {
    let Some(etcd) = EtcdCluster::start("partition", 1) else {
        return;
    };
    let member = etcd.endpoints()[0].parse().unwrap();
    let proxy = Proxy::start(member).unwrap();
    let node = Config::new(&[proxy.addr().to_string()]);
    let margin = Duration::from_secs(3);
    let keeper =
        LeaseKeeper::start(node.clone(), Duration::from_secs(6), Duration::from_secs(1)).unwrap();
    let cluster = Cluster::new(Client::with_config(node).unwrap(), "/part/");
    let own = owned(&cluster, "m", b"n", &keeper.lease());
    cluster
        .commit_batch(std::slice::from_ref(&own), &[entry("m", 1, b"r1")])
        .unwrap();
    assert!(keeper.is_live(margin));

    proxy.cut();
    let outside = Cluster::new(etcd.client(), "/part/");
    eventually("the node stops counting itself live", || {
        !keeper.is_live(margin)
    });
    let holder = outside
        .owner("m")
        .unwrap()
        .expect("the lease cannot have expired in etcd yet");
    assert_eq!(holder.lease, own.lease);
    eventually("the keeper says why", || {
        keeper.last_error().is_some_and(|e| e.is_transient())
    });
    // The node's own requests fail meanwhile, clearly.
    let err = cluster
        .commit_batch(std::slice::from_ref(&own), &[entry("m", 2, b"r2")])
        .unwrap_err();
    assert!(err.is_transient(), "{err}");

    // etcd expires the lease; another node takes the map.
    eventually("the lease expires in etcd", || {
        outside.owner("m").unwrap().is_none()
    });
    let other = outside
        .client()
        .grant_lease(Duration::from_secs(30))
        .unwrap();
    owned(&outside, "m", b"other", &other);

    // Healed: the keeper learns the lease is gone; the node's late batch
    // is fenced off and the log holds only what was committed.
    proxy.heal();
    eventually("the keeper learns the lease is gone", || {
        keeper.lost().is_some()
    });
    assert!(!keeper.is_live(Duration::ZERO));
    let err = cluster.commit_batch(std::slice::from_ref(&own), &[entry("m", 2, b"late")]);
    assert!(
        matches!(
            err,
            Err(Error::OwnershipLost { .. }) | Err(Error::Indeterminate { .. })
        ),
        "{err:?}"
    );
    eventually("the fence refuses the late batch", || {
        matches!(
            cluster.commit_batch(std::slice::from_ref(&own), &[entry("m", 2, b"late")]),
            Err(Error::OwnershipLost { .. })
        )
    });
    assert_eq!(seqs(&outside, "m"), [1]);
}

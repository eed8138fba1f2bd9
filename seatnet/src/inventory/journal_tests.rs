//! The journaled inventory over `seatlog::testing::FaultyStorage`: restart,
//! power loss, a full disk, a failed sync, request ids.

use std::collections::HashSet;
use std::sync::Arc;

use seatlog::testing::FaultyStorage;

use crate::durable::{Commit, DataOptions};
use crate::{Counters, Inventory, Scratch};

/// Small segments and records, so rotation and a full disk come quickly.
fn options() -> DataOptions {
    DataOptions {
        segment_size: 8 << 10,
        max_record_size: 2 << 10,
        snapshot_every: 0,
        ..DataOptions::default()
    }
}

fn open(storage: &FaultyStorage, seats: u64) -> Inventory {
    Inventory::open_in(seats, Arc::new(storage.clone()), options())
        .unwrap()
        .0
}

/// Answers `line` and waits until the reply may be sent; `None` if the
/// journal failed (the reply must never be sent).
fn ask(inventory: &Inventory, line: &str) -> Option<String> {
    let mut out = Vec::new();
    let answered = inventory.respond(
        line.as_bytes(),
        &mut Scratch::default(),
        &Counters::default(),
        &mut out,
    );
    match answered.commit {
        Commit::None => {}
        Commit::Pending(t) => inventory.wait_durable(t).ok()?,
        Commit::Failed(_) => return None,
    }
    Some(String::from_utf8(out).unwrap())
}

fn reference(reply: &str) -> String {
    reply.split(' ').nth(1).unwrap().to_owned()
}

fn reserved(inventory: &Inventory) -> Vec<u64> {
    inventory.map().reserved_seats().collect()
}

#[test]
fn a_restart_replays_seats_bookings_and_ids() {
    let storage = FaultyStorage::new();
    let inventory = open(&storage, 100);
    let a = |line: &str| ask(&inventory, line).unwrap();
    assert_eq!(
        a("1,2,3"),
        "Reservados: [1, 2, 3] | Indisponíveis/Inválidos: []"
    );
    let booked = a("BOOK 5,10,3 id=b1");
    assert!(
        booked.ends_with(" reserved=5,10 taken=3 invalid=-"),
        "{booked}"
    );
    let all = a("ALL 20,21");
    let cancelled = a(&format!("CANCEL {} id=c1", reference(&all)));
    assert!(cancelled.starts_with("OK cancelled "), "{cancelled}");
    let together = a("TOGETHER 4");
    let before = reserved(&inventory);
    drop(inventory);

    let inventory = open(&storage, 100);
    let a = |line: &str| ask(&inventory, line).unwrap();
    assert_eq!(reserved(&inventory), before);
    assert_eq!(inventory.booking_count(), 2);
    // Ids are still remembered: the same bytes, nothing done again.
    assert_eq!(a("BOOK 5,10,3 id=b1"), booked);
    assert_eq!(a(&format!("CANCEL {} id=c1", reference(&all))), cancelled);
    assert_eq!(reserved(&inventory), before);
    assert_eq!(
        a(&format!("SHOW {}", reference(&booked))),
        "OK booked seats=5,10"
    );
    assert!(a(&format!("SHOW {}", reference(&all))).starts_with("ERR unknown-booking"));
    // References are still cancellable.
    let r = reference(&together);
    let runs = together.rsplit("seats=").next().unwrap();
    assert_eq!(
        a(&format!("CANCEL {r}")),
        format!("OK cancelled {r} seats={runs}")
    );
    drop(inventory);
    let inventory = open(&storage, 100);
    assert_eq!(reserved(&inventory), [0, 1, 2, 4, 9]);
}

#[test]
fn snapshots_are_used_and_bound_the_replay() {
    let storage = FaultyStorage::new();
    let inventory = open(&storage, 1000);
    let mut refs = Vec::new();
    for i in 0..50 {
        let r = ask(&inventory, &format!("ANY 2 id=x{i}")).unwrap();
        refs.push(r);
    }
    assert!(inventory.snapshot().unwrap().is_some());
    assert_eq!(inventory.snapshot().unwrap(), None, "nothing new");
    let r0 = reference(&refs[0]);
    ask(&inventory, &format!("CANCEL {r0}")).unwrap();
    let before = reserved(&inventory);
    drop(inventory);
    let (inventory, opened) =
        Inventory::open_in(1000, Arc::new(storage.clone()), options()).unwrap();
    assert_eq!(opened.snapshot_seq, Some(50));
    assert_eq!(opened.records, 1);
    assert_eq!(reserved(&inventory), before);
    assert_eq!(ask(&inventory, "ANY 2 id=x7").unwrap(), refs[7]);
}

#[test]
fn another_seat_count_or_a_second_opener_is_a_clear_error() {
    let storage = FaultyStorage::new();
    let inventory = open(&storage, 100);
    let second = Inventory::open_in(100, Arc::new(storage.clone()), options()).unwrap_err();
    assert!(second.to_string().contains("in use"), "{second}");
    drop(inventory);
    let other = Inventory::open_in(50, Arc::new(storage.clone()), options()).unwrap_err();
    assert!(
        other
            .to_string()
            .contains("\"seats=100\", but --seats is 50"),
        "{other}"
    );
}

#[test]
fn power_loss_keeps_every_acknowledged_change() {
    const THREADS: usize = 4;
    const ROUNDS: usize = 40;
    for seed in 0..4u64 {
        let storage = FaultyStorage::new();
        // Snapshots every few records, taken while the threads run.
        let options = DataOptions {
            snapshot_every: 7,
            ..options()
        };
        let inventory = Inventory::open_in(2000, Arc::new(storage.clone()), options)
            .unwrap()
            .0;
        // Each thread books, and cancels every third booking; it records
        // what was acknowledged (replies that passed wait_durable).
        let (held, cancelled): (Vec<_>, Vec<_>) = std::thread::scope(|s| {
            let workers: Vec<_> = (0..THREADS)
                .map(|t| {
                    let inventory = &inventory;
                    s.spawn(move || {
                        let (mut held, mut cancelled) = (Vec::new(), Vec::new());
                        for i in 0..ROUNDS {
                            let reply = ask(inventory, &format!("ANY 3 id=t{t}r{i}")).unwrap();
                            let r = reference(&reply);
                            if i % 3 == 0 {
                                ask(inventory, &format!("CANCEL {r}")).unwrap();
                                cancelled.push(r);
                            } else {
                                held.push((r, reply));
                            }
                        }
                        (held, cancelled)
                    })
                })
                .collect();
            workers.into_iter().map(|w| w.join().unwrap()).unzip()
        });
        // Some unacknowledged work may be in flight: a book not waited for.
        let _ = inventory.respond(
            b"ANY 5",
            &mut Scratch::default(),
            &Counters::default(),
            &mut Vec::new(),
        );
        let rebooted = storage.power_loss(Some(seed));
        drop(inventory);
        let (inventory, opened) = Inventory::open_in(2000, Arc::new(rebooted), options).unwrap();
        assert!(opened.snapshot_seq.is_some(), "no snapshot was taken");
        let mut seats = HashSet::new();
        for (r, reply) in held.iter().flatten() {
            let shown = ask(&inventory, &format!("SHOW {r}")).unwrap();
            let runs = reply.rsplit("seats=").next().unwrap();
            assert_eq!(shown, format!("OK booked seats={runs}"), "seed {seed}");
            assert!(seats.insert(runs.to_owned()), "seat held twice");
        }
        for r in cancelled.iter().flatten() {
            let shown = ask(&inventory, &format!("SHOW {r}")).unwrap();
            assert!(
                shown.starts_with("ERR unknown-booking"),
                "seed {seed}: {shown}"
            );
        }
        // Every booking's seats are reserved (plus at most the unwaited
        // ANY 5), and ids are remembered.
        let booked = 3 * held.iter().map(Vec::len).sum::<usize>() as u64;
        let reserved = inventory.map().reserved_count();
        assert!(
            reserved == booked || reserved == booked + 5,
            "{reserved} {booked}"
        );
        let (r, reply) = &held[0][0];
        let _ = r;
        assert_eq!(ask(&inventory, "ANY 3 id=t0r1").unwrap(), *reply);
    }
}

#[test]
fn a_full_disk_refuses_changes_and_undoes_them_while_reads_go_on() {
    let storage = FaultyStorage::new();
    let inventory = open(&storage, 100_000);
    let booked = ask(&inventory, "BOOK 7").unwrap();
    // No room for any new segment from now on.
    storage.set_space_limit(Some(storage.used_bytes()));
    let mut refused = None;
    for i in 0..2000u64 {
        let reply = ask(&inventory, &format!("ANY 1 id=f{i}")).unwrap();
        if reply.starts_with("ERR ") {
            refused = Some(i);
            assert!(reply.starts_with("ERR disk-full: "), "{reply}");
            break;
        }
    }
    let i = refused.expect("the disk never filled");
    let taken = inventory.map().reserved_count();
    assert_eq!(taken, i + 1, "the refused grant was undone");
    assert_eq!(inventory.booking_count() as u64, i + 1);
    // Every change is refused, including cancels and original requests...
    assert!(
        ask(&inventory, "5,6")
            .unwrap()
            .starts_with("ERR disk-full: ")
    );
    let r = reference(&booked);
    assert!(
        ask(&inventory, &format!("CANCEL {r}"))
            .unwrap()
            .starts_with("ERR disk-full: ")
    );
    assert_eq!(
        ask(&inventory, &format!("SHOW {r}")).unwrap(),
        "OK booked seats=7"
    );
    // ...reads work...
    assert!(ask(&inventory, "AVAIL").unwrap().starts_with("OK free="));
    assert!(
        ask(&inventory, "STATS")
            .unwrap()
            .starts_with("OK seats=100000 ")
    );
    assert_eq!(inventory.map().reserved_count(), taken);
    // ...and changes work again once space returns; the refused id is new.
    storage.set_space_limit(None);
    assert!(
        ask(&inventory, &format!("ANY 1 id=f{i}"))
            .unwrap()
            .starts_with("OK ")
    );
    assert!(
        ask(&inventory, &format!("CANCEL {r}"))
            .unwrap()
            .starts_with("OK cancelled")
    );
}

#[test]
fn a_failed_sync_is_never_acknowledged() {
    let storage = FaultyStorage::new();
    let inventory = open(&storage, 100);
    // The injected failure may hit the writer's spare segment first (not
    // fatal: allocation is retried), so inject until a record's sync fails.
    let mut acknowledged = Vec::new();
    let mut failed = false;
    for seat in 1..=50u64 {
        storage.fail_next_sync();
        match ask(&inventory, &format!("BOOK {seat}")) {
            Some(reply) => {
                assert!(reply.starts_with("OK "), "{reply}");
                acknowledged.push(seat - 1);
            }
            None => {
                failed = true;
                break;
            }
        }
    }
    assert!(failed, "no sync ever failed");
    // The journal has stopped: later changes fail too.
    assert_eq!(ask(&inventory, "BOOK 99"), None);
    drop(inventory);
    let rebooted = storage.power_loss(None);
    let inventory = open(&rebooted, 100);
    assert_eq!(reserved(&inventory), acknowledged);
}

#[test]
fn ids_without_a_journal_are_remembered_in_memory() {
    let inventory = Inventory::new(10).unwrap();
    let first = ask(&inventory, "ANY 2 id=m").unwrap();
    assert_eq!(ask(&inventory, "ANY 2 id=m").unwrap(), first);
    assert_eq!(inventory.map().reserved_count(), 2);
    // An error is not remembered: the retry is done again.
    assert!(
        ask(&inventory, "ANY 9 id=e")
            .unwrap()
            .starts_with("ERR not-enough")
    );
    assert!(ask(&inventory, "ANY 8 id=e").unwrap().starts_with("OK "));
    assert!(
        ask(&inventory, "ANY 1 id=bad.id")
            .unwrap()
            .starts_with("ERR bad-request")
    );
}

#[test]
fn a_change_over_the_record_limit_is_refused_as_too_large_and_undone() {
    let storage = FaultyStorage::new();
    let inventory = open(&storage, 10_000);
    // 600 separate seats: their runs and the remembered reply make a record
    // over the 2 KiB limit of `options()`.
    let seats: Vec<String> = (0..600).map(|i| (2 * i + 1).to_string()).collect();
    let big = format!("BOOK {} id=big", seats.join(","));
    let reply = ask(&inventory, &big).unwrap();
    assert!(
        reply.starts_with("ERR record-too-large: the change needs a journal record of "),
        "{reply}"
    );
    assert!(reply.contains("over the maximum of 2048"), "{reply}");
    assert_eq!(inventory.map().reserved_count(), 0, "the grant was undone");
    assert_eq!(inventory.booking_count(), 0);
    // Not a full disk: smaller changes go on, and the id was not kept.
    let small = ask(&inventory, "BOOK 1,3 id=big").unwrap();
    assert!(small.starts_with("OK "), "{small}");
    assert_eq!(inventory.map().reserved_count(), 2);
}

//! Operator commands and data-directory care: `--admin-listen` (only its
//! connections may run `SNAPSHOT` and `BACKUP`), a backup that starts as a
//! server, `--check-data`'s counts and exit status, and data directories
//! that cannot be used (not writable, garbage files, in use): a clear
//! error, a non-zero exit, never a panic.

use std::net::SocketAddr;
use std::path::Path;
use std::process::{Command, Output};

use seatnet::Config;

use crate::durable::{SEGMENT, durable};
use crate::processes::{ServerProcess, stderr, stdout};
use crate::support::TempDir;
use crate::support::{LineClient, TestServer, reference};

fn with_admin(config: Config) -> Config {
    Config {
        admin_listen: Some("127.0.0.1:0".into()),
        ..config
    }
}

fn admin_client(server: &TestServer) -> LineClient {
    LineClient::connect(server.admin.expect("an admin listener"))
}

#[test]
fn operator_commands_run_only_on_the_admin_listener() {
    let dir = TempDir::new("admin");
    let server = TestServer::start(with_admin(durable(&dir, 100)));
    let mut public = server.line_client();
    let target = dir.0.with_extension("never");
    for (request, verb) in [
        ("SNAPSHOT", "SNAPSHOT"),
        (&*format!("backup {}", target.display()), "BACKUP"),
    ] {
        let reply = public.ask(request);
        assert_eq!(
            reply,
            format!(
                "ERR forbidden: {verb} is an operator command; send it on the server's --admin-listen address"
            )
        );
    }
    assert!(!target.exists(), "a forbidden BACKUP wrote nothing");
    // The connection goes on.
    assert!(public.ask("ANY 2").starts_with("OK "));
    let mut admin = admin_client(&server);
    // Operators may use the ordinary commands too.
    assert!(admin.ask("AVAIL").starts_with("OK free=98 "));
    let snapshot = admin.ask("snapshot");
    let file = snapshot
        .strip_prefix("OK snapshot seq=1 file=")
        .unwrap_or_else(|| panic!("{snapshot}"));
    assert!(dir.0.join(file).is_file(), "{snapshot}");
    // Without a data directory there is nothing to snapshot or back up.
    let memory = TestServer::start(with_admin(Config {
        threads: 2,
        ..Config::default()
    }));
    let mut admin = admin_client(&memory);
    assert!(
        admin
            .ask("SNAPSHOT")
            .starts_with("ERR not-durable: SNAPSHOT needs a server started with --data-dir")
    );
    assert!(
        admin
            .ask("BACKUP x")
            .starts_with("ERR not-durable: BACKUP ")
    );
    // No admin listener: no connection may run them.
    let plain = TestServer::small();
    assert!(plain.admin.is_none());
    assert!(
        plain
            .line_client()
            .ask("SNAPSHOT")
            .starts_with("ERR forbidden: ")
    );
}

#[test]
fn a_backup_taken_while_serving_starts_as_a_server_with_its_bookings() {
    let dir = TempDir::new("backup-src");
    let copies = TempDir::new("backup-dst");
    let copy = copies.0.join("copy");
    let server = TestServer::start(with_admin(durable(&dir, 100)));
    let mut c = server.line_client();
    let booked = c.ask("BOOK 5,10 id=b-1");
    let together = c.ask("TOGETHER 3");
    let cancelled = c.ask("ALL 50,51");
    assert!(
        c.ask(&format!("CANCEL {}", reference(&cancelled)))
            .starts_with("OK cancelled")
    );
    let avail = c.ask("AVAIL");
    let mut admin = admin_client(&server);
    assert_eq!(
        admin.ask(&format!("BACKUP {}", copy.display())),
        format!("OK backup dir={}", copy.display())
    );
    // Not into a directory that holds anything (the copy now does).
    let again = admin.ask(&format!("BACKUP {}", copy.display()));
    assert!(
        again.starts_with("ERR backup-failed: ") && again.contains("is not empty"),
        "{again}"
    );
    // A change after the backup is not in it.
    assert!(c.ask("ANY 1").starts_with("OK "));
    // The copy starts (while the original still runs: it has its own lock).
    let restored = TestServer::start(Config {
        data_dir: Some(copy.clone()),
        ..durable(&dir, 100)
    });
    let mut r = restored.line_client();
    assert_eq!(r.ask("AVAIL"), avail);
    assert_eq!(
        r.ask(&format!("SHOW {}", reference(&booked))),
        "OK booked seats=5,10"
    );
    assert_eq!(r.ask("BOOK 5,10 id=b-1"), booked, "ids are in the copy");
    assert!(
        r.ask(&format!("CANCEL {}", reference(&together)))
            .starts_with("OK cancelled")
    );
}

/// `--check-data`'s output for `dir`.
fn check_data(dir: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_seatnet-server"))
        .arg("--check-data")
        .arg(dir)
        .output()
        .expect("run seatnet-server --check-data")
}

#[test]
fn the_binary_backs_up_and_check_data_counts_seats_bookings_and_ids() {
    let dir = TempDir::new("bin-backup");
    let copies = TempDir::new("bin-backup-copy");
    let copy = copies.0.join("copy");
    let segment = SEGMENT.to_string();
    let args = [
        "--seats",
        "10",
        "--data-dir",
        dir.arg(),
        "--segment-size",
        &segment,
        "--admin-listen",
        "127.0.0.1:0",
    ];
    let server = ServerProcess::start(&args);
    let admin: SocketAddr = server
        .first_line
        .split("operator commands on ")
        .nth(1)
        .and_then(|rest| rest.trim_end().strip_suffix(')'))
        .and_then(|addr| addr.parse().ok())
        .unwrap_or_else(|| panic!("no admin address in {:?}", server.first_line));
    let mut c = LineClient::connect(server.addr);
    let booked = c.ask("BOOK 1,2 id=x1");
    assert!(booked.starts_with("OK "), "{booked}");
    assert!(c.ask("ANY 1").starts_with("OK "));
    assert!(c.ask("7").starts_with("Reservados: [7]"));
    let mut admin = LineClient::connect(admin);
    assert!(
        admin
            .ask(&format!("BACKUP {}", copy.display()))
            .starts_with("OK backup")
    );
    drop(server); // kill -9

    for checked in [&dir.0, &copy] {
        let out = check_data(checked);
        let report = stdout(&out);
        assert!(out.status.success(), "{report}");
        for line in [
            "seats taken:    4 of 10\n",
            "bookings:       2\n",
            "request ids:    1\n",
            "status:         OK\n",
        ] {
            assert!(report.contains(line), "{line:?} not in {report}");
        }
    }
    let restored = ServerProcess::start(&["--seats", "10", "--data-dir", copy.to_str().unwrap()]);
    let mut r = LineClient::connect(restored.addr);
    assert_eq!(
        r.ask(&format!("SHOW {}", reference(&booked))),
        "OK booked seats=1-2"
    );
}

#[test]
fn check_data_fails_on_corruption() {
    let dir = TempDir::new("check-corrupt");
    let server = TestServer::start(durable(&dir, 10));
    let mut c = server.line_client();
    for _ in 0..3 {
        assert!(c.ask("ANY 1").starts_with("OK "));
    }
    drop((c, server));
    // The clean shutdown snapshotted: the directory checks out...
    assert!(check_data(&dir.0).status.success());
    // ...until a byte of the snapshot is flipped (and no older one exists).
    let snapshot = only_file(&dir.0, ".snap");
    flip_last_byte(&snapshot);
    let out = check_data(&dir.0);
    let report = stdout(&out);
    assert_eq!(out.status.code(), Some(1), "{report}");
    assert!(report.contains("status:         BAD: "), "{report}");
    assert!(!report.contains("seats taken"), "{report}");
}

fn only_file(dir: &Path, suffix: &str) -> std::path::PathBuf {
    let found: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.to_string_lossy().ends_with(suffix))
        .collect();
    assert_eq!(found.len(), 1, "{found:?}");
    found[0].clone()
}

fn flip_last_byte(path: &Path) {
    let mut bytes = std::fs::read(path).unwrap();
    let last = bytes.len() - 1;
    bytes[last] ^= 0xff;
    std::fs::write(path, bytes).unwrap();
}

/// Starts the binary on `dir` (10 seats); it must refuse with a message
/// containing every one of `expected`, exit status 1, and no panic.
fn refuses(dir: &Path, expected: &[&str]) {
    let out = Command::new(env!("CARGO_BIN_EXE_seatnet-server"))
        .args(["--port", "0", "--seats", "10", "--data-dir"])
        .arg(dir)
        .output()
        .expect("run seatnet-server");
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(1), "{err}");
    for text in expected {
        assert!(err.contains(text), "{text:?} not in {err}");
    }
    assert!(!err.contains("panicked"), "{err}");
    assert!(stdout(&out).is_empty(), "it never listened");
}

/// Creates `dir` as a data directory of 10 seats holding one booking.
fn seeded(tag: &str) -> TempDir {
    let dir = TempDir::new(tag);
    let server = TestServer::start(durable(&dir, 10));
    assert!(server.line_client().ask("ANY 1").starts_with("OK "));
    drop(server);
    dir
}

/// We run as root, whom file modes do not stop, so "not writable" is made
/// with paths no one can write: a data directory under a regular file
/// (creating it fails), and a lock that is a directory (opening it to
/// write fails).
#[test]
fn a_data_directory_that_cannot_be_written_is_a_clear_error() {
    let dir = TempDir::new("unwritable");
    let file = dir.0.join("plain-file");
    std::fs::write(&file, b"x").unwrap();
    refuses(
        &file.join("data"),
        &["cannot use", "plain-file/data", "as a data directory"],
    );
    let locked = TempDir::new("lock-dir");
    std::fs::create_dir(locked.0.join("LOCK")).unwrap();
    refuses(&locked.0, &["cannot lock", "LOCK"]);
}

#[test]
fn garbage_in_a_data_directory_is_a_clear_error() {
    // A snapshot that is garbage, with no older one to fall back on.
    let dir = seeded("garbage-snap");
    std::fs::write(only_file(&dir.0, ".snap"), b"garbage").unwrap();
    refuses(&dir.0, &["has snapshots but none is valid"]);
    // A segment that is garbage (longer than a segment header: a shorter
    // last segment reads as one torn while being created, and is dropped).
    let dir = seeded("garbage-seg");
    std::fs::write(only_file(&dir.0, ".log"), b"garbage, not a journal segment").unwrap();
    refuses(&dir.0, &["corrupt journal", "journal-"]);
    // A file named like a journal file that is not one.
    let dir = seeded("garbage-name");
    std::fs::write(dir.0.join("journal-xyz.log"), b"").unwrap();
    refuses(&dir.0, &["journal-xyz.log", "move it away"]);
    // A META that is garbage.
    let dir = seeded("garbage-meta");
    std::fs::write(dir.0.join("META"), b"\xff\x00garbage").unwrap();
    refuses(&dir.0, &["corrupt journal", "META"]);
    // A file that is none of ours is left alone: the server starts, and
    // --check-data lists it.
    let dir = seeded("garbage-other");
    std::fs::write(dir.0.join("notes.txt"), b"operator notes").unwrap();
    let report = stdout(&check_data(&dir.0));
    assert!(report.contains("other file:     notes.txt"), "{report}");
    let server = ServerProcess::start(&["--seats", "10", "--data-dir", dir.arg()]);
    assert!(
        LineClient::connect(server.addr)
            .ask("AVAIL")
            .starts_with("OK free=9 ")
    );
}

#[test]
fn a_data_directory_in_use_by_a_running_server_is_a_clear_error() {
    let dir = TempDir::new("in-use");
    let _first = ServerProcess::start(&["--seats", "10", "--data-dir", dir.arg()]);
    refuses(&dir.0, &["in use by another process", dir.arg()]);
}

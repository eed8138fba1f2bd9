//! `--data-dir`: restarts on the same directory keep seats, bookings and
//! request ids; clear errors for another seat count or a second server;
//! `kill -9` of the real binary loses nothing acknowledged.

use std::io::{BufRead, BufReader, Write};
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use seatnet::{Config, DataOptions, Server};

use crate::processes::{ServerProcess, stdout};
use crate::support::{READ_TIMEOUT, TempDir, TestServer, connect, field, reference, seats};

/// Small segments: tests allocate two per directory.
pub(crate) const SEGMENT: u64 = 2 << 20;

pub(crate) fn durable(dir: &TempDir, seats: u64) -> Config {
    Config {
        seats,
        threads: 8,
        data_dir: Some(dir.0.clone()),
        data: DataOptions {
            segment_size: SEGMENT,
            ..DataOptions::default()
        },
        ..Config::default()
    }
}

#[test]
fn a_restart_on_the_same_directory_keeps_seats_bookings_and_ids() {
    let dir = TempDir::new("restart");
    let mut server = TestServer::start(durable(&dir, 100));
    let mut original = server.original_client();
    assert_eq!(
        original.ask("1,2,3"),
        "Reservados: [1, 2, 3] | Indisponíveis/Inválidos: []"
    );
    let mut c = server.line_client();
    let booked = c.ask("BOOK 5,10 id=abc123");
    let together = c.ask("TOGETHER 3 id=t-1");
    let all = c.ask("ALL 40,41");
    let cancelled = c.ask(&format!("CANCEL {} id=c_1", reference(&all)));
    assert!(cancelled.starts_with("OK cancelled "), "{cancelled}");
    let avail = c.ask("AVAIL");
    drop((original, c));
    server.shutdown().unwrap();
    drop(server);

    let server = TestServer::start(durable(&dir, 100));
    let mut c = server.line_client();
    assert_eq!(c.ask("AVAIL"), avail);
    // Retries get the first reply byte for byte, and do nothing again.
    assert_eq!(c.ask("BOOK 5,10 id=abc123"), booked);
    assert_eq!(c.ask("TOGETHER 3 id=t-1"), together);
    assert_eq!(
        c.ask(&format!("CANCEL {} id=c_1", reference(&all))),
        cancelled
    );
    assert_eq!(c.ask("AVAIL"), avail);
    assert_eq!(
        c.ask(&format!("SHOW {}", reference(&booked))),
        "OK booked seats=5,10"
    );
    // References are still cancellable.
    let r = reference(&together);
    let cancel = c.ask(&format!("CANCEL {r}"));
    assert_eq!(
        cancel,
        format!("OK cancelled {r} seats={}", field(&together, "seats"))
    );
    assert!(
        c.ask(&format!("SHOW {r}"))
            .starts_with("ERR unknown-booking")
    );
}

#[test]
fn another_seat_count_or_a_second_server_is_a_clear_error() {
    let dir = TempDir::new("errors");
    let server = TestServer::start(durable(&dir, 100));
    let second = Server::bind(Config {
        port: 0,
        ..durable(&dir, 100)
    })
    .unwrap_err();
    assert!(
        second.to_string().contains("in use by another process"),
        "{second}"
    );
    drop(server);
    let other = Server::bind(Config {
        port: 0,
        ..durable(&dir, 50)
    })
    .unwrap_err();
    assert!(other.to_string().contains("but --seats is 50"), "{other}");
    let file = dir.0.join("a-file");
    std::fs::write(&file, b"x").unwrap();
    let bad = Server::bind(Config {
        port: 0,
        data_dir: Some(file),
        ..durable(&dir, 100)
    })
    .unwrap_err();
    assert!(bad.to_string().contains("a-file"), "{bad}");
}

#[test]
fn the_binary_says_where_its_data_is_and_check_data_reports_it() {
    let dir = TempDir::new("binary");
    let segment = SEGMENT.to_string();
    let args = [
        "--seats",
        "10",
        "--data-dir",
        dir.arg(),
        "--segment-size",
        &segment,
    ];
    let server = ServerProcess::start(&args);
    assert!(
        server
            .first_line
            .ends_with(&format!("durable in {}, fsync always)\n", dir.arg())),
        "{}",
        server.first_line
    );
    let mut c = Client::connect(server.addr);
    assert!(c.ask("BOOK 3").unwrap().starts_with("OK "));
    drop(server); // kill -9
    let check = std::process::Command::new(env!("CARGO_BIN_EXE_seatnet-server"))
        .args(["--check-data", dir.arg()])
        .output()
        .unwrap();
    let report = stdout(&check);
    assert!(check.status.success(), "{report}");
    assert!(report.contains("seats=10"), "{report}");
    // A different --seats on the same directory: a clear error, exit 1.
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_seatnet-server"))
        .args(["--port", "0", "--seats", "11", "--data-dir", dir.arg()])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("\"seats=10\", but --seats is 11"), "{err}");
}

/// A line client that survives the server's death: `None` once the
/// connection is gone.
struct Client {
    writer: std::net::TcpStream,
    reader: BufReader<std::net::TcpStream>,
}

impl Client {
    fn connect(addr: SocketAddr) -> Client {
        let stream = connect(addr);
        Client {
            writer: stream.try_clone().unwrap(),
            reader: BufReader::new(stream),
        }
    }

    /// `None` if the server is already gone (killed before this client
    /// connected).
    fn try_connect(addr: SocketAddr) -> Option<Client> {
        let stream = std::net::TcpStream::connect_timeout(&addr, READ_TIMEOUT).ok()?;
        stream.set_read_timeout(Some(READ_TIMEOUT)).ok()?;
        stream.set_write_timeout(Some(READ_TIMEOUT)).ok()?;
        Some(Client {
            writer: stream.try_clone().ok()?,
            reader: BufReader::new(stream),
        })
    }

    fn ask(&mut self, request: &str) -> Option<String> {
        self.writer
            .write_all(format!("{request}\n").as_bytes())
            .ok()?;
        let mut line = String::new();
        match self.reader.read_line(&mut line) {
            Ok(n) if n > 0 && line.ends_with('\n') => {
                line.pop();
                Some(line)
            }
            _ => None,
        }
    }
}

/// What clients were told, across every cycle.
#[derive(Default)]
struct Ledger {
    /// Acknowledged bookings still held: reference → wire seats.
    held: Vec<(String, Vec<u64>)>,
    /// Acknowledged cancels.
    cancelled: Vec<String>,
    /// Requests whose reply was lost when the server died: the request
    /// line, with its id.
    in_flight: Vec<String>,
}

impl Ledger {
    /// Takes a reply to `request` into account.
    fn acknowledged(&mut self, request: &str, reply: &str) {
        if let Some(r) = request.strip_prefix("CANCEL ") {
            let r = r.split(' ').next().unwrap();
            if reply.starts_with("OK cancelled ") {
                self.held.retain(|(h, _)| h != r);
                self.cancelled.push(r.to_owned());
            } else {
                // Unknown: cancelled before, by a request whose reply was
                // lost and that a retry resolved.
                assert!(reply.starts_with("ERR unknown-booking"), "{reply}");
                assert!(!self.held.iter().any(|(h, _)| h == r), "{reply}");
            }
        } else if reply.starts_with("OK ") {
            self.held
                .push((reference(reply), seats(field(reply, "seats"))));
        } else {
            assert!(reply.starts_with("ERR not-enough"), "{request}: {reply}");
        }
    }

    /// Checks the restarted server against the ledger.
    fn verify(&self, c: &mut Client, total: u64) {
        let mut all = std::collections::HashSet::new();
        for (r, wire) in &self.held {
            let shown = c.ask(&format!("SHOW {r}")).unwrap();
            let listed = seats(field(&shown, "seats"));
            assert_eq!(&listed, wire, "booking {r}: {shown}");
            for s in wire {
                assert!(all.insert(*s), "seat {s} held twice");
            }
        }
        for r in &self.cancelled {
            let shown = c.ask(&format!("SHOW {r}")).unwrap();
            assert!(shown.starts_with("ERR unknown-booking"), "{shown}");
        }
        // Every reserved seat belongs to a booking somebody was told of.
        let stats = c.ask("STATS").unwrap();
        let reserved: u64 = field(&stats, "reserved").parse().unwrap();
        assert_eq!(reserved, all.len() as u64, "{stats}");
        assert!(reserved <= total);
    }
}

/// The real binary under `kill -9` at a random moment, `cycles` times,
/// with `clients` clients booking and cancelling with request ids.
fn kill_nine(cycles: usize, clients: usize) {
    const SEATS: u64 = 400;
    const REQUESTS: usize = 300;
    let dir = TempDir::new("kill9");
    let segment = SEGMENT.to_string();
    let seats = SEATS.to_string();
    let args = [
        "--seats",
        &seats,
        "--threads",
        "16",
        "--data-dir",
        dir.arg(),
        "--segment-size",
        &segment,
        "--snapshot-every",
        "50",
        "--log-level",
        "error",
    ];
    let mut ledger = Ledger::default();
    let deadline = Instant::now() + Duration::from_secs(120);
    for cycle in 0..=cycles {
        assert!(Instant::now() < deadline, "kill -9 test ran too long");
        let mut server = ServerProcess::start(&args);
        let mut c = Client::connect(server.addr);
        // Resolve the requests whose replies were lost: a retry with the
        // same id either repeats the first reply or does it now.
        let resolved = ledger.in_flight.len();
        for request in std::mem::take(&mut ledger.in_flight) {
            let reply = c.ask(&request).unwrap();
            ledger.acknowledged(&request, &reply);
        }
        ledger.verify(&mut c, SEATS);
        eprintln!(
            "cycle {cycle}: {} bookings held, {} cancelled, {} resolved by id",
            ledger.held.len(),
            ledger.cancelled.len(),
            resolved
        );
        if cycle == cycles {
            break;
        }
        // Clients book, and cancel bookings (from earlier cycles too, so
        // references made before a restart are cancelled after it), until
        // the kill.
        let addr = server.addr;
        let mut shares: Vec<Vec<_>> = (0..clients).map(|_| Vec::new()).collect();
        for (i, booking) in std::mem::take(&mut ledger.held).into_iter().enumerate() {
            shares[i % clients].push(booking);
        }
        let workers: Vec<_> = shares
            .into_iter()
            .enumerate()
            .map(|(t, held)| {
                std::thread::spawn(move || {
                    let mut mine = Ledger {
                        held,
                        ..Ledger::default()
                    };
                    let Some(mut c) = Client::try_connect(addr) else {
                        return mine;
                    };
                    for i in 0..REQUESTS {
                        let request = match mine.held.first() {
                            Some((r, _)) if i % 3 == 2 => format!("CANCEL {r} id=c{cycle}-{t}-{i}"),
                            _ => format!("ANY 2 id=c{cycle}-{t}-{i}"),
                        };
                        match c.ask(&request) {
                            Some(reply) => mine.acknowledged(&request, &reply),
                            None => {
                                mine.in_flight.push(request);
                                break;
                            }
                        }
                    }
                    mine
                })
            })
            .collect();
        std::thread::sleep(Duration::from_millis(fastrand::u64(5..60)));
        let _ = server.child.kill(); // SIGKILL
        let _ = server.child.wait();
        for w in workers {
            let mine = w.join().unwrap();
            ledger.held.extend(mine.held);
            ledger.cancelled.extend(mine.cancelled);
            ledger.in_flight.extend(mine.in_flight);
        }
        drop(c);
        drop(server);
    }
    // The test must have tested something.
    assert!(!ledger.held.is_empty() && !ledger.cancelled.is_empty());
}

#[test]
fn kill_nine_loses_no_acknowledged_booking() {
    kill_nine(5, 4);
}

/// The 20 cycles: cheap enough (each cycle runs for tens of ms) to
/// run with every `cargo test`.
#[test]
fn kill_nine_twenty_cycles() {
    kill_nine(20, 6);
}

#[test]
fn fsync_policies_are_named_in_the_startup_line_and_bad_ones_refused() {
    let dir = TempDir::new("fsync");
    let segment = SEGMENT.to_string();
    for (policy, shown) in [
        ("interval=5", "fsync interval=5)"),
        ("never", "fsync never)"),
    ] {
        let args = [
            "--seats",
            "10",
            "--data-dir",
            dir.arg(),
            "--segment-size",
            &segment,
            "--fsync",
            policy,
        ];
        let server = ServerProcess::start(&args);
        assert!(
            server.first_line.ends_with(&format!("{shown}\n")),
            "{}",
            server.first_line
        );
        let mut c = Client::connect(server.addr);
        assert!(c.ask("ANY 1").unwrap().starts_with("OK "));
    }
    for bad in ["sometimes", "interval=0", "interval=x"] {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_seatnet-server"))
            .args(["--port", "0", "--fsync", bad])
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2), "{bad}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(
            err.contains("expected always, never or interval=MS"),
            "{err}"
        );
    }
}

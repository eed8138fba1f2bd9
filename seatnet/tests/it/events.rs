//! The event-loop mode (`Io::Events`): the key scenarios of the other
//! modules, against one event-loop thread serving every connection.

use std::collections::HashSet;
use std::io::Write;
use std::sync::{Arc, Barrier};
use std::thread;
use std::time::Duration;

use seatnet::{Config, Io};

use crate::support::{LineClient, OriginalClient, TestServer, field, seats};

/// An events-mode server with `config`'s other settings.
fn events(config: Config) -> TestServer {
    TestServer::start(Config {
        io: Io::Events,
        ..config
    })
}

fn server() -> TestServer {
    events(Config::default())
}

#[test]
fn the_documented_table_byte_for_byte() {
    let server = server();
    let table = [
        (
            "1,2,3",
            "Reservados: [1, 2, 3] | Indisponíveis/Inválidos: []",
        ),
        (
            "2,3,4,5",
            "Reservados: [4, 5] | Indisponíveis/Inválidos: [2, 3]",
        ),
        ("7,7", "Reservados: [7] | Indisponíveis/Inválidos: [7]"),
        (
            "0,101,-3",
            "Reservados: [] | Indisponíveis/Inválidos: [0, 101, -3]",
        ),
    ];
    for (request, reply) in table {
        let mut client = server.original_client();
        assert_eq!(
            client.ask_bytes(request.as_bytes()),
            reply.as_bytes(),
            "{request}"
        );
    }
    // Many original requests on one connection, no newline anywhere.
    let mut client = server.original_client();
    for seat in 20..=40 {
        assert_eq!(
            client.ask(&seat.to_string()),
            format!("Reservados: [{seat}] | Indisponíveis/Inválidos: []")
        );
    }
}

#[test]
fn pipelined_lines_come_back_in_order() {
    let server = server();
    let mut client = server.line_client();
    client.send(b"1\r\n2,3\nHELP\n1\n");
    assert_eq!(
        client.line(),
        "Reservados: [1] | Indisponíveis/Inválidos: []"
    );
    assert_eq!(
        client.line(),
        "Reservados: [2, 3] | Indisponíveis/Inválidos: []"
    );
    assert!(client.line().starts_with("OK commands:"));
    assert_eq!(
        client.line(),
        "Reservados: [] | Indisponíveis/Inválidos: [1]"
    );
    // Line mode: a partial line waits for its newline.
    client.send(b"4,");
    client.send(b"5\n");
    assert_eq!(
        client.line(),
        "Reservados: [4, 5] | Indisponíveis/Inválidos: []"
    );
    assert_eq!(client.ask("QUIT"), "OK bye");
    assert!(client.is_closed());
}

#[test]
fn a_big_pipeline_is_answered_in_full_while_read() {
    let server = server();
    let mut client = server.line_client();
    const N: usize = 20_000;
    // Far more replies than the unsent-reply bound: reading pauses and
    // resumes as the replies drain.
    let mut writer = client.writer.try_clone().unwrap();
    let sender = thread::spawn(move || {
        writer
            .write_all("AVAIL\n".repeat(N).as_bytes())
            .expect("send the pipeline");
    });
    for _ in 0..N {
        assert_eq!(client.line(), "OK free=100 total=100 seats=1-100");
    }
    sender.join().unwrap();
    assert_eq!(field(&client.ask("STATS"), "accepted"), "1");
}

#[test]
fn errors_keep_the_connection_usable() {
    let server = server();
    let mut line = server.line_client();
    assert!(line.ask("abc").starts_with("ERR bad-request: 'abc'"));
    assert!(line.ask("5,,6").starts_with("ERR bad-request: empty seat"));
    assert!(line.ask("FOO 5").starts_with("ERR unknown-command: 'FOO'"));
    assert!(line.ask("ANY x").starts_with("ERR bad-request: 'x'"));
    assert_eq!(
        line.ask("5"),
        "Reservados: [5] | Indisponíveis/Inválidos: []"
    );
    let mut original = server.original_client();
    let error = original.ask("2.5");
    assert!(error.starts_with("ERR bad-request: '2.5'"), "{error}");
    assert!(!error.ends_with('\n'));
    assert_eq!(
        original.ask("6"),
        "Reservados: [6] | Indisponíveis/Inválidos: []"
    );
    let stats = line.ask("STATS");
    assert_eq!(field(&stats, "errors"), "5");
    assert_eq!(field(&stats, "connections"), "2");
}

/// The seats in the first list of an original reply.
fn reserved_in(reply: &str) -> Vec<u64> {
    let list = reply
        .strip_prefix("Reservados: [")
        .and_then(|r| r.split_once(']'))
        .unwrap_or_else(|| panic!("not an original reply: {reply}"))
        .0;
    if list.is_empty() {
        return Vec::new();
    }
    list.split(", ").map(|s| s.parse().unwrap()).collect()
}

#[test]
fn sixty_four_clients_racing_never_get_a_seat_twice() {
    const CLIENTS: usize = 64;
    let server = events(Config {
        seats: 200,
        ..Config::default()
    });
    let start = Arc::new(Barrier::new(CLIENTS));
    let clients: Vec<_> = (0..CLIENTS)
        .map(|i| {
            let addr = server.addr;
            let start = Arc::clone(&start);
            thread::spawn(move || {
                let mut granted = Vec::new();
                let mut line = LineClient::connect(addr);
                let mut original = OriginalClient::connect(addr);
                start.wait();
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
            })
        })
        .collect();
    let mut all = Vec::new();
    for client in clients {
        all.extend(client.join().unwrap());
    }
    let unique: HashSet<_> = all.iter().copied().collect();
    assert_eq!(unique.len(), all.len(), "a seat was granted twice");
    assert_eq!(
        unique.len(),
        200,
        "every seat was asked for, so every seat went"
    );
    let stats = LineClient::connect(server.addr).ask("STATS");
    assert_eq!(field(&stats, "reserved"), "200");
}

#[test]
fn an_over_long_line_gets_an_error_then_close() {
    let server = events(Config {
        max_line: 64,
        ..Config::default()
    });
    let mut client = server.line_client();
    assert!(client.ask("1").starts_with("Reservados: [1]"));
    let mut line = "2,".repeat(40);
    line.push_str("2\n");
    client.send(line.as_bytes());
    assert_eq!(
        client.line(),
        "ERR line-too-long: a request may be at most 64 bytes; closing"
    );
    assert!(client.is_closed());
    assert!(server.line_client().ask("3").starts_with("Reservados: [3]"));
}

#[test]
fn an_idle_client_is_disconnected() {
    let server = events(Config {
        idle_timeout: Duration::from_millis(300),
        ..Config::default()
    });
    let mut client = server.line_client();
    assert!(client.ask("1").starts_with("Reservados: [1]"));
    // Say nothing: the server must close (our read timeout is far longer).
    assert!(client.is_closed());
}

#[test]
fn the_client_over_the_limit_is_told_busy() {
    let server = events(Config {
        max_conns: Some(2),
        ..Config::default()
    });
    let mut first = server.line_client();
    let mut second = server.line_client();
    assert!(first.ask("1").starts_with("Reservados: [1]"));
    assert!(second.ask("2").starts_with("Reservados: [2]"));
    let mut third = server.line_client();
    assert_eq!(
        third.line(),
        "ERR busy: the server is serving its maximum of 2 connections; try again later"
    );
    assert!(third.is_closed());
    assert!(first.ask("3").starts_with("Reservados: [3]"));
    let stats = second.ask("STATS");
    assert_eq!(field(&stats, "rejected"), "1");
}

#[test]
fn more_clients_than_threads_are_served_at_once() {
    // `threads` is ignored: 300 open connections, all answered.
    let server = events(Config {
        threads: 1,
        ..Config::default()
    });
    let mut clients: Vec<LineClient> = (0..300).map(|_| server.line_client()).collect();
    for (i, client) in clients.iter_mut().enumerate() {
        client.send(format!("BOOK {}\n", i % 100 + 1).as_bytes());
    }
    let booked = clients
        .iter_mut()
        .map(|c| c.line())
        .filter(|reply| reply.starts_with("OK "))
        .count();
    assert_eq!(booked, 100, "each of the 100 seats booked exactly once");
    assert!(clients[299].ask("STATS").contains(" connections=300 "));
}

#[test]
fn a_client_that_never_reads_its_replies_is_cut_off() {
    let server = events(Config {
        idle_timeout: Duration::from_millis(300),
        ..Config::default()
    });
    let mut greedy = server.line_client();
    assert_eq!(greedy.ask("HELP").split(' ').next(), Some("OK"));
    // Pipeline far more replies than the socket buffers hold, never read
    // them. Bounded: at most 60 MB of requests, and our own writes stop
    // with an error once the server gives up on us.
    let mut writer = greedy.writer.try_clone().unwrap();
    let flood = thread::spawn(move || {
        let batch = "AVAIL\n".repeat(10_000);
        for _ in 0..1000 {
            if writer.write_all(batch.as_bytes()).is_err() {
                return true;
            }
        }
        false
    });
    // The one event loop is not stuck on the greedy client.
    let mut next = server.line_client();
    assert_eq!(
        next.ask("7"),
        "Reservados: [7] | Indisponíveis/Inválidos: []"
    );
    assert!(
        flood.join().unwrap(),
        "the server kept reading a client that never reads"
    );
    assert!(server.line_client().ask("8").starts_with("Reservados: [8]"));
}

#[test]
fn a_half_closed_original_request_is_answered() {
    let server = server();
    let mut client = server.line_client();
    client.send(b"1\n2");
    client.writer.shutdown(std::net::Shutdown::Write).unwrap();
    assert!(client.line().starts_with("Reservados: [1]"));
    let mut rest = String::new();
    std::io::Read::read_to_string(&mut client.reader, &mut rest).unwrap();
    assert_eq!(rest, "Reservados: [2] | Indisponíveis/Inválidos: []");
}

#[test]
fn shutdown_closes_every_connected_client() {
    let mut server = server();
    let mut idle = server.line_client();
    let mut busy = server.line_client();
    let mut original = server.original_client();
    assert!(idle.ask("1").starts_with("Reservados: [1]"));
    assert!(original.ask("2").starts_with("Reservados: [2]"));
    busy.send(b"3\n4,");
    assert!(busy.line().starts_with("Reservados: [3]"));
    server.shutdown().expect("run() returns Ok");
    assert!(idle.is_closed());
    assert!(busy.is_closed());
    let mut rest = Vec::new();
    let closed = match std::io::Read::read_to_end(&mut original.stream, &mut rest) {
        Ok(_) => rest.is_empty(),
        Err(e) => e.kind() == std::io::ErrorKind::ConnectionReset,
    };
    assert!(closed, "the original client was not closed");
}

#[test]
fn the_binary_serves_with_io_events_and_stops_on_sigterm() {
    let mut server = crate::processes::ServerProcess::start(&[
        "--io",
        "events",
        "--seats",
        "10",
        "--log-level",
        "warn",
    ]);
    let first = &server.first_line;
    assert!(
        first.ends_with("(10 seats, event loop, up to 1024 connections)\n"),
        "{first:?}"
    );
    let mut client = OriginalClient::connect(server.addr);
    assert_eq!(
        client.ask("5,11"),
        "Reservados: [5] | Indisponíveis/Inválidos: [11]"
    );
    let killed = std::process::Command::new("kill")
        .args(["-TERM", &server.child.id().to_string()])
        .status()
        .expect("run kill");
    assert!(killed.success());
    let status = server.child.wait().unwrap();
    assert!(status.success(), "exit status {status}");
    let mut rest = Vec::new();
    assert_eq!(
        std::io::Read::read_to_end(&mut client.stream, &mut rest).ok(),
        Some(0),
        "client sees EOF"
    );
}

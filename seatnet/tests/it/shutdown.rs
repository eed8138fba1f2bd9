//! Shutting down: the library handle and the binary's signals.

use std::io::{BufRead, BufReader, Read};
use std::process::{Command, Stdio};

use seatnet::Config;

use crate::support::{OriginalClient, TestServer};

#[test]
fn shutdown_closes_connected_clients_and_run_returns() {
    let mut server = TestServer::start(Config {
        threads: 4,
        max_conns: Some(8),
        ..Config::default()
    });
    let mut idle = server.line_client();
    assert!(idle.ask("1").starts_with("Reservados: [1]"));
    let mut mid_line = server.line_client();
    assert!(mid_line.ask("2").starts_with("Reservados: [2]"));
    mid_line.send(b"3,");
    let mut original = server.original_client();
    assert!(original.ask("4").starts_with("Reservados: [4]"));
    // More clients than workers: some are queued, unserved.
    let mut queued: Vec<_> = (0..3).map(|_| server.line_client()).collect();

    server.shutdown().expect("run() returns Ok");

    assert!(idle.is_closed());
    assert!(mid_line.is_closed());
    let mut rest = Vec::new();
    assert_eq!(original.stream.read_to_end(&mut rest).ok(), Some(0));
    for client in &mut queued {
        assert!(client.is_closed());
    }
}

#[test]
fn shutdown_with_no_clients_and_twice() {
    let mut server = TestServer::small();
    server.stop.shutdown();
    assert!(server.stop.is_shutting_down());
    server.shutdown().expect("run() returns Ok");
}

#[test]
fn the_binary_prints_its_address_serves_and_stops_on_sigterm() {
    let mut child = Command::new(env!("CARGO_BIN_EXE_seatnet-server"))
        .args([
            "--host",
            "127.0.0.1",
            "--port",
            "0",
            "--seats",
            "10",
            "--threads",
            "4",
        ])
        .args(["--log-level", "warn"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("start seatnet-server");
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let mut first = String::new();
    stdout.read_line(&mut first).unwrap();
    let addr = first
        .strip_prefix("seatnet-server listening on ")
        .and_then(|rest| rest.split(' ').next())
        .unwrap_or_else(|| panic!("unexpected first line {first:?}"))
        .to_owned();
    assert!(first.ends_with("(10 seats, 4 workers)\n"), "{first:?}");

    let mut client = OriginalClient::connect(addr.parse().unwrap());
    assert_eq!(
        client.ask("5,11"),
        "Reservados: [5] | Indisponíveis/Inválidos: [11]"
    );

    let killed = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .expect("run kill");
    assert!(killed.success());
    let status = child.wait().unwrap();
    assert!(status.success(), "exit status {status}");
    let mut rest = Vec::new();
    assert_eq!(
        client.stream.read_to_end(&mut rest).ok(),
        Some(0),
        "client sees EOF"
    );
}

#[test]
fn the_binary_rejects_bad_flags() {
    let output = Command::new(env!("CARGO_BIN_EXE_seatnet-server"))
        .args(["--seats", "0"])
        .output()
        .expect("run seatnet-server");
    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr).contains("--seats"));
}

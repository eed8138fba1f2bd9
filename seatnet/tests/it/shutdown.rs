//! Shutting down: the library handle and the binary's signals.

use std::io::Read;
use std::process::Command;

use seatnet::Config;

use crate::processes::ServerProcess;
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
    // `--io` is deprecated: accepted, ignored, and the design is the same.
    let modes = [
        (
            &["--threads", "4"][..],
            "(10 seats, 4 workers, up to 500 connections)\n",
        ),
        (
            &["--io", "events"][..],
            "(10 seats, 16 workers, up to 500 connections)\n",
        ),
    ];
    for (mode, startup) in modes {
        let mut args = vec!["--seats", "10", "--max-conns", "500", "--log-level", "warn"];
        args.extend_from_slice(mode);
        let mut server = ServerProcess::start(&args);
        let first = &server.first_line;
        assert!(first.ends_with(startup), "{first:?}");

        let mut client = OriginalClient::connect(server.addr);
        assert_eq!(
            client.ask("5,11"),
            "Reservados: [5] | Indisponíveis/Inválidos: [11]"
        );

        let killed = Command::new("kill")
            .args(["-TERM", &server.child.id().to_string()])
            .status()
            .expect("run kill");
        assert!(killed.success());
        let status = server.child.wait().unwrap();
        assert!(status.success(), "{mode:?}: exit status {status}");
        let mut rest = Vec::new();
        assert_eq!(
            client.stream.read_to_end(&mut rest).ok(),
            Some(0),
            "{mode:?}: client sees EOF"
        );
    }
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

#[test]
fn a_second_sigterm_forces_exit_while_shutdown_waits_on_a_client() {
    // A client that pipelines far more replies than the socket buffers
    // hold and never reads: a clean shutdown waits for it (up to the idle
    // timeout, two minutes here), a second SIGTERM does not.
    let mut server = ServerProcess::start(&[
        "--log-level",
        "warn",
        "--idle-timeout",
        "120",
        "--max-output",
        "200000000",
    ]);
    let mut client = crate::support::LineClient::connect(server.addr);
    assert!(client.ask("HELP").starts_with("OK "));
    // 1 MB of requests, 32 MB of replies: far more than the socket buffers.
    client.send("HELP\n".repeat(200_000).as_bytes());
    // Wait (bounded) until the server has stopped answering them: its
    // replies fill the socket buffers, and it reads no more requests until
    // they are sent (backpressure), so replies wait in its buffer.
    let mut stalled = false;
    let mut last = 0;
    for _ in 0..300 {
        std::thread::sleep(std::time::Duration::from_millis(100));
        let mut other = crate::support::LineClient::connect(server.addr);
        let stats = other.ask("STATS");
        let requests: u64 = crate::support::field(&stats, "requests").parse().unwrap();
        if requests > 1000 && requests == last + 1 {
            // Only our STATS request was answered since the last look.
            stalled = true;
            break;
        }
        last = requests;
    }
    assert!(
        stalled,
        "the server stopped reading a client that does not read"
    );
    let pid = server.child.id().to_string();
    let kill = |pid: &str| {
        Command::new("kill")
            .args(["-TERM", pid])
            .status()
            .expect("run kill")
            .success()
    };
    assert!(kill(&pid));
    // Still waiting for the client, well within its two-minute bound.
    std::thread::sleep(std::time::Duration::from_millis(500));
    assert!(
        server.child.try_wait().unwrap().is_none(),
        "the first signal waits for the client's replies"
    );
    assert!(kill(&pid));
    let mut status = None;
    for _ in 0..200 {
        status = server.child.try_wait().unwrap();
        if status.is_some() {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    let status = status.expect("the second signal ends the process");
    assert_eq!(status.code(), Some(2), "{status}");
}

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
        // The half-sent request below holds the shutdown this long.
        request_timeout: std::time::Duration::from_secs(1),
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
            "(10 seats, 4 workers, up to 500 connections, in memory only)\n",
        ),
        (
            &["--io", "events"][..],
            "(10 seats, 16 workers, up to 500 connections, in memory only)\n",
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
    // A client in the middle of a request: a clean shutdown lets it finish
    // (up to the request timeout, two minutes here) and answers it; a
    // second SIGTERM does not wait.
    let mut server = ServerProcess::start(&["--log-level", "warn", "--request-timeout", "120"]);
    let mut client = crate::support::LineClient::connect(server.addr);
    assert!(client.ask("HELP").starts_with("OK "));
    client.send(b"5,");
    // Make sure the partial request has reached the server: a request on
    // another connection is answered after it was read.
    assert!(server_answers(server.addr));
    let pid = server.child.id().to_string();
    let kill = |pid: &str| {
        Command::new("kill")
            .args(["-TERM", pid])
            .status()
            .expect("run kill")
            .success()
    };
    assert!(kill(&pid));
    // The shutdown waits: the request can still be completed and answered.
    client.send(b"6\n");
    assert_eq!(
        client.line(),
        "Reservados: [5, 6] | Indisponíveis/Inválidos: []"
    );
    assert!(client.is_closed(), "closed once its request was answered");
    let status = wait_exit(&mut server).expect("the server exits after the answer");
    assert!(status.success(), "{status}");

    // Again, with a request left unfinished: the second signal ends it.
    let mut server = ServerProcess::start(&["--log-level", "warn", "--request-timeout", "120"]);
    let mut client = crate::support::LineClient::connect(server.addr);
    assert!(client.ask("HELP").starts_with("OK "));
    client.send(b"5,");
    assert!(server_answers(server.addr));
    let pid = server.child.id().to_string();
    assert!(kill(&pid));
    std::thread::sleep(std::time::Duration::from_millis(300));
    assert!(
        server.child.try_wait().unwrap().is_none(),
        "the first signal waits for the unfinished request"
    );
    assert!(kill(&pid));
    let status = wait_exit(&mut server).expect("the second signal ends the process");
    assert_eq!(status.code(), Some(2), "{status}");
    drop(client);
}

/// The server's exit status, waiting at most 10 s (a failure bound).
fn wait_exit(server: &mut ServerProcess) -> Option<std::process::ExitStatus> {
    for _ in 0..200 {
        if let Some(status) = server.child.try_wait().unwrap() {
            return Some(status);
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    None
}

/// Whether a new client's `STATS` is answered (so that everything sent
/// before on other connections has been read by the poller, which reads
/// in the order events arrive).
fn server_answers(addr: std::net::SocketAddr) -> bool {
    crate::support::LineClient::connect(addr)
        .ask("STATS")
        .starts_with("OK ")
}

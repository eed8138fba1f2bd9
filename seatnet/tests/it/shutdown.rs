//! Shutting down: the library handle and the binary's signals.

use std::io::Read;
use std::process::Command;

use seatnet::Config;

use crate::processes::ServerProcess;
use crate::support::{OriginalClient, TestServer, each_io};

#[test]
fn shutdown_closes_connected_clients_and_run_returns() {
    each_io(|io| {
        let mut server = TestServer::start(Config {
            io,
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
    });
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
    let modes = [
        (
            &["--threads", "4"][..],
            "(10 seats, 4 workers, in memory only)\n",
        ),
        (
            &["--io", "events"][..],
            "(10 seats, event loop, up to 1024 connections, in memory only)\n",
        ),
    ];
    for (mode, startup) in modes {
        let mut args = vec!["--seats", "10", "--log-level", "warn"];
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

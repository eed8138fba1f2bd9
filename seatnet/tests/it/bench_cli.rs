//! `seatnet-bench` end to end: short runs bounded in count and time, with
//! no timing assertions; only the outcome and the double-grant check.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::process::{Command, Output, Stdio};
use std::thread;
use std::time::Duration;

use seatnet::Config;

use crate::fakes::FakeServer;
use crate::processes::{ServerProcess, stderr, stdout};
use crate::support::{READ_TIMEOUT, TestServer};

/// Runs the bench with a hard bound on time and quiet progress.
fn bench(args: &[&str]) -> Output {
    bench_for("10", args)
}

/// [`bench`] with a run of `seconds` (a bound, or the run's length when
/// no `-n` is given).
fn bench_for(seconds: &str, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_seatnet-bench"))
        .args([
            "--quiet",
            "--warmup",
            "0",
            "--duration",
            seconds,
            "--timeout",
            "5",
        ])
        .args(args)
        .stdin(Stdio::null())
        .output()
        .expect("run seatnet-bench")
}

#[test]
fn a_short_run_against_the_baseline_passes_the_check() {
    let out = bench(&["--target", "baseline", "-n", "200", "-c", "4"]);
    let text = stdout(&out);
    assert_eq!(out.status.code(), Some(0), "{text}{}", stderr(&out));
    assert!(text.contains("requests  200 in"), "{text}");
    assert!(text.contains("double-grant check: OK ("), "{text}");
}

#[test]
fn spawn_and_baseline_in_one_run_report_both_and_the_ratio() {
    let out = bench(&["--spawn", "--baseline", "-n", "200", "-c", "4"]);
    let text = stdout(&out);
    assert_eq!(out.status.code(), Some(0), "{text}{}", stderr(&out));
    assert!(text.contains("== ours ("), "{text}");
    assert!(text.contains("== baseline ("), "{text}");
    assert_eq!(
        text.matches("double-grant check: OK (").count(),
        2,
        "{text}"
    );
    assert!(text.contains("== ours / baseline: throughput "), "{text}");
}

#[test]
fn pipelined_newline_framing_against_seatnet_server() {
    let server = ServerProcess::start(&["--quiet"]);
    let port = server.port().to_string();
    let out = bench(&[
        "--port",
        &port,
        "--framing",
        "newline",
        "--pipeline",
        "8",
        "-n",
        "400",
        "-c",
        "4",
        "--threads",
        "2",
        "--seats-per-request",
        "3",
    ]);
    let text = stdout(&out);
    assert_eq!(out.status.code(), Some(0), "{text}{}", stderr(&out));
    assert!(text.contains("newline framing, pipeline 8"), "{text}");
    assert!(text.contains("double-grant check: OK ("), "{text}");
}

#[test]
fn json_output_carries_the_results() {
    let out = bench(&["--target", "baseline", "-n", "50", "-c", "2", "--json"]);
    let json = stdout(&out);
    assert_eq!(out.status.code(), Some(0), "{json}{}", stderr(&out));
    assert!(
        json.starts_with("{\"runs\":[{\"target\":\"baseline\""),
        "{json}"
    );
    assert!(json.contains("\"requests\":50,"), "{json}");
    assert!(json.contains("\"double_grant_ok\":true"), "{json}");
    assert!(stderr(&out).contains("double-grant check: OK"));
}

#[test]
fn a_server_that_sells_a_seat_twice_fails_the_check() {
    let server = lying_server();
    let port = server.addr.port().to_string();
    let out = bench(&["--port", &port, "-n", "20", "-c", "2"]);
    let text = stdout(&out);
    assert_eq!(out.status.code(), Some(1), "{text}{}", stderr(&out));
    assert!(text.contains("double-grant check: FAILED"), "{text}");
    assert!(text.contains("seat 7 granted twice"), "{text}");
}

#[test]
fn non_loopback_targets_are_refused_before_any_traffic() {
    // 192.0.2.0/24 is reserved for documentation: nothing is sent anyway.
    let out = bench(&["--host", "192.0.2.1", "-n", "1"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("only ever loads loopback"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn pipelining_the_original_framing_is_refused() {
    let out = bench(&["--target", "baseline", "--pipeline", "4", "-n", "1"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("--framing newline"),
        "{}",
        stderr(&out)
    );
}

/// Answers every request by granting seat 7 again: a broken server.
fn lying_server() -> FakeServer {
    // One thread per connection (the bench opens several at once); each
    // ends when the bench closes its connection or its read times out.
    FakeServer::start(|stream| {
        thread::spawn(move || lie(stream));
    })
}

fn lie(mut stream: TcpStream) {
    // Bounded: the bench closes its connections when done; the timeout
    // covers a bench that died.
    let _ = stream.set_read_timeout(Some(READ_TIMEOUT));
    let mut buf = [0u8; 1024];
    while let Ok(1..) = stream.read(&mut buf) {
        let reply = "Reservados: [7] | Indisponíveis/Inválidos: []";
        if stream.write_all(reply.as_bytes()).is_err() {
            return;
        }
    }
}

/// The numbers after `label` on the report line of hostile kind `kind`.
fn hostile_count(text: &str, kind: &str, label: &str) -> u64 {
    let line = text
        .lines()
        .find(|l| l.starts_with(&format!("hostile   {kind} ")))
        .unwrap_or_else(|| panic!("no hostile {kind} line in {text}"));
    let after = line
        .split(label)
        .nth(1)
        .unwrap_or_else(|| panic!("no '{label}' in {line}"));
    after
        .trim_start()
        .split(|c: char| !c.is_ascii_digit())
        .next()
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no number after '{label}' in {line}"))
}

#[test]
fn hostile_connections_are_held_during_the_run() {
    // Room for every connection and a timeout far beyond the run: nothing
    // is closed, so every hostile connection is held to the end.
    let server = TestServer::start(Config {
        threads: 16,
        ..Config::default()
    });
    let port = server.addr.port().to_string();
    let out = bench(&[
        "--port",
        &port,
        "-n",
        "300",
        "-c",
        "2",
        "--idle",
        "5",
        "--trickle",
        "2",
        "--no-read",
        "2",
    ]);
    let text = stdout(&out);
    assert_eq!(out.status.code(), Some(0), "{text}{}", stderr(&out));
    assert!(text.contains("double-grant check: OK ("), "{text}");
    for (kind, planned) in [("idle", 5), ("trickle", 2), ("no-read", 2)] {
        assert!(
            text.contains(&format!("hostile   {kind} {planned}: ")),
            "{text}"
        );
        assert_eq!(hostile_count(&text, kind, "held"), planned, "{text}");
        assert_eq!(hostile_count(&text, kind, "closed by server"), 0, "{text}");
    }
}

#[test]
fn hostile_connections_the_server_closes_are_reopened() {
    // The server closes a connection silent for 1 s (idle and never-reading
    // ones, whose replies go unread); the run lasts 5 s by construction
    // (`--duration`), so each is closed at least once and opened again.
    // No timing is asserted: only that what was closed was reopened.
    let server = TestServer::start(Config {
        threads: 16,
        idle_timeout: Duration::from_secs(1),
        ..Config::default()
    });
    let port = server.addr.port().to_string();
    let out = bench_for(
        "5",
        &[
            "--port",
            &port,
            "-c",
            "2",
            "--idle",
            "4",
            "--no-read",
            "2",
            "--json",
        ],
    );
    let json = stdout(&out);
    let text = stderr(&out);
    assert_eq!(out.status.code(), Some(0), "{json}{text}");
    for kind in ["idle", "no-read"] {
        let closed = hostile_count(&text, kind, "closed by server");
        let reopened = hostile_count(&text, kind, "reopened");
        assert!(closed > 0, "{text}");
        // A close in the last back-off before the end is not reopened yet.
        assert!(reopened > 0 && reopened <= closed, "{text}");
    }
    assert!(
        json.contains("\"hostile\":{\"idle\":{\"planned\":4,"),
        "{json}"
    );
}

//! Limits: over-long lines, idle timeout, the connection limit, queueing.

use std::time::Duration;

use seatnet::Config;

use crate::support::{LineClient, TestServer};

#[test]
fn an_over_long_line_gets_an_error_then_close() {
    let server = TestServer::start(Config {
        threads: 2,
        max_line: 64,
        ..Config::default()
    });
    let mut client = server.line_client();
    assert_eq!(
        client.ask("1"),
        "Reservados: [1] | Indisponíveis/Inválidos: []"
    );
    let mut line = "2,".repeat(40);
    line.push_str("2\n");
    client.send(line.as_bytes());
    assert_eq!(
        client.line(),
        "ERR line-too-long: a request may be at most 64 bytes; closing"
    );
    assert!(client.is_closed());
    // The server itself goes on.
    assert_eq!(
        server.line_client().ask("3"),
        "Reservados: [3] | Indisponíveis/Inválidos: []"
    );
}

#[test]
fn endless_bytes_without_newline_are_cut_off() {
    let server = TestServer::start(Config {
        threads: 2,
        max_line: 100,
        ..Config::default()
    });
    let mut client = server.line_client();
    client.ask("1");
    // Line mode: the server waits for a newline that never comes, and must
    // give up once the partial line is over the limit.
    let chunk = vec![b'7'; 1000];
    for _ in 0..5 {
        if std::io::Write::write_all(&mut client.writer, &chunk).is_err() {
            break; // already closed on us
        }
    }
    assert!(client.line().starts_with("ERR line-too-long: "));
    assert!(client.is_closed());
}

#[test]
fn an_idle_client_is_disconnected() {
    let server = TestServer::start(Config {
        threads: 2,
        idle_timeout: Duration::from_millis(300),
        ..Config::default()
    });
    let mut client = server.line_client();
    assert_eq!(
        client.ask("1"),
        "Reservados: [1] | Indisponíveis/Inválidos: []"
    );
    // Say nothing: the server must close (our read timeout is far longer).
    assert!(client.is_closed());
}

#[test]
fn the_client_over_the_limit_is_told_busy() {
    let server = TestServer::start(Config {
        threads: 2,
        max_conns: Some(2),
        ..Config::default()
    });
    let mut first = server.line_client();
    let mut second = server.line_client();
    // Both admitted and being served.
    assert!(first.ask("1").starts_with("Reservados: [1]"));
    assert!(second.ask("2").starts_with("Reservados: [2]"));
    let mut third = server.line_client();
    assert_eq!(
        third.line(),
        "ERR busy: the server is serving its maximum of 2 connections; try again later"
    );
    assert!(third.is_closed());
    // The admitted ones are unaffected.
    assert!(first.ask("3").starts_with("Reservados: [3]"));
    let stats = second.ask("STATS");
    assert_eq!(crate::support::field(&stats, "rejected"), "1");
}

#[test]
fn more_connections_than_workers_are_served_at_once() {
    // Two workers, 300 connections all with a request in flight before any
    // reply is read: every one is answered.
    let server = TestServer::start(Config {
        threads: 2,
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
fn a_client_that_never_reads_its_replies_is_cut_off_and_frees_its_worker() {
    // One worker: the second client is served only once the first one's
    // worker is free again.
    let server = TestServer::start(Config {
        threads: 1,
        max_conns: Some(2),
        idle_timeout: Duration::from_millis(300),
        ..Config::default()
    });
    let mut greedy = server.line_client();
    assert_eq!(greedy.ask("HELP").split(' ').next(), Some("OK"));
    // Pipeline far more replies than the socket buffers hold, never read
    // them. Bounded: at most 64 MiB of requests, and our own writes stop
    // with an error once the server gives up on us.
    let mut writer = greedy.writer.try_clone().unwrap();
    let flood = std::thread::spawn(move || {
        let batch = "AVAIL\n".repeat(10_000);
        for _ in 0..1000 {
            if std::io::Write::write_all(&mut writer, batch.as_bytes()).is_err() {
                return true;
            }
        }
        false
    });
    // With threads, served by the same single worker: this answer
    // proves the stuck connection was closed rather than waited on.
    // With the event loop, it proves the loop is not stuck on it; the
    // flood's write error below proves the cut-off in both modes.
    let mut next = server.line_client();
    assert_eq!(
        next.ask("7"),
        "Reservados: [7] | Indisponíveis/Inválidos: []"
    );
    assert!(
        flood.join().unwrap(),
        "the server kept reading a client that never reads"
    );
}

#[test]
fn a_client_that_vanishes_mid_request_harms_nobody() {
    // One worker; room in the queue, so that a new client never races the
    // release of the previous one's slot (that would be `busy`).
    let server = TestServer::start(Config {
        threads: 1,
        max_conns: Some(8),
        ..Config::default()
    });
    for _ in 0..3 {
        let mut client = server.line_client();
        client.ask("HELP");
        // Half a line, then gone: the server answers into a closed socket
        // or drops the request, and must go on either way.
        client.send(b"5,1");
        drop(client);
    }
    let mut next = server.line_client();
    let stats = next.ask("STATS");
    assert!(stats.starts_with("OK seats=100 "), "{stats}");
    assert_eq!(
        next.ask("9"),
        "Reservados: [9] | Indisponíveis/Inválidos: []"
    );
}

#[test]
fn idle_connections_beyond_the_workers_do_not_lock_out_an_honest_client() {
    let server = TestServer::start(Config {
        threads: 2,
        ..Config::default()
    });
    // 50 that never send anything, 50 that sent half a line and stopped.
    let silent: Vec<LineClient> = (0..50).map(|_| server.line_client()).collect();
    let mut stalled: Vec<LineClient> = (0..50).map(|_| server.line_client()).collect();
    for client in &mut stalled {
        assert!(client.ask("HELP").starts_with("OK "));
        client.send(b"1,");
    }
    let mut honest = server.line_client();
    assert_eq!(
        honest.ask("7"),
        "Reservados: [7] | Indisponíveis/Inválidos: []"
    );
    assert!(honest.ask("STATS").contains(" connections=101 "));
    drop((silent, stalled));
}

#[test]
fn a_slowloris_is_closed_after_the_request_timeout() {
    let server = TestServer::start(Config {
        threads: 2,
        request_timeout: Duration::from_secs(1),
        ..Config::default()
    });
    let mut slow = server.line_client();
    assert!(slow.ask("HELP").starts_with("OK "));
    // One byte every 100 ms, never a newline: each byte is activity, so
    // only the request timeout can end it. Bounded: 200 bytes (20 s).
    let mut reader = slow.reader.get_ref().try_clone().unwrap();
    let closed = std::thread::spawn(move || {
        let mut rest = Vec::new();
        let _ = std::io::Read::read_to_end(&mut reader, &mut rest);
    });
    let mut honest_served = 0;
    for _ in 0..200 {
        if closed.is_finished() {
            break;
        }
        if std::io::Write::write_all(&mut slow.writer, b"1").is_err() {
            break;
        }
        let mut honest = server.line_client();
        if honest.ask("STATS").starts_with("OK ") {
            honest_served += 1;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    closed.join().unwrap();
    assert!(slow.is_closed(), "the trickling connection was closed");
    assert!(honest_served > 0, "honest clients were served meanwhile");
}

#[test]
fn a_pipeliner_that_never_reads_is_closed_once_its_replies_pass_the_bound() {
    // The idle timeout is long: only the bound on unread replies can end
    // this connection.
    let server = TestServer::start(Config {
        threads: 2,
        max_output: 64 * 1024,
        ..Config::default()
    });
    let greedy = server.line_client();
    let mut writer = greedy.writer.try_clone().unwrap();
    // Bounded: at most 60 MB of requests; the server's close makes our
    // writes fail well before.
    let flood = std::thread::spawn(move || {
        let batch = "HELP\n".repeat(10_000);
        for _ in 0..1200 {
            if std::io::Write::write_all(&mut writer, batch.as_bytes()).is_err() {
                return true;
            }
        }
        false
    });
    let mut honest = server.line_client();
    assert_eq!(
        honest.ask("7"),
        "Reservados: [7] | Indisponíveis/Inválidos: []"
    );
    assert!(
        flood.join().unwrap(),
        "the server kept a client that never reads"
    );
    drop(greedy);
}

#[test]
fn the_per_address_cap_turns_away_the_extra_connection_intact() {
    let server = TestServer::start(Config {
        threads: 2,
        max_conns_per_addr: Some(2),
        ..Config::default()
    });
    let mut first = server.line_client();
    let mut second = server.line_client();
    assert!(first.ask("1").starts_with("Reservados: [1]"));
    assert!(second.ask("2").starts_with("Reservados: [2]"));
    // The third sends a request before reading: the busy line must still
    // arrive whole, then end of stream (no reset).
    let mut third = server.line_client();
    third.send(&b"3\n".repeat(1000));
    assert_eq!(
        third.line(),
        "ERR busy: the server is serving its maximum of 2 connections; try again later"
    );
    assert!(third.is_closed());
    assert!(first.ask("STATS").contains(" rejected=1 "));
}

#[test]
fn quit_and_busy_replies_arrive_even_with_more_input_unread() {
    let server = TestServer::start(Config {
        threads: 2,
        max_conns: Some(1),
        ..Config::default()
    });
    let mut client = server.line_client();
    // QUIT, then far more than the server reads: it must not reset the
    // connection under the reply.
    let mut batch = b"HELP\nQUIT\n".to_vec();
    batch.extend_from_slice(&b"1\n".repeat(20_000));
    client.send(&batch);
    assert!(client.line().starts_with("OK "));
    assert_eq!(client.line(), "OK bye");
    let mut rest = Vec::new();
    let end = std::io::Read::read_to_end(&mut client.reader, &mut rest);
    assert_eq!(end.ok(), Some(0), "end of stream, not a reset");

    // The only place is free once the server has closed the first.
    let mut busy = None;
    for _ in 0..100 {
        let mut next = server.line_client();
        next.send(&b"5\n".repeat(1000));
        let line = next.line();
        if line.starts_with("Reservados:") {
            let mut extra = server.line_client();
            extra.send(&b"6\n".repeat(1000));
            busy = Some(extra.line());
            assert!(extra.is_closed());
            break;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    assert_eq!(
        busy.as_deref(),
        Some("ERR busy: the server is serving its maximum of 1 connections; try again later")
    );
}

#[test]
fn max_conns_is_capped_by_the_descriptor_limit_and_the_next_client_told_busy() {
    // A hard limit of 64 descriptors: the server raises its soft limit to
    // it, caps --max-conns to 64 - 32 = 32, says so, and turns away the
    // 33rd client with `ERR busy` rather than failing to accept it.
    let mut child = std::process::Command::new("sh")
        .args([
            "-c",
            "ulimit -n 64 && exec \"$0\" --host 127.0.0.1 --port 0 --log-level error",
            env!("CARGO_BIN_EXE_seatnet-server"),
        ])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("start seatnet-server under ulimit");
    let stdout = child.stdout.take().unwrap();
    let cleanup = KillOnDrop(child);
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut line = String::new();
        let _ = std::io::BufRead::read_line(&mut std::io::BufReader::new(stdout), &mut line);
        let _ = tx.send(line);
    });
    let line = rx
        .recv_timeout(crate::support::READ_TIMEOUT)
        .expect("a startup line");
    assert!(
        line.ends_with("up to 32 connections, in memory only)\n"),
        "{line:?}"
    );
    let addr: std::net::SocketAddr = line
        .strip_prefix("seatnet-server listening on ")
        .and_then(|rest| rest.split(' ').next())
        .and_then(|addr| addr.parse().ok())
        .expect("an address");
    let mut clients: Vec<LineClient> = (0..32).map(|_| LineClient::connect(addr)).collect();
    for client in &mut clients {
        assert!(client.ask("STATS").starts_with("OK "));
    }
    let mut extra = LineClient::connect(addr);
    assert!(extra.line().starts_with("ERR busy: "));
    assert!(extra.is_closed());
    drop(cleanup);
}

/// Kills the child process when dropped (also when a test fails).
struct KillOnDrop(std::process::Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

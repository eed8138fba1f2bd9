//! `seatnet-client` end to end: one-shot and interactive modes against a
//! fake of the original server and against the real `seatnet-server`.
//!
//! Every server binds 127.0.0.1 port 0 and is stopped at the end; every
//! client runs with `--timeout`, and the one pipe read without a timeout
//! of its own goes through a channel with one.

use std::io::{Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::process::{Command, Output, Stdio};

use crate::fakes::FakeServer;
use crate::processes::{ServerProcess, stderr, stdout};
use crate::support::READ_TIMEOUT;

/// The original server's wire behaviour, in miniature: one `read` is one
/// request, the reply has no newline, unparsable input closes the
/// connection with no reply. Serves one connection at a time.
fn fake_original() -> FakeServer {
    let mut seats = [false; 101];
    FakeServer::start(move |stream| serve_original(stream, &mut seats))
}

fn serve_original(mut stream: TcpStream, seats: &mut [bool; 101]) {
    let _ = stream.set_read_timeout(Some(READ_TIMEOUT));
    let mut buf = [0u8; 1024];
    loop {
        let n = match stream.read(&mut buf) {
            Ok(0) | Err(_) => return,
            Ok(n) => n,
        };
        let text = String::from_utf8_lossy(&buf[..n]);
        let numbers: Result<Vec<i64>, _> = text
            .trim()
            .split(',')
            .map(|p| p.trim().parse::<i64>())
            .collect();
        let Ok(numbers) = numbers else {
            let _ = stream.shutdown(Shutdown::Both);
            return;
        };
        let (mut reserved, mut refused) = (Vec::new(), Vec::new());
        for n in numbers {
            match usize::try_from(n) {
                Ok(i) if (1..=100).contains(&i) && !seats[i] => {
                    seats[i] = true;
                    reserved.push(n);
                }
                _ => refused.push(n),
            }
        }
        let reply = format!("Reservados: {reserved:?} | Indisponíveis/Inválidos: {refused:?}");
        if stream.write_all(reply.as_bytes()).is_err() {
            return;
        }
    }
}

pub(crate) fn client(port: u16, args: &[&str], stdin: &str) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_seatnet-client"))
        .args([
            "--host",
            "127.0.0.1",
            "--port",
            &port.to_string(),
            "--timeout",
            "10",
        ])
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start seatnet-client");
    let mut input = child.stdin.take().expect("piped stdin");
    // A client that already gave up closes its stdin: not this test's
    // concern, its exit code and output are.
    let _ = input.write_all(stdin.as_bytes());
    drop(input);
    child.wait_with_output().expect("client output")
}

#[test]
fn one_shot_reserve_against_the_original_prints_the_reply_and_judges_it() {
    let server = fake_original();
    let port = server.addr.port();

    let out = client(port, &["reserve", "5,10"], "");
    assert_eq!(
        stdout(&out),
        "Reservados: [5, 10] | Indisponíveis/Inválidos: []\n"
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));

    let out = client(port, &["reserve", "10,200"], "");
    assert_eq!(
        stdout(&out),
        "Reservados: [] | Indisponíveis/Inválidos: [10, 200]\n"
    );
    assert_eq!(out.status.code(), Some(1));
}

#[test]
fn the_original_closing_on_bad_input_is_a_clear_error() {
    let server = fake_original();
    let out = client(server.addr.port(), &["reserve", "abc"], "");
    assert_eq!(out.status.code(), Some(3));
    assert!(stdout(&out).is_empty());
    assert!(
        stderr(&out).contains("server closed the connection without replying"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn interactive_dialogue_against_the_original() {
    let server = fake_original();
    let out = client(server.addr.port(), &[], "1,2\n\n7,7\nSAIR\n3\n");
    let text = stdout(&out);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(text.starts_with("✅ Conectado ao servidor.\n"), "{text}");
    assert!(
        text.contains("Digite os assentos para reservar (ex: 5,10,22) ou 'sair': "),
        "{text}"
    );
    assert!(
        text.contains("[RESPOSTA] Reservados: [1, 2] | Indisponíveis/Inválidos: []\n"),
        "{text}"
    );
    assert!(
        text.contains("[RESPOSTA] Reservados: [7] | Indisponíveis/Inválidos: [7]\n"),
        "{text}"
    );
    // The empty line was not sent, and nothing after `sair` was.
    assert_eq!(text.matches("[RESPOSTA]").count(), 2, "{text}");
}

#[test]
fn interactive_mode_reports_a_server_that_hangs_up() {
    let server = fake_original();
    let out = client(server.addr.port(), &[], "x\n1\n");
    assert_eq!(out.status.code(), Some(3));
    assert!(
        stderr(&out).contains("closed the connection"),
        "{}",
        stderr(&out)
    );
    assert!(!stdout(&out).contains("[RESPOSTA]"));
}

#[test]
fn connection_refused_is_exit_code_3() {
    // A port that was free a moment ago: nothing listens there now.
    let port = TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("free port")
        .port();
    let out = client(port, &["avail"], "");
    assert_eq!(out.status.code(), Some(3));
    assert!(stderr(&out).contains("cannot connect"), "{}", stderr(&out));
}

#[test]
fn a_request_with_a_newline_inside_is_a_usage_error() {
    let out = client(1, &["raw", "1\n2"], "");
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("single line"));
}

#[test]
fn one_shot_commands_against_seatnet_server() {
    let server = ServerProcess::start(&["--quiet"]);
    let port = server.port();

    let out = client(port, &["reserve", "5,10,22"], "");
    assert_eq!(
        stdout(&out),
        "Reservados: [5, 10, 22] | Indisponíveis/Inválidos: []\n"
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));

    let out = client(port, &["book", "5"], "");
    assert!(stdout(&out).starts_with("ERR "), "{}", stdout(&out));
    assert_eq!(out.status.code(), Some(1));

    let out = client(port, &["all", "5,6"], "");
    assert!(stdout(&out).starts_with("ERR conflict"), "{}", stdout(&out));
    assert_eq!(out.status.code(), Some(1));

    let out = client(port, &["any", "3"], "");
    assert!(stdout(&out).starts_with("OK "), "{}", stdout(&out));
    assert_eq!(out.status.code(), Some(0));

    let out = client(port, &["together", "4"], "");
    assert_eq!(out.status.code(), Some(0), "{}", stdout(&out));
    // "OK <ref> seats=..": cancel it by its reference.
    let reference = stdout(&out)
        .split_whitespace()
        .nth(1)
        .expect("a booking reference")
        .to_owned();
    let out = client(port, &["cancel", &reference], "");
    assert!(stdout(&out).starts_with("OK cancelled"), "{}", stdout(&out));
    assert_eq!(out.status.code(), Some(0));
    let out = client(port, &["cancel", &reference], "");
    assert_eq!(out.status.code(), Some(1), "{}", stdout(&out));

    let out = client(port, &["avail"], "");
    assert!(
        stdout(&out).starts_with("OK free=94 total=100"),
        "{}",
        stdout(&out)
    );
    assert_eq!(out.status.code(), Some(0));

    let out = client(port, &["stats"], "");
    assert_eq!(out.status.code(), Some(0), "{}", stdout(&out));

    let out = client(port, &["raw", "QUIT"], "");
    assert_eq!(stdout(&out), "OK bye\n");
    assert_eq!(out.status.code(), Some(0));
}

#[test]
fn interactive_dialogue_against_seatnet_server() {
    let server = ServerProcess::start(&["--quiet"]);
    let out = client(server.port(), &[], "1,1\nnot a seat\nany 2\nquit\n");
    let text = stdout(&out);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(
        text.contains("[RESPOSTA] Reservados: [1] | Indisponíveis/Inválidos: [1]\n"),
        "{text}"
    );
    // seatnet answers bad input with an error and keeps the connection.
    assert!(text.contains("[RESPOSTA] ERR "), "{text}");
    assert!(text.contains("[RESPOSTA] OK "), "{text}");
}

/// A change whose connection is lost before the reply is sent again, on a
/// new connection, with the same request id; `show` sends `SHOW`.
#[test]
fn a_lost_reply_is_retried_with_the_same_request_id() {
    use std::io::{BufRead, BufReader};
    use std::sync::{Arc, Mutex};
    let seen = Arc::new(Mutex::new(Vec::new()));
    let log = Arc::clone(&seen);
    let fake = FakeServer::start(move |stream| {
        let _ = stream.set_read_timeout(Some(READ_TIMEOUT));
        let mut reader = BufReader::new(stream.try_clone().unwrap());
        let mut line = String::new();
        if reader.read_line(&mut line).unwrap_or(0) == 0 {
            return;
        }
        let mut seen = log.lock().unwrap();
        seen.push(line.clone());
        // The first connection dies before its reply; later ones answer.
        if seen.len() > 1 {
            let mut stream = stream;
            let _ = stream.write_all(b"OK 0123 seats=5\n");
        }
    });
    let port = fake.addr.port();
    let out = client(port, &["any", "1"], "");
    assert_eq!(stdout(&out), "OK 0123 seats=5\n", "{}", stderr(&out));
    assert_eq!(out.status.code(), Some(0));
    let first = seen.lock().unwrap().clone();
    assert_eq!(first.len(), 2, "{first:?}");
    assert_eq!(first[0], first[1], "the retry must be the same request");
    assert!(first[0].starts_with("ANY 1 id="), "{first:?}");
    // Reads carry no id and are not retried.
    let out = client(port, &["--retries", "0", "show", "abc"], "");
    assert_eq!(stdout(&out), "OK 0123 seats=5\n");
    assert_eq!(seen.lock().unwrap().last().unwrap(), "SHOW abc\n");
}

/// The interactive client gives a typed change a request id and retries it
/// after a lost connection; a typed original list gets no id.
#[test]
fn interactive_changes_carry_request_ids_and_are_retried() {
    use std::io::{BufRead, BufReader};
    use std::sync::{Arc, Mutex};
    let seen = Arc::new(Mutex::new(Vec::new()));
    let log = Arc::clone(&seen);
    let fake = FakeServer::start(move |stream| {
        let _ = stream.set_read_timeout(Some(READ_TIMEOUT));
        let mut reader = BufReader::new(stream.try_clone().unwrap());
        let mut stream = stream;
        loop {
            let mut line = String::new();
            if reader.read_line(&mut line).unwrap_or(0) == 0 {
                return;
            }
            let mut seen = log.lock().unwrap();
            seen.push(line.clone());
            // The first change's connection dies before its reply.
            if line.starts_with("any") && seen.iter().filter(|l| l.starts_with("any")).count() == 1
            {
                return;
            }
            let _ = stream.write_all(b"OK 0123 seats=5\n");
        }
    });
    let out = client(fake.addr.port(), &[], "7,8\nany 1\nquit\n");
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(
        stdout(&out).matches("[RESPOSTA] OK 0123 seats=5\n").count(),
        2,
        "{}",
        stdout(&out)
    );
    let seen = seen.lock().unwrap().clone();
    assert_eq!(seen.len(), 3, "{seen:?}");
    assert_eq!(seen[0], "7,8\n", "an original list is sent as typed");
    assert!(seen[1].starts_with("any 1 id="), "{seen:?}");
    assert_eq!(seen[1], seen[2], "the retry must be the same request");
    assert!(stderr(&out).contains("retrying with the same request id"));
}

//! The framing grace (`Config::grace`, `--grace-ms`): a line written in
//! pieces joins up before the connection's kind is known, and an original
//! client still gets its answer. The tests set the grace generously (2 s)
//! and pause 20 ms between pieces, so a slow machine cannot fail them; the
//! replies are compared with those to the same bytes written at once.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::thread;
use std::time::Duration;

use seatnet::Config;

use crate::support::{TestServer, connect, reference, seats};

const GRACE: Duration = Duration::from_secs(2);
const PAUSE: Duration = Duration::from_millis(20);

fn server() -> TestServer {
    TestServer::start(Config {
        threads: 2,
        grace: GRACE,
        ..Config::default()
    })
}

/// What a command needs from a fresh server before it runs (a booking to
/// cancel), and the command itself.
fn command(name: &str, server: &TestServer) -> String {
    match name {
        "CANCEL" => {
            let r = reference(&server.line_client().ask("BOOK 7,8"));
            format!("CANCEL {r}\n")
        }
        other => other.to_owned(),
    }
}

/// The commands, each as its client would write it (lines end in `\n`;
/// the original's list has no terminator).
const COMMANDS: [&str; 10] = [
    "BOOK 5,10\n",
    "ALL 1,2,3\n",
    "ANY 3\n",
    "TOGETHER 4\n",
    "CANCEL",
    "AVAIL\n",
    "STATS\n",
    "HELP\n",
    "5,10,22\n",
    "5,10,22",
];

/// Sends `pieces` with [`PAUSE`] between them on a new connection and
/// returns the reply: one line (without its newline) for a request that
/// ends in a newline, else what one read returns.
fn ask_in_pieces(server: &TestServer, pieces: &[&[u8]]) -> String {
    let mut stream = connect(server.addr);
    let newline = pieces.last().is_some_and(|p| p.ends_with(b"\n"));
    for (i, piece) in pieces.iter().enumerate() {
        if i > 0 {
            thread::sleep(PAUSE);
        }
        stream.write_all(piece).expect("send");
    }
    read_reply(stream, newline)
}

fn read_reply(stream: TcpStream, newline: bool) -> String {
    if newline {
        let mut line = String::new();
        BufReader::new(stream)
            .read_line(&mut line)
            .expect("a reply");
        assert!(line.ends_with('\n'), "{line:?}");
        line.pop();
        line
    } else {
        let mut reply = vec![0u8; 4096];
        let n = (&stream).read(&mut reply).expect("a reply");
        reply.truncate(n);
        String::from_utf8(reply).expect("UTF-8")
    }
}

/// The reply with what differs from one server to the next blanked out:
/// booking references, and which seats `ANY`/`TOGETHER` picked (they pick
/// at random; how many they picked stays).
fn normalized(reply: &str) -> String {
    reply
        .split(' ')
        .map(|word| {
            if word.len() == 32 && word.bytes().all(|b| b.is_ascii_hexdigit()) {
                "<ref>".to_owned()
            } else if let Some(list) = word.strip_prefix("seats=") {
                format!("seats=<{} seats>", seats(list).len())
            } else {
                word.to_owned()
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

#[test]
fn every_split_point_of_every_command_gives_the_one_write_reply() {
    // One thread per command: the original's list waits the whole grace
    // at each split point.
    let handles: Vec<_> = COMMANDS
        .iter()
        .map(|&name| {
            thread::spawn(move || {
                let whole = {
                    let server = server();
                    let cmd = command(name, &server);
                    normalized(&ask_in_pieces(&server, &[cmd.as_bytes()]))
                };
                assert!(!whole.starts_with("ERR"), "{name:?}: {whole}");
                let len = {
                    let server = server();
                    command(name, &server).len()
                };
                for at in 1..len {
                    let server = server();
                    let cmd = command(name, &server);
                    let (a, b) = cmd.as_bytes().split_at(at);
                    let split = normalized(&ask_in_pieces(&server, &[a, b]));
                    assert_eq!(split, whole, "{cmd:?} split at {at}");
                }
            })
        })
        .collect();
    for handle in handles {
        handle.join().expect("no split point differs");
    }
}

#[test]
fn writeln_style_clients_with_nagle_get_the_one_write_reply() {
    let server = server();
    let mut stream = connect(server.addr);
    stream.set_nodelay(false).unwrap();
    // `writeln!` on an unbuffered stream: "BOOK ", "5", ",", "10", "\n".
    let (a, b) = (5, 10);
    writeln!(stream, "BOOK {a},{b}").unwrap();
    let reply = read_reply(stream, true);
    assert!(reply.starts_with("OK "), "{reply}");
    assert_eq!(crate::support::field(&reply, "reserved"), "5,10");

    // The same for a digit-first line, the case the grace exists for.
    let mut stream = connect(server.addr);
    stream.set_nodelay(false).unwrap();
    let (a, b) = (1, 2);
    writeln!(stream, "{a},{b}").unwrap();
    assert_eq!(
        read_reply(stream, true),
        "Reservados: [1, 2] | Indisponíveis/Inválidos: []"
    );
}

#[test]
fn an_original_client_that_types_a_word_gets_its_error_without_newline() {
    // The default grace: a letter-first partial waits about a second.
    let server = TestServer::small();
    let mut client = server.original_client();
    let reply = client.ask("abc");
    assert!(reply.starts_with("ERR "), "{reply}");
    assert!(!reply.ends_with('\n'), "{reply:?}");
    // A trailing comma too, and the connection goes on.
    let reply = client.ask("5,");
    assert!(reply.starts_with("ERR "), "{reply}");
    assert_eq!(
        client.ask("5,10 "),
        "Reservados: [5, 10] | Indisponíveis/Inválidos: []"
    );
}

#[test]
fn an_original_client_is_answered_request_after_request() {
    // After its first request, each later one is answered alone, even if
    // it arrives soon after the reply (no second grace to join it up).
    let server = server();
    let mut client = server.original_client();
    for seat in 1..=5 {
        assert_eq!(
            client.ask(&seat.to_string()),
            format!("Reservados: [{seat}] | Indisponíveis/Inválidos: []")
        );
    }
}

//! Newline framing: pipelining, `\r\n`, line mode, and how the two kinds of
//! client coexist.

use std::thread;
use std::time::Duration;

use crate::support::TestServer;

#[test]
fn pipelined_lines_in_one_write_are_answered_in_order() {
    let server = TestServer::small();
    let mut client = server.line_client();
    let mut batch = String::new();
    for seat in 1..=50 {
        batch.push_str(&format!("{seat}\n"));
    }
    batch.push_str("1,2\r\nSTATS\r\n");
    client.send(batch.as_bytes());
    for seat in 1..=50 {
        assert_eq!(
            client.line(),
            format!("Reservados: [{seat}] | Indisponíveis/Inválidos: []")
        );
    }
    assert_eq!(
        client.line(),
        "Reservados: [] | Indisponíveis/Inválidos: [1, 2]"
    );
    assert!(
        client
            .line()
            .starts_with("OK seats=100 free=50 reserved=50 ")
    );
}

#[test]
fn in_line_mode_a_partial_line_waits_for_its_newline() {
    let server = TestServer::small();
    let mut client = server.line_client();
    assert_eq!(
        client.ask("1"),
        "Reservados: [1] | Indisponíveis/Inválidos: []"
    );
    client.send(b"2,");
    // Give the server every chance to (wrongly) answer "2," on its own.
    thread::sleep(Duration::from_millis(100));
    client.send(b"3\n");
    assert_eq!(
        client.line(),
        "Reservados: [2, 3] | Indisponíveis/Inválidos: []"
    );
}

#[test]
fn a_large_pipelined_batch_spanning_many_reads() {
    let server = TestServer::start(seatnet::Config {
        threads: 2,
        seats: 100_000,
        ..seatnet::Config::default()
    });
    let mut client = server.line_client();
    let total = 20_000u64;
    let mut batch = String::new();
    for seat in 1..=total {
        batch.push_str(&format!("{seat}\n"));
    }
    // Write from another thread: replies flow back while we still send.
    let mut writer = client.writer.try_clone().unwrap();
    let sender = thread::spawn(move || {
        use std::io::Write;
        writer.write_all(batch.as_bytes()).unwrap();
    });
    for seat in 1..=total {
        assert_eq!(
            client.line(),
            format!("Reservados: [{seat}] | Indisponíveis/Inválidos: []")
        );
    }
    sender.join().unwrap();
}

#[test]
fn an_original_request_then_lines_on_one_connection() {
    let server = TestServer::small();
    let mut client = server.line_client();
    client.send(b"4");
    let mut reply = vec![0u8; 200];
    let n = std::io::Read::read(&mut client.reader, &mut reply).unwrap();
    assert_eq!(
        &reply[..n],
        "Reservados: [4] | Indisponíveis/Inválidos: []".as_bytes()
    );
    assert_eq!(
        client.ask("4"),
        "Reservados: [] | Indisponíveis/Inválidos: [4]"
    );
}

#[test]
fn a_last_line_without_newline_before_half_close_is_answered() {
    let server = TestServer::small();
    let mut client = server.line_client();
    client.send(b"1\n2");
    // In line mode "2" waits; closing our side ends it.
    assert_eq!(
        client.line(),
        "Reservados: [1] | Indisponíveis/Inválidos: []"
    );
    client.writer.shutdown(std::net::Shutdown::Write).unwrap();
    let mut rest = String::new();
    std::io::Read::read_to_string(&mut client.reader, &mut rest).unwrap();
    assert_eq!(rest, "Reservados: [2] | Indisponíveis/Inválidos: []");
}

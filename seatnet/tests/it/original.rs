//! An unmodified original client gets exactly the original server's bytes.

use crate::support::TestServer;

#[test]
fn the_documented_table_byte_for_byte() {
    let server = TestServer::small();
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
        // The two rows docs/protocol.md adds.
        (
            " 05 , -007, 1_1",
            "Reservados: [11] | Indisponíveis/Inválidos: [5, -7]",
        ),
        ("６,٣", "Reservados: [6] | Indisponíveis/Inválidos: [3]"),
    ];
    // "one client after the other": a new connection for each request.
    for (request, reply) in table {
        let mut client = server.original_client();
        assert_eq!(
            client.ask_bytes(request.as_bytes()),
            reply.as_bytes(),
            "{request}"
        );
    }
}

#[test]
fn the_example_reply_is_53_bytes_without_newline() {
    let server = TestServer::small();
    let mut client = server.original_client();
    client.ask("22");
    let reply = client.ask_bytes(b"5,10,22");
    assert_eq!(
        reply,
        "Reservados: [5, 10] | Indisponíveis/Inválidos: [22]".as_bytes()
    );
    assert_eq!(reply.len(), 53);
    assert_ne!(reply.last(), Some(&b'\n'));
}

#[test]
fn many_requests_on_one_connection() {
    let server = TestServer::small();
    let mut client = server.original_client();
    for seat in 1..=100 {
        assert_eq!(
            client.ask(&seat.to_string()),
            format!("Reservados: [{seat}] | Indisponíveis/Inválidos: []")
        );
    }
    assert_eq!(
        client.ask("50"),
        "Reservados: [] | Indisponíveis/Inválidos: [50]"
    );
}

#[test]
fn numbers_are_echoed_in_canonical_decimal() {
    let server = TestServer::small();
    let mut client = server.original_client();
    let cases = [
        (
            " 05 , +6",
            "Reservados: [5, 6] | Indisponíveis/Inválidos: []",
        ),
        (
            "-0,+0,000",
            "Reservados: [] | Indisponíveis/Inválidos: [0, 0, 0]",
        ),
        (
            "-007,1_0",
            "Reservados: [10] | Indisponíveis/Inválidos: [-7]",
        ),
        (
            "000123456789012345678901234567890,-99999999999999999999999",
            "Reservados: [] | Indisponíveis/Inválidos: [123456789012345678901234567890, -99999999999999999999999]",
        ),
        (
            "18446744073709551615",
            "Reservados: [] | Indisponíveis/Inválidos: [18446744073709551615]",
        ),
        (
            "100,101",
            "Reservados: [100] | Indisponíveis/Inválidos: [101]",
        ),
        (
            "\t11\x0b,\x0c12\r",
            "Reservados: [11, 12] | Indisponíveis/Inválidos: []",
        ),
        (
            "\x1c13\u{a0},\u{85}14\u{3000}\x1f",
            "Reservados: [13, 14] | Indisponíveis/Inválidos: []",
        ),
        (
            "15,15,15",
            "Reservados: [15] | Indisponíveis/Inválidos: [15, 15]",
        ),
    ];
    for (request, reply) in cases {
        assert_eq!(client.ask(request), reply, "{request:?}");
    }
}

#[test]
fn a_request_of_the_originals_maximum_size() {
    let server = TestServer::small();
    let mut client = server.original_client();
    // 1024 bytes, the original server's single recv.
    let mut request = "1".to_owned();
    while request.len() + 2 <= 1024 {
        request.push_str(",1");
    }
    let reply = client.ask(&request);
    let pieces = request.split(',').count();
    assert!(
        reply.starts_with("Reservados: [1] | Indisponíveis/Inválidos: [1, 1"),
        "{reply}"
    );
    // One reserved, the rest in the second list (pieces - 2 separators).
    assert_eq!(reply.matches(", 1").count() + 2, pieces);
}

//! Every bad input gets one clear `ERR` line and the connection stays
//! usable.

use crate::support::TestServer;

#[test]
fn bad_lines_get_errors_and_the_connection_goes_on() {
    let server = TestServer::small();
    let mut client = server.line_client();
    let cases: [(&[u8], &str); 17] = [
        (b"abc", "ERR bad-request: 'abc' is not a seat number"),
        (b"", "ERR bad-request: empty request"),
        (b"   ", "ERR bad-request: empty request"),
        (b"5,,6", "ERR bad-request: empty seat number"),
        (b",", "ERR bad-request: empty seat number"),
        (b"5,", "ERR bad-request: empty seat number"),
        (b"2.5", "ERR bad-request: '2.5' is not a seat number"),
        (b"+-5", "ERR bad-request: '+-5' is not a seat number"),
        (b"1__0", "ERR bad-request: '1__0' is not a seat number"),
        (b"\xff\xfe", "ERR bad-request: request is not valid UTF-8"),
        (b"5\x00", "ERR bad-request: control character 0x00"),
        (b"\x1b[A", "ERR bad-request: control character 0x1b"),
        (b"FROB 5", "ERR unknown-command: 'FROB' is not a command"),
        (b"ANY", "ERR bad-request: missing argument"),
        (b"ANY x", "ERR bad-request: 'x' is not a seat count"),
        (b"TOGETHER 0", "ERR bad-request: '0' is not a seat count"),
        (b"HELP me", "ERR bad-request: HELP takes no argument"),
    ];
    for (request, expected) in cases {
        let mut line = request.to_vec();
        line.push(b'\n');
        client.send(&line);
        let reply = client.line();
        assert!(reply.starts_with(expected), "{request:?} gave {reply:?}");
        assert!(!reply.contains('\r'));
        // Still usable: a plain request works after every error.
        assert_eq!(
            client.ask("0"),
            "Reservados: [] | Indisponíveis/Inválidos: [0]"
        );
    }
}

#[test]
fn an_original_client_gets_errors_without_newline() {
    let server = TestServer::small();
    let mut client = server.original_client();
    assert_eq!(
        client.ask("abc"),
        "ERR bad-request: 'abc' is not a seat number (send seats like 5,10,22, or HELP)"
    );
    assert_eq!(
        client.ask("5"),
        "Reservados: [5] | Indisponíveis/Inválidos: []"
    );
}

#[test]
fn echoed_input_is_escaped_and_bounded() {
    let server = TestServer::small();
    let mut client = server.line_client();
    let reply = client.ask(&format!("é{}", "x".repeat(3000)));
    assert!(reply.starts_with("ERR bad-request: '\\u{e9}xxx"), "{reply}");
    assert!(reply.len() < 200, "{reply}");
}

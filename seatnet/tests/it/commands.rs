//! The richer commands, end to end.

use crate::support::{TestServer, field, reference, seats};

#[test]
fn book_then_cancel() {
    let server = TestServer::small();
    let mut client = server.line_client();
    client.ask("22");
    let booked = client.ask("BOOK 5,10,22,0");
    assert!(booked.starts_with("OK "), "{booked}");
    assert_eq!(field(&booked, "reserved"), "5,10");
    assert_eq!(field(&booked, "taken"), "22");
    assert_eq!(field(&booked, "invalid"), "0");
    assert_eq!(
        client.ask("book 5,0"),
        "ERR none-reserved: taken=5 invalid=0"
    );
    let r = reference(&booked);
    assert_eq!(
        client.ask(&format!("CANCEL {r}")),
        format!("OK cancelled {r} seats=5,10")
    );
    // Freed: anyone can have them now, even an original request.
    assert_eq!(
        client.ask("5,10,22"),
        "Reservados: [5, 10] | Indisponíveis/Inválidos: [22]"
    );
}

#[test]
fn cancel_with_a_wrong_or_spent_reference() {
    let server = TestServer::small();
    let mut client = server.line_client();
    let r = reference(&client.ask("BOOK 1"));
    let mut wrong = r.clone().into_bytes();
    wrong[0] = if wrong[0] == b'0' { b'1' } else { b'0' };
    let wrong = String::from_utf8(wrong).unwrap();
    assert_eq!(
        client.ask(&format!("CANCEL {wrong}")),
        format!("ERR unknown-booking: {wrong}")
    );
    assert_eq!(client.ask("CANCEL 42"), "ERR unknown-booking: 42");
    assert_eq!(
        client.ask(&format!("cancel {r}")),
        format!("OK cancelled {r} seats=1")
    );
    assert_eq!(
        client.ask(&format!("CANCEL {r}")),
        format!("ERR unknown-booking: {r}")
    );
    // Seats of plain requests have no reference; nothing frees them.
    client.ask("2");
    assert!(client.ask("AVAIL").ends_with("seats=1,3-100"));
}

#[test]
fn a_reference_works_from_another_connection() {
    let server = TestServer::small();
    let r = reference(&server.line_client().ask("ALL 7,8,10"));
    let mut other = server.line_client();
    assert_eq!(
        other.ask(&format!("CANCEL {r}")),
        format!("OK cancelled {r} seats=7-8,10")
    );
}

#[test]
fn all_or_nothing() {
    let server = TestServer::small();
    let mut client = server.line_client();
    client.ask("22");
    assert_eq!(client.ask("ALL 5,22,6"), "ERR conflict: taken=22");
    assert_eq!(
        client.ask("ALL 5,0,101"),
        "ERR invalid-seat: 0,101 (seats are 1..100)"
    );
    assert_eq!(client.ask("ALL 5,6,5"), "ERR duplicate-seat: 5");
    assert!(
        client.ask("AVAIL").starts_with("OK free=99 "),
        "nothing was kept"
    );
    // Ascending runs, whatever the request's order.
    let ok = client.ask("ALL 6,5,9");
    assert_eq!(field(&ok, "seats"), "5-6,9");
}

#[test]
fn any_and_together() {
    let server = TestServer::start(seatnet::Config {
        threads: 4,
        seats: 10,
        ..seatnet::Config::default()
    });
    let mut client = server.line_client();
    client.ask("3,7,8");
    let together = client.ask("TOGETHER 3");
    assert_eq!(field(&together, "seats"), "4-6");
    assert_eq!(
        client.ask("together 3"),
        "ERR not-enough: no 3 adjacent free seats (4 free)"
    );
    let any = client.ask("ANY 4");
    let got = seats(field(&any, "seats"));
    assert_eq!(got.len(), 4);
    assert!(got.iter().all(|s| [1, 2, 9, 10].contains(s)), "{any}");
    assert_eq!(client.ask("ANY 1"), "ERR not-enough: asked for 1, 0 free");
    let r = reference(&together);
    assert_eq!(
        client.ask(&format!("CANCEL {r}")),
        format!("OK cancelled {r} seats=4-6")
    );
    assert!(
        client
            .ask("AVAIL")
            .starts_with("OK free=3 total=10 seats=4-6")
    );
}

#[test]
fn avail_stats_help_quit() {
    let server = TestServer::small();
    let mut client = server.line_client();
    client.ask("5,10");
    client.ask("BOOK 20");
    client.ask("nonsense");
    assert_eq!(
        client.ask("AVAIL"),
        "OK free=97 total=100 seats=1-4,6-9,11-19,21-100"
    );
    let stats = client.ask("STATS");
    assert_eq!(field(&stats, "seats"), "100");
    assert_eq!(field(&stats, "free"), "97");
    assert_eq!(field(&stats, "reserved"), "3");
    assert_eq!(field(&stats, "bookings"), "1");
    assert_eq!(field(&stats, "connections"), "1");
    assert_eq!(field(&stats, "requests"), "4");
    assert_eq!(field(&stats, "errors"), "1");
    let help = client.ask("help");
    for verb in [
        "BOOK", "ALL", "ANY", "TOGETHER", "CANCEL", "AVAIL", "STATS", "QUIT",
    ] {
        assert!(help.contains(verb), "{help}");
    }
    assert_eq!(client.ask("Quit"), "OK bye");
    assert!(client.is_closed());
}

//! What only the event-loop mode (`Io::Events`) has to show: one thread
//! serves more connections than there are workers. The scenarios every mode
//! must pass run in both modes in the other modules (`support::each_io`).

use seatnet::{Config, Io};

use crate::support::{LineClient, TestServer};

#[test]
fn more_clients_than_threads_are_served_at_once() {
    // `threads` is ignored: 300 open connections, all answered.
    let server = TestServer::start(Config {
        io: Io::Events,
        threads: 1,
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

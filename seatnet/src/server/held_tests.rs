//! Replies held for the journal: over a `FaultyStorage` whose syncs the
//! test holds, a change's reply waits for its sync while the one worker
//! goes on answering other connections, and shutdown waits for it too.

use std::io::{BufRead, BufReader, ErrorKind, Write};
use std::net::TcpStream;
use std::sync::Arc;
use std::time::Duration;

use seatlog::testing::FaultyStorage;

use super::Server;
use crate::catalog::{Catalog, MapDef};
use crate::config::Config;
use crate::durable::DataOptions;

/// Bounded polling: at most this many tries, `NAP` apart.
const TRIES: usize = 500;
const NAP: Duration = Duration::from_millis(10);

fn line(reader: &mut BufReader<TcpStream>) -> std::io::Result<String> {
    let mut line = String::new();
    reader.read_line(&mut line)?;
    Ok(line)
}

/// `STATS` on a new connection.
fn stats(addr: std::net::SocketAddr) -> String {
    let stream = TcpStream::connect(addr).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let mut reader = BufReader::new(stream);
    reader.get_mut().write_all(b"STATS\n").unwrap();
    line(&mut reader).unwrap()
}

#[test]
fn a_reply_waits_for_its_sync_without_holding_a_worker() {
    let storage = FaultyStorage::new();
    let options = DataOptions {
        segment_size: 64 << 10,
        max_record_size: 2 << 10,
        snapshot_every: 0,
        ..DataOptions::default()
    };
    let (catalog, _) = Catalog::open_in(
        &[MapDef::numbered_default(100)],
        Arc::new(storage.clone()),
        options,
    )
    .unwrap();
    let config = Config {
        port: 0,
        seats: 100,
        threads: 1,
        ..Config::default()
    };
    let server = Server::bind_with(config, catalog, None).unwrap();
    let addr = server.local_addr();
    let stop = server.shutdown_handle();
    let running = std::thread::spawn(move || server.run());

    storage.hold_syncs(true);
    let booker = TcpStream::connect(addr).unwrap();
    let mut booker = BufReader::new(booker);
    booker.get_mut().write_all(b"BOOK 5\n").unwrap();
    // The one worker answers STATS on other connections meanwhile; once it
    // shows the BOOK's record written, the writer is in its (held) sync.
    let mut written = false;
    for _ in 0..TRIES {
        let reply = stats(addr);
        assert!(reply.starts_with("OK seats=100 "), "{reply}");
        if reply.contains(" journal_records=1 ") {
            assert!(reply.contains(" reserved=1 "), "{reply}");
            written = true;
            break;
        }
        std::thread::sleep(NAP);
    }
    assert!(written, "the BOOK's record was never written");
    // Not synced, so not acknowledged.
    booker
        .get_ref()
        .set_read_timeout(Some(Duration::from_millis(200)))
        .unwrap();
    let early = line(&mut booker).unwrap_err();
    assert!(
        matches!(early.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut),
        "{early}"
    );
    // Shutdown waits for the held reply too.
    stop.shutdown();
    storage.hold_syncs(false);
    booker
        .get_ref()
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let reply = line(&mut booker).unwrap();
    assert!(
        reply.starts_with("OK ") && reply.contains("reserved=5 "),
        "{reply}"
    );
    assert!(storage.syncs() >= 1);
    assert_eq!(line(&mut booker).unwrap(), "", "closed after the reply");
    running.join().unwrap().unwrap();
}

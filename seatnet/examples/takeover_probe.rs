//! One takeover, timed: books a few seats of MAP through SURVIVOR (which
//! sends it on to the map's owner with `ERR moved`), checks that SURVIVOR
//! still names OWNER as the owner, then `kill -9`s the owner's process
//! PID and asks SURVIVOR for `ANY 1` on MAP every 20 ms,
//! following `ERR moved` and waiting out `ERR no-owner` and a dead owner,
//! until a booking succeeds. Prints one line:
//!
//! ```text
//! takeover_ms=5321.4 kept=5/5 moved=212 no_owner=40 refused=212
//! ```
//!
//! `takeover_ms` runs from just before the kill to the first `OK` of an
//! `ANY 1`; `kept` counts the seats booked (and acknowledged) before the
//! kill that the new owner still holds as taken; the rest count the
//! replies and failed connections seen on the way. Exit status 1, with a
//! message, if anything else happens or no booking succeeds within 60 s.
//!
//! ```text
//! cargo run --release -p seatnet --example takeover_probe -- SURVIVOR MAP OWNER PID
//! ```
//!
//! `scripts/bench-cluster.sh` runs it; `docs/performance.md` ("Cluster
//! through etcd") has the figures. Loopback addresses only.

use std::io::{BufRead, BufReader, Write};
use std::net::{SocketAddr, TcpStream};
use std::process::Command;
use std::time::{Duration, Instant};

/// Seats booked before the kill, to see whether the new owner has them.
const BOOKED: usize = 5;
/// Pause between attempts while the map has no live owner.
const PAUSE: Duration = Duration::from_millis(20);
/// The longest a takeover is waited for.
const GIVE_UP: Duration = Duration::from_secs(60);
/// `ERR moved` followed in a row before starting again at the survivor.
const HOPS: usize = 4;

type Error = Box<dyn std::error::Error>;

/// One line-protocol connection.
struct Line {
    reader: BufReader<TcpStream>,
    writer: TcpStream,
}

impl Line {
    fn connect(addr: SocketAddr) -> std::io::Result<Line> {
        let stream = TcpStream::connect_timeout(&addr, Duration::from_secs(1))?;
        stream.set_read_timeout(Some(Duration::from_secs(10)))?;
        stream.set_nodelay(true)?;
        Ok(Line {
            reader: BufReader::new(stream.try_clone()?),
            writer: stream,
        })
    }

    fn ask(&mut self, request: &str) -> std::io::Result<String> {
        self.writer.write_all(format!("{request}\n").as_bytes())?;
        let mut reply = String::new();
        if self.reader.read_line(&mut reply)? == 0 {
            return Err(std::io::ErrorKind::UnexpectedEof.into());
        }
        Ok(reply.trim_end().to_owned())
    }
}

/// What was seen on the way to the first booking.
#[derive(Default)]
struct Seen {
    moved: u32,
    no_owner: u32,
    refused: u32,
}

/// An address named by a reply, refused unless it is loopback.
fn loopback(text: &str) -> Result<SocketAddr, Error> {
    let addr: SocketAddr = text.parse().map_err(|e| format!("{text}: {e}"))?;
    if !addr.ip().is_loopback() {
        return Err(format!("{addr} is not a loopback address").into());
    }
    Ok(addr)
}

/// Asks `USE map` then `request` at `start`, following `ERR moved` at
/// most [`HOPS`] times. `Ok(Some(reply))` once a node serves the map
/// (whatever `request` answers); `Ok(None)` when the map has no live owner
/// right now (no owner, or the one named does not answer: a killed
/// process may still accept a connection for a moment, then reset it).
fn through(
    start: SocketAddr,
    map: &str,
    request: &str,
    seen: &mut Seen,
) -> Result<Option<String>, Error> {
    let mut at = start;
    for _ in 0..HOPS {
        match ask_at(at, map, request, seen) {
            Ok(Step::Moved(owner)) => at = owner,
            Ok(Step::Done(reply)) => return Ok(reply),
            Err(e) if at != start && e.is::<std::io::Error>() => {
                seen.refused += 1;
                return Ok(None);
            }
            Err(e) => return Err(format!("{at}: {e}").into()),
        }
    }
    Err(format!("more than {HOPS} `ERR moved` in a row from {start}").into())
}

/// Where one node sends a request.
enum Step {
    Moved(SocketAddr),
    Done(Option<String>),
}

/// `USE map`, then `request`, at one node.
fn ask_at(at: SocketAddr, map: &str, request: &str, seen: &mut Seen) -> Result<Step, Error> {
    let mut line = Line::connect(at)?;
    let reply = line.ask(&format!("USE {map}"))?;
    if let Some(owner) = reply.strip_prefix("ERR moved ") {
        seen.moved += 1;
        return Ok(Step::Moved(loopback(owner)?));
    }
    if reply.starts_with("ERR no-owner") {
        seen.no_owner += 1;
        return Ok(Step::Done(None));
    }
    if !reply.starts_with("OK using") {
        return Err(format!("USE {map} at {at}: {reply}").into());
    }
    let reply = line.ask(request)?;
    if reply.starts_with("ERR no-owner") || reply.starts_with("ERR moved ") {
        // Lost the map between the two requests: start again.
        seen.no_owner += 1;
        return Ok(Step::Done(None));
    }
    Ok(Step::Done(Some(reply)))
}

/// The seat numbers of an `ANY` reply (`OK <ref> seats=7` or `seats=7-9`).
fn seats(reply: &str) -> Result<Vec<u64>, Error> {
    let list = reply
        .split(' ')
        .find_map(|field| field.strip_prefix("seats="))
        .ok_or_else(|| format!("no seats in {reply}"))?;
    let mut out = Vec::new();
    for run in list.split(',') {
        let (low, high) = run.split_once('-').unwrap_or((run, run));
        out.extend(low.parse::<u64>()?..=high.parse::<u64>()?);
    }
    Ok(out)
}

fn main() -> Result<(), Error> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [survivor, map, owner, pid] = args.as_slice() else {
        return Err(
            "usage: takeover_probe SURVIVOR_HOST:PORT MAP OWNER_HOST:PORT OWNER_PID".into(),
        );
    };
    let survivor = loopback(survivor)?;
    let owner = loopback(owner)?;
    let pid: u32 = pid.parse().map_err(|e| format!("pid {pid}: {e}"))?;
    let mut seen = Seen::default();
    let mut booked = Vec::new();
    while booked.len() < BOOKED {
        match through(survivor, map, "ANY 1", &mut seen)? {
            Some(reply) if reply.starts_with("OK ") => booked.extend(seats(&reply)?),
            other => return Err(format!("booking before the kill: {other:?}").into()),
        }
    }
    // The map must still be where the caller thinks, just before the kill.
    let reply = Line::connect(survivor)?.ask(&format!("USE {map}"))?;
    if reply != format!("ERR moved {owner}") {
        return Err(
            format!("{survivor} answers {reply} to USE {map}, not ERR moved {owner}").into(),
        );
    }
    seen = Seen::default();

    let killed_at = Instant::now();
    let status = Command::new("kill")
        .args(["-9", &pid.to_string()])
        .status()?;
    if !status.success() {
        return Err(format!("kill -9 {pid} failed: {status}").into());
    }
    let (taken, regranted) = loop {
        if let Some(reply) = through(survivor, map, "ANY 1", &mut seen)? {
            if !reply.starts_with("OK ") {
                return Err(format!("ANY 1 after the takeover: {reply}").into());
            }
            break (killed_at.elapsed(), seats(&reply)?);
        }
        if killed_at.elapsed() > GIVE_UP {
            return Err(format!("no booking on {map} within {GIVE_UP:?} of the kill").into());
        }
        std::thread::sleep(PAUSE);
    };

    // A seat still taken answers `ERR none-reserved`; one the new owner
    // lacks is booked again (`OK`), which is harmless here. One the first
    // `ANY 1` after the takeover was granted again is not kept either.
    let mut kept = 0;
    for seat in booked.iter().filter(|seat| !regranted.contains(seat)) {
        match through(survivor, map, &format!("BOOK {seat}"), &mut Seen::default())? {
            Some(reply) if reply.starts_with("ERR none-reserved") => kept += 1,
            Some(reply) if reply.starts_with("OK ") => {}
            other => return Err(format!("BOOK {seat} after the takeover: {other:?}").into()),
        }
    }
    println!(
        "takeover_ms={:.1} kept={kept}/{} moved={} no_owner={} refused={}",
        taken.as_secs_f64() * 1e3,
        booked.len(),
        seen.moved,
        seen.no_owner,
        seen.refused
    );
    Ok(())
}

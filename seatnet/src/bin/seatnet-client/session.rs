//! A connection that comes back: a change carrying a request id is sent
//! again, on a new connection, when the connection is lost before its
//! reply (the server answers a repeated id with the first reply, so the
//! change is never made twice). Used by the one-shot and the interactive
//! modes alike.
//!
//! In a cluster, a node answers a request for a map another node serves
//! with `ERR moved <host:port>`: the session connects there, selects its
//! map again and sends the request again (at most [`MAX_HOPS`] times
//! in a row; a moved request was not made, so sending it again is safe).
//! During a takeover (`ERR no-owner`, or an owner named that does not
//! answer because it died) the request waits, for a bounded time.

use std::time::{Duration, Instant};

use crate::cli::{self, Args, exit};
use crate::connection::{ClientError, Connection};

/// Most `ERR moved` one request follows: more means the nodes disagree
/// about the owner for longer than a request should wait.
pub(crate) const MAX_HOPS: u32 = 4;

/// How long one request waits out a takeover (`ERR no-owner`, an owner
/// that does not answer) before the client gives up: a few lease TTLs.
pub(crate) const TAKEOVER_PATIENCE: Duration = Duration::from_secs(30);

/// The connection of a session, the map it works on, and what it needs to
/// reconnect.
pub(crate) struct Session<'a> {
    args: &'a Args,
    conn: Connection,
    /// The server now talked to: `--host`/`--port`, or where the last
    /// `ERR moved` pointed.
    target: (String, u16),
    /// The map last selected (`--map`, or a typed `USE` the server took),
    /// selected again on a new connection.
    map: Option<String>,
}

impl<'a> Session<'a> {
    /// Connects to the server `args` names and, with `--map`, selects that
    /// map. `Err`: the exit code (the error is printed).
    pub(crate) fn connect(args: &'a Args) -> Result<Self, u8> {
        if args.map.as_ref().is_some_and(|m| m.contains(['\n', '\r'])) {
            eprintln!("error: --map must be a single line");
            return Err(exit::USAGE);
        }
        let conn = Connection::connect(&args.host, args.port, args.timeout()).map_err(fail)?;
        let mut session = Session {
            args,
            conn,
            target: (args.host.clone(), args.port),
            map: args.map.clone(),
        };
        match session.select_map() {
            Ok(None) => Ok(session),
            Ok(Some(refusal)) => {
                eprintln!(
                    "error: --map {}: {refusal}",
                    args.map.as_deref().unwrap_or("")
                );
                Err(exit::REFUSED)
            }
            Err(e) => Err(fail(e)),
        }
    }

    /// Says `USE <map>` on the current connection if a map is selected,
    /// following `ERR moved` and waiting out a takeover as
    /// [`request`](Self::request) does. `Ok(Some(reply))`: the server
    /// refused it.
    fn select_map(&mut self) -> Result<Option<String>, ClientError> {
        let Some(name) = self.map.clone() else {
            return Ok(None);
        };
        let mut patience = Patience::new();
        let mut hops = 0;
        loop {
            let reply = self.conn.request(&format!("USE {name}"))?;
            if reply.starts_with("ERR no-owner:") && patience.wait(&reply) {
                continue;
            }
            match moved_to(&reply) {
                Some(target) if hops < MAX_HOPS => {
                    hops += 1;
                    if let Err(e) = self.connect_to(target) {
                        if !patience.wait(&e.to_string()) {
                            return Err(e);
                        }
                        hops = 0;
                        self.back_to_origin()?;
                    }
                }
                _ => return Ok((!reply.starts_with("OK using ")).then_some(reply)),
            }
        }
    }

    /// Connects to `--host`/`--port` again, if the session moved away.
    fn back_to_origin(&mut self) -> Result<(), ClientError> {
        let origin = (self.args.host.clone(), self.args.port);
        if self.target == origin {
            return Ok(());
        }
        self.connect_to(origin)
    }

    /// Sends `line` and returns its reply, following `ERR moved` to the
    /// node that serves the map (the last `ERR moved` is returned after
    /// [`MAX_HOPS`] in a row), and waiting out a takeover: `ERR no-owner`,
    /// or a node named by `ERR moved` that does not answer (an owner that
    /// died, its lease not yet expired), are tried again after a pause,
    /// the latter from `--host`/`--port`, for at most [`TAKEOVER_PATIENCE`].
    /// Neither was a change made, so sending the line again is safe. If
    /// the connection is lost before the reply, reconnects (selecting the
    /// session's map again) and sends the same line again, up to
    /// `retries` times (pass 0 for a line that must not be repeated: one
    /// without a request id).
    pub(crate) fn request(&mut self, line: &str, retries: u32) -> Result<String, ClientError> {
        let mut patience = Patience::new();
        let mut hops = 0;
        loop {
            let reply = self.request_here(line, retries)?;
            if reply.starts_with("ERR no-owner:") && patience.wait(&reply) {
                continue;
            }
            let Some(target) = moved_to(&reply).filter(|_| hops < MAX_HOPS) else {
                self.note_use(line, &reply);
                return Ok(reply);
            };
            hops += 1;
            if let Err(e) = self.connect_to(target) {
                if !patience.wait(&e.to_string()) {
                    return Err(e);
                }
                hops = 0;
                // Ask the node first asked again: it learns the new owner.
                let origin = (self.args.host.clone(), self.args.port);
                if self.target == origin {
                    // Still connected there, its map selected.
                    continue;
                }
                self.connect_to(origin)?;
            }
            // A `USE` is itself what selects the map there.
            if !first_word_is(line, "USE") {
                if let Some(refusal) = self.select_map()? {
                    return Ok(refusal);
                }
            }
        }
    }

    /// [`request`](Self::request) on the current node.
    fn request_here(&mut self, line: &str, retries: u32) -> Result<String, ClientError> {
        let mut attempt = 0;
        loop {
            match self.conn.request(line) {
                Err(e) if attempt < retries && lost(&e) => {
                    attempt += 1;
                    eprintln!(
                        "warning: {e}; retrying with the same request id ({attempt}/{retries})"
                    );
                    std::thread::sleep(Duration::from_millis(100 << attempt.min(5)));
                    match self.reconnect() {
                        Ok(()) => {}
                        Err(e) if attempt >= retries => return Err(e),
                        Err(e) => eprintln!("warning: {e}"),
                    }
                }
                other => return other,
            }
        }
    }

    /// Connects to the node `target` (an `ERR moved` said so).
    fn connect_to(&mut self, target: (String, u16)) -> Result<(), ClientError> {
        eprintln!("note: moved to {}:{}", target.0, target.1);
        self.conn = Connection::connect(&target.0, target.1, self.args.timeout())?;
        self.target = target;
        Ok(())
    }

    fn reconnect(&mut self) -> Result<(), ClientError> {
        let (host, port) = &self.target;
        self.conn = Connection::connect(host, *port, self.args.timeout())?;
        match self.select_map()? {
            None => Ok(()),
            // The map went away meanwhile: a retry there would land on
            // another map, so it is not made.
            Some(_) => Err(ClientError::Closed),
        }
    }

    /// Remembers a map the server accepted for `USE`, so a new connection
    /// selects it again.
    fn note_use(&mut self, line: &str, reply: &str) {
        let mut words = line.split_whitespace();
        if words.next().is_some_and(|w| w.eq_ignore_ascii_case("USE"))
            && reply.starts_with("OK using ")
        {
            if let Some(name) = words.next() {
                self.map = Some(name.to_owned());
            }
        }
    }

    /// The retries a line gets: `--retries` for one carrying a request id.
    pub(crate) fn retries_for(&self, has_id: bool) -> u32 {
        if has_id { self.args.retries } else { 0 }
    }
}

/// The verbs that change seats and take a request id.
const CHANGE_VERBS: [&str; 8] = [
    "BOOK", "ALL", "ANY", "TOGETHER", "CANCEL", "HOLD", "EXTEND", "CONFIRM",
];

/// Whether a typed line is a change verb's request (`HOLD 12A`, `cancel
/// REF`), judged by its first word alone so cabin labels count too.
pub(crate) fn is_change_verb(line: &str) -> bool {
    let word = line.split_whitespace().next().unwrap_or("");
    CHANGE_VERBS.iter().any(|v| word.eq_ignore_ascii_case(v))
}

/// A typed line as it is sent: a change command (`BOOK`, `ALL`, `ANY`,
/// `TOGETHER`, `CANCEL`, `HOLD`, `EXTEND`, `CONFIRM`) without an `id=`
/// gets a fresh one. Returns the line and whether it carries an id (and so
/// may be retried). Original seat lists cannot carry one (the original
/// protocol has no room for it), so they are sent as typed and never
/// repeated.
pub(crate) fn with_request_id(line: &str) -> (String, bool) {
    if !is_change_verb(line) {
        return (line.to_owned(), false);
    }
    let has_id = line
        .split_whitespace()
        .last()
        .is_some_and(|w| w.len() > 3 && w[..3].eq_ignore_ascii_case("id="));
    if has_id {
        (line.to_owned(), true)
    } else {
        (
            format!("{} id={}", line.trim_end(), cli::request_id()),
            true,
        )
    }
}

/// The wait of one request through a takeover: pauses from 100 ms,
/// doubling up to 1 s, for at most [`TAKEOVER_PATIENCE`] in all.
struct Patience {
    give_up: Instant,
    pause: Duration,
}

impl Patience {
    fn new() -> Self {
        Patience {
            give_up: Instant::now() + TAKEOVER_PATIENCE,
            pause: Duration::from_millis(100),
        }
    }

    /// Pauses and returns `true`, or returns `false` if the patience is
    /// spent.
    fn wait(&mut self, what: &str) -> bool {
        if Instant::now() + self.pause > self.give_up {
            return false;
        }
        eprintln!(
            "note: {what}; trying again in {} ms",
            self.pause.as_millis()
        );
        std::thread::sleep(self.pause);
        self.pause = (self.pause * 2).min(Duration::from_secs(1));
        true
    }
}

/// Where an `ERR moved <host:port>` reply points (`[v6]:port` too).
fn moved_to(reply: &str) -> Option<(String, u16)> {
    let addr = reply.strip_prefix("ERR moved ")?.trim();
    let (host, port) = addr.rsplit_once(':')?;
    let host = host
        .strip_prefix('[')
        .and_then(|h| h.strip_suffix(']'))
        .unwrap_or(host);
    (!host.is_empty()).then(|| Some((host.to_owned(), port.parse().ok()?)))?
}

fn first_word_is(line: &str, word: &str) -> bool {
    line.split_whitespace()
        .next()
        .is_some_and(|w| w.eq_ignore_ascii_case(word))
}

/// Whether the connection was lost before the reply (worth a retry).
fn lost(e: &ClientError) -> bool {
    matches!(e, ClientError::Closed | ClientError::Io(_))
}

/// Prints a connection error and gives the exit code for it.
pub(crate) fn fail(e: ClientError) -> u8 {
    eprintln!("error: {e}");
    exit::CONNECTION
}

#[cfg(test)]
mod tests {
    use super::{moved_to, with_request_id};

    #[test]
    fn moved_replies_name_the_node() {
        assert_eq!(
            moved_to("ERR moved 127.0.0.1:7001"),
            Some(("127.0.0.1".to_owned(), 7001))
        );
        assert_eq!(moved_to("ERR moved [::1]:7"), Some(("::1".to_owned(), 7)));
        for not in [
            "ERR moved",
            "ERR moved x",
            "ERR moved :7",
            "ERR moved h:99999",
            "ERR no-owner: map A",
            "OK moved 1:2",
        ] {
            assert_eq!(moved_to(not), None, "{not}");
        }
    }

    #[test]
    fn changes_get_an_id_and_nothing_else_does() {
        for change in [
            "BOOK 5,6",
            "any 2",
            "TOGETHER 3  ",
            "cancel abc",
            "ALL 1",
            "HOLD 12A,12B",
            "confirm ref",
            "extend ref",
        ] {
            let (line, retried) = with_request_id(change);
            assert!(retried, "{change}");
            let (head, id) = line.rsplit_once(" id=").expect(&line);
            assert_eq!(head, change.trim_end());
            assert_eq!(id.len(), 16, "{line}");
        }
        for kept in ["5,10,22", "AVAIL", "SHOW abc", "FOO 5", "USE m", "MAP", ""] {
            assert_eq!(with_request_id(kept), (kept.to_owned(), false));
        }
        assert_eq!(
            with_request_id("ANY 1 id=mine"),
            ("ANY 1 id=mine".to_owned(), true)
        );
    }
}

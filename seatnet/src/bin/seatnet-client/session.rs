//! A connection that comes back: a change carrying a request id is sent
//! again, on a new connection, when the connection is lost before its
//! reply (the server answers a repeated id with the first reply, so the
//! change is never made twice). Used by the one-shot and the interactive
//! modes alike.

use std::time::Duration;

use seatnet::protocol::{Command, parse_request};

use crate::cli::{self, Args};
use crate::connection::{ClientError, Connection};

/// The connection of a session and what it needs to reconnect.
pub(crate) struct Session<'a> {
    args: &'a Args,
    conn: Connection,
}

impl<'a> Session<'a> {
    /// Connects to the server `args` names.
    pub(crate) fn connect(args: &'a Args) -> Result<Self, ClientError> {
        let conn = Connection::connect(&args.host, args.port, args.timeout())?;
        Ok(Session { args, conn })
    }

    /// Sends `line` and returns its reply. If the connection is lost before
    /// the reply, reconnects and sends the same line again, up to
    /// `retries` times (pass 0 for a line that must not be repeated: one
    /// without a request id).
    pub(crate) fn request(&mut self, line: &str, retries: u32) -> Result<String, ClientError> {
        let mut attempt = 0;
        loop {
            match self.conn.request(line) {
                Err(e) if attempt < retries && lost(&e) => {
                    attempt += 1;
                    eprintln!(
                        "warning: {e}; retrying with the same request id ({attempt}/{retries})"
                    );
                    std::thread::sleep(Duration::from_millis(100 << attempt.min(5)));
                    let args = self.args;
                    match Connection::connect(&args.host, args.port, args.timeout()) {
                        Ok(c) => self.conn = c,
                        Err(e) if attempt >= retries => return Err(e),
                        Err(e) => eprintln!("warning: {e}"),
                    }
                }
                other => return other,
            }
        }
    }

    /// The retries a line gets: `--retries` for one carrying a request id.
    pub(crate) fn retries_for(&self, has_id: bool) -> u32 {
        if has_id { self.args.retries } else { 0 }
    }
}

/// A typed line as it is sent: a change command (`BOOK`, `ALL`, `ANY`,
/// `TOGETHER`, `CANCEL`) without an `id=` gets a fresh one. Returns the
/// line and whether it carries an id (and so may be retried). Original
/// seat lists cannot carry one (the original protocol has no room for
/// it), so they are sent as typed and never repeated.
pub(crate) fn with_request_id(line: &str) -> (String, bool) {
    let mut scratch = Vec::new();
    match parse_request(line.as_bytes(), &mut scratch) {
        Ok((Command::Original(_), _)) | Err(_) => (line.to_owned(), false),
        Ok((_, Some(_))) => (line.to_owned(), true),
        Ok((command, None)) if changes(&command) => (
            format!("{} id={}", line.trim_end(), cli::request_id()),
            true,
        ),
        Ok(_) => (line.to_owned(), false),
    }
}

fn changes(command: &Command<'_>) -> bool {
    matches!(
        command,
        Command::Book(_)
            | Command::All(_)
            | Command::Any(_)
            | Command::Together(_)
            | Command::Cancel(_)
    )
}

/// Whether the connection was lost before the reply (worth a retry).
fn lost(e: &ClientError) -> bool {
    matches!(e, ClientError::Closed | ClientError::Io(_))
}

#[cfg(test)]
mod tests {
    use super::with_request_id;

    #[test]
    fn changes_get_an_id_and_nothing_else_does() {
        for change in ["BOOK 5,6", "any 2", "TOGETHER 3  ", "cancel abc", "ALL 1"] {
            let (line, retried) = with_request_id(change);
            assert!(retried, "{change}");
            let (head, id) = line.rsplit_once(" id=").expect(&line);
            assert_eq!(head, change.trim_end());
            assert_eq!(id.len(), 16, "{line}");
        }
        for kept in ["5,10,22", "AVAIL", "SHOW abc", "FOO 5", "BOOK 5,,6", ""] {
            assert_eq!(with_request_id(kept), (kept.to_owned(), false));
        }
        assert_eq!(
            with_request_id("ANY 1 id=mine"),
            ("ANY 1 id=mine".to_owned(), true)
        );
    }
}

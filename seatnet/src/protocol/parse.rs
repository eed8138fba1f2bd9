//! Raw request bytes → a typed [`Command`], in two stages: first the bytes
//! are checked (UTF-8, no control characters) and trimmed, then the text is
//! read as a verb with its argument or as the original seat list.
//!
//! A request whose first word is a known verb (any letter case) is that
//! command; anything else is read as the original comma-separated list, so
//! an original request can never be mistaken for a command.

use std::fmt;

use seatplan::MapSpec;

use super::number::{Number, is_int_space, is_python_space};

/// One request, parsed. List commands borrow their numbers from the scratch
/// vector given to [`parse`]; `CANCEL` borrows its reference from the line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command<'a> {
    /// `5,10,22`: the original request (per seat, not all-or-nothing).
    Original(&'a [Number]),
    /// `BOOK 5,10,22`: per seat like the original, with a booking reference.
    Book(&'a [Number]),
    /// `ALL 5,10,22`: every seat or none.
    All(&'a [Number]),
    /// `ANY n`: n free seats wherever they are.
    Any(u64),
    /// `TOGETHER n`: n adjacent free seats.
    Together(u64),
    /// `CANCEL ref`: give back a booking's seats, or release a hold.
    Cancel(&'a str),
    /// `HOLD 5,10`: hold every seat or none, for the hold time.
    Hold(&'a [Number]),
    /// `HOLD ANY n`: hold n free seats wherever they are.
    HoldAny(u64),
    /// `HOLD TOGETHER n`: hold n seats together.
    HoldTogether(u64),
    /// `EXTEND ref`: hold longer.
    Extend(&'a str),
    /// `CONFIRM ref`: a hold becomes a booking.
    Confirm(&'a str),
    /// `SHOW ref`: a booking's seats.
    Show(&'a str),
    /// `AVAIL`: the free seats.
    Avail,
    /// `STATS`: counters.
    Stats,
    /// `HELP`: the command list.
    Help,
    /// `QUIT`: say goodbye and close.
    Quit,
    /// An operator command: only on a connection allowed to run them
    /// (see [`Operator`]).
    Operator(Operator<'a>),
}

/// Operator commands: maintenance of the server, not of the seats. The
/// parser reads them on any connection; whether one may run is the
/// connection's business (`--admin-listen`). A new one is a variant here,
/// a line in `Verb`, and an arm in `Inventory`'s `operate`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Operator<'a> {
    /// `SNAPSHOT`: write a snapshot now.
    Snapshot,
    /// `BACKUP <dir>`: copy the data directory into a new or empty `dir`.
    Backup(&'a str),
}

impl Operator<'_> {
    /// The verb, in capitals (for replies and logs).
    #[must_use]
    pub fn verb(&self) -> &'static str {
        match self {
            Operator::Snapshot => "SNAPSHOT",
            Operator::Backup(_) => "BACKUP",
        }
    }
}

/// Why a request could not be parsed. Every variant becomes one
/// `ERR <code>: <message>` line; the connection stays usable.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ParseError {
    /// Nothing but whitespace.
    Empty,
    /// The bytes are not UTF-8.
    NotUtf8,
    /// A control character that is not whitespace (NUL, ESC, DEL, …).
    ControlByte(u8),
    /// A list piece that is empty: `5,,6`, `,5`, `5,`.
    EmptyPiece,
    /// A list piece that is not an integer (quoted, shortened, escaped).
    NotANumber(String),
    /// A first word that looks like a verb but is none.
    UnknownCommand(String),
    /// A verb without its argument.
    MissingArgument(&'static str),
    /// A verb that takes no argument, given one.
    UnexpectedArgument(&'static str),
    /// `ANY` / `TOGETHER` with something other than a count of at least 1.
    BadCount(&'static str, String),
    /// An `id=` that is not 1 to 64 characters of `[A-Za-z0-9_-]`.
    BadId(String),
    /// An argument that does not fit the command: its usage and the text.
    BadArgument(&'static str, String),
}

impl ParseError {
    /// The error code of the reply line.
    #[must_use]
    pub fn code(&self) -> &'static str {
        match self {
            ParseError::UnknownCommand(_) => "unknown-command",
            _ => "bad-request",
        }
    }
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        const HINT: &str = "send seats like 5,10,22, or HELP";
        match self {
            ParseError::Empty => write!(f, "empty request ({HINT})"),
            ParseError::NotUtf8 => write!(f, "request is not valid UTF-8 ({HINT})"),
            ParseError::ControlByte(b) => {
                write!(f, "control character 0x{b:02x} in request ({HINT})")
            }
            ParseError::EmptyPiece => {
                write!(f, "empty seat number: lone or doubled comma ({HINT})")
            }
            ParseError::NotANumber(piece) => {
                write!(f, "'{piece}' is not a seat number ({HINT})")
            }
            ParseError::UnknownCommand(verb) => write!(
                f,
                "'{verb}' is not a command (BOOK, ALL, ANY, TOGETHER, CANCEL, HOLD, EXTEND, CONFIRM, SHOW, AVAIL, STATS, MAP, USE, MAPS, HELP, QUIT)"
            ),
            ParseError::MissingArgument(usage) => write!(f, "missing argument: {usage}"),
            ParseError::UnexpectedArgument(verb) => write!(f, "{verb} takes no argument"),
            ParseError::BadCount(verb, text) => write!(
                f,
                "'{text}' is not a seat count: {verb} needs a whole number from 1, like {verb} 3"
            ),
            ParseError::BadArgument(usage, text) => {
                write!(f, "'{text}' does not fit: the command is {usage}")
            }
            ParseError::BadId(text) => write!(
                f,
                "'{text}' is not a request id: id= takes 1 to 64 characters of A-Z a-z 0-9 _ -"
            ),
        }
    }
}

impl std::error::Error for ParseError {}

/// Parses one request (without its line terminator). `numbers` is scratch
/// space, cleared first and reused across requests to avoid allocating.
///
/// # Errors
///
/// A [`ParseError`] saying what is wrong; never panics on any input.
///
/// # Examples
///
/// ```
/// use seatnet::protocol::{Command, parse};
///
/// let mut scratch = Vec::new();
/// assert!(matches!(parse(b" 5, 10 ", &mut scratch), Ok(Command::Original(list)) if list.len() == 2));
/// assert_eq!(parse(b"any 3", &mut scratch), Ok(Command::Any(3)));
/// assert!(parse(b"5,,6", &mut scratch).is_err());
/// ```
pub fn parse<'a>(line: &'a [u8], numbers: &'a mut Vec<Number>) -> Result<Command<'a>, ParseError> {
    parse_request(line, numbers).map(|(command, _)| command)
}

/// Most characters of a request id.
pub const MAX_ID_LEN: usize = 64;

/// Like [`parse`], and also returns the request id of a change request
/// (`BOOK`, `ALL`, `ANY`, `TOGETHER`, `CANCEL`) that ends with
/// ` id=<1 to 64 of [A-Za-z0-9_-]>`. Original requests carry no id.
///
/// # Errors
///
/// As [`parse`], plus [`ParseError::BadId`] for a malformed id.
///
/// # Examples
///
/// ```
/// use seatnet::protocol::{Command, parse_request};
///
/// let mut scratch = Vec::new();
/// assert_eq!(parse_request(b"ANY 3 id=abc-1", &mut scratch), Ok((Command::Any(3), Some("abc-1"))));
/// assert_eq!(parse_request(b"ANY 3", &mut scratch), Ok((Command::Any(3), None)));
/// assert!(parse_request(b"ANY 3 id=a.b", &mut scratch).is_err());
/// ```
pub fn parse_request<'a>(
    line: &'a [u8],
    numbers: &'a mut Vec<Number>,
) -> Result<(Command<'a>, Option<&'a str>), ParseError> {
    parse_request_on(line, numbers, &MapSpec::DEFAULT)
}

/// [`parse_request`] for a map of `spec`: on a numbered map exactly that;
/// on a cabin, seat lists are labels (`12A`, any letter case) and runs
/// within a row (`12A-12C`), and a piece that names no seat of the cabin
/// (`12Z`, `0A`, `31A` on 30 rows, a bare `5`) is kept as
/// [`Number::Text`]: an invalid seat, reported like an out-of-range
/// number.
///
/// # Errors
///
/// As [`parse_request`].
///
/// # Examples
///
/// ```
/// use seatnet::MapSpec;
/// use seatnet::protocol::{Command, Number, parse_request_on};
///
/// let cabin: MapSpec = "30x3-3".parse().unwrap();
/// let mut scratch = Vec::new();
/// let (command, _) = parse_request_on(b"ALL 12a-12C,31A", &mut scratch, &cabin).unwrap();
/// assert_eq!(
///     command,
///     Command::All(&[Number::seat(66), Number::seat(67), Number::seat(68), Number::Text("31A".into())])
/// );
/// ```
pub fn parse_request_on<'a>(
    line: &'a [u8],
    numbers: &'a mut Vec<Number>,
    spec: &MapSpec,
) -> Result<(Command<'a>, Option<&'a str>), ParseError> {
    let text = checked_text(line)?;
    let text = text.trim_matches(is_python_space);
    if text.is_empty() {
        return Err(ParseError::Empty);
    }
    let (word, rest) = match text.find(is_python_space) {
        Some(i) => (&text[..i], text[i..].trim_start_matches(is_python_space)),
        None => (text, ""),
    };
    if word.starts_with(|c: char| c.is_ascii_alphabetic()) {
        if let Some(verb) = Verb::named(word) {
            let (rest, id) = if verb.changes() {
                split_id(rest)?
            } else {
                (rest, None)
            };
            return Ok((verb.command(rest, numbers, spec)?, id));
        }
        if !rest.is_empty() && word.bytes().all(|b| b.is_ascii_alphabetic()) {
            return Err(ParseError::UnknownCommand(quote(word)));
        }
    }
    Ok((Command::Original(list(text, numbers, spec)?), None))
}

/// A command about the catalog of maps rather than one map: answered by
/// [`Catalog`](crate::Catalog), never by a map.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CatalogCommand<'a> {
    /// `USE name`: this connection's map from now on.
    Use(&'a str),
    /// `MAPS` or `MAPS AFTER name`: a page of maps.
    Maps(Option<&'a str>),
    /// `MAP` or `MAP name`: everything needed to draw a map (this
    /// connection's, or the one named).
    View(Option<&'a str>),
    /// `ADDMAP name spec` (operator): a new map, served from now on.
    AddMap {
        /// The new map's name (checked by the catalog).
        name: &'a str,
        /// Its spec text, as in `--map NAME=SPEC` (checked by the catalog).
        spec: &'a str,
    },
    /// `REMOVEMAP name [FORCE]` (operator): the map is no longer served.
    RemoveMap {
        /// The map's name.
        name: &'a str,
        /// Remove it even with bookings or open holds.
        force: bool,
    },
}

impl CatalogCommand<'_> {
    /// The verb of an operator command (`None` for the others).
    #[must_use]
    pub fn operator_verb(&self) -> Option<&'static str> {
        match self {
            CatalogCommand::AddMap { .. } => Some("ADDMAP"),
            CatalogCommand::RemoveMap { .. } => Some("REMOVEMAP"),
            _ => None,
        }
    }
}

/// Reads `USE`, `MAP`, `MAPS`, `ADDMAP` and `REMOVEMAP` (any letter case); `None` when the request is
/// anything else (then it is a map's, for [`parse_request`]).
///
/// # Examples
///
/// ```
/// use seatnet::protocol::{CatalogCommand, parse_catalog};
///
/// assert_eq!(parse_catalog(b"use AB1"), Some(Ok(CatalogCommand::Use("AB1"))));
/// assert_eq!(parse_catalog(b"MAPS"), Some(Ok(CatalogCommand::Maps(None))));
/// assert_eq!(parse_catalog(b"5,10"), None);
/// assert!(parse_catalog(b"USE").unwrap().is_err());
/// assert_eq!(
///     parse_catalog(b"removemap AB1 force"),
///     Some(Ok(CatalogCommand::RemoveMap { name: "AB1", force: true }))
/// );
/// ```
pub fn parse_catalog(line: &[u8]) -> Option<Result<CatalogCommand<'_>, ParseError>> {
    // Cheap test first: every other request pays only this.
    let first = line.iter().find(|b| !b.is_ascii_whitespace())?;
    if !matches!(first, b'u' | b'U' | b'm' | b'M' | b'a' | b'A' | b'r' | b'R') {
        return None;
    }
    let text = checked_text(line).ok()?.trim_matches(is_python_space);
    let (word, rest) = match text.find(is_python_space) {
        Some(i) => (&text[..i], text[i..].trim_start_matches(is_python_space)),
        None => (text, ""),
    };
    if word.eq_ignore_ascii_case("USE") {
        let name = match rest {
            "" => Err(ParseError::MissingArgument("USE <map name>")),
            name if name.contains(is_python_space) => {
                Err(ParseError::BadArgument("USE <map name>", quote(name)))
            }
            name => Ok(CatalogCommand::Use(name)),
        };
        return Some(name);
    }
    if word.eq_ignore_ascii_case("MAP") {
        return Some(match rest {
            "" => Ok(CatalogCommand::View(None)),
            name if name.contains(is_python_space) => {
                Err(ParseError::BadArgument("MAP [map name]", quote(name)))
            }
            name => Ok(CatalogCommand::View(Some(name))),
        });
    }
    if word.eq_ignore_ascii_case("MAPS") {
        let words: Vec<&str> = rest
            .split(is_python_space)
            .filter(|w| !w.is_empty())
            .collect();
        return Some(match words[..] {
            [] => Ok(CatalogCommand::Maps(None)),
            [after, name] if after.eq_ignore_ascii_case("AFTER") => {
                Ok(CatalogCommand::Maps(Some(name)))
            }
            _ => Err(ParseError::BadArgument(
                "MAPS, or MAPS AFTER <map name>",
                quote(rest),
            )),
        });
    }
    let words = || -> Vec<&str> {
        rest.split(is_python_space)
            .filter(|w| !w.is_empty())
            .collect()
    };
    if word.eq_ignore_ascii_case("ADDMAP") {
        const USAGE: &str = "ADDMAP <map name> <spec>";
        return Some(match words()[..] {
            [] | [_] => Err(ParseError::MissingArgument(USAGE)),
            [name, spec] => Ok(CatalogCommand::AddMap { name, spec }),
            _ => Err(ParseError::BadArgument(USAGE, quote(rest))),
        });
    }
    if word.eq_ignore_ascii_case("REMOVEMAP") {
        const USAGE: &str = "REMOVEMAP <map name> [FORCE]";
        return Some(match words()[..] {
            [] => Err(ParseError::MissingArgument(USAGE)),
            [name] => Ok(CatalogCommand::RemoveMap { name, force: false }),
            [name, force] if force.eq_ignore_ascii_case("FORCE") => {
                Ok(CatalogCommand::RemoveMap { name, force: true })
            }
            _ => Err(ParseError::BadArgument(USAGE, quote(rest))),
        });
    }
    None
}

/// Splits a trailing ` id=...` (the key in any letter case) off a change
/// verb's argument.
fn split_id(rest: &str) -> Result<(&str, Option<&str>), ParseError> {
    let (head, last) = match rest.rfind(is_python_space) {
        Some(i) => (rest[..i].trim_end_matches(is_python_space), &rest[i..]),
        None => ("", rest),
    };
    let last = last.trim_start_matches(is_python_space);
    let Some(key) = last.get(..3).filter(|k| k.eq_ignore_ascii_case("id=")) else {
        return Ok((rest, None));
    };
    let _ = key;
    let id = &last[3..];
    let valid = (1..=MAX_ID_LEN).contains(&id.len())
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
    if !valid {
        return Err(ParseError::BadId(quote(id)));
    }
    Ok((head, Some(id)))
}

/// Checks the bytes: UTF-8, and no control character other than the
/// whitespace Python's `int()` would strip.
fn checked_text(line: &[u8]) -> Result<&str, ParseError> {
    if let Some(&b) = line.iter().find(|&&b| is_forbidden_control(b)) {
        return Err(ParseError::ControlByte(b));
    }
    std::str::from_utf8(line).map_err(|_| ParseError::NotUtf8)
}

fn is_forbidden_control(b: u8) -> bool {
    let allowed_space = matches!(b, b'\t' | b'\n' | 0x0b | 0x0c | b'\r' | 0x1c..=0x1f);
    (b < 0x20 && !allowed_space) || b == 0x7f
}

/// The verbs, recognised before their argument is read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Verb {
    Book,
    All,
    Any,
    Together,
    Cancel,
    Hold,
    Extend,
    Confirm,
    Show,
    Avail,
    Stats,
    Help,
    Quit,
    Snapshot,
    Backup,
}

impl Verb {
    const ALL: [(&'static str, Verb); 15] = [
        ("BOOK", Verb::Book),
        ("ALL", Verb::All),
        ("ANY", Verb::Any),
        ("TOGETHER", Verb::Together),
        ("CANCEL", Verb::Cancel),
        ("HOLD", Verb::Hold),
        ("EXTEND", Verb::Extend),
        ("CONFIRM", Verb::Confirm),
        ("SHOW", Verb::Show),
        ("AVAIL", Verb::Avail),
        ("STATS", Verb::Stats),
        ("HELP", Verb::Help),
        ("QUIT", Verb::Quit),
        ("SNAPSHOT", Verb::Snapshot),
        ("BACKUP", Verb::Backup),
    ];

    /// Whether the verb changes seats (and so may carry a request id).
    fn changes(self) -> bool {
        matches!(
            self,
            Verb::Book
                | Verb::All
                | Verb::Any
                | Verb::Together
                | Verb::Cancel
                | Verb::Hold
                | Verb::Extend
                | Verb::Confirm
        )
    }

    /// The verb `word` names, in any letter case.
    fn named(word: &str) -> Option<Verb> {
        Self::ALL
            .iter()
            .find(|(name, _)| word.eq_ignore_ascii_case(name))
            .map(|&(_, verb)| verb)
    }

    /// The command, with its argument `rest` read.
    fn command<'a>(
        self,
        rest: &'a str,
        numbers: &'a mut Vec<Number>,
        spec: &MapSpec,
    ) -> Result<Command<'a>, ParseError> {
        Ok(match self {
            Verb::Book => Command::Book(list(required(rest, "BOOK 5,10,22")?, numbers, spec)?),
            Verb::All => Command::All(list(required(rest, "ALL 5,10,22")?, numbers, spec)?),
            Verb::Any => Command::Any(count("ANY", required(rest, "ANY 3")?)?),
            Verb::Together => Command::Together(count("TOGETHER", required(rest, "TOGETHER 3")?)?),
            Verb::Cancel => Command::Cancel(required(rest, "CANCEL <booking reference>")?),
            Verb::Show => Command::Show(required(rest, "SHOW <booking reference>")?),
            Verb::Hold => hold(
                required(rest, "HOLD 5,10 | HOLD ANY <n> | HOLD TOGETHER <n>")?,
                numbers,
                spec,
            )?,
            Verb::Extend => Command::Extend(required(rest, "EXTEND <hold reference>")?),
            Verb::Confirm => Command::Confirm(required(rest, "CONFIRM <hold reference>")?),
            Verb::Avail => bare(rest, "AVAIL", Command::Avail)?,
            Verb::Stats => bare(rest, "STATS", Command::Stats)?,
            Verb::Help => bare(rest, "HELP", Command::Help)?,
            Verb::Quit => bare(rest, "QUIT", Command::Quit)?,
            Verb::Snapshot => bare(rest, "SNAPSHOT", Command::Operator(Operator::Snapshot))?,
            Verb::Backup => Command::Operator(Operator::Backup(required(
                rest,
                "BACKUP <new or empty directory>",
            )?)),
        })
    }
}

fn required<'a>(rest: &'a str, usage: &'static str) -> Result<&'a str, ParseError> {
    if rest.is_empty() {
        Err(ParseError::MissingArgument(usage))
    } else {
        Ok(rest)
    }
}

fn bare<'a>(
    rest: &str,
    verb: &'static str,
    command: Command<'a>,
) -> Result<Command<'a>, ParseError> {
    if rest.is_empty() {
        Ok(command)
    } else {
        Err(ParseError::UnexpectedArgument(verb))
    }
}

/// The original list: numbers separated by commas, each read like `int()`
/// (the caller has already stripped the whole text like `str.strip()`);
/// on a cabin, labels and runs of labels (see [`parse_request_on`]).
fn list<'a>(
    text: &str,
    numbers: &'a mut Vec<Number>,
    spec: &MapSpec,
) -> Result<&'a [Number], ParseError> {
    numbers.clear();
    if spec.cabin().is_some() {
        return labels(text, numbers, spec);
    }
    for piece in text.split(',') {
        let trimmed = piece.trim_matches(is_int_space);
        if trimmed.is_empty() {
            return Err(ParseError::EmptyPiece);
        }
        match Number::parse(piece) {
            Some(n) => numbers.push(n),
            None => return Err(ParseError::NotANumber(quote(trimmed))),
        }
    }
    Ok(numbers)
}

/// `HOLD`'s argument: `ANY n`, `TOGETHER n`, or a seat list.
fn hold<'a>(
    rest: &'a str,
    numbers: &'a mut Vec<Number>,
    spec: &MapSpec,
) -> Result<Command<'a>, ParseError> {
    let (word, count_text) = match rest.find(is_python_space) {
        Some(i) => (&rest[..i], rest[i..].trim_start_matches(is_python_space)),
        None => (rest, ""),
    };
    if word.eq_ignore_ascii_case("ANY") {
        let n = count("HOLD ANY", required(count_text, "HOLD ANY <n>")?)?;
        return Ok(Command::HoldAny(n));
    }
    if word.eq_ignore_ascii_case("TOGETHER") {
        let n = count("HOLD TOGETHER", required(count_text, "HOLD TOGETHER <n>")?)?;
        return Ok(Command::HoldTogether(n));
    }
    Ok(Command::Hold(list(rest, numbers, spec)?))
}

/// Most seats one run of labels may name (a row is at most 25 seats).
const MAX_RUN: u64 = 64;

/// A cabin's list: labels and runs within a row, comma-separated.
fn labels<'a>(
    text: &str,
    numbers: &'a mut Vec<Number>,
    spec: &MapSpec,
) -> Result<&'a [Number], ParseError> {
    for piece in text.split(',') {
        let trimmed = piece.trim_matches(is_python_space);
        if trimmed.is_empty() {
            return Err(ParseError::EmptyPiece);
        }
        match spec.parse_run(trimmed) {
            Ok(run) if run.end - run.start <= MAX_RUN => {
                numbers.extend(run.map(Number::seat));
            }
            _ => numbers.push(Number::Text(trimmed.into())),
        }
    }
    Ok(numbers)
}

fn count(verb: &'static str, text: &str) -> Result<u64, ParseError> {
    match Number::parse(text) {
        Some(Number::Small {
            negative: false,
            magnitude,
        }) if magnitude >= 1 => Ok(magnitude),
        _ => Err(ParseError::BadCount(verb, quote(text))),
    }
}

/// Client text made safe to echo inside one reply line: at most 32
/// characters, control and non-ASCII characters escaped.
pub(crate) fn quote(text: &str) -> String {
    const MAX_CHARS: usize = 32;
    let mut quoted: String = text
        .chars()
        .take(MAX_CHARS)
        .flat_map(char::escape_default)
        .collect();
    if text.chars().nth(MAX_CHARS).is_some() {
        quoted.push_str("...");
    }
    quoted
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(line: &[u8]) -> String {
        let mut scratch = Vec::new();
        match parse(line, &mut scratch) {
            Ok(command) => format!("{command:?}"),
            Err(e) => panic!("{line:?} failed: {e}"),
        }
    }

    fn err(line: &[u8]) -> ParseError {
        let mut scratch = Vec::new();
        parse(line, &mut scratch).expect_err(&String::from_utf8_lossy(line))
    }

    fn seats(line: &[u8]) -> Vec<String> {
        let mut scratch = Vec::new();
        match parse(line, &mut scratch) {
            Ok(Command::Original(list)) => list.iter().map(ToString::to_string).collect(),
            other => panic!("{line:?} gave {other:?}"),
        }
    }

    #[test]
    fn original_lists() {
        assert_eq!(seats(b"5,10,22"), ["5", "10", "22"]);
        assert_eq!(seats(b" 5 , 10 "), ["5", "10"]);
        assert_eq!(seats(b"0,101,-3"), ["0", "101", "-3"]);
        assert_eq!(seats(b"7,7"), ["7", "7"]);
        assert_eq!(seats(b"+5,05,-0,-007,1_0"), ["5", "5", "0", "-7", "10"]);
        assert_eq!(
            seats(b"123456789012345678901234567890"),
            ["123456789012345678901234567890"]
        );
        assert_eq!(seats(b"\x1c\t5\x0b,6\r\x1f"), ["5", "6"]);
        assert_eq!(seats("５,٣".as_bytes()), ["5", "3"]);
        assert_eq!(seats("5,\u{3000}6".as_bytes()), ["5", "6"]);
    }

    #[test]
    fn verbs_in_any_case() {
        assert_eq!(ok(b"book 5,6"), ok(b"BOOK 5,6"));
        assert!(ok(b"Book 5, 6").starts_with("Book("));
        assert!(ok(b"ALL\t1,2").starts_with("All("));
        assert_eq!(ok(b"any 3"), "Any(3)");
        assert_eq!(ok(b"together  +04"), "Together(4)");
        assert_eq!(ok(b"CANCEL abc123"), "Cancel(\"abc123\")");
        assert_eq!(ok(b"avail"), "Avail");
        assert_eq!(ok(b" STATS "), "Stats");
        assert_eq!(ok(b"Help"), "Help");
        assert_eq!(ok(b"quit\r"), "Quit");
    }

    #[test]
    fn operator_commands() {
        assert_eq!(ok(b"snapshot"), "Operator(Snapshot)");
        assert_eq!(
            ok(b"BACKUP  /var/backups/seat s "),
            "Operator(Backup(\"/var/backups/seat s\"))"
        );
        assert_eq!(
            err(b"SNAPSHOT now"),
            ParseError::UnexpectedArgument("SNAPSHOT")
        );
        assert!(matches!(err(b"backup"), ParseError::MissingArgument(_)));
        // Not a change: an id= is part of the directory, not a request id.
        let mut scratch = Vec::new();
        assert_eq!(
            parse_request(b"BACKUP d id=x", &mut scratch),
            Ok((Command::Operator(Operator::Backup("d id=x")), None))
        );
    }

    #[test]
    fn bad_lists() {
        assert_eq!(err(b""), ParseError::Empty);
        assert_eq!(err(b"  \t "), ParseError::Empty);
        assert_eq!(err(b"5,,6"), ParseError::EmptyPiece);
        assert_eq!(err(b",5"), ParseError::EmptyPiece);
        assert_eq!(err(b"5,"), ParseError::EmptyPiece);
        assert_eq!(err(b","), ParseError::EmptyPiece);
        assert_eq!(err(b"2.5"), ParseError::NotANumber("2.5".into()));
        assert_eq!(err(b"+-5"), ParseError::NotANumber("+-5".into()));
        assert_eq!(err(b"abc"), ParseError::NotANumber("abc".into()));
        assert_eq!(err(b"abc,5"), ParseError::NotANumber("abc".into()));
        assert_eq!(err(b"5, x "), ParseError::NotANumber("x".into()));
        assert_eq!(err(b"5 6"), ParseError::NotANumber("5 6".into()));
        assert_eq!(err(b"sair"), ParseError::NotANumber("sair".into()));
        // `str.strip()` removes \x1c..\x1f from the ends of the request,
        // `int()` does not skip them around a piece.
        assert_eq!(err(b"5,\x1c6"), ParseError::NotANumber("\\u{1c}6".into()));
        assert_eq!(err(b"5\x1c,6"), ParseError::NotANumber("5\\u{1c}".into()));
        assert_eq!(err(b"5,\x1f,6"), ParseError::NotANumber("\\u{1f}".into()));
    }

    #[test]
    fn bad_bytes() {
        assert_eq!(err(b"5\0"), ParseError::ControlByte(0));
        assert_eq!(err(b"\x1b[A"), ParseError::ControlByte(0x1b));
        assert_eq!(err(b"5\x7f"), ParseError::ControlByte(0x7f));
        assert_eq!(err(b"5,\xff"), ParseError::NotUtf8);
        assert_eq!(err(b"\xc3"), ParseError::NotUtf8);
    }

    #[test]
    fn bad_commands() {
        assert_eq!(err(b"FOO 5"), ParseError::UnknownCommand("FOO".into()));
        assert!(matches!(err(b"BOOK"), ParseError::MissingArgument(_)));
        assert!(matches!(err(b"book   "), ParseError::MissingArgument(_)));
        assert!(matches!(err(b"ANY"), ParseError::MissingArgument(_)));
        assert!(matches!(err(b"TOGETHER"), ParseError::MissingArgument(_)));
        assert!(matches!(err(b"CANCEL"), ParseError::MissingArgument(_)));
        assert_eq!(err(b"ANY 0"), ParseError::BadCount("ANY", "0".into()));
        assert_eq!(err(b"ANY -2"), ParseError::BadCount("ANY", "-2".into()));
        assert_eq!(err(b"ANY x"), ParseError::BadCount("ANY", "x".into()));
        assert_eq!(err(b"ANY 1,2"), ParseError::BadCount("ANY", "1,2".into()));
        assert!(matches!(
            err(b"TOGETHER 99999999999999999999999"),
            ParseError::BadCount(..)
        ));
        assert_eq!(err(b"AVAIL 3"), ParseError::UnexpectedArgument("AVAIL"));
        assert_eq!(err(b"quit now"), ParseError::UnexpectedArgument("QUIT"));
        assert_eq!(err(b"BOOK 5,,6"), ParseError::EmptyPiece);
        assert_eq!(err(b"ALL a"), ParseError::NotANumber("a".into()));
    }

    #[test]
    fn error_codes_and_messages() {
        assert_eq!(err(b"FOO 5").code(), "unknown-command");
        assert_eq!(err(b"abc").code(), "bad-request");
        assert_eq!(
            err(b"abc").to_string(),
            "'abc' is not a seat number (send seats like 5,10,22, or HELP)"
        );
    }

    #[test]
    fn echoed_text_is_bounded_and_escaped() {
        let long = "x".repeat(1000);
        let ParseError::NotANumber(quoted) = err(long.as_bytes()) else {
            panic!("expected NotANumber");
        };
        assert_eq!(quoted.len(), 35);
        let ParseError::NotANumber(quoted) = err("é'".as_bytes()) else {
            panic!("expected NotANumber");
        };
        assert!(quoted.is_ascii() && !quoted.contains('\n'));
    }

    #[test]
    fn request_ids() {
        let id = |line: &str| {
            let mut scratch = Vec::new();
            parse_request(line.as_bytes(), &mut scratch)
                .map(|(c, id)| (format!("{c:?}"), id.map(str::to_owned)))
        };
        assert_eq!(
            id("BOOK 5,10 id=abc123"),
            Ok((ok(b"BOOK 5,10"), Some("abc123".into())))
        );
        assert_eq!(
            id("cancel ab ID=x_-Y"),
            Ok((ok(b"cancel ab"), Some("x_-Y".into())))
        );
        assert_eq!(id("ANY 3"), Ok(("Any(3)".into(), None)));
        assert_eq!(
            id(&format!("ANY 3 id={}", "a".repeat(64)))
                .unwrap()
                .1
                .unwrap()
                .len(),
            64
        );
        for bad in [
            "ANY 3 id=",
            "ANY 3 id=a.b",
            &format!("ANY 3 id={}", "a".repeat(65)),
        ] {
            assert!(matches!(id(bad), Err(ParseError::BadId(_))), "{bad}");
        }
        // Only change verbs take ids; original lists never do.
        assert_eq!(
            err(b"AVAIL id=abc"),
            ParseError::UnexpectedArgument("AVAIL")
        );
        assert!(matches!(err(b"5,10 id=abc"), ParseError::NotANumber(_)));
        assert!(matches!(
            err(b"BOOK id=abc"),
            ParseError::MissingArgument(_)
        ));
    }

    #[test]
    fn scratch_is_reused() {
        let mut scratch = Vec::new();
        assert!(parse(b"1,2,3", &mut scratch).is_ok());
        let Ok(Command::Original(list)) = parse(b"4", &mut scratch) else {
            panic!("expected a list");
        };
        assert_eq!(list.len(), 1);
    }
}

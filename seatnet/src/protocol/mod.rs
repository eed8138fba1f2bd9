//! The wire protocol, in the order a request meets it:
//!
//! - [`Framer`] (`frame`): bytes from the socket → requests (newline lines,
//!   or one original request without newline);
//! - [`parse`] (`parse`): one request → a typed [`Command`] or a
//!   [`ParseError`]; numbers are read like Python's `int()` ([`Number`]);
//! - [`Reply`] (`reply`): every answer, written to bytes in one place.
//!
//! Executing a command against the seats is the job of
//! [`Inventory`](crate::Inventory). `docs/protocol.md` is the prose version.

mod frame;
mod number;
mod parse;
mod reply;

pub use frame::{Control, FrameOutcome, Framer};
pub use number::{Number, is_python_space};
pub use parse::{Command, MAX_ID_LEN, ParseError, parse, parse_request};
pub use reply::{AVAIL_MAX_RANGES, Reply, SeatList, SeatOutcome, StatsSnapshot};

pub(crate) use parse::quote;

//! The wire protocol, in the order a request meets it:
//!
//! - [`Framer`] (`frame`): bytes from the socket → requests (newline lines,
//!   or one original request without newline);
//! - [`parse`] (`parse`): one request → a typed [`Command`] or a
//!   [`ParseError`]; numbers are read like Python's `int()` ([`Number`], with the
//!   decimal digits of every script from the generated `nd_table`);
//! - [`Reply`] (`reply`): every answer, written to bytes in one place;
//! - [`original_reply`]: the client side, recognising the original
//!   server's unterminated reply (used by the client and the load tool).
//!
//! Executing a command against the seats is the job of
//! [`Inventory`](crate::Inventory). `docs/protocol.md` is the prose version.

mod frame;
mod nd_table;
mod number;
pub mod original_reply;
mod parse;
mod reply;

pub use frame::{Control, Frame, Framer};
pub use nd_table::ND_UNICODE_VERSION;
pub use number::{Number, is_int_space, is_python_space};
pub use parse::{
    CatalogCommand, Command, MAX_ID_LEN, Operator, ParseError, parse, parse_catalog, parse_request,
    parse_request_on,
};
pub use reply::{AVAIL_MAX_RANGES, MapLine, Reply, SeatList, SeatOutcome, StatsSnapshot};

pub(crate) use parse::quote;

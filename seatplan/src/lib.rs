//! seatplan: what a seat map looks like, and how people name and choose
//! its seats. Pure functions: no I/O, no locks; the seats themselves live
//! in seatcore, the protocol in seatnet.
//!
//! - **Maps** ([`MapSpec`], [`Cabin`], `spec.rs`): a count of numbered
//!   seats (`5000`) or a cabin of rows and aisle groups (`30x3-3`), parsed
//!   from and written back to a canonical spec, with the row-major layout
//!   (seat = `(row - 1) * width + position`).
//! - **Labels** (`label.rs`): [`MapSpec::parse_seat`],
//!   [`MapSpec::parse_run`], [`MapSpec::label`] (`12A`, or the wire number
//!   on a numbered map), [`MapSpec::runs`] (`12A-12C,13A`) and
//!   [`MapSpec::py_list`] (`['12A', '12B']`, the original reply's list);
//!   [`py_str`] (`pyrepr.rs`), Python's `repr()` of any text, to echo what
//!   a person typed, with its table of printable characters
//!   (`printable_table.rs`, generated from Python).
//! - **TOGETHER** ([`choose_together`], `together.rs`): a party's seats on
//!   a cabin by one total order (fewest rows, no orphan seat, adjacent
//!   rows, front-most, leftmost), checked against a brute force
//!   (`together/brute.rs`).
//! - **State line** ([`SeatState`], [`encode_states`], [`decode_states`],
//!   `wire.rs`): a map's free / held / taken seats as runs in one reply
//!   line (`F12T3H2`), at most [`MAX_LINE`] bytes for any map.
//! - **Drawing** ([`render`], [`Style`], `render.rs`): rows, letters,
//!   aisles and free / held / taken glyphs for a terminal, in colour or
//!   plain, or a compact grid for a numbered map.
//!
//! Seats are library indices from 0, as in seatcore; the wire's numbers
//! start at 1.
//!
//! # Example
//!
//! ```
//! use seatplan::MapSpec;
//!
//! let map: MapSpec = "30x3-3".parse()?;
//! let seat = map.parse_seat("12b")?;
//! assert_eq!(map.label(seat).to_string(), "12B");
//! assert_eq!(map.runs(&[seat..seat + 2]).to_string(), "12B-12C");
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

#![forbid(unsafe_code)]
// Lists of one run (`&[0..2]`) are what many tests compare against.
#![cfg_attr(test, allow(clippy::single_range_in_vec_init))]

mod label;
mod printable_table;
mod pyrepr;
mod render;
mod spec;
mod together;
mod wire;

pub use label::{Label, PyList, RunList, SeatError};
pub use printable_table::PRINTABLE_UNICODE_VERSION;
pub use pyrepr::{PyStr, py_str};
pub use render::{Style, render};
pub use spec::{Cabin, MAX_NUMBERED_SEATS, MAX_ROWS, MAX_WIDTH, MapSpec, SpecError};
pub use together::{Choice, MAX_PARTY, choose_together};
pub use wire::{MAX_DRAWN, MAX_LINE, SeatState, StateLineError, decode_states, encode_states};

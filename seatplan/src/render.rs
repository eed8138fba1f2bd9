//! A seat map a person can read in a terminal.
//!
//! A cabin draws a header of seat letters, then one line per row: the row
//! number, then one glyph per seat, a space between seats and three where
//! an aisle runs. A numbered map draws a compact grid of 20 seats a line
//! (two blocks of 10), each line starting with its first seat's number.
//! Both end with a legend and the free count.
//!
//! | state | glyph | colour |
//! |---|---|---|
//! | free | `.` | green |
//! | held | `h` | yellow |
//! | taken | `x` | red |
//! | not given | `?` | none |
//!
//! The glyphs are the same with and without colour, so the plain drawing
//! (for a pipe or a file) reads the same and colour only helps the eye.
//! Colour is ANSI SGR, reset after every glyph.
//!
//! At most [`MAX_DRAWN`] seats are drawn (every cabin whole); a bigger
//! numbered map is drawn in part and says so.

use std::fmt::Write as _;

use crate::spec::{Cabin, MapSpec};
use crate::wire::{MAX_DRAWN, SeatState};

/// Seats per line of a numbered map's grid.
const PER_LINE: u64 = 20;
/// Seats per block within a line.
const PER_BLOCK: u64 = 10;

/// How to draw.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Style {
    /// Colour the glyphs with ANSI escapes (for a terminal).
    pub color: bool,
}

/// Draws `spec` with `states[seat]` for each library seat (a missing state
/// is drawn `?`, extra states are ignored), ending every line with `\n`.
///
/// # Examples
///
/// ```
/// use seatplan::{MapSpec, SeatState::{Free, Held, Taken}, Style, render};
///
/// let spec: MapSpec = "2x2-1".parse()?;
/// let states = [Free, Taken, Free, Held, Free, Free];
/// let drawing = render(&spec, &states, Style::default());
/// let lines: Vec<&str> = drawing.lines().collect();
/// assert_eq!(lines, [
///     "   A B   C",
///     "1  . x   .",
///     "2  h .   .",
///     ". free  h held  x taken",
///     "4 of 6 seats free (1 held, 1 taken)",
/// ]);
/// # Ok::<(), seatplan::SpecError>(())
/// ```
#[must_use]
pub fn render(spec: &MapSpec, states: &[SeatState], style: Style) -> String {
    let mut out = String::new();
    let drawn = spec.seats().min(MAX_DRAWN);
    match spec {
        MapSpec::Cabin(cabin) => cabin_rows(&mut out, cabin, states, style),
        MapSpec::Numbered { seats } => numbered_grid(&mut out, *seats, states, style),
    }
    let at = |seat: u64| states.get(seat as usize).copied();
    for state in [SeatState::Free, SeatState::Held, SeatState::Taken] {
        if state != SeatState::Free {
            out.push_str("  ");
        }
        glyph(&mut out, Some(state), style);
        out.push(' ');
        out.push_str(match state {
            SeatState::Free => "free",
            SeatState::Held => "held",
            SeatState::Taken => "taken",
        });
    }
    out.push('\n');
    let count = |wanted| (0..drawn).filter(|&s| at(s) == Some(wanted)).count();
    let (free, held, taken) = (
        count(SeatState::Free),
        count(SeatState::Held),
        count(SeatState::Taken),
    );
    if drawn == spec.seats() {
        let _ = write!(out, "{free} of {drawn} seats free");
    } else {
        let _ = write!(out, "{free} of the first {drawn} seats free");
    }
    let _ = writeln!(out, " ({held} held, {taken} taken)");
    out
}

/// The letters header and one line per row.
fn cabin_rows(out: &mut String, cabin: &Cabin, states: &[SeatState], style: Style) {
    let number_width = cabin.rows().to_string().len();
    let aisles: Vec<u32> = cabin.aisles().collect();
    let gap = |pos: u32| match pos {
        0 => "",
        p if aisles.contains(&p) => "   ",
        _ => " ",
    };
    let _ = write!(out, "{:number_width$}  ", "");
    for pos in 0..cabin.width() {
        out.push_str(gap(pos));
        out.push(cabin.letter(pos).unwrap_or('?'));
    }
    out.push('\n');
    for row in 1..=u64::from(cabin.rows()) {
        let _ = write!(out, "{row:>number_width$}  ");
        for (pos, seat) in (0..cabin.width()).zip(cabin.row_seats(row)) {
            out.push_str(gap(pos));
            glyph(out, states.get(seat as usize).copied(), style);
        }
        out.push('\n');
    }
}

/// Lines of 20 seats in blocks of 10, each led by its first seat number.
fn numbered_grid(out: &mut String, seats: u64, states: &[SeatState], style: Style) {
    let drawn = seats.min(MAX_DRAWN);
    let last_line_start = (drawn - 1) / PER_LINE * PER_LINE + 1;
    let number_width = last_line_start.to_string().len();
    for line_start in (0..drawn).step_by(PER_LINE as usize) {
        let _ = write!(out, "{:>number_width$}  ", line_start + 1);
        for seat in line_start..drawn.min(line_start + PER_LINE) {
            if seat > line_start && (seat - line_start) % PER_BLOCK == 0 {
                out.push(' ');
            }
            glyph(out, states.get(seat as usize).copied(), style);
        }
        out.push('\n');
    }
    if drawn < seats {
        let _ = writeln!(out, "(seats {}..{seats} not drawn)", drawn + 1);
    }
}

/// One seat's glyph, coloured if asked.
fn glyph(out: &mut String, state: Option<SeatState>, style: Style) {
    let (glyph, colour) = match state {
        Some(SeatState::Free) => ('.', "32"),
        Some(SeatState::Held) => ('h', "33"),
        Some(SeatState::Taken) => ('x', "31"),
        None => ('?', ""),
    };
    if style.color && !colour.is_empty() {
        let _ = write!(out, "\x1b[{colour}m{glyph}\x1b[0m");
    } else {
        out.push(glyph);
    }
}

#[cfg(test)]
mod tests {
    use super::SeatState::{Free, Held, Taken};
    use super::*;

    fn spec(text: &str) -> MapSpec {
        text.parse().unwrap()
    }

    const PLAIN: Style = Style { color: false };

    /// The lines, each ending in `\n`.
    fn lines(lines: &[&str]) -> String {
        lines.iter().map(|line| format!("{line}\n")).collect()
    }

    #[test]
    fn a_cabin_draws_rows_letters_and_aisles() {
        let states = [
            Free, Free, Taken, Free, //
            Free, Held, Free, Free, //
            Taken, Taken, Taken, Taken,
        ];
        let expected = lines(&[
            "   A B   C D",
            "1  . .   x .",
            "2  . h   . .",
            "3  x x   x x",
            ". free  h held  x taken",
            "6 of 12 seats free (1 held, 5 taken)",
        ]);
        assert_eq!(render(&spec("3x2-2"), &states, PLAIN), expected);
    }

    #[test]
    fn row_numbers_line_up_and_letters_skip_i() {
        let states = vec![Free; 10 * 10];
        let drawing = render(&spec("10x3-4-3"), &states, PLAIN);
        let lines: Vec<&str> = drawing.lines().collect();
        assert_eq!(lines[0], "    A B C   D E F G   H J K");
        assert_eq!(lines[1], " 1  . . .   . . . .   . . .");
        assert_eq!(lines[10], "10  . . .   . . . .   . . .");
        assert_eq!(lines[12], "100 of 100 seats free (0 held, 0 taken)");
    }

    #[test]
    fn a_numbered_map_is_a_compact_grid() {
        let mut states = vec![Free; 25];
        states[2] = Taken;
        states[11] = Held;
        let expected = lines(&[
            " 1  ..x....... .h........",
            "21  .....",
            ". free  h held  x taken",
            "23 of 25 seats free (1 held, 1 taken)",
        ]);
        assert_eq!(render(&spec("25"), &states, PLAIN), expected);
    }

    #[test]
    fn missing_states_are_question_marks() {
        let expected = lines(&[
            "1  .??",
            ". free  h held  x taken",
            "1 of 3 seats free (0 held, 0 taken)",
        ]);
        assert_eq!(render(&spec("3"), &[Free], PLAIN), expected);
    }

    #[test]
    fn a_huge_numbered_map_is_drawn_in_part() {
        let states = vec![Taken; MAX_DRAWN as usize];
        let drawing = render(&spec("1000000"), &states, PLAIN);
        assert_eq!(drawing.lines().count(), 1250 + 3);
        assert!(drawing.contains("\n24981  xxxxxxxxxx xxxxxxxxxx\n"));
        assert!(drawing.ends_with(
            "(seats 25001..1000000 not drawn)\n\
             . free  h held  x taken\n\
             0 of the first 25000 seats free (0 held, 25000 taken)\n"
        ));
    }

    #[test]
    fn colour_wraps_each_glyph() {
        let drawing = render(&spec("1x2"), &[Free, Taken], Style { color: true });
        let expected = lines(&[
            "   A B",
            "1  \x1b[32m.\x1b[0m \x1b[31mx\x1b[0m",
            "\x1b[32m.\x1b[0m free  \x1b[33mh\x1b[0m held  \x1b[31mx\x1b[0m taken",
            "1 of 2 seats free (0 held, 1 taken)",
        ]);
        assert_eq!(drawing, expected);
    }
}

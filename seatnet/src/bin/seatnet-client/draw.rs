//! `MAP` replies drawn for a person: seatplan's renderer over the state
//! line, in colour when stdout is a terminal.

use std::io::IsTerminal as _;

use seatnet::MapSpec;
use seatplan::{Style, decode_states, render};

/// The drawing of an `OK map ...` reply, or `None` if `reply` is not one
/// (or does not read: then the caller prints it as it came).
pub(crate) fn drawing(reply: &str) -> Option<String> {
    let rest = reply.strip_prefix("OK map ")?;
    let name = rest.split(' ').next()?;
    let value = |key: &str| {
        rest.split(' ')
            .find_map(|part| part.strip_prefix(key)?.strip_prefix('='))
    };
    let spec: MapSpec = value("spec")?.parse().ok()?;
    let seats: u64 = value("seats")?.parse().ok()?;
    let states = decode_states(value("states")?, seats).ok()?;
    let style = Style {
        color: std::io::stdout().is_terminal(),
    };
    let mut out = format!("map {name} ({spec})\n");
    out.push_str(&render(&spec, &states, style));
    if (states.len() as u64) < seats {
        out.push_str(&format!(
            "(the first {} of {seats} seats are drawn)\n",
            states.len()
        ));
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::drawing;

    #[test]
    fn a_map_reply_is_drawn_and_anything_else_is_not() {
        let d = drawing("OK map AB spec=2x2-1 seats=6 free=4 held=1 drawn=6 states=F1T1F1H1F2")
            .unwrap();
        assert!(d.starts_with("map AB (2x2-1)\n"), "{d}");
        assert!(d.contains("1  . x   ."), "{d}");
        assert!(d.contains("4 of 6 seats free"), "{d}");
        assert_eq!(drawing("OK free=3"), None);
        assert_eq!(drawing("OK map AB spec=2x2-1 seats=6 states=Q"), None);
    }
}

//! Did a reply grant anything? Decides the one-shot exit code.

use crate::original_reply;

/// `true` when the reply grants the request: an original-form reply with
/// at least one seat reserved, or a seatnet `OK ...` reply.
pub(crate) fn granted(reply: &str) -> bool {
    let mut seats = Vec::new();
    if original_reply::reserved_seats(reply.as_bytes(), &mut seats) {
        return !seats.is_empty();
    }
    // A cabin map's original reply lists labels: `Reservados: ['1A']`.
    if let Some(list) = reply.strip_prefix("Reservados: [") {
        return !list.starts_with(']');
    }
    reply == "OK" || reply.starts_with("OK ")
}

#[cfg(test)]
mod tests {
    use super::granted;

    #[test]
    fn original_replies_grant_when_the_first_list_is_not_empty() {
        assert!(granted("Reservados: [5] | Indisponíveis/Inválidos: []"));
        assert!(!granted("Reservados: [] | Indisponíveis/Inválidos: [5]"));
        assert!(granted("Reservados: ['1A'] | Indisponíveis/Inválidos: []"));
        assert!(!granted("Reservados: [] | Indisponíveis/Inválidos: ['1A']"));
    }

    #[test]
    fn seatnet_replies_grant_on_ok_only() {
        assert!(granted("OK 7 seats=1,2,3"));
        assert!(granted("OK free=97 total=100 seats=1-97"));
        assert!(!granted("ERR conflict: taken=22"));
        assert!(!granted("OKAY"));
        assert!(!granted(""));
    }
}

//! The requests: K random seat numbers in 1..=S, in the original form.
//!
//! Both seatnet framings send the original request text (`5,10,22`), so
//! every reply is an original-form reply whose `Reservados` list feeds the
//! double-grant check; the newline framing only appends `\n`. For Redis a
//! request is K `SETBIT <key> <seat> 1` commands in RESP, in one write;
//! their replies do not name the seat, so the seats asked are queued
//! beside the request. The holds workload's requests come from each
//! connection's [`Session`], with this random source.

use std::collections::VecDeque;

use crate::cli::Framing;
use crate::holds::{HoldsPlan, Session};
use crate::ledger::Ledger;

/// Writes requests into connection buffers.
pub(crate) struct Workload {
    rng: fastrand::Rng,
    seats: u64,
    per_request: u32,
    framing: Framing,
    /// `*4\r\n$6\r\nSETBIT\r\n$<len>\r\n<key>\r\n`: what every RESP
    /// command starts with.
    resp_head: Vec<u8>,
}

impl Workload {
    /// `redis_key` is the bitmap of `Framing::Resp` (unused otherwise).
    pub(crate) fn new(
        seed: u64,
        seats: u64,
        per_request: u32,
        framing: Framing,
        redis_key: &str,
    ) -> Self {
        let mut resp_head = b"*4\r\n$6\r\nSETBIT\r\n".to_vec();
        resp_head.extend_from_slice(format!("${}\r\n{redis_key}\r\n", redis_key.len()).as_bytes());
        Self {
            rng: fastrand::Rng::with_seed(seed),
            seats,
            per_request,
            framing,
            resp_head,
        }
    }

    /// Appends one request to `out`; for RESP, its seats to `asked`.
    pub(crate) fn write_request(&mut self, out: &mut Vec<u8>, asked: &mut VecDeque<u64>) {
        let mut digits = [0u8; 20];
        for i in 0..self.per_request {
            let seat = self.rng.u64(1..=self.seats);
            let seat_text = format_u64(seat, &mut digits);
            if self.framing == Framing::Resp {
                out.extend_from_slice(&self.resp_head);
                // At most 20 digits, so the length is one or two digits.
                let len = seat_text.len();
                if len >= 10 {
                    out.extend_from_slice(&[
                        b'$',
                        b'0' + (len / 10) as u8,
                        b'0' + (len % 10) as u8,
                    ]);
                } else {
                    out.extend_from_slice(&[b'$', b'0' + len as u8]);
                }
                out.extend_from_slice(b"\r\n");
                out.extend_from_slice(seat_text);
                out.extend_from_slice(b"\r\n$1\r\n1\r\n");
                asked.push_back(seat);
                continue;
            }
            if i > 0 {
                out.push(b',');
            }
            out.extend_from_slice(seat_text);
        }
        if self.framing == Framing::Newline {
            out.push(b'\n');
        }
    }
}

impl Workload {
    /// Appends the next request of a `--workload holds` connection, which
    /// depends on the replies before it (see [`crate::holds`]).
    pub(crate) fn write_holds(
        &mut self,
        session: &mut Session,
        plan: &HoldsPlan,
        ledger: &mut Ledger,
        out: &mut Vec<u8>,
    ) {
        session.write_request(plan, &mut self.rng, ledger, out);
    }
}

/// Decimal digits of `n`, without allocating (this runs per seat).
fn format_u64(mut n: u64, buf: &mut [u8; 20]) -> &[u8] {
    let mut i = buf.len();
    loop {
        i -= 1;
        buf[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            return &buf[i..];
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests_hold_k_seats_in_range() {
        let mut w = Workload::new(7, 100, 3, Framing::Original, "");
        for _ in 0..200 {
            let mut out = Vec::new();
            w.write_request(&mut out, &mut VecDeque::new());
            let text = String::from_utf8(out).unwrap();
            let seats: Vec<u64> = text.split(',').map(|s| s.parse().unwrap()).collect();
            assert_eq!(seats.len(), 3);
            assert!(seats.iter().all(|s| (1..=100).contains(s)), "{text}");
        }
    }

    #[test]
    fn newline_framing_ends_each_request_with_a_newline() {
        let mut w = Workload::new(7, 5, 1, Framing::Newline, "");
        let mut out = Vec::new();
        let mut asked = VecDeque::new();
        w.write_request(&mut out, &mut asked);
        w.write_request(&mut out, &mut asked);
        assert!(asked.is_empty());
        let text = String::from_utf8(out).unwrap();
        assert_eq!(text.matches('\n').count(), 2);
        assert!(text.ends_with('\n'));
    }

    #[test]
    fn redis_requests_are_one_setbit_per_seat_in_resp() {
        let mut w = Workload::new(3, 100_000_000, 2, Framing::Resp, "k:s");
        let (mut out, mut asked) = (Vec::new(), VecDeque::new());
        w.write_request(&mut out, &mut asked);
        assert_eq!(asked.len(), 2);
        let text = String::from_utf8(out).unwrap();
        let expected: String = asked
            .iter()
            .map(|s| {
                let s = s.to_string();
                format!(
                    "*4\r\n$6\r\nSETBIT\r\n$3\r\nk:s\r\n${}\r\n{s}\r\n$1\r\n1\r\n",
                    s.len()
                )
            })
            .collect();
        assert_eq!(text, expected);
    }

    #[test]
    fn numbers_are_formatted_in_decimal() {
        let mut buf = [0u8; 20];
        assert_eq!(format_u64(0, &mut buf), b"0");
        assert_eq!(format_u64(100, &mut buf), b"100");
        assert_eq!(
            format_u64(u64::MAX, &mut buf),
            u64::MAX.to_string().as_bytes()
        );
    }
}

//! The requests: K random seat numbers in 1..=S, in the original form.
//!
//! Both framings send the original request text (`5,10,22`), so every
//! reply is an original-form reply whose `Reservados` list feeds the
//! double-grant check; the newline framing only appends `\n`.

use crate::cli::Framing;

/// Writes requests into connection buffers.
pub(crate) struct Workload {
    rng: fastrand::Rng,
    seats: u64,
    per_request: u32,
    newline: bool,
}

impl Workload {
    pub(crate) fn new(seed: u64, seats: u64, per_request: u32, framing: Framing) -> Self {
        Self {
            rng: fastrand::Rng::with_seed(seed),
            seats,
            per_request,
            newline: framing == Framing::Newline,
        }
    }

    /// Appends one request to `out`.
    pub(crate) fn write_request(&mut self, out: &mut Vec<u8>) {
        let mut digits = [0u8; 20];
        for i in 0..self.per_request {
            if i > 0 {
                out.push(b',');
            }
            let seat = self.rng.u64(1..=self.seats);
            out.extend_from_slice(format_u64(seat, &mut digits));
        }
        if self.newline {
            out.push(b'\n');
        }
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
        let mut w = Workload::new(7, 100, 3, Framing::Original);
        for _ in 0..200 {
            let mut out = Vec::new();
            w.write_request(&mut out);
            let text = String::from_utf8(out).unwrap();
            let seats: Vec<u64> = text.split(',').map(|s| s.parse().unwrap()).collect();
            assert_eq!(seats.len(), 3);
            assert!(seats.iter().all(|s| (1..=100).contains(s)), "{text}");
        }
    }

    #[test]
    fn newline_framing_ends_each_request_with_a_newline() {
        let mut w = Workload::new(7, 5, 1, Framing::Newline);
        let mut out = Vec::new();
        w.write_request(&mut out);
        w.write_request(&mut out);
        let text = String::from_utf8(out).unwrap();
        assert_eq!(text.matches('\n').count(), 2);
        assert!(text.ends_with('\n'));
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

//! The results, as text for people and as JSON for scripts.

use std::fmt::Write as _;
use std::time::Duration;

use crate::cli::Load;
use crate::hostile::{HostileReport, Kind};
use crate::run::RunResult;

/// A run and the workload it ran.
pub(crate) struct Measured<'a> {
    pub(crate) result: &'a RunResult,
    pub(crate) load: &'a Load,
    pub(crate) note: Option<&'static str>,
}

/// The text report of one run, ending with the double-grant line (or,
/// for the holds workload, the consistency line).
pub(crate) fn text(m: &Measured<'_>) -> String {
    let (r, load, s) = (m.result, m.load, &m.result.stats);
    let mut out = String::new();
    if let Some(plan) = &load.holds {
        let _ = writeln!(
            out,
            "== {} ({}): {} connections, holds over {} maps: USE, HOLD ANY {}, then CONFIRM \
             {}% / CANCEL, bookings beyond {} a connection cancelled",
            r.label, r.addr, load.connections, plan.maps, plan.seats, plan.confirm, plan.keep
        );
    } else {
        let _ = writeln!(
            out,
            "== {} ({}): {} connections, {} framing, pipeline {}, {} seats/request of {}",
            r.label,
            r.addr,
            load.connections,
            load.framing,
            load.pipeline,
            load.seats_per_request,
            load.seats
        );
    }
    if let Some(note) = m.note {
        let _ = writeln!(out, "   note: {note}");
    }
    let _ = writeln!(
        out,
        "requests  {} in {:.2} s: {:.0} req/s  (+{} warm-up)",
        s.measured,
        r.elapsed.as_secs_f64(),
        r.throughput(),
        s.warmup
    );
    let _ = writeln!(
        out,
        "latency   p50 {}  p99 {}  p99.9 {}  max {}",
        ms(s.quantile(0.5)),
        ms(s.quantile(0.99)),
        ms(s.quantile(0.999)),
        ms(s.max_latency())
    );
    let e = &s.errors;
    let _ = writeln!(
        out,
        "errors    {} (timeouts {}, closed {}, ERR replies {}, bad replies {})",
        e.total(),
        e.timeouts,
        e.closed,
        e.server,
        e.bad_replies
    );
    if let Some(hostile) = &r.hostile {
        hostile_text(&mut out, hostile);
    }
    if load.holds.is_some() {
        let h = &s.holds;
        let _ = writeln!(
            out,
            "replies   USE {}, HOLD {} (+{} map full), CONFIRM {}, CANCEL {} holds + {} bookings",
            h.uses, h.holds, h.full, h.confirmed, h.cancelled_holds, h.cancelled_bookings
        );
        let _ = writeln!(out, "{}", s.ledger.verdict());
    } else {
        let _ = writeln!(out, "{}", s.grants.verdict());
    }
    out
}

/// One line per kind of hostile connection asked for.
fn hostile_text(out: &mut String, report: &HostileReport) {
    for kind in Kind::ALL {
        let k = &report[kind as usize];
        if k.planned == 0 {
            continue;
        }
        let _ = writeln!(
            out,
            "hostile   {} {}: held {} at end (lowest {}), closed by server {}, reopened {}, \
             connect failures {}",
            kind.name().replace('_', "-"),
            k.planned,
            k.held_at_end,
            k.held_min,
            k.closed_by_server,
            k.reopened,
            k.connect_failures
        );
    }
}

/// The hostile connections as a JSON object, one member per kind.
fn hostile_json(out: &mut String, report: &HostileReport) {
    out.push_str(",\"hostile\":{");
    for (i, kind) in Kind::ALL.into_iter().enumerate() {
        let k = &report[kind as usize];
        if i > 0 {
            out.push(',');
        }
        let _ = write!(
            out,
            "\"{}\":{{\"planned\":{},\"held_at_end\":{},\"held_min\":{},\
             \"closed_by_server\":{},\"reopened\":{},\"connect_failures\":{}}}",
            kind.name(),
            k.planned,
            k.held_at_end,
            k.held_min,
            k.closed_by_server,
            k.reopened,
            k.connect_failures
        );
    }
    out.push('}');
}

/// The comparison line between our server and the baseline.
pub(crate) fn ratio(ours: &RunResult, baseline: &RunResult) -> String {
    let p99 = |r: &RunResult| r.stats.quantile(0.99).as_secs_f64();
    format!(
        "== ours / baseline: throughput {:.2}x, p99 latency {:.2}x",
        divide(ours.throughput(), baseline.throughput()),
        divide(p99(ours), p99(baseline))
    )
}

/// All runs as one JSON object.
pub(crate) fn json(runs: &[Measured<'_>]) -> String {
    let mut out = String::from("{\"runs\":[");
    for (i, m) in runs.iter().enumerate() {
        let (r, load, s) = (m.result, m.load, &m.result.stats);
        if i > 0 {
            out.push(',');
        }
        let us = |d: Duration| d.as_secs_f64() * 1e6;
        let _ = write!(
            out,
            "{{\"target\":\"{}\",\"addr\":\"{}\",\"connections\":{},\"framing\":\"{}\",\
             \"pipeline\":{},\"seats_per_request\":{},\"seats\":{},\"requests\":{},\
             \"warmup_requests\":{},\"elapsed_s\":{:.6},\"throughput\":{:.1},\
             \"p50_us\":{:.1},\"p99_us\":{:.1},\"p999_us\":{:.1},\"max_us\":{:.1},\
             \"errors\":{},\"seats_granted\":{},\"double_grant_ok\":{}",
            r.label,
            r.addr,
            load.connections,
            load.framing,
            load.pipeline,
            load.seats_per_request,
            load.seats,
            s.measured,
            s.warmup,
            r.elapsed.as_secs_f64(),
            r.throughput(),
            us(s.quantile(0.5)),
            us(s.quantile(0.99)),
            us(s.quantile(0.999)),
            us(s.max_latency()),
            s.errors.total(),
            s.grants.granted(),
            s.grants.ok()
        );
        if let Some(plan) = &load.holds {
            let h = &s.holds;
            let _ = write!(
                out,
                ",\"workload\":\"holds\",\"maps\":{},\"confirm_pct\":{},\"keep\":{},\
                 \"uses\":{},\"holds\":{},\"full\":{},\"confirmed\":{},\
                 \"cancelled_holds\":{},\"cancelled_bookings\":{},\"consistency_ok\":{}",
                plan.maps,
                plan.confirm,
                plan.keep,
                h.uses,
                h.holds,
                h.full,
                h.confirmed,
                h.cancelled_holds,
                h.cancelled_bookings,
                s.ledger.ok()
            );
        }
        if let Some(hostile) = &r.hostile {
            hostile_json(&mut out, hostile);
        }
        out.push('}');
    }
    out.push(']');
    if let [ours, baseline] = runs {
        let _ = write!(
            out,
            ",\"ratio_throughput\":{:.3}",
            divide(ours.result.throughput(), baseline.result.throughput())
        );
    }
    out.push('}');
    out
}

fn divide(a: f64, b: f64) -> f64 {
    if b > 0.0 { a / b } else { f64::NAN }
}

fn ms(d: Duration) -> String {
    format!("{:.3} ms", d.as_secs_f64() * 1e3)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cli::Framing;
    use crate::stats::Stats;
    use std::time::Instant;

    fn load() -> Load {
        Load {
            connections: 4,
            framing: Framing::Original,
            pipeline: 1,
            seats_per_request: 2,
            seats: 100,
            warmup: Duration::ZERO,
            duration: Duration::from_secs(1),
            requests: None,
            timeout: Duration::from_secs(1),
            seed: 1,
            redis_key: String::new(),
            holds: None,
        }
    }

    fn result(label: &str, replies: u64) -> RunResult {
        let mut stats = Stats::new(100);
        let t = Instant::now();
        for _ in 0..replies {
            let reply = "Reservados: [] | Indisponíveis/Inválidos: [1]";
            stats.reply(reply.as_bytes(), t, t + Duration::from_millis(1), true);
        }
        RunResult {
            label: label.into(),
            addr: "127.0.0.1:1".parse().unwrap(),
            stats,
            elapsed: Duration::from_secs(2),
            hostile: None,
        }
    }

    #[test]
    fn text_reports_throughput_latency_and_the_check() {
        let load = load();
        let r = result("ours", 100);
        let m = Measured {
            result: &r,
            load: &load,
            note: None,
        };
        let text = text(&m);
        assert!(text.contains("100 in 2.00 s: 50 req/s"), "{text}");
        assert!(text.contains("p50 1.000 ms"), "{text}");
        assert!(
            text.contains("double-grant check: OK (0 seats granted"),
            "{text}"
        );
    }

    #[test]
    fn hostile_connections_are_reported_in_text_and_json() {
        let load = load();
        let mut r = result("ours", 10);
        let mut report = HostileReport::default();
        report[Kind::Idle as usize] = crate::hostile::KindReport {
            planned: 7,
            held_at_end: 6,
            held_min: 5,
            closed_by_server: 3,
            reopened: 2,
            connect_failures: 1,
        };
        r.hostile = Some(report);
        let m = Measured {
            result: &r,
            load: &load,
            note: None,
        };
        let text = text(&m);
        assert!(
            text.contains(
                "hostile   idle 7: held 6 at end (lowest 5), closed by server 3, reopened 2, connect failures 1"
            ),
            "{text}"
        );
        assert!(
            !text.contains("trickle"),
            "kinds not asked for are left out: {text}"
        );
        let json = json(&[m]);
        assert!(
            json.contains(
                "\"hostile\":{\"idle\":{\"planned\":7,\"held_at_end\":6,\"held_min\":5,\"closed_by_server\":3,\"reopened\":2,\"connect_failures\":1},\"trickle\":{\"planned\":0"
            ),
            "{json}"
        );
        assert!(json.ends_with("}}]}"), "{json}");
    }

    #[test]
    fn ratio_and_json_compare_the_two_runs() {
        let line = ratio(&result("ours", 300), &result("baseline", 100));
        assert!(line.contains("throughput 3.00x"), "{line}");
        let load = load();
        let (ours, baseline) = (result("ours", 300), result("baseline", 100));
        let runs = [
            Measured {
                result: &ours,
                load: &load,
                note: None,
            },
            Measured {
                result: &baseline,
                load: &load,
                note: None,
            },
        ];
        let json = json(&runs);
        assert!(json.contains("\"ratio_throughput\":3.000"), "{json}");
        assert!(json.contains("\"target\":\"baseline\""), "{json}");
    }
}

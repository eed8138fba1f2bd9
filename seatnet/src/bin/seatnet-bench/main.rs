//! `seatnet-bench`: loads a seat server over loopback and checks that no
//! seat is sold twice.
//!
//! - `cli`: flags, checked into a plan (loopback only, bounded runs);
//! - `run`: one measured run: connect, drive, merge, progress line;
//! - `driver`: one thread multiplexing many connections with `mio`;
//! - `framing` (with the library's `protocol::original_reply`): where a
//!   reply ends;
//! - `workload`: the random requests;
//! - `holds`, `ledger`: `--workload holds` over many maps, each
//!   connection's steps and the check of what the replies say;
//! - `stats`, `grants`: latency histogram, counters, double-grant check;
//! - `report`: text and JSON;
//! - `hostile`: idle, trickling and never-reading connections held open
//!   during a run (`--idle`, `--trickle`, `--no-read`);
//! - `baseline`: the original design ported, to compare against;
//! - `redis`: `--target redis`: the key reset before the run (its RESP
//!   requests and replies live in `workload`, `framing` and `stats`);
//! - `spawn`: a seatnet server started in-process.

mod baseline;
mod cli;
mod driver;
mod framing;
mod grants;
mod holds;
mod hostile;
mod ledger;
mod redis;
mod report;
mod run;
mod spawn;
mod stats;
mod workload;

use std::net::SocketAddr;
use std::process::ExitCode;

use seatnet::protocol::original_reply;

use clap::Parser;

use cli::{Args, Framing, Plan, exit};
use report::Measured;

fn main() -> ExitCode {
    let args = Args::parse();
    let plan = match args.plan().and_then(|plan| {
        plan.check_descriptors(raise_descriptor_limit()?)?;
        Ok(plan)
    }) {
        Ok(plan) => plan,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(exit::SETUP);
        }
    };
    ExitCode::from(match measure(&plan) {
        Ok(runs) => report_all(&plan, &runs),
        Err(e) => {
            eprintln!("error: {e}");
            exit::SETUP
        }
    })
}

/// Raises this process's descriptor limit to its hard limit and returns it.
fn raise_descriptor_limit() -> Result<u64, String> {
    rlimit::increase_nofile_limit(u64::MAX)
        .map_err(|e| format!("cannot read or raise RLIMIT_NOFILE: {e}"))
}

/// Loads `addr` while holding the plan's hostile connections to it.
fn run_held(plan: &Plan, label: &str, addr: SocketAddr) -> Result<run::RunResult, String> {
    let holder = if plan.hostile.any() {
        Some(hostile::Holder::start(addr, plan.hostile)?)
    } else {
        None
    };
    if let Some(holder) = &holder {
        holder.measuring();
    }
    let result = run::run(label, addr, &plan.load, plan.threads, plan.quiet);
    let held = holder.map(hostile::Holder::stop).transpose();
    let mut result = result?;
    result.hostile = held?;
    Ok(result)
}

/// The baseline speaks only the original framing, one request in flight.
const BASELINE_NOTE: &str = "the original design takes one read as one request: \
                             original framing, one request in flight per connection";

fn measure(plan: &Plan) -> Result<Vec<(run::RunResult, bool)>, String> {
    let mut runs = Vec::new();
    if plan.run_ours {
        let result = if plan.spawn {
            let server = spawn::Spawned::start(
                plan.load.seats,
                plan.load.connections,
                plan.hostile.total(),
            )?;
            let result = run_held(plan, "ours", server.addr());
            server.stop();
            result?
        } else {
            run_held(plan, "ours", plan.ours.ok_or("no target address")?)?
        };
        runs.push((result, false));
    }
    if let Some((addr, key)) = &plan.redis {
        redis::reset(*addr, key, plan.load.timeout)?;
        runs.push((run_held(plan, "redis", *addr)?, false));
    }
    if plan.run_baseline {
        let server = baseline::BaselineServer::start(plan.load.seats)
            .map_err(|e| format!("cannot start the baseline server: {e}"))?;
        let load = baseline_load(plan);
        let result = run::run(
            "baseline",
            server.local_addr(),
            &load,
            plan.threads,
            plan.quiet,
        );
        server.stop();
        runs.push((result?, true));
    }
    Ok(runs)
}

fn baseline_load(plan: &Plan) -> cli::Load {
    let mut load = plan.load.clone();
    load.framing = Framing::Original;
    load.pipeline = 1;
    load
}

/// Prints every run and returns the exit code.
fn report_all(plan: &Plan, runs: &[(run::RunResult, bool)]) -> u8 {
    let baseline_load = baseline_load(plan);
    let measured: Vec<Measured<'_>> = runs
        .iter()
        .map(|(result, is_baseline)| Measured {
            result,
            load: if *is_baseline {
                &baseline_load
            } else {
                &plan.load
            },
            note: (*is_baseline && plan.load.framing != Framing::Original).then_some(BASELINE_NOTE),
        })
        .collect();
    let mut text = String::new();
    for m in &measured {
        text.push_str(&report::text(m));
    }
    if let [ours, baseline] = runs {
        text.push_str(&report::ratio(&ours.0, &baseline.0));
        text.push('\n');
    }
    if plan.json {
        eprint!("{text}");
        println!("{}", report::json(&measured));
    } else {
        print!("{text}");
    }
    let stats = runs.iter().map(|(r, _)| &r.stats);
    if stats.clone().any(|s| !s.grants.ok() || !s.ledger.ok()) {
        exit::DOUBLE_GRANT
    } else if stats
        .clone()
        .any(|s| s.errors.total() > 0 || s.measured == 0)
    {
        exit::ERRORS
    } else {
        exit::OK
    }
}

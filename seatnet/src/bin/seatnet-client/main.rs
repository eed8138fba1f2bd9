//! `seatnet-client`: talks to seatnet-server or to the original server.
//!
//! - `cli`: flags, subcommands, exit codes;
//! - `connection`: connect, send a line, read its reply;
//! - `reply`: where a reply ends, for both servers' framings;
//! - the library's `protocol::original_reply`: the shape of the original
//!   server's reply;
//! - `verdict`: whether a reply granted the request;
//! - `interactive`: the original prompt-and-reply dialogue;
//! - `draw`: `MAP` replies drawn for a person.

mod cli;
mod connection;
mod draw;
mod interactive;
mod reply;
mod verdict;

use std::process::ExitCode;

use seatnet::protocol::original_reply;

use clap::Parser;

use cli::{Args, exit};
use connection::Connection;
use interactive::DialogueError;

fn main() -> ExitCode {
    let args = Args::parse();
    ExitCode::from(run(&args))
}

fn run(args: &Args) -> u8 {
    let line = args.command.as_ref().map(|c| {
        let line = c.request_line();
        // A change carries a request id, so a retry cannot do it twice.
        if c.changes() {
            format!("{line} id={}", cli::request_id())
        } else {
            line
        }
    });
    if line.as_ref().is_some_and(|l| l.contains(['\n', '\r'])) {
        eprintln!("error: a request must be a single line");
        return exit::USAGE;
    }
    let mut conn = match connect(args) {
        Ok(conn) => conn,
        Err(code) => return code,
    };
    match line {
        Some(line) => {
            let retries = match &args.command {
                Some(c) if c.changes() => args.retries,
                _ => 0,
            };
            one_shot(args, conn, &line, retries)
        }
        None => match interactive::run(&mut conn, args.show_map) {
            Ok(()) => exit::OK,
            Err(DialogueError::Server(e)) => fail(e),
            Err(DialogueError::Input(e)) => {
                eprintln!("error: reading input: {e}");
                exit::USAGE
            }
        },
    }
}

/// Sends one request, prints the reply, and judges it. If the connection
/// is lost before the reply, sends it again on a new connection, up to
/// `retries` times (only changes, which carry a request id, are retried).
fn one_shot(args: &Args, mut conn: Connection, line: &str, retries: u32) -> u8 {
    let mut attempt = 0;
    let result = loop {
        match conn.request(line) {
            Err(e) if attempt < retries && lost(&e) => {
                attempt += 1;
                eprintln!("warning: {e}; retrying with the same request id ({attempt}/{retries})");
                std::thread::sleep(std::time::Duration::from_millis(100 << attempt.min(5)));
                match connect(args) {
                    Ok(c) => conn = c,
                    Err(code) if attempt >= retries => return code,
                    Err(_) => continue,
                }
            }
            other => break other,
        }
    };
    match result {
        Ok(reply) => {
            match draw::drawing(&reply) {
                Some(drawing) => print!("{drawing}"),
                None => println!("{reply}"),
            }
            if verdict::granted(&reply) {
                exit::OK
            } else {
                exit::REFUSED
            }
        }
        Err(e) => fail(e),
    }
}

/// Connects, and with `--map` says `USE NAME` first. `Err`: the exit code
/// (the error is printed).
fn connect(args: &Args) -> Result<Connection, u8> {
    let mut conn = Connection::connect(&args.host, args.port, args.timeout()).map_err(fail)?;
    if let Some(name) = &args.map {
        if name.contains(['\n', '\r']) {
            eprintln!("error: --map must be a single line");
            return Err(exit::USAGE);
        }
        let reply = conn.request(&format!("USE {name}")).map_err(fail)?;
        if !reply.starts_with("OK using ") {
            eprintln!("error: --map {name}: {reply}");
            return Err(exit::REFUSED);
        }
    }
    Ok(conn)
}

/// Whether the connection was lost before the reply (worth a retry).
fn lost(e: &connection::ClientError) -> bool {
    matches!(
        e,
        connection::ClientError::Closed | connection::ClientError::Io(_)
    )
}

fn fail(e: connection::ClientError) -> u8 {
    eprintln!("error: {e}");
    exit::CONNECTION
}

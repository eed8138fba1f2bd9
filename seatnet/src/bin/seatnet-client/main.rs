//! `seatnet-client`: talks to seatnet-server or to the original server.
//!
//! - `cli`: flags, subcommands, exit codes;
//! - `connection`: connect, send a line, read its reply;
//! - `reply`: where a reply ends, for both servers' framings;
//! - the library's `protocol::original_reply`: the shape of the original
//!   server's reply;
//! - `verdict`: whether a reply granted the request;
//! - `interactive`: the original prompt-and-reply dialogue.

mod cli;
mod connection;
mod interactive;
mod reply;
mod verdict;

use std::process::ExitCode;

use seatnet::protocol::original_reply;

use clap::Parser;

use cli::{Args, OneShot, exit};
use connection::Connection;
use interactive::DialogueError;

fn main() -> ExitCode {
    let args = Args::parse();
    ExitCode::from(run(&args))
}

fn run(args: &Args) -> u8 {
    let line = args.command.as_ref().map(OneShot::request_line);
    if line.as_ref().is_some_and(|l| l.contains(['\n', '\r'])) {
        eprintln!("error: a request must be a single line");
        return exit::USAGE;
    }
    let mut conn = match Connection::connect(&args.host, args.port, args.timeout()) {
        Ok(conn) => conn,
        Err(e) => return fail(e),
    };
    match line {
        Some(line) => one_shot(&mut conn, &line),
        None => match interactive::run(&mut conn) {
            Ok(()) => exit::OK,
            Err(DialogueError::Server(e)) => fail(e),
            Err(DialogueError::Input(e)) => {
                eprintln!("error: reading input: {e}");
                exit::USAGE
            }
        },
    }
}

/// Sends one request, prints the reply, and judges it.
fn one_shot(conn: &mut Connection, line: &str) -> u8 {
    match conn.request(line) {
        Ok(reply) => {
            println!("{reply}");
            if verdict::granted(&reply) {
                exit::OK
            } else {
                exit::REFUSED
            }
        }
        Err(e) => fail(e),
    }
}

fn fail(e: connection::ClientError) -> u8 {
    eprintln!("error: {e}");
    exit::CONNECTION
}

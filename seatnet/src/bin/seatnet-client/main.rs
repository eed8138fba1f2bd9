//! `seatnet-client`: talks to seatnet-server or to the original server.
//!
//! - `cli`: flags, subcommands, exit codes;
//! - `connection`: connect, send a line, read its reply;
//! - `session`: request ids on changes, and the retry after a lost
//!   connection (both modes);
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
mod session;
mod verdict;

use std::process::ExitCode;

use seatnet::protocol::original_reply;

use clap::Parser;

use cli::{Args, exit};
use interactive::DialogueError;
use session::{Session, fail};

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
    let mut session = match Session::connect(args) {
        Ok(session) => session,
        Err(code) => return code,
    };
    match line {
        Some(line) => {
            let changes = args.command.as_ref().is_some_and(cli::OneShot::changes);
            let retries = session.retries_for(changes);
            one_shot(&mut session, &line, retries)
        }
        None => match interactive::run(&mut session, args.show_map) {
            Ok(()) => exit::OK,
            Err(DialogueError::Server(e)) => fail(e),
            Err(DialogueError::Input(e)) => {
                eprintln!("error: reading input: {e}");
                exit::USAGE
            }
        },
    }
}

/// Sends one request, prints the reply, and judges it (a change is
/// retried on a new connection if the connection is lost before the
/// reply: see `session`).
fn one_shot(session: &mut Session<'_>, line: &str, retries: u32) -> u8 {
    match session.request(line, retries) {
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

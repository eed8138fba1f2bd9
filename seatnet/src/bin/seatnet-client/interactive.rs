//! The original dialogue: prompt, send what was typed, print the reply.

use std::io::{self, BufRead, IsTerminal, Write};

use rustyline::DefaultEditor;
use rustyline::error::ReadlineError;

use crate::connection::ClientError;
use crate::session::{Session, is_change_verb, with_request_id};

const PROMPT: &str = "Digite os assentos para reservar (ex: 5,10,22) ou 'sair': ";

/// Where typed lines come from: a line editor on a terminal, plain stdin
/// otherwise (scripts, tests, pipes).
enum Input {
    Editor(Box<DefaultEditor>),
    Plain(io::StdinLock<'static>),
}

impl Input {
    fn open() -> Self {
        if io::stdin().is_terminal() {
            match DefaultEditor::new() {
                Ok(editor) => return Self::Editor(Box::new(editor)),
                Err(e) => eprintln!("line editing unavailable ({e}); reading plain lines"),
            }
        }
        Self::Plain(io::stdin().lock())
    }

    /// The next line without its terminator; `None` at end of input or
    /// Ctrl-C / Ctrl-D.
    fn next_line(&mut self) -> io::Result<Option<String>> {
        match self {
            Self::Editor(editor) => match editor.readline(PROMPT) {
                Ok(line) => {
                    // History is a convenience: a failure to record is not
                    // worth stopping for.
                    let _ = editor.add_history_entry(line.as_str());
                    Ok(Some(line))
                }
                Err(ReadlineError::Interrupted | ReadlineError::Eof) => Ok(None),
                Err(ReadlineError::Io(e)) => Err(e),
                Err(e) => Err(io::Error::other(e)),
            },
            Self::Plain(stdin) => {
                // Like Python's input(): the prompt goes out even when
                // stdin is not a terminal.
                let mut out = io::stdout().lock();
                write!(out, "{PROMPT}")?;
                out.flush()?;
                let mut line = String::new();
                if stdin.read_line(&mut line)? == 0 {
                    return Ok(None);
                }
                let trimmed = line.trim_end_matches(['\n', '\r']).len();
                line.truncate(trimmed);
                Ok(Some(line))
            }
        }
    }
}

/// Whether a typed request changes seats: an original seat list, or a
/// change verb (a cabin's original list starts with a row number too).
fn changes(command: &str) -> bool {
    let word = command.split_whitespace().next().unwrap_or("");
    !word.starts_with(|c: char| c.is_alphabetic()) || is_change_verb(command)
}

/// Why the dialogue stopped early.
#[derive(Debug)]
pub(crate) enum DialogueError {
    Server(ClientError),
    Input(io::Error),
}

/// Runs the dialogue until `sair`/`quit`, end of input, or a broken
/// connection. A change command gets a request id and is retried with it
/// after a lost connection (`session`); an original seat list is sent as
/// typed. A `MAP` reply is drawn; with `show_map`, so is the map after
/// every reply that changed seats.
pub(crate) fn run(session: &mut Session<'_>, show_map: bool) -> Result<(), DialogueError> {
    println!("✅ Conectado ao servidor.");
    let mut input = Input::open();
    while let Some(line) = input.next_line().map_err(DialogueError::Input)? {
        let command = line.trim();
        if command.eq_ignore_ascii_case("sair") || command.eq_ignore_ascii_case("quit") {
            break;
        }
        // An empty request makes the original server drop the connection;
        // asking again is kinder.
        if command.is_empty() {
            continue;
        }
        let (line, has_id) = with_request_id(&line);
        let retries = session.retries_for(has_id);
        let reply = session
            .request(&line, retries)
            .map_err(DialogueError::Server)?;
        match crate::draw::drawing(&reply) {
            Some(drawing) => print!("{drawing}"),
            None => println!("[RESPOSTA] {reply}"),
        }
        if show_map && changes(command) && crate::verdict::granted(&reply) {
            let map = session.request("MAP", 0).map_err(DialogueError::Server)?;
            match crate::draw::drawing(&map) {
                Some(drawing) => print!("{drawing}"),
                // The original server knows no MAP: say what it said.
                None => println!("[MAPA] {map}"),
            }
        }
    }
    Ok(())
}

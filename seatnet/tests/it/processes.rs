//! The real binaries as child processes: `seatnet-server` on a free port,
//! and what a finished process printed.

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::process::{Child, Command, Output, Stdio};
use std::sync::mpsc;
use std::thread;

use crate::support::READ_TIMEOUT;

/// `seatnet-server` started with `--host 127.0.0.1 --port 0`, its address
/// read from its first stdout line; killed on drop.
pub(crate) struct ServerProcess {
    pub(crate) child: Child,
    pub(crate) addr: SocketAddr,
    /// The startup line, `seatnet-server listening on ADDR (...)`.
    pub(crate) first_line: String,
}

impl ServerProcess {
    /// Starts the binary with `args` after the address flags.
    pub(crate) fn start(args: &[&str]) -> Self {
        let mut child = Command::new(env!("CARGO_BIN_EXE_seatnet-server"))
            .args(["--host", "127.0.0.1", "--port", "0"])
            .args(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("start seatnet-server");
        let stdout = child.stdout.take().expect("piped stdout");
        // The pipe has no read timeout of its own: read it on a thread and
        // wait for the line with one.
        let (tx, rx) = mpsc::channel();
        thread::spawn(move || {
            let mut line = String::new();
            let _ = BufReader::new(stdout).read_line(&mut line);
            let _ = tx.send(line);
        });
        let Ok(first_line) = rx.recv_timeout(READ_TIMEOUT) else {
            let _ = child.kill();
            panic!("seatnet-server printed no startup line");
        };
        let addr = first_line
            .strip_prefix("seatnet-server listening on ")
            .and_then(|rest| rest.split(' ').next())
            .and_then(|addr| addr.parse().ok())
            .unwrap_or_else(|| panic!("no address in startup line {first_line:?}"));
        ServerProcess {
            child,
            addr,
            first_line,
        }
    }

    pub(crate) fn port(&self) -> u16 {
        self.addr.port()
    }
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub(crate) fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

pub(crate) fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

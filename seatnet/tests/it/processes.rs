//! The real binaries as child processes: `seatnet-server` on a free port,
//! and what a finished process printed.
//!
//! A server's log (its stderr) is dropped, unless `SEATNET_TEST_LOGS`
//! names a directory: then each server writes its log there, to a file
//! of its own (`server-<test pid>-<n>.log`), to read after a failing run.

use std::fs::File;
use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::Path;
use std::process::{Child, Command, Output, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
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
            .stderr(log_sink())
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

/// Where a server's stderr goes: see the module docs.
fn log_sink() -> Stdio {
    static SERVERS: AtomicU64 = AtomicU64::new(0);
    let Some(dir) = std::env::var_os("SEATNET_TEST_LOGS") else {
        return Stdio::null();
    };
    // Relaxed: only the number's uniqueness matters.
    let n = SERVERS.fetch_add(1, Ordering::Relaxed);
    let path = Path::new(&dir).join(format!("server-{}-{n}.log", std::process::id()));
    match File::create(&path) {
        Ok(file) => Stdio::from(file),
        Err(e) => panic!("SEATNET_TEST_LOGS: cannot create {}: {e}", path.display()),
    }
}

pub(crate) fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

pub(crate) fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

//! Real etcd members for tests: [`EtcdCluster`] starts N members on free
//! 127.0.0.1 ports in a temporary directory and kills them (and removes
//! the directory) when dropped, including while a failing test unwinds;
//! a watchdog kills them even when the test process itself is killed.
//!
//! When the `etcd` binary is not installed, [`EtcdCluster::start`] says
//! so loudly on stderr (`SKIPPED: ... needs the etcd-server package`) and
//! returns `None`, so a test can return early instead of failing on a
//! machine without it.
//!
//! [`Proxy`] forwards a loopback port to a member and can be cut, to
//! make a partition between one client and etcd.

mod proxy;

pub use proxy::Proxy;

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use crate::client::{Client, Config};

/// Each member runs under a small `sh` watchdog: it starts etcd (`$0`,
/// with the arguments after it) and waits on its stdin, a pipe from this
/// process. The pipe closes when [`EtcdCluster::kill`] closes it, and also
/// when this process dies in any way (even by SIGKILL, when no `Drop`
/// runs); the watchdog then kills etcd with SIGKILL and waits for it. So
/// no member outlives its test.
const WATCHDOG: &str =
    r#""$0" "$@" </dev/null & pid=$!; read -r line; kill -9 "$pid" 2>/dev/null; wait "$pid""#;

/// How long a member may take to answer after it was started.
const READY_WITHIN: Duration = Duration::from_secs(30);
/// Attempts at starting a cluster (a port picked free may be taken by
/// someone else before etcd binds it).
const START_ATTEMPTS: usize = 3;

struct Member {
    name: String,
    client_port: u16,
    peer_port: u16,
    child: Option<Child>,
}

/// N etcd members on loopback, stopped and deleted on drop.
pub struct EtcdCluster {
    binary: PathBuf,
    dir: PathBuf,
    token: String,
    members: Vec<Member>,
}

/// Where `etcd` is: `$SEATCLUSTER_ETCD` if set (a path that does not
/// exist means "not installed", to try the skip), else the first on
/// `PATH`, `/usr/bin` or `/usr/local/bin`.
pub fn etcd_binary() -> Option<PathBuf> {
    if let Some(path) = std::env::var_os("SEATCLUSTER_ETCD") {
        let path = PathBuf::from(path);
        return path.is_file().then_some(path);
    }
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .chain([PathBuf::from("/usr/bin"), PathBuf::from("/usr/local/bin")])
        .map(|dir| dir.join("etcd"))
        .find(|candidate| candidate.is_file())
}

impl EtcdCluster {
    /// Starts `members` members and waits (bounded) until they serve
    /// requests. `None`, after a loud `SKIPPED` line naming `test`, when
    /// etcd is not installed. Panics, with the members' logs, when it is
    /// installed but the cluster does not come up.
    pub fn start(test: &str, members: usize) -> Option<EtcdCluster> {
        let Some(binary) = etcd_binary() else {
            // Straight to stderr, not through `eprintln!`, which the test
            // harness captures and shows only for failing tests.
            let line = format!(
                "SKIPPED: {test}: needs the etcd-server package (the `etcd` binary is not on PATH; \
                 `apt-get install etcd-server`, as .ci/run does)\n"
            );
            let _ = std::io::Write::write_all(&mut std::io::stderr(), line.as_bytes());
            return None;
        };
        let mut failures = Vec::new();
        for _ in 0..START_ATTEMPTS {
            let cluster = EtcdCluster::spawn(&binary, members);
            if cluster.wait_ready(READY_WITHIN) {
                return Some(cluster);
            }
            failures.push(cluster.logs());
        }
        panic!(
            "etcd cluster of {members} did not start within {READY_WITHIN:?} in {START_ATTEMPTS} attempts:\n{}",
            failures.join("\n----\n")
        );
    }

    fn spawn(binary: &Path, count: usize) -> EtcdCluster {
        static SERIAL: AtomicU64 = AtomicU64::new(0);
        // Relaxed: only uniqueness of the number matters.
        let serial = SERIAL.fetch_add(1, Ordering::Relaxed);
        let token = format!("seatcluster-{}-{serial}", std::process::id());
        let dir = std::env::temp_dir().join(&token);
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("create a temporary directory for etcd");
        let ports = free_ports(2 * count);
        let members = (0..count)
            .map(|i| Member {
                name: format!("m{i}"),
                client_port: ports[2 * i],
                peer_port: ports[2 * i + 1],
                child: None,
            })
            .collect();
        let mut cluster = EtcdCluster {
            binary: binary.to_path_buf(),
            dir,
            token,
            members,
        };
        for i in 0..count {
            cluster.launch(i);
        }
        cluster
    }

    fn launch(&mut self, i: usize) {
        let initial: Vec<String> = self
            .members
            .iter()
            .map(|m| format!("{}=http://127.0.0.1:{}", m.name, m.peer_port))
            .collect();
        let member = &self.members[i];
        let data = self.dir.join(&member.name);
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.dir.join(format!("{}.log", member.name)))
            .expect("open an etcd log file");
        let client_url = format!("http://127.0.0.1:{}", member.client_port);
        let peer_url = format!("http://127.0.0.1:{}", member.peer_port);
        let child = Command::new("sh")
            .args(["-c", WATCHDOG])
            .arg(&self.binary)
            .arg("--name")
            .arg(&member.name)
            .arg("--data-dir")
            .arg(&data)
            .args(["--listen-client-urls", &client_url])
            .args(["--advertise-client-urls", &client_url])
            .args(["--listen-peer-urls", &peer_url])
            .args(["--initial-advertise-peer-urls", &peer_url])
            .args(["--initial-cluster", &initial.join(",")])
            .args(["--initial-cluster-state", "new"])
            .args(["--initial-cluster-token", &self.token])
            .args(["--logger", "zap", "--log-level", "warn"])
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .expect("spawn sh and etcd");
        self.members[i].child = Some(child);
    }

    /// Client addresses of every member (`127.0.0.1:port`), killed or not.
    pub fn endpoints(&self) -> Vec<String> {
        self.members
            .iter()
            .map(|m| format!("127.0.0.1:{}", m.client_port))
            .collect()
    }

    /// A client for every member, with short timeouts for tests.
    pub fn client(&self) -> Client {
        let mut config = Config::new(&self.endpoints());
        config.timeout = Duration::from_secs(3);
        Client::with_config(config).expect("a valid config")
    }

    /// Kills member `i` (SIGKILL) and waits for it to exit.
    pub fn kill(&mut self, i: usize) {
        if let Some(mut child) = self.members[i].child.take() {
            // Closing the pipe makes the watchdog SIGKILL etcd, wait for
            // it, and exit.
            drop(child.stdin.take());
            let _ = child.wait();
        }
    }

    /// Starts member `i` again on its data directory and ports.
    pub fn restart(&mut self, i: usize) {
        self.kill(i);
        self.launch(i);
    }

    /// Waits, at most `within`, until every running member answers a
    /// read (which needs a leader); returns whether they all did.
    pub fn wait_ready(&self, within: Duration) -> bool {
        let deadline = Instant::now() + within;
        for member in self.members.iter().filter(|m| m.child.is_some()) {
            let mut config = Config::new(&[format!("127.0.0.1:{}", member.client_port)]);
            config.timeout = Duration::from_secs(2);
            let client = Client::with_config(config).expect("a valid config");
            loop {
                if client.get("/seatcluster-ready").is_ok() {
                    break;
                }
                if Instant::now() >= deadline {
                    return false;
                }
                std::thread::sleep(Duration::from_millis(100));
            }
        }
        true
    }

    /// The members' logs, for a failure message.
    pub fn logs(&self) -> String {
        self.members
            .iter()
            .map(|m| {
                let text = std::fs::read_to_string(self.dir.join(format!("{}.log", m.name)))
                    .unwrap_or_default();
                let tail: Vec<&str> = text.lines().rev().take(20).collect();
                let tail: Vec<&str> = tail.into_iter().rev().collect();
                format!(
                    "== {} (client port {})\n{}",
                    m.name,
                    m.client_port,
                    tail.join("\n")
                )
            })
            .collect::<Vec<_>>()
            .join("\n")
    }
}

impl Drop for EtcdCluster {
    fn drop(&mut self) {
        for i in 0..self.members.len() {
            self.kill(i);
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// `count` distinct free ports on 127.0.0.1: all bound at once (so they
/// differ), then released for etcd to bind.
fn free_ports(count: usize) -> Vec<u16> {
    let listeners: Vec<TcpListener> = (0..count)
        .map(|_| TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0"))
        .collect();
    listeners
        .iter()
        .map(|l| l.local_addr().expect("local address").port())
        .collect()
}

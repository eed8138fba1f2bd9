//! Test servers and test clients.

use std::io::{self, BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::mpsc;
use std::thread;
use std::time::Duration;

use seatnet::{Config, Server, ShutdownHandle};

/// Every read in the tests gives up after this long, so a bug fails a test
/// instead of hanging it. Not a timing assertion: generous on purpose.
pub(crate) const READ_TIMEOUT: Duration = Duration::from_secs(10);

/// A server running on its own thread; shut down and joined on drop.
pub(crate) struct TestServer {
    pub(crate) addr: SocketAddr,
    /// The `admin_listen` address, if the config asked for one.
    pub(crate) admin: Option<SocketAddr>,
    pub(crate) stop: ShutdownHandle,
    done: Option<mpsc::Receiver<io::Result<()>>>,
}

impl TestServer {
    /// A server with `config`, on 127.0.0.1 and a free port.
    pub(crate) fn start(config: Config) -> TestServer {
        let server = Server::bind(Config {
            host: "127.0.0.1".into(),
            port: 0,
            ..config
        })
        .expect("bind a test server");
        let addr = server.local_addr();
        let admin = server.admin_addr();
        let stop = server.shutdown_handle();
        let (tx, done) = mpsc::channel();
        thread::spawn(move || {
            let _ = tx.send(server.run());
        });
        TestServer {
            addr,
            admin,
            stop,
            done: Some(done),
        }
    }

    /// A server with default settings but few workers (tests are small).
    pub(crate) fn small() -> TestServer {
        Self::start(Config {
            threads: 8,
            ..Config::default()
        })
    }

    /// Shuts down and waits for `run` to return (bounded wait).
    pub(crate) fn shutdown(&mut self) -> io::Result<()> {
        self.stop.shutdown();
        match self.done.take() {
            Some(done) => done
                .recv_timeout(READ_TIMEOUT)
                .expect("run() returned after shutdown"),
            None => Ok(()),
        }
    }

    /// A new line client.
    pub(crate) fn line_client(&self) -> LineClient {
        LineClient::connect(self.addr)
    }

    /// A new client that behaves like the original Python client.
    pub(crate) fn original_client(&self) -> OriginalClient {
        OriginalClient::connect(self.addr)
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        let result = self.shutdown();
        if !thread::panicking() {
            result.expect("server ran cleanly");
        }
    }
}

/// A connected socket with both timeouts set.
pub(crate) fn connect(addr: SocketAddr) -> TcpStream {
    let stream = TcpStream::connect(addr).expect("connect");
    stream.set_read_timeout(Some(READ_TIMEOUT)).unwrap();
    stream.set_write_timeout(Some(READ_TIMEOUT)).unwrap();
    stream
}

/// The original client: one request with no newline in one write, then
/// one read for the reply.
pub(crate) struct OriginalClient {
    pub(crate) stream: TcpStream,
}

impl OriginalClient {
    pub(crate) fn connect(addr: SocketAddr) -> Self {
        OriginalClient {
            stream: connect(addr),
        }
    }

    /// Sends `request` exactly as given and returns the raw reply bytes.
    pub(crate) fn ask_bytes(&mut self, request: &[u8]) -> Vec<u8> {
        self.stream.write_all(request).expect("send");
        let mut reply = vec![0u8; 64 * 1024];
        let n = self.stream.read(&mut reply).expect("a reply");
        assert!(n > 0, "server closed instead of replying to {request:?}");
        reply.truncate(n);
        reply
    }

    /// Sends `request` and returns the reply as text.
    pub(crate) fn ask(&mut self, request: &str) -> String {
        String::from_utf8(self.ask_bytes(request.as_bytes())).expect("UTF-8 reply")
    }
}

/// A newline client: sends lines, reads lines.
pub(crate) struct LineClient {
    pub(crate) reader: BufReader<TcpStream>,
    pub(crate) writer: TcpStream,
}

impl LineClient {
    pub(crate) fn connect(addr: SocketAddr) -> Self {
        let stream = connect(addr);
        LineClient {
            writer: stream.try_clone().unwrap(),
            reader: BufReader::new(stream),
        }
    }

    /// Writes raw bytes in one write.
    pub(crate) fn send(&mut self, bytes: &[u8]) {
        self.writer.write_all(bytes).expect("send");
    }

    /// Reads one reply line, without its `\n`; panics at end of stream.
    pub(crate) fn line(&mut self) -> String {
        self.try_line().expect("a reply line, not end of stream")
    }

    /// Reads one reply line, or `None` at end of stream.
    pub(crate) fn try_line(&mut self) -> Option<String> {
        let mut line = String::new();
        let n = self.reader.read_line(&mut line).expect("read a line");
        if n == 0 {
            return None;
        }
        assert!(line.ends_with('\n'), "reply without newline: {line:?}");
        line.pop();
        Some(line)
    }

    /// Sends `request` plus `\n` and returns the reply line.
    pub(crate) fn ask(&mut self, request: &str) -> String {
        self.send(format!("{request}\n").as_bytes());
        self.line()
    }

    /// Whether the server has closed the connection (end of stream or
    /// reset), reading at most a few stray bytes first.
    pub(crate) fn is_closed(&mut self) -> bool {
        let mut rest = Vec::new();
        match self.reader.read_to_end(&mut rest) {
            Ok(_) => true,
            Err(e) => matches!(
                e.kind(),
                io::ErrorKind::ConnectionReset | io::ErrorKind::ConnectionAborted
            ),
        }
    }
}

/// The seats in the first list of an original reply.
pub(crate) fn reserved_in(reply: &str) -> Vec<u64> {
    let list = reply
        .strip_prefix("Reservados: [")
        .and_then(|r| r.split_once(']'))
        .unwrap_or_else(|| panic!("not an original reply: {reply}"))
        .0;
    if list.is_empty() {
        return Vec::new();
    }
    list.split(", ").map(|s| s.parse().unwrap()).collect()
}

/// The reference in an `OK <ref> ...` reply.
pub(crate) fn reference(reply: &str) -> String {
    let r = reply.split(' ').nth(1).expect("a reference").to_owned();
    assert_eq!(r.len(), 32, "{reply}");
    assert!(r.bytes().all(|b| b.is_ascii_hexdigit()), "{reply}");
    r
}

/// Parses a seat list of a reply (`5,10`, `12-16`, `-`) into wire seats.
pub(crate) fn seats(list: &str) -> Vec<u64> {
    if list == "-" {
        return Vec::new();
    }
    list.split(',')
        .flat_map(|part| match part.split_once('-') {
            Some((a, b)) => (a.parse::<u64>().unwrap()..=b.parse().unwrap()).collect::<Vec<_>>(),
            None => vec![part.parse().unwrap()],
        })
        .collect()
}

/// The value of `key=` in a reply line.
pub(crate) fn field<'a>(reply: &'a str, key: &str) -> &'a str {
    reply
        .split(' ')
        .find_map(|part| part.strip_prefix(key)?.strip_prefix('='))
        .unwrap_or_else(|| panic!("no {key}= in {reply}"))
}

/// A unique, empty directory under the system temp dir, removed on drop.
pub(crate) struct TempDir(pub(crate) std::path::PathBuf);

impl TempDir {
    pub(crate) fn new(tag: &str) -> TempDir {
        static COUNTER: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
        // Relaxed: only uniqueness of the number matters.
        let n = COUNTER.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let path =
            std::env::temp_dir().join(format!("seatnet-test-{tag}-{}-{n}", std::process::id()));
        let _ = std::fs::remove_dir_all(&path);
        std::fs::create_dir_all(&path).expect("create temp dir");
        TempDir(path)
    }

    pub(crate) fn arg(&self) -> &str {
        self.0.to_str().unwrap()
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

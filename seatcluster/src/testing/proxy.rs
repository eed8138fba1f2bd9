//! [`Proxy`]: a TCP forwarder on loopback that a test can cut, to make a
//! network partition between one client and etcd without root-only tools.
//!
//! While cut, connections that were open are shut down (as a reset
//! would), and new ones are accepted and then held without an answer (as
//! a black hole would), so a client sees both kinds of failure: refused
//! or reset requests, and requests that time out.

use std::io;
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::thread::JoinHandle;
use std::time::Duration;

/// How often the accept loop looks at the stop flag.
const POLL: Duration = Duration::from_millis(10);

/// A cuttable forwarder from a 127.0.0.1 port to `target`.
pub struct Proxy {
    addr: SocketAddr,
    shared: Arc<Shared>,
    thread: Option<JoinHandle<()>>,
}

#[derive(Default)]
struct Shared {
    cut: AtomicBool,
    stop: AtomicBool,
    /// Both ends of every forwarded connection, to shut down on a cut.
    open: Mutex<Vec<TcpStream>>,
    /// Connections accepted while cut, held unanswered.
    held: Mutex<Vec<TcpStream>>,
}

impl Shared {
    fn shut_all(&self, list: &Mutex<Vec<TcpStream>>) {
        for stream in list
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .drain(..)
        {
            let _ = stream.shutdown(Shutdown::Both);
        }
    }
}

impl Proxy {
    /// Listens on 127.0.0.1 (a free port) and forwards to `target`.
    pub fn start(target: SocketAddr) -> io::Result<Proxy> {
        let listener = TcpListener::bind("127.0.0.1:0")?;
        listener.set_nonblocking(true)?;
        let addr = listener.local_addr()?;
        let shared = Arc::new(Shared::default());
        let thread = {
            let shared = Arc::clone(&shared);
            std::thread::Builder::new()
                .name("proxy".into())
                .spawn(move || accept_loop(&listener, target, &shared))?
        };
        Ok(Proxy {
            addr,
            shared,
            thread: Some(thread),
        })
    }

    /// Where clients connect (`127.0.0.1:port`).
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Cuts: open connections are shut down, new ones are held unanswered.
    pub fn cut(&self) {
        // SeqCst: a connection accepted after this store must see the cut
        // (the accept loop loads it after `accept` returns); the open
        // connections are shut down below, under their lock.
        self.shared.cut.store(true, Ordering::SeqCst);
        self.shared.shut_all(&self.shared.open);
    }

    /// Ends the cut: new connections are forwarded again (held ones are
    /// closed).
    pub fn heal(&self) {
        // SeqCst: pairs with the accept loop's load, as in `cut`.
        self.shared.cut.store(false, Ordering::SeqCst);
        self.shared.shut_all(&self.shared.held);
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        // Relaxed: the accept loop only needs to see it eventually (it
        // polls every few milliseconds); joining below waits for it.
        self.shared.stop.store(true, Ordering::Relaxed);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
        self.shared.shut_all(&self.shared.open);
        self.shared.shut_all(&self.shared.held);
    }
}

fn accept_loop(listener: &TcpListener, target: SocketAddr, shared: &Arc<Shared>) {
    // Relaxed: see `Drop`.
    while !shared.stop.load(Ordering::Relaxed) {
        let client = match listener.accept() {
            Ok((stream, _)) => stream,
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                std::thread::sleep(POLL);
                continue;
            }
            Err(_) => continue,
        };
        let _ = client.set_nonblocking(false);
        // SeqCst: pairs with `cut` and `heal`.
        if shared.cut.load(Ordering::SeqCst) {
            shared
                .held
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .push(client);
            continue;
        }
        let Ok(server) = TcpStream::connect(target) else {
            continue; // the client sees its connection closed
        };
        let (Ok(c2), Ok(s2), Ok(c3), Ok(s3)) = (
            client.try_clone(),
            server.try_clone(),
            client.try_clone(),
            server.try_clone(),
        ) else {
            continue;
        };
        {
            // Not pruned: tests make few connections (the HTTP clients
            // pool theirs), and the proxy lives as long as one test.
            let mut open = shared.open.lock().unwrap_or_else(PoisonError::into_inner);
            open.push(c3);
            open.push(s3);
        }
        pump(client, server);
        pump(s2, c2);
    }
}

/// Copies `from` to `to` on a thread of its own until either end closes.
fn pump(mut from: TcpStream, mut to: TcpStream) {
    let _ = std::thread::Builder::new()
        .name("proxy-pump".into())
        .spawn(move || {
            let _ = io::copy(&mut from, &mut to);
            let _ = to.shutdown(Shutdown::Write);
            let _ = from.shutdown(Shutdown::Read);
        });
}

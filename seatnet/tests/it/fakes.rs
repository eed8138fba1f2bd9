//! Hand-written servers for testing the client and the load tool against
//! peers that are not seatnet: the original's wire behaviour, or a broken
//! server.

use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::{self, JoinHandle};

/// A server on 127.0.0.1 and a free port whose accept loop hands every
/// connection to `serve`; stopped and joined on drop.
pub(crate) struct FakeServer {
    pub(crate) addr: SocketAddr,
    stopping: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl FakeServer {
    pub(crate) fn start(mut serve: impl FnMut(TcpStream) + Send + 'static) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind loopback");
        let addr = listener.local_addr().expect("local address");
        let stopping = Arc::new(AtomicBool::new(false));
        let flag = Arc::clone(&stopping);
        let thread = thread::spawn(move || {
            for stream in listener.incoming() {
                // Acquire pairs with the Release store in `drop`.
                if flag.load(Ordering::Acquire) {
                    return;
                }
                if let Ok(stream) = stream {
                    serve(stream);
                }
            }
        });
        FakeServer {
            addr,
            stopping,
            thread: Some(thread),
        }
    }
}

impl Drop for FakeServer {
    fn drop(&mut self) {
        // Release pairs with the acceptor's Acquire load after `accept`.
        self.stopping.store(true, Ordering::Release);
        // Wake the blocked `accept` so it sees the flag.
        let _ = TcpStream::connect(self.addr);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

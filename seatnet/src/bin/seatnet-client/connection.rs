//! One TCP connection to a seat server: send a line, read its reply.

use std::fmt;
use std::io::{self, Write};
use std::net::{TcpStream, ToSocketAddrs};
use std::time::Duration;

use crate::reply::{ReplyError, ReplyReader};

/// Why talking to the server failed.
#[derive(Debug)]
pub(crate) enum ClientError {
    /// No address of `target` accepted a connection.
    Connect { target: String, source: io::Error },
    /// The server closed the connection before replying.
    Closed,
    /// The server sent an endless reply.
    TooLong,
    /// No reply within the timeout.
    Timeout,
    /// Any other I/O failure.
    Io(io::Error),
}

impl fmt::Display for ClientError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Connect { target, source } => {
                write!(f, "cannot connect to {target}: {source}")
            }
            Self::Closed => write!(f, "server closed the connection without replying"),
            Self::TooLong => write!(f, "server sent a reply longer than 1 MiB"),
            Self::Timeout => write!(f, "no reply from the server in time"),
            Self::Io(e) => write!(f, "connection error: {e}"),
        }
    }
}

impl From<io::Error> for ClientError {
    fn from(e: io::Error) -> Self {
        match e.kind() {
            io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut => Self::Timeout,
            _ => Self::Io(e),
        }
    }
}

/// A connected client: one request in flight at a time.
pub(crate) struct Connection {
    writer: TcpStream,
    reader: ReplyReader<TcpStream>,
}

impl Connection {
    /// Connects to `host:port`, trying each address it resolves to.
    /// `timeout` bounds the connect and every later read and write.
    pub(crate) fn connect(host: &str, port: u16, timeout: Duration) -> Result<Self, ClientError> {
        let target = format!("{host}:{port}");
        let connect_error = |source| ClientError::Connect {
            target: target.clone(),
            source,
        };
        let addrs = (host, port).to_socket_addrs().map_err(connect_error)?;
        let mut last = io::Error::new(io::ErrorKind::NotFound, "host resolves to no address");
        for addr in addrs {
            match TcpStream::connect_timeout(&addr, timeout) {
                Ok(stream) => return Self::from_stream(stream, timeout).map_err(connect_error),
                Err(e) => last = e,
            }
        }
        Err(connect_error(last))
    }

    fn from_stream(stream: TcpStream, timeout: Duration) -> io::Result<Self> {
        stream.set_read_timeout(Some(timeout))?;
        stream.set_write_timeout(Some(timeout))?;
        // One small request then a wait: Nagle would only add delay.
        stream.set_nodelay(true)?;
        let reader = ReplyReader::new(stream.try_clone()?);
        Ok(Self {
            writer: stream,
            reader,
        })
    }

    /// Sends `line` followed by `\n` in one write and returns the reply.
    ///
    /// The newline makes it a native request for seatnet; the original
    /// server strips surrounding whitespace, so it reads the same request.
    pub(crate) fn request(&mut self, line: &str) -> Result<String, ClientError> {
        let mut bytes = Vec::with_capacity(line.len() + 1);
        bytes.extend_from_slice(line.as_bytes());
        bytes.push(b'\n');
        self.writer.write_all(&bytes)?;
        self.reader.read_reply().map_err(|e| match e {
            ReplyError::Closed => ClientError::Closed,
            ReplyError::TooLong => ClientError::TooLong,
            ReplyError::Io(e) => ClientError::from(e),
        })
    }
}

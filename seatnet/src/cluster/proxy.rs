//! Original-protocol clients on a node that does not own `default`: they
//! know nothing of `ERR moved`, so the node passes their request to the
//! owner and relays its reply (`docs/cluster.md`, "What a client sees").
//!
//! One short-lived connection per request, blocking the worker for at
//! most the timeouts below: the original client sends one request per
//! connection and waits for its answer anyway. The request goes with a
//! newline (so the reply ends with one and the owner, seeing a line,
//! never proxies it again); the reply is relayed without it, as the
//! original protocol has none.

use std::io::{BufRead, BufReader, Write};
use std::net::{TcpStream, ToSocketAddrs};
use std::time::Duration;

/// How long connecting to the owner may take.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(2);
/// How long the owner may take to answer (it commits to etcd first).
const REPLY_TIMEOUT: Duration = Duration::from_secs(10);
/// The longest reply relayed (an original reply lists at most the seats
/// of one request).
const MAX_REPLY: u64 = 1 << 20;

/// Sends `request` to the node at `owner` and appends its reply to `out`.
///
/// # Errors
///
/// A message if the owner cannot be reached or does not answer in time;
/// then nothing was appended, and the change may or may not have been
/// made there.
pub(crate) fn forward(owner: &str, request: &[u8], out: &mut Vec<u8>) -> Result<(), String> {
    let addr = owner
        .to_socket_addrs()
        .map_err(|e| format!("owner {owner}: {e}"))?
        .next()
        .ok_or_else(|| format!("owner {owner} has no address"))?;
    let mut stream = TcpStream::connect_timeout(&addr, CONNECT_TIMEOUT)
        .map_err(|e| format!("cannot reach the owner {owner}: {e}"))?;
    stream
        .set_read_timeout(Some(REPLY_TIMEOUT))
        .and_then(|()| stream.set_write_timeout(Some(REPLY_TIMEOUT)))
        .and_then(|()| stream.set_nodelay(true))
        .map_err(|e| e.to_string())?;
    let mut line = Vec::with_capacity(request.len() + 1);
    line.extend_from_slice(request);
    line.push(b'\n');
    stream
        .write_all(&line)
        .map_err(|e| format!("owner {owner}: {e}"))?;
    let mut reply = Vec::new();
    BufReader::new(std::io::Read::take(&stream, MAX_REPLY))
        .read_until(b'\n', &mut reply)
        .map_err(|e| format!("owner {owner} did not answer: {e}"))?;
    if reply.pop() != Some(b'\n') {
        return Err(format!("owner {owner} closed without a whole reply"));
    }
    out.extend_from_slice(&reply);
    Ok(())
}

//! `--target redis`: the same workload against a Redis server, so one tool
//! measures every system. Seat `s` is claimed with `SETBIT <key> <s> 1`
//! and granted when the old bit was 0 (`:0`); a request of K seats is K
//! commands in one write (`workload`), its K replies are one reply
//! (`framing`), and the double-grant check reads them (`stats`).
//!
//! This file only prepares the key: the run starts from an empty bitmap.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::Duration;

/// Deletes `key` on the Redis server at `addr` (all seats free), which
/// also checks that a RESP server answers there.
pub(crate) fn reset(addr: SocketAddr, key: &str, timeout: Duration) -> Result<(), String> {
    if !addr.ip().is_loopback() {
        return Err(format!("refusing to load {addr}: not a loopback address"));
    }
    let fail = |e: std::io::Error| format!("cannot reset the Redis key {key} at {addr}: {e}");
    let mut stream = TcpStream::connect_timeout(&addr, timeout).map_err(fail)?;
    stream.set_read_timeout(Some(timeout)).map_err(fail)?;
    stream.set_write_timeout(Some(timeout)).map_err(fail)?;
    let command = format!("*2\r\n$3\r\nDEL\r\n${}\r\n{key}\r\n", key.len());
    stream.write_all(command.as_bytes()).map_err(fail)?;
    // `:0` or `:1`, then `\r\n`; a few bytes at most.
    let mut reply = Vec::new();
    let mut buf = [0u8; 256];
    while !reply.ends_with(b"\r\n") && reply.len() < 4096 {
        match stream.read(&mut buf).map_err(fail)? {
            0 => break,
            n => reply.extend_from_slice(&buf[..n]),
        }
    }
    if reply.first() == Some(&b':') && reply.ends_with(b"\r\n") {
        Ok(())
    } else {
        Err(format!(
            "{addr} did not answer DEL {key} like a Redis server: {:?}",
            String::from_utf8_lossy(&reply[..reply.len().min(80)])
        ))
    }
}

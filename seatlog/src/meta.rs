//! The directory's `LOCK` and `META` files.
//!
//! `LOCK` is held with `flock` for as long as the journal is open, so a
//! second process (or a second `Journal` in this one) gets
//! [`Error::Locked`]. `META` holds the caller's descriptor (e.g.
//! `seats=100`), written once at creation: magic `SEATMETA`, version u32,
//! length u32, the descriptor's bytes, CRC32C of all that.

use std::io;
use std::time::{Duration, Instant};

use crate::error::Error;
use crate::storage::Storage;

/// The lock file's name.
pub const LOCK_FILE: &str = "LOCK";
/// The descriptor file's name.
pub const META_FILE: &str = "META";
const META_TMP: &str = "META.tmp";
const MAGIC: &[u8; 8] = b"SEATMETA";

/// How long a busy `LOCK` is tried again before [`Error::Locked`].
const LOCK_PATIENCE: Duration = Duration::from_secs(1);

/// Takes the directory lock. A busy lock is tried again for up to
/// [`LOCK_PATIENCE`]: an `flock` can outlive its holder by a moment (a
/// server that is just exiting; a child process forked by the holder, which
/// shares the lock between its fork and its exec), and a restart right then
/// should not be refused. A lock still held after that is another server.
pub(crate) fn lock(storage: &dyn Storage) -> Result<Box<dyn Send + Sync>, Error> {
    let give_up = Instant::now() + LOCK_PATIENCE;
    loop {
        match storage.lock() {
            Ok(lock) => return Ok(lock),
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                if Instant::now() >= give_up {
                    return Err(Error::Locked {
                        dir: storage.describe(),
                    });
                }
                std::thread::sleep(Duration::from_millis(50));
            }
            Err(e) => {
                return Err(Error::io(
                    format!("lock {}/{LOCK_FILE}", storage.describe()),
                    e,
                ));
            }
        }
    }
}

fn encode(descriptor: &str) -> Vec<u8> {
    let mut out = MAGIC.to_vec();
    out.extend_from_slice(&1u32.to_le_bytes());
    out.extend_from_slice(&(descriptor.len() as u32).to_le_bytes());
    out.extend_from_slice(descriptor.as_bytes());
    let crc = crc32c::crc32c(&out);
    out.extend_from_slice(&crc.to_le_bytes());
    out
}

fn decode(buf: &[u8]) -> Option<String> {
    let body = buf.get(..buf.len().checked_sub(4)?)?;
    if body.get(..8)? != MAGIC || crc32c::crc32c(body).to_le_bytes() != buf[body.len()..] {
        return None;
    }
    let len = u32::from_le_bytes(body.get(12..16)?.try_into().ok()?) as usize;
    String::from_utf8(body.get(16..)?.get(..len)?.to_vec()).ok()
}

/// Reads `META`, or `None` if there is none.
pub(crate) fn read(storage: &dyn Storage) -> Result<Option<String>, Error> {
    let dir = storage.describe();
    if !storage
        .list()
        .map_err(|e| Error::io(format!("list {dir}"), e))?
        .iter()
        .any(|n| n == META_FILE)
    {
        return Ok(None);
    }
    let bytes = storage
        .open(META_FILE)
        .and_then(|f| f.read_all())
        .map_err(|e| Error::io(format!("read {dir}/{META_FILE}"), e))?;
    match decode(&bytes) {
        Some(descriptor) => Ok(Some(descriptor)),
        None => Err(Error::Corrupt {
            file: format!("{dir}/{META_FILE}"),
            offset: 0,
            reason: "META fails its checksum".to_string(),
        }),
    }
}

/// Writes `META` durably: temp file, sync, rename, sync the directory.
pub(crate) fn create(storage: &dyn Storage, descriptor: &str) -> Result<(), Error> {
    let dir = storage.describe();
    let io = |e| Error::io(format!("write {dir}/{META_FILE}"), e);
    let mut file = storage.create(META_TMP).map_err(io)?;
    file.write_at(0, &encode(descriptor)).map_err(io)?;
    file.sync_data().map_err(io)?;
    storage.rename(META_TMP, META_FILE).map_err(io)?;
    storage.sync_dir().map_err(io)
}

/// Checks `META` against `descriptor`, creating it for a new directory.
/// `has_data` says whether segments or snapshots exist (then a missing
/// `META` is an error, not a new directory).
pub(crate) fn check_or_create(
    storage: &dyn Storage,
    descriptor: &str,
    has_data: bool,
) -> Result<(), Error> {
    match read(storage)? {
        Some(on_disk) if on_disk == descriptor => Ok(()),
        Some(on_disk) => Err(Error::MetaMismatch {
            dir: storage.describe(),
            on_disk,
            given: descriptor.to_string(),
        }),
        None if has_data => Err(Error::Corrupt {
            file: format!("{}/{META_FILE}", storage.describe()),
            offset: 0,
            reason: "missing, though journal files exist".to_string(),
        }),
        None => create(storage, descriptor),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn meta_round_trip_and_flip() {
        let mut m = super::encode("seats=100");
        assert_eq!(super::decode(&m).as_deref(), Some("seats=100"));
        m[17] ^= 1;
        assert_eq!(super::decode(&m), None);
        assert_eq!(super::decode(&[]), None);
    }
}

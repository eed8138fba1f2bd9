//! `FaultyStorage`: an in-memory [`Storage`] for tests that can lose power.
//!
//! Each file keeps two images: what was written (what reads see) and what
//! was synced (what survives [`FaultyStorage::power_loss`]). The directory
//! likewise keeps the names as they are now and as they were at the last
//! [`Storage::sync_dir`]. Faults are armed one at a time: the next sync or
//! write fails, or space runs out past a limit.

use std::collections::HashMap;
use std::io;
use std::sync::Arc;
use std::time::{Duration, Instant};

use parking_lot::Mutex;

use crate::storage::{Storage, StorageFile};

/// An in-memory directory whose unsynced state a test can throw away.
///
/// Clones share the same directory, so a test keeps one clone to inject
/// faults and inspect files while the journal uses another.
#[derive(Clone, Default)]
pub struct FaultyStorage {
    state: Arc<Mutex<State>>,
}

#[derive(Default)]
struct State {
    /// Every file ever created, by id ("inode"); the names point into it.
    inodes: HashMap<u64, Inode>,
    next_inode: u64,
    /// Names as they are now.
    names: HashMap<String, u64>,
    /// Names as of the last `sync_dir`.
    durable_names: HashMap<String, u64>,
    /// The inode and write most recently written and not yet synced.
    last_write: Option<(u64, u64, Vec<u8>)>,
    fail_next_sync: bool,
    fail_next_write: bool,
    /// `sync_data` waits while this is set (see `hold_syncs`).
    syncs_held: bool,
    space_limit: Option<u64>,
    locked: bool,
    syncs: u64,
    /// Set by `power_loss`: this image belongs to the crashed process.
    dead: bool,
}

#[derive(Default, Clone)]
struct Inode {
    data: Vec<u8>,
    synced: Vec<u8>,
}

impl State {
    /// Whether a `sync_data` of inode `id` waits (see `hold_syncs`).
    fn holds_sync_of(&self, id: u64) -> bool {
        self.syncs_held && matches!(self.last_write, Some((last, _, _)) if last == id)
    }
}

/// The longest a `sync_data` waits under [`FaultyStorage::hold_syncs`], so a
/// test that forgets to let go still ends.
pub const SYNC_HOLD_LIMIT: Duration = Duration::from_secs(30);

fn injected(what: &str) -> io::Error {
    io::Error::other(format!("injected {what} failure"))
}

fn dead() -> io::Error {
    io::Error::other("power lost: this storage belongs to the crashed process")
}

impl FaultyStorage {
    /// An empty directory.
    pub fn new() -> FaultyStorage {
        FaultyStorage::default()
    }

    /// Simulates a power loss and a reboot: returns the directory as it
    /// comes back, holding only what was synced (file data by `sync_data`,
    /// names by `sync_dir`). With `tear_seed`, the most recent unsynced
    /// write is torn instead of lost: a prefix of it, of a length chosen
    /// from the seed, survives.
    ///
    /// `self` is dead afterwards, like the crashed process: every operation
    /// on it or on a file opened from it fails, so a journal still running
    /// on it fails instead of changing the rebooted image.
    pub fn power_loss(&self, tear_seed: Option<u64>) -> FaultyStorage {
        let mut s = self.state.lock();
        s.dead = true;
        let mut inodes = HashMap::new();
        for id in s.durable_names.values() {
            let inode = &s.inodes[id];
            let mut data = inode.synced.clone();
            if let (Some(seed), Some((last_id, offset, bytes))) = (tear_seed, &s.last_write) {
                if last_id == id {
                    let keep = fastrand::Rng::with_seed(seed).usize(0..=bytes.len());
                    write_into(&mut data, *offset, &bytes[..keep]);
                }
            }
            inodes.insert(
                *id,
                Inode {
                    synced: data.clone(),
                    data,
                },
            );
        }
        let rebooted = State {
            inodes,
            next_inode: s.next_inode,
            names: s.durable_names.clone(),
            durable_names: s.durable_names.clone(),
            ..State::default()
        };
        FaultyStorage {
            state: Arc::new(Mutex::new(rebooted)),
        }
    }

    /// The next `sync_data` of the file written last, while that write is
    /// not yet synced, fails (and syncs nothing), as a failed writeback
    /// would. Other syncs (a preallocated segment's, made by the writer in
    /// the background at moments a test does not control), and
    /// `sync_dir`, are not affected, so the failure always lands on the
    /// journal's write.
    pub fn fail_next_sync(&self) {
        self.state.lock().fail_next_sync = true;
    }

    /// While `hold` is true, a `sync_data` of the file written last, with
    /// that write not yet synced, waits (for at most [`SYNC_HOLD_LIMIT`],
    /// then goes on), as a slow disk would: for tests of what may and may
    /// not happen while a journal write is being synced. Other syncs (a
    /// preallocated segment's) are not held, so holding never depends on
    /// where the writer's background work is.
    pub fn hold_syncs(&self, hold: bool) {
        self.state.lock().syncs_held = hold;
    }

    /// The next `write_at` fails (and writes nothing).
    pub fn fail_next_write(&self) {
        self.state.lock().fail_next_write = true;
    }

    /// Writes or allocations that would make the files' total size exceed
    /// `limit` bytes fail with `StorageFull` (ENOSPC). `None` lifts it.
    pub fn set_space_limit(&self, limit: Option<u64>) {
        self.state.lock().space_limit = limit;
    }

    /// The total size of every file, in bytes.
    pub fn used_bytes(&self) -> u64 {
        let s = self.state.lock();
        s.names
            .values()
            .map(|id| s.inodes[id].data.len() as u64)
            .sum()
    }

    /// How many `sync_data` calls succeeded.
    pub fn syncs(&self) -> u64 {
        self.state.lock().syncs
    }

    /// The current (written) bytes of file `name`.
    pub fn file_bytes(&self, name: &str) -> Option<Vec<u8>> {
        let s = self.state.lock();
        s.names.get(name).map(|id| s.inodes[id].data.clone())
    }

    /// Replaces file `name`'s bytes, durably (creating it if missing): for
    /// tests that corrupt or truncate files behind the journal's back.
    pub fn set_file_bytes(&self, name: &str, bytes: Vec<u8>) {
        let mut s = self.state.lock();
        let id = match s.names.get(name) {
            Some(&id) => id,
            None => {
                let id = s.new_inode();
                s.names.insert(name.to_string(), id);
                id
            }
        };
        s.durable_names.insert(name.to_string(), id);
        let inode = s.inodes.get_mut(&id).expect("named inode exists");
        inode.synced = bytes.clone();
        inode.data = bytes;
    }

    /// Every file name, sorted.
    pub fn names(&self) -> Vec<String> {
        let mut names: Vec<String> = self.state.lock().names.keys().cloned().collect();
        names.sort();
        names
    }
}

impl State {
    fn alive(&self) -> io::Result<()> {
        if self.dead { Err(dead()) } else { Ok(()) }
    }

    fn new_inode(&mut self) -> u64 {
        self.next_inode += 1;
        self.inodes.insert(self.next_inode, Inode::default());
        self.next_inode
    }

    fn used(&self) -> u64 {
        self.names
            .values()
            .map(|id| self.inodes[id].data.len() as u64)
            .sum()
    }

    /// Fails with ENOSPC if growing inode `id` to `len` bytes passes the limit.
    fn check_space(&self, id: u64, len: u64) -> io::Result<()> {
        let current = self.inodes[&id].data.len() as u64;
        match self.space_limit {
            Some(limit) if len > current && self.used() + (len - current) > limit => {
                Err(io::Error::from(io::ErrorKind::StorageFull))
            }
            _ => Ok(()),
        }
    }
}

fn write_into(data: &mut Vec<u8>, offset: u64, bytes: &[u8]) {
    let end = offset as usize + bytes.len();
    if data.len() < end {
        data.resize(end, 0);
    }
    data[offset as usize..end].copy_from_slice(bytes);
}

fn not_found(name: &str) -> io::Error {
    io::Error::new(io::ErrorKind::NotFound, format!("no file {name}"))
}

impl Storage for FaultyStorage {
    fn describe(&self) -> String {
        "<in-memory>".to_string()
    }

    fn list(&self) -> io::Result<Vec<String>> {
        Ok(self.names())
    }

    fn create(&self, name: &str) -> io::Result<Box<dyn StorageFile>> {
        let mut s = self.state.lock();
        s.alive()?;
        let id = s.new_inode();
        s.names.insert(name.to_string(), id);
        Ok(Box::new(FaultyFile {
            state: self.state.clone(),
            id,
        }))
    }

    fn open(&self, name: &str) -> io::Result<Box<dyn StorageFile>> {
        let s = self.state.lock();
        let id = *s.names.get(name).ok_or_else(|| not_found(name))?;
        Ok(Box::new(FaultyFile {
            state: self.state.clone(),
            id,
        }))
    }

    fn rename(&self, from: &str, to: &str) -> io::Result<()> {
        let mut s = self.state.lock();
        s.alive()?;
        let id = s.names.remove(from).ok_or_else(|| not_found(from))?;
        s.names.insert(to.to_string(), id);
        Ok(())
    }

    fn remove(&self, name: &str) -> io::Result<()> {
        let mut s = self.state.lock();
        s.alive()?;
        s.names.remove(name).ok_or_else(|| not_found(name))?;
        Ok(())
    }

    fn sync_dir(&self) -> io::Result<()> {
        let mut s = self.state.lock();
        s.alive()?;
        s.durable_names = s.names.clone();
        Ok(())
    }

    fn lock(&self) -> io::Result<Box<dyn Send + Sync>> {
        let mut s = self.state.lock();
        if s.locked {
            return Err(io::Error::from(io::ErrorKind::WouldBlock));
        }
        s.locked = true;
        Ok(Box::new(FaultyLock {
            state: self.state.clone(),
        }))
    }
}

struct FaultyLock {
    state: Arc<Mutex<State>>,
}

impl Drop for FaultyLock {
    fn drop(&mut self) {
        self.state.lock().locked = false;
    }
}

struct FaultyFile {
    state: Arc<Mutex<State>>,
    id: u64,
}

impl StorageFile for FaultyFile {
    fn size(&self) -> io::Result<u64> {
        Ok(self.state.lock().inodes[&self.id].data.len() as u64)
    }

    fn read_all(&self) -> io::Result<Vec<u8>> {
        Ok(self.state.lock().inodes[&self.id].data.clone())
    }

    fn write_at(&mut self, offset: u64, data: &[u8]) -> io::Result<()> {
        let mut s = self.state.lock();
        s.alive()?;
        if std::mem::take(&mut s.fail_next_write) {
            return Err(injected("write"));
        }
        s.check_space(self.id, offset + data.len() as u64)?;
        let inode = s
            .inodes
            .get_mut(&self.id)
            .expect("open file's inode exists");
        write_into(&mut inode.data, offset, data);
        s.last_write = Some((self.id, offset, data.to_vec()));
        Ok(())
    }

    fn allocate(&mut self, len: u64) -> io::Result<()> {
        let mut s = self.state.lock();
        s.alive()?;
        s.check_space(self.id, len)?;
        let inode = s
            .inodes
            .get_mut(&self.id)
            .expect("open file's inode exists");
        if (inode.data.len() as u64) < len {
            inode.data.resize(len as usize, 0);
        }
        Ok(())
    }

    fn sync_data(&mut self) -> io::Result<()> {
        let held_since = Instant::now();
        // Bounded: at most SYNC_HOLD_LIMIT in 1 ms naps.
        while self.state.lock().holds_sync_of(self.id) && held_since.elapsed() < SYNC_HOLD_LIMIT {
            std::thread::sleep(Duration::from_millis(1));
        }
        let mut s = self.state.lock();
        let written_last = matches!(s.last_write, Some((id, _, _)) if id == self.id);
        if written_last && std::mem::take(&mut s.fail_next_sync) {
            return Err(injected("sync_data"));
        }
        s.syncs += 1;
        let inode = s
            .inodes
            .get_mut(&self.id)
            .expect("open file's inode exists");
        inode.synced = inode.data.clone();
        if matches!(s.last_write, Some((id, _, _)) if id == self.id) {
            s.last_write = None;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn power_loss_keeps_only_synced_data_and_names() {
        let storage = FaultyStorage::new();
        let mut kept = storage.create("kept").unwrap();
        kept.write_at(0, b"synced").unwrap();
        kept.sync_data().unwrap();
        storage.sync_dir().unwrap();
        kept.write_at(6, b" and not").unwrap();
        let mut unnamed = storage.create("unnamed").unwrap();
        unnamed.write_at(0, b"data").unwrap();
        unnamed.sync_data().unwrap(); // data synced, name never
        storage.rename("kept", "renamed").unwrap(); // never made durable
        let rebooted = storage.power_loss(None);
        assert_eq!(rebooted.names(), ["kept"]);
        assert_eq!(rebooted.file_bytes("kept").unwrap(), b"synced");
        // The crashed image is dead.
        assert!(kept.write_at(0, b"x").is_err());
        assert!(storage.create("late").is_err());
    }

    #[test]
    fn a_torn_write_keeps_a_prefix() {
        let mut lengths = std::collections::HashSet::new();
        for seed in 0..16 {
            let storage = FaultyStorage::new();
            let mut file = storage.create("f").unwrap();
            storage.sync_dir().unwrap();
            file.write_at(0, b"0123456789").unwrap();
            let bytes = storage.power_loss(Some(seed)).file_bytes("f").unwrap();
            assert_eq!(bytes[..], b"0123456789"[..bytes.len()]);
            lengths.insert(bytes.len());
        }
        assert!(
            lengths.len() > 2,
            "tearing should vary with the seed: {lengths:?}"
        );
    }

    #[test]
    fn faults_fire_once_and_space_runs_out() {
        let storage = FaultyStorage::new();
        let mut file = storage.create("f").unwrap();
        storage.fail_next_write();
        assert!(file.write_at(0, b"a").is_err());
        file.write_at(0, b"a").unwrap();
        storage.fail_next_sync();
        assert!(file.sync_data().is_err());
        file.sync_data().unwrap();
        storage.set_space_limit(Some(10));
        assert_eq!(
            file.allocate(11).unwrap_err().kind(),
            io::ErrorKind::StorageFull
        );
        file.allocate(10).unwrap();
        assert_eq!(file.size().unwrap(), 10);
        assert!(file.write_at(10, b"b").is_err());
        file.write_at(9, b"b").unwrap();
    }
}

//! The file operations the journal uses, as a trait, and the real
//! implementation over `std::fs` (plus `rustix` for `fallocate` and `flock`).
//!
//! Every name is relative to one data directory that the storage value owns;
//! the journal never builds a path itself. Tests swap in
//! [`FaultyStorage`](crate::testing::FaultyStorage), which loses what was
//! never synced.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Read, Seek, SeekFrom};
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};

/// A directory of files, as the journal sees it.
pub trait Storage: Send + Sync {
    /// A human-readable name for the directory, used in error messages.
    fn describe(&self) -> String;
    /// Names of every file in the directory (not sub-directories).
    fn list(&self) -> io::Result<Vec<String>>;
    /// Creates `name`, replacing (and emptying) any file of that name.
    /// The new name is durable only after [`Storage::sync_dir`].
    fn create(&self, name: &str) -> io::Result<Box<dyn StorageFile>>;
    /// Opens the existing file `name` for reading and writing.
    fn open(&self, name: &str) -> io::Result<Box<dyn StorageFile>>;
    /// Renames `from` to `to`, replacing `to`; durable after `sync_dir`.
    fn rename(&self, from: &str, to: &str) -> io::Result<()>;
    /// Removes `name`; durable after `sync_dir`.
    fn remove(&self, name: &str) -> io::Result<()>;
    /// Makes every create, rename and remove so far durable.
    fn sync_dir(&self) -> io::Result<()>;
    /// Takes the directory's exclusive lock (file `LOCK`), held until the
    /// returned guard is dropped. Fails with `WouldBlock` when another
    /// holder has it.
    fn lock(&self) -> io::Result<Box<dyn Send + Sync>>;
}

/// One open file.
pub trait StorageFile: Send {
    /// The file's current length in bytes.
    fn size(&self) -> io::Result<u64>;
    /// Reads the whole file.
    fn read_all(&self) -> io::Result<Vec<u8>>;
    /// Writes all of `data` at byte `offset` (extending the file if needed).
    fn write_at(&mut self, offset: u64, data: &[u8]) -> io::Result<()>;
    /// Makes the file at least `len` bytes long with really allocated,
    /// zero-filled blocks, so later writes inside it cannot fail for space.
    fn allocate(&mut self, len: u64) -> io::Result<()>;
    /// `fdatasync`: makes every write so far (and the length) durable.
    fn sync_data(&mut self) -> io::Result<()>;
}

/// The real thing: a directory on disk.
#[derive(Debug)]
pub struct DirStorage {
    dir: PathBuf,
}

impl DirStorage {
    /// Uses directory `dir`, creating it (and its parents) if missing.
    pub fn new(dir: impl AsRef<Path>) -> io::Result<DirStorage> {
        let dir = dir.as_ref().to_path_buf();
        fs::create_dir_all(&dir)?;
        if !fs::metadata(&dir)?.is_dir() {
            return Err(io::Error::new(
                io::ErrorKind::NotADirectory,
                "not a directory",
            ));
        }
        Ok(DirStorage { dir })
    }

    /// The directory.
    pub fn path(&self) -> &Path {
        &self.dir
    }
}

impl Storage for DirStorage {
    fn describe(&self) -> String {
        self.dir.display().to_string()
    }

    fn list(&self) -> io::Result<Vec<String>> {
        let mut names = Vec::new();
        for entry in fs::read_dir(&self.dir)? {
            let entry = entry?;
            if entry.file_type()?.is_file() {
                // A name that is not UTF-8 is certainly not ours: skip it.
                if let Ok(name) = entry.file_name().into_string() {
                    names.push(name);
                }
            }
        }
        Ok(names)
    }

    fn create(&self, name: &str) -> io::Result<Box<dyn StorageFile>> {
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(true)
            .open(self.dir.join(name))?;
        Ok(Box::new(DiskFile { file }))
    }

    fn open(&self, name: &str) -> io::Result<Box<dyn StorageFile>> {
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .open(self.dir.join(name))?;
        Ok(Box::new(DiskFile { file }))
    }

    fn rename(&self, from: &str, to: &str) -> io::Result<()> {
        fs::rename(self.dir.join(from), self.dir.join(to))
    }

    fn remove(&self, name: &str) -> io::Result<()> {
        fs::remove_file(self.dir.join(name))
    }

    fn sync_dir(&self) -> io::Result<()> {
        File::open(&self.dir)?.sync_all()
    }

    fn lock(&self) -> io::Result<Box<dyn Send + Sync>> {
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(self.dir.join(crate::LOCK_FILE))?;
        // flock locks belong to the open file description, so a second open
        // in this same process is refused too, as a second server would be.
        rustix::fs::flock(&file, rustix::fs::FlockOperation::NonBlockingLockExclusive)
            .map_err(io::Error::from)?;
        // Closing the file (dropping the guard) releases the lock.
        Ok(Box::new(file))
    }
}

struct DiskFile {
    file: File,
}

impl StorageFile for DiskFile {
    fn size(&self) -> io::Result<u64> {
        Ok(self.file.metadata()?.len())
    }

    fn read_all(&self) -> io::Result<Vec<u8>> {
        let mut buf = Vec::new();
        let mut file = &self.file;
        file.seek(SeekFrom::Start(0))?;
        file.read_to_end(&mut buf)?;
        Ok(buf)
    }

    fn write_at(&mut self, offset: u64, data: &[u8]) -> io::Result<()> {
        self.file.write_all_at(data, offset)
    }

    fn allocate(&mut self, len: u64) -> io::Result<()> {
        // fallocate mode 0 allocates real blocks that read as zeros (unlike
        // set_len, which leaves a sparse file whose later writes can hit
        // ENOSPC). A file system without fallocate gets zeros written.
        match rustix::fs::fallocate(&self.file, rustix::fs::FallocateFlags::empty(), 0, len) {
            Ok(()) => Ok(()),
            Err(e) if e == rustix::io::Errno::OPNOTSUPP => self.write_zeros_to(len),
            Err(e) => Err(e.into()),
        }
    }

    fn sync_data(&mut self) -> io::Result<()> {
        self.file.sync_data()
    }
}

impl DiskFile {
    fn write_zeros_to(&mut self, len: u64) -> io::Result<()> {
        let zeros = vec![0u8; 1 << 16];
        let mut at = self.size()?;
        while at < len {
            let n = (len - at).min(zeros.len() as u64);
            self.file.write_all_at(&zeros[..n as usize], at)?;
            at += n;
        }
        Ok(())
    }
}

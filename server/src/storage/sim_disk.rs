//! The simulation's disk: raft-engine's [`FileSystem`] seam over files held in memory, each
//! keeping what was synced apart from what was only written, so a simulated crash loses
//! exactly the writes no fsync covered (and may tear the last of them).
//!
//! raft-engine lists its directory with `std::fs`, so every file also exists on the real disk,
//! empty, under the same name: names go to the real directory, bytes stay here. Creating,
//! renaming and removing a file count as durable at once (raft-engine fsyncs the directory
//! after each of them anyway); only data and sizes wait for a sync.
//!
//! The snapshot files and the `durable` mark are written through `std::fs` (`snapshot.rs`,
//! `log_integrity.rs`), not through this seam. The crash model stays sound without them:
//! each is written to a temporary name, fsynced, and only then renamed into place (and the
//! directory fsynced) before anything relies on it, so at every instant the real files are
//! what a crash at that instant would leave (a left-over temporary is removed at the next
//! open, as after a real crash).

use std::collections::HashMap;
use std::io::{Error, ErrorKind, Read, Result, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};

use raft_engine::env::{FileSystem, Handle, Permission, WriteExt};

/// A change not yet synced.
#[derive(Debug, Clone)]
enum Change {
    Write { offset: usize, data: Vec<u8> },
    Resize(usize),
}

impl Change {
    fn apply(&self, bytes: &mut Vec<u8>) {
        match self {
            Change::Write { offset, data } => {
                let end = offset + data.len();
                if bytes.len() < end {
                    bytes.resize(end, 0);
                }
                bytes[*offset..end].copy_from_slice(data);
            }
            Change::Resize(len) => bytes.resize(*len, 0),
        }
    }
}

/// One file: its synced bytes, its bytes as written, and the changes between, in order
/// (each with the disk-wide number of the write that made it).
#[derive(Debug, Default)]
struct File {
    synced: Vec<u8>,
    current: Vec<u8>,
    changes: Vec<(u64, Change)>,
}

impl File {
    fn change(&mut self, seq: u64, change: Change) {
        change.apply(&mut self.current);
        self.changes.push((seq, change));
    }

    fn sync(&mut self) {
        for (_, c) in self.changes.drain(..) {
            c.apply(&mut self.synced);
        }
    }
}

type Shared = Arc<Mutex<File>>;

struct DiskState {
    /// Bumped by every crash: handles and file systems of an earlier incarnation do nothing.
    incarnation: u64,
    files: HashMap<PathBuf, Shared>,
    /// Numbers writes across files, so a crash can tell which was the last.
    writes: u64,
    /// Crashes so far, and how many tore a write.
    crashes: u64,
}

/// The bytes of one member's log, across its crashes and restarts.
pub struct SimDisk(Mutex<DiskState>);

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().expect("sim disk lock poisoned")
}

impl SimDisk {
    /// An empty disk.
    pub fn new() -> Arc<SimDisk> {
        Arc::new(SimDisk(Mutex::new(DiskState {
            incarnation: 0,
            files: HashMap::new(),
            writes: 0,
            crashes: 0,
        })))
    }

    /// The file system of the member's next incarnation (the one after the last crash).
    pub fn file_system(self: &Arc<SimDisk>) -> Arc<SimFs> {
        let incarnation = lock(&self.0).incarnation;
        Arc::new(SimFs {
            disk: self.clone(),
            incarnation,
        })
    }

    /// The power goes: every file goes back to what was last synced, and what the member
    /// still holds stops reaching the disk. With `tear = Some(r)`, the last write made before
    /// the crash survives in part (`r` picks how much of what followed the last sync of its
    /// file is kept, in order, the last change cut short): a page cache flushed half-way.
    /// Returns the bytes lost.
    pub fn crash(&self, tear: Option<u64>) -> usize {
        let mut st = lock(&self.0);
        st.incarnation += 1;
        st.crashes += 1;
        let last = st
            .files
            .values()
            .filter_map(|f| lock(f).changes.last().map(|(seq, _)| *seq))
            .max();
        let mut lost = 0;
        for file in st.files.values() {
            let mut f = lock(file);
            let torn = tear.filter(|_| f.changes.last().map(|(s, _)| *s) == last);
            if let Some(r) = torn {
                let keep = (r % (f.changes.len() as u64 + 1)) as usize;
                let changes: Vec<Change> = f.changes.drain(..).map(|(_, c)| c).collect();
                let mut synced = std::mem::take(&mut f.synced);
                for c in &changes[..keep.saturating_sub(1)] {
                    c.apply(&mut synced);
                }
                // The last change kept survives only in part (a prefix of its bytes).
                if let Some(Change::Write { offset, data }) = changes.get(keep.wrapping_sub(1)) {
                    let cut = (r / 7) as usize % (data.len() + 1);
                    Change::Write {
                        offset: *offset,
                        data: data[..cut].to_vec(),
                    }
                    .apply(&mut synced);
                } else if let Some(c) = changes.get(keep.wrapping_sub(1)) {
                    c.apply(&mut synced);
                }
                f.synced = synced;
            }
            let lost_here = f.current.len().abs_diff(f.synced.len())
                + f.changes
                    .iter()
                    .map(|(_, c)| match c {
                        Change::Write { data, .. } => data.len(),
                        Change::Resize(_) => 0,
                    })
                    .sum::<usize>();
            lost += lost_here;
            f.changes.clear();
            f.current = f.synced.clone();
        }
        lost
    }
}

/// One incarnation's view of a [`SimDisk`], handed to raft-engine.
pub struct SimFs {
    disk: Arc<SimDisk>,
    incarnation: u64,
}

impl SimFs {
    /// The disk, if this incarnation is still alive.
    fn live(&self) -> Option<MutexGuard<'_, DiskState>> {
        let st = lock(&self.disk.0);
        (st.incarnation == self.incarnation).then_some(st)
    }

    fn dead() -> Error {
        Error::other("sim disk: this incarnation crashed")
    }

    fn handle(&self, file: Shared) -> SimHandle {
        SimHandle {
            file,
            disk: self.disk.clone(),
            incarnation: self.incarnation,
        }
    }
}

impl FileSystem for SimFs {
    type Handle = SimHandle;
    type Reader = SimIo;
    type Writer = SimIo;

    fn create<P: AsRef<Path>>(&self, path: P) -> Result<SimHandle> {
        let mut st = self.live().ok_or_else(SimFs::dead)?;
        let path = path.as_ref().to_path_buf();
        if !path.exists() {
            std::fs::File::create(&path)?;
        }
        let file = st.files.entry(path).or_default().clone();
        Ok(self.handle(file))
    }

    fn open<P: AsRef<Path>>(&self, path: P, _perm: Permission) -> Result<SimHandle> {
        let st = self.live().ok_or_else(SimFs::dead)?;
        let file = st.files.get(path.as_ref()).cloned().ok_or_else(|| {
            Error::new(
                ErrorKind::NotFound,
                format!("sim disk: no file {}", path.as_ref().display()),
            )
        })?;
        Ok(self.handle(file))
    }

    fn delete<P: AsRef<Path>>(&self, path: P) -> Result<()> {
        let mut st = self.live().ok_or_else(SimFs::dead)?;
        st.files.remove(path.as_ref());
        std::fs::remove_file(path)
    }

    fn rename<P: AsRef<Path>>(&self, src: P, dst: P) -> Result<()> {
        let mut st = self.live().ok_or_else(SimFs::dead)?;
        let file = st
            .files
            .remove(src.as_ref())
            .ok_or_else(|| Error::new(ErrorKind::NotFound, "sim disk: renaming a missing file"))?;
        st.files.insert(dst.as_ref().to_path_buf(), file);
        std::fs::rename(src, dst)
    }

    fn new_reader(&self, handle: Arc<SimHandle>) -> Result<SimIo> {
        Ok(SimIo { handle, offset: 0 })
    }

    fn new_writer(&self, handle: Arc<SimHandle>) -> Result<SimIo> {
        Ok(SimIo { handle, offset: 0 })
    }
}

/// An open file of one incarnation.
pub struct SimHandle {
    file: Shared,
    disk: Arc<SimDisk>,
    incarnation: u64,
}

impl SimHandle {
    /// Records a change, unless this incarnation crashed (then it is lost, as the writes of a
    /// process the power left are).
    fn change(&self, change: Change) {
        let mut st = lock(&self.disk.0);
        if st.incarnation != self.incarnation {
            return;
        }
        st.writes += 1;
        let seq = st.writes;
        lock(&self.file).change(seq, change);
    }
}

impl Handle for SimHandle {
    fn truncate(&self, offset: usize) -> Result<()> {
        self.change(Change::Resize(offset));
        Ok(())
    }

    fn file_size(&self) -> Result<usize> {
        Ok(lock(&self.file).current.len())
    }

    fn sync(&self) -> Result<()> {
        let st = lock(&self.disk.0);
        if st.incarnation == self.incarnation {
            lock(&self.file).sync();
        }
        Ok(())
    }
}

/// A reader or writer at an offset of an open file.
pub struct SimIo {
    handle: Arc<SimHandle>,
    offset: usize,
}

impl Read for SimIo {
    fn read(&mut self, buf: &mut [u8]) -> Result<usize> {
        let f = lock(&self.handle.file);
        let from = self.offset.min(f.current.len());
        let n = buf.len().min(f.current.len() - from);
        buf[..n].copy_from_slice(&f.current[from..from + n]);
        self.offset += n;
        Ok(n)
    }
}

impl Write for SimIo {
    fn write(&mut self, buf: &[u8]) -> Result<usize> {
        self.handle.change(Change::Write {
            offset: self.offset,
            data: buf.to_vec(),
        });
        self.offset += buf.len();
        Ok(buf.len())
    }

    fn flush(&mut self) -> Result<()> {
        Ok(())
    }
}

impl Seek for SimIo {
    fn seek(&mut self, pos: SeekFrom) -> Result<u64> {
        let len = lock(&self.handle.file).current.len() as i64;
        let to = match pos {
            SeekFrom::Start(o) => o as i64,
            SeekFrom::Current(d) => self.offset as i64 + d,
            SeekFrom::End(d) => len + d,
        };
        if to < 0 {
            return Err(Error::new(ErrorKind::InvalidInput, "seek before the start"));
        }
        self.offset = to as usize;
        Ok(self.offset as u64)
    }
}

impl WriteExt for SimIo {
    fn truncate(&mut self, offset: usize) -> Result<()> {
        self.handle.change(Change::Resize(offset));
        self.offset = offset;
        Ok(())
    }

    /// As `fallocate` with no flags: the file grows to `offset + size` (zeros) if shorter.
    fn allocate(&mut self, offset: usize, size: usize) -> Result<()> {
        let len = lock(&self.handle.file).current.len();
        if offset + size > len {
            self.handle.change(Change::Resize(offset + size));
        }
        Ok(())
    }
}

//! A file system seam that remembers which log files were written since their last fsync, so
//! that another thread can make every write so far durable without entering raft-engine.
//!
//! raft-engine 0.4.2 fsyncs inside its write barrier: a synced write holds every later write
//! until the disk is done, and `Engine::sync` does nothing (it writes an empty batch). The raft
//! loop instead writes each Ready unsynced (raft-engine's pwrite lands in the page cache and
//! its memtable serves the entries at once, as raft-rs requires before
//! `advance_append_async`), and the log's sync thread calls [`TrackedFs::sync_written`],
//! which fdatasyncs the files written since their last sync: the loop keeps stepping
//! messages, answering heartbeats and gathering the next proposals while the disk flushes.
//!
//! An fsync covers every write made to its file before it started, through any handle. A
//! writer marks its file after each write returns, so a sync begun after a write returned
//! covers that write, including a write into a file raft-engine opened by rotating (the old
//! file is synced by raft-engine as it closes it).

use std::io::{Read, Result, Seek, SeekFrom, Write};
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use raft_engine::env::{FileSystem, Handle, Permission, WriteExt};

/// A file handle that knows whether it was written since it was last taken for a sync.
pub struct TrackedHandle<H> {
    inner: Arc<H>,
    dirty: AtomicBool,
}

impl<H: Handle> Handle for TrackedHandle<H> {
    fn truncate(&self, offset: usize) -> Result<()> {
        self.inner.truncate(offset)
    }

    fn file_size(&self) -> Result<usize> {
        self.inner.file_size()
    }

    fn sync(&self) -> Result<()> {
        self.inner.sync()
    }
}

/// The files written and not yet synced, shared by the writers and the syncing thread.
type Written<H> = Arc<Mutex<Vec<Arc<TrackedHandle<H>>>>>;

/// `F` with a record of the files written since their last [`TrackedFs::sync_written`].
pub struct TrackedFs<F: FileSystem> {
    inner: Arc<F>,
    written: Written<F::Handle>,
}

impl<F: FileSystem> TrackedFs<F> {
    /// Wraps `inner`.
    pub fn new(inner: Arc<F>) -> TrackedFs<F> {
        TrackedFs {
            inner,
            written: Default::default(),
        }
    }

    /// Makes every write that returned before this call durable: fdatasyncs each file written
    /// since it was last synced here. Safe from any thread, beside raft-engine's own writes.
    pub fn sync_written(&self) -> Result<()> {
        let files = std::mem::take(&mut *self.written.lock().unwrap_or_else(|e| e.into_inner()));
        for file in files {
            // Cleared before the sync: a write that lands meanwhile marks the file again and
            // is covered by the next sync, if not by this one.
            file.dirty.store(false, Ordering::SeqCst);
            if let Err(e) = file.inner.sync() {
                // Still unsynced: a retry must sync it again.
                mark(&self.written, &file);
                return Err(e);
            }
        }
        Ok(())
    }
}

/// Records that `file` was written.
fn mark<H>(written: &Written<H>, file: &Arc<TrackedHandle<H>>) {
    if !file.dirty.swap(true, Ordering::SeqCst) {
        written
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(file.clone());
    }
}

/// A writer that marks its file after every change it makes.
pub struct TrackedWriter<F: FileSystem> {
    inner: F::Writer,
    file: Arc<TrackedHandle<F::Handle>>,
    written: Written<F::Handle>,
}

impl<F: FileSystem> Write for TrackedWriter<F> {
    fn write(&mut self, buf: &[u8]) -> Result<usize> {
        let n = self.inner.write(buf)?;
        mark(&self.written, &self.file);
        Ok(n)
    }

    fn flush(&mut self) -> Result<()> {
        self.inner.flush()
    }
}

impl<F: FileSystem> Seek for TrackedWriter<F> {
    fn seek(&mut self, pos: SeekFrom) -> Result<u64> {
        self.inner.seek(pos)
    }
}

impl<F: FileSystem> WriteExt for TrackedWriter<F> {
    fn truncate(&mut self, offset: usize) -> Result<()> {
        self.inner.truncate(offset)?;
        mark(&self.written, &self.file);
        Ok(())
    }

    fn allocate(&mut self, offset: usize, size: usize) -> Result<()> {
        self.inner.allocate(offset, size)?;
        mark(&self.written, &self.file);
        Ok(())
    }
}

/// A reader of the wrapped file system.
pub struct TrackedReader<F: FileSystem>(F::Reader);

impl<F: FileSystem> Read for TrackedReader<F> {
    fn read(&mut self, buf: &mut [u8]) -> Result<usize> {
        self.0.read(buf)
    }
}

impl<F: FileSystem> Seek for TrackedReader<F> {
    fn seek(&mut self, pos: SeekFrom) -> Result<u64> {
        self.0.seek(pos)
    }
}

impl<F: FileSystem> FileSystem for TrackedFs<F> {
    type Handle = TrackedHandle<F::Handle>;
    type Reader = TrackedReader<F>;
    type Writer = TrackedWriter<F>;

    fn create<P: AsRef<Path>>(&self, path: P) -> Result<Self::Handle> {
        Ok(TrackedHandle {
            inner: Arc::new(self.inner.create(path)?),
            dirty: AtomicBool::new(false),
        })
    }

    fn open<P: AsRef<Path>>(&self, path: P, perm: Permission) -> Result<Self::Handle> {
        Ok(TrackedHandle {
            inner: Arc::new(self.inner.open(path, perm)?),
            dirty: AtomicBool::new(false),
        })
    }

    fn delete<P: AsRef<Path>>(&self, path: P) -> Result<()> {
        self.inner.delete(path)
    }

    fn rename<P: AsRef<Path>>(&self, src_path: P, dst_path: P) -> Result<()> {
        self.inner.rename(src_path, dst_path)
    }

    fn reuse<P: AsRef<Path>>(&self, src_path: P, dst_path: P) -> Result<()> {
        self.inner.reuse(src_path, dst_path)
    }

    fn delete_metadata<P: AsRef<Path>>(&self, path: P) -> Result<()> {
        self.inner.delete_metadata(path)
    }

    fn exists_metadata<P: AsRef<Path>>(&self, path: P) -> bool {
        self.inner.exists_metadata(path)
    }

    fn new_reader(&self, handle: Arc<Self::Handle>) -> Result<Self::Reader> {
        Ok(TrackedReader(self.inner.new_reader(handle.inner.clone())?))
    }

    fn new_writer(&self, handle: Arc<Self::Handle>) -> Result<Self::Writer> {
        Ok(TrackedWriter {
            inner: self.inner.new_writer(handle.inner.clone())?,
            file: handle,
            written: self.written.clone(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::storage::SimDisk;

    /// What a crash right now would leave of `path`.
    fn after_crash(disk: &Arc<SimDisk>, path: &Path) -> Vec<u8> {
        disk.crash(None);
        let fs = disk.file_system();
        let mut r = fs
            .new_reader(Arc::new(fs.open(path, Permission::ReadOnly).unwrap()))
            .unwrap();
        let mut b = Vec::new();
        r.read_to_end(&mut b).unwrap();
        b
    }

    #[test]
    fn sync_written_makes_every_returned_write_durable_and_only_those_files() {
        let dir = tempfile::tempdir().unwrap();
        let disk = SimDisk::new();
        let fs = TrackedFs::new(disk.file_system());
        let (a, b) = (dir.path().join("a"), dir.path().join("b"));
        let mut wa = fs.new_writer(Arc::new(fs.create(&a).unwrap())).unwrap();
        let mut wb = fs.new_writer(Arc::new(fs.create(&b).unwrap())).unwrap();
        wa.write_all(b"one").unwrap();
        wb.write_all(b"two").unwrap();
        fs.sync_written().unwrap();
        wa.write_all(b" more").unwrap();
        assert_eq!(
            fs.written.lock().unwrap().len(),
            1,
            "only a is written since"
        );
        assert_eq!(after_crash(&disk, &a), b"one");
        assert_eq!(after_crash(&disk, &b), b"two");
    }
}

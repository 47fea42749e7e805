//! Snapshot files: `snap/<term>-<index>.snap`, written to a temporary name, fsynced, renamed,
//! and the directory fsynced, so a crash leaves either the old snapshot or the new one whole.

use std::fs::{self, File};
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

/// Buffer between a snapshot's encoder and its file.
const WRITE_BUFFER: usize = 1 << 20;

/// The snapshot directory of a data dir.
#[derive(Debug, Clone)]
pub struct SnapshotFiles {
    dir: PathBuf,
}

impl SnapshotFiles {
    /// Opens (creating) the directory and removes leftovers of interrupted writes.
    pub fn open(dir: &Path) -> std::io::Result<SnapshotFiles> {
        fs::create_dir_all(dir)?;
        let incoming = dir.join("incoming");
        fs::create_dir_all(&incoming)?;
        clear_dir(&incoming);
        for entry in fs::read_dir(dir)? {
            let path = entry?.path();
            if path.extension().is_some_and(|e| e == "tmp") {
                let _ = fs::remove_file(path);
            }
        }
        Ok(SnapshotFiles {
            dir: dir.to_path_buf(),
        })
    }

    /// The file of snapshot `term`-`index`.
    pub fn path(&self, term: u64, index: u64) -> PathBuf {
        self.dir.join(format!("{term:016x}-{index:016x}.snap"))
    }

    /// A fresh temporary path for a snapshot being received from the leader (left-overs are
    /// removed at the next open).
    pub fn incoming_temp_path(&self, term: u64, index: u64) -> PathBuf {
        let nonce = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or_default();
        self.incoming_dir()
            .join(format!("{term:016x}-{index:016x}-{nonce}.tmp"))
    }

    fn incoming_dir(&self) -> PathBuf {
        self.dir.join("incoming")
    }

    fn incoming_path(&self, term: u64, index: u64) -> PathBuf {
        self.incoming_dir()
            .join(format!("{term:016x}-{index:016x}.snap"))
    }

    /// Files a fully received and fsynced temporary file as incoming snapshot `term`-`index`.
    /// Incoming snapshots live apart from ours, so taking a snapshot of our own meanwhile
    /// cannot remove one before raft installs it.
    pub fn commit_incoming(&self, tmp: &Path, term: u64, index: u64) -> std::io::Result<()> {
        fs::rename(tmp, self.incoming_path(term, index))?;
        File::open(self.incoming_dir())?.sync_all()
    }

    /// The bytes of received snapshot `term`-`index` (still incoming, or already adopted).
    pub fn read_received(&self, term: u64, index: u64) -> std::io::Result<Vec<u8>> {
        let incoming = self.incoming_path(term, index);
        if incoming.exists() {
            fs::read(incoming)
        } else {
            self.read(term, index)
        }
    }

    /// Makes incoming snapshot `term`-`index` ours (raft is installing it); false when it was
    /// not received.
    pub fn adopt_incoming(&self, term: u64, index: u64) -> std::io::Result<bool> {
        let from = self.incoming_path(term, index);
        if !from.exists() {
            return Ok(self.path(term, index).exists());
        }
        fs::rename(from, self.path(term, index))?;
        File::open(&self.dir)?.sync_all()?;
        clear_dir(&self.incoming_dir());
        Ok(true)
    }

    /// Removes every snapshot file but `term`-`index` (received snapshots raft did not
    /// install, older ones); failures only cost disk space.
    pub fn remove_all_but(&self, term: u64, index: u64) {
        let keep = self.path(term, index);
        let Ok(entries) = fs::read_dir(&self.dir) else {
            return;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            if path != keep && path.extension().is_some_and(|e| e == "snap") {
                let _ = fs::remove_file(path);
            }
        }
    }

    /// Writes and fsyncs a snapshot.
    pub fn write(&self, term: u64, index: u64, data: &[u8]) -> std::io::Result<()> {
        self.write_with(term, index, |w| w.write_all(data))
            .map(|_| ())
    }

    /// Writes snapshot `term`-`index` with what `fill` streams into it: to a temporary file,
    /// fsynced, renamed into place and the directory fsynced, so a crash at any point leaves
    /// the snapshots as they were or this one whole. Returns its size.
    pub fn write_with(
        &self,
        term: u64,
        index: u64,
        fill: impl FnOnce(&mut BufWriter<File>) -> std::io::Result<()>,
    ) -> std::io::Result<u64> {
        let final_path = self.path(term, index);
        let tmp = final_path.with_extension("tmp");
        let written = (|| {
            let mut w = BufWriter::with_capacity(WRITE_BUFFER, File::create(&tmp)?);
            fill(&mut w)?;
            let f = w.into_inner().map_err(|e| e.into_error())?;
            f.sync_all()?;
            f.metadata().map(|m| m.len())
        })();
        let size = match written {
            Ok(size) => size,
            Err(e) => {
                let _ = fs::remove_file(&tmp);
                return Err(e);
            }
        };
        fs::rename(&tmp, &final_path)?;
        File::open(&self.dir)?.sync_all()?;
        Ok(size)
    }

    /// Removes snapshot `term`-`index` (one written while a newer one was installed); a
    /// failure only costs disk space.
    pub fn remove(&self, term: u64, index: u64) {
        let _ = fs::remove_file(self.path(term, index));
    }

    /// Whether any snapshot file is filed here (received ones not yet installed excepted).
    pub fn holds_snapshots(&self) -> std::io::Result<bool> {
        for entry in fs::read_dir(&self.dir)? {
            if entry?.path().extension().is_some_and(|e| e == "snap") {
                return Ok(true);
            }
        }
        Ok(false)
    }

    /// Reads a snapshot.
    pub fn read(&self, term: u64, index: u64) -> std::io::Result<Vec<u8>> {
        fs::read(self.path(term, index))
    }
}

/// Removes every file in `dir`; failures only cost disk space.
fn clear_dir(dir: &Path) {
    if let Ok(entries) = fs::read_dir(dir) {
        for entry in entries.flatten() {
            let _ = fs::remove_file(entry.path());
        }
    }
}

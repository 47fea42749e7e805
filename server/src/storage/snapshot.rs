//! Snapshot files: `snap/<term>-<index>.snap`, written to a temporary name, fsynced, renamed,
//! and the directory fsynced, so a crash leaves either the old snapshot or the new one whole.

use std::fs::{self, File};
use std::io::Write;
use std::path::{Path, PathBuf};

/// The snapshot directory of a data dir.
pub struct SnapshotFiles {
    dir: PathBuf,
}

impl SnapshotFiles {
    /// Opens (creating) the directory and removes leftovers of interrupted writes.
    pub fn open(dir: &Path) -> std::io::Result<SnapshotFiles> {
        fs::create_dir_all(dir)?;
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

    fn path(&self, term: u64, index: u64) -> PathBuf {
        self.dir.join(format!("{term:016x}-{index:016x}.snap"))
    }

    /// Writes and fsyncs a snapshot.
    pub fn write(&self, term: u64, index: u64, data: &[u8]) -> std::io::Result<()> {
        let final_path = self.path(term, index);
        let tmp = final_path.with_extension("tmp");
        {
            let mut f = File::create(&tmp)?;
            f.write_all(data)?;
            f.sync_all()?;
        }
        fs::rename(&tmp, &final_path)?;
        File::open(&self.dir)?.sync_all()
    }

    /// Reads a snapshot.
    pub fn read(&self, term: u64, index: u64) -> std::io::Result<Vec<u8>> {
        fs::read(self.path(term, index))
    }

    /// Removes an old snapshot; failure only costs disk space.
    pub fn remove(&self, term: u64, index: u64) {
        let _ = fs::remove_file(self.path(term, index));
    }
}

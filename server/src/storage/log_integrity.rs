//! Start-up checks that the raft log still holds every entry it committed.
//!
//! Every entry is read back once (raft-engine checks each one's checksum on read; a damaged
//! entry would otherwise surface later as a panic inside raft-rs), and the log's end is
//! compared with a witness kept outside it, the durable mark:
//!
//! raft-engine recovers from a torn last write (a crash mid-fsync) by dropping the damaged
//! tail; it cannot tell that from damage in the middle of a file, after which it drops every
//! later entry too: acknowledged writes would vanish without a word. So every second (at
//! most) after a synced write, the committed index that write made durable is recorded in
//! `<data-dir>/durable` (written to a temporary name, fsynced, renamed). Committed entries are
//! never removed from a log (compaction keeps the log's last index, a snapshot install only
//! moves it forward), so a log that opens with a last index below the mark lost committed
//! entries, and the member refuses to start.

use std::fs::{self, File};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use raft_engine::env::FileSystem;
use raft_engine::Engine;

use super::{EntryExt, StorageFailure, GROUP};

/// How often the mark is brought up to date (one small fsynced file write).
const MARK_EVERY: Duration = Duration::from_secs(1);

/// The mark file of a data dir.
#[derive(Debug)]
pub struct DurableMark {
    path: PathBuf,
    written: Option<Instant>,
    value: u64,
}

impl DurableMark {
    /// Reads the mark of `data_dir` (0 when there is none yet).
    pub fn open(data_dir: &Path) -> Result<DurableMark, StorageFailure> {
        let path = data_dir.join("durable");
        let value = match fs::read(&path) {
            Ok(b) if b.len() == 12 => {
                let (v, crc) = b.split_at(8);
                if crc32fast::hash(v).to_be_bytes() != crc {
                    return Err(StorageFailure::Corrupt(format!(
                        "{} is damaged (checksum mismatch)",
                        path.display()
                    )));
                }
                u64::from_be_bytes(v.try_into().expect("8 bytes"))
            }
            Ok(_) => {
                return Err(StorageFailure::Corrupt(format!(
                    "{} is damaged (wrong length)",
                    path.display()
                )))
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => 0,
            Err(e) => return Err(StorageFailure::Io(e)),
        };
        Ok(DurableMark {
            path,
            written: None,
            value,
        })
    }

    /// The committed index last recorded.
    #[cfg(test)]
    pub fn value(&self) -> u64 {
        self.value
    }

    /// Records `durable` (a committed index a synced write covers) if the mark is a second
    /// old and behind.
    pub fn advance(&mut self, durable: u64) -> Result<(), StorageFailure> {
        if durable <= self.value || self.written.is_some_and(|t| t.elapsed() < MARK_EVERY) {
            return Ok(());
        }
        let mut bytes = durable.to_be_bytes().to_vec();
        bytes.extend_from_slice(&crc32fast::hash(&durable.to_be_bytes()).to_be_bytes());
        let tmp = self.path.with_extension("tmp");
        let written = File::create(&tmp).and_then(|mut f| {
            f.write_all(&bytes)?;
            f.sync_all()
        });
        match written {
            Ok(()) => {}
            // The mark may lag (it only ever makes the start-up check weaker, never wrong):
            // a full disk must not stop a member whose log write just succeeded.
            Err(e) if super::is_out_of_space(&e) => {
                let _ = fs::remove_file(&tmp);
                tracing::warn!(error = %e, "durable mark not updated: no space left on device");
                // Tried again after MARK_EVERY, not on every write meanwhile.
                self.written = Some(Instant::now());
                return Ok(());
            }
            Err(e) => return Err(e.into()),
        }
        fs::rename(&tmp, &self.path)?;
        if let Some(dir) = self.path.parent() {
            File::open(dir)?.sync_all()?;
        }
        self.value = durable;
        self.written = Some(Instant::now());
        Ok(())
    }

    /// Refuses a log whose last index is below the mark.
    pub fn check(&self, data_dir: &Path, last_index: u64) -> Result<(), StorageFailure> {
        if last_index >= self.value {
            return Ok(());
        }
        Err(StorageFailure::Damaged(format!(
            "the raft log in {} ends at index {last_index}, but entries up to {} were \
             committed and durable: part of the log is damaged and was dropped on recovery. \
             Refusing to serve it; restore the data dir from a backup, or start with -f and \
             -peers to copy the data from the other members",
            data_dir.join("log").display(),
            self.value
        )))
    }
}

/// Entries read back per step, so a long log is checked in bounded memory.
const VERIFY_CHUNK: u64 = 1024;

/// Reads every entry of the log once; a checksum mismatch refuses the data dir by name.
pub fn verify_entries<F: FileSystem>(
    engine: &Engine<F>,
    log_dir: &Path,
) -> Result<(), StorageFailure> {
    let (Some(first), Some(last)) = (engine.first_index(GROUP), engine.last_index(GROUP)) else {
        return Ok(());
    };
    let mut low = first;
    let mut chunk = Vec::new();
    while low <= last {
        let high = (low + VERIFY_CHUNK).min(last + 1);
        chunk.clear();
        engine
            .fetch_entries_to::<EntryExt>(GROUP, low, high, None, &mut chunk)
            .map_err(|e| {
                StorageFailure::Damaged(format!(
                    "the raft log in {} is damaged between entries {low} and {high}: {e}. \
                     Refusing to serve it; restore the data dir from a backup, or start with \
                     -f and -peers to copy the data from the other members",
                    log_dir.display()
                ))
            })?;
        low = high;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_mark_survives_reopening_and_refuses_a_shorter_log() {
        let dir = tempfile::tempdir().unwrap();
        let mut mark = DurableMark::open(dir.path()).unwrap();
        assert_eq!(mark.value(), 0);
        mark.check(dir.path(), 0).unwrap();
        mark.advance(7).unwrap();
        // Within the second the mark is not rewritten: one fsync a second at most.
        mark.advance(9).unwrap();
        let reopened = DurableMark::open(dir.path()).unwrap();
        assert_eq!(reopened.value(), 7);
        reopened.check(dir.path(), 7).unwrap();
        reopened.check(dir.path(), 100).unwrap();
        let err = reopened.check(dir.path(), 6).unwrap_err();
        assert!(matches!(err, StorageFailure::Damaged(_)), "{err}");
        assert!(err.to_string().contains("ends at index 6"), "{err}");
    }

    #[test]
    fn a_damaged_mark_is_refused_not_read_as_zero() {
        let dir = tempfile::tempdir().unwrap();
        let mut mark = DurableMark::open(dir.path()).unwrap();
        mark.advance(42).unwrap();
        let path = dir.path().join("durable");
        let mut bytes = fs::read(&path).unwrap();
        bytes[7] ^= 1;
        fs::write(&path, &bytes).unwrap();
        let err = DurableMark::open(dir.path()).unwrap_err();
        assert!(err.to_string().contains("checksum mismatch"), "{err}");
        fs::write(&path, &bytes[..5]).unwrap();
        let err = DurableMark::open(dir.path()).unwrap_err();
        assert!(err.to_string().contains("wrong length"), "{err}");
    }
}

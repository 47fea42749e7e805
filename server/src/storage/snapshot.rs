//! Snapshot files: `snap/<term>-<index>.snap`, written to a temporary name, fsynced, renamed,
//! and the directory fsynced, so a crash leaves either the old snapshot or the new one whole.
//!
//! Each file starts with a header: the magic `ETCDSNAP`, a format version (u32), the data's
//! length (u64) and its CRC-32 (u32), all big endian, so a truncated or corrupted file (a bad
//! disk, a torn copy, a broken transfer) is refused by name instead of being served. Files of
//! 0.3.0, which have no header, are read as they are.

use std::fs::{self, File};
use std::io::{BufWriter, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use super::snapshot_reader::SnapshotReader;

/// The first bytes of a snapshot file with a header.
pub(super) const MAGIC: &[u8; 8] = b"ETCDSNAP";
/// The header's version.
pub(super) const HEADER_VERSION: u32 = 1;
/// Magic, version, length, checksum.
pub(super) const HEADER_LEN: usize = 8 + 4 + 8 + 4;

/// Buffer between a snapshot's encoder and its file.
const WRITE_BUFFER: usize = 1 << 20;

/// The header for data of `len` bytes with checksum `crc`.
fn header(len: u64, crc: u32) -> [u8; HEADER_LEN] {
    let mut h = [0u8; HEADER_LEN];
    h[..8].copy_from_slice(MAGIC);
    h[8..12].copy_from_slice(&HEADER_VERSION.to_be_bytes());
    h[12..20].copy_from_slice(&len.to_be_bytes());
    h[20..].copy_from_slice(&crc.to_be_bytes());
    h
}

/// Length and CRC-32 of what follows the header in `f` (the data was streamed in without
/// knowing either: read back once, on the thread that wrote it).
fn checksum_after_header(f: &mut File) -> std::io::Result<(u64, u32)> {
    f.seek(SeekFrom::Start(HEADER_LEN as u64))?;
    let mut hasher = crc32fast::Hasher::new();
    let mut buf = vec![0u8; WRITE_BUFFER];
    let mut len = 0u64;
    loop {
        let n = f.read(&mut buf)?;
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
        len += n as u64;
    }
    Ok((len, hasher.finalize()))
}

/// The data of the snapshot file at `path`, read whole and checked against its header.
fn read_checked(path: &Path) -> std::io::Result<Vec<u8>> {
    let mut reader = SnapshotReader::open(path)?;
    // The size of what is there, not what the header claims: a damaged length allocates
    // nothing by itself.
    let on_disk = fs::metadata(path)?.len();
    let mut data = Vec::with_capacity(reader.data_len()?.min(on_disk) as usize);
    reader.read_to_end(&mut data)?;
    Ok(data)
}

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

    /// Received snapshot `term`-`index` (still incoming, or already adopted), opened to be read
    /// as a stream and checked on the way, as start-up reads our own.
    pub fn received_reader(&self, term: u64, index: u64) -> std::io::Result<SnapshotReader> {
        let incoming = self.incoming_path(term, index);
        match incoming.exists() {
            true => SnapshotReader::open(&incoming),
            false => self.reader(term, index),
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
            let file = fs::OpenOptions::new()
                .read(true)
                .write(true)
                .create(true)
                .truncate(true)
                .open(&tmp)?;
            let mut w = BufWriter::with_capacity(WRITE_BUFFER, file);
            // The header's place; it is written once the data's length and checksum are known.
            w.write_all(&[0u8; HEADER_LEN])?;
            fill(&mut w)?;
            let mut f = w.into_inner().map_err(|e| e.into_error())?;
            let (len, crc) = checksum_after_header(&mut f)?;
            f.seek(SeekFrom::Start(0))?;
            f.write_all(&header(len, crc))?;
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

    /// Reads a snapshot whole, checking it against its header.
    pub fn read(&self, term: u64, index: u64) -> std::io::Result<Vec<u8>> {
        read_checked(&self.path(term, index))
    }

    /// Opens a snapshot to be read as a stream, checked against its header as it is read
    /// (the reader fails at its end if the file is damaged).
    pub fn reader(&self, term: u64, index: u64) -> std::io::Result<SnapshotReader> {
        SnapshotReader::open(&self.path(term, index))
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn damaged_files_are_refused_by_name_and_old_ones_read() {
        let dir = tempfile::tempdir().unwrap();
        let files = SnapshotFiles::open(dir.path()).unwrap();
        files.write(2, 9, b"the store").unwrap();
        assert_eq!(files.read(2, 9).unwrap(), b"the store");
        let path = files.path(2, 9);
        let good = fs::read(&path).unwrap();

        let mut flipped = good.clone();
        *flipped.last_mut().unwrap() ^= 1;
        fs::write(&path, &flipped).unwrap();
        let e = files.read(2, 9).unwrap_err().to_string();
        assert!(
            e.contains("checksum mismatch") && e.contains(".snap"),
            "{e}"
        );

        fs::write(&path, &good[..good.len() - 3]).unwrap();
        let e = files.read(2, 9).unwrap_err().to_string();
        assert!(e.contains("truncated"), "{e}");

        let mut longer = good.clone();
        longer.push(0);
        fs::write(&path, &longer).unwrap();
        let e = files.read(2, 9).unwrap_err().to_string();
        assert!(e.contains("more data than"), "{e}");

        // Streamed, the damage shows at the end of the data, as an error of the read.
        fs::write(&path, &flipped).unwrap();
        let mut data = Vec::new();
        let e = files
            .reader(2, 9)
            .unwrap()
            .read_to_end(&mut data)
            .unwrap_err();
        assert!(e.to_string().contains("checksum mismatch"), "{e}");
        assert_eq!(data, b"the stord", "the data came before the verdict");

        fs::write(&path, &good[..10]).unwrap();
        let e = files.read(2, 9).unwrap_err().to_string();
        assert!(e.contains("shorter than its header"), "{e}");

        // A 0.3.0 file (no header) is read as it is.
        fs::write(&path, b"\x02legacy").unwrap();
        assert_eq!(files.read(2, 9).unwrap(), b"\x02legacy");

        fs::remove_file(&path).unwrap();
        let e = files.read(2, 9).unwrap_err().to_string();
        assert!(e.contains(&path.display().to_string()), "{e}");
    }
}

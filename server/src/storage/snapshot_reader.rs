//! Reading a snapshot file as a stream, checked against its header on the way: the data's
//! CRC-32 is computed as it is read, and once the header's length has been read the checksum
//! and the length are compared before the reader says it has ended. So a decoder that reads
//! to the end (they all do) sees a damaged file as an error naming the file, in the same pass
//! that decodes it, and nothing holds the whole file in memory.

use std::fs::File;
use std::io::{Error, ErrorKind, Read};
use std::path::{Path, PathBuf};

use super::snapshot::{HEADER_LEN, HEADER_VERSION, MAGIC};

/// What the header promises.
struct Promise {
    len: u64,
    crc: u32,
    remaining: u64,
    hasher: crc32fast::Hasher,
    /// Length and checksum were compared and matched: the reader has ended.
    verified: bool,
}

/// The data of one snapshot file (what follows its header), read as a stream.
pub struct SnapshotReader {
    file: File,
    path: PathBuf,
    /// Bytes read while looking for a header in a file that has none (0.3.0's).
    prefix: Vec<u8>,
    prefix_pos: usize,
    /// `None` for a file of 0.3.0, which has no header: read as it is.
    promise: Option<Promise>,
}

fn damaged(path: &Path, why: impl std::fmt::Display) -> Error {
    Error::new(
        ErrorKind::InvalidData,
        format!("snapshot file {} is damaged: {why}", path.display()),
    )
}

impl SnapshotReader {
    /// Opens `path` and reads its header.
    pub fn open(path: &Path) -> std::io::Result<SnapshotReader> {
        let mut file = File::open(path).map_err(|e| {
            Error::new(
                e.kind(),
                format!("cannot read snapshot file {}: {e}", path.display()),
            )
        })?;
        let mut head = vec![0u8; HEADER_LEN];
        let mut got = 0;
        while got < HEADER_LEN {
            match file.read(&mut head[got..]) {
                Ok(0) => break,
                Ok(n) => got += n,
                Err(e) if e.kind() == ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
        head.truncate(got);
        let mut reader = SnapshotReader {
            file,
            path: path.to_path_buf(),
            prefix: Vec::new(),
            prefix_pos: 0,
            promise: None,
        };
        if !head.starts_with(MAGIC) {
            // Written by 0.3.0, before files had a header.
            reader.prefix = head;
            return Ok(reader);
        }
        if got < HEADER_LEN {
            return Err(damaged(
                path,
                format!("{got} bytes, shorter than its header"),
            ));
        }
        let version = u32::from_be_bytes(head[8..12].try_into().expect("4 bytes"));
        if version != HEADER_VERSION {
            return Err(damaged(path, format!("unknown header version {version}")));
        }
        let len = u64::from_be_bytes(head[12..20].try_into().expect("8 bytes"));
        let crc = u32::from_be_bytes(head[20..24].try_into().expect("4 bytes"));
        reader.promise = Some(Promise {
            len,
            crc,
            remaining: len,
            hasher: crc32fast::Hasher::new(),
            verified: false,
        });
        Ok(reader)
    }

    /// The file's data length as its header gives it (its size for a file without one).
    pub fn data_len(&self) -> std::io::Result<u64> {
        match &self.promise {
            Some(p) => Ok(p.len),
            None => self.file.metadata().map(|m| m.len()),
        }
    }
}

impl Read for SnapshotReader {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        if self.prefix_pos < self.prefix.len() {
            let n = buf.len().min(self.prefix.len() - self.prefix_pos);
            buf[..n].copy_from_slice(&self.prefix[self.prefix_pos..self.prefix_pos + n]);
            self.prefix_pos += n;
            return Ok(n);
        }
        let Some(p) = &mut self.promise else {
            return self.file.read(buf);
        };
        if p.verified || buf.is_empty() {
            return Ok(0);
        }
        if p.remaining == 0 {
            let mut extra = [0u8; 1];
            if self.file.read(&mut extra)? != 0 {
                return Err(damaged(
                    &self.path,
                    format!("more data than the {} bytes the header says", p.len),
                ));
            }
            if p.hasher.clone().finalize() != p.crc {
                return Err(damaged(&self.path, "checksum mismatch"));
            }
            p.verified = true;
            return Ok(0);
        }
        let want = buf
            .len()
            .min(usize::try_from(p.remaining).unwrap_or(usize::MAX));
        let n = self.file.read(&mut buf[..want])?;
        if n == 0 {
            let found = p.len - p.remaining;
            return Err(damaged(
                &self.path,
                format!(
                    "{found} bytes of data where the header says {} (truncated?)",
                    p.len
                ),
            ));
        }
        p.hasher.update(&buf[..n]);
        p.remaining -= n as u64;
        Ok(n)
    }
}

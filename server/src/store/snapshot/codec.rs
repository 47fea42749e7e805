//! The byte level of format 3: LEB128 varints, length-prefixed strings, and a buffered
//! input and output that keep the CRC-32 of everything between the magic line and the
//! trailer.
//!
//! The input reads from any `Read` through a buffer of its own, so a snapshot file is decoded
//! as it streams in, in bounded memory, with fast paths that parse straight out of the buffer.
//! A length the input claims never allocates more than the bytes that actually arrive.

use std::io::{self, Read, Write};

/// Buffer of the input and the output.
const BUFFER: usize = 1 << 20;

/// The output: appends into a buffer, hashed and written out as it fills.
pub struct Output<'w, W: Write> {
    w: &'w mut W,
    buf: Vec<u8>,
    crc: crc32fast::Hasher,
}

impl<'w, W: Write> Output<'w, W> {
    /// An output into `w`, hashing from here on.
    pub fn new(w: &'w mut W) -> Output<'w, W> {
        Output {
            w,
            buf: Vec::with_capacity(BUFFER + 64),
            crc: crc32fast::Hasher::new(),
        }
    }

    fn spill_if_full(&mut self) -> io::Result<()> {
        if self.buf.len() >= BUFFER {
            self.spill()?;
        }
        Ok(())
    }

    fn spill(&mut self) -> io::Result<()> {
        self.crc.update(&self.buf);
        self.w.write_all(&self.buf)?;
        self.buf.clear();
        Ok(())
    }

    /// Bytes as they are.
    pub fn raw(&mut self, b: &[u8]) -> io::Result<()> {
        self.buf.extend_from_slice(b);
        self.spill_if_full()
    }

    /// One byte.
    pub fn u8(&mut self, b: u8) -> io::Result<()> {
        self.buf.push(b);
        self.spill_if_full()
    }

    /// An unsigned LEB128 varint.
    pub fn varint(&mut self, mut v: u64) -> io::Result<()> {
        while v >= 0x80 {
            self.buf.push((v as u8) | 0x80);
            v >>= 7;
        }
        self.buf.push(v as u8);
        self.spill_if_full()
    }

    /// A signed number, zigzag-encoded so small negatives stay short.
    pub fn signed(&mut self, v: i64) -> io::Result<()> {
        self.varint(((v << 1) ^ (v >> 63)) as u64)
    }

    /// A length and that many bytes.
    pub fn bytes(&mut self, b: &[u8]) -> io::Result<()> {
        self.varint(b.len() as u64)?;
        if b.len() >= BUFFER {
            self.spill()?;
            self.crc.update(b);
            return self.w.write_all(b);
        }
        self.buf.extend_from_slice(b);
        self.spill_if_full()
    }

    /// Writes out what is buffered, then the CRC-32 of everything since [`Output::new`]
    /// (itself not hashed).
    pub fn finish(mut self) -> io::Result<()> {
        self.spill()?;
        let crc = self.crc.clone().finalize();
        self.w.write_all(&crc.to_be_bytes())
    }
}

/// Why decoding stopped: the source failed (a damaged file says so), or the bytes are not a
/// format-3 snapshot.
#[derive(Debug)]
pub enum DecodeError {
    /// Reading the source failed.
    Io(io::Error),
    /// The bytes are malformed; says how and at which offset.
    Malformed(String),
}

impl From<io::Error> for DecodeError {
    fn from(e: io::Error) -> DecodeError {
        DecodeError::Io(e)
    }
}

/// The input: a buffered source, with the CRC-32 of what was consumed.
pub struct Input<R: Read> {
    src: R,
    buf: Vec<u8>,
    pos: usize,
    end: usize,
    /// `buf[..hashed]` is in `crc` already.
    hashed: usize,
    crc: crc32fast::Hasher,
    /// Bytes dropped from the front of the buffer so far (for offsets in errors).
    dropped: u64,
    eof: bool,
}

impl<R: Read> Input<R> {
    /// An input over `src`, with `prefix` (bytes already read from it, e.g. to tell the
    /// format) in front.
    pub fn new(src: R, prefix: &[u8]) -> Input<R> {
        let mut buf = vec![0u8; BUFFER.max(prefix.len())];
        buf[..prefix.len()].copy_from_slice(prefix);
        Input {
            src,
            buf,
            pos: 0,
            end: prefix.len(),
            hashed: 0,
            crc: crc32fast::Hasher::new(),
            dropped: 0,
            eof: false,
        }
    }

    /// Offset of the next byte from the start of the input.
    pub fn offset(&self) -> u64 {
        self.dropped + self.pos as u64
    }

    /// An error saying `what` is wrong at the current offset.
    pub fn malformed(&self, what: &str) -> DecodeError {
        DecodeError::Malformed(format!("{what} at byte {}", self.offset()))
    }

    /// Makes `n` bytes available from `pos` unless the source ends first (then fewer). The
    /// buffer grows only as bytes arrive, so a lying length cannot make it huge.
    fn fill(&mut self, n: usize) -> Result<(), DecodeError> {
        while self.end - self.pos < n && !self.eof {
            if self.end == self.buf.len() {
                // Hash what was consumed, then move the unconsumed rest to the front.
                self.crc.update(&self.buf[self.hashed..self.pos]);
                self.buf.copy_within(self.pos..self.end, 0);
                self.dropped += self.pos as u64;
                self.end -= self.pos;
                self.pos = 0;
                self.hashed = 0;
                if self.end == self.buf.len() {
                    let grown = (self.buf.len() * 2).min(self.end + n.max(BUFFER));
                    self.buf.resize(grown, 0);
                }
            }
            let got = loop {
                match self.src.read(&mut self.buf[self.end..]) {
                    Ok(got) => break got,
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                    Err(e) => return Err(DecodeError::Io(e)),
                }
            };
            if got == 0 {
                self.eof = true;
            }
            self.end += got;
        }
        Ok(())
    }

    /// `n` bytes, or an error naming `what` when the input ends first.
    pub fn take(&mut self, n: usize, what: &str) -> Result<&[u8], DecodeError> {
        self.fill(n)?;
        if self.end - self.pos < n {
            return Err(self.malformed(&format!("truncated {what}")));
        }
        let start = self.pos;
        self.pos += n;
        Ok(&self.buf[start..self.pos])
    }

    /// One byte.
    pub fn u8(&mut self, what: &str) -> Result<u8, DecodeError> {
        Ok(self.take(1, what)?[0])
    }

    /// An unsigned LEB128 varint of at most 10 bytes.
    pub fn varint(&mut self, what: &str) -> Result<u64, DecodeError> {
        if self.end - self.pos < 10 {
            self.fill(10)?;
        }
        let avail = &self.buf[self.pos..self.end];
        let mut v: u64 = 0;
        for (i, &b) in avail.iter().take(10).enumerate() {
            if i == 9 && b > 1 {
                break;
            }
            v |= u64::from(b & 0x7f) << (7 * i);
            if b & 0x80 == 0 {
                self.pos += i + 1;
                return Ok(v);
            }
        }
        Err(self.malformed(&format!("bad varint in {what}")))
    }

    /// A zigzag-encoded signed number.
    pub fn signed(&mut self, what: &str) -> Result<i64, DecodeError> {
        let v = self.varint(what)?;
        Ok(((v >> 1) as i64) ^ -((v & 1) as i64))
    }

    /// A length-prefixed UTF-8 string, borrowed from the buffer.
    pub fn str(&mut self, what: &str) -> Result<&str, DecodeError> {
        let len = self.varint(what)?;
        let len = usize::try_from(len).map_err(|_| self.malformed(&format!("{what} too long")))?;
        self.fill(len)?;
        if self.end - self.pos < len {
            return Err(self.malformed(&format!("truncated {what}")));
        }
        let start = self.pos;
        self.pos += len;
        std::str::from_utf8(&self.buf[start..self.pos]).map_err(|_| {
            DecodeError::Malformed(format!(
                "{what} is not UTF-8 at byte {}",
                self.dropped + start as u64
            ))
        })
    }

    /// The CRC-32 of everything consumed so far.
    pub fn digest(&mut self) -> u32 {
        self.crc.update(&self.buf[self.hashed..self.pos]);
        self.hashed = self.pos;
        self.crc.clone().finalize()
    }

    /// Whether the input has ended (nothing after the current position).
    pub fn at_end(&mut self) -> Result<bool, DecodeError> {
        self.fill(1)?;
        Ok(self.end == self.pos)
    }
}

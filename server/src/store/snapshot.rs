//! The store's snapshot encoding: written in format 3 (binary, see `binary`); formats 1 and 2
//! (JSON, see `json`), which older versions wrote, are still read.
//!
//! A snapshot is read as it streams in ([`read_from`]): format 3 in one pass over its bytes
//! through a bounded buffer, which also yields the TTL index and the node counts; the JSON
//! formats are read whole, then walked for those.

mod binary;
mod codec;
mod event_codec;
mod json;

use std::io::{self, Read};

use super::event::Event;
use super::node::TreeNode;
use super::stats::WriteStats;
use super::tree::NodeCounts;
use super::RestoreError;
use crate::time::Timestamp;
use codec::{DecodeError, Input};

/// The format [`write`] produces.
pub const FORMAT: u32 = 3;

/// What a snapshot holds, taken apart, with what the store indexes besides the tree.
pub struct Parts {
    /// The store's index.
    pub index: u64,
    /// The tree (a directory).
    pub root: TreeNode,
    /// History events, oldest first.
    pub history: Vec<Event>,
    /// Write counters.
    pub stats: WriteStats,
    /// Every node with an expiry, with its full key (any order).
    pub ttls: Vec<(Timestamp, String)>,
    /// Keys and directories below the root.
    pub counts: NodeCounts,
}

impl Parts {
    /// The parts of a decoded tree, walked once for its TTLs and counts (the JSON formats).
    fn walked(index: u64, root: TreeNode, history: Vec<Event>, stats: WriteStats) -> Parts {
        let mut ttls = Vec::new();
        root.collect_ttls("/", &mut ttls);
        let counts = NodeCounts::of_tree(&root);
        Parts {
            index,
            root,
            history,
            stats,
            ttls,
            counts,
        }
    }
}

/// Streams a store in format [`FORMAT`] into `w` (a snapshot file: the encoding is never
/// held in memory whole).
pub use binary::write_to;

/// Encodes a store in format [`FORMAT`]. Equal stores give equal bytes.
pub fn write<'a>(
    index: u64,
    root: &TreeNode,
    history: impl ExactSizeIterator<Item = &'a Event>,
    stats: &WriteStats,
) -> Vec<u8> {
    let mut out = Vec::new();
    write_to(&mut out, index, root, history, stats).expect("writing to a Vec cannot fail");
    out
}

/// Encodes a store in format 2, as 0.3.1 to 0.3.x wrote it (tests and fuzz seeds show that
/// such snapshots still load).
pub fn write_format2<'a>(
    index: u64,
    root: &TreeNode,
    history: impl ExactSizeIterator<Item = &'a Event>,
    stats: &WriteStats,
) -> Vec<u8> {
    let mut out = Vec::new();
    json::write_to(&mut out, index, root, history, stats).expect("writing to a Vec cannot fail");
    out
}

/// Decodes a snapshot of any format held in memory.
pub fn read(bytes: &[u8]) -> Result<Parts, RestoreError> {
    read_from(bytes)
}

/// Decodes a snapshot of any format from `r`, read to its end: format 3 as it streams in,
/// the JSON formats once read whole.
pub fn read_from<R: Read>(mut r: R) -> Result<Parts, RestoreError> {
    let mut prefix = [0u8; binary::MAGIC_LINE.len()];
    let got = read_up_to(&mut r, &mut prefix).map_err(source_error)?;
    let prefix = &prefix[..got];
    if prefix == binary::MAGIC_LINE {
        return binary::read(&mut Input::new(r, prefix)).map_err(|e| match e {
            DecodeError::Io(e) => source_error(e),
            DecodeError::Malformed(why) => RestoreError::new(format!("snapshot: {why}")),
        });
    }
    let mut bytes = prefix.to_vec();
    r.read_to_end(&mut bytes).map_err(source_error)?;
    if bytes.starts_with(json::MAGIC.as_bytes()) {
        json::read_flat(&bytes)
    } else if bytes.first() == Some(&b'{') {
        json::read_legacy(bytes)
    } else {
        Err(RestoreError::new("snapshot is not a store"))
    }
}

fn source_error(e: io::Error) -> RestoreError {
    RestoreError::new(e.to_string())
}

/// Reads until `buf` is full or `r` ends; how many bytes it got.
fn read_up_to<R: Read>(r: &mut R, buf: &mut [u8]) -> io::Result<usize> {
    let mut got = 0;
    while got < buf.len() {
        match r.read(&mut buf[got..]) {
            Ok(0) => break,
            Ok(n) => got += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(got)
}

#[cfg(test)]
mod tests;

//! Format 3 (written after 0.3.x; issue 14): binary, length-prefixed, checksummed.
//!
//! ```text
//! "etcd-store-snapshot 3\n"          the magic line (a format-2 reader refuses it by number)
//! index, event count, 13 counters     varints (the counters in `WriteStats` order)
//! the root, then every node in pre-order:
//!   flags (u8: 1 = directory, 2 = has an expiry), name (varint length + UTF-8; empty for the
//!   root), created, modified (varints), expiry (zigzag varint of Unix nanoseconds, if any),
//!   then a directory's child count (varint; its children follow, sorted by name) or a key's
//!   value (varint length + UTF-8, raw)
//! the history, oldest first (see `event_codec`)
//! CRC-32 of everything before it, magic line included (u32, big endian)
//! ```
//!
//! No node carries its full path: the child counts give the shape, so a reader keeps a stack
//! of open directories (explicit, as deep as the tree, never the call stack) and builds each
//! directory once its last child is read. One pass over the bytes also yields what the store
//! indexes besides the tree (the TTL index and the node counts), so nothing walks the tree
//! again afterwards.

use std::io::{self, Read, Write};

use super::codec::{DecodeError, Input, Output};
use super::event_codec::{read_event, write_event};
use super::Parts;
use crate::store::event::Event;
use crate::store::node::{Children, Leaf, Name, Stamps, TreeNode};
use crate::store::stats::WriteStats;
use crate::store::tree::NodeCounts;
use crate::time::Timestamp;

/// The magic line of format 3.
pub const MAGIC_LINE: &[u8] = b"etcd-store-snapshot 3\n";

const FLAG_DIR: u8 = 1;
const FLAG_EXPIRES: u8 = 2;

/// The counters in their encoded order.
fn counters(s: &WriteStats) -> [u64; 13] {
    [
        s.sets_success,
        s.sets_fail,
        s.delete_success,
        s.delete_fail,
        s.update_success,
        s.update_fail,
        s.create_success,
        s.create_fail,
        s.compare_and_swap_success,
        s.compare_and_swap_fail,
        s.compare_and_delete_success,
        s.compare_and_delete_fail,
        s.expire_count,
    ]
}

fn stats_from(c: [u64; 13]) -> WriteStats {
    WriteStats {
        sets_success: c[0],
        sets_fail: c[1],
        delete_success: c[2],
        delete_fail: c[3],
        update_success: c[4],
        update_fail: c[5],
        create_success: c[6],
        create_fail: c[7],
        compare_and_swap_success: c[8],
        compare_and_swap_fail: c[9],
        compare_and_delete_success: c[10],
        compare_and_delete_fail: c[11],
        expire_count: c[12],
    }
}

/// Streams a store in format 3 into `w`: one walk of the tree with a stack of child
/// iterators (memory as deep as the tree, not as wide), through a 1 MiB buffer.
pub fn write_to<'a, W: Write>(
    w: &mut W,
    index: u64,
    root: &TreeNode,
    history: impl ExactSizeIterator<Item = &'a Event>,
    stats: &WriteStats,
) -> io::Result<()> {
    let mut out = Output::new(w);
    out.raw(MAGIC_LINE)?;
    out.varint(index)?;
    out.varint(history.len() as u64)?;
    for c in counters(stats) {
        out.varint(c)?;
    }
    write_node(&mut out, "", root)?;
    let mut stack = Vec::new();
    if let Some(children) = root.children() {
        stack.push(children.iter());
    }
    while let Some(top) = stack.last_mut() {
        let Some((name, node)) = top.next() else {
            stack.pop();
            continue;
        };
        write_node(&mut out, name, node)?;
        if let Some(children) = node.children() {
            if !children.is_empty() {
                stack.push(children.iter());
            }
        }
    }
    for ev in history {
        write_event(&mut out, ev)?;
    }
    out.finish()
}

fn write_node<W: Write>(out: &mut Output<'_, W>, name: &str, node: &TreeNode) -> io::Result<()> {
    let mut flags = 0;
    if node.is_dir() {
        flags |= FLAG_DIR;
    }
    let expire_at = node.expire_at();
    if expire_at.is_some() {
        flags |= FLAG_EXPIRES;
    }
    out.u8(flags)?;
    out.bytes(name.as_bytes())?;
    out.varint(node.created())?;
    out.varint(node.modified())?;
    if let Some(t) = expire_at {
        out.signed(t.0)?;
    }
    match node.children() {
        Some(children) => out.varint(children.len() as u64),
        None => out.bytes(node.leaf().map_or(&[][..], Leaf::value_bytes)),
    }
}

/// A directory being read: its children so far and how many are still to come.
struct OpenDir {
    name: Name,
    stamps: Stamps,
    children: Vec<(Name, TreeNode)>,
    remaining: u64,
    /// Length of the path buffer before this directory's name was appended.
    path_len: usize,
}

/// One node record, without its children.
struct Record {
    name: Name,
    stamps: Stamps,
    /// A key's value, or a directory's child count.
    body: Body,
}

enum Body {
    Value(TreeNode),
    Children(u64),
}

fn read_record<R: Read>(input: &mut Input<R>) -> Result<Record, DecodeError> {
    let flags = input.u8("node flags")?;
    if flags & !(FLAG_DIR | FLAG_EXPIRES) != 0 {
        return Err(input.malformed("unknown node flags"));
    }
    let name = Name::from(input.str("node name")?);
    let created = input.varint("created index")?;
    let modified = input.varint("modified index")?;
    let expire_at = if flags & FLAG_EXPIRES != 0 {
        Some(Timestamp(input.signed("expiry")?))
    } else {
        None
    };
    let stamps = Stamps::new(created, modified, expire_at);
    let body = if flags & FLAG_DIR != 0 {
        Body::Children(input.varint("child count")?)
    } else {
        Body::Value(TreeNode::key_with(stamps, input.str("value")?))
    };
    Ok(Record { name, stamps, body })
}

/// Decodes format 3 (`input` starts at its magic line).
pub fn read<R: Read>(input: &mut Input<R>) -> Result<Parts, DecodeError> {
    if input.take(MAGIC_LINE.len(), "magic line")? != MAGIC_LINE {
        return Err(input.malformed("not a format-3 snapshot"));
    }
    let index = input.varint("index")?;
    let events = input.varint("event count")?;
    let mut c = [0u64; 13];
    for v in &mut c {
        *v = input.varint("counters")?;
    }
    let stats = stats_from(c);

    let root = read_record(input)?;
    let Body::Children(root_children) = root.body else {
        return Err(input.malformed("the root is not a directory"));
    };
    if !root.name.is_empty() {
        return Err(input.malformed("the root has a name"));
    }
    let mut ttls = Vec::new();
    if let Some(t) = root.stamps.expire_at() {
        ttls.push((t, "/".to_string()));
    }
    let mut counts = NodeCounts::default();
    // The path of the innermost open directory ("" for the root), for the TTL index's keys.
    let mut path = String::new();
    let mut open = vec![OpenDir {
        name: Name::default(),
        stamps: root.stamps,
        children: Vec::new(),
        remaining: root_children,
        path_len: 0,
    }];
    let root = loop {
        let top = open.last_mut().expect("the root is open until it closes");
        if top.remaining == 0 {
            let dir = open.pop().expect("checked above");
            path.truncate(dir.path_len);
            let node = TreeNode::dir_with(dir.stamps, build_children(dir.children));
            match open.last_mut() {
                Some(parent) => parent.children.push((dir.name, node)),
                None => break node,
            }
            continue;
        }
        top.remaining -= 1;
        let rec = read_record(input)?;
        if rec.name.is_empty() || rec.name.contains('/') {
            return Err(input.malformed("bad node name"));
        }
        let top = open.last_mut().expect("checked above");
        if top
            .children
            .last()
            .is_some_and(|(prev, _)| *prev >= rec.name)
        {
            return Err(input.malformed("node names out of order or repeated"));
        }
        if let Some(t) = rec.stamps.expire_at() {
            ttls.push((t, format!("{path}/{}", rec.name)));
        }
        match rec.body {
            Body::Children(n) => {
                counts.dirs += 1;
                let path_len = path.len();
                path.push('/');
                path.push_str(&rec.name);
                open.push(OpenDir {
                    name: rec.name,
                    stamps: rec.stamps,
                    children: Vec::new(),
                    remaining: n,
                    path_len,
                });
            }
            Body::Value(node) => {
                counts.keys += 1;
                top.children.push((rec.name, node));
            }
        }
    };

    // Not preallocated from the claimed count: the bytes bound what is built.
    let mut history = Vec::new();
    for _ in 0..events {
        history.push(read_event(input)?);
    }
    let crc = input.digest();
    let stored = u32::from_be_bytes(input.take(4, "checksum")?.try_into().expect("took 4 bytes"));
    if crc != stored {
        return Err(DecodeError::Malformed("store checksum mismatch".into()));
    }
    if !input.at_end()? {
        return Err(input.malformed("trailing data"));
    }
    Ok(Parts {
        index,
        root,
        history,
        stats,
        ttls,
        counts,
    })
}

/// A directory's map from its children, sorted by name.
///
/// Inserted in name order, a B-tree splitting full leaves in half keeps every leaf but the
/// last half empty (imbl's leaves hold 16). Inserting every other child first, then the rest,
/// fills each half-empty leaf back up: the same map in about half the leaves.
fn build_children(children: Vec<(Name, TreeNode)>) -> Children {
    let mut map = Children::new();
    let mut odd = Vec::with_capacity(children.len() / 2);
    for (i, entry) in children.into_iter().enumerate() {
        if i % 2 == 0 {
            map.insert(entry.0, entry.1);
        } else {
            odd.push(entry);
        }
    }
    for (name, node) in odd {
        map.insert(name, node);
    }
    map
}

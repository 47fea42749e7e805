//! Formats 1 and 2: JSON, as 0.3.x wrote them; read so that their data dirs still start.
//!
//! Format 2 (0.3.1 to 0.3.x) is flat, so no tree the API accepts can break it: a header
//! line, then one JSON line per node in pre-order with its depth (the parent of a node at
//! depth `d` is the last node before it at depth `d - 1`), then one JSON line per history
//! event. Written and read with explicit stacks; no line nests deeper than an event.
//!
//! ```text
//! etcd-store-snapshot 2
//! {"index":42,"nodes":3,"events":2,"stats":{…}}
//! {"d":0,"n":"","c":0,"m":0}                       the root (a directory: no "v")
//! {"d":1,"n":"a","c":1,"m":1}
//! {"d":2,"n":"x","c":2,"m":2,"e":1767225600000000000,"v":"deep"}
//! {"action":"Set","node":{…},"prev_node":null,"index":1,"refresh":false}
//! …
//! ```
//!
//! Format 1 (0.3.0 and before) was one JSON object holding the nested tree. It is still read,
//! on a thread with a stack large enough for the deepest tree the key limit allows, with
//! serde_json's nesting limit lifted (that limit is what made deep trees unreadable).

use std::collections::BTreeMap;
use std::io::{self, Write};

use serde::{Deserialize, Serialize};

use super::Parts;
use crate::store::event::Event;
use crate::store::node::{Children, Name, Stamps, TreeNode};
use crate::store::stats::WriteStats;
use crate::store::RestoreError;
use crate::time::Timestamp;

/// The first line of a format-2 snapshot (the format number follows it).
pub const MAGIC: &str = "etcd-store-snapshot";

/// The format of the flat JSON lines.
pub const FORMAT: u32 = 2;

/// The format of 0.3.0 snapshots: one nested JSON object.
const LEGACY_FORMAT: u32 = 1;

/// Deepest JSON nesting a format-1 snapshot may have: 3 levels per tree level (node, content,
/// children map), and a key of 8 KiB is at most ~4100 levels deep.
const LEGACY_MAX_NESTING: usize = 16_384;

/// Stack for reading a format-1 snapshot: its JSON nests 3 levels per tree level, and a key of
/// 8 KiB is at most ~4100 levels deep; serde frames take well under 2 KiB each.
const LEGACY_READ_STACK: usize = 256 * 1024 * 1024;

#[derive(Serialize, Deserialize)]
struct Header {
    index: u64,
    nodes: u64,
    events: u64,
    stats: WriteStats,
}

/// One node line: depth, name, created, modified, expiry, value (none: a directory).
#[derive(Serialize, Deserialize)]
struct NodeLine<'a> {
    d: u32,
    #[serde(borrow)]
    n: std::borrow::Cow<'a, str>,
    c: u64,
    m: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    e: Option<Timestamp>,
    #[serde(default, borrow, skip_serializing_if = "Option::is_none")]
    v: Option<std::borrow::Cow<'a, str>>,
}

/// Streams a store in format 2 into `w`. The tree is walked twice, to count its nodes for
/// the header and to write them, both times with an explicit stack.
pub fn write_to<'a, W: Write>(
    w: &mut W,
    index: u64,
    root: &TreeNode,
    history: impl ExactSizeIterator<Item = &'a Event>,
    stats: &WriteStats,
) -> io::Result<()> {
    let header = Header {
        index,
        nodes: count_nodes(root),
        events: history.len() as u64,
        stats: stats.clone(),
    };
    writeln!(w, "{MAGIC} {FORMAT}")?;
    serde_json::to_writer(&mut *w, &header)?;
    w.write_all(b"\n")?;
    let mut stack: Vec<(u32, &str, &TreeNode)> = vec![(0, "", root)];
    while let Some((depth, name, node)) = stack.pop() {
        let line = NodeLine {
            d: depth,
            n: name.into(),
            c: node.created(),
            m: node.modified(),
            e: node.expire_at(),
            v: node.value().map(Into::into),
        };
        serde_json::to_writer(&mut *w, &line)?;
        w.write_all(b"\n")?;
        if let Some(children) = node.children() {
            for (name, child) in children.iter().rev() {
                stack.push((depth + 1, name, child));
            }
        }
    }
    for ev in history {
        serde_json::to_writer(&mut *w, ev)?;
        w.write_all(b"\n")?;
    }
    Ok(())
}

/// How many nodes the tree at `root` has, itself included.
fn count_nodes(root: &TreeNode) -> u64 {
    let mut nodes = 0;
    let mut stack = vec![root];
    while let Some(node) = stack.pop() {
        nodes += 1;
        if let Some(children) = node.children() {
            stack.extend(children.values());
        }
    }
    nodes
}

/// Decodes format 2 (`bytes` start with its magic line; other format numbers are refused).
pub fn read_flat(bytes: &[u8]) -> Result<Parts, RestoreError> {
    let bad = |what: &str, line: usize| RestoreError::new(format!("snapshot line {line}: {what}"));
    let mut lines = bytes
        .split(|b| *b == b'\n')
        .enumerate()
        .map(|(i, l)| (i + 1, l));
    let (_, magic) = lines.next().ok_or_else(|| bad("empty", 1))?;
    let format = std::str::from_utf8(magic)
        .ok()
        .and_then(|m| m.strip_prefix(MAGIC))
        .and_then(|f| f.trim().parse::<u32>().ok())
        .ok_or_else(|| bad("bad first line", 1))?;
    if format != FORMAT {
        return Err(RestoreError::new(format!(
            "unknown snapshot format {format} (this build reads {LEGACY_FORMAT} to {})",
            super::FORMAT
        )));
    }
    let (n, line) = lines.next().ok_or_else(|| bad("no header", 2))?;
    let header: Header =
        serde_json::from_slice(line).map_err(|e| bad(&format!("header: {e}"), n))?;

    // Open directories, root first: `open[k]` is at depth k.
    let mut open: Vec<(String, TreeNode)> = Vec::new();
    let mut root: Option<TreeNode> = None;
    for count in 0..header.nodes {
        let (n, line) = lines.next().ok_or_else(|| bad("truncated", 0))?;
        let nl: NodeLine =
            serde_json::from_slice(line).map_err(|e| bad(&format!("node: {e}"), n))?;
        let depth = nl.d as usize;
        if count == 0 {
            if depth != 0 || nl.v.is_some() {
                return Err(bad("the root must be a directory at depth 0", n));
            }
        } else if depth == 0 || depth > open.len() {
            return Err(bad("node without a parent", n));
        } else if nl.n.is_empty() || nl.n.contains('/') {
            return Err(bad("bad node name", n));
        }
        while open.len() > depth {
            close_dir(&mut open, &mut root).map_err(|w| bad(w, n))?;
        }
        let stamps = Stamps::new(nl.c, nl.m, nl.e);
        let node = match nl.v {
            Some(v) => TreeNode::key_with(stamps, &v),
            None => TreeNode::dir_with(stamps, Children::new()),
        };
        if node.is_dir() {
            open.push((nl.n.into_owned(), node));
        } else {
            attach(&mut open, nl.n.into_owned(), node).map_err(|w| bad(w, n))?;
        }
    }
    while !open.is_empty() {
        close_dir(&mut open, &mut root).map_err(|w| bad(w, 0))?;
    }
    let root = root.ok_or_else(|| bad("no root", 0))?;
    let mut history = Vec::with_capacity(header.events.min(4096) as usize);
    for _ in 0..header.events {
        let (n, line) = lines.next().ok_or_else(|| bad("truncated history", 0))?;
        history.push(serde_json::from_slice(line).map_err(|e| bad(&format!("event: {e}"), n))?);
    }
    match lines.next() {
        Some((_, rest)) if rest.is_empty() && lines.next().is_none() => {}
        None => {}
        Some((n, _)) => return Err(bad("trailing data", n)),
    }
    Ok(Parts::walked(header.index, root, history, header.stats))
}

/// Puts `node` into the innermost open directory.
fn attach(
    open: &mut [(String, TreeNode)],
    name: String,
    node: TreeNode,
) -> Result<(), &'static str> {
    let (_, parent) = open.last_mut().ok_or("node without a parent")?;
    let children = parent.children_mut().ok_or("parent is not a directory")?;
    if children.insert(name.into(), node).is_some() {
        return Err("duplicate name");
    }
    Ok(())
}

/// Closes the innermost open directory: into its parent, or as the root.
fn close_dir(
    open: &mut Vec<(String, TreeNode)>,
    root: &mut Option<TreeNode>,
) -> Result<(), &'static str> {
    let (name, dir) = open.pop().ok_or("nothing open")?;
    if open.is_empty() {
        *root = Some(dir);
        Ok(())
    } else {
        attach(open, name, dir)
    }
}

#[derive(Deserialize)]
struct Legacy {
    format: u32,
    index: u64,
    root: LegacyNode,
    history: Vec<Event>,
    stats: WriteStats,
}

/// A node as format 1 nests it (the tree's own layout in 0.3.0).
#[derive(Deserialize)]
struct LegacyNode {
    created: u64,
    modified: u64,
    expire_at: Option<Timestamp>,
    content: LegacyContent,
}

#[derive(Deserialize)]
enum LegacyContent {
    Value(String),
    Dir(BTreeMap<String, LegacyNode>),
}

impl LegacyNode {
    /// The tree node, converted level by level: `self` nests as deep as the tree, but it was
    /// just read on a thread with a stack for that depth (and so is dropped there).
    fn into_tree(self) -> TreeNode {
        let stamps = Stamps::new(self.created, self.modified, self.expire_at);
        match self.content {
            LegacyContent::Value(v) => TreeNode::key_with(stamps, &v),
            LegacyContent::Dir(children) => TreeNode::dir_with(
                stamps,
                children
                    .into_iter()
                    .map(|(name, node)| (Name::from(name), node.into_tree()))
                    .collect(),
            ),
        }
    }
}

/// Decodes format 1 (one JSON object), on a thread with a stack for the deepest tree.
pub fn read_legacy(bytes: Vec<u8>) -> Result<Parts, RestoreError> {
    if nesting(&bytes) > LEGACY_MAX_NESTING {
        return Err(RestoreError::new(format!(
            "snapshot nests deeper than {LEGACY_MAX_NESTING} levels"
        )));
    }
    let parse = move || -> Result<Parts, RestoreError> {
        let mut de = serde_json::Deserializer::from_slice(&bytes);
        de.disable_recursion_limit();
        let saved = Legacy::deserialize(&mut de)
            .and_then(|s| de.end().map(|()| s))
            .map_err(|e| RestoreError::new(format!("snapshot is not a store: {e}")))?;
        if saved.format != LEGACY_FORMAT {
            return Err(RestoreError::new(format!(
                "unknown snapshot format {}",
                saved.format
            )));
        }
        Ok(Parts::walked(
            saved.index,
            saved.root.into_tree(),
            saved.history,
            saved.stats,
        ))
    };
    std::thread::Builder::new()
        .name("snapshot-v1".into())
        .stack_size(LEGACY_READ_STACK)
        .spawn(parse)
        .map_err(|e| RestoreError::new(format!("cannot start the snapshot reader: {e}")))?
        .join()
        .map_err(|_| RestoreError::new("the format-1 snapshot reader failed"))?
}

/// The deepest nesting of objects and arrays in JSON text (strings skipped), counted without
/// parsing, so the recursive parser is only run on input whose depth it can take.
fn nesting(bytes: &[u8]) -> usize {
    let (mut depth, mut max, mut in_string, mut escaped) = (0usize, 0usize, false, false);
    for &b in bytes {
        if in_string {
            match (escaped, b) {
                (true, _) => escaped = false,
                (false, b'\\') => escaped = true,
                (false, b'"') => in_string = false,
                _ => {}
            }
            continue;
        }
        match b {
            b'"' => in_string = true,
            b'{' | b'[' => {
                depth += 1;
                max = max.max(depth);
            }
            b'}' | b']' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    max
}

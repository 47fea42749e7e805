//! Read views: a GET's answer copied out of the tree under the state lock, rendered to JSON
//! after the lock is released.
//!
//! The copy is flat (one entry per listed node, in pre-order, with its depth) and cheap: names
//! go into one string, values are shared with the tree (see `node::Leaf`). Rendering walks the entries with an
//! explicit stack, so neither a deep tree nor a wide one recurses or holds the lock.

use super::node::{is_hidden_name, Leaf, TreeNode};
use crate::time::Timestamp;

/// One listed node.
#[derive(Debug, Clone)]
struct Entry {
    /// Levels below the read node (which is 0).
    depth: u32,
    /// Where the name ends in [`ReadView::names`] (it starts where the previous one ended).
    name_end: usize,
    created: u64,
    modified: u64,
    expire_at: Option<Timestamp>,
    /// The key, sharing its value; `None` for a directory.
    value: Option<Leaf>,
}

/// A GET's answer, detached from the store.
#[derive(Debug, Clone)]
pub struct ReadView {
    /// The key read (clean).
    key: String,
    /// The store's index when read.
    index: u64,
    /// When read (TTLs are shown relative to it).
    now: Timestamp,
    names: String,
    entries: Vec<Entry>,
}

/// A read's node, cloned out of the store (sharing everything below it) with what the read
/// asked; [`DetachedRead::view`] copies the listing out of it, with no lock held.
#[derive(Debug, Clone)]
pub struct DetachedRead {
    node: TreeNode,
    key: String,
    listing: Listing,
    index: u64,
    now: Timestamp,
}

impl DetachedRead {
    /// The node read at `key`, with the store's index and the time of the read.
    pub(super) fn new(
        node: TreeNode,
        key: &str,
        listing: Listing,
        index: u64,
        now: Timestamp,
    ) -> DetachedRead {
        DetachedRead {
            node,
            key: key.to_string(),
            listing,
            index,
            now,
        }
    }

    /// The answer, copied out (see [`ReadView::copy`]).
    pub fn view(&self) -> ReadView {
        ReadView::copy(&self.node, &self.key, self.listing, self.index, self.now)
    }
}

/// How deep a read lists (0: the node alone).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Listing {
    /// A plain GET: direct children, themselves without children.
    Children,
    /// A recursive GET: the whole subtree.
    Subtree,
}

impl ReadView {
    /// Copies `node` (at `key`) and the listed part below it. Hidden names are left out, with
    /// everything below them.
    pub fn copy(
        node: &TreeNode,
        key: &str,
        listing: Listing,
        index: u64,
        now: Timestamp,
    ) -> ReadView {
        let mut view = ReadView {
            key: key.to_string(),
            index,
            now,
            names: String::new(),
            entries: Vec::new(),
        };
        view.push(0, "", node);
        let max_depth = match listing {
            Listing::Children => 1,
            Listing::Subtree => u32::MAX,
        };
        // Children are pushed in reverse so they pop (and are listed) in sorted order.
        let mut stack: Vec<(u32, &str, &TreeNode)> = Vec::new();
        fn children_of<'a>(
            n: &'a TreeNode,
            depth: u32,
            stack: &mut Vec<(u32, &'a str, &'a TreeNode)>,
        ) {
            if let Some(children) = n.children() {
                for (name, child) in children.iter().rev() {
                    if !is_hidden_name(name) {
                        stack.push((depth, name.as_str(), child));
                    }
                }
            }
        }
        if max_depth >= 1 {
            children_of(node, 1, &mut stack);
        }
        while let Some((depth, name, n)) = stack.pop() {
            view.push(depth, name, n);
            if depth < max_depth {
                children_of(n, depth + 1, &mut stack);
            }
        }
        view
    }

    fn push(&mut self, depth: u32, name: &str, n: &TreeNode) {
        self.names.push_str(name);
        self.entries.push(Entry {
            depth,
            name_end: self.names.len(),
            created: n.created(),
            modified: n.modified(),
            expire_at: n.expire_at(),
            value: n.leaf().cloned(),
        });
    }

    /// Drops the listed children (and all below them) whose full key `keep` refuses: a
    /// listing never shows what the caller may not read.
    pub fn retain_children(&mut self, mut keep: impl FnMut(&str) -> bool) {
        let mut names = String::with_capacity(self.names.len());
        let mut entries = Vec::with_capacity(self.entries.len());
        let mut dropping = false;
        for i in 0..self.entries.len() {
            let depth = self.entries[i].depth;
            if depth == 1 {
                dropping = !keep(&super::path::join(&self.key, self.name(i)));
            }
            if depth >= 1 && dropping {
                continue;
            }
            names.push_str(self.name(i));
            let mut e = self.entries[i].clone();
            e.name_end = names.len();
            entries.push(e);
        }
        self.names = names;
        self.entries = entries;
    }

    /// The store's index when read.
    pub fn index(&self) -> u64 {
        self.index
    }

    /// How many nodes the answer holds.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether the answer is empty (never: it holds at least the read node).
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    fn name(&self, i: usize) -> &str {
        let start = if i == 0 {
            0
        } else {
            self.entries[i - 1].name_end
        };
        &self.names[start..self.entries[i].name_end]
    }

    /// Visits the entries in pre-order with their full keys: [`Step::Open`] for each node,
    /// [`Step::Close`] after the last child of a node that has children.
    fn walk(&self, mut visit: impl FnMut(Step<'_>)) {
        // `key` is the full key of the innermost open directory; `open` holds, per open
        // directory (depth 0, 1, ...), its entry and the length of `key` before its name.
        let mut key = self.key.clone();
        let mut open: Vec<(usize, usize)> = Vec::new();
        for i in 0..self.entries.len() {
            let depth = self.entries[i].depth as usize;
            while open.len() > depth {
                let (j, len) = open.pop().expect("non-empty");
                visit(Step::Close(j));
                key.truncate(len);
            }
            let before = key.len();
            if i > 0 {
                if !key.ends_with('/') {
                    key.push('/');
                }
                key.push_str(self.name(i));
            }
            let has_children = self
                .entries
                .get(i + 1)
                .is_some_and(|next| next.depth as usize == depth + 1);
            visit(Step::Open(i, &key, has_children));
            if has_children {
                open.push((i, before));
            } else {
                key.truncate(before);
            }
        }
        while let Some((j, _)) = open.pop() {
            visit(Step::Close(j));
        }
    }

    /// The response body `{"action":"get","node":{…}}` plus a newline, byte for byte what
    /// serialising the [`common::Response`] of [`ReadView::to_node`] gives.
    pub fn to_json(&self) -> String {
        let mut out = Vec::with_capacity(64 + self.names.len() * 2 + self.entries.len() * 64);
        out.extend_from_slice(br#"{"action":"get","node":"#);
        let mut first_in_list = true;
        self.walk(|step| match step {
            Step::Open(i, key, has_children) => {
                let e = &self.entries[i];
                if i > 0 && !std::mem::replace(&mut first_in_list, false) {
                    out.push(b',');
                }
                out.extend_from_slice(br#"{"key":"#);
                json_string(&mut out, key);
                match &e.value {
                    Some(v) => {
                        out.extend_from_slice(br#","value":"#);
                        json_string(&mut out, v.value());
                    }
                    None => out.extend_from_slice(br#","dir":true"#),
                }
                if let Some(t) = e.expire_at {
                    out.extend_from_slice(br#","expiration":"#);
                    json_string(&mut out, &t.to_rfc3339());
                    let ttl = t.ttl_from(self.now);
                    if ttl != 0 {
                        out.extend_from_slice(format!(r#","ttl":{ttl}"#).as_bytes());
                    }
                }
                if has_children {
                    out.extend_from_slice(br#","nodes":["#);
                    first_in_list = true;
                } else {
                    close_node(&mut out, e);
                }
            }
            Step::Close(j) => {
                out.push(b']');
                close_node(&mut out, &self.entries[j]);
                first_in_list = false;
            }
        });
        out.extend_from_slice(b"}\n");
        String::from_utf8(out).expect("built from strings and ASCII")
    }

    /// The answer as a wire node tree, built without recursion (serialising or dropping a
    /// deep `common::Node` does recurse: use [`ReadView::to_json`] for answers).
    pub fn to_node(&self) -> common::Node {
        let mut open: Vec<common::Node> = Vec::new();
        let mut done: Option<common::Node> = None;
        let attach = |open: &mut Vec<common::Node>, done: &mut Option<common::Node>, n| match open
            .last_mut()
        {
            Some(parent) => parent.nodes.get_or_insert_with(Vec::new).push(n),
            None => *done = Some(n),
        };
        self.walk(|step| match step {
            Step::Open(i, key, has_children) => {
                let e = &self.entries[i];
                let n = common::Node {
                    key: key.to_string(),
                    dir: e.value.is_none(),
                    value: e.value.as_ref().map(|v| v.value().to_string()),
                    expiration: e.expire_at.map(|t| t.to_rfc3339()),
                    ttl: e.expire_at.map(|t| t.ttl_from(self.now)).unwrap_or(0),
                    modified_index: e.modified,
                    created_index: e.created,
                    ..common::Node::default()
                };
                if has_children {
                    open.push(n);
                } else {
                    attach(&mut open, &mut done, n);
                }
            }
            Step::Close(_) => {
                let n = open.pop().expect("closing an open node");
                attach(&mut open, &mut done, n);
            }
        });
        done.expect("a view holds its read node")
    }
}

/// One step of [`ReadView::walk`].
enum Step<'a> {
    /// Entry, full key, whether children follow.
    Open(usize, &'a str, bool),
    /// The entry whose children all went by.
    Close(usize),
}

fn json_string(out: &mut Vec<u8>, s: &str) {
    serde_json::to_writer(&mut *out, s).expect("writing to a Vec cannot fail");
}

/// The fields after `nodes`, then the closing brace.
fn close_node(out: &mut Vec<u8>, e: &Entry) {
    if e.modified != 0 {
        out.extend_from_slice(format!(r#","modifiedIndex":{}"#, e.modified).as_bytes());
    }
    if e.created != 0 {
        out.extend_from_slice(format!(r#","createdIndex":{}"#, e.created).as_bytes());
    }
    out.push(b'}');
}

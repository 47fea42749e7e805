//! The tree: keys and directories.
//!
//! A key may be ~4000 levels deep (8 KiB of `/a`), so nothing here recurses over the tree:
//! walks use explicit stacks, and dropping a subtree unlinks it level by level.
//!
//! The tree is persistent: a directory's children are an [`imbl::OrdMap`] (a B+tree whose
//! nodes are shared between clones) behind an `Arc`, so cloning a node, the root included,
//! costs one reference count, and a write made while a clone is alive copies only the tree
//! nodes on its own path. That is what lets a snapshot be serialised from a clone on another
//! thread while writes go on.

use std::collections::BTreeMap;
use std::sync::Arc;

use serde::Deserialize;

use crate::time::Timestamp;

/// A directory's children by name: sorted, so listings and snapshots are deterministic.
pub type Children = imbl::OrdMap<String, TreeNode>;

/// What a node holds. Clones share everything below them.
#[derive(Debug, Clone, Deserialize)]
pub enum Content {
    /// A key's value, shared with the read views that copy it out (no byte copy).
    Value(#[serde(deserialize_with = "shared_str")] Arc<str>),
    /// A directory's children. The `Arc` of its own (the map's B+tree nodes are shared
    /// already) tells a drop whether anyone else, such as a snapshot being written, still
    /// holds this directory: only one nobody else holds is unlinked (see `Drop`).
    Dir(#[serde(deserialize_with = "shared_dir")] Arc<Children>),
}

/// A node of the tree. `Deserialize` reads the JSON tree of format-1 snapshots only.
#[derive(Debug, Clone, Deserialize)]
pub struct TreeNode {
    /// Index of the write that created it.
    pub created: u64,
    /// Index of the last write to it.
    pub modified: u64,
    /// When it expires.
    pub expire_at: Option<Timestamp>,
    /// Value or children.
    pub content: Content,
}

fn shared_str<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Arc<str>, D::Error> {
    String::deserialize(d).map(Arc::from)
}

fn shared_dir<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Arc<Children>, D::Error> {
    BTreeMap::<String, TreeNode>::deserialize(d).map(|m| Arc::new(m.into_iter().collect()))
}

/// Hidden nodes (name starting with `_`) are left out of listings.
pub fn is_hidden_name(name: &str) -> bool {
    name.starts_with('_')
}

impl TreeNode {
    /// A new empty directory.
    pub fn dir(index: u64, expire_at: Option<Timestamp>) -> TreeNode {
        TreeNode {
            created: index,
            modified: index,
            expire_at,
            content: Content::Dir(Arc::default()),
        }
    }

    /// A new key.
    pub fn key(index: u64, value: impl Into<Arc<str>>, expire_at: Option<Timestamp>) -> TreeNode {
        TreeNode {
            created: index,
            modified: index,
            expire_at,
            content: Content::Value(value.into()),
        }
    }

    /// Whether it is a directory.
    pub fn is_dir(&self) -> bool {
        matches!(self.content, Content::Dir(_))
    }

    /// The value of a key.
    pub fn value(&self) -> Option<&str> {
        match &self.content {
            Content::Value(v) => Some(v),
            Content::Dir(_) => None,
        }
    }

    /// The shared value of a key.
    pub fn shared_value(&self) -> Option<&Arc<str>> {
        match &self.content {
            Content::Value(v) => Some(v),
            Content::Dir(_) => None,
        }
    }

    /// Children of a directory.
    pub fn children(&self) -> Option<&Children> {
        match &self.content {
            Content::Dir(c) => Some(c),
            Content::Value(_) => None,
        }
    }

    /// Children of a directory, mutably: for writes only, since while a clone of this
    /// directory is alive (a snapshot being written) it copies the map's root first.
    pub fn children_mut(&mut self) -> Option<&mut Children> {
        match &mut self.content {
            Content::Dir(c) => Some(Arc::make_mut(c)),
            Content::Value(_) => None,
        }
    }

    /// The node alone at `key`, as events and `prevNode` show it (never with children).
    pub fn render(&self, key: &str, now: Timestamp) -> common::Node {
        common::Node {
            key: key.to_string(),
            dir: self.is_dir(),
            value: self.value().map(str::to_string),
            expiration: self.expire_at.map(|t| t.to_rfc3339()),
            ttl: self.expire_at.map(|t| t.ttl_from(now)).unwrap_or(0),
            modified_index: self.modified,
            created_index: self.created,
            ..common::Node::default()
        }
    }

    /// Every (expiry, key) at or below this node (at `key`), for keeping the expiry index
    /// exact. Iterative: the depth is the client's.
    pub fn collect_ttls(&self, key: &str, out: &mut Vec<(Timestamp, String)>) {
        let mut stack: Vec<(String, &TreeNode)> = vec![(key.to_string(), self)];
        while let Some((key, node)) = stack.pop() {
            if let Some(t) = node.expire_at {
                out.push((t, key.clone()));
            }
            if let Some(children) = node.children() {
                for (name, child) in children {
                    stack.push((super::path::join(&key, name), child));
                }
            }
        }
    }
}

impl Drop for TreeNode {
    /// Unlinks the subtree level by level: the derived drop would recurse once per level,
    /// and a 4000-level tree overflows a 2 MiB thread stack that way.
    ///
    /// A directory someone else still holds (a snapshot's clone, or the live tree while the
    /// clone goes) is left alone: dropping it only lowers its count, and its last holder
    /// unlinks it. Maps are never consumed: a map's B+tree nodes are often shared with
    /// another version of the tree (a snapshot's clone and the live tree share all but the
    /// paths written since), and consuming would copy every shared node only to drop the
    /// copy. Instead each child directory is held by one more reference while its parent's
    /// map drops (so that drop stops at the child), then unlinked in turn if nobody else
    /// holds it. Should two holders let go at once, the map's own drop runs, which reaches
    /// only its direct children, each of which unlinks its own subtree here: the depth stays
    /// constant either way.
    fn drop(&mut self) {
        let Content::Dir(dir) = &mut self.content else {
            return;
        };
        if Arc::strong_count(dir) != 1 {
            return;
        }
        let mut stack = Vec::new();
        push_subdirectories(dir, &mut stack);
        if stack.is_empty() {
            return;
        }
        // This map goes while its child directories are held here, so its drop stops there.
        drop(std::mem::take(dir));
        while let Some(shared) = stack.pop() {
            let Ok(map) = Arc::try_unwrap(shared) else {
                // Held elsewhere too: its last holder unlinks it.
                continue;
            };
            push_subdirectories(&map, &mut stack);
            drop(map);
        }
    }
}

/// Pushes one more reference to each non-empty directory among `children` (whose drop could
/// go deeper) onto `stack`.
fn push_subdirectories(children: &Children, stack: &mut Vec<Arc<Children>>) {
    for child in children.values() {
        if let Content::Dir(grand) = &child.content {
            if !grand.is_empty() {
                stack.push(grand.clone());
            }
        }
    }
}

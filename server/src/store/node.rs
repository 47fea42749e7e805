//! The tree: keys and directories.
//!
//! A key may be ~4000 levels deep (8 KiB of `/a`), so nothing here recurses over the tree:
//! walks use explicit stacks, and dropping a subtree unlinks it level by level.

use std::collections::BTreeMap;
use std::sync::Arc;

use serde::Deserialize;

use crate::time::Timestamp;

/// What a node holds.
#[derive(Debug, Deserialize)]
pub enum Content {
    /// A key's value, shared with the read views that copy it out (no byte copy).
    Value(#[serde(deserialize_with = "shared_str")] Arc<str>),
    /// A directory's children by name (sorted, so listings are deterministic).
    Dir(BTreeMap<String, TreeNode>),
}

/// A node of the tree. `Deserialize` reads the JSON tree of format-1 snapshots only.
#[derive(Debug, Deserialize)]
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
            content: Content::Dir(BTreeMap::new()),
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
    pub fn children(&self) -> Option<&BTreeMap<String, TreeNode>> {
        match &self.content {
            Content::Dir(c) => Some(c),
            Content::Value(_) => None,
        }
    }

    /// Children of a directory, mutably.
    pub fn children_mut(&mut self) -> Option<&mut BTreeMap<String, TreeNode>> {
        match &mut self.content {
            Content::Dir(c) => Some(c),
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
    fn drop(&mut self) {
        let Content::Dir(children) = &mut self.content else {
            return;
        };
        if children
            .values()
            .all(|c| c.children().is_none_or(|m| m.is_empty()))
        {
            return;
        }
        let mut stack = vec![std::mem::take(children)];
        while let Some(map) = stack.pop() {
            for (_, mut child) in map {
                if let Content::Dir(grand) = &mut child.content {
                    if !grand.is_empty() {
                        stack.push(std::mem::take(grand));
                    }
                }
            }
        }
    }
}

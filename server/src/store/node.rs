//! The tree: keys and directories, and how they render as wire nodes.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::time::Timestamp;

/// What a node holds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Content {
    /// A key's value.
    Value(String),
    /// A directory's children by name (sorted, so listings are deterministic).
    Dir(BTreeMap<String, TreeNode>),
}

/// A node of the tree.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
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

/// How much of a directory to render.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Depth {
    /// The node alone (events, prevNode).
    Node,
    /// Direct children, themselves without children (a plain GET).
    Children,
    /// The whole subtree (a recursive GET).
    Subtree,
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
    pub fn key(index: u64, value: String, expire_at: Option<Timestamp>) -> TreeNode {
        TreeNode {
            created: index,
            modified: index,
            expire_at,
            content: Content::Value(value),
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

    /// Renders the node at `key` as the wire shows it.
    pub fn render(&self, key: &str, depth: Depth, now: Timestamp) -> common::Node {
        let mut n = common::Node {
            key: key.to_string(),
            dir: self.is_dir(),
            value: self.value().map(str::to_string),
            expiration: self.expire_at.map(|t| t.to_rfc3339()),
            ttl: self.expire_at.map(|t| t.ttl_from(now)).unwrap_or(0),
            modified_index: self.modified,
            created_index: self.created,
            ..common::Node::default()
        };
        if let (Some(children), true) = (self.children(), depth != Depth::Node) {
            let inner = if depth == Depth::Subtree {
                Depth::Subtree
            } else {
                Depth::Node
            };
            let listed: Vec<common::Node> = children
                .iter()
                .filter(|(name, _)| !is_hidden_name(name))
                .map(|(name, child)| child.render(&super::path::join(key, name), inner, now))
                .collect();
            if !listed.is_empty() {
                n.nodes = Some(listed);
            }
        }
        n
    }

    /// Every (expiry, key) at or below this node, for keeping the expiry index exact.
    pub fn collect_ttls(&self, key: &str, out: &mut Vec<(Timestamp, String)>) {
        if let Some(t) = self.expire_at {
            out.push((t, key.to_string()));
        }
        if let Some(children) = self.children() {
            for (name, child) in children {
                child.collect_ttls(&super::path::join(key, name), out);
            }
        }
    }
}

//! Walking and changing the tree: lookups, ancestor checks, node placement and removal
//! with the TTL index and the node counts kept exact, and the recording of events into the
//! history.

use std::sync::Arc;

use common::{ErrorCode, EtcdError};

use super::node::TreeNode;
use super::path;
use super::{path_or_root, Action, Event, Store};
use crate::time::Timestamp;

/// How many keys and directories the tree holds, the root excepted (hidden ones included).
/// Kept by [`Store::put_node`] and [`Store::remove_node`], the only two places a node enters
/// or leaves the tree, so that reading it (for `/metrics`) is O(1) instead of a walk.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct NodeCounts {
    /// Keys (nodes with a value).
    pub keys: u64,
    /// Directories.
    pub dirs: u64,
}

impl NodeCounts {
    /// The nodes of the subtree at `node`, itself included, by walking it (explicit stack:
    /// trees may be thousands of levels deep).
    pub(super) fn of(node: &TreeNode) -> NodeCounts {
        let mut n = NodeCounts::default();
        let mut stack = vec![node];
        while let Some(node) = stack.pop() {
            match node.children() {
                Some(children) => {
                    n.dirs += 1;
                    stack.extend(children.values());
                }
                None => n.keys += 1,
            }
        }
        n
    }

    /// The nodes of a tree whose root is `root` (the root itself not counted).
    pub(super) fn of_tree(root: &TreeNode) -> NodeCounts {
        let mut n = NodeCounts::of(root);
        n.dirs -= u64::from(root.is_dir());
        n
    }

    fn add(&mut self, other: NodeCounts) {
        self.keys += other.keys;
        self.dirs += other.dirs;
    }

    fn sub(&mut self, other: NodeCounts) {
        self.keys -= other.keys;
        self.dirs -= other.dirs;
    }
}

impl Store {
    /// The node at `key`; 100 naming the first missing prefix, 104 naming a key in the way.
    pub(super) fn lookup(&self, key: &str) -> Result<&TreeNode, EtcdError> {
        let mut node = &self.root;
        let mut walked = String::new();
        for seg in path::segments(key) {
            let Some(children) = node.children() else {
                return Err(self.err(ErrorCode::NotDir, path_or_root(&walked)));
            };
            walked.push('/');
            walked.push_str(seg);
            node = children
                .get(seg)
                .ok_or_else(|| self.err(ErrorCode::KeyNotFound, walked.clone()))?;
        }
        Ok(node)
    }

    pub(super) fn lookup_mut(&mut self, key: &str) -> Option<&mut TreeNode> {
        let mut node = &mut self.root;
        for seg in path::segments(key) {
            node = node.children_mut()?.get_mut(seg)?;
        }
        Some(node)
    }

    /// Checks that every ancestor of `key` is a directory or missing (104 otherwise).
    pub(super) fn check_ancestors(&self, key: &str) -> Result<(), EtcdError> {
        let (parent, _) = path::split_parent(key);
        let mut node = &self.root;
        let mut walked = String::new();
        for seg in path::segments(parent) {
            let Some(children) = node.children() else {
                return Err(self.err(ErrorCode::NotDir, path_or_root(&walked)));
            };
            walked.push('/');
            walked.push_str(seg);
            match children.get(seg) {
                Some(n) => node = n,
                None => return Ok(()),
            }
        }
        if node.is_dir() {
            Ok(())
        } else {
            Err(self.err(ErrorCode::NotDir, path_or_root(&walked)))
        }
    }

    /// Puts `node` at `key`, creating missing ancestors with `index` (ancestors were checked
    /// by [`Self::check_ancestors`]). Returns the node it replaced.
    pub(super) fn put_node(&mut self, key: &str, node: TreeNode, index: u64) -> Option<TreeNode> {
        let (parent, name) = path::split_parent(key);
        let mut cur = &mut self.root;
        for seg in path::segments(parent) {
            let children = cur
                .children_mut()
                .expect("ancestors were checked to be dirs");
            cur = children.entry(seg.into()).or_insert_with(|| {
                self.counts.dirs += 1;
                TreeNode::dir(index, None)
            });
        }
        let new_expiry = node.expire_at();
        let added = NodeCounts::of(&node);
        let children = cur.children_mut().expect("parent was checked to be a dir");
        let old = children.insert(name.into(), node);
        self.counts.add(added);
        // Forget the replaced subtree's TTLs before recording the new one: they may be equal.
        if let Some(old) = &old {
            self.counts.sub(NodeCounts::of(old));
            self.forget_ttls(key, old);
        }
        if let Some(t) = new_expiry {
            self.ttls.insert((t, key.to_string()));
        }
        old
    }

    /// Removes the node at `key` (which exists) with every TTL below it.
    pub(super) fn remove_node(&mut self, key: &str) -> Option<TreeNode> {
        let (parent, name) = path::split_parent(key);
        let old = self.lookup_mut(parent)?.children_mut()?.remove(name)?;
        // A walk of the removed subtree, like the TTL walk below: a recursive delete is rare,
        // and counting here keeps every read of the figure O(1).
        self.counts.sub(NodeCounts::of(&old));
        self.forget_ttls(key, &old);
        Some(old)
    }

    pub(super) fn forget_ttls(&mut self, key: &str, node: &TreeNode) {
        if self.ttls.is_empty() {
            return;
        }
        let mut gone = Vec::new();
        node.collect_ttls(key, &mut gone);
        for entry in gone {
            self.ttls.remove(&entry);
        }
    }

    /// Rewrites the node at `key` (which exists) as a write at `index` does (see
    /// [`TreeNode::rewrite`]), keeping the expiry index exact.
    pub(super) fn rewrite_node(
        &mut self,
        key: &str,
        value: Option<&str>,
        index: u64,
        expire_at: Option<Timestamp>,
    ) {
        let node = self.lookup_mut(key).expect("the caller looked it up");
        let old = node.expire_at();
        node.rewrite(value, index, expire_at);
        if old == expire_at {
            return;
        }
        if let Some(t) = old {
            self.ttls.remove(&(t, key.to_string()));
        }
        if let Some(t) = expire_at {
            self.ttls.insert((t, key.to_string()));
        }
    }

    pub(super) fn record(
        &mut self,
        action: Action,
        mut node: common::Node,
        prev_node: Option<common::Node>,
        refresh: bool,
    ) -> Arc<Event> {
        if let Some(prev) = &prev_node {
            if !prev.dir {
                node.prev_value = prev.value.clone();
            }
        }
        // One allocation shared by the caller, the watchers and the history: a write's
        // strings are never copied for them (at replay, nobody reads the caller's copy).
        let ev = Arc::new(Event {
            action,
            node,
            prev_node,
            index: self.index,
            refresh,
            rendered: Default::default(),
        });
        self.history.push(ev.clone());
        ev
    }
}

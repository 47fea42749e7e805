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
//!
//! Nodes are compact, since a store holds millions of them: a key is one allocation (its
//! [`Stamps`] and value behind a thin pointer, shared with the read views that copy it out),
//! a map entry is a name of up to 24 bytes kept inline and a 16-byte node, and an expiry is
//! one word. A key's allocation is never changed in place: a write that changes a key builds
//! a new one, so a view or a snapshot holding the old one keeps what it read.

use std::sync::Arc;

use compact_str::CompactString;
use triomphe::ThinArc;

use crate::time::Timestamp;

/// A child's name: inline up to 24 bytes, on the heap beyond.
pub type Name = CompactString;

/// A directory's children by name: sorted, so listings and snapshots are deterministic.
pub type Children = imbl::OrdMap<Name, TreeNode>;

/// The stored expiry of a node that never expires. No clock gives it: times are nanoseconds
/// since 1970 and saturate at `i64::MAX`; an expiry read from elsewhere at exactly this
/// instant (year 1677) is kept one nanosecond later (see [`Stamps::new`]).
const NEVER: i64 = i64::MIN;

/// A node's indexes and expiry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Stamps {
    /// Index of the write that created it.
    pub created: u64,
    /// Index of the last write to it.
    pub modified: u64,
    /// When it expires, or [`NEVER`]: one word where an `Option` takes two.
    expiry: i64,
}

impl Stamps {
    /// Stamps of a node created and last written at these indexes, expiring at `expire_at`.
    pub fn new(created: u64, modified: u64, expire_at: Option<Timestamp>) -> Stamps {
        Stamps {
            created,
            modified,
            expiry: match expire_at {
                None => NEVER,
                Some(t) => t.0.max(NEVER + 1),
            },
        }
    }

    /// When it expires.
    pub fn expire_at(&self) -> Option<Timestamp> {
        (self.expiry != NEVER).then_some(Timestamp(self.expiry))
    }
}

/// A key: its stamps and value in one allocation, shared by clones.
#[derive(Clone)]
pub struct Leaf(ThinArc<Stamps, u8>);

impl Leaf {
    fn new(stamps: Stamps, value: &str) -> Leaf {
        Leaf(ThinArc::from_header_and_slice(stamps, value.as_bytes()))
    }

    /// Its indexes and expiry.
    pub fn stamps(&self) -> &Stamps {
        &self.0.header.header
    }

    /// Its value.
    pub fn value(&self) -> &str {
        std::str::from_utf8(&self.0.slice).expect("a leaf is only built from a str")
    }

    /// The value's bytes, unchecked: what a snapshot writes (checking it as UTF-8 again took
    /// 10-15% of encoding a snapshot).
    pub fn value_bytes(&self) -> &[u8] {
        &self.0.slice
    }
}

impl std::fmt::Debug for Leaf {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Leaf")
            .field("stamps", self.stamps())
            .field("value", &self.value())
            .finish()
    }
}

/// A directory: its stamps and children.
#[derive(Debug, Clone)]
pub struct Dir {
    stamps: Stamps,
    children: Children,
}

/// A node of the tree. Clones share everything below them.
#[derive(Debug, Clone)]
pub enum TreeNode {
    /// A key.
    Key(Leaf),
    /// A directory. The `Arc` of its own (the map's B+tree nodes are shared already) tells a
    /// drop whether anyone else, such as a snapshot being written, still holds this
    /// directory: only one nobody else holds is unlinked (see `Drop`).
    Dir(Arc<Dir>),
}

/// Hidden nodes (name starting with `_`) are left out of listings.
pub fn is_hidden_name(name: &str) -> bool {
    name.starts_with('_')
}

impl TreeNode {
    /// A new empty directory.
    pub fn dir(index: u64, expire_at: Option<Timestamp>) -> TreeNode {
        TreeNode::dir_with(Stamps::new(index, index, expire_at), Children::new())
    }

    /// A directory with these stamps and children.
    pub fn dir_with(stamps: Stamps, children: Children) -> TreeNode {
        TreeNode::Dir(Arc::new(Dir { stamps, children }))
    }

    /// A new key.
    pub fn key(index: u64, value: &str, expire_at: Option<Timestamp>) -> TreeNode {
        TreeNode::key_with(Stamps::new(index, index, expire_at), value)
    }

    /// A key with these stamps and value.
    pub fn key_with(stamps: Stamps, value: &str) -> TreeNode {
        TreeNode::Key(Leaf::new(stamps, value))
    }

    /// Its indexes and expiry.
    pub fn stamps(&self) -> &Stamps {
        match self {
            TreeNode::Key(leaf) => leaf.stamps(),
            TreeNode::Dir(dir) => &dir.stamps,
        }
    }

    /// Index of the write that created it.
    pub fn created(&self) -> u64 {
        self.stamps().created
    }

    /// Index of the last write to it.
    pub fn modified(&self) -> u64 {
        self.stamps().modified
    }

    /// When it expires.
    pub fn expire_at(&self) -> Option<Timestamp> {
        self.stamps().expire_at()
    }

    /// Whether it is a directory.
    pub fn is_dir(&self) -> bool {
        matches!(self, TreeNode::Dir(_))
    }

    /// The value of a key.
    pub fn value(&self) -> Option<&str> {
        self.leaf().map(Leaf::value)
    }

    /// The key itself, to share its value without a copy.
    pub fn leaf(&self) -> Option<&Leaf> {
        match self {
            TreeNode::Key(leaf) => Some(leaf),
            TreeNode::Dir(_) => None,
        }
    }

    /// Children of a directory.
    pub fn children(&self) -> Option<&Children> {
        match self {
            TreeNode::Dir(dir) => Some(&dir.children),
            TreeNode::Key(_) => None,
        }
    }

    /// Children of a directory, mutably: for writes only, since while a clone of this
    /// directory is alive (a snapshot being written) it copies the map's root first.
    pub fn children_mut(&mut self) -> Option<&mut Children> {
        match self {
            TreeNode::Dir(dir) => Some(&mut Arc::make_mut(dir).children),
            TreeNode::Key(_) => None,
        }
    }

    /// Rewrites it as a write at `index` does: a key takes `value` (or keeps its own, for
    /// `None`), `index` as its modified index and `expire_at`, all in one new allocation (keys
    /// are never changed in place); a directory takes only the expiry (etcd keeps a
    /// directory's own index on a TTL update).
    pub fn rewrite(&mut self, value: Option<&str>, index: u64, expire_at: Option<Timestamp>) {
        match self {
            TreeNode::Key(leaf) => {
                let stamps = Stamps::new(leaf.stamps().created, index, expire_at);
                *leaf = Leaf::new(stamps, value.unwrap_or(leaf.value()));
            }
            TreeNode::Dir(dir) => {
                let dir = Arc::make_mut(dir);
                dir.stamps = Stamps::new(dir.stamps.created, dir.stamps.modified, expire_at);
            }
        }
    }

    /// The node alone at `key`, as events and `prevNode` show it (never with children).
    pub fn render(&self, key: &str, now: Timestamp) -> common::Node {
        let expire_at = self.expire_at();
        common::Node {
            key: key.to_string(),
            dir: self.is_dir(),
            value: self.value().map(str::to_string),
            expiration: expire_at.map(|t| t.to_rfc3339()),
            ttl: expire_at.map(|t| t.ttl_from(now)).unwrap_or(0),
            modified_index: self.modified(),
            created_index: self.created(),
            ..common::Node::default()
        }
    }

    /// Every (expiry, key) at or below this node (at `key`), for keeping the expiry index
    /// exact. Iterative: the depth is the client's.
    pub fn collect_ttls(&self, key: &str, out: &mut Vec<(Timestamp, String)>) {
        let mut stack: Vec<(String, &TreeNode)> = vec![(key.to_string(), self)];
        while let Some((key, node)) = stack.pop() {
            if let Some(t) = node.expire_at() {
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
        let TreeNode::Dir(dir) = self else {
            return;
        };
        let Some(dir) = Arc::get_mut(dir) else {
            return;
        };
        let mut stack = Vec::new();
        push_subdirectories(&dir.children, &mut stack);
        if stack.is_empty() {
            return;
        }
        // This map goes while its child directories are held here, so its drop stops there.
        drop(std::mem::take(&mut dir.children));
        while let Some(shared) = stack.pop() {
            let Ok(dir) = Arc::try_unwrap(shared) else {
                // Held elsewhere too: its last holder unlinks it.
                continue;
            };
            push_subdirectories(&dir.children, &mut stack);
            drop(dir);
        }
    }
}

/// Pushes one more reference to each non-empty directory among `children` (whose drop could
/// go deeper) onto `stack`.
fn push_subdirectories(children: &Children, stack: &mut Vec<Arc<Dir>>) {
    for child in children.values() {
        if let TreeNode::Dir(grand) = child {
            if !grand.children.is_empty() {
                stack.push(grand.clone());
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nodes_stay_compact() {
        // A map entry is a name and a node: what a million keys pay in the B+tree's leaves.
        assert_eq!(std::mem::size_of::<TreeNode>(), 16);
        assert_eq!(std::mem::size_of::<Name>(), 24);
        assert_eq!(std::mem::size_of::<Stamps>(), 24);
    }

    #[test]
    fn an_expiry_survives_the_one_word_encoding() {
        for t in [None, Some(0), Some(-1), Some(i64::MAX), Some(i64::MIN + 1)] {
            let t = t.map(Timestamp);
            assert_eq!(Stamps::new(1, 2, t).expire_at(), t);
        }
        assert_eq!(
            Stamps::new(1, 2, Some(Timestamp(i64::MIN))).expire_at(),
            Some(Timestamp(i64::MIN + 1))
        );
    }

    #[test]
    fn a_rewritten_key_leaves_its_clones_as_they_were() {
        let mut node = TreeNode::key(3, "old", None);
        let seen = node.clone();
        node.rewrite(Some("new"), 5, Some(Timestamp(7)));
        assert_eq!(
            (seen.value(), seen.modified(), seen.expire_at()),
            (Some("old"), 3, None)
        );
        assert_eq!(
            (
                node.value(),
                node.created(),
                node.modified(),
                node.expire_at()
            ),
            (Some("new"), 3, 5, Some(Timestamp(7)))
        );
        node.rewrite(None, 6, None);
        assert_eq!(
            (node.value(), node.modified(), node.expire_at()),
            (Some("new"), 6, None)
        );
        let mut dir = TreeNode::dir(2, None);
        dir.rewrite(None, 9, Some(Timestamp(7)));
        assert_eq!((dir.modified(), dir.expire_at()), (2, Some(Timestamp(7))));
    }
}

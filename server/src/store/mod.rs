//! The v2 store: a pure, deterministic state machine over a tree of keys and directories.
//!
//! No I/O, no clock, no raft: time arrives inside commands (or as `now` for reads), so every
//! replica applying the same log reaches the same tree, index, events and history.

mod event;
mod frozen;
mod history;
mod node;
pub mod path;
mod snapshot;
mod stats;
mod view;

use std::collections::BTreeSet;

use common::{ErrorCode, EtcdError};

pub use event::{Action, Event};
pub use frozen::FrozenStore;
pub use history::MAX_HISTORY_BYTES;
pub use path::KeyPath;
pub use snapshot::FORMAT as SNAPSHOT_FORMAT;
pub use stats::WriteStats;
pub use view::{DetachedRead, Listing, ReadView};

use crate::command::KeyCommand;
use crate::time::Timestamp;
use history::History;
use node::TreeNode;

/// Default number of events kept for watchers (etcd's 1000).
pub const DEFAULT_HISTORY_SIZE: usize = 1000;

/// The key space, its index, TTLs and recent events.
#[derive(Debug)]
pub struct Store {
    root: TreeNode,
    index: u64,
    /// Every node with a TTL, by expiry then key: the next expiry is the first entry.
    ttls: BTreeSet<(Timestamp, String)>,
    history: History,
    stats: WriteStats,
}

/// A snapshot that cannot be restored.
#[derive(Debug)]
pub struct RestoreError(String);

impl std::fmt::Display for RestoreError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for RestoreError {}

impl RestoreError {
    /// An error saying `why`.
    pub fn new(why: impl Into<String>) -> RestoreError {
        RestoreError(why.into())
    }
}

/// Which counter a write's outcome goes to.
#[derive(Clone, Copy)]
enum Kind {
    Set,
    Create,
    Update,
    Cas,
    Delete,
    Cad,
}

impl Store {
    /// An empty store keeping `history_size` events within [`MAX_HISTORY_BYTES`].
    pub fn new(history_size: usize) -> Store {
        Store::with_history_limits(history_size, MAX_HISTORY_BYTES)
    }

    /// An empty store keeping `history_size` events within `history_bytes`.
    pub fn with_history_limits(history_size: usize, history_bytes: usize) -> Store {
        Store {
            root: TreeNode::dir(0, None),
            index: 0,
            ttls: BTreeSet::new(),
            history: History::with_limits(history_size, history_bytes),
            stats: WriteStats::default(),
        }
    }

    /// Current etcd index.
    pub fn index(&self) -> u64 {
        self.index
    }

    /// Write counters.
    pub fn stats(&self) -> &WriteStats {
        &self.stats
    }

    /// Earliest expiration among nodes with a TTL.
    pub fn next_expiration(&self) -> Option<Timestamp> {
        self.ttls.first().map(|(t, _)| *t)
    }

    fn err(&self, code: ErrorCode, cause: impl Into<String>) -> EtcdError {
        EtcdError::new(code, cause, self.index)
    }

    /// Applies one committed command. Failures change nothing but the fail counters.
    pub fn apply(&mut self, cmd: &KeyCommand) -> Result<Vec<Event>, EtcdError> {
        let (kind, res) = match cmd {
            KeyCommand::Set {
                key,
                value,
                dir,
                expire_at,
                refresh,
                now,
            } => (
                Kind::Set,
                self.set(key, value, *dir, *expire_at, *refresh, *now),
            ),
            KeyCommand::Create {
                key,
                value,
                dir,
                expire_at,
                in_order,
                now,
            } => (
                Kind::Create,
                self.create(key, value, *dir, *expire_at, *in_order, *now),
            ),
            KeyCommand::Update {
                key,
                value,
                expire_at,
                refresh,
                now,
            } => (
                Kind::Update,
                self.update(key, value, *expire_at, *refresh, *now),
            ),
            KeyCommand::CompareAndSwap {
                key,
                value,
                prev_value,
                prev_index,
                expire_at,
                refresh,
                now,
            } => (
                Kind::Cas,
                self.compare_and_swap(
                    key,
                    value,
                    prev_value.as_deref(),
                    *prev_index,
                    *expire_at,
                    *refresh,
                    *now,
                ),
            ),
            KeyCommand::Delete {
                key,
                dir,
                recursive,
                now,
            } => (Kind::Delete, self.delete(key, *dir, *recursive, *now)),
            KeyCommand::CompareAndDelete {
                key,
                prev_value,
                prev_index,
                now,
            } => (
                Kind::Cad,
                self.compare_and_delete(key, prev_value.as_deref(), *prev_index, *now),
            ),
            KeyCommand::Expire { now } => return Ok(self.expire(*now)),
        };
        let s = &mut self.stats;
        let (ok, fail) = match kind {
            Kind::Set => (&mut s.sets_success, &mut s.sets_fail),
            Kind::Create => (&mut s.create_success, &mut s.create_fail),
            Kind::Update => (&mut s.update_success, &mut s.update_fail),
            Kind::Cas => (
                &mut s.compare_and_swap_success,
                &mut s.compare_and_swap_fail,
            ),
            Kind::Delete => (&mut s.delete_success, &mut s.delete_fail),
            Kind::Cad => (
                &mut s.compare_and_delete_success,
                &mut s.compare_and_delete_fail,
            ),
        };
        match res {
            Ok(ev) => {
                *ok += 1;
                Ok(vec![ev])
            }
            Err(e) => {
                *fail += 1;
                Err(e)
            }
        }
    }

    /// Reads a key or directory; `now` only shapes `ttl`. Children always come sorted.
    ///
    /// Builds a nested `common::Node`, whose serialisation and drop recurse once per level:
    /// for answers to clients use [`Store::read`], which renders without recursion.
    pub fn get(&self, key: &KeyPath, recursive: bool, now: Timestamp) -> Result<Event, EtcdError> {
        let view = self.read(key, recursive, now)?;
        Ok(Event {
            action: Action::Get,
            node: view.to_node(),
            prev_node: None,
            index: self.index,
            refresh: false,
        })
    }

    /// Copies out what a GET answers (children always sorted), cheaply: values are shared,
    /// nothing is rendered. Render it with [`ReadView::to_json`] after releasing the lock.
    pub fn read(
        &self,
        key: &KeyPath,
        recursive: bool,
        now: Timestamp,
    ) -> Result<ReadView, EtcdError> {
        Ok(self.detach(key, recursive, now)?.view())
    }

    /// What [`Store::read`] answers, detached in O(1) (the tree is persistent): under the
    /// state lock only the lookup runs; the listing is copied by [`DetachedRead::view`] after
    /// the lock is released, so a large read never holds up the raft loop's writes.
    pub fn detach(
        &self,
        key: &KeyPath,
        recursive: bool,
        now: Timestamp,
    ) -> Result<DetachedRead, EtcdError> {
        let listing = if recursive {
            Listing::Subtree
        } else {
            Listing::Children
        };
        Ok(DetachedRead::new(
            self.lookup(key)?.clone(),
            key,
            listing,
            self.index,
            now,
        ))
    }

    /// Bytes the watch history holds (bounded by its byte limit).
    pub fn history_bytes(&self) -> usize {
        self.history.bytes()
    }

    /// The first event at or after `since` matching a watch on `key`; 401 when `since` has
    /// left the history.
    pub fn history_since(
        &self,
        key: &KeyPath,
        recursive: bool,
        since: u64,
    ) -> Result<Option<Event>, EtcdError> {
        self.history.scan(key, recursive, since, self.index)
    }

    // ----- tree walking -----

    /// The node at `key`; 100 naming the first missing prefix, 104 naming a key in the way.
    fn lookup(&self, key: &str) -> Result<&TreeNode, EtcdError> {
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

    fn lookup_mut(&mut self, key: &str) -> Option<&mut TreeNode> {
        let mut node = &mut self.root;
        for seg in path::segments(key) {
            node = node.children_mut()?.get_mut(seg)?;
        }
        Some(node)
    }

    /// Checks that every ancestor of `key` is a directory or missing (104 otherwise).
    fn check_ancestors(&self, key: &str) -> Result<(), EtcdError> {
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
    fn put_node(&mut self, key: &str, node: TreeNode, index: u64) -> Option<TreeNode> {
        let (parent, name) = path::split_parent(key);
        let mut cur = &mut self.root;
        for seg in path::segments(parent) {
            let children = cur
                .children_mut()
                .expect("ancestors were checked to be dirs");
            cur = children
                .entry(seg.to_string())
                .or_insert_with(|| TreeNode::dir(index, None));
        }
        let new_expiry = node.expire_at;
        let children = cur.children_mut().expect("parent was checked to be a dir");
        let old = children.insert(name.to_string(), node);
        // Forget the replaced subtree's TTLs before recording the new one: they may be equal.
        if let Some(old) = &old {
            self.forget_ttls(key, old);
        }
        if let Some(t) = new_expiry {
            self.ttls.insert((t, key.to_string()));
        }
        old
    }

    /// Removes the node at `key` (which exists) with every TTL below it.
    fn remove_node(&mut self, key: &str) -> Option<TreeNode> {
        let (parent, name) = path::split_parent(key);
        let old = self.lookup_mut(parent)?.children_mut()?.remove(name)?;
        self.forget_ttls(key, &old);
        Some(old)
    }

    fn forget_ttls(&mut self, key: &str, node: &TreeNode) {
        if self.ttls.is_empty() {
            return;
        }
        let mut gone = Vec::new();
        node.collect_ttls(key, &mut gone);
        for entry in gone {
            self.ttls.remove(&entry);
        }
    }

    /// Changes a node's expiry, keeping the expiry index exact.
    fn set_expiry(&mut self, key: &str, expire_at: Option<Timestamp>) {
        let Some(node) = self.lookup_mut(key) else {
            return;
        };
        let old = std::mem::replace(&mut node.expire_at, expire_at);
        if let Some(t) = old {
            self.ttls.remove(&(t, key.to_string()));
        }
        if let Some(t) = expire_at {
            self.ttls.insert((t, key.to_string()));
        }
    }

    fn record(
        &mut self,
        action: Action,
        mut node: common::Node,
        prev_node: Option<common::Node>,
        refresh: bool,
    ) -> Event {
        if let Some(prev) = &prev_node {
            if !prev.dir {
                node.prev_value = prev.value.clone();
            }
        }
        let ev = Event {
            action,
            node,
            prev_node,
            index: self.index,
            refresh,
        };
        self.history.push(ev.clone());
        ev
    }

    // ----- writes -----

    fn set(
        &mut self,
        key: &str,
        value: &str,
        dir: bool,
        expire_at: Option<Timestamp>,
        refresh: bool,
        now: Timestamp,
    ) -> Result<Event, EtcdError> {
        if key == "/" {
            return Err(self.err(ErrorCode::RootReadOnly, "/"));
        }
        self.check_ancestors(key)?;
        // The lookup's error names the first missing prefix, as etcd's does: a refresh of a
        // missing key answers with it.
        let (prev, missing) = match self.lookup(key) {
            Ok(n) => (Some(n), None),
            Err(e) if e.code == ErrorCode::KeyNotFound => (None, Some(e)),
            Err(e) => return Err(e),
        };
        if prev.is_some_and(|n| n.is_dir()) {
            return Err(self.err(ErrorCode::NotFile, key));
        }
        let value: std::sync::Arc<str> = if refresh {
            match (prev, missing) {
                (Some(p), _) => p.shared_value().cloned().unwrap_or_else(|| "".into()),
                (None, missing) => {
                    return Err(missing.unwrap_or_else(|| self.err(ErrorCode::KeyNotFound, key)))
                }
            }
        } else {
            value.into()
        };
        let prev_view = prev.map(|p| p.render(key, now));
        self.index += 1;
        let index = self.index;
        let node = if dir && !refresh {
            TreeNode::dir(index, expire_at)
        } else {
            TreeNode::key(index, value, expire_at)
        };
        let view = node.render(key, now);
        self.put_node(key, node, index);
        Ok(self.record(Action::Set, view, prev_view, refresh))
    }

    fn create(
        &mut self,
        key: &str,
        value: &str,
        dir: bool,
        expire_at: Option<Timestamp>,
        in_order: bool,
        now: Timestamp,
    ) -> Result<Event, EtcdError> {
        let key = if in_order {
            // POST: the parent is the named directory (created if missing; the root is fine).
            if key != "/" {
                self.check_ancestors(key)?;
                if let Ok(n) = self.lookup(key) {
                    if !n.is_dir() {
                        return Err(self.err(ErrorCode::NotDir, key));
                    }
                }
            }
            path::join(key, &format!("{:020}", self.index + 1))
        } else {
            if key == "/" {
                return Err(self.err(ErrorCode::RootReadOnly, "/"));
            }
            self.check_ancestors(key)?;
            if self.lookup(key).is_ok() {
                return Err(self.err(ErrorCode::NodeExist, key));
            }
            key.to_string()
        };
        self.index += 1;
        let index = self.index;
        let node = if dir {
            TreeNode::dir(index, expire_at)
        } else {
            TreeNode::key(index, value, expire_at)
        };
        let view = node.render(&key, now);
        self.put_node(&key, node, index);
        Ok(self.record(Action::Create, view, None, false))
    }

    fn update(
        &mut self,
        key: &str,
        value: &str,
        expire_at: Option<Timestamp>,
        refresh: bool,
        now: Timestamp,
    ) -> Result<Event, EtcdError> {
        if key == "/" {
            return Err(self.err(ErrorCode::RootReadOnly, "/"));
        }
        let node = self.lookup(key)?;
        if node.is_dir() && !value.is_empty() && !refresh {
            return Err(self.err(ErrorCode::NotFile, key));
        }
        let prev_view = node.render(key, now);
        let is_dir = node.is_dir();
        self.index += 1;
        let index = self.index;
        self.set_expiry(key, expire_at);
        let node = self.lookup_mut(key).expect("looked up above");
        if is_dir {
            // etcd quirk: a directory's TTL update reports the new index but keeps its own.
            let mut view = node.render(key, now);
            view.modified_index = index;
            return Ok(self.record(Action::Update, view, Some(prev_view), refresh));
        }
        if !refresh {
            node.content = node::Content::Value(value.into());
        }
        node.modified = index;
        let view = node.render(key, now);
        Ok(self.record(Action::Update, view, Some(prev_view), refresh))
    }

    /// The seed's compare-failure cause: both brackets, always.
    fn compare(
        &self,
        node: &TreeNode,
        prev_value: Option<&str>,
        prev_index: u64,
    ) -> Result<(), EtcdError> {
        let current = node.value().unwrap_or("");
        let value_ok = prev_value.is_none_or(|v| v == current);
        let index_ok = prev_index == 0 || prev_index == node.modified;
        if value_ok && index_ok {
            return Ok(());
        }
        Err(self.err(
            ErrorCode::TestFailed,
            format!(
                "[{} != {}] [{} != {}]",
                prev_value.unwrap_or(""),
                current,
                prev_index,
                node.modified
            ),
        ))
    }

    #[allow(clippy::too_many_arguments)] // one per field of KeyCommand::CompareAndSwap
    fn compare_and_swap(
        &mut self,
        key: &str,
        value: &str,
        prev_value: Option<&str>,
        prev_index: u64,
        expire_at: Option<Timestamp>,
        refresh: bool,
        now: Timestamp,
    ) -> Result<Event, EtcdError> {
        if key == "/" {
            return Err(self.err(ErrorCode::RootReadOnly, "/"));
        }
        let node = self.lookup(key)?;
        if node.is_dir() {
            return Err(self.err(ErrorCode::NotFile, key));
        }
        self.compare(node, prev_value, prev_index)?;
        let prev_view = node.render(key, now);
        self.index += 1;
        let index = self.index;
        self.set_expiry(key, expire_at);
        let node = self.lookup_mut(key).expect("looked up above");
        if !refresh {
            node.content = node::Content::Value(value.into());
        }
        node.modified = index;
        let view = node.render(key, now);
        Ok(self.record(Action::CompareAndSwap, view, Some(prev_view), refresh))
    }

    /// The node of a removal event: key, dir, the removal's index, the original createdIndex.
    fn removed_view(key: &str, old: &TreeNode, index: u64) -> common::Node {
        common::Node {
            key: key.to_string(),
            dir: old.is_dir(),
            modified_index: index,
            created_index: old.created,
            ..common::Node::default()
        }
    }

    fn delete(
        &mut self,
        key: &str,
        dir: bool,
        recursive: bool,
        now: Timestamp,
    ) -> Result<Event, EtcdError> {
        if key == "/" {
            return Err(self.err(ErrorCode::RootReadOnly, "/"));
        }
        let node = self.lookup(key)?;
        if let Some(children) = node.children() {
            if !dir && !recursive {
                return Err(self.err(ErrorCode::NotFile, key));
            }
            if !children.is_empty() && !recursive {
                return Err(self.err(ErrorCode::DirNotEmpty, key));
            }
        }
        let prev_view = node.render(key, now);
        self.index += 1;
        let old = self.remove_node(key).expect("looked up above");
        let view = Self::removed_view(key, &old, self.index);
        Ok(self.record(Action::Delete, view, Some(prev_view), false))
    }

    fn compare_and_delete(
        &mut self,
        key: &str,
        prev_value: Option<&str>,
        prev_index: u64,
        now: Timestamp,
    ) -> Result<Event, EtcdError> {
        if key == "/" {
            return Err(self.err(ErrorCode::RootReadOnly, "/"));
        }
        let node = self.lookup(key)?;
        if node.is_dir() {
            return Err(self.err(ErrorCode::NotFile, key));
        }
        self.compare(node, prev_value, prev_index)?;
        let prev_view = node.render(key, now);
        self.index += 1;
        let old = self.remove_node(key).expect("looked up above");
        let view = Self::removed_view(key, &old, self.index);
        Ok(self.record(Action::CompareAndDelete, view, Some(prev_view), false))
    }

    /// Removes every node due at `now`, earliest first, one event (and index) each.
    fn expire(&mut self, now: Timestamp) -> Vec<Event> {
        let mut events = Vec::new();
        while let Some((t, key)) = self.ttls.first().cloned() {
            if t > now {
                break;
            }
            self.ttls.remove(&(t, key.clone()));
            let Ok(node) = self.lookup(&key) else {
                continue;
            };
            let prev_view = node.render(&key, now);
            self.index += 1;
            let Some(old) = self.remove_node(&key) else {
                continue;
            };
            let view = Self::removed_view(&key, &old, self.index);
            self.stats.expire_count += 1;
            events.push(self.record(Action::Expire, view, Some(prev_view), false));
        }
        events
    }

    // ----- snapshots -----

    /// The store as it is now, detached from it for a snapshot written on another thread;
    /// O(1) in the size of the tree (it is shared, see `node`).
    pub fn frozen(&self) -> FrozenStore {
        FrozenStore {
            index: self.index,
            root: self.root.clone(),
            history: self.history.clone(),
            stats: self.stats.clone(),
        }
    }

    /// The whole store as bytes (format [`SNAPSHOT_FORMAT`], flat: see `store::snapshot`):
    /// tree, index, history and counters. Equal stores give equal bytes.
    pub fn save(&self) -> Vec<u8> {
        snapshot::write(self.index, &self.root, self.history.events(), &self.stats)
    }

    /// Rebuilds a store from [`Store::save`] bytes, or from a format-1 snapshot of 0.3.0.
    pub fn restore(bytes: &[u8], history_size: usize) -> Result<Store, RestoreError> {
        let parts = snapshot::read(bytes)?;
        if !parts.root.is_dir() {
            return Err(RestoreError("snapshot root is not a directory".into()));
        }
        let mut ttls = Vec::new();
        parts.root.collect_ttls("/", &mut ttls);
        Ok(Store {
            root: parts.root,
            index: parts.index,
            ttls: ttls.into_iter().collect(),
            history: History::from_events(parts.history, history_size, MAX_HISTORY_BYTES),
            stats: parts.stats,
        })
    }
}

#[cfg(test)]
impl Store {
    /// The tree, index and history as bytes, without the counters (which failures bump).
    fn state_text(&self) -> Vec<u8> {
        let mut text = snapshot::write(
            self.index,
            &self.root,
            self.history.events(),
            &WriteStats::default(),
        );
        text.extend_from_slice(format!("{:?}", self.ttls).as_bytes());
        text
    }
}

fn path_or_root(walked: &str) -> String {
    if walked.is_empty() {
        "/".into()
    } else {
        walked.to_string()
    }
}

#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_deep;

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
mod tree;
mod view;
mod writes;

use std::collections::BTreeSet;
use std::sync::Arc;

use common::{ErrorCode, EtcdError};

pub use event::{Action, Event};
pub use frozen::FrozenStore;
pub use history::MAX_HISTORY_BYTES;
pub use path::KeyPath;
pub use snapshot::FORMAT as SNAPSHOT_FORMAT;
pub use stats::WriteStats;
pub use tree::NodeCounts;
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
    /// Keys and directories in the tree, kept exact by `tree` (never a walk to read).
    counts: NodeCounts,
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
            counts: NodeCounts::default(),
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

    /// How many keys and directories the tree holds (hidden ones included, the root not): O(1).
    pub fn counts(&self) -> NodeCounts {
        self.counts
    }

    /// Earliest expiration among nodes with a TTL.
    pub fn next_expiration(&self) -> Option<Timestamp> {
        self.ttls.first().map(|(t, _)| *t)
    }

    fn err(&self, code: ErrorCode, cause: impl Into<String>) -> EtcdError {
        EtcdError::new(code, cause, self.index)
    }

    /// Applies one committed command. Failures change nothing but the fail counters.
    pub fn apply(&mut self, cmd: &KeyCommand) -> Result<Vec<Arc<Event>>, EtcdError> {
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
            rendered: Default::default(),
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
    ) -> Result<Option<Arc<Event>>, EtcdError> {
        self.history.scan(key, recursive, since, self.index)
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

    /// The whole store as bytes (format [`SNAPSHOT_FORMAT`], binary: see `store::snapshot`):
    /// tree, index, history and counters. Equal stores give equal bytes.
    pub fn save(&self) -> Vec<u8> {
        snapshot::write(self.index, &self.root, self.history.events(), &self.stats)
    }

    /// The store in format 2, as 0.3.1 to 0.3.x wrote it: what tests and fuzz seeds use to
    /// show that such snapshots still load.
    pub fn save_format2(&self) -> Vec<u8> {
        snapshot::write_format2(self.index, &self.root, self.history.events(), &self.stats)
    }

    /// Rebuilds a store from [`Store::save`] bytes, or from a snapshot of an older format
    /// (JSON: format 2 of 0.3.1 to 0.3.x, format 1 of 0.3.0).
    pub fn restore(bytes: &[u8], history_size: usize) -> Result<Store, RestoreError> {
        Store::from_parts(snapshot::read(bytes)?, history_size)
    }

    /// [`Store::restore`] from a reader, decoded as it streams in (a snapshot file).
    pub fn restore_from(r: impl std::io::Read, history_size: usize) -> Result<Store, RestoreError> {
        Store::from_parts(snapshot::read_from(r)?, history_size)
    }

    fn from_parts(parts: snapshot::Parts, history_size: usize) -> Result<Store, RestoreError> {
        if !parts.root.is_dir() {
            return Err(RestoreError("snapshot root is not a directory".into()));
        }
        Ok(Store {
            counts: parts.counts,
            root: parts.root,
            index: parts.index,
            ttls: parts.ttls.into_iter().collect(),
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
#[cfg(test)]
mod tests_refusal;

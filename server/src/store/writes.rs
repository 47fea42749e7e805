//! The write operations of the v2 API (set, create, update, compare-and-swap, delete,
//! compare-and-delete) and TTL expiry, each one index and one event.

use common::{ErrorCode, EtcdError};
use std::borrow::Cow;
use std::sync::Arc;

use super::node::TreeNode;
use super::path;
use super::{Action, Event, Store};
use crate::command::KeyCommand;
use crate::time::Timestamp;

impl Store {
    pub(super) fn set(
        &mut self,
        key: &str,
        value: &str,
        dir: bool,
        expire_at: Option<Timestamp>,
        refresh: bool,
        now: Timestamp,
    ) -> Result<Arc<Event>, EtcdError> {
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
        // A refresh keeps the current value: a copy, since the tree changes below.
        let value: Cow<'_, str> = if refresh {
            match (prev, missing) {
                (Some(p), _) => Cow::Owned(p.value().unwrap_or("").to_string()),
                (None, missing) => {
                    return Err(missing.unwrap_or_else(|| self.err(ErrorCode::KeyNotFound, key)))
                }
            }
        } else {
            Cow::Borrowed(value)
        };
        let prev_view = prev.map(|p| p.render(key, now));
        self.index += 1;
        let index = self.index;
        let node = if dir && !refresh {
            TreeNode::dir(index, expire_at)
        } else {
            TreeNode::key(index, &value, expire_at)
        };
        let view = node.render(key, now);
        self.put_node(key, node, index);
        Ok(self.record(Action::Set, view, prev_view, refresh))
    }

    pub(super) fn create(
        &mut self,
        key: &str,
        value: &str,
        dir: bool,
        expire_at: Option<Timestamp>,
        in_order: bool,
        now: Timestamp,
    ) -> Result<Arc<Event>, EtcdError> {
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
            self.creatable(key)?;
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

    /// Why a create of `key` that must not exist yet (`prevExist=false`) is refused, if it is.
    fn creatable(&self, key: &str) -> Result<(), EtcdError> {
        if key == "/" {
            return Err(self.err(ErrorCode::RootReadOnly, "/"));
        }
        self.check_ancestors(key)?;
        if self.lookup(key).is_ok() {
            return Err(self.err(ErrorCode::NodeExist, key));
        }
        Ok(())
    }

    /// The node an update (`prevExist=true`) of `key` changes, or why it is refused.
    fn updatable(&self, key: &str, value: &str, refresh: bool) -> Result<&TreeNode, EtcdError> {
        if key == "/" {
            return Err(self.err(ErrorCode::RootReadOnly, "/"));
        }
        let node = self.lookup(key)?;
        if node.is_dir() && !value.is_empty() && !refresh {
            return Err(self.err(ErrorCode::NotFile, key));
        }
        Ok(node)
    }

    pub(super) fn update(
        &mut self,
        key: &str,
        value: &str,
        expire_at: Option<Timestamp>,
        refresh: bool,
        now: Timestamp,
    ) -> Result<Arc<Event>, EtcdError> {
        let node = self.updatable(key, value, refresh)?;
        let prev_view = node.render(key, now);
        let is_dir = node.is_dir();
        self.index += 1;
        let index = self.index;
        self.rewrite_node(key, (!refresh).then_some(value), index, expire_at);
        let mut view = self.lookup(key).expect("looked up above").render(key, now);
        if is_dir {
            // etcd quirk: a directory's TTL update reports the new index but keeps its own.
            view.modified_index = index;
        }
        Ok(self.record(Action::Update, view, Some(prev_view), refresh))
    }

    /// The seed's compare-failure cause: both brackets, always.
    pub(super) fn compare(
        &self,
        node: &TreeNode,
        prev_value: Option<&str>,
        prev_index: u64,
    ) -> Result<(), EtcdError> {
        let current = node.value().unwrap_or("");
        let value_ok = prev_value.is_none_or(|v| v == current);
        let index_ok = prev_index == 0 || prev_index == node.modified();
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
                node.modified()
            ),
        ))
    }

    /// The key a compare-and-swap or compare-and-delete names, once it is known to be a file
    /// (not the root, not a directory) that matches; or why it is refused.
    fn compared_file(
        &self,
        key: &str,
        prev_value: Option<&str>,
        prev_index: u64,
    ) -> Result<&TreeNode, EtcdError> {
        if key == "/" {
            return Err(self.err(ErrorCode::RootReadOnly, "/"));
        }
        let node = self.lookup(key)?;
        if node.is_dir() {
            return Err(self.err(ErrorCode::NotFile, key));
        }
        self.compare(node, prev_value, prev_index)?;
        Ok(node)
    }

    #[allow(clippy::too_many_arguments)] // one per field of KeyCommand::CompareAndSwap
    pub(super) fn compare_and_swap(
        &mut self,
        key: &str,
        value: &str,
        prev_value: Option<&str>,
        prev_index: u64,
        expire_at: Option<Timestamp>,
        refresh: bool,
        now: Timestamp,
    ) -> Result<Arc<Event>, EtcdError> {
        let prev_view = self
            .compared_file(key, prev_value, prev_index)?
            .render(key, now);
        self.index += 1;
        let index = self.index;
        self.rewrite_node(key, (!refresh).then_some(value), index, expire_at);
        let view = self.lookup(key).expect("looked up above").render(key, now);
        Ok(self.record(Action::CompareAndSwap, view, Some(prev_view), refresh))
    }

    /// The node of a removal event: key, dir, the removal's index, the original createdIndex.
    pub(super) fn removed_view(key: &str, old: &TreeNode, index: u64) -> common::Node {
        common::Node {
            key: key.to_string(),
            dir: old.is_dir(),
            modified_index: index,
            created_index: old.created(),
            ..common::Node::default()
        }
    }

    /// The node a delete of `key` removes, or why it is refused.
    fn deletable(&self, key: &str, dir: bool, recursive: bool) -> Result<&TreeNode, EtcdError> {
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
        Ok(node)
    }

    /// The error applying `cmd` to this store as it is now would raise, for the writes whose
    /// every refusal comes from a check that only reads the tree (compare-and-swap and -delete,
    /// create with `prevExist=false`, update, delete); `None` when it would apply, and for the
    /// others (set, POST, expiry). The same checks run again when the command applies: this is
    /// only how a member learns, without a log entry, that a write is bound to fail.
    pub fn refusal(&self, cmd: &KeyCommand) -> Option<EtcdError> {
        match cmd {
            KeyCommand::CompareAndSwap {
                key,
                prev_value,
                prev_index,
                ..
            }
            | KeyCommand::CompareAndDelete {
                key,
                prev_value,
                prev_index,
                ..
            } => self
                .compared_file(key, prev_value.as_deref(), *prev_index)
                .err(),
            KeyCommand::Create {
                key,
                in_order: false,
                ..
            } => self.creatable(key).err(),
            KeyCommand::Update {
                key,
                value,
                refresh,
                ..
            } => self.updatable(key, value, *refresh).err(),
            KeyCommand::Delete {
                key,
                dir,
                recursive,
                ..
            } => self.deletable(key, *dir, *recursive).err(),
            KeyCommand::Set { .. } | KeyCommand::Create { .. } | KeyCommand::Expire { .. } => None,
        }
    }

    pub(super) fn delete(
        &mut self,
        key: &str,
        dir: bool,
        recursive: bool,
        now: Timestamp,
    ) -> Result<Arc<Event>, EtcdError> {
        let node = self.deletable(key, dir, recursive)?;
        let prev_view = node.render(key, now);
        self.index += 1;
        let old = self.remove_node(key).expect("looked up above");
        let view = Self::removed_view(key, &old, self.index);
        Ok(self.record(Action::Delete, view, Some(prev_view), false))
    }

    pub(super) fn compare_and_delete(
        &mut self,
        key: &str,
        prev_value: Option<&str>,
        prev_index: u64,
        now: Timestamp,
    ) -> Result<Arc<Event>, EtcdError> {
        let prev_view = self
            .compared_file(key, prev_value, prev_index)?
            .render(key, now);
        self.index += 1;
        let old = self.remove_node(key).expect("looked up above");
        let view = Self::removed_view(key, &old, self.index);
        Ok(self.record(Action::CompareAndDelete, view, Some(prev_view), false))
    }

    /// Removes every node due at `now`, earliest first, one event (and index) each.
    pub(super) fn expire(&mut self, now: Timestamp) -> Vec<Arc<Event>> {
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
}

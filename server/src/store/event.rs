//! Events: what a write did, as clients and watchers see it.

use serde::{Deserialize, Serialize};

use super::path::{is_below, is_hidden_from};

/// The `action` of a response.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Action {
    /// A read.
    Get,
    /// PUT without conditions.
    Set,
    /// PUT prevExist=false, or POST.
    Create,
    /// PUT prevExist=true.
    Update,
    /// PUT with prevValue/prevIndex.
    CompareAndSwap,
    /// DELETE.
    Delete,
    /// DELETE with prevValue/prevIndex.
    CompareAndDelete,
    /// A TTL ran out.
    Expire,
}

impl Action {
    /// The wire name.
    pub fn as_str(&self) -> &'static str {
        match self {
            Action::Get => "get",
            Action::Set => "set",
            Action::Create => "create",
            Action::Update => "update",
            Action::CompareAndSwap => "compareAndSwap",
            Action::Delete => "delete",
            Action::CompareAndDelete => "compareAndDelete",
            Action::Expire => "expire",
        }
    }

    fn removes(&self) -> bool {
        matches!(
            self,
            Action::Delete | Action::CompareAndDelete | Action::Expire
        )
    }
}

/// One operation's result, rendered once (with the command's `now`) and shared by the caller,
/// the watchers and the history.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Event {
    /// What happened.
    pub action: Action,
    /// The node after the operation (removals: the removed node with the new index).
    pub node: common::Node,
    /// The node before the operation.
    pub prev_node: Option<common::Node>,
    /// This event's etcd index (for a get: the current index).
    pub index: u64,
    /// A TTL refresh: kept in history, never shown to watchers.
    pub refresh: bool,
}

impl Event {
    /// The response body.
    pub fn response(&self) -> common::Response {
        common::Response {
            action: self.action.as_str().to_string(),
            node: Some(self.node.clone()),
            prev_node: self.prev_node.clone(),
        }
    }

    /// Whether a watch on `path` (recursive or not) is woken by this event (spec §5.2).
    pub fn matches(&self, path: &str, recursive: bool) -> bool {
        if self.refresh {
            return false;
        }
        let key = self.node.key.as_str();
        if key == path {
            return true;
        }
        if recursive && is_below(key, path) && !is_hidden_from(path, key) {
            return true;
        }
        // Removing a directory removes everything inside: its watchers hear the dir's event.
        self.action.removes() && self.node.dir && is_below(path, key)
    }
}

//! Events: what a write did, as clients and watchers see it.

use std::sync::OnceLock;

use bytes::Bytes;
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
    /// The response body, rendered by the first watcher that needs it and shared by the
    /// rest (a thousand watchers of one key get one rendering).
    #[serde(skip)]
    pub(in crate::store) rendered: RenderedOnce,
}

/// A lazily rendered response body. Not part of what an event is: two events that differ
/// only in whether one was rendered are equal.
#[derive(Debug, Clone, Default)]
pub struct RenderedOnce(OnceLock<Bytes>);

impl PartialEq for RenderedOnce {
    fn eq(&self, _: &RenderedOnce) -> bool {
        true
    }
}

impl Eq for RenderedOnce {}

/// The response body by reference: the JSON of [`common::Response`] without copying the
/// nodes into one.
#[derive(Serialize)]
struct ResponseView<'a> {
    action: &'static str,
    node: &'a common::Node,
    #[serde(rename = "prevNode", skip_serializing_if = "Option::is_none")]
    prev_node: Option<&'a common::Node>,
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

    /// The response body as JSON, with the newline etcd ends it with.
    pub fn json_line(&self) -> String {
        let view = ResponseView {
            action: self.action.as_str(),
            node: &self.node,
            prev_node: self.prev_node.as_ref(),
        };
        let mut body = serde_json::to_string(&view).expect("an event always serialises");
        body.push('\n');
        body
    }

    /// [`Event::json_line`], rendered once per event however many watchers send it.
    pub fn shared_json_line(&self) -> Bytes {
        self.rendered
            .0
            .get_or_init(|| Bytes::from(self.json_line()))
            .clone()
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

#[cfg(test)]
mod tests {
    use super::*;

    fn node(key: &str, value: Option<&str>, index: u64) -> common::Node {
        common::Node {
            key: key.into(),
            value: value.map(Into::into),
            modified_index: index,
            created_index: 1,
            ..common::Node::default()
        }
    }

    /// The borrowed rendering and the shared one are byte for byte the owned response's.
    #[test]
    fn rendered_bodies_are_the_responses_json() {
        let mut overwrite = node("/k", Some("new \"quoted\""), 3);
        overwrite.prev_value = Some("old".into());
        let events = [
            Event {
                action: Action::Set,
                node: node("/k", Some("v"), 2),
                prev_node: None,
                index: 2,
                refresh: false,
                rendered: RenderedOnce::default(),
            },
            Event {
                action: Action::CompareAndSwap,
                node: overwrite,
                prev_node: Some(node("/k", Some("old"), 2)),
                index: 3,
                refresh: false,
                rendered: RenderedOnce::default(),
            },
        ];
        for ev in &events {
            let mut owned = serde_json::to_string(&ev.response()).unwrap();
            owned.push('\n');
            assert_eq!(ev.json_line(), owned);
            assert_eq!(ev.shared_json_line(), owned.as_bytes());
            // Once rendered, the same bytes again, and the event still equals its clone.
            assert_eq!(ev.shared_json_line(), owned.as_bytes());
            let fresh = Event {
                rendered: RenderedOnce::default(),
                ..ev.clone()
            };
            assert_eq!(&fresh, ev);
        }
    }
}

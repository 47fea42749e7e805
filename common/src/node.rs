//! The node object of the v2 API (spec §1.6).

use serde::{Deserialize, Serialize};

fn is_zero(n: &u64) -> bool {
    *n == 0
}

fn is_zero_i64(n: &i64) -> bool {
    *n == 0
}

fn is_false(b: &bool) -> bool {
    !*b
}

/// A key or directory as sent on the wire.
///
/// Field order follows etcd's own output; absent fields are omitted exactly as etcd omits them.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Node {
    /// Full path, e.g. `/foo/bar`; `/` for the root.
    #[serde(default)]
    pub key: String,
    /// The value of a key; `None` for directories and for removal events.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<String>,
    /// The seed README's `prevValue`: the previous value when a key was overwritten or removed.
    #[serde(rename = "prevValue", default, skip_serializing_if = "Option::is_none")]
    pub prev_value: Option<String>,
    /// True for directories; omitted for keys.
    #[serde(default, skip_serializing_if = "is_false")]
    pub dir: bool,
    /// Absolute expiry in RFC 3339 (UTC, nanoseconds trimmed), when the node has a TTL.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expiration: Option<String>,
    /// Whole seconds left before expiry (rounded up); omitted when 0.
    #[serde(default, skip_serializing_if = "is_zero_i64")]
    pub ttl: i64,
    /// Children of a directory, when listed and non-empty.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nodes: Option<Vec<Node>>,
    /// Index of the last change to this node.
    #[serde(rename = "modifiedIndex", default, skip_serializing_if = "is_zero")]
    pub modified_index: u64,
    /// Index of the write that created this node.
    #[serde(rename = "createdIndex", default, skip_serializing_if = "is_zero")]
    pub created_index: u64,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_serialises_like_etcd() {
        let n = Node {
            key: "/message".into(),
            value: Some("Hello world".into()),
            modified_index: 2,
            created_index: 2,
            ..Node::default()
        };
        assert_eq!(
            serde_json::to_string(&n).unwrap(),
            r#"{"key":"/message","value":"Hello world","modifiedIndex":2,"createdIndex":2}"#
        );
    }

    #[test]
    fn root_dir_omits_indexes_and_empty_value_is_kept() {
        let root = Node {
            key: "/".into(),
            dir: true,
            ..Node::default()
        };
        assert_eq!(
            serde_json::to_string(&root).unwrap(),
            r#"{"key":"/","dir":true}"#
        );
        let empty = Node {
            key: "/e".into(),
            value: Some(String::new()),
            modified_index: 1,
            created_index: 1,
            ..Node::default()
        };
        assert!(serde_json::to_string(&empty)
            .unwrap()
            .contains(r#""value":"""#));
    }
}

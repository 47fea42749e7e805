//! `-o json` prints what the Go etcdctl prints: its client library's `Response` re-encoded,
//! not the server's bytes. Scripts written against the Go tool parse these exact fields
//! (`value` always present, `nodes` and `prevNode` as `null`), so we keep its shape and order.

use serde::Serialize;

use common::{Node, Response};

/// The Go client's `Node`, field for field and in its order.
#[derive(Debug, Serialize)]
struct GoNode<'a> {
    key: &'a str,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    dir: bool,
    value: &'a str,
    nodes: Option<Vec<GoNode<'a>>>,
    #[serde(rename = "createdIndex")]
    created_index: u64,
    #[serde(rename = "modifiedIndex")]
    modified_index: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    expiration: Option<&'a str>,
    #[serde(skip_serializing_if = "is_zero")]
    ttl: i64,
}

fn is_zero(n: &i64) -> bool {
    *n == 0
}

/// The Go client's `Response` (its `Index` is not serialised).
#[derive(Debug, Serialize)]
struct GoResponse<'a> {
    action: &'a str,
    node: Option<GoNode<'a>>,
    #[serde(rename = "prevNode")]
    prev_node: Option<GoNode<'a>>,
}

fn go_node(n: &Node) -> GoNode<'_> {
    GoNode {
        // Go decodes etcd 2.x's key-less root as "".
        key: &n.key,
        dir: n.dir,
        value: n.value.as_deref().unwrap_or(""),
        nodes: n
            .nodes
            .as_ref()
            .filter(|c| !c.is_empty())
            .map(|c| c.iter().map(go_node).collect()),
        created_index: n.created_index,
        modified_index: n.modified_index,
        expiration: n.expiration.as_deref(),
        ttl: n.ttl,
    }
}

/// One line of JSON, as the Go etcdctl prints a response.
pub fn to_go_json(r: &Response) -> String {
    let g = GoResponse {
        action: &r.action,
        node: r.node.as_ref().map(go_node),
        prev_node: r.prev_node.as_ref().map(go_node),
    };
    serde_json::to_string(&g).unwrap_or_else(|e| format!("{{\"error\":\"{e}\"}}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_the_go_shape() {
        let r: Response = serde_json::from_str(
            r#"{"action":"set","node":{"key":"/d3","dir":true,"modifiedIndex":6,"createdIndex":6}}"#,
        )
        .expect("parse");
        assert_eq!(
            to_go_json(&r),
            r#"{"action":"set","node":{"key":"/d3","dir":true,"value":"","nodes":null,"createdIndex":6,"modifiedIndex":6},"prevNode":null}"#
        );
    }
}

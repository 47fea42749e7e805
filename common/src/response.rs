//! The body of a successful keys response, and `/version`.

use serde::{Deserialize, Serialize};

use crate::node::Node;

/// `{"action":"set","node":{…},"prevNode":{…}}`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Response {
    /// `get`, `set`, `create`, `update`, `compareAndSwap`, `delete`, `compareAndDelete`, `expire`.
    pub action: String,
    /// The node after the operation (for removals: the removed node with the new index).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub node: Option<Node>,
    /// The node as it was before the operation (etcd 2.x form).
    #[serde(rename = "prevNode", default, skip_serializing_if = "Option::is_none")]
    pub prev_node: Option<Node>,
}

/// The JSON `/version` answers: `{"etcdserver":"0.3.0","etcdcluster":"2.3.0"}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VersionInfo {
    /// Release of the server binary.
    pub etcdserver: String,
    /// The API level of the cluster.
    pub etcdcluster: String,
}

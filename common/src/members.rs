//! The members API objects (`/v2/members`, etcd 2.x).

use serde::{Deserialize, Serialize};

/// One cluster member.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Member {
    /// 16 lowercase hex digits, stable for the member's life.
    pub id: String,
    /// The member's `-name`; empty until it has started.
    #[serde(default)]
    pub name: String,
    /// URLs peers reach it on.
    #[serde(rename = "peerURLs", default)]
    pub peer_urls: Vec<String>,
    /// URLs clients reach it on; empty until it has started.
    #[serde(rename = "clientURLs", default)]
    pub client_urls: Vec<String>,
}

/// `{"members":[…]}`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct MemberList {
    /// Every member of the cluster.
    pub members: Vec<Member>,
}

//! Cluster membership: the replicated member table, what a conf-change entry carries, and the
//! member-facing names (ids in hex, the `/_etcd/machines` registry).

mod members;

use serde::{Deserialize, Serialize};

use crate::time::Timestamp;

pub use members::{id_hex, member_id, parse_id_hex, MemberRecord, Members};

/// What a conf-change entry carries in its `context`, besides raft's own change type and id.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChangeContext {
    /// The member being added (bootstrap `AddNode`, or `AddLearnerNode` for a joiner).
    pub member: Option<MemberRecord>,
    /// The cluster id: only in the bootstrap entry of a new cluster.
    pub cluster_id: Option<u64>,
    /// The proposer's clock; shapes only the `ttl` shown in the registry event.
    pub now: Timestamp,
}

impl ChangeContext {
    /// Bytes for `ConfChange.context`.
    pub fn encode(&self) -> Vec<u8> {
        serde_json::to_vec(self).expect("a ChangeContext always serialises")
    }

    /// Reads [`ChangeContext::encode`] bytes; an empty context (a promotion or a removal
    /// proposed without one) reads as "no member, time 0".
    pub fn decode(bytes: &[u8]) -> Result<ChangeContext, String> {
        if bytes.is_empty() {
            return Ok(ChangeContext {
                member: None,
                cluster_id: None,
                now: Timestamp(0),
            });
        }
        serde_json::from_slice(bytes).map_err(|e| format!("bad conf change context: {e}"))
    }
}

/// The cluster id of a cluster whose first member is `first` and was created at `created`.
pub fn new_cluster_id(first: &str, created: Timestamp) -> u64 {
    member_id(&format!("cluster:{first}:{}", created.0))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn context_round_trips_and_empty_reads_as_none() {
        let c = ChangeContext {
            member: None,
            cluster_id: Some(9),
            now: Timestamp(3),
        };
        assert_eq!(ChangeContext::decode(&c.encode()).unwrap(), c);
        assert!(ChangeContext::decode(b"").unwrap().member.is_none());
        assert!(ChangeContext::decode(b"{").is_err());
    }
}

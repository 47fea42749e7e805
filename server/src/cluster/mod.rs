//! Cluster membership: the replicated member table, what a conf-change entry carries, and the
//! member-facing names (ids in hex, the `/_etcd/machines` registry).

mod error;
mod members;

use protobuf::Message as _;
use raft::eraftpb::{ConfChange, ConfChangeType};
use serde::{Deserialize, Serialize};

use crate::time::Timestamp;

pub use error::MembershipError;
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
    /// A context naming no member (a removal or a promotion), proposed at `now`.
    pub fn at(now: Timestamp) -> ChangeContext {
        ChangeContext {
            member: None,
            cluster_id: None,
            now,
        }
    }

    /// The raft conf change of `change` for `node_id` that carries this context.
    pub fn conf_change(&self, change: ConfChangeType, node_id: u64) -> ConfChange {
        let mut cc = ConfChange::default();
        cc.set_change_type(change);
        cc.node_id = node_id;
        cc.context = self.encode().into();
        cc
    }

    /// [`ChangeContext::conf_change`] encoded as a log entry's data.
    pub fn conf_change_bytes(&self, change: ConfChangeType, node_id: u64) -> Vec<u8> {
        self.conf_change(change, node_id)
            .write_to_bytes()
            .expect("encoding a conf change into memory cannot fail")
    }

    /// Bytes for `ConfChange.context`.
    pub fn encode(&self) -> Vec<u8> {
        serde_json::to_vec(self).expect("a ChangeContext always serialises")
    }

    /// Reads [`ChangeContext::encode`] bytes; an empty context (a promotion or a removal
    /// proposed without one) reads as "no member, time 0".
    pub fn decode(bytes: &[u8]) -> Result<ChangeContext, String> {
        if bytes.is_empty() {
            return Ok(ChangeContext::at(Timestamp(0)));
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

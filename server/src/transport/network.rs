//! The two interfaces between the raft loop and the network, both defined here so neither side
//! reaches into the other: the loop sends through a [`Network`] it is given (the HTTP
//! [`super::Transport`] in the server, an in-memory one in a simulation), and a network hands
//! what it receives and learns to the [`PeerSink`] it was given when it was made.

use std::collections::HashMap;

use raft::eraftpb::Message;

/// What the raft loop needs of the network.
pub trait Network: Send + Sync {
    /// Queues raft messages for their peers; never blocks. Delivery is best effort (raft
    /// resends); a `MsgSnapshot` goes with its snapshot's data. Failures come back through
    /// the [`PeerSink`] as [`PeerReport`]s.
    fn send(&self, msgs: Vec<Message>);
    /// The member table changed: where the peers are now, and who may talk to this member.
    fn set_peers(&self, peers: PeerTable);
}

/// The member table as the network needs it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PeerTable {
    /// Peer URLs of the other members, by raft id (members without one are left out).
    pub addresses: HashMap<u64, String>,
    /// Every member of the table, this one included.
    pub members: Vec<u64>,
    /// Members removed from the cluster, each with the raft index of the conf change that
    /// removed it (when known).
    pub removed: Vec<(u64, Option<u64>)>,
    /// The cluster id (0 while unknown: not set).
    pub cluster_id: u64,
}

/// What a network tells raft besides the messages it delivers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PeerReport {
    /// A message could not be delivered to this peer.
    Unreachable(u64),
    /// A snapshot stream to this peer ended (`ok`: delivered).
    SnapshotSent {
        /// The peer.
        to: u64,
        /// Whether it arrived whole.
        ok: bool,
    },
    /// A peer answered that this member was removed, by the conf change at raft index `at`
    /// (when it said). Only a hint: raft believes it only if its own log holds that removal.
    RemovalHint {
        /// The raft index of the removal, as the peer named it.
        at: Option<u64>,
        /// The peer that said so.
        by: u64,
    },
}

/// Where a network hands what it receives: the raft loop's inbox in the server. Never blocks;
/// what cannot be queued is dropped (raft recovers from lost messages and reports).
pub trait PeerSink: Send + Sync {
    /// A raft message from a peer, already checked.
    fn deliver(&self, msg: Message);
    /// A delivery failure or a peer's claim.
    fn report(&self, report: PeerReport);
}

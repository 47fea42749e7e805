//! Consensus: one thread owns the `raft::RawNode` and everything else talks to it through a
//! [`RaftHandle`]. Proposals, read-index requests and (with clustering) peer messages arrive
//! on one channel; the loop turns them into `Ready`s, persists, sends, applies in log order
//! and answers the waiting callers.

mod node;
mod pending;

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc;
use std::sync::Arc;
use std::time::Duration;

use common::{ErrorCode, EtcdError};
use tokio::sync::oneshot;

use crate::command::Command;
use crate::store::Event;
use crate::watch::SharedState;

pub use node::{start, StartError};

/// How long a write or quorum read may wait for the cluster before it fails with a 300 error.
/// A failure here is honest: the write may still commit later, but it is never reported as done
/// when it was not.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(5);

/// Settings of the raft member.
#[derive(Debug, Clone)]
pub struct RaftConfig {
    /// This member's raft id.
    pub id: u64,
    /// The member's name.
    pub name: String,
    /// Advertised peer URL (`http://127.0.0.1:7001`).
    pub peer_url: String,
    /// Advertised client URL (`http://127.0.0.1:4001`).
    pub client_url: String,
    /// Data directory.
    pub data_dir: std::path::PathBuf,
    /// Take a store snapshot and compact the log every this many applied entries.
    pub snapshot_count: u64,
    /// Length of one raft tick (the heartbeat interval).
    pub tick: Duration,
    /// Ticks without a heartbeat before a follower campaigns.
    pub election_ticks: usize,
    /// Events kept for watchers.
    pub history_size: usize,
}

/// What callers ask of the raft loop.
pub(crate) enum Request {
    Propose {
        cmd: Command,
        reply: oneshot::Sender<Result<Vec<Event>, EtcdError>>,
    },
    ReadIndex {
        reply: oneshot::Sender<Result<(), EtcdError>>,
    },
}

/// Raft progress others may read without asking the loop.
#[derive(Debug, Default)]
pub struct RaftStatus {
    /// Highest committed raft index.
    pub commit_index: AtomicU64,
    /// Highest applied raft index.
    pub applied_index: AtomicU64,
    /// Current term.
    pub term: AtomicU64,
    /// Id of the known leader (0: none).
    pub leader_id: AtomicU64,
    /// Raft messages sent and received (for /v2/stats/self).
    pub sent_messages: AtomicU64,
    /// Raft messages received.
    pub received_messages: AtomicU64,
}

impl RaftStatus {
    /// Whether a leader is known.
    pub fn has_leader(&self) -> bool {
        self.leader_id.load(Ordering::Relaxed) != 0
    }
}

/// A cheap-clone handle on the raft loop.
#[derive(Clone)]
pub struct RaftHandle {
    inbox: mpsc::Sender<Request>,
    /// Progress counters.
    pub status: Arc<RaftStatus>,
    /// The store and watchers the loop applies to.
    pub state: SharedState,
    /// This member's id.
    pub id: u64,
}

fn stopped() -> EtcdError {
    EtcdError::new(ErrorCode::RaftInternal, "server is stopping", 0)
}

fn timed_out() -> EtcdError {
    EtcdError::new(
        ErrorCode::RaftInternal,
        "timed out waiting for the cluster to commit",
        0,
    )
}

impl RaftHandle {
    /// Proposes a command and waits until it is committed, persisted and applied; returns the
    /// store's answer (its events, or the etcd error it raised).
    pub async fn propose(&self, cmd: Command) -> Result<Vec<Event>, EtcdError> {
        let (reply, rx) = oneshot::channel();
        self.inbox
            .send(Request::Propose { cmd, reply })
            .map_err(|_| stopped())?;
        match tokio::time::timeout(REQUEST_TIMEOUT, rx).await {
            Ok(Ok(res)) => res,
            Ok(Err(_)) => Err(stopped()),
            Err(_) => Err(timed_out()),
        }
    }

    /// Waits until this member has applied everything committed before the call, as confirmed
    /// by a quorum (raft ReadIndex): a read after this is linearizable.
    pub async fn read_index(&self) -> Result<(), EtcdError> {
        let (reply, rx) = oneshot::channel();
        self.inbox
            .send(Request::ReadIndex { reply })
            .map_err(|_| stopped())?;
        match tokio::time::timeout(REQUEST_TIMEOUT, rx).await {
            Ok(Ok(res)) => res,
            Ok(Err(_)) => Err(stopped()),
            Err(_) => Err(timed_out()),
        }
    }
}

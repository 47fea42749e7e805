//! Consensus: one thread owns the `raft::RawNode` and everything else talks to it through a
//! [`RaftHandle`]. Proposals, read-index requests and (with clustering) peer messages arrive
//! on one channel; the loop turns them into `Ready`s, persists, sends, applies in log order
//! and answers the waiting callers.

mod exit;
#[cfg(debug_assertions)]
mod failpoint;
mod membership;
mod node;
mod pending;
mod serving;

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc;
use std::sync::Arc;
use std::time::Duration;

use common::{ErrorCode, EtcdError};
use tokio::sync::oneshot;

use raft::eraftpb::{ConfChange, Message};

use crate::command::Command;
use crate::state::SharedState;
use crate::store::Event;

pub use exit::{LoopExit, RaftThread};
pub use membership::is_change_in_progress;
pub use node::{start, StartError};
pub use serving::{CATCH_UP_READ_RETRY, CATCH_UP_WAIT};

/// How long a write or quorum read may wait for the cluster before it fails with a 300 error.
/// A failure here is honest: the write may still commit later, but it is never reported as done
/// when it was not.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(5);

/// Requests queued for the raft loop at most. Beyond it, writes and reads are refused as busy
/// and peer messages dropped (raft resends them), so no flood of requests can grow memory
/// without bound.
pub const INBOX_CAPACITY: usize = 65_536;

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
    /// New cluster or joined one (for a brand-new data dir).
    pub mode: StartMode,
}

/// How a brand-new data dir is initialised (ignored when the data dir already holds a member).
#[derive(Debug, Clone)]
pub enum StartMode {
    /// Start a new one-member cluster.
    NewCluster,
    /// Join an existing cluster that already added this member under `id`.
    Joined {
        /// The id the cluster gave this member.
        id: u64,
    },
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
    /// A membership change; answered once applied (or refused) on this member.
    ConfChange {
        cc: ConfChange,
        reply: oneshot::Sender<Result<Vec<Event>, EtcdError>>,
    },
    /// A raft message from a peer.
    Step(Message),
    /// The transport could not deliver to this peer.
    Unreachable(u64),
    /// A snapshot stream to this peer ended (true: delivered).
    SnapshotSent { to: u64, ok: bool },
    /// A peer answered 410: it believes this member was removed, by the conf change at raft
    /// index `at` (when it said). Only a hint: the loop believes it only if its own log holds
    /// that removal.
    RemovalHint { at: Option<u64>, by: u64 },
    /// The server is stopping: the loop ends after this.
    Shutdown,
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
    /// Messages sent per second, times 1000 (updated every second by the raft loop).
    pub send_rate_milli: AtomicU64,
    /// Messages received per second, times 1000.
    pub receive_rate_milli: AtomicU64,
    /// Whether this member is the leader.
    pub is_leader: std::sync::atomic::AtomicBool,
    /// Whether the store has caught up and may answer reads (see [`serving`]): set once by
    /// the raft loop, never cleared; handlers wait on it through [`RaftHandle::wait_serving`].
    pub serving: tokio::sync::watch::Sender<bool>,
}

impl RaftStatus {
    /// Whether a leader is known.
    pub fn has_leader(&self) -> bool {
        self.leader_id.load(Ordering::Relaxed) != 0
    }

    /// Whether the store has caught up, so local reads answer from a current store.
    pub fn is_serving(&self) -> bool {
        *self.serving.borrow()
    }
}

/// A cheap-clone handle on the raft loop.
#[derive(Clone)]
pub struct RaftHandle {
    inbox: mpsc::Sender<Request>,
    /// Requests sent and not yet taken by the loop (the bound of [`INBOX_CAPACITY`]; a std
    /// `sync_channel` would allocate the whole capacity up front).
    queued: Arc<std::sync::atomic::AtomicUsize>,
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
    /// Queues a request for the loop without blocking. Refuses when [`INBOX_CAPACITY`] requests are already waiting or the loop has stopped.
    fn enqueue(&self, req: Request) -> Result<(), EtcdError> {
        if self.queued.fetch_add(1, Ordering::Relaxed) >= INBOX_CAPACITY {
            self.queued.fetch_sub(1, Ordering::Relaxed);
            return Err(EtcdError::new(
                ErrorCode::RaftInternal,
                "too many requests are waiting for the cluster; retry",
                0,
            ));
        }
        self.inbox.send(req).map_err(|_| {
            self.queued.fetch_sub(1, Ordering::Relaxed);
            stopped()
        })
    }

    /// Sends the request `make` builds around a reply channel and waits, up to
    /// [`REQUEST_TIMEOUT`], for the loop's answer.
    async fn ask<T>(
        &self,
        make: impl FnOnce(oneshot::Sender<Result<T, EtcdError>>) -> Request,
    ) -> Result<T, EtcdError> {
        let (reply, rx) = oneshot::channel();
        self.enqueue(make(reply))?;
        match tokio::time::timeout(REQUEST_TIMEOUT, rx).await {
            Ok(Ok(res)) => res,
            Ok(Err(_)) => Err(stopped()),
            Err(_) => Err(timed_out()),
        }
    }

    /// Proposes a command and waits until it is committed, persisted and applied; returns the
    /// store's answer (its events, or the etcd error it raised).
    pub async fn propose(&self, cmd: Command) -> Result<Vec<Event>, EtcdError> {
        self.ask(|reply| Request::Propose { cmd, reply }).await
    }

    /// Proposes a membership change and waits until it is applied here; returns the registry
    /// events it caused, or why the member table refused it.
    pub async fn change_membership(&self, cc: ConfChange) -> Result<Vec<Event>, EtcdError> {
        self.ask(|reply| Request::ConfChange { cc, reply }).await
    }

    /// Hands a raft message from a peer to the loop.
    pub fn step(&self, msg: Message) {
        self.status
            .received_messages
            .fetch_add(1, Ordering::Relaxed);
        let _ = self.enqueue(Request::Step(msg));
    }

    /// Asks the loop to stop (the transport keeps a handle, so dropping handles is not enough).
    pub fn shutdown(&self) {
        // Counted like any request (the loop uncounts what it takes), but never refused.
        self.queued.fetch_add(1, Ordering::Relaxed);
        let _ = self.inbox.send(Request::Shutdown);
    }

    pub(crate) fn feedback(&self, req: Request) {
        // Raft recovers from a lost report.
        let _ = self.enqueue(req);
    }

    /// Waits until this member has applied everything committed before the call, as confirmed
    /// by a quorum (raft ReadIndex): a read after this is linearizable.
    pub async fn read_index(&self) -> Result<(), EtcdError> {
        self.ask(|reply| Request::ReadIndex { reply }).await
    }

    /// The gate of every handler that answers from the local store: waits, up to
    /// [`CATCH_UP_WAIT`], until the member has caught up (it restarted and is still replaying
    /// its log, or it joined and is still a learner), then fails with 300 "member is
    /// catching up; retry" rather than answer from a store that lacks acknowledged writes.
    pub async fn wait_serving(&self) -> Result<(), EtcdError> {
        if self.status.is_serving() {
            return Ok(());
        }
        let mut rx = self.status.serving.subscribe();
        let caught_up = tokio::time::timeout(CATCH_UP_WAIT, rx.wait_for(|s| *s))
            .await
            .is_ok_and(|r| r.is_ok());
        match caught_up {
            true => Ok(()),
            false => {
                let index = self.state.index();
                Err(EtcdError::new(
                    ErrorCode::RaftInternal,
                    "member is catching up; retry",
                    index,
                ))
            }
        }
    }
}

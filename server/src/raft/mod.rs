//! Consensus: one thread owns the `raft::RawNode` and everything else talks to it through a
//! [`RaftHandle`]. Proposals, read-index requests and peer messages arrive on one channel (the
//! [`Mailbox`]); the loop turns them into `Ready`s, persists, sends, applies in log order and
//! answers the waiting callers.
//!
//! The loop reaches the world through three seams it is given ([`Env`] and its storage): a
//! [`Clock`], a [`Network`] and a [`LogStore`](crate::storage::LogStore). The server gives it the system clock, the HTTP
//! transport and raft-engine; a simulation gives it a manual clock and an in-memory network,
//! and drives the loop's turns itself instead of running its thread.
//!
//! - `start`: recovery and bootstrap, and the thread;
//! - `driver`: the loop and its turn, `Ready` handling in raft-rs's order;
//! - `apply`: committed entries into the state machine, snapshots from the leader, removal;
//! - `snapshot`: this member's own snapshots, written off the loop;
//! - `leader`: what the leader does on its ticks (expiry, promotion), and this member's
//!   publication of its own record;
//! - `membership`, `pending`, `serving`, `exit`: conf changes, waiting callers, read gating,
//!   how the loop ends;
//! - `standalone`, `replay`: `-force-new-cluster`, the data dir rewritten as a one-member
//!   cluster before the loop starts, from the state machine replayed to the commit index.

mod apply;
mod disk_full;
mod driver;
mod exit;
#[cfg(debug_assertions)]
mod failpoint;
mod leader;
mod log_sync;
mod logging;
mod membership;
mod pending;
mod read_gate;
mod reads;
mod replay;
mod requests;
mod serving;
mod snapshot;
mod standalone;
mod start;
mod tail;

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc;
use std::sync::Arc;
use std::time::Duration;

use common::{ErrorCode, EtcdError};
use tokio::sync::oneshot;
use tracing::Instrument;

use raft::eraftpb::{ConfChange, Message};

use crate::cluster::MembershipError;
use crate::command::Command;
use crate::state::SharedState;
use crate::store::Event;
use crate::time::Clock;
use crate::transport::{Network, PeerReport, PeerSink};

#[cfg(any(test, feature = "sim"))]
pub(crate) use driver::RaftLoop;
pub use exit::{LoopExit, RaftThread};
pub use log_sync::LogSyncMode;
pub use serving::{CATCH_UP_READ_RETRY, CATCH_UP_WAIT};
pub use snapshot::{InlineRunner, SnapshotJob, SnapshotRunner, ThreadRunner};
pub use standalone::{force_new_cluster, Recovery, RecoveryError, Standalone};
#[cfg(any(test, feature = "sim"))]
pub(crate) use start::prepare;
pub use start::{start, StartError};

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
        reply: oneshot::Sender<Result<Vec<Arc<Event>>, EtcdError>>,
    },
    /// A change to users, roles or the auth switch.
    ProposeAuth {
        cmd: crate::auth::AuthCommand,
        reply: oneshot::Sender<Result<crate::auth::AuthAnswer, crate::auth::AuthError>>,
    },
    ReadIndex {
        reply: oneshot::Sender<Result<(), EtcdError>>,
    },
    /// Readers wait in the [`read_gate::ReadGate`] and no round is in flight: take them.
    ReadsWaiting,
    /// A membership change; answered once applied (or refused) on this member.
    ConfChange {
        cc: ConfChange,
        reply: oneshot::Sender<Result<Vec<Arc<Event>>, MembershipError>>,
    },
    /// A raft message from a peer.
    Step(Message),
    /// What the network reports: a peer unreachable, a snapshot stream's end, or a peer's
    /// claim that this member was removed (believed only if its own log holds that removal).
    Peer(PeerReport),
    /// The log's sync thread finished a sync (the loop takes what it reports on its turn).
    LogSynced,
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
    /// Whether the store has caught up and may answer reads (see the `serving` module): set once by
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

/// What the raft loop is given besides its storage: the seams a simulation replaces.
#[derive(Clone)]
pub struct Env {
    /// Where the loop reads the time.
    pub clock: Arc<dyn Clock>,
    /// How the loop reaches its peers.
    pub network: Arc<dyn Network>,
    /// Seeds the loop's randomness (raft's election timeouts): a run given the same seed, clock
    /// and messages makes the same choices.
    pub seed: u64,
    /// Where snapshots are written: a thread of their own, or (a simulation) inline.
    pub snapshots: Arc<dyn SnapshotRunner>,
    /// Where the log's fsyncs run.
    pub log_sync: LogSyncMode,
}

/// The sending side of the raft loop's inbox: cheap to clone, never blocks. The network is
/// given one (as its [`PeerSink`]) before the loop exists; [`RaftHandle`]s wrap one.
#[derive(Clone)]
pub struct Mailbox {
    tx: mpsc::Sender<Request>,
    /// Linearizable readers waiting for the loop to take them.
    reads: Arc<read_gate::ReadGate>,
    /// Requests sent and not yet taken by the loop (the bound of [`INBOX_CAPACITY`]; a std
    /// `sync_channel` would allocate the whole capacity up front).
    queued: Arc<std::sync::atomic::AtomicUsize>,
    /// Progress counters (the mailbox counts received messages).
    status: Arc<RaftStatus>,
}

/// The loop's side of the inbox, handed to [`start`] with the [`Mailbox`] it came with.
pub struct Inbox {
    rx: mpsc::Receiver<Request>,
    mailbox: Mailbox,
}

/// A new inbox for one raft loop.
pub fn mailbox() -> (Mailbox, Inbox) {
    let (tx, rx) = mpsc::channel();
    let mailbox = Mailbox {
        tx,
        reads: Arc::default(),
        queued: Arc::new(std::sync::atomic::AtomicUsize::new(0)),
        status: Arc::new(RaftStatus::default()),
    };
    let inbox = Inbox {
        rx,
        mailbox: mailbox.clone(),
    };
    (mailbox, inbox)
}

/// However the loop ends (a stop, a removal, a storage failure, a panic), readers still in the
/// gate hear it at once instead of at their timeout.
impl Drop for Inbox {
    fn drop(&mut self) {
        self.mailbox.reads.close(stopped());
    }
}

impl Inbox {
    /// Readers waiting in the gate.
    fn reads(&self) -> &read_gate::ReadGate {
        &self.mailbox.reads
    }

    fn taken(&self) {
        self.mailbox.queued.fetch_sub(1, Ordering::Relaxed);
    }

    /// Waits up to `wait` for the next request.
    fn recv_timeout(&self, wait: Duration) -> Result<Request, mpsc::RecvTimeoutError> {
        let req = self.rx.recv_timeout(wait)?;
        self.taken();
        Ok(req)
    }

    /// Whether no request waits.
    #[cfg_attr(not(any(test, feature = "sim")), allow(dead_code))]
    fn is_empty(&self) -> bool {
        self.mailbox.queued.load(Ordering::Relaxed) == 0
    }

    /// The next request, if one waits.
    fn try_recv(&self) -> Option<Request> {
        let req = self.rx.try_recv().ok()?;
        self.taken();
        Some(req)
    }
}

impl Mailbox {
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
        self.tx.send(req).map_err(|_| {
            self.queued.fetch_sub(1, Ordering::Relaxed);
            stopped()
        })
    }
}

impl PeerSink for Mailbox {
    fn deliver(&self, msg: Message) {
        self.status
            .received_messages
            .fetch_add(1, Ordering::Relaxed);
        let _ = self.enqueue(Request::Step(msg));
    }

    fn report(&self, report: PeerReport) {
        // Raft recovers from a lost report.
        let _ = self.enqueue(Request::Peer(report));
    }
}

/// A cheap-clone handle on the raft loop.
#[derive(Clone)]
pub struct RaftHandle {
    mailbox: Mailbox,
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
    /// Sends the request `make` builds around a reply channel, without waiting: the answer
    /// comes on the receiver once the loop has one. `E` is the answer's error: the cluster's
    /// own failures convert into it.
    pub(crate) fn submit<T, E: From<EtcdError>>(
        &self,
        make: impl FnOnce(oneshot::Sender<Result<T, E>>) -> Request,
    ) -> Result<oneshot::Receiver<Result<T, E>>, E> {
        let (reply, rx) = oneshot::channel();
        self.mailbox.enqueue(make(reply))?;
        Ok(rx)
    }

    /// Sends the request `make` builds around a reply channel and waits, up to
    /// [`REQUEST_TIMEOUT`], for the loop's answer.
    async fn ask<T, E: From<EtcdError>>(
        &self,
        make: impl FnOnce(oneshot::Sender<Result<T, E>>) -> Request,
    ) -> Result<T, E> {
        let rx = self.submit(make)?;
        match tokio::time::timeout(REQUEST_TIMEOUT, rx).await {
            Ok(Ok(res)) => res,
            Ok(Err(_)) => Err(stopped().into()),
            Err(_) => Err(timed_out().into()),
        }
    }

    /// Proposes a command and waits until it is committed, persisted and applied; returns the
    /// store's answer (its events, or the etcd error it raised).
    pub async fn propose(&self, cmd: Command) -> Result<Vec<Arc<Event>>, EtcdError> {
        self.ask(|reply| Request::Propose { cmd, reply })
            .instrument(tracing::debug_span!("propose"))
            .await
    }

    /// Proposes a change to users, roles or the auth switch and waits until it is applied
    /// here; returns its answer (etcd's wording of what was refused).
    pub async fn propose_auth(
        &self,
        cmd: crate::auth::AuthCommand,
    ) -> Result<crate::auth::AuthAnswer, crate::auth::AuthError> {
        self.ask(|reply| Request::ProposeAuth { cmd, reply })
            .instrument(tracing::info_span!("auth change"))
            .await
    }

    /// Proposes a membership change and waits until it is applied here; returns the registry
    /// events it caused, or why it did not happen.
    pub async fn change_membership(
        &self,
        cc: ConfChange,
    ) -> Result<Vec<Arc<Event>>, MembershipError> {
        let span = tracing::info_span!(
            "membership change",
            change = ?cc.get_change_type(),
            member = %crate::cluster::id_hex(cc.node_id)
        );
        self.ask(|reply| Request::ConfChange { cc, reply })
            .instrument(span)
            .await
    }

    /// Hands a raft message from a peer to the loop.
    pub fn step(&self, msg: Message) {
        self.mailbox.deliver(msg);
    }

    /// Asks the loop to stop (the transport keeps a mailbox, so dropping handles is not
    /// enough).
    pub fn shutdown(&self) {
        // Counted like any request (the loop uncounts what it takes), but never refused.
        self.mailbox.queued.fetch_add(1, Ordering::Relaxed);
        let _ = self.mailbox.tx.send(Request::Shutdown);
    }

    /// Waits until this member has applied everything committed before the call, as confirmed
    /// by a quorum (raft ReadIndex): a read after this is linearizable.
    pub async fn read_index(&self) -> Result<(), EtcdError> {
        let answer = self.join_read()?;
        match tokio::time::timeout(REQUEST_TIMEOUT, answer).await {
            Ok(Ok(res)) => res,
            Ok(Err(_)) => Err(stopped()),
            Err(_) => Err(timed_out()),
        }
    }

    /// Joins the next ReadIndex round, without waiting: the answer comes on the receiver.
    pub(crate) fn join_read(&self) -> Result<oneshot::Receiver<Result<(), EtcdError>>, EtcdError> {
        let joined = self.mailbox.reads.join()?;
        if joined.wake_loop {
            // Refused only when the inbox is full (the loop takes the gate's readers on its
            // next turn anyway) or the loop has ended (its inbox closes the gate, which fails
            // this reader too).
            let _ = self.mailbox.enqueue(Request::ReadsWaiting);
        }
        Ok(joined.answer)
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

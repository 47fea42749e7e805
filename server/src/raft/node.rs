//! The raft loop: the one owner of the `RawNode`, on its own thread because persisting blocks.
//!
//! Each turn drains the inbox (so every proposal that arrived during the last fsync shares the
//! next one: group commit), ticks when due, and handles one `Ready` in the order raft-rs
//! documents: messages, snapshot, committed entries, persist (one fsync), persisted messages,
//! advance, then the light ready's commits.

use std::collections::VecDeque;
use std::sync::atomic::Ordering;
use std::sync::mpsc::{self, RecvTimeoutError};
use std::sync::Arc;
use std::time::{Duration, Instant};

use common::{ErrorCode, EtcdError};
use raft::eraftpb::{ConfChangeType, Entry, EntryType, Message, MessageType};
use raft::{RawNode, SnapshotStatus, StateRole};

use super::exit::{panic_message, LoopExit, RaftThread};
use super::membership::{
    apply_conf_change_entry, change_in_progress, log_holds_removal,
    refuse_conf_changes_raft_would_drop, REFUSED_CONF_CHANGE,
};
use super::pending::{self, decode_context, encode_context, Pending};
use super::serving::{CatchUp, ReadStep};
use super::{RaftConfig, RaftHandle, RaftStatus, Request, StartMode, REQUEST_TIMEOUT};
use crate::cluster::{new_cluster_id, ChangeContext, MemberRecord};
use crate::command::{ClusterCommand, Command, KeyCommand};
use crate::state::{restore_snapshot, shared, SharedState};
use crate::storage::{MemberIdentity, RaftStorage, StorageFailure};
use crate::store::Store;
use crate::time::Timestamp;
use crate::transport::Transport;

/// Proposals held while no leader is known, before callers are told to retry.
const MAX_WAITING_FOR_LEADER: usize = 10_000;
/// Requests handled per loop turn before the loop persists; keeps ticks regular under load.
const MAX_REQUESTS_PER_TURN: usize = 4096;
/// How long an expiry proposal may stay unapplied before the leader proposes another.
const EXPIRE_RETRY: Duration = Duration::from_secs(2);
/// Log entries kept below a snapshot so slightly lagging followers catch up from the log.
const MAX_ENTRIES_KEPT_AFTER_SNAPSHOT: u64 = 5000;
/// How long a member's announcement of its URLs may stay unapplied before it is sent again.
const PUBLISH_RETRY: Duration = Duration::from_secs(3);
/// How often the leader looks for learners that caught up.
const PROMOTE_EVERY: Duration = Duration::from_millis(100);
/// A learner this close to the commit index is caught up and becomes a voter.
const CAUGHT_UP_SLACK: u64 = 64;
/// How often an unconfirmed "you were removed" (410) from a peer is logged.
const REMOVAL_HINT_LOG_EVERY: Duration = Duration::from_secs(10);

/// Why the raft member could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    /// The data dir could not be opened or read.
    #[error("{0}")]
    Storage(#[from] StorageFailure),
    /// The store snapshot in the data dir is unreadable.
    #[error("snapshot in data dir is unreadable: {0}")]
    Snapshot(String),
    /// raft-rs refused the configuration.
    #[error("raft: {0}")]
    Raft(#[from] raft::Error),
    /// The data dir belongs to another member.
    #[error("data dir belongs to member {0:?}, not {1:?} (use -f to start afresh)")]
    WrongMember(String, String),
    /// The member was removed from its cluster.
    #[error("this member was removed from its cluster; start it with -f and -peers to join again")]
    Removed,
}

/// Recovers the state machine from the data dir (snapshot plus log tail, replayed by raft as
/// committed entries) and starts the raft thread. A brand-new data dir is initialised first:
/// as the first member of a new cluster (its log starts with the conf change that adds it),
/// or as a member the cluster already added (its log comes from the leader).
pub fn start(
    cfg: RaftConfig,
    mut storage: RaftStorage,
    transport: Arc<Transport>,
) -> Result<(RaftHandle, RaftThread), StartError> {
    if storage.is_removed() {
        return Err(StartError::Removed);
    }
    let id = match storage.member() {
        Some(me) if me.name != cfg.name => {
            return Err(StartError::WrongMember(me.name, cfg.name.clone()));
        }
        Some(me) => me.id,
        None => match cfg.mode {
            StartMode::NewCluster => {
                let me = MemberIdentity {
                    id: cfg.id,
                    name: cfg.name.clone(),
                };
                storage.initialise(&me, &[bootstrap_entry(&cfg)])?;
                cfg.id
            }
            StartMode::Joined { id } => {
                let me = MemberIdentity {
                    id,
                    name: cfg.name.clone(),
                };
                storage.initialise(&me, &[])?;
                id
            }
        },
    };
    let (store, members) = match storage.snapshot_data()? {
        Some(bytes) => restore_snapshot(&bytes, cfg.history_size)
            .map_err(|e| StartError::Snapshot(e.to_string()))?,
        None => (Store::new(cfg.history_size), Default::default()),
    };
    let applied = storage.snapshot_metadata().index;

    let raft_cfg = raft::Config {
        id,
        election_tick: cfg.election_ticks.max(2),
        // Followers wait a random 1 to 1.5 election timeouts (raft's default is up to 2): a
        // dead leader is replaced sooner, and half a timeout still separates candidates.
        min_election_tick: cfg.election_ticks.max(2),
        max_election_tick: (cfg.election_ticks.max(2) * 3)
            .div_ceil(2)
            .max(cfg.election_ticks.max(2) + 1),
        heartbeat_tick: 1,
        applied,
        check_quorum: true,
        pre_vote: true,
        max_size_per_msg: 1024 * 1024,
        max_inflight_msgs: 256,
        ..Default::default()
    };
    raft_cfg.validate()?;
    let logger = slog::Logger::root(slog::Discard, slog::o!());
    let node = RawNode::new(&raft_cfg, storage, &logger)?;
    let catch_up = CatchUp::new(node.raft.raft_log.committed);

    let state = shared(store, members);
    let status = Arc::new(RaftStatus::default());
    status.applied_index.store(applied, Ordering::Relaxed);
    let (tx, rx) = mpsc::channel();
    let queued = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let handle = RaftHandle {
        inbox: tx,
        queued: queued.clone(),
        status: status.clone(),
        state: state.clone(),
        id,
    };
    transport.attach(handle.clone());
    let mut raft_loop = RaftLoop {
        id,
        node,
        inbox: rx,
        queued,
        pending: Pending::starting_at(Timestamp::now().0 as u64, REQUEST_TIMEOUT),
        waiting_for_leader: VecDeque::new(),
        state,
        status,
        applied,
        expire_in_flight: None,
        publish_in_flight: None,
        published: false,
        last_promotion: Instant::now(),
        may_campaign: true,
        removed: false,
        exit: None,
        removal_hint_logged: None,
        transport,
        rates: RateMeter::default(),
        catch_up,
        cfg,
    };
    raft_loop.sync_transport();
    let (ended_tx, ended) = tokio::sync::watch::channel(false);
    let thread = std::thread::Builder::new()
        .name("raft".into())
        .spawn(move || {
            let status = raft_loop.status.clone();
            // A panic anywhere in the loop ends it like any other failure: the server then
            // shuts down and the process exits non-zero, instead of living on without raft.
            let run = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| raft_loop.run()));
            let exit = match run {
                Ok(Ok(exit)) => exit,
                // Durability can no longer be promised: stop serving rather than lie.
                Ok(Err(e)) => LoopExit::StorageFailed(e.to_string()),
                Err(payload) => LoopExit::Panicked(panic_message(payload.as_ref())),
            };
            if exit.is_success() {
                tracing::warn!("raft loop ended: {exit}");
            } else {
                tracing::error!("raft loop ended: {exit}; the server stops");
            }
            // No leader any more as far as this member can tell: `/health` says false while
            // the server shuts down.
            status.leader_id.store(0, Ordering::Relaxed);
            status.is_leader.store(false, Ordering::Relaxed);
            let _ = ended_tx.send(true);
            exit
        })
        .map_err(StorageFailure::Io)?;
    Ok((handle, RaftThread { thread, ended }))
}

/// The first entry of a new cluster's log: the conf change adding its first member, with the
/// member's record and the new cluster's id. Already committed: a cluster of one agrees.
fn bootstrap_entry(cfg: &RaftConfig) -> Entry {
    let now = Timestamp::now();
    let ctx = ChangeContext {
        member: Some(MemberRecord {
            id: cfg.id,
            name: cfg.name.clone(),
            peer_urls: vec![cfg.peer_url.clone()],
            client_urls: vec![cfg.client_url.clone()],
            learner: false,
        }),
        cluster_id: Some(new_cluster_id(&cfg.name, now)),
        now,
    };
    let mut e = Entry::default();
    e.set_entry_type(EntryType::EntryConfChange);
    e.term = 1;
    e.index = 1;
    e.data = ctx
        .conf_change_bytes(ConfChangeType::AddNode, cfg.id)
        .into();
    e
}

/// Messages per second, sampled once a second.
#[derive(Default)]
struct RateMeter {
    at: Option<Instant>,
    sent: u64,
    received: u64,
}

struct RaftLoop {
    id: u64,
    node: RawNode<RaftStorage>,
    inbox: mpsc::Receiver<Request>,
    /// Shared with the handles: how many requests wait in `inbox`.
    queued: Arc<std::sync::atomic::AtomicUsize>,
    pending: Pending,
    /// Requests that arrived while no leader was known, with when they arrived.
    waiting_for_leader: VecDeque<(Instant, Request)>,
    state: SharedState,
    status: Arc<RaftStatus>,
    applied: u64,
    expire_in_flight: Option<Instant>,
    /// When this member last proposed its own name and URLs.
    publish_in_flight: Option<Instant>,
    /// The member table holds this member's current name and URLs (checked again only after
    /// the table changes, not on every Ready).
    published: bool,
    last_promotion: Instant,
    /// A lone first member campaigns at once instead of waiting an election timeout.
    may_campaign: bool,
    /// This member was removed: it stops taking part.
    removed: bool,
    /// Set when the loop must end after this turn, and why.
    exit: Option<LoopExit>,
    /// When an unconfirmed removal hint was last logged.
    removal_hint_logged: Option<Instant>,
    transport: Arc<Transport>,
    rates: RateMeter,
    /// Whether reads may be served yet (see `super::serving`).
    catch_up: CatchUp,
    cfg: RaftConfig,
}

impl RaftLoop {
    fn run(&mut self) -> Result<LoopExit, StorageFailure> {
        let mut last_tick = Instant::now();
        loop {
            let wait = self.cfg.tick.saturating_sub(last_tick.elapsed());
            let first = self.inbox.recv_timeout(wait);
            if first.is_ok() {
                self.queued.fetch_sub(1, Ordering::Relaxed);
            }
            match first {
                Ok(Request::Shutdown) => break,
                Ok(req) => self.handle(req)?,
                Err(RecvTimeoutError::Timeout) => {}
                Err(RecvTimeoutError::Disconnected) => break,
            }
            for _ in 0..MAX_REQUESTS_PER_TURN {
                let next = self.inbox.try_recv();
                if next.is_ok() {
                    self.queued.fetch_sub(1, Ordering::Relaxed);
                }
                match next {
                    Ok(Request::Shutdown) => {
                        self.pending.fail_all("server is stopping");
                        return Ok(LoopExit::Shutdown);
                    }
                    Ok(req) => self.handle(req)?,
                    Err(_) => break,
                }
            }
            if let Some(exit) = self.exit.take() {
                self.pending
                    .fail_all("this member was removed from the cluster");
                return Ok(exit);
            }
            if last_tick.elapsed() >= self.cfg.tick {
                self.node.tick();
                last_tick = Instant::now();
                self.maybe_expire();
                self.maybe_promote();
                self.sample_rates();
                self.drop_expired_requests();
            }
            self.on_ready()?;
            self.update_serving();
            if let Some(exit) = self.exit.take() {
                self.pending
                    .fail_all("this member was removed from the cluster");
                return Ok(exit);
            }
        }
        self.pending.fail_all("server is stopping");
        Ok(LoopExit::Shutdown)
    }

    fn handle(&mut self, req: Request) -> Result<(), StorageFailure> {
        match req {
            Request::Step(mut msg) => {
                if msg.get_msg_type() == MessageType::MsgPropose
                    && self.node.raft.state == StateRole::Leader
                {
                    let pending = self.node.raft.has_pending_conf();
                    let refused = refuse_conf_changes_raft_would_drop(&mut msg, pending);
                    if refused > 0 {
                        tracing::info!(
                            from = msg.from,
                            refused,
                            "refusing forwarded conf changes: one is already in progress"
                        );
                    }
                }
                if msg.get_msg_type() == MessageType::MsgHeartbeat
                    && msg.commit > self.node.raft.raft_log.last_index()
                {
                    // A leader never sends a commit beyond what this member acknowledged, and
                    // raft-rs would panic on it: only a broken or hostile peer sends this.
                    tracing::warn!(
                        from = msg.from,
                        commit = msg.commit,
                        "dropping a heartbeat that commits beyond this member's log"
                    );
                    return Ok(());
                }
                if let Err(e) = self.node.step(msg) {
                    tracing::debug!("ignoring raft message: {e}");
                }
                return Ok(());
            }
            Request::Unreachable(id) => {
                self.node.report_unreachable(id);
                return Ok(());
            }
            Request::SnapshotSent { to, ok } => {
                let status = if ok {
                    SnapshotStatus::Finish
                } else {
                    SnapshotStatus::Failure
                };
                self.node.report_snapshot(to, status);
                return Ok(());
            }
            Request::RemovalHint { at, by } => {
                self.on_removal_hint(at, by);
                return Ok(());
            }
            _ => {}
        }
        if caller_gone(&req) {
            // Its caller timed out or hung up: proposing it now would apply a write the
            // caller was told had failed.
            return Ok(());
        }
        if self.removed {
            reject(
                req,
                ErrorCode::RaftInternal,
                "this member was removed from the cluster",
            );
            return Ok(());
        }
        if !self.status.has_leader() {
            if self.waiting_for_leader.len() < MAX_WAITING_FOR_LEADER {
                self.waiting_for_leader.push_back((Instant::now(), req));
            } else {
                reject(req, ErrorCode::LeaderElect, "no leader");
            }
            return Ok(());
        }
        if !self.pending.has_room() {
            let busy = pending::busy();
            reject(req, busy.code, &busy.cause);
            return Ok(());
        }
        match req {
            Request::Propose { cmd, reply } => {
                #[cfg(debug_assertions)]
                super::failpoint::on_propose(&cmd);
                let id = self.pending.next_id();
                let ctx = encode_context(self.id, id);
                match self.node.propose(ctx, cmd.encode()) {
                    Ok(()) => self.pending.add_proposal(id, reply),
                    Err(e) => {
                        let _ = reply.send(Err(EtcdError::new(
                            ErrorCode::RaftInternal,
                            e.to_string(),
                            0,
                        )));
                    }
                }
            }
            Request::ConfChange { reply, .. }
                if self.node.raft.state == StateRole::Leader
                    && self.node.raft.has_pending_conf() =>
            {
                // raft-rs would replace it by an empty entry: refuse it now instead.
                let _ = reply.send(Err(change_in_progress()));
            }
            Request::ConfChange { cc, reply } => {
                let id = self.pending.next_id();
                let ctx = encode_context(self.id, id);
                match self.node.propose_conf_change(ctx, cc) {
                    Ok(()) => self.pending.add_proposal(id, reply),
                    Err(e) => {
                        let _ = reply.send(Err(EtcdError::new(
                            ErrorCode::RaftInternal,
                            e.to_string(),
                            0,
                        )));
                    }
                }
            }
            Request::ReadIndex { reply } => {
                let id = self.pending.next_id();
                self.node.read_index(id.to_be_bytes().to_vec());
                self.pending.add_read(id, reply);
            }
            Request::Step(_)
            | Request::Unreachable(_)
            | Request::SnapshotSent { .. }
            | Request::RemovalHint { .. }
            | Request::Shutdown => {}
        }
        Ok(())
    }

    /// Fails the requests that waited for a leader longer than their callers wait for an
    /// answer, and the pending ones whose messages were lost on the way to the leader.
    fn drop_expired_requests(&mut self) {
        let now = Instant::now();
        while let Some((since, _)) = self.waiting_for_leader.front() {
            if now.duration_since(*since) < REQUEST_TIMEOUT {
                break;
            }
            if let Some((_, req)) = self.waiting_for_leader.pop_front() {
                reject(req, ErrorCode::LeaderElect, "no leader");
            }
        }
        self.pending.sweep(now);
    }

    /// The leader removes expired keys through the log, carrying its clock, so every replica
    /// expires the same keys at the same index.
    fn maybe_expire(&mut self) {
        if self.node.raft.state != StateRole::Leader {
            return;
        }
        if let Some(since) = self.expire_in_flight {
            if since.elapsed() < EXPIRE_RETRY {
                return;
            }
        }
        let now = Timestamp::now();
        let due = {
            let st = self.state.read();
            st.store.next_expiration().is_some_and(|t| t <= now)
        };
        if due {
            let cmd = Command::Key(KeyCommand::Expire { now });
            if self.node.propose(Vec::new(), cmd.encode()).is_ok() {
                self.expire_in_flight = Some(Instant::now());
            }
        }
    }

    /// Moves the member to serving once it caught up (see `super::serving`); a follower asks
    /// the leader's commit index with a ReadIndex round.
    fn update_serving(&mut self) {
        if self.catch_up.done
            || !self.catch_up.replayed(self.applied)
            || !self.status.has_leader()
            || !self.node.raft.prs().conf().voters().contains(self.id)
        {
            return;
        }
        let caught_up = if self.node.raft.state == StateRole::Leader {
            self.node.raft.commit_to_current_term()
                && self.applied >= self.node.raft.raft_log.committed
        } else {
            match self.catch_up.read_step() {
                ReadStep::Confirmed => true,
                ReadStep::Waiting => false,
                ReadStep::Ask => {
                    let (reply, rx) = tokio::sync::oneshot::channel();
                    let id = self.pending.next_id();
                    self.node.read_index(id.to_be_bytes().to_vec());
                    self.pending.add_read(id, reply);
                    self.catch_up.asked(rx);
                    false
                }
            }
        };
        if caught_up {
            self.catch_up.done = true;
            self.status.serving.send_replace(true);
            tracing::info!(applied = self.applied, "caught up; serving reads");
        }
    }

    /// The leader makes learners that caught up voters, one conf change at a time.
    fn maybe_promote(&mut self) {
        if self.node.raft.state != StateRole::Leader
            || self.last_promotion.elapsed() < PROMOTE_EVERY
            || self.node.raft.has_pending_conf()
        {
            return;
        }
        self.last_promotion = Instant::now();
        let committed = self.node.raft.raft_log.committed;
        let prs = self.node.raft.prs();
        let ready = prs.conf().learners().iter().copied().find(|id| {
            prs.get(*id)
                .is_some_and(|p| p.matched + CAUGHT_UP_SLACK >= committed && p.matched > 0)
        });
        if let Some(id) = ready {
            let cc = ChangeContext::at(Timestamp::now()).conf_change(ConfChangeType::AddNode, id);
            tracing::info!(member = %crate::cluster::id_hex(id), "learner caught up; promoting");
            if let Err(e) = self.node.propose_conf_change(Vec::new(), cc) {
                tracing::warn!("cannot promote learner: {e}");
            }
        }
    }

    /// Makes sure the member table holds this member's current name and URLs (they change
    /// when it restarts with other flags, and a member added by peer URL has no name yet).
    fn maybe_publish(&mut self) {
        if self.published || !self.status.has_leader() {
            return;
        }
        if self
            .publish_in_flight
            .is_some_and(|since| since.elapsed() < PUBLISH_RETRY)
        {
            return;
        }
        let stale = {
            let st = self.state.read();
            match st.members.get(self.id) {
                Some(m) => {
                    m.name != self.cfg.name
                        || m.peer_urls != [self.cfg.peer_url.clone()]
                        || m.client_urls != [self.cfg.client_url.clone()]
                }
                // Not replayed yet (or not added): nothing to correct.
                None => false,
            }
        };
        if !stale {
            self.publish_in_flight = None;
            self.published = true;
            return;
        }
        let cmd = Command::Cluster(ClusterCommand::PublishMember {
            id: self.id,
            name: self.cfg.name.clone(),
            peer_urls: vec![self.cfg.peer_url.clone()],
            client_urls: vec![self.cfg.client_url.clone()],
            now: Timestamp::now(),
        });
        if self.node.propose(Vec::new(), cmd.encode()).is_ok() {
            self.publish_in_flight = Some(Instant::now());
        }
    }

    fn sample_rates(&mut self) {
        let now = Instant::now();
        let sent = self.status.sent_messages.load(Ordering::Relaxed);
        let received = self.status.received_messages.load(Ordering::Relaxed);
        match self.rates.at {
            Some(at) if now.duration_since(at) >= Duration::from_secs(1) => {
                let secs = now.duration_since(at).as_secs_f64();
                let rate = |d: u64| ((d as f64 / secs) * 1000.0) as u64;
                self.status
                    .send_rate_milli
                    .store(rate(sent - self.rates.sent), Ordering::Relaxed);
                self.status
                    .receive_rate_milli
                    .store(rate(received - self.rates.received), Ordering::Relaxed);
            }
            Some(_) => return,
            None => {}
        }
        self.rates = RateMeter {
            at: Some(now),
            sent,
            received,
        };
    }

    fn on_ready(&mut self) -> Result<(), StorageFailure> {
        if !self.node.has_ready() {
            return Ok(());
        }
        let mut rd = self.node.ready();
        let mut leader_changed = false;
        if let Some(ss) = rd.ss() {
            let before = self.status.leader_id.load(Ordering::Relaxed);
            leader_changed = before != 0 && before != ss.leader_id;
            self.status.leader_id.store(ss.leader_id, Ordering::Relaxed);
            self.status
                .is_leader
                .store(ss.raft_state == StateRole::Leader, Ordering::Relaxed);
        }
        self.send(rd.take_messages());
        if !rd.snapshot().is_empty() {
            self.install_snapshot(rd.snapshot().clone())?;
        }
        let committed = rd.take_committed_entries();
        self.apply(committed)?;
        self.node
            .mut_store()
            .persist(rd.entries(), rd.hs(), rd.must_sync())?;
        if let Some(hs) = rd.hs() {
            self.status.term.store(hs.term, Ordering::Relaxed);
            self.status.commit_index.store(hs.commit, Ordering::Relaxed);
        }
        for rs in rd.take_read_states() {
            if let Ok(b) = <[u8; 8]>::try_from(rs.request_ctx.as_slice()) {
                self.pending.confirm_read(u64::from_be_bytes(b), rs.index);
            }
        }
        self.send(rd.take_persisted_messages());
        let mut light = self.node.advance(rd);
        if let Some(commit) = light.commit_index() {
            self.node.mut_store().set_commit(commit)?;
            self.status.commit_index.store(commit, Ordering::Relaxed);
        }
        self.send(light.take_messages());
        self.apply(light.take_committed_entries())?;
        self.node.advance_apply();
        self.pending.applied_to(self.applied);
        if leader_changed {
            // What this member proposed may be lost with the old leader, or may still commit
            // under the new one: say so rather than wait or guess.
            self.pending
                .fail_all("leadership changed; the write may or may not be applied");
        }
        if self.may_campaign && self.applied > 0 {
            self.may_campaign = false;
            let voters: Vec<u64> = self.node.raft.prs().conf().voters().ids().iter().collect();
            if voters == [self.id] && self.node.raft.state != StateRole::Leader {
                // A one-member cluster need not wait an election timeout to lead.
                let _ = self.node.campaign();
            }
        }

        self.maybe_publish();
        if self.status.has_leader() && !self.waiting_for_leader.is_empty() {
            let queued: Vec<(Instant, Request)> = self.waiting_for_leader.drain(..).collect();
            for (since, req) in queued {
                if since.elapsed() >= REQUEST_TIMEOUT {
                    reject(req, ErrorCode::LeaderElect, "no leader");
                } else {
                    self.handle(req)?;
                }
            }
        }
        self.maybe_snapshot()?;
        Ok(())
    }

    /// Applies committed entries in log order under one state lock, then answers the callers.
    fn apply(&mut self, entries: Vec<Entry>) -> Result<(), StorageFailure> {
        if entries.is_empty() {
            return Ok(());
        }
        let mut answers = Vec::new();
        let mut members_changed = false;
        let mut removed_self = false;
        {
            let mut st = self.state.write();
            for e in &entries {
                self.applied = e.index;
                let caller = decode_context(&e.context)
                    .filter(|(member, _)| *member == self.id)
                    .map(|(_, id)| id);
                match e.get_entry_type() {
                    EntryType::EntryNormal => {
                        if e.data.is_empty() {
                            continue; // a new leader's empty entry
                        }
                        if e.data.as_ref() == REFUSED_CONF_CHANGE {
                            if let Some(id) = caller {
                                answers.push((id, Err(change_in_progress())));
                            }
                            continue;
                        }
                        let cmd = match Command::decode(&e.data) {
                            Ok(cmd) => cmd,
                            Err(err) => {
                                tracing::error!(index = e.index, "skipping entry: {err}");
                                continue;
                            }
                        };
                        let res = st.apply_command(&cmd);
                        match cmd {
                            Command::Key(KeyCommand::Expire { .. }) => self.expire_in_flight = None,
                            Command::Cluster(_) => members_changed = true,
                            _ => {}
                        }
                        if let Some(id) = caller {
                            answers.push((id, res));
                        }
                    }
                    EntryType::EntryConfChange => {
                        let done = apply_conf_change_entry(&mut self.node, &mut st, e, self.id)?;
                        members_changed |= done.members_changed;
                        removed_self |= done.removed_self;
                        if let Some(id) = caller {
                            answers.push((id, done.res));
                        }
                    }
                    EntryType::EntryConfChangeV2 => {
                        tracing::error!(
                            index = e.index,
                            "skipping a joint conf change: never proposed here"
                        );
                    }
                }
            }
        }
        for (id, res) in answers {
            self.pending.complete_proposal(id, res);
        }
        self.status
            .applied_index
            .store(self.applied, Ordering::Relaxed);
        if members_changed {
            self.sync_transport();
        }
        if removed_self {
            self.on_removed()?;
        }
        Ok(())
    }

    /// Points the transport at the member table's peer URLs (and has this member's own record
    /// checked again).
    fn sync_transport(&mut self) {
        self.published = false;
        let st = self.state.read();
        let table = st
            .members
            .iter()
            .filter(|m| m.id != self.id && !m.peer_url().is_empty())
            .map(|m| (m.id, m.peer_url().to_string()))
            .collect();
        self.transport.set_addresses(table);
        for id in st.members.removed_ids() {
            self.transport.forget(id);
        }
        if st.members.cluster_id() != 0 {
            self.transport.set_cluster_id(st.members.cluster_id());
        }
    }

    /// This member left the cluster: it records that, so it never serves this data again,
    /// and the process ends.
    fn on_removed(&mut self) -> Result<(), StorageFailure> {
        if self.removed {
            return Ok(());
        }
        self.removed = true;
        self.node.mut_store().mark_removed()?;
        self.pending
            .fail_all("this member was removed from the cluster");
        tracing::warn!("this member was removed from the cluster; exiting");
        // The loop ends after this turn; the server then stops in order, so the reply to the
        // removal request (answered above if it came here) still goes out.
        self.exit = Some(LoopExit::Removed);
        Ok(())
    }

    /// A peer answered 410. Believed only when this member's own log holds, at the index the
    /// peer named, the conf change removing it (then it stops without marking the data dir:
    /// the removal may not be known committed here, and a restart is told again). Anything
    /// else is a stranger's or a stale answer: logged, and ignored.
    fn on_removal_hint(&mut self, at: Option<u64>, by: u64) {
        if self.removed || self.exit.is_some() {
            return;
        }
        if let Some(at) = at.filter(|at| log_holds_removal(&self.node, *at, self.id)) {
            tracing::warn!(
                peer = %crate::cluster::id_hex(by),
                index = at,
                "a peer says this member was removed and its own log holds the removal; exiting"
            );
            self.removed = true;
            self.exit = Some(LoopExit::RemovalConfirmed { at });
            return;
        }
        if self
            .removal_hint_logged
            .is_none_or(|t| t.elapsed() >= REMOVAL_HINT_LOG_EVERY)
        {
            self.removal_hint_logged = Some(Instant::now());
            tracing::warn!(
                peer = %crate::cluster::id_hex(by),
                index = ?at,
                "ignoring a peer's claim (HTTP 410) that this member was removed: no such \
                 removal in this member's log"
            );
        }
    }

    fn install_snapshot(&mut self, snap: raft::eraftpb::Snapshot) -> Result<(), StorageFailure> {
        // Read it before the log is replaced: an unreadable snapshot stops this member with
        // its log intact (the leader sends it again after a restart), never half-installed.
        let data = self.node.store().received_snapshot_data(&snap)?;
        let (store, members) = restore_snapshot(&data, self.cfg.history_size)
            .map_err(|e| StorageFailure::Corrupt(format!("snapshot from leader: {e}")))?;
        self.node.mut_store().install_snapshot(&snap)?;
        {
            let mut st = self.state.write();
            st.store = store;
            st.members = members;
            // Its watchers never saw the events inside the snapshot: they re-read and re-watch.
            st.clear_watchers();
        }
        self.applied = snap.get_metadata().index;
        tracing::info!(index = self.applied, "installed snapshot from the leader");
        self.sync_transport();
        Ok(())
    }

    /// Every `snapshot_count` applied entries, saves the state and compacts the log below it.
    fn maybe_snapshot(&mut self) -> Result<(), StorageFailure> {
        let last = self.node.store().snapshot_metadata().index;
        let wanted = self.node.store().take_snapshot_wanted() && self.applied > last;
        if !wanted && self.applied.saturating_sub(last) < self.cfg.snapshot_count.max(1) {
            return Ok(());
        }
        let data = {
            let st = self.state.read();
            st.snapshot()
        };
        let keep = MAX_ENTRIES_KEPT_AFTER_SNAPSHOT.min(self.cfg.snapshot_count / 2);
        let applied = self.applied;
        self.node.mut_store().save_snapshot(applied, &data, keep)?;
        tracing::info!(index = applied, bytes = data.len(), "saved snapshot");
        Ok(())
    }

    fn send(&mut self, msgs: Vec<Message>) {
        if msgs.is_empty() {
            return;
        }
        self.status
            .sent_messages
            .fetch_add(msgs.len() as u64, Ordering::Relaxed);
        self.transport.send(msgs);
    }
}

/// Whether the caller of `req` stopped waiting for its answer.
fn caller_gone(req: &Request) -> bool {
    match req {
        Request::Propose { reply, .. } | Request::ConfChange { reply, .. } => reply.is_closed(),
        Request::ReadIndex { reply } => reply.is_closed(),
        _ => false,
    }
}

fn reject(req: Request, code: ErrorCode, cause: &str) {
    let err = EtcdError::new(code, cause, 0);
    match req {
        Request::Propose { reply, .. } | Request::ConfChange { reply, .. } => {
            let _ = reply.send(Err(err));
        }
        Request::ReadIndex { reply } => {
            let _ = reply.send(Err(err));
        }
        Request::Step(_)
        | Request::Unreachable(_)
        | Request::SnapshotSent { .. }
        | Request::RemovalHint { .. }
        | Request::Shutdown => {}
    }
}

//! The raft loop: the one owner of the `RawNode`. [`RaftLoop::run`] is its thread (which
//! blocks, because persisting does); each [`RaftLoop::turn`] drains the inbox (so every
//! proposal that arrived during the last fsync shares the next one: group commit), ticks when
//! due, handles one `Ready` in the order raft-rs documents ([`RaftLoop::on_ready`]) and then
//! the duties that follow a Ready ([`RaftLoop::after_ready`]), and starts or records a
//! snapshot when one is due or done (`super::snapshot`). A simulation calls `turn`
//! itself, under its own clock.

use std::collections::VecDeque;
use std::sync::atomic::Ordering;
use std::sync::mpsc::RecvTimeoutError;
use std::sync::Arc;
use std::time::Instant;

use common::{ErrorCode, EtcdError};
use raft::eraftpb::{Message, MessageType};
use raft::{RawNode, SnapshotStatus, StateRole};

use super::exit::LoopExit;
use super::leader::RateMeter;
use super::membership::refuse_conf_changes_raft_would_drop;
use super::pending::{self, encode_context, Pending, ProposalReply};
use super::serving::CatchUp;
use super::snapshot::{SnapshotRunner, Snapshots};
use super::{Inbox, RaftConfig, RaftStatus, Request, REQUEST_TIMEOUT};
use crate::cluster::MembershipError;
use crate::seeded::SplitMix64;
use crate::state::SharedState;
use crate::storage::{LogStore, StorageFailure};
use crate::time::Clock;
use crate::transport::{Network, PeerReport};

/// Proposals held while no leader is known, before callers are told to retry.
const MAX_WAITING_FOR_LEADER: usize = 10_000;
/// Requests handled per loop turn before the loop persists; keeps ticks regular under load.
const MAX_REQUESTS_PER_TURN: usize = 4096;

/// The raft loop's state; its jobs are split by file (`driver`, `apply`, `leader`).
pub(crate) struct RaftLoop<S: LogStore> {
    pub(super) id: u64,
    pub(super) node: RawNode<S>,
    pub(super) inbox: Inbox,
    pub(super) clock: Arc<dyn Clock>,
    pub(super) network: Arc<dyn Network>,
    pub(super) pending: Pending,
    /// Requests that arrived while no leader was known, with when they arrived.
    pub(super) waiting_for_leader: VecDeque<(Instant, Request)>,
    pub(super) state: SharedState,
    pub(super) status: Arc<RaftStatus>,
    pub(super) applied: u64,
    pub(super) last_tick: Instant,
    pub(super) expire_in_flight: Option<Instant>,
    /// When this member last proposed its own name and URLs.
    pub(super) publish_in_flight: Option<Instant>,
    /// The member table holds this member's current name and URLs (checked again only after
    /// the table changes, not on every Ready).
    pub(super) published: bool,
    pub(super) last_promotion: Instant,
    /// A lone first member campaigns at once instead of waiting an election timeout.
    pub(super) may_campaign: bool,
    /// This member was removed: it stops taking part.
    pub(super) removed: bool,
    /// Set when the loop must end after this turn, and why.
    pub(super) exit: Option<LoopExit>,
    /// When an unconfirmed removal hint was last logged.
    pub(super) removal_hint_logged: Option<Instant>,
    pub(super) rates: RateMeter,
    /// Whether reads may be served yet (see `super::serving`).
    pub(super) catch_up: CatchUp,
    pub(super) election: ElectionTimeouts,
    /// The snapshot in flight, if any (see `super::snapshot`).
    pub(super) snapshots: Snapshots,
    /// Where snapshot jobs run.
    pub(super) snapshot_runner: Arc<dyn SnapshotRunner>,
    pub(super) cfg: RaftConfig,
}

/// raft-rs draws each randomized election timeout from the thread's RNG, which no seed
/// reaches; the loop draws it again from its own seeded generator whenever raft reset it (a
/// change of term, role or leader), so a run replays from its seed.
pub(super) struct ElectionTimeouts {
    /// raft's range, `[min, max)`, in ticks.
    pub min: usize,
    pub max: usize,
    /// Seeded from the loop's `Env::seed`.
    pub rng: SplitMix64,
    /// Term, role and leader when the timeout was last drawn.
    pub drawn_at: Option<(u64, StateRole, u64)>,
}

/// What a Ready tells the loop without asking it to act within the six steps: the new role
/// and leader (when they changed) and the ReadIndex rounds answered.
struct ReadyNews {
    soft_state: Option<(u64, StateRole)>,
    read_states: Vec<raft::ReadState>,
}

impl<S: LogStore> RaftLoop<S> {
    /// The loop's thread: waits for a request or the next tick, then takes a turn.
    pub(super) fn run(&mut self) -> Result<LoopExit, StorageFailure> {
        loop {
            let since = self.clock.now().saturating_duration_since(self.last_tick);
            let wait = self.cfg.tick.saturating_sub(since);
            match self.inbox.recv_timeout(wait) {
                Ok(req) => {
                    if let Some(exit) = self.take(req)? {
                        return Ok(exit);
                    }
                }
                Err(RecvTimeoutError::Timeout) => {}
                Err(RecvTimeoutError::Disconnected) => return Ok(self.stop()),
            }
            if let Some(exit) = self.turn()? {
                return Ok(exit);
            }
        }
    }

    /// One turn: the requests waiting (at most [`MAX_REQUESTS_PER_TURN`]), a tick when one is
    /// due, one Ready and what follows it. Never blocks. Returns why the loop must end, when
    /// it must.
    pub(crate) fn turn(&mut self) -> Result<Option<LoopExit>, StorageFailure> {
        for _ in 0..MAX_REQUESTS_PER_TURN {
            let Some(req) = self.inbox.try_recv() else {
                break;
            };
            if let Some(exit) = self.take(req)? {
                return Ok(Some(exit));
            }
        }
        if let Some(exit) = self.ended() {
            return Ok(Some(exit));
        }
        let now = self.clock.now();
        if now.saturating_duration_since(self.last_tick) >= self.cfg.tick {
            self.node.tick();
            self.redraw_election_timeout();
            self.last_tick = now;
            self.on_tick();
        }
        if self.node.has_ready() {
            let _span =
                tracing::debug_span!("ready", member = %crate::cluster::id_hex(self.id)).entered();
            let news = self.on_ready()?;
            if self.exit.is_none() {
                self.after_ready(news)?;
            }
        }
        // Every turn, not only after a Ready: an idle member still records the snapshot it
        // finished writing.
        self.maybe_snapshot()?;
        self.update_serving();
        Ok(self.ended())
    }

    /// Handles one request; a shutdown ends the loop.
    fn take(&mut self, req: Request) -> Result<Option<LoopExit>, StorageFailure> {
        match req {
            Request::Shutdown => Ok(Some(self.stop())),
            req => self.handle(req).map(|()| None),
        }
    }

    fn stop(&mut self) -> LoopExit {
        self.pending.fail_all("server is stopping");
        LoopExit::Shutdown
    }

    /// The exit decided during the turn (this member was removed), if any.
    fn ended(&mut self) -> Option<LoopExit> {
        let exit = self.exit.take()?;
        self.pending
            .fail_all("this member was removed from the cluster");
        Some(exit)
    }

    /// What the loop does on every tick besides raft's own: the leader's duties, rates, and
    /// failing what waited too long.
    fn on_tick(&mut self) {
        self.maybe_expire();
        self.maybe_promote();
        self.sample_rates();
        self.drop_expired_requests();
    }

    /// Draws raft's election timeout again from the loop's seed if raft just reset it.
    pub(super) fn redraw_election_timeout(&mut self) {
        let r = &self.node.raft;
        let now = (r.term, r.state, r.leader_id);
        if self.election.drawn_at == Some(now) {
            return;
        }
        self.election.drawn_at = Some(now);
        let (min, max) = (self.election.min as u64, self.election.max as u64);
        let t = self
            .election
            .rng
            .between(min, max.saturating_sub(1).max(min)) as usize;
        self.node.raft.set_randomized_election_timeout(t);
    }

    pub(super) fn handle(&mut self, req: Request) -> Result<(), StorageFailure> {
        match req {
            Request::Step(msg) => {
                self.step(msg);
                self.redraw_election_timeout();
                return Ok(());
            }
            Request::Peer(report) => {
                self.on_peer_report(report);
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
                self.waiting_for_leader.push_back((self.clock.now(), req));
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
        let now = self.clock.now();
        match req {
            Request::Propose { cmd, reply } => {
                #[cfg(debug_assertions)]
                super::failpoint::on_propose(&cmd);
                let id = self.pending.next_id();
                let ctx = encode_context(self.id, id);
                let reply = ProposalReply::Write(reply);
                match self.node.propose(ctx, cmd.encode()) {
                    Ok(()) => self.pending.add_proposal(id, reply, now),
                    Err(e) => reply.fail(raft_refused(e)),
                }
            }
            Request::ProposeAuth { cmd, reply } => {
                let id = self.pending.next_id();
                let ctx = encode_context(self.id, id);
                let reply = ProposalReply::Auth(reply);
                match self
                    .node
                    .propose(ctx, crate::command::Command::Auth(cmd).encode())
                {
                    Ok(()) => self.pending.add_proposal(id, reply, now),
                    Err(e) => reply.fail(raft_refused(e)),
                }
            }
            Request::ConfChange { reply, .. }
                if self.node.raft.state == StateRole::Leader
                    && self.node.raft.has_pending_conf() =>
            {
                // raft-rs would replace it by an empty entry: refuse it now instead.
                let _ = reply.send(Err(MembershipError::InProgress));
            }
            Request::ConfChange { cc, reply } => {
                let id = self.pending.next_id();
                let ctx = encode_context(self.id, id);
                let reply = ProposalReply::Change(reply);
                match self.node.propose_conf_change(ctx, cc) {
                    Ok(()) => self.pending.add_proposal(id, reply, now),
                    Err(e) => reply.fail(raft_refused(e)),
                }
            }
            Request::ReadIndex { reply } => {
                let id = self.pending.next_id();
                self.node.read_index(id.to_be_bytes().to_vec());
                self.pending.add_read(id, reply, now);
            }
            Request::Step(_) | Request::Peer(_) | Request::Shutdown => {}
        }
        Ok(())
    }

    /// Steps a peer's message into raft, after the checks raft-rs does not make.
    fn step(&mut self, mut msg: Message) {
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
            return;
        }
        if let Err(e) = self.node.step(msg) {
            tracing::debug!("ignoring raft message: {e}");
        }
    }

    fn on_peer_report(&mut self, report: PeerReport) {
        match report {
            PeerReport::Unreachable(id) => self.node.report_unreachable(id),
            PeerReport::SnapshotSent { to, ok } => {
                let status = if ok {
                    SnapshotStatus::Finish
                } else {
                    SnapshotStatus::Failure
                };
                self.node.report_snapshot(to, status);
            }
            PeerReport::RemovalHint { at, by } => self.on_removal_hint(at, by),
        }
    }

    /// Fails the requests that waited for a leader longer than their callers wait for an
    /// answer, and the pending ones whose messages were lost on the way to the leader.
    fn drop_expired_requests(&mut self) {
        let now = self.clock.now();
        while let Some((since, _)) = self.waiting_for_leader.front() {
            if now.duration_since(*since) < REQUEST_TIMEOUT {
                break;
            }
            if let Some((_, req)) = self.waiting_for_leader.pop_front() {
                reject(req, ErrorCode::LeaderElect, "no leader");
            }
        }
        self.pending.sweep(now);
        crate::metrics::METRICS
            .proposals_pending
            .set(self.pending.len() as i64);
    }

    /// Handles one `Ready` in raft-rs's six steps and nothing else: messages, snapshot,
    /// committed entries, persist, persisted messages, advance and the light ready. What the
    /// Ready only tells (the soft state, answered reads) it hands on to [`Self::after_ready`].
    fn on_ready(&mut self) -> Result<ReadyNews, StorageFailure> {
        let mut rd = self.node.ready();
        let news = ReadyNews {
            soft_state: rd.ss().map(|ss| (ss.leader_id, ss.raft_state)),
            read_states: rd.take_read_states(),
        };
        // 1. Messages to send before persisting (a leader's appends go out in parallel).
        self.send(rd.take_messages());
        // 2. A snapshot from the leader.
        if !rd.snapshot().is_empty() {
            self.install_snapshot(rd.snapshot().clone())?;
        }
        // 3. Committed entries (already durable).
        self.apply(rd.take_committed_entries())?;
        if self.exit.is_some() {
            // This member applied its own removal and the loop ends with this turn: what it
            // would still persist or send is of no use to the cluster, and raft-rs must not
            // advance. A leader that removed itself has no progress entry of its own any
            // more, and advancing the entries it appended panics in `on_persist_entries`.
            return Ok(news);
        }
        // 4. Persist entries and hard state (the one fsync of the turn).
        let persisting = std::time::Instant::now();
        self.node
            .mut_store()
            .persist(rd.entries(), rd.hs(), rd.must_sync())?;
        if rd.must_sync() {
            crate::metrics::METRICS
                .fsync_duration
                .observe(persisting.elapsed().as_secs_f64());
        }
        // 5. Messages that may only leave once persisted (votes, append responses).
        self.send(rd.take_persisted_messages());
        // 6. Advance, and the light ready's commit, messages and entries.
        let mut light = self.node.advance(rd);
        if let Some(commit) = light.commit_index() {
            self.node.mut_store().set_commit(commit)?;
        }
        self.send(light.take_messages());
        self.apply(light.take_committed_entries())?;
        self.node.advance_apply();
        Ok(news)
    }

    /// The duties that follow a Ready: publish the role, leader, term and commit index it
    /// brought, answer the reads apply has reached, fail what a lost leadership may have lost,
    /// let a lone member lead, publish this member's record, and hand the requests that waited
    /// for a leader to raft.
    fn after_ready(&mut self, news: ReadyNews) -> Result<(), StorageFailure> {
        let leader_changed = news
            .soft_state
            .is_some_and(|(leader, role)| self.note_soft_state(leader, role));
        self.note_hard_state();
        for rs in news.read_states {
            if let Ok(b) = <[u8; 8]>::try_from(rs.request_ctx.as_slice()) {
                self.pending.confirm_read(u64::from_be_bytes(b), rs.index);
            }
        }
        self.pending.applied_to(self.applied);
        if leader_changed {
            // What this member proposed may be lost with the old leader, or may still commit
            // under the new one: say so rather than wait or guess.
            self.pending
                .fail_all("leadership changed; the write may or may not be applied");
        }
        self.maybe_campaign_alone();
        self.maybe_publish();
        self.retry_waiting_for_leader()
    }

    /// Publishes a new role or leader to the handles; returns whether a known leader was
    /// replaced (the proposals this member made may be lost with it).
    fn note_soft_state(&mut self, leader: u64, role: StateRole) -> bool {
        let before = self.status.leader_id.load(Ordering::Relaxed);
        if leader != before {
            tracing::info!(
                leader = %crate::cluster::id_hex(leader),
                role = ?role,
                term = self.node.raft.term,
                "leader changed"
            );
        }
        let m = &crate::metrics::METRICS;
        m.has_leader.set(i64::from(leader != 0));
        if leader != before && leader != 0 {
            m.leader_changes.inc();
        }
        self.status.leader_id.store(leader, Ordering::Relaxed);
        self.status
            .is_leader
            .store(role == StateRole::Leader, Ordering::Relaxed);
        before != 0 && before != leader
    }

    /// Publishes the term and commit index now persisted (after `advance`, raft's hard state
    /// is the one on disk: the Ready's, plus the light ready's commit).
    fn note_hard_state(&mut self) {
        let hs = self.node.raft.hard_state();
        self.status.term.store(hs.term, Ordering::Relaxed);
        self.status.commit_index.store(hs.commit, Ordering::Relaxed);
    }

    /// A one-member cluster need not wait an election timeout to lead.
    fn maybe_campaign_alone(&mut self) {
        if !self.may_campaign || self.applied == 0 {
            return;
        }
        self.may_campaign = false;
        let voters: Vec<u64> = self.node.raft.prs().conf().voters().ids().iter().collect();
        if voters == [self.id] && self.node.raft.state != StateRole::Leader {
            let _ = self.node.campaign();
            self.redraw_election_timeout();
        }
    }

    /// Once a leader is known, the requests that waited for one go to raft (or fail, if their
    /// callers stopped waiting).
    fn retry_waiting_for_leader(&mut self) -> Result<(), StorageFailure> {
        if !self.status.has_leader() || self.waiting_for_leader.is_empty() {
            return Ok(());
        }
        let now = self.clock.now();
        let queued: Vec<(Instant, Request)> = self.waiting_for_leader.drain(..).collect();
        for (since, req) in queued {
            if now.duration_since(since) >= REQUEST_TIMEOUT {
                reject(req, ErrorCode::LeaderElect, "no leader");
            } else {
                self.handle(req)?;
            }
        }
        Ok(())
    }

    fn send(&mut self, msgs: Vec<Message>) {
        if msgs.is_empty() {
            return;
        }
        self.status
            .sent_messages
            .fetch_add(msgs.len() as u64, Ordering::Relaxed);
        self.network.send(msgs);
    }

    /// raft's view of this member: term, role and the leader it knows (0: none).
    #[cfg_attr(not(any(test, feature = "sim")), allow(dead_code))]
    pub(crate) fn raft_state(&self) -> (u64, StateRole, u64) {
        let r = &self.node.raft;
        (r.term, r.state, r.leader_id)
    }

    /// The highest applied raft index.
    #[cfg_attr(not(any(test, feature = "sim")), allow(dead_code))]
    pub(crate) fn applied(&self) -> u64 {
        self.applied
    }

    /// Whether [`Self::run`] would take a turn now: a request waits or a tick is due. A
    /// simulation turns the loop only then, as the thread does.
    #[cfg_attr(not(any(test, feature = "sim")), allow(dead_code))]
    pub(crate) fn wants_turn(&self) -> bool {
        let since = self.clock.now().saturating_duration_since(self.last_tick);
        !self.inbox.is_empty() || since >= self.cfg.tick
    }
}

/// Whether the caller of `req` stopped waiting for its answer.
fn caller_gone(req: &Request) -> bool {
    match req {
        Request::Propose { reply, .. } => reply.is_closed(),
        Request::ProposeAuth { reply, .. } => reply.is_closed(),
        Request::ConfChange { reply, .. } => reply.is_closed(),
        Request::ReadIndex { reply } => reply.is_closed(),
        _ => false,
    }
}

/// Fails `req`'s caller with a cluster error.
fn reject(req: Request, code: ErrorCode, cause: &str) {
    let err = EtcdError::new(code, cause, 0);
    match req {
        Request::Propose { reply, .. } => ProposalReply::Write(reply).fail(err),
        Request::ProposeAuth { reply, .. } => ProposalReply::Auth(reply).fail(err),
        Request::ConfChange { reply, .. } => ProposalReply::Change(reply).fail(err),
        Request::ReadIndex { reply } => {
            let _ = reply.send(Err(err));
        }
        Request::Step(_) | Request::Peer(_) | Request::Shutdown => {}
    }
}

/// The answer to a proposal raft-rs refused outright (it was dropped, not proposed).
fn raft_refused(e: raft::Error) -> EtcdError {
    EtcdError::new(ErrorCode::RaftInternal, e.to_string(), 0)
}

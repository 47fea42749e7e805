//! The raft loop: the one owner of the `RawNode`. [`RaftLoop::run`] is its thread; each
//! [`RaftLoop::turn`] takes the log sync that finished (`super::log_sync`: the fsync runs on a
//! thread of its own, and every proposal that arrived meanwhile shares the next one: group
//! commit), drains the inbox, ticks when due, handles one `Ready` in the order raft-rs
//! documents for asynchronous persistence ([`RaftLoop::on_ready`]) and then
//! the duties that follow a Ready ([`RaftLoop::after_ready`]), and starts or records a
//! snapshot when one is due or done (`super::snapshot`). A simulation calls `turn`
//! itself, under its own clock.

use std::collections::VecDeque;
use std::sync::atomic::Ordering;
use std::sync::mpsc::RecvTimeoutError;
use std::sync::Arc;
use std::time::{Duration, Instant};

use raft::eraftpb::Message;
use raft::{RawNode, StateRole};

use super::exit::LoopExit;
use super::leader::RateMeter;
use super::log_sync::{LogSync, SyncTicket};
use super::pending::Pending;
use super::serving::CatchUp;
use super::snapshot::{SnapshotRunner, Snapshots};
use super::{Inbox, RaftConfig, RaftStatus, Request};
use crate::seeded::SplitMix64;
use crate::state::SharedState;
use crate::storage::{LogStore, StorageFailure};
use crate::time::Clock;
use crate::transport::Network;

/// Proposals held while no leader is known, before callers are told to retry.
pub(super) const MAX_WAITING_FOR_LEADER: usize = 10_000;
/// Ticks a ReadIndex round may go unanswered before it is asked again.
const READ_PATIENCE_TICKS: u32 = 3;
/// Requests handled per loop turn before the loop persists; keeps ticks regular under load.
const MAX_REQUESTS_PER_TURN: usize = 4096;

/// The raft loop's state; its jobs are split by file (`driver`, `requests`, `apply`,
/// `leader`).
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
    /// Where the log's fsyncs run (see `super::log_sync`).
    pub(super) log_sync: LogSync,
    /// The number of the last Ready handed to `advance_append_async`.
    pub(super) last_ready: u64,
    /// The number of the last Ready whose writes were handed to the sync.
    pub(super) last_sync_submitted: u64,
    /// Persisted messages waiting for the sync of the Ready numbered first, in order.
    pub(super) held: VecDeque<(u64, Vec<Message>)>,
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
            // Never sleep on a Ready: a read round closed at the end of a turn has its
            // heartbeat (or, on one member, its answer) in the next one, and a restart replays
            // its log a few MiB of committed entries per Ready.
            let wait = match self.node.has_ready() {
                true => Duration::ZERO,
                false => self.cfg.tick.saturating_sub(since),
            };
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
        self.take_synced()?;
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
        self.start_read_round()?;
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
        self.advance_election_ticks();
        self.update_serving();
        // The reads that joined after the drain (a catch-up round, readers that waited for a
        // leader) go to raft now rather than a turn later.
        self.start_read_round()?;
        Ok(self.ended())
    }

    /// Hands raft one ReadIndex request for every read gathered since the last one, after
    /// taking the readers waiting in the gate (see `super::read_gate`). Not without a leader,
    /// nor on a leader that has not committed an entry of its term yet: raft-rs drops such a
    /// ReadIndex without a word, and the round would wait for its deadline; the readers wait
    /// instead (a new leader commits its first entry at once).
    fn start_read_round(&mut self) -> Result<(), StorageFailure> {
        loop {
            self.take_gate_readers()?;
            let raft = &self.node.raft;
            if !self.status.has_leader()
                || (raft.state == StateRole::Leader && !raft.commit_to_current_term())
            {
                // Taken again every turn, at least every tick, until a round can start.
                return Ok(());
            }
            let now = self.clock.now();
            if let Some(id) = self.pending.close_read_round(now) {
                self.node.read_index(id.to_be_bytes().to_vec());
            }
            // A round in flight makes the loop turn when it is answered; otherwise the next
            // reader must wake it, unless readers came meanwhile.
            if self.pending.read_in_flight() || self.inbox.reads().arm() {
                return Ok(());
            }
        }
    }

    /// The readers waiting in the gate, handled like the read requests they stand for.
    fn take_gate_readers(&mut self) -> Result<(), StorageFailure> {
        for reply in self.inbox.reads().take() {
            self.handle(Request::ReadIndex { reply })?;
        }
        Ok(())
    }

    /// Handles one request; a shutdown ends the loop.
    fn take(&mut self, req: Request) -> Result<Option<LoopExit>, StorageFailure> {
        match req {
            Request::Shutdown => Ok(Some(self.stop())),
            req => self.handle(req).map(|()| None),
        }
    }

    pub(super) fn stop(&mut self) -> LoopExit {
        self.pending.fail_all("server is stopping");
        self.inbox.reads().close(super::stopped());
        LoopExit::Shutdown
    }

    /// The exit decided during the turn (this member was removed), if any.
    fn ended(&mut self) -> Option<LoopExit> {
        let exit = self.exit.take()?;
        const REMOVED: &str = "this member was removed from the cluster";
        self.pending.fail_all(REMOVED);
        let removed = common::EtcdError::new(common::ErrorCode::RaftInternal, REMOVED, 0);
        self.inbox.reads().close(removed);
        Some(exit)
    }

    /// What the loop does on every tick besides raft's own: the leader's duties, rates, and
    /// failing what waited too long.
    fn on_tick(&mut self) {
        self.maybe_expire();
        self.maybe_promote();
        self.sample_rates();
        self.drop_expired_requests();
        // A round unanswered for a few heartbeats was dropped somewhere (see
        // `ReadRounds::ask_again_unanswered`); a healthy one is answered in one round trip.
        let now = self.clock.now();
        self.pending
            .ask_reads_again(now, self.cfg.tick * READ_PATIENCE_TICKS);
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

    /// Handles one `Ready` in raft-rs's steps and nothing else: messages, snapshot, committed
    /// entries, an unsynced write handed to the sync, persisted messages held for it, and
    /// `advance_append_async`. What the
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
            // The install is a synced write of its own, made after every earlier one is
            // durable.
            if let Some(done) = self.log_sync.wait_all()? {
                self.finish_sync(done)?;
            }
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
        // 4. Write entries and hard state, unsynced, waiting out a full disk
        // (`super::disk_full`); a stop meanwhile abandons the Ready. raft-engine's memtable
        // serves them at once, as raft-rs requires before `advance_append_async`; the sync
        // thread makes them durable (`super::log_sync`).
        if !self.persist_with_room(rd.entries(), rd.hs(), false)? {
            return Ok(news);
        }
        let number = rd.number();
        if rd.must_sync() {
            let durable_commit = self.node.store().durable_if_synced();
            self.log_sync.submit(SyncTicket {
                number,
                durable_commit,
            });
            self.last_sync_submitted = number;
        }
        // 5. Messages that may only leave once persisted (votes, append responses) wait for
        // the sync.
        self.send_once_persisted(rd.take_persisted_messages());
        // 6. Advance; raft hears of the persist when the sync is done (`Self::take_synced`),
        // at once if nothing waits for the disk.
        let installed = !rd.snapshot().is_empty();
        self.node.advance_append_async(rd);
        self.last_ready = number;
        if installed {
            // raft-rs takes the snapshot's index as applied, which it allows only once the
            // snapshot is persisted: this Ready's sync is waited for here.
            if let Some(done) = self.log_sync.wait_all()? {
                self.finish_sync(done)?;
            }
        }
        if !self.log_sync.outstanding() {
            self.node.on_persist_ready(number);
        }
        self.node.advance_apply();
        Ok(news)
    }

    /// Takes the sync the log's sync thread finished, if any: tells raft-rs which Readies are
    /// durable now and sends the messages that waited for them.
    pub(super) fn take_synced(&mut self) -> Result<(), StorageFailure> {
        match self.log_sync.poll()? {
            Some(done) => self.finish_sync(done),
            None => Ok(()),
        }
    }

    fn finish_sync(&mut self, done: SyncTicket) -> Result<(), StorageFailure> {
        self.node.mut_store().note_synced(done.durable_commit)?;
        // With no sync left, every Ready handed out so far is durable (those after `done`
        // had nothing that needed one).
        let durable = match self.log_sync.outstanding() {
            true => done.number,
            false => self.last_ready,
        };
        self.node.on_persist_ready(durable);
        while self
            .held
            .front()
            .is_some_and(|(gate, _)| *gate <= done.number)
        {
            if let Some((_, msgs)) = self.held.pop_front() {
                self.send(msgs);
            }
        }
        Ok(())
    }

    /// Sends a Ready's persisted messages once every sync submitted so far is done. Only an
    /// answer that promises something about this member's disk waits: an append's answer
    /// (the entries are stored) and a vote or pre-vote (the term and vote are stored), as
    /// etcd's raft under asynchronous storage writes does; a candidate's vote requests wait
    /// too, because raft-rs counts its own vote before it is stored. Heartbeat answers and
    /// forwarded ReadIndex requests go at once: they claim nothing of the log, and a leader's
    /// ReadIndex round waits on them.
    fn send_once_persisted(&mut self, msgs: Vec<Message>) {
        use raft::eraftpb::MessageType::{MsgHeartbeatResponse, MsgReadIndex};
        if msgs.is_empty() {
            return;
        }
        if !self.log_sync.outstanding() {
            return self.send(msgs);
        }
        let (now, later): (Vec<Message>, Vec<Message>) = msgs
            .into_iter()
            .partition(|m| matches!(m.get_msg_type(), MsgHeartbeatResponse | MsgReadIndex));
        self.send(now);
        if !later.is_empty() {
            self.held.push_back((self.last_sync_submitted, later));
        }
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
                .leadership_changed("leadership changed; the write may or may not be applied");
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

    /// Publishes the term and commit index raft holds (written, if maybe not yet synced).
    pub(super) fn note_hard_state(&mut self) {
        let hs = self.node.raft.hard_state();
        self.status.term.store(hs.term, Ordering::Relaxed);
        self.status.commit_index.store(hs.commit, Ordering::Relaxed);
    }

    /// A restarted voter of a cluster of several waits only the last two ticks of its
    /// election timeout for a leader before it campaigns, as etcd's initial election tick
    /// advance does: after the whole cluster restarts, a leader is back within a fraction of
    /// a timeout instead of one to one and a half. Safe, and harmless beside a live leader:
    /// with pre-vote a campaign changes no term until a quorum grants it, and with check
    /// quorum no member that heard from its leader within a timeout grants one (and the
    /// leader's next heartbeat, one tick away, usually arrives first). Done once, when the
    /// log known at start has been replayed: only then does raft know the voters (they come
    /// from the replayed conf changes). A fresh member waits the whole timeout: a cluster
    /// forming needs no hurry, and a learner never campaigns.
    fn advance_election_ticks(&mut self) {
        if self.catch_up.ticks_advanced || !self.catch_up.replayed(self.applied) {
            return;
        }
        self.catch_up.ticks_advanced = true;
        let raft = &self.node.raft;
        let voters = raft.prs().conf().voters().ids();
        if !self.catch_up.restarted()
            || raft.leader_id != raft::INVALID_ID
            || !voters.contains(self.id)
            || voters.len() < 2
        {
            return;
        }
        let advanced = self.election.min.saturating_sub(2);
        while self.node.raft.election_elapsed < advanced {
            self.node.tick();
        }
        tracing::info!(
            ticks_left = self.election.min - advanced,
            "restarted without a leader: campaigning after two more ticks without one"
        );
    }

    /// A one-member cluster need not wait an election timeout to lead.
    pub(super) fn maybe_campaign_alone(&mut self) {
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
        !self.inbox.is_empty()
            || since >= self.cfg.tick
            || self.node.has_ready()
            || self.log_sync.outstanding()
    }
}

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
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use common::{ErrorCode, EtcdError};
use protobuf::Message as _;
use raft::eraftpb::{ConfChange, ConfChangeV2, ConfState, Entry, EntryType, Message};
use raft::{RawNode, StateRole};

use super::pending::{decode_context, encode_context, Pending};
use super::{RaftConfig, RaftHandle, RaftStatus, Request};
use crate::command::Command;
use crate::storage::{MemberIdentity, RaftStorage, StorageFailure};
use crate::store::Store;
use crate::time::Timestamp;
use crate::watch::{shared, SharedState};

/// Proposals held while no leader is known, before callers are told to retry.
const MAX_WAITING_FOR_LEADER: usize = 10_000;
/// Requests handled per loop turn before the loop persists; keeps ticks regular under load.
const MAX_REQUESTS_PER_TURN: usize = 4096;
/// How long an expiry proposal may stay unapplied before the leader proposes another.
const EXPIRE_RETRY: Duration = Duration::from_secs(2);
/// Log entries kept below a snapshot so slightly lagging followers catch up from the log.
const MAX_ENTRIES_KEPT_AFTER_SNAPSHOT: u64 = 5000;

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
}

/// Opens the data dir, recovers the store (snapshot plus log tail, replayed by raft as
/// committed entries), and starts the raft thread.
pub fn start(cfg: RaftConfig) -> Result<(RaftHandle, JoinHandle<()>), StartError> {
    let mut storage = RaftStorage::open(&cfg.data_dir)?;
    match storage.member() {
        Some(me) if me.name != cfg.name => {
            return Err(StartError::WrongMember(me.name, cfg.name.clone()));
        }
        Some(_) => {}
        None => {
            let me = MemberIdentity {
                id: cfg.id,
                name: cfg.name.clone(),
            };
            let cs = ConfState {
                voters: vec![cfg.id],
                ..Default::default()
            };
            storage.initialise(&me, cs)?;
        }
    }
    let store = match storage.snapshot_data()? {
        Some(bytes) => Store::restore(&bytes, cfg.history_size)
            .map_err(|e| StartError::Snapshot(e.to_string()))?,
        None => Store::new(cfg.history_size),
    };
    let applied = storage.snapshot_metadata().index;
    let lone_voter = raft::Storage::initial_state(&storage)?.conf_state.voters == vec![cfg.id];

    let raft_cfg = raft::Config {
        id: cfg.id,
        election_tick: cfg.election_ticks.max(2),
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
    let mut node = RawNode::new(&raft_cfg, storage, &logger)?;
    if lone_voter {
        // A one-member cluster need not wait an election timeout to lead.
        node.campaign()?;
    }

    let state = shared(store);
    let status = Arc::new(RaftStatus::default());
    status.applied_index.store(applied, Ordering::Relaxed);
    let (tx, rx) = mpsc::channel();
    let handle = RaftHandle {
        inbox: tx,
        status: status.clone(),
        state: state.clone(),
        id: cfg.id,
    };
    let mut raft_loop = RaftLoop {
        node,
        inbox: rx,
        pending: Pending::default(),
        waiting_for_leader: VecDeque::new(),
        state,
        status,
        applied,
        expire_in_flight: None,
        registered_term: 0,
        cfg,
    };
    let thread = std::thread::Builder::new()
        .name("raft".into())
        .spawn(move || {
            if let Err(e) = raft_loop.run() {
                // Durability can no longer be promised: stop serving rather than lie.
                tracing::error!("raft loop stopped: {e}");
                std::process::exit(2);
            }
        })
        .map_err(StorageFailure::Io)?;
    Ok((handle, thread))
}

struct RaftLoop {
    node: RawNode<RaftStorage>,
    inbox: mpsc::Receiver<Request>,
    pending: Pending,
    waiting_for_leader: VecDeque<Request>,
    state: SharedState,
    status: Arc<RaftStatus>,
    applied: u64,
    expire_in_flight: Option<Instant>,
    /// Term in which this member last made sure its `/_etcd/machines` entry is current.
    registered_term: u64,
    cfg: RaftConfig,
}

impl RaftLoop {
    fn run(&mut self) -> Result<(), StorageFailure> {
        let mut last_tick = Instant::now();
        loop {
            let wait = self.cfg.tick.saturating_sub(last_tick.elapsed());
            match self.inbox.recv_timeout(wait) {
                Ok(req) => self.handle(req),
                Err(RecvTimeoutError::Timeout) => {}
                Err(RecvTimeoutError::Disconnected) => break,
            }
            for _ in 0..MAX_REQUESTS_PER_TURN {
                match self.inbox.try_recv() {
                    Ok(req) => self.handle(req),
                    Err(_) => break,
                }
            }
            if last_tick.elapsed() >= self.cfg.tick {
                self.node.tick();
                last_tick = Instant::now();
                self.maybe_expire();
            }
            self.on_ready()?;
        }
        self.pending.fail_all("server is stopping");
        Ok(())
    }

    fn handle(&mut self, req: Request) {
        if !self.status.has_leader() {
            if self.waiting_for_leader.len() < MAX_WAITING_FOR_LEADER {
                self.waiting_for_leader.push_back(req);
            } else {
                reject(req, ErrorCode::LeaderElect, "no leader");
            }
            return;
        }
        match req {
            Request::Propose { cmd, reply } => {
                let id = self.pending.next_id();
                let ctx = encode_context(self.cfg.id, id);
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
            Request::ReadIndex { reply } => {
                let id = self.pending.next_id();
                self.node.read_index(id.to_be_bytes().to_vec());
                self.pending.add_read(id, reply);
            }
        }
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
            let st = self.state.read().expect("store lock poisoned");
            st.store.next_expiration().is_some_and(|t| t <= now)
        };
        if due {
            let cmd = Command::Expire { now };
            if self.node.propose(Vec::new(), cmd.encode()).is_ok() {
                self.expire_in_flight = Some(Instant::now());
            }
        }
    }

    /// A new leader makes sure its own `/_etcd/machines/<name>` entry says where it is.
    fn ensure_registered(&mut self) {
        let term = self.node.raft.term;
        if self.node.raft.state != StateRole::Leader || self.registered_term == term {
            return;
        }
        self.registered_term = term;
        let key = format!("/_etcd/machines/{}", self.cfg.name);
        let value = format!("raft={}&etcd={}", self.cfg.peer_url, self.cfg.client_url);
        let current = {
            let st = self.state.read().expect("store lock poisoned");
            st.store
                .get(&key, false, false, Timestamp::now())
                .ok()
                .and_then(|ev| ev.node.value)
        };
        if current.as_deref() != Some(value.as_str()) {
            let cmd = Command::Set {
                key,
                value,
                dir: false,
                expire_at: None,
                refresh: false,
                now: Timestamp::now(),
            };
            if let Err(e) = self.node.propose(Vec::new(), cmd.encode()) {
                tracing::warn!("could not register this member: {e}");
                self.registered_term = 0;
            }
        }
    }

    fn on_ready(&mut self) -> Result<(), StorageFailure> {
        if !self.node.has_ready() {
            return Ok(());
        }
        let mut rd = self.node.ready();
        if let Some(ss) = rd.ss() {
            let was_leader = self.status.leader_id.load(Ordering::Relaxed) == self.cfg.id;
            self.status.leader_id.store(ss.leader_id, Ordering::Relaxed);
            if was_leader && ss.raft_state != StateRole::Leader {
                self.pending
                    .fail_all("leadership changed; the write may or may not be applied");
            }
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

        // Register before handing queued client writes to raft, so on a fresh member the
        // registration takes index 1 and the first client write index 2, as the seed shows.
        self.ensure_registered();
        if self.status.has_leader() && !self.waiting_for_leader.is_empty() {
            let queued: Vec<Request> = self.waiting_for_leader.drain(..).collect();
            for req in queued {
                self.handle(req);
            }
        }
        self.maybe_snapshot()?;
        Ok(())
    }

    /// Applies committed entries in log order under one store lock, then answers the callers.
    fn apply(&mut self, entries: Vec<Entry>) -> Result<(), StorageFailure> {
        if entries.is_empty() {
            return Ok(());
        }
        let mut answers = Vec::new();
        let mut conf_changes = Vec::new();
        {
            let mut st = self.state.write().expect("store lock poisoned");
            for e in &entries {
                self.applied = e.index;
                match e.get_entry_type() {
                    EntryType::EntryNormal => {
                        if e.data.is_empty() {
                            continue; // a new leader's empty entry
                        }
                        let cmd = match Command::decode(&e.data) {
                            Ok(cmd) => cmd,
                            Err(err) => {
                                tracing::error!(index = e.index, "skipping entry: {err}");
                                continue;
                            }
                        };
                        let res = st.store.apply(&cmd);
                        if let Ok(events) = &res {
                            st.hub.notify(events);
                        }
                        if matches!(cmd, Command::Expire { .. }) {
                            self.expire_in_flight = None;
                        }
                        if let Some((member, id)) = decode_context(&e.context) {
                            if member == self.cfg.id {
                                answers.push((id, res));
                            }
                        }
                    }
                    EntryType::EntryConfChange | EntryType::EntryConfChangeV2 => {
                        conf_changes.push(e.clone());
                    }
                }
            }
        }
        for e in conf_changes {
            self.apply_conf_change(&e)?;
        }
        for (id, res) in answers {
            self.pending.complete_proposal(id, res);
        }
        self.status
            .applied_index
            .store(self.applied, Ordering::Relaxed);
        Ok(())
    }

    fn apply_conf_change(&mut self, e: &Entry) -> Result<(), StorageFailure> {
        let cs = if e.get_entry_type() == EntryType::EntryConfChange {
            let mut cc = ConfChange::default();
            cc.merge_from_bytes(&e.data)
                .map_err(|err| StorageFailure::Corrupt(err.to_string()))?;
            self.node.apply_conf_change(&cc)
        } else {
            let mut cc = ConfChangeV2::default();
            cc.merge_from_bytes(&e.data)
                .map_err(|err| StorageFailure::Corrupt(err.to_string()))?;
            self.node.apply_conf_change(&cc)
        };
        match cs {
            Ok(cs) => self.node.mut_store().set_conf_state(cs),
            Err(err) => {
                tracing::warn!("conf change at {} rejected: {err}", e.index);
                Ok(())
            }
        }
    }

    fn install_snapshot(&mut self, snap: raft::eraftpb::Snapshot) -> Result<(), StorageFailure> {
        let store = Store::restore(snap.get_data(), self.cfg.history_size)
            .map_err(|e| StorageFailure::Corrupt(format!("snapshot from leader: {e}")))?;
        self.node.mut_store().install_snapshot(&snap)?;
        let mut st = self.state.write().expect("store lock poisoned");
        st.store = store;
        self.applied = snap.get_metadata().index;
        Ok(())
    }

    /// Every `snapshot_count` applied entries, saves the store and compacts the log below it.
    fn maybe_snapshot(&mut self) -> Result<(), StorageFailure> {
        let last = self.node.store().snapshot_metadata().index;
        if self.applied.saturating_sub(last) < self.cfg.snapshot_count.max(1) {
            return Ok(());
        }
        let data = {
            let st = self.state.read().expect("store lock poisoned");
            st.store.save()
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
        // No peers yet: a lone member has nobody to talk to.
        for m in msgs {
            tracing::debug!(to = m.to, msg_type = ?m.get_msg_type(), "no transport for message");
        }
    }
}

fn reject(req: Request, code: ErrorCode, cause: &str) {
    let err = EtcdError::new(code, cause, 0);
    match req {
        Request::Propose { reply, .. } => {
            let _ = reply.send(Err(err));
        }
        Request::ReadIndex { reply } => {
            let _ = reply.send(Err(err));
        }
    }
}

//! Start-up: recovering the state machine from storage, initialising a brand-new member, and
//! the loop's thread.

use std::collections::VecDeque;
use std::sync::atomic::Ordering;

use raft::eraftpb::{ConfChangeType, Entry, EntryType};
use raft::RawNode;

use super::driver::{ElectionTimeouts, RaftLoop};
use super::exit::{panic_message, LoopExit, RaftThread};
use super::leader::RateMeter;
use super::log_sync::LogSync;
use super::pending::Pending;
use super::replay::apply_tail;
use super::serving::CatchUp;
use super::tail::{committed, decode_tail, Until, DECODE_BUDGET};
use super::{Env, Inbox, RaftConfig, RaftHandle, StartMode, REQUEST_TIMEOUT};
use crate::cluster::{new_cluster_id, ChangeContext, MemberRecord};
use crate::seeded::SplitMix64;
use crate::state::{restore_snapshot_from, shared, Restored, SharedState};
use crate::storage::{LogStore, MemberIdentity, StorageFailure};
use crate::time::Timestamp;

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

/// Recovers the state machine from storage and starts the raft thread, which takes its
/// requests from `inbox` (whose mailbox the network already holds). See `prepare`.
pub fn start<S: LogStore>(
    cfg: RaftConfig,
    storage: S,
    env: Env,
    inbox: Inbox,
) -> Result<(RaftHandle, RaftThread), StartError> {
    let (handle, raft_loop) = prepare(cfg, storage, env, inbox)?;
    let thread = spawn(raft_loop)?;
    Ok((handle, thread))
}

/// Recovers the state machine from storage (the snapshot, then the committed log after it,
/// applied here up to its first conf change and by raft from there) and builds the loop,
/// without running it. A brand-new store is
/// initialised first: as the first member of a new cluster (its log starts with the conf
/// change that adds it), or as a member the cluster already added (its log comes from the
/// leader).
pub(crate) fn prepare<S: LogStore>(
    cfg: RaftConfig,
    mut storage: S,
    env: Env,
    inbox: Inbox,
) -> Result<(RaftHandle, RaftLoop<S>), StartError> {
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
                storage.initialise(&me, &[bootstrap_entry(&cfg, env.clock.wall())])?;
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
    let (state, applied) = recover(&storage, cfg.history_size)?;

    let election_tick = cfg.election_ticks.max(2);
    // Followers wait a random 1 to 1.5 election timeouts (raft's default is up to 2): a dead
    // leader is replaced sooner, and half a timeout still separates candidates.
    let max_election_tick = (election_tick * 3).div_ceil(2).max(election_tick + 1);
    let raft_cfg = raft::Config {
        id,
        election_tick,
        max_election_tick,
        heartbeat_tick: 1,
        applied,
        check_quorum: true,
        pre_vote: true,
        max_size_per_msg: 1024 * 1024,
        max_inflight_msgs: 256,
        // A restart replays up to -snapshot-count entries: in chunks of a few MiB, not one
        // Vec of them all, which left ~90 MiB of RSS behind at 1M keys (freed, but
        // fragmented among the tree's allocations).
        max_committed_size_per_ready: 4 * 1024 * 1024,
        ..Default::default()
    };
    raft_cfg.validate()?;
    let logger = super::logging::raft_logger();
    let raft_starting = std::time::Instant::now();
    let node = RawNode::new(&raft_cfg, storage, &logger)?;
    tracing::info!(
        raft_new_ms = raft_starting.elapsed().as_millis() as u64,
        applied,
        commit = node.raft.raft_log.committed,
        "raft node started; replaying the log after the snapshot"
    );
    let catch_up = CatchUp::new(node.raft.raft_log.committed);

    let status = inbox.mailbox.status.clone();
    status.applied_index.store(applied, Ordering::Relaxed);
    let handle = RaftHandle {
        mailbox: inbox.mailbox.clone(),
        status: status.clone(),
        state: state.clone(),
        id,
    };
    let log_sync = LogSync::start(
        env.log_sync,
        node.store().log_syncer(),
        inbox.mailbox.clone(),
        env.seed ^ id.rotate_left(29),
    )
    .map_err(StorageFailure::Io)?;
    let now = env.clock.now();
    let mut raft_loop = RaftLoop {
        id,
        node,
        inbox,
        pending: Pending::starting_at(env.clock.wall().0 as u64, REQUEST_TIMEOUT),
        waiting_for_leader: VecDeque::new(),
        state,
        status,
        applied,
        last_tick: now,
        expire_in_flight: None,
        publish_in_flight: None,
        published: false,
        last_promotion: now,
        may_campaign: true,
        removed: false,
        exit: None,
        removal_hint_logged: None,
        rates: RateMeter::default(),
        catch_up,
        election: ElectionTimeouts {
            min: election_tick,
            max: max_election_tick,
            rng: SplitMix64::new(env.seed ^ id),
            drawn_at: None,
        },
        snapshots: Default::default(),
        snapshot_runner: env.snapshots,
        log_sync,
        last_ready: 0,
        last_sync_submitted: 0,
        held: VecDeque::new(),
        clock: env.clock,
        network: env.network,
        cfg,
    };
    raft_loop.redraw_election_timeout();
    // The term and commit index on disk, published now: with its log applied above, a member
    // may see its first Ready only once a leader talks to it.
    raft_loop.note_hard_state();
    raft_loop.sync_network();
    // Now, not after the first Ready: a restart that applied its whole log above has none
    // until an election timeout (1 s by default) elects it.
    raft_loop.maybe_campaign_alone();
    Ok((handle, raft_loop))
}

/// The state machine as of the newest snapshot and the committed log after it, up to the first
/// conf change there (raft applies that and the rest), and the index it was applied to. The
/// log is read and decoded on a thread of its own while this one decodes the snapshot (the
/// store's allocations stay in this thread's malloc arena: built on another, the same decode
/// took a third longer).
fn recover<S: LogStore>(
    storage: &S,
    history_size: usize,
) -> Result<(SharedState, u64), StartError> {
    let snapshot_index = storage.snapshot_metadata().index;
    let commit = committed(storage)?;
    let reader = storage.snapshot_reader()?;
    let started = std::time::Instant::now();
    let (restored, tail) = std::thread::scope(|scope| {
        let reading = std::thread::Builder::new()
            .name("log-tail".into())
            .spawn_scoped(scope, move || {
                // Past the budget, raft's ready loop applies the rest, as after a conf change.
                let tail = decode_tail(
                    storage,
                    snapshot_index,
                    commit,
                    Until::ConfChange,
                    DECODE_BUDGET,
                );
                tracing::info!(
                    read_and_decode_ms = started.elapsed().as_millis() as u64,
                    entries = tail.as_ref().map_or(0, |t| t.last - snapshot_index),
                    "read the log after the snapshot"
                );
                tail
            })
            .map_err(StorageFailure::from)?;
        let restored = match reader {
            Some(reader) => {
                let restored = restore_snapshot_from(reader, history_size)
                    .map_err(|e| StartError::Snapshot(e.to_string()))?;
                tracing::info!(
                    read_and_decode_ms = started.elapsed().as_millis() as u64,
                    keys = restored.store.counts().keys,
                    "restored the snapshot"
                );
                restored
            }
            None => Restored::empty(history_size),
        };
        let tail = reading
            .join()
            .unwrap_or_else(|panic| std::panic::resume_unwind(panic))?;
        Ok::<_, StartError>((restored, tail))
    })?;
    let state = shared(restored.store, restored.members, restored.auth);
    let applying = std::time::Instant::now();
    apply_tail(&mut state.write(), tail.entries);
    let trimmed = trim_heap();
    tracing::info!(
        trimmed,
        apply_ms = applying.elapsed().as_millis() as u64,
        applied = tail.last,
        commit,
        "applied the log after the snapshot"
    );
    Ok((state, tail.last))
}

/// Hands the heap the start-up left free (the decoded log, the snapshot's read buffers) back
/// to the system: glibc keeps it, in the log reader's arena and between the store's blocks.
fn trim_heap() -> bool {
    #[cfg(all(
        target_env = "gnu",
        not(feature = "jemalloc"),
        not(feature = "mimalloc")
    ))]
    {
        // SAFETY: malloc_trim only returns free pages to the system; it is thread-safe.
        unsafe { libc::malloc_trim(0) == 1 }
    }
    #[cfg(not(all(
        target_env = "gnu",
        not(feature = "jemalloc"),
        not(feature = "mimalloc")
    )))]
    {
        false
    }
}

/// Runs the loop on its own thread.
fn spawn<S: LogStore>(mut raft_loop: RaftLoop<S>) -> Result<RaftThread, StartError> {
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
    Ok(RaftThread { thread, ended })
}

/// The first entry of a new cluster's log: the conf change adding its first member, with the
/// member's record and the new cluster's id. Already committed: a cluster of one agrees.
fn bootstrap_entry(cfg: &RaftConfig, now: Timestamp) -> Entry {
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

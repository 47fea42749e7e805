//! Committed entries into the state machine, in log order, and what follows from them: the
//! callers' answers, the network's peer table, snapshots installed from the leader (our own
//! are taken in `snapshot`) and this member's removal.

use std::sync::atomic::Ordering;
use std::time::Duration;

use raft::eraftpb::{Entry, EntryType};

use super::driver::RaftLoop;
use super::exit::LoopExit;
use super::membership::{apply_conf_change_entry, log_holds_removal, REFUSED_CONF_CHANGE};
use super::pending::{decode_context, Answer};
use crate::cluster::MembershipError;
use crate::command::{Command, KeyCommand};
use crate::state::restore_snapshot_from;
use crate::storage::{LogStore, StorageFailure};
use crate::transport::PeerTable;

/// How often an unconfirmed "you were removed" (410) from a peer is logged.
const REMOVAL_HINT_LOG_EVERY: Duration = Duration::from_secs(10);

impl<S: LogStore> RaftLoop<S> {
    /// Applies committed entries in log order under one state lock, answers the callers, then
    /// notifies the watchers, still under the lock. The callers first: a write that wakes a
    /// thousand watchers would otherwise be answered only after the runtime had served them
    /// all (their tasks were woken before its own), 20 times later than etcd answers it.
    pub(super) fn apply(&mut self, entries: Vec<Entry>) -> Result<(), StorageFailure> {
        if entries.is_empty() {
            return Ok(());
        }
        let _timer = crate::metrics::METRICS.apply_duration.start_timer();
        crate::metrics::METRICS
            .proposals_applied
            .inc_by(entries.len() as u64);
        let mut answers = Vec::new();
        let mut unnotified = Vec::new();
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
                                answers
                                    .push((id, Answer::Change(Err(MembershipError::InProgress))));
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
                        if let Command::Auth(a) = &cmd {
                            let res = st.apply_auth(a);
                            if let Some(id) = caller {
                                answers.push((id, Answer::Auth(res)));
                            }
                            continue;
                        }
                        let res = st.apply_command_unnotified(&cmd);
                        if let (Ok(events), true) = (&res, st.has_watchers()) {
                            unnotified.extend(events.iter().cloned());
                        }
                        match cmd {
                            Command::Key(KeyCommand::Expire { .. }) => self.expire_in_flight = None,
                            Command::Key(_) | Command::Auth(_) => {}
                            Command::Cluster(_) => members_changed = true,
                        }
                        if let Some(id) = caller {
                            answers.push((id, Answer::Write(res)));
                        }
                    }
                    EntryType::EntryConfChange => {
                        // Its registry events are notified as it applies: the key events
                        // before it go first, so watchers see index order.
                        st.notify(&std::mem::take(&mut unnotified));
                        let done = apply_conf_change_entry(&mut self.node, &mut st, e, self.id)?;
                        self.snapshots.conf_change_at = e.index;
                        members_changed |= done.members_changed;
                        removed_self |= done.removed_self;
                        if let Some(id) = caller {
                            answers.push((id, Answer::Change(done.res)));
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
            // What is applied is committed: published before the callers hear, so a write's
            // X-Raft-Index covers its own entry (the hard state is noted only after apply).
            self.status
                .commit_index
                .fetch_max(self.applied, Ordering::Relaxed);
            for (id, answer) in answers {
                self.pending.complete_proposal(id, answer);
            }
            st.notify(&unnotified);
        }
        self.status
            .applied_index
            .store(self.applied, Ordering::Relaxed);
        if members_changed {
            self.sync_network();
        }
        if removed_self {
            self.on_removed()?;
        }
        Ok(())
    }

    /// Gives the network the member table's peers (and has this member's own record checked
    /// again).
    pub(super) fn sync_network(&mut self) {
        self.published = false;
        let table = {
            let st = self.state.read();
            PeerTable {
                addresses: st
                    .members
                    .iter()
                    .filter(|m| m.id != self.id && !m.peer_url().is_empty())
                    .map(|m| (m.id, m.peer_url().to_string()))
                    .collect(),
                members: st.members.iter().map(|m| m.id).collect(),
                removed: st
                    .members
                    .removed_ids()
                    .map(|id| (id, st.members.removed_at(id)))
                    .collect(),
                cluster_id: st.members.cluster_id(),
            }
        };
        self.network.set_peers(table);
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
    pub(super) fn on_removal_hint(&mut self, at: Option<u64>, by: u64) {
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
        let now = self.clock.now();
        if self
            .removal_hint_logged
            .is_none_or(|t| now.duration_since(t) >= REMOVAL_HINT_LOG_EVERY)
        {
            self.removal_hint_logged = Some(now);
            tracing::warn!(
                peer = %crate::cluster::id_hex(by),
                index = ?at,
                "ignoring a peer's claim (HTTP 410) that this member was removed: no such \
                 removal in this member's log"
            );
        }
    }

    pub(super) fn install_snapshot(
        &mut self,
        snap: raft::eraftpb::Snapshot,
    ) -> Result<(), StorageFailure> {
        // Read it before the log is replaced: an unreadable snapshot stops this member with
        // its log intact (the leader sends it again after a restart), never half-installed.
        let data = self.node.store().received_snapshot_reader(&snap)?;
        let restored = restore_snapshot_from(data, self.cfg.history_size)
            .map_err(|e| StorageFailure::Corrupt(format!("snapshot from leader: {e}")))?;
        self.node.mut_store().install_snapshot(&snap)?;
        {
            let mut st = self.state.write();
            st.store = restored.store;
            st.members = restored.members;
            st.auth = restored.auth;
            // Its watchers never saw the events inside the snapshot: they re-read and re-watch.
            st.clear_watchers();
        }
        // A snapshot of our own still being written is older than this one: it is dropped
        // when it reports (see `snapshot`).
        self.applied = snap.get_metadata().index;
        tracing::info!(index = self.applied, "installed snapshot from the leader");
        self.sync_network();
        Ok(())
    }
}

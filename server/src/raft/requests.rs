//! What the raft loop does with each request from its inbox: proposals, conf changes and
//! ReadIndex rounds go to raft (or wait for a leader, or are refused with the reason);
//! peer messages are stepped in after the checks raft-rs does not make; and requests whose
//! callers stopped waiting are dropped, never proposed.

use std::time::Instant;

use common::{ErrorCode, EtcdError};
use raft::eraftpb::{Message, MessageType};
use raft::{SnapshotStatus, StateRole};

use super::driver::{RaftLoop, MAX_WAITING_FOR_LEADER};
use super::membership::refuse_conf_changes_raft_would_drop;
use super::pending::{self, encode_context, ProposalReply};
use super::{Request, REQUEST_TIMEOUT};
use crate::cluster::MembershipError;
use crate::storage::{LogStore, StorageFailure};
use crate::transport::PeerReport;

impl<S: LogStore> RaftLoop<S> {
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
            // A wake-up only: the turn takes the gate's readers in `take_gate_readers`.
            Request::ReadsWaiting | Request::LogSynced => return Ok(()),
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
            // Joins the round the turn hands raft when its requests are drained.
            Request::ReadIndex { reply } => self.pending.add_read(reply, now),
            Request::Step(_)
            | Request::Peer(_)
            | Request::ReadsWaiting
            | Request::LogSynced
            | Request::Shutdown => {}
        }
        Ok(())
    }

    /// Steps a peer's message into raft, after the checks raft-rs does not make.
    pub(super) fn step(&mut self, mut msg: Message) {
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

    pub(super) fn on_peer_report(&mut self, report: PeerReport) {
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
    pub(super) fn drop_expired_requests(&mut self) {
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

    /// Once a leader is known, the requests that waited for one go to raft (or fail, if their
    /// callers stopped waiting).
    pub(super) fn retry_waiting_for_leader(&mut self) -> Result<(), StorageFailure> {
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
pub(super) fn reject(req: Request, code: ErrorCode, cause: &str) {
    let err = EtcdError::new(code, cause, 0);
    match req {
        Request::Propose { reply, .. } => ProposalReply::Write(reply).fail(err),
        Request::ProposeAuth { reply, .. } => ProposalReply::Auth(reply).fail(err),
        Request::ConfChange { reply, .. } => ProposalReply::Change(reply).fail(err),
        Request::ReadIndex { reply } => {
            let _ = reply.send(Err(err));
        }
        Request::Step(_)
        | Request::Peer(_)
        | Request::ReadsWaiting
        | Request::LogSynced
        | Request::Shutdown => {}
    }
}

/// The answer to a proposal raft-rs refused outright (it was dropped, not proposed).
fn raft_refused(e: raft::Error) -> EtcdError {
    EtcdError::new(ErrorCode::RaftInternal, e.to_string(), 0)
}

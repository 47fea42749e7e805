//! Callers waiting on the raft loop: proposals by id until their entry applies, and read-index
//! requests until a quorum confirms the read index and apply has caught up with it.
//!
//! Bounded and swept: a proposal or read lost on the way to the leader (a dropped message, a
//! leader that died) would otherwise wait here forever. At most [`MAX_PENDING`] callers wait,
//! and [`Pending::sweep`] fails those older than their deadline (the caller has given up by
//! then, see `REQUEST_TIMEOUT`).

use std::collections::{HashMap, VecDeque};
use std::sync::Arc;
use std::time::{Duration, Instant};

use common::{ErrorCode, EtcdError};
use tokio::sync::oneshot;

use crate::auth::{AuthAnswer, AuthError};
use crate::cluster::MembershipError;
use crate::store::Event;

/// A proposal's id, carried in the entry context next to the proposer's raft id so only the
/// member that proposed answers.
pub type ProposalId = u64;

/// Encodes the entry context: proposer id then proposal id, big endian.
pub fn encode_context(member: u64, id: ProposalId) -> Vec<u8> {
    let mut v = member.to_be_bytes().to_vec();
    v.extend_from_slice(&id.to_be_bytes());
    v
}

/// Decodes [`encode_context`]; `None` for entries without a waiting caller.
pub fn decode_context(ctx: &[u8]) -> Option<(u64, ProposalId)> {
    if ctx.len() != 16 {
        return None;
    }
    let member = u64::from_be_bytes(ctx[..8].try_into().ok()?);
    let id = u64::from_be_bytes(ctx[8..].try_into().ok()?);
    Some((member, id))
}

/// Proposals plus read-index requests waiting at most; beyond it new ones are refused as busy.
/// The inbox holds at most `INBOX_CAPACITY` (65,536) requests, and every caller here gives up
/// after `REQUEST_TIMEOUT`, so this is only reached under a sustained flood.
pub const MAX_PENDING: usize = 65_536;

use super::reads::{ReadReply, ReadRounds};

/// A proposer waiting for its entry to apply: a write (a key or cluster command), answered
/// with the state machine's events or error, or a conf change, answered with the member
/// table's.
pub enum ProposalReply {
    /// A proposed [`crate::command::Command`].
    Write(oneshot::Sender<Result<Vec<Arc<Event>>, EtcdError>>),
    /// A proposed conf change.
    Change(oneshot::Sender<Result<Vec<Arc<Event>>, MembershipError>>),
    /// A proposed change to users, roles or the auth switch.
    Auth(oneshot::Sender<Result<AuthAnswer, AuthError>>),
}

/// What an applied entry answers its proposer.
pub enum Answer {
    /// A command's events, or the store's error.
    Write(Result<Vec<Arc<Event>>, EtcdError>),
    /// A conf change's registry events, or why it did not happen.
    Change(Result<Vec<Arc<Event>>, MembershipError>),
    /// An auth change's answer.
    Auth(Result<AuthAnswer, AuthError>),
}

impl ProposalReply {
    /// Tells the caller the cluster failed it (no leader, a timeout, stopping).
    pub fn fail(self, e: EtcdError) {
        crate::metrics::METRICS.proposals_failed.inc();
        match self {
            ProposalReply::Write(r) => {
                let _ = r.send(Err(e));
            }
            ProposalReply::Change(r) => {
                let _ = r.send(Err(MembershipError::Cluster(e)));
            }
            ProposalReply::Auth(r) => {
                let _ = r.send(Err(e.into()));
            }
        }
    }

    /// Gives the caller its entry's answer. An entry answers in its proposer's kind (a
    /// command's entry a write, a conf change's a change); a mismatch would be a bug, and
    /// its caller hears an internal error rather than nothing.
    fn answer(self, answer: Answer) {
        match (self, answer) {
            (ProposalReply::Write(r), Answer::Write(res)) => {
                let _ = r.send(res);
            }
            (ProposalReply::Change(r), Answer::Change(res)) => {
                let _ = r.send(res);
            }
            (ProposalReply::Auth(r), Answer::Auth(res)) => {
                let _ = r.send(res);
            }
            (reply, _) => reply.fail(EtcdError::new(
                ErrorCode::RaftInternal,
                "an entry answered a proposal of another kind",
                0,
            )),
        }
    }
}

/// Everything the loop owes an answer to.
pub struct Pending {
    next_id: u64,
    /// How long a caller is waited for before it is failed and forgotten.
    ttl: Duration,
    proposals: HashMap<ProposalId, ProposalReply>,
    /// Reads waiting for a quorum and then for apply, in rounds.
    reads: ReadRounds,
    /// Deadlines of proposals in the order they were added (ids and deadlines both grow),
    /// so a sweep only looks at what expired.
    deadlines: VecDeque<(Instant, ProposalId)>,
}

fn expired() -> EtcdError {
    EtcdError::new(
        ErrorCode::RaftInternal,
        "timed out waiting for the cluster to commit",
        0,
    )
}

/// The error a caller gets when [`MAX_PENDING`] callers already wait.
pub fn busy() -> EtcdError {
    EtcdError::new(
        ErrorCode::RaftInternal,
        "too many requests are waiting for the cluster; retry",
        0,
    )
}

impl Pending {
    /// Ids start at `first` (the clock at start): an entry proposed before a restart can then
    /// never be taken for one proposed after it.
    /// Callers are failed and forgotten `ttl` after they were added.
    pub fn starting_at(first: u64, ttl: Duration) -> Pending {
        Pending {
            next_id: first,
            ttl,
            proposals: HashMap::new(),
            reads: ReadRounds::new(ttl),
            deadlines: VecDeque::new(),
        }
    }

    /// How many callers wait.
    pub fn len(&self) -> usize {
        self.proposals.len() + self.reads.len()
    }

    /// Whether another caller may wait (fewer than [`MAX_PENDING`] do).
    pub fn has_room(&self) -> bool {
        self.len() < MAX_PENDING
    }

    /// A fresh id.
    pub fn next_id(&mut self) -> u64 {
        self.next_id += 1;
        self.next_id
    }

    /// Remembers a proposal's caller, asked at `now`.
    pub fn add_proposal(&mut self, id: ProposalId, reply: ProposalReply, now: Instant) {
        self.proposals.insert(id, reply);
        self.deadlines.push_back((now + self.ttl, id));
    }

    /// Answers a proposal whose entry was applied.
    pub fn complete_proposal(&mut self, id: ProposalId, answer: Answer) {
        if let Some(reply) = self.proposals.remove(&id) {
            reply.answer(answer);
        }
    }

    /// Adds a read-index caller, asked at `now`, to the read round being gathered.
    pub fn add_read(&mut self, reply: ReadReply, now: Instant) {
        self.reads.add(reply, now);
    }

    /// Closes the read round being gathered, if it has readers, and returns the id to hand
    /// raft as its ReadIndex context (see `super::reads`).
    pub fn close_read_round(&mut self, now: Instant) -> Option<u64> {
        let id = self.next_id + 1;
        if !self.reads.close(id, now) {
            return None;
        }
        self.next_id = id;
        Some(id)
    }

    /// Whether a read round waits for raft's confirmation.
    pub fn read_in_flight(&self) -> bool {
        self.reads.in_flight()
    }

    /// Asks again the read rounds raft has not answered within `patience` (see
    /// `ReadRounds::ask_again_unanswered`).
    pub fn ask_reads_again(&mut self, now: Instant, patience: Duration) {
        self.reads.ask_again_unanswered(now, patience);
    }

    /// A quorum confirmed read round `id` at `index`.
    pub fn confirm_read(&mut self, id: u64, index: u64) {
        self.reads.confirm(id, index);
    }

    /// Fails and forgets every caller whose deadline has passed: its request was lost on the
    /// way (or is stuck), and the caller was already told it timed out.
    pub fn sweep(&mut self, now: Instant) {
        while let Some((deadline, id)) = self.deadlines.front().copied() {
            if deadline > now {
                break;
            }
            self.deadlines.pop_front();
            // A caller still waiting (its request lost on the way) hears it timed out.
            if let Some(reply) = self.proposals.remove(&id) {
                reply.fail(expired());
            }
        }
        self.reads.sweep(now, expired);
    }

    /// Answers the confirmed reads whose index has been applied.
    pub fn applied_to(&mut self, applied: u64) {
        self.reads.applied_to(applied);
    }

    /// The leader changed: what this member proposed may be lost with the old leader or may
    /// still commit under the new one, so proposers hear `cause`; reads are asked again of
    /// the new leader instead (a read is safe to repeat), within their callers' deadline.
    pub fn leadership_changed(&mut self, cause: &str) {
        for (_, reply) in self.proposals.drain() {
            reply.fail(EtcdError::new(ErrorCode::RaftInternal, cause, 0));
        }
        self.deadlines.clear();
        self.reads.ask_again();
    }

    /// Fails everything waiting (this member was removed, or is shutting down): the caller
    /// hears an honest error; an entry that still commits later is applied all the same.
    pub fn fail_all(&mut self, cause: &str) {
        for (_, reply) in self.proposals.drain() {
            reply.fail(EtcdError::new(ErrorCode::RaftInternal, cause, 0));
        }
        self.reads
            .fail_all(&EtcdError::new(ErrorCode::RaftInternal, cause, 0));
        self.deadlines.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn context_round_trips() {
        assert_eq!(decode_context(&encode_context(7, 9)), Some((7, 9)));
        assert_eq!(decode_context(b"short"), None);
    }

    #[test]
    fn reads_answer_only_once_applied() {
        let mut p = Pending::starting_at(0, Duration::from_secs(5));
        let (tx, mut rx) = oneshot::channel();
        let now = Instant::now();
        p.add_read(tx, now);
        let id = p.close_read_round(now).unwrap();
        p.confirm_read(id, 10);
        p.applied_to(9);
        assert!(rx.try_recv().is_err());
        p.applied_to(10);
        assert!(rx.try_recv().unwrap().is_ok());
    }

    #[test]
    fn lost_requests_are_failed_and_forgotten_after_their_deadline() {
        let ttl = Duration::from_secs(5);
        let mut p = Pending::starting_at(0, ttl);
        let now = Instant::now();
        let (tx, mut proposal) = oneshot::channel();
        p.add_proposal(10, ProposalReply::Write(tx), now);
        let (tx, mut change) = oneshot::channel();
        p.add_proposal(50, ProposalReply::Change(tx), now);
        let (tx, mut read) = oneshot::channel();
        p.add_read(tx, now);
        p.close_read_round(now).unwrap();
        let (tx, mut confirmed) = oneshot::channel();
        p.add_read(tx, now);
        let id = p.close_read_round(now).unwrap();
        p.confirm_read(id, 100);
        assert_eq!(p.len(), 4);
        p.sweep(now);
        assert_eq!(p.len(), 4, "nothing expired yet");
        p.sweep(now + ttl);
        assert_eq!(p.len(), 0);
        assert!(proposal.try_recv().unwrap().is_err());
        assert!(matches!(
            change.try_recv().unwrap(),
            Err(MembershipError::Cluster(_))
        ));
        assert!(read.try_recv().unwrap().is_err());
        assert!(confirmed.try_recv().unwrap().is_err());
        // An answered proposal's stale deadline is harmless.
        let (tx, _rx) = oneshot::channel();
        p.add_proposal(4, ProposalReply::Write(tx), now);
        p.complete_proposal(4, Answer::Write(Ok(vec![])));
        p.sweep(now + ttl);
        assert!(p.has_room());
    }
}

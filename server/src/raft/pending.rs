//! Callers waiting on the raft loop: proposals by id until their entry applies, and read-index
//! requests until a quorum confirms the read index and apply has caught up with it.

use std::collections::HashMap;

use common::{ErrorCode, EtcdError};
use tokio::sync::oneshot;

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

type ProposalReply = oneshot::Sender<Result<Vec<Event>, EtcdError>>;
type ReadReply = oneshot::Sender<Result<(), EtcdError>>;

/// Everything the loop owes an answer to.
#[derive(Default)]
pub struct Pending {
    next_id: u64,
    proposals: HashMap<ProposalId, ProposalReply>,
    reads_unconfirmed: HashMap<u64, ReadReply>,
    /// Confirmed reads waiting for apply to reach their index.
    reads_confirmed: Vec<(u64, ReadReply)>,
}

impl Pending {
    /// Ids start at `first` (the clock at start): an entry proposed before a restart can then
    /// never be taken for one proposed after it.
    pub fn starting_at(first: u64) -> Pending {
        Pending {
            next_id: first,
            ..Pending::default()
        }
    }

    /// A fresh id.
    pub fn next_id(&mut self) -> u64 {
        self.next_id += 1;
        self.next_id
    }

    /// Remembers a proposal's caller.
    pub fn add_proposal(&mut self, id: ProposalId, reply: ProposalReply) {
        self.proposals.insert(id, reply);
    }

    /// Answers a proposal whose entry was applied.
    pub fn complete_proposal(&mut self, id: ProposalId, res: Result<Vec<Event>, EtcdError>) {
        if let Some(reply) = self.proposals.remove(&id) {
            let _ = reply.send(res);
        }
    }

    /// Remembers a read-index caller under `id` (the read context).
    pub fn add_read(&mut self, id: u64, reply: ReadReply) {
        self.reads_unconfirmed.insert(id, reply);
    }

    /// A quorum confirmed read `id` at `index`.
    pub fn confirm_read(&mut self, id: u64, index: u64) {
        if let Some(reply) = self.reads_unconfirmed.remove(&id) {
            self.reads_confirmed.push((index, reply));
        }
    }

    /// Answers the confirmed reads whose index has been applied.
    pub fn applied_to(&mut self, applied: u64) {
        let mut i = 0;
        while i < self.reads_confirmed.len() {
            if self.reads_confirmed[i].0 <= applied {
                let (_, reply) = self.reads_confirmed.swap_remove(i);
                let _ = reply.send(Ok(()));
            } else {
                i += 1;
            }
        }
    }

    /// Fails everything waiting (leadership lost, or shutting down): the caller hears an honest
    /// error; an entry that still commits later is applied all the same.
    pub fn fail_all(&mut self, cause: &str) {
        for (_, reply) in self.proposals.drain() {
            let _ = reply.send(Err(EtcdError::new(ErrorCode::RaftInternal, cause, 0)));
        }
        for (_, reply) in self.reads_unconfirmed.drain() {
            let _ = reply.send(Err(EtcdError::new(ErrorCode::RaftInternal, cause, 0)));
        }
        for (_, reply) in self.reads_confirmed.drain(..) {
            let _ = reply.send(Err(EtcdError::new(ErrorCode::RaftInternal, cause, 0)));
        }
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
        let mut p = Pending::default();
        let (tx, mut rx) = oneshot::channel();
        p.add_read(1, tx);
        p.confirm_read(1, 10);
        p.applied_to(9);
        assert!(rx.try_recv().is_err());
        p.applied_to(10);
        assert!(rx.try_recv().unwrap().is_ok());
    }
}

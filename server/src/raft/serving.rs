//! When a member may answer reads from its own store. A member that restarts replays its log
//! first, and one that joins starts empty: answering in the meantime would show acknowledged
//! keys as missing. So, as etcd 3.x does before it serves, a member serves once
//!
//! - it has applied the log up to the commit index its hard state held at start,
//! - it votes (a joiner is a learner until the leader finds it caught up and promotes it),
//! - and it has caught up with the cluster: as leader, applied everything committed once an
//!   entry of its own term committed; as follower, a ReadIndex round answered (which the
//!   loop's pending reads confirm only once apply reached the leader's commit index).
//!
//! The state only ever goes from catching up to serving: afterwards a member's local reads
//! are as current as its log, as everywhere in etcd (a `quorum=true` read is linearizable).

use std::time::{Duration, Instant};

use common::EtcdError;
use raft::StateRole;
use tokio::sync::oneshot::{self, error::TryRecvError};

use super::driver::RaftLoop;
use super::REQUEST_TIMEOUT;
use crate::storage::LogStore;

/// How long a read waits for a catching-up member before it fails with 300.
pub const CATCH_UP_WAIT: Duration = REQUEST_TIMEOUT;

/// A catch-up ReadIndex round not answered in this time is asked again (a leader that has not
/// committed in its term yet drops read requests without an answer).
pub const CATCH_UP_READ_RETRY: Duration = Duration::from_millis(500);

/// What the raft loop knows about its catch-up.
pub(crate) struct CatchUp {
    /// The commit index of the hard state at start.
    start_commit: u64,
    /// The catch-up read in flight and when it was asked.
    read: Option<(Instant, oneshot::Receiver<Result<(), EtcdError>>)>,
    /// Caught up: the member serves.
    pub done: bool,
    /// The election ticks of a restart were advanced (see `RaftLoop::advance_election_ticks`).
    pub ticks_advanced: bool,
}

/// What the loop should do next for a follower's catch-up read.
pub(crate) enum ReadStep {
    /// The round is answered: the member caught up.
    Confirmed,
    /// A round is in flight: wait.
    Waiting,
    /// Ask (again).
    Ask,
}

impl CatchUp {
    /// Catch-up of a member whose hard state says `start_commit` was committed.
    pub fn new(start_commit: u64) -> CatchUp {
        CatchUp {
            start_commit,
            read: None,
            done: false,
            ticks_advanced: false,
        }
    }

    /// Whether the member restarted with a log (a fresh one starts at commit 0).
    pub fn restarted(&self) -> bool {
        self.start_commit > 0
    }

    /// Whether the log known at start has been applied.
    pub fn replayed(&self, applied: u64) -> bool {
        applied >= self.start_commit
    }

    /// Where the follower's catch-up read stands at `now`.
    pub fn read_step(&mut self, now: Instant) -> ReadStep {
        let Some((since, mut rx)) = self.read.take() else {
            return ReadStep::Ask;
        };
        match rx.try_recv() {
            Ok(Ok(())) => ReadStep::Confirmed,
            // Failed (leadership changed) or dropped: ask again.
            Ok(Err(_)) | Err(TryRecvError::Closed) => ReadStep::Ask,
            Err(TryRecvError::Empty) if now.duration_since(since) >= CATCH_UP_READ_RETRY => {
                ReadStep::Ask
            }
            Err(TryRecvError::Empty) => {
                self.read = Some((since, rx));
                ReadStep::Waiting
            }
        }
    }

    /// Records the read just asked (at `now`).
    pub fn asked(&mut self, rx: oneshot::Receiver<Result<(), EtcdError>>, now: Instant) {
        self.read = Some((now, rx));
    }
}

impl<S: LogStore> RaftLoop<S> {
    /// Moves the member to serving once it caught up (see the module doc); a follower asks
    /// the leader's commit index with a ReadIndex round.
    pub(super) fn update_serving(&mut self) {
        if self.catch_up.done
            || !self.catch_up.replayed(self.applied)
            || !self.status.has_leader()
            || !self.node.raft.prs().conf().voters().contains(self.id)
        {
            return;
        }
        let now = self.clock.now();
        let caught_up = if self.node.raft.state == StateRole::Leader {
            self.node.raft.commit_to_current_term()
                && self.applied >= self.node.raft.raft_log.committed
        } else {
            match self.catch_up.read_step(now) {
                ReadStep::Confirmed => true,
                ReadStep::Waiting => false,
                ReadStep::Ask => {
                    let (reply, rx) = tokio::sync::oneshot::channel();
                    self.pending.add_read(reply, now);
                    self.catch_up.asked(rx, now);
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
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_read_is_asked_again_when_it_fails_and_confirms_once_answered() {
        let now = Instant::now();
        let mut c = CatchUp::new(10);
        assert!(!c.replayed(9));
        assert!(c.replayed(10));
        assert!(matches!(c.read_step(now), ReadStep::Ask));
        let (tx, rx) = oneshot::channel();
        c.asked(rx, now);
        assert!(matches!(c.read_step(now), ReadStep::Waiting));
        tx.send(Err(EtcdError::new(common::ErrorCode::RaftInternal, "x", 0)))
            .unwrap();
        assert!(matches!(c.read_step(now), ReadStep::Ask));
        let (tx, rx) = oneshot::channel();
        c.asked(rx, now);
        tx.send(Ok(())).unwrap();
        assert!(matches!(c.read_step(now), ReadStep::Confirmed));
        let (tx, rx) = oneshot::channel();
        c.asked(rx, now);
        drop(tx);
        assert!(matches!(c.read_step(now), ReadStep::Ask));
    }
}

//! Duties the loop does on its ticks beyond raft's own: the leader expires keys through the
//! log and promotes learners that caught up; every member makes sure the member table holds
//! its current record; message rates are sampled for the stats.

use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use raft::eraftpb::ConfChangeType;
use raft::StateRole;

use super::driver::RaftLoop;
use crate::cluster::ChangeContext;
use crate::command::{ClusterCommand, Command, KeyCommand};
use crate::storage::LogStore;

/// How long an expiry proposal may stay unapplied before the leader proposes another.
const EXPIRE_RETRY: Duration = Duration::from_secs(2);
/// How long a member's announcement of its URLs may stay unapplied before it is sent again.
const PUBLISH_RETRY: Duration = Duration::from_secs(3);
/// How often the leader looks for learners that caught up.
const PROMOTE_EVERY: Duration = Duration::from_millis(100);
/// A learner this close to the commit index is caught up and becomes a voter.
const CAUGHT_UP_SLACK: u64 = 64;

/// Messages per second, sampled once a second.
#[derive(Default)]
pub(super) struct RateMeter {
    at: Option<Instant>,
    sent: u64,
    received: u64,
}

impl<S: LogStore> RaftLoop<S> {
    /// The leader removes expired keys through the log, carrying its clock, so every replica
    /// expires the same keys at the same index.
    pub(super) fn maybe_expire(&mut self) {
        if self.node.raft.state != StateRole::Leader {
            return;
        }
        let at = self.clock.now();
        if let Some(since) = self.expire_in_flight {
            if at.duration_since(since) < EXPIRE_RETRY {
                return;
            }
        }
        let now = self.clock.wall();
        let due = {
            let st = self.state.read();
            st.store.next_expiration().is_some_and(|t| t <= now)
        };
        if due {
            let cmd = Command::Key(KeyCommand::Expire { now });
            if self.node.propose(Vec::new(), cmd.encode()).is_ok() {
                self.expire_in_flight = Some(at);
            }
        }
    }

    /// The leader makes learners that caught up voters, one conf change at a time.
    pub(super) fn maybe_promote(&mut self) {
        let at = self.clock.now();
        if self.node.raft.state != StateRole::Leader
            || at.duration_since(self.last_promotion) < PROMOTE_EVERY
            || self.node.raft.has_pending_conf()
        {
            return;
        }
        self.last_promotion = at;
        let committed = self.node.raft.raft_log.committed;
        let prs = self.node.raft.prs();
        let ready = prs.conf().learners().iter().copied().find(|id| {
            prs.get(*id)
                .is_some_and(|p| p.matched + CAUGHT_UP_SLACK >= committed && p.matched > 0)
        });
        if let Some(id) = ready {
            let cc = ChangeContext::at(self.clock.wall()).conf_change(ConfChangeType::AddNode, id);
            tracing::info!(member = %crate::cluster::id_hex(id), "learner caught up; promoting");
            if let Err(e) = self.node.propose_conf_change(Vec::new(), cc) {
                tracing::warn!("cannot promote learner: {e}");
            }
        }
    }

    /// Makes sure the member table holds this member's current name and URLs (they change
    /// when it restarts with other flags, and a member added by peer URL has no name yet).
    pub(super) fn maybe_publish(&mut self) {
        if self.published || !self.status.has_leader() {
            return;
        }
        let at = self.clock.now();
        if self
            .publish_in_flight
            .is_some_and(|since| at.duration_since(since) < PUBLISH_RETRY)
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
            now: self.clock.wall(),
        });
        if self.node.propose(Vec::new(), cmd.encode()).is_ok() {
            tracing::info!("publishing this member's name and URLs");
            self.publish_in_flight = Some(at);
        }
    }

    /// Messages sent and received per second, for `/v2/stats/self`.
    pub(super) fn sample_rates(&mut self) {
        let now = self.clock.now();
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
}

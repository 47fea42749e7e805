//! Read-index callers, batched: every read that arrives during one turn of the loop joins one
//! round, and the round costs raft one ReadIndex request (on a leader, one heartbeat to a
//! quorum; on a follower, one message to the leader and its answer), however many readers it
//! holds. A round confirmed at index `i` answers its readers once apply reaches `i`.
//!
//! A reader joining a round that is already in flight could be answered with an index
//! confirmed before it asked, which would not be linearizable; so a round is closed the
//! moment it is handed to raft, and later readers wait for the next one.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use common::EtcdError;
use tokio::sync::oneshot;

/// Where a read-index caller hears that it may read (or why not).
pub type ReadReply = oneshot::Sender<Result<(), EtcdError>>;

/// Readers answered together, each with the time its caller stops waiting.
struct Round {
    /// When the round was handed to raft (none while it gathers).
    asked: Option<Instant>,
    /// The earliest of the readers' deadlines.
    deadline: Instant,
    readers: Vec<(Instant, ReadReply)>,
}

impl Round {
    fn answer(self, answer: Result<(), EtcdError>) {
        for (_, reader) in self.readers {
            let _ = reader.send(answer.clone());
        }
    }

    fn merge(&mut self, other: Round) {
        self.deadline = self.deadline.min(other.deadline);
        self.readers.extend(other.readers);
    }

    /// Fails the readers whose deadline has passed; returns how many.
    fn expire(&mut self, now: Instant, error: &impl Fn() -> EtcdError) -> usize {
        if self.deadline > now {
            return 0;
        }
        let (gone, kept): (Vec<_>, Vec<_>) = std::mem::take(&mut self.readers)
            .into_iter()
            .partition(|(deadline, _)| *deadline <= now);
        self.readers = kept;
        self.deadline = self.readers.iter().map(|(d, _)| *d).min().unwrap_or(now);
        let n = gone.len();
        for (_, reader) in gone {
            let _ = reader.send(Err(error()));
        }
        n
    }
}

/// The read rounds of one member: the one gathering readers, those raft is confirming, and
/// those confirmed and waiting for apply.
pub(super) struct ReadRounds {
    ttl: Duration,
    gathering: Option<Round>,
    unconfirmed: HashMap<u64, Round>,
    /// Confirmed rounds with their read index.
    confirmed: Vec<(u64, Round)>,
    /// Readers in all rounds.
    readers: usize,
}

impl ReadRounds {
    pub(super) fn new(ttl: Duration) -> ReadRounds {
        ReadRounds {
            ttl,
            gathering: None,
            unconfirmed: HashMap::new(),
            confirmed: Vec::new(),
            readers: 0,
        }
    }

    /// Readers waiting, in every round.
    pub(super) fn len(&self) -> usize {
        self.readers
    }

    /// Whether a round waits for raft's confirmation.
    pub(super) fn in_flight(&self) -> bool {
        !self.unconfirmed.is_empty()
    }

    /// Adds a reader, asked at `now`, to the round being gathered.
    pub(super) fn add(&mut self, reply: ReadReply, now: Instant) {
        let deadline = now + self.ttl;
        let round = Round {
            asked: None,
            deadline,
            readers: vec![(deadline, reply)],
        };
        match &mut self.gathering {
            Some(gathering) => gathering.merge(round),
            None => self.gathering = Some(round),
        }
        self.readers += 1;
    }

    /// Closes the round being gathered, if it has readers, under `id`: the caller hands `id`
    /// to raft as the ReadIndex context, at `now`.
    pub(super) fn close(&mut self, id: u64, now: Instant) -> bool {
        let Some(mut round) = self.gathering.take() else {
            return false;
        };
        round.asked = Some(now);
        let m = &crate::metrics::METRICS;
        m.read_rounds.inc();
        m.read_round_readers.inc_by(round.readers.len() as u64);
        self.unconfirmed.insert(id, round);
        true
    }

    /// Raft confirmed round `id` at `index`.
    pub(super) fn confirm(&mut self, id: u64, index: u64) {
        if let Some(round) = self.unconfirmed.remove(&id) {
            self.confirmed.push((index, round));
        }
    }

    /// Answers the confirmed rounds whose index has been applied.
    pub(super) fn applied_to(&mut self, applied: u64) {
        let (ready, waiting): (Vec<_>, Vec<_>) = std::mem::take(&mut self.confirmed)
            .into_iter()
            .partition(|(index, _)| *index <= applied);
        self.confirmed = waiting;
        for (_, round) in ready {
            self.readers -= round.readers.len();
            round.answer(Ok(()));
        }
    }

    /// Fails the readers whose deadline has passed (their ReadIndex was lost, no leader came,
    /// or apply is stuck) with `error`, and drops the rounds left empty.
    pub(super) fn sweep(&mut self, now: Instant, error: impl Fn() -> EtcdError) {
        let mut gone = 0;
        if let Some(round) = &mut self.gathering {
            gone += round.expire(now, &error);
            if round.readers.is_empty() {
                self.gathering = None;
            }
        }
        for round in self.unconfirmed.values_mut() {
            gone += round.expire(now, &error);
        }
        self.unconfirmed
            .retain(|_, round| !round.readers.is_empty());
        for (_, round) in &mut self.confirmed {
            gone += round.expire(now, &error);
        }
        self.confirmed
            .retain(|(_, round)| !round.readers.is_empty());
        self.readers -= gone;
    }

    /// Puts the readers of every unconfirmed round back into the round being gathered, to be
    /// asked again: the leader changed, and a ReadIndex sent to the old one may never be
    /// answered. A read is safe to ask twice; a round confirmed already keeps its index, which
    /// a leader confirmed while it led.
    pub(super) fn ask_again(&mut self) {
        self.ask_again_if(|_| true);
    }

    /// Asks again the rounds raft has not confirmed within `patience` of `now`. raft-rs drops
    /// a ReadIndex without a word in places: a leader that has not yet committed an entry of
    /// its term drops the ones forwarded to it, and a message to a leader that just died is
    /// lost. A round asked again joins the one being gathered, which raft is asked anyway
    /// when other readers wait, so under load this costs next to nothing.
    pub(super) fn ask_again_unanswered(&mut self, now: Instant, patience: Duration) {
        self.ask_again_if(|round| {
            round
                .asked
                .is_some_and(|t| now.duration_since(t) >= patience)
        });
    }

    fn ask_again_if(&mut self, again: impl Fn(&Round) -> bool) {
        let ids: Vec<u64> = self
            .unconfirmed
            .iter()
            .filter(|(_, round)| again(round))
            .map(|(id, _)| *id)
            .collect();
        for id in ids {
            let Some(mut round) = self.unconfirmed.remove(&id) else {
                continue;
            };
            round.asked = None;
            match &mut self.gathering {
                Some(gathering) => gathering.merge(round),
                None => self.gathering = Some(round),
            }
        }
    }

    /// Fails every reader with `error` (stopping, or this member was removed).
    pub(super) fn fail_all(&mut self, error: &EtcdError) {
        let rounds = self.gathering.take().into_iter();
        let rounds = rounds
            .chain(self.unconfirmed.drain().map(|(_, r)| r))
            .chain(self.confirmed.drain(..).map(|(_, r)| r));
        for round in rounds {
            round.answer(Err(error.clone()));
        }
        self.readers = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use common::ErrorCode;

    fn reader(rounds: &mut ReadRounds, now: Instant) -> oneshot::Receiver<Result<(), EtcdError>> {
        let (tx, rx) = oneshot::channel();
        rounds.add(tx, now);
        rx
    }

    #[test]
    fn readers_of_one_turn_share_a_round_and_later_ones_wait_for_the_next() {
        let now = Instant::now();
        let mut rounds = ReadRounds::new(Duration::from_secs(5));
        let mut a = reader(&mut rounds, now);
        let mut b = reader(&mut rounds, now);
        assert!(rounds.close(1, now));
        assert!(
            !rounds.close(2, now),
            "an empty round is not handed to raft"
        );
        let mut late = reader(&mut rounds, now);
        assert!(rounds.close(3, now));
        assert_eq!(rounds.len(), 3);
        rounds.confirm(1, 10);
        rounds.applied_to(9);
        assert!(
            a.try_recv().is_err(),
            "not before apply reaches the read index"
        );
        rounds.applied_to(10);
        assert!(matches!(a.try_recv(), Ok(Ok(()))));
        assert!(matches!(b.try_recv(), Ok(Ok(()))));
        assert!(
            late.try_recv().is_err(),
            "its own round is not confirmed yet"
        );
        assert_eq!(rounds.len(), 1);
        let gone = EtcdError::new(ErrorCode::RaftInternal, "gone", 0);
        rounds.fail_all(&gone);
        assert!(matches!(late.try_recv(), Ok(Err(_))));
        assert_eq!(rounds.len(), 0);
    }

    #[test]
    fn a_leader_change_asks_unconfirmed_rounds_again_and_keeps_confirmed_ones() {
        let now = Instant::now();
        let ttl = Duration::from_secs(5);
        let mut rounds = ReadRounds::new(ttl);
        let mut confirmed = reader(&mut rounds, now);
        rounds.close(1, now);
        rounds.confirm(1, 7);
        let mut lost = reader(&mut rounds, now);
        rounds.close(2, now);
        let mut new = reader(&mut rounds, now + ttl / 2);
        rounds.ask_again();
        rounds.confirm(2, 3);
        rounds.applied_to(7);
        assert!(matches!(confirmed.try_recv(), Ok(Ok(()))));
        assert!(
            lost.try_recv().is_err(),
            "an answer for a round asked again is ignored"
        );
        assert!(
            rounds.close(3, now),
            "the lost reader rides in the next round"
        );
        rounds.confirm(3, 8);
        rounds.applied_to(8);
        assert!(matches!(lost.try_recv(), Ok(Ok(()))));
        assert!(matches!(new.try_recv(), Ok(Ok(()))));
        assert_eq!(rounds.len(), 0);
        // In a merged round each reader keeps its own deadline.
        let mut early = reader(&mut rounds, now);
        rounds.close(4, now);
        rounds.ask_again();
        let mut later = reader(&mut rounds, now + ttl / 2);
        rounds.sweep(now + ttl, || {
            EtcdError::new(ErrorCode::RaftInternal, "timed out", 0)
        });
        assert!(matches!(early.try_recv(), Ok(Err(_))));
        assert!(later.try_recv().is_err(), "not yet at its deadline");
        assert_eq!(rounds.len(), 1);
    }

    #[test]
    fn a_round_unanswered_for_too_long_is_asked_again() {
        let now = Instant::now();
        let patience = Duration::from_millis(400);
        let mut rounds = ReadRounds::new(Duration::from_secs(5));
        let mut a = reader(&mut rounds, now);
        rounds.close(1, now);
        rounds.ask_again_unanswered(now + patience / 2, patience);
        assert!(!rounds.close(2, now), "not yet");
        rounds.ask_again_unanswered(now + patience, patience);
        assert!(rounds.close(3, now + patience), "asked again");
        rounds.confirm(1, 5);
        rounds.confirm(3, 6);
        rounds.applied_to(6);
        assert!(matches!(a.try_recv(), Ok(Ok(()))));
        assert_eq!(rounds.len(), 0);
    }

    #[test]
    fn readers_waiting_for_a_leader_fail_at_their_deadline() {
        let now = Instant::now();
        let ttl = Duration::from_secs(5);
        let mut rounds = ReadRounds::new(ttl);
        let mut a = reader(&mut rounds, now);
        rounds.sweep(now + ttl, || {
            EtcdError::new(ErrorCode::RaftInternal, "timed out", 0)
        });
        assert!(matches!(a.try_recv(), Ok(Err(_))));
        assert!(!rounds.close(1, now), "nothing left to ask");
    }

    #[test]
    fn a_round_never_confirmed_fails_at_its_deadline() {
        let now = Instant::now();
        let ttl = Duration::from_secs(5);
        let mut rounds = ReadRounds::new(ttl);
        let mut a = reader(&mut rounds, now);
        rounds.close(1, now);
        let timeout = || EtcdError::new(ErrorCode::RaftInternal, "timed out", 0);
        rounds.sweep(now + ttl / 2, timeout);
        assert!(a.try_recv().is_err());
        rounds.sweep(now + ttl, timeout);
        assert!(matches!(a.try_recv(), Ok(Err(_))));
        assert_eq!(rounds.len(), 0);
    }
}

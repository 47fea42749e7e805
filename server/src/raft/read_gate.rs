//! Where linearizable readers wait for the raft loop to take them, without a message each.
//!
//! A read used to send the loop a request of its own. Under load that woke the loop's thread
//! for nearly every read, and on three members a linearizable read cost twice the server CPU
//! of a local one, though the ReadIndex rounds were already batched. Now a reader only puts
//! its reply channel in the gate; the loop takes everyone waiting at the end of each turn,
//! which is when it can start a round. A reader sends the loop a wake-up only when the gate
//! is *armed*: the loop arms it when no round is in flight, so nothing else would make it
//! turn soon. While a round is in flight its answer makes the loop turn, and the readers that
//! gathered in the meantime are taken then.

use std::sync::Mutex;

use common::{ErrorCode, EtcdError};
use tokio::sync::oneshot;

use super::reads::ReadReply;
use super::INBOX_CAPACITY;

/// Readers waiting to be taken by the loop.
#[derive(Debug)]
pub struct ReadGate {
    inner: Mutex<Gate>,
}

#[derive(Debug)]
struct Gate {
    waiting: Vec<ReadReply>,
    /// Whether the next reader must wake the loop.
    armed: bool,
    /// Why readers are refused once the loop has ended.
    closed: Option<EtcdError>,
}

/// A reader in the gate: where its answer comes, and whether it must wake the loop.
pub struct Joined {
    /// The answer, once the loop has one.
    pub answer: oneshot::Receiver<Result<(), EtcdError>>,
    /// The gate was armed: send the loop a wake-up.
    pub wake_loop: bool,
}

impl Default for ReadGate {
    fn default() -> ReadGate {
        ReadGate {
            inner: Mutex::new(Gate {
                waiting: Vec::new(),
                armed: true,
                closed: None,
            }),
        }
    }
}

impl ReadGate {
    fn lock(&self) -> std::sync::MutexGuard<'_, Gate> {
        // A panic while holding this lock leaves only a Vec of senders behind: still sound.
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Adds a reader. Refused once the loop has ended, or when [`INBOX_CAPACITY`] readers
    /// already wait (the same bound requests have).
    pub fn join(&self) -> Result<Joined, EtcdError> {
        let mut gate = self.lock();
        if let Some(why) = &gate.closed {
            return Err(why.clone());
        }
        if gate.waiting.len() >= INBOX_CAPACITY {
            return Err(EtcdError::new(
                ErrorCode::RaftInternal,
                "too many requests are waiting for the cluster; retry",
                0,
            ));
        }
        let (reply, answer) = oneshot::channel();
        gate.waiting.push(reply);
        let wake_loop = std::mem::replace(&mut gate.armed, false);
        Ok(Joined { answer, wake_loop })
    }

    /// Takes every waiting reader (whose caller still waits) and disarms the gate.
    pub(super) fn take(&self) -> Vec<ReadReply> {
        let mut gate = self.lock();
        gate.armed = false;
        let mut taken = std::mem::take(&mut gate.waiting);
        taken.retain(|reply| !reply.is_closed());
        taken
    }

    /// Arms the gate if nobody waits; returns false (and stays disarmed) when readers came
    /// since the last [`Self::take`], which the caller takes first.
    pub(super) fn arm(&self) -> bool {
        let mut gate = self.lock();
        gate.armed = gate.waiting.is_empty();
        gate.armed
    }

    /// Fails every waiting reader with `why`, and every later one.
    pub(super) fn close(&self, why: EtcdError) {
        let waiting = {
            let mut gate = self.lock();
            gate.closed = Some(why.clone());
            std::mem::take(&mut gate.waiting)
        };
        for reply in waiting {
            let _ = reply.send(Err(why.clone()));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_first_reader_after_arming_wakes_the_loop() {
        let gate = ReadGate::default();
        let first = gate.join().unwrap();
        let second = gate.join().unwrap();
        assert!(first.wake_loop, "a new gate is armed");
        assert!(!second.wake_loop, "the loop was woken already");
        assert_eq!(gate.take().len(), 2);
        let during_round = gate.join().unwrap();
        assert!(
            !during_round.wake_loop,
            "taking disarms: the round's answer makes the loop turn"
        );
        assert!(!gate.arm(), "a reader waits: take it before arming");
        assert_eq!(gate.take().len(), 1);
        assert!(gate.arm());
        assert!(gate.join().unwrap().wake_loop);
    }

    #[test]
    fn readers_whose_callers_left_are_not_taken() {
        let gate = ReadGate::default();
        let gone = gate.join().unwrap();
        let _stays = gate.join().unwrap();
        drop(gone);
        assert_eq!(gate.take().len(), 1);
    }

    #[test]
    fn a_closed_gate_fails_waiting_and_later_readers() {
        let gate = ReadGate::default();
        let mut waiting = gate.join().unwrap();
        gate.close(EtcdError::new(
            ErrorCode::RaftInternal,
            "server is stopping",
            0,
        ));
        assert!(matches!(waiting.answer.try_recv(), Ok(Err(_))));
        let later = gate.join().map(|_| ()).unwrap_err();
        assert_eq!(later.cause, "server is stopping");
    }
}

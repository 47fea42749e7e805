//! What the simulated clients did and saw: every operation with its invoke and complete times
//! (in simulated steps), and every watcher with the events it was sent and how it ended.

use checker::linearizable::{Answer, Call};

use crate::store::Action;

/// Times are `2 * step` for answers seen at a step and `2 * step + 1` for calls made at it:
/// a client looks at its answers before it calls again, so an operation invoked at the step
/// another was answered at came after it.
pub fn answered_at(step: u64) -> u64 {
    2 * step
}

/// See [`answered_at`].
pub fn invoked_at(step: u64) -> u64 {
    2 * step + 1
}

/// One client operation on one key.
#[derive(Debug, Clone)]
pub struct Record {
    /// Which client.
    pub client: usize,
    /// The key.
    pub key: String,
    /// What was asked, in the checker's terms (a prevIndex swap is named by the value the
    /// index was written with: values are never written twice).
    pub call: Call,
    /// What came back.
    pub answer: Answer,
    /// When it was asked.
    pub invoke: u64,
    /// When it was answered (unknown answers: when the client gave up).
    pub complete: u64,
    /// For a write that was done: its event's index.
    pub index: Option<u64>,
    /// Whether it set a TTL.
    pub ttl: bool,
    /// Asked with prevIndex rather than prevValue.
    pub by_index: bool,
}

/// One event as a watcher (or the store's history) shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Seen {
    /// Its etcd index.
    pub index: u64,
    /// The key.
    pub key: String,
    /// What happened.
    pub action: Action,
    /// The value after it (none for removals).
    pub value: Option<String>,
}

/// How a watcher ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WatchEnd {
    /// Still watching when the run ended.
    Open,
    /// Ended with this etcd error code (400: cleared by a snapshot install; 401: its
    /// waitIndex had left the history).
    Error(u32),
    /// Its member crashed.
    Crashed,
    /// Its stream closed without an error (dropped as too slow).
    Closed,
}

/// One watcher: where and from which index it watched, what it saw, how it ended.
#[derive(Debug, Clone)]
pub struct WatchRecord {
    /// Its member.
    pub member: u64,
    /// Its key.
    pub key: String,
    /// The first index it may be sent.
    pub from: u64,
    /// The events, in the order sent.
    pub events: Vec<Seen>,
    /// How it ended.
    pub end: WatchEnd,
}

/// Everything recorded in one run.
#[derive(Debug, Default)]
pub struct History {
    /// Writes and quorum reads.
    pub ops: Vec<Record>,
    /// Values default (local) reads returned, with the key (checked only against what was
    /// ever written: such reads are not linearizable by design).
    pub local_reads: Vec<(String, Option<String>)>,
    /// Calls refused before reaching the loop (never took effect).
    pub refused: u64,
    /// Watchers.
    pub watches: Vec<WatchRecord>,
}

impl History {
    /// Operations answered with their effect (a write done, a read's value).
    pub fn ok(&self) -> u64 {
        let done = self
            .ops
            .iter()
            .filter(|o| matches!(o.answer, Answer::Done | Answer::Value(_)))
            .count();
        (done + self.local_reads.len()) as u64
    }

    /// Operations answered with a failure that says they did nothing.
    pub fn failed(&self) -> u64 {
        let failed = self
            .ops
            .iter()
            .filter(|o| matches!(o.answer, Answer::CompareFailed | Answer::NotFound))
            .count();
        failed as u64 + self.refused
    }

    /// Writes whose outcome is unknown (timed out, or their member crashed).
    pub fn indeterminate(&self) -> u64 {
        let unknown = self.ops.iter().filter(|o| o.answer == Answer::Unknown);
        unknown.filter(|o| o.call != Call::Read).count() as u64
    }

    /// Every operation, local reads and refusals included.
    pub fn total(&self) -> u64 {
        (self.ops.len() + self.local_reads.len()) as u64 + self.refused
    }
}

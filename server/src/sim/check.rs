//! The checks every run ends with: each key's history of writes and quorum reads is
//! linearizable; no acknowledged write is missing from the converged store; every watcher was
//! sent its key's events in index order with no gap (or was ended with an error); every
//! default read returned a value some client wrote.

use std::collections::{BTreeMap, BTreeSet};

use checker::linearizable::{self, Answer, Call, Operation};

use super::history::{History, Seen, WatchEnd};

/// What the checks found.
#[derive(Debug, Default)]
pub struct Verdict {
    /// Keys whose history is not linearizable, with the checker's account.
    pub not_linearizable: Vec<String>,
    /// Acknowledged writes the converged store contradicts.
    pub lost: Vec<String>,
    /// Watchers sent events out of order, twice, or with a gap.
    pub watch_faults: Vec<String>,
    /// Default reads of values never written.
    pub phantom_reads: Vec<String>,
    /// Search states the linearizability checker explored.
    pub states: usize,
}

impl Verdict {
    /// Whether every check passed.
    pub fn passed(&self) -> bool {
        self.not_linearizable.is_empty()
            && self.lost.is_empty()
            && self.watch_faults.is_empty()
            && self.phantom_reads.is_empty()
    }
}

/// Each key's operations in the checker's terms, an expiry added for every write with a TTL.
fn per_key(history: &History) -> BTreeMap<&str, Vec<Operation>> {
    let mut keys: BTreeMap<&str, Vec<Operation>> = BTreeMap::new();
    for op in &history.ops {
        let ops = keys.entry(op.key.as_str()).or_default();
        ops.push(Operation {
            client: op.client,
            call: op.call.clone(),
            answer: op.answer.clone(),
            invoke: op.invoke,
            complete: op.complete,
        });
        if let (true, Call::Write(v)) = (op.ttl, &op.call) {
            if op.answer != Answer::NotFound && op.answer != Answer::CompareFailed {
                ops.push(Operation {
                    client: op.client,
                    call: Call::Expire(v.clone()),
                    answer: Answer::Unknown,
                    invoke: op.invoke,
                    complete: op.invoke,
                });
            }
        }
    }
    keys
}

/// The events of the run as far as anyone saw them, by index: acknowledged writes, what
/// watchers were sent, and what the converged store's history holds (`store`). Two sources
/// that disagree on an index are a failure in themselves.
fn ledger(
    history: &History,
    store: &[Seen],
    faults: &mut Vec<String>,
) -> BTreeMap<u64, (String, Option<String>)> {
    let mut ledger: BTreeMap<u64, (String, Option<String>)> = BTreeMap::new();
    let mut put = |index: u64, key: &str, value: Option<String>, from: &str| {
        let entry = (key.to_string(), value);
        match ledger.get(&index) {
            Some(had) if *had != entry => faults.push(format!(
                "index {index}: {from} says {entry:?}, another source {had:?}"
            )),
            Some(_) => {}
            None => {
                ledger.insert(index, entry);
            }
        }
    };
    for op in &history.ops {
        if let (Answer::Done, Some(index)) = (&op.answer, op.index) {
            let value = match &op.call {
                Call::Write(v) | Call::Cas { new: v, .. } => Some(v.clone()),
                _ => None,
            };
            put(index, &op.key, value, "an acknowledged write");
        }
    }
    for w in &history.watches {
        for ev in &w.events {
            put(ev.index, &ev.key, ev.value.clone(), "a watcher");
        }
    }
    for ev in store {
        put(ev.index, &ev.key, ev.value.clone(), "the converged store");
    }
    ledger
}

/// The converged cluster a run's history is checked against.
pub struct Converged<'a> {
    /// The converged store's events on the clients' keys, all of them from `from` on.
    pub store: &'a [Seen],
    /// See `store`.
    pub from: u64,
    /// The converged store's index.
    pub index: u64,
    /// The members of the converged cluster (a removed member that never learnt it may still
    /// run, on its own: its watchers are only held to what they saw).
    pub members: &'a [u64],
}

/// Runs every check on `history` against the converged cluster `end`.
pub fn check(history: &History, end: &Converged) -> Verdict {
    let (store, store_from, final_index) = (end.store, end.from, end.index);
    let mut verdict = Verdict::default();
    for (key, ops) in per_key(history) {
        match linearizable::check(&ops) {
            Ok(stats) => verdict.states += stats.states,
            Err(e) => verdict.not_linearizable.push(format!("{key}: {e}")),
        }
    }
    let ledger = ledger(history, store, &mut verdict.lost);
    let held: BTreeSet<u64> = store.iter().map(|e| e.index).collect();
    for op in &history.ops {
        let (Answer::Done, Some(index)) = (&op.answer, op.index) else {
            continue;
        };
        if index > final_index {
            verdict.lost.push(format!(
                "write {:?} on {} acknowledged at index {index}, beyond the converged index {final_index}",
                op.call, op.key
            ));
        } else if index >= store_from && !held.contains(&index) {
            verdict.lost.push(format!(
                "write {:?} on {} acknowledged at index {index}, absent from the converged history",
                op.call, op.key
            ));
        }
    }
    for (n, w) in history.watches.iter().enumerate() {
        let mut last = w.from.saturating_sub(1);
        for ev in &w.events {
            if ev.key != w.key || ev.index <= last {
                verdict.watch_faults.push(format!(
                    "watcher {n} of {} on {:x} from {}: event {} on {} after {last}",
                    w.key, w.member, w.from, ev.index, ev.key
                ));
            }
            last = last.max(ev.index);
        }
        // Everything on its key up to what it saw last (to the end, if it is still open)
        // must have been sent.
        let until = match w.end {
            WatchEnd::Open if end.members.contains(&w.member) => final_index,
            _ => last,
        };
        let sent: BTreeSet<u64> = w.events.iter().map(|e| e.index).collect();
        for (index, (key, _)) in ledger.range(w.from..=until.max(w.from)) {
            if *key == w.key && !sent.contains(index) && *index <= until {
                verdict.watch_faults.push(format!(
                    "watcher {n} of {} on {:x} from {} ({:?}): missed event {index}",
                    w.key, w.member, w.from, w.end
                ));
            }
        }
    }
    let written: BTreeSet<&str> = history
        .ops
        .iter()
        .filter_map(|o| match &o.call {
            Call::Write(v) | Call::Cas { new: v, .. } => Some(v.as_str()),
            _ => None,
        })
        .collect();
    for (key, value) in &history.local_reads {
        if let Some(v) = value {
            if !written.contains(v.as_str()) {
                verdict.phantom_reads.push(format!(
                    "a default read of {key} returned {v:?}, never written"
                ));
            }
        }
    }
    verdict
}

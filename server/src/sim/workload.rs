//! Simulated clients: each asks one thing at a time of a member the seed picks — sets (some
//! with a TTL), compare-and-swaps by prevValue and by prevIndex, deletes, quorum reads and
//! default reads — and watchers stream one key from a member. What they asked, when, and
//! what came back goes into the [`History`].

use std::collections::BTreeMap;
use std::task::{Context, Poll};

use checker::linearizable::{Answer, Call};
use common::{ErrorCode, EtcdError};
use tokio::sync::oneshot;

use super::history::{answered_at, invoked_at, History, Record, Seen, WatchEnd, WatchRecord};
use super::{Answer as Reply, Sim};
use crate::command::{Command, KeyCommand};
use crate::state::{Registration, WatchStart};
use crate::store::{Event, KeyPath};
use crate::time::{Clock, Timestamp};

/// A call waiting for its answer.
enum Waiting {
    Write(Reply),
    ReadIndex {
        via: u64,
        rx: oneshot::Receiver<Result<(), EtcdError>>,
    },
    /// A write `via`'s store says is bound to fail waits for a ReadIndex round, then is
    /// answered from the store's refusal, or proposed if it would apply by then: what the
    /// HTTP handler does (`api::keys::write`).
    Refusal {
        via: u64,
        rx: oneshot::Receiver<Result<(), EtcdError>>,
        cmd: KeyCommand,
    },
}

struct Client {
    /// The record of the call in flight, and what it waits for.
    busy: Option<(usize, Waiting, u64)>,
    /// The step it calls again at, once idle.
    next: u64,
}

/// A watcher still streaming.
struct LiveWatch {
    record: usize,
    registration: Registration,
}

/// The clients, their watchers and what they recorded.
pub struct Workload {
    keys: Vec<String>,
    clients: Vec<Client>,
    watches: Vec<LiveWatch>,
    /// Values written so far (each value is written once: `c<client>-<n>`).
    values: u64,
    /// The newest (index, value) each key was seen to have, for prevIndex swaps.
    known: BTreeMap<String, (u64, String)>,
    /// Steps a client waits for an answer before it gives up (the outcome is then unknown).
    timeout: u64,
    /// The record so far.
    pub history: History,
}

/// An etcd error as the checker reads it: the store's refusals say the write did nothing;
/// anything else (a timeout, no leader, a stopping member) leaves the outcome unknown.
fn refusal(e: &EtcdError) -> Answer {
    match e.code {
        ErrorCode::KeyNotFound => Answer::NotFound,
        ErrorCode::TestFailed => Answer::CompareFailed,
        _ => Answer::Unknown,
    }
}

impl Workload {
    /// `clients` clients over `keys` keys, giving up on an answer after `timeout` steps.
    pub fn new(clients: usize, keys: usize, timeout: u64) -> Workload {
        Workload {
            keys: (0..keys).map(|k| format!("/sim/k{k}")).collect(),
            clients: (0..clients)
                .map(|_| Client {
                    busy: None,
                    next: 0,
                })
                .collect(),
            watches: Vec::new(),
            values: 0,
            known: BTreeMap::new(),
            timeout,
            history: History::default(),
        }
    }

    /// The keys the clients use.
    pub fn keys(&self) -> &[String] {
        &self.keys
    }

    /// Whether any call is still waiting.
    pub fn busy(&self) -> bool {
        self.clients.iter().any(|c| c.busy.is_some())
    }

    /// One step of the clients: answers are looked at, then idle clients call (when
    /// `calling`), and watchers are drained.
    pub fn poll(&mut self, sim: &mut Sim, calling: bool) {
        let step = sim.now_step();
        for c in 0..self.clients.len() {
            self.collect(sim, c, step);
        }
        if calling {
            for c in 0..self.clients.len() {
                if self.clients[c].busy.is_none() && self.clients[c].next <= step {
                    self.call(sim, c, step);
                }
            }
        }
        self.drain_watches(sim);
    }

    fn learn(&mut self, key: &str, ev: &Event) {
        if let Some(v) = &ev.node.value {
            self.known
                .insert(key.to_string(), (ev.node.modified_index, v.clone()));
        }
    }

    /// Looks at client `c`'s answer, if it came (or it waited too long).
    fn collect(&mut self, sim: &mut Sim, c: usize, step: u64) {
        let Some((rec, waiting, since)) = self.clients[c].busy.take() else {
            return;
        };
        let key = self.history.ops[rec].key.clone();
        let outcome = match waiting {
            Waiting::Write(mut rx) => match rx.try_recv() {
                Ok(Ok(events)) => {
                    let ev = events.first();
                    if let Some(ev) = ev {
                        self.learn(&key, ev);
                    }
                    Some((Answer::Done, ev.map(|e| e.index)))
                }
                Ok(Err(e)) => Some((refusal(&e), None)),
                Err(oneshot::error::TryRecvError::Closed) => Some((Answer::Unknown, None)),
                Err(oneshot::error::TryRecvError::Empty) => {
                    if step - since < self.timeout {
                        self.clients[c].busy = Some((rec, Waiting::Write(rx), since));
                        return;
                    }
                    Some((Answer::Unknown, None))
                }
            },
            Waiting::Refusal { via, mut rx, cmd } => match rx.try_recv() {
                // Confirmed by a member that stopped (or left) since: the call gets no answer.
                Ok(Ok(())) if !sim.up().contains(&via) => Some((Answer::Unknown, None)),
                Ok(Ok(())) => match sim.refusal(via, &cmd) {
                    Some(e) => Some((refusal(&e), None)),
                    None => match sim.propose(via, Command::Key(cmd)) {
                        Ok(rx) => {
                            self.clients[c].busy = Some((rec, Waiting::Write(rx), since));
                            return;
                        }
                        Err(_) => Some((Answer::Unknown, None)),
                    },
                },
                Ok(Err(_)) | Err(oneshot::error::TryRecvError::Closed) => {
                    Some((Answer::Unknown, None))
                }
                Err(oneshot::error::TryRecvError::Empty) => {
                    if step - since < self.timeout {
                        let waiting = Waiting::Refusal { via, rx, cmd };
                        self.clients[c].busy = Some((rec, waiting, since));
                        return;
                    }
                    Some((Answer::Unknown, None))
                }
            },
            Waiting::ReadIndex { via, mut rx } => match rx.try_recv() {
                Ok(Ok(())) => match sim.local_get(via, &key) {
                    Some(Ok(ev)) => {
                        self.learn(&key, &ev);
                        Some((Answer::Value(ev.node.value.clone()), None))
                    }
                    Some(Err(e)) if e.code == ErrorCode::KeyNotFound => {
                        Some((Answer::Value(None), None))
                    }
                    _ => Some((Answer::Unknown, None)),
                },
                Ok(Err(_)) | Err(oneshot::error::TryRecvError::Closed) => {
                    Some((Answer::Unknown, None))
                }
                Err(oneshot::error::TryRecvError::Empty) => {
                    if step - since < self.timeout {
                        let waiting = Waiting::ReadIndex { via, rx };
                        self.clients[c].busy = Some((rec, waiting, since));
                        return;
                    }
                    Some((Answer::Unknown, None))
                }
            },
        };
        if let Some((answer, index)) = outcome {
            let op = &mut self.history.ops[rec];
            op.answer = answer;
            op.index = index;
            op.complete = answered_at(step);
        }
        self.clients[c].next = step + sim.draw(0, 20);
    }

    fn next_value(&mut self, c: usize) -> String {
        self.values += 1;
        format!("c{c}-{}", self.values)
    }

    /// Client `c` calls: what, on which key, through which member, the seed decides.
    fn call(&mut self, sim: &mut Sim, c: usize, step: u64) {
        let up = sim.up();
        if up.is_empty() {
            return;
        }
        let via = up[sim.draw(0, up.len() as u64 - 1) as usize];
        let key = self.keys[sim.draw(0, self.keys.len() as u64 - 1) as usize].clone();
        let now = sim.wall();
        let roll = sim.draw(0, 99);
        if roll < 8 {
            self.watch(sim, via, &key);
            self.clients[c].next = step + 1;
            return;
        }
        if roll < 18 {
            let value = sim.local_get(via, &key).and_then(|r| r.ok());
            let value = value.and_then(|ev| ev.node.value);
            self.history.local_reads.push((key, value));
            self.clients[c].next = step + sim.draw(0, 20);
            return;
        }
        if roll < 40 {
            let Ok(rx) = sim.read_index(via) else {
                self.history.refused += 1;
                return;
            };
            self.begin(
                c,
                key,
                Call::Read,
                Waiting::ReadIndex { via, rx },
                step,
                false,
            );
            return;
        }
        let path = KeyPath::from(key.as_str());
        let (call, cmd, ttl, by_index) = match roll {
            40..=69 => {
                let value = self.next_value(c);
                let ttl = sim.draw(0, 9) == 0;
                let expire_at = ttl.then(|| now.plus_secs(1));
                let cmd = KeyCommand::Set {
                    key: path,
                    value: value.clone(),
                    dir: false,
                    expire_at,
                    refresh: false,
                    now,
                };
                (Call::Write(value), cmd, ttl, false)
            }
            70..=87 => {
                let new = self.next_value(c);
                let known = self.known.get(&key).cloned();
                let by_index = known.is_some() && sim.draw(0, 1) == 0;
                let (expect, prev_index) = match known {
                    Some((index, v)) if by_index => (v, index),
                    Some((_, v)) => (v, 0),
                    None => ("never-written".to_string(), 0),
                };
                let cmd = KeyCommand::CompareAndSwap {
                    key: path,
                    value: new.clone(),
                    prev_value: (!by_index).then(|| expect.clone()),
                    prev_index,
                    expire_at: None,
                    refresh: false,
                    now,
                };
                (Call::Cas { expect, new }, cmd, false, by_index)
            }
            _ => {
                let cmd = KeyCommand::Delete {
                    key: path,
                    dir: false,
                    recursive: false,
                    now,
                };
                (Call::Delete, cmd, false, false)
            }
        };
        let waiting = match sim.refusal(via, &cmd) {
            Some(_) => sim
                .read_index(via)
                .map(|rx| Waiting::Refusal { via, rx, cmd }),
            None => sim.propose(via, Command::Key(cmd)).map(Waiting::Write),
        };
        match waiting {
            Ok(w) => self.begin(c, key, call, w, step, ttl),
            Err(_) => self.history.refused += 1,
        }
        if by_index {
            if let Some(op) = self.history.ops.last_mut() {
                op.by_index = true;
            }
        }
    }

    fn begin(&mut self, c: usize, key: String, call: Call, w: Waiting, step: u64, ttl: bool) {
        self.history.ops.push(Record {
            client: c,
            key,
            call,
            answer: Answer::Unknown,
            invoke: invoked_at(step),
            complete: invoked_at(step),
            index: None,
            ttl,
            by_index: false,
        });
        self.clients[c].busy = Some((self.history.ops.len() - 1, w, step));
    }

    /// Starts a streaming watcher on `key` at `via`, from now or from a recent index.
    fn watch(&mut self, sim: &mut Sim, via: u64, key: &str) {
        let index = sim.store_index(via);
        let back = sim.draw(0, 30);
        let wait_index = if back == 0 {
            0
        } else {
            index.saturating_sub(back) + 1
        };
        let mut record = WatchRecord {
            member: via,
            key: key.to_string(),
            from: wait_index.max(1),
            events: Vec::new(),
            end: WatchEnd::Open,
        };
        sim.note(format!(
            "watch {key} on {via:x} from {wait_index} at index {index}"
        ));
        match sim.watch(via, key, wait_index) {
            Ok(WatchStart::Registered {
                index,
                replay,
                watcher,
            }) => {
                if wait_index == 0 {
                    record.from = index + 1;
                }
                record.events = replay.iter().map(|e| seen(e)).collect();
                self.history.watches.push(record);
                self.watches.push(LiveWatch {
                    record: self.history.watches.len() - 1,
                    registration: watcher,
                });
            }
            Ok(WatchStart::Immediate { event, .. }) => {
                record.events.push(seen(&event));
                record.end = WatchEnd::Closed;
                self.history.watches.push(record);
            }
            Err(e) => {
                record.end = WatchEnd::Error(e.code.code());
                self.history.watches.push(record);
            }
        }
    }

    /// Takes what every live watcher was sent; ends the watchers of members that are gone.
    pub fn drain_watches(&mut self, sim: &Sim) {
        let waker = futures::task::noop_waker();
        let mut cx = Context::from_waker(&waker);
        let history = &mut self.history;
        self.watches.retain_mut(|w| {
            let record = &mut history.watches[w.record];
            if !sim.is_up(record.member) {
                record.end = WatchEnd::Crashed;
                return false;
            }
            loop {
                match w.registration.poll_recv(&mut cx) {
                    Poll::Ready(Some(Ok(ev))) => record.events.push(seen(&ev)),
                    Poll::Ready(Some(Err(e))) => {
                        record.end = WatchEnd::Error(e.code.code());
                        return false;
                    }
                    Poll::Ready(None) => {
                        record.end = WatchEnd::Closed;
                        return false;
                    }
                    Poll::Pending => return true,
                }
            }
        });
    }
}

fn seen(ev: &Event) -> Seen {
    Seen {
        index: ev.index,
        key: ev.node.key.clone(),
        action: ev.action,
        value: ev.node.value.clone(),
    }
}

impl Sim {
    /// The wall time the members read.
    pub fn wall(&self) -> Timestamp {
        self.clock.wall()
    }

    /// Asks member `via` for a ReadIndex round (a quorum read's first half).
    pub fn read_index(
        &mut self,
        via: u64,
    ) -> Result<oneshot::Receiver<Result<(), EtcdError>>, String> {
        self.record(format!("read index via {via:x}"));
        let member = self.members.get(&via).ok_or("no such member")?;
        member.handle.join_read().map_err(|e| e.to_string())
    }

    /// The error member `via`'s store says `cmd` is bound to fail with (`None`: it would
    /// apply, or the member is not running).
    pub fn refusal(&self, via: u64, cmd: &KeyCommand) -> Option<EtcdError> {
        let member = self.members.get(&via).filter(|m| m.exit.is_none())?;
        member.handle.state.refusal(cmd)
    }

    /// What a GET of `key` on member `via`'s store answers now (`None`: it is not running).
    pub fn local_get(&self, via: u64, key: &str) -> Option<Result<Event, EtcdError>> {
        let member = self.members.get(&via).filter(|m| m.exit.is_none())?;
        let st = member.handle.state.read();
        Some(st.store.get(&KeyPath::from(key), false, self.clock.wall()))
    }

    /// Member `via`'s store index (0 when it is not running).
    pub fn store_index(&self, via: u64) -> u64 {
        self.members.get(&via).map_or(0, |m| m.handle.state.index())
    }

    /// Starts a streaming watch of `key` on member `via`.
    pub fn watch(&self, via: u64, key: &str, wait_index: u64) -> Result<WatchStart, EtcdError> {
        let member = self
            .members
            .get(&via)
            .ok_or_else(|| EtcdError::new(ErrorCode::RaftInternal, "no such member", 0))?;
        member
            .handle
            .state
            .watch(&KeyPath::from(key), false, wait_index, true)
    }
}

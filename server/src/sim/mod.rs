//! Deterministic simulation of a cluster of real members in one process: each member is the
//! server's own raft loop, state machine, apply path and raft-engine storage (in a temporary
//! directory, its log on a simulated disk, [`SimDisk`]), driven turn by turn under one
//! [`SimClock`], with messages carried by an in-memory network that delays, drops and
//! duplicates them as a seed decides.
//!
//! Why not `turmoil` or `madsim`: turmoil simulates tokio's networking and timers, and madsim
//! replaces tokio and std time; the raft loop is neither: it is a std thread blocking on a
//! channel, and its network is a trait. Giving the loop a steppable [`RaftLoop::turn`], a
//! [`Clock`](crate::time::Clock) and a [`Network`](crate::transport::Network) makes a run
//! deterministic with no runtime underneath; the HTTP transport keeps its own tests, which run
//! real processes.
//!
//! A run is a sequence of steps of [`Sim::step`]: time moves by one quantum, the messages due
//! arrive in (time, send order), and every running member whose loop would wake (a request
//! waits, a tick is due) takes one turn, in id order; what a member sends is scheduled with a
//! delay drawn from the seed (or lost). Everything observable goes into a trace, so two runs
//! with the same seed can be compared line by line.
//!
//! On top of the cluster: the faults (`faults`), membership changes (`membership`), the
//! clients and watchers (`workload`, recording into `history`), the checks (`check`), and the
//! seeded run that puts them together and adds up its [`Figures`] (`run`).

mod check;
mod clock;
mod faults;
mod figures;
mod history;
mod membership;
mod network;
mod observe;
mod run;
#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_faults;
#[cfg(test)]
mod tests_regress;
#[cfg(test)]
mod tests_snapshot;
mod worker;
mod workload;

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::time::Duration;

use ::raft::eraftpb::{Message, MessageType};
use ::raft::StateRole;
use common::EtcdError;
use tokio::sync::oneshot;

use crate::cluster::member_id;
use crate::command::Command;
use crate::raft::{self, LoopExit, RaftConfig, RaftHandle, RaftLoop, Request, StartMode};
use crate::seeded::SplitMix64;
use crate::storage::{RaftStorage, SimDisk, SimFs};
use crate::store::Event;
use crate::time::Timestamp;
use crate::transport::{PeerReport, PeerSink};

pub use clock::SimClock;
pub use faults::{Fault, Partition};
pub use network::SimNetwork;
pub use run::{run_seed, Figures, RunConfig};

/// The answer a caller waits for (a proposal's events).
pub type Answer = oneshot::Receiver<Result<Vec<Arc<Event>>, EtcdError>>;

/// The answer to a membership change.
pub type ChangeAnswer = oneshot::Receiver<Result<Vec<Arc<Event>>, crate::cluster::MembershipError>>;

/// How the simulated network and members behave.
#[derive(Clone)]
pub struct SimConfig {
    /// How far time moves per step.
    pub quantum: Duration,
    /// Fewest and most steps a message travels.
    pub min_delay_steps: u64,
    /// See `min_delay_steps`.
    pub max_delay_steps: u64,
    /// Messages lost, per thousand.
    pub drop_per_mille: u64,
    /// Messages delivered twice (the copy with a delay of its own), per thousand.
    pub dup_per_mille: u64,
    /// Raft tick of every member.
    pub tick: Duration,
    /// Ticks before a follower campaigns.
    pub election_ticks: usize,
    /// Applied entries between a member's snapshots.
    pub snapshot_count: u64,
    /// Where members write their snapshots: inline by default, so a run stays deterministic.
    pub snapshots: Arc<dyn raft::SnapshotRunner>,
}

impl Default for SimConfig {
    fn default() -> SimConfig {
        SimConfig {
            quantum: Duration::from_millis(1),
            min_delay_steps: 1,
            max_delay_steps: 10,
            drop_per_mille: 10,
            dup_per_mille: 0,
            tick: Duration::from_millis(100),
            election_ticks: 10,
            snapshot_count: 10_000,
            snapshots: Arc::new(raft::InlineRunner),
        }
    }
}

/// One incarnation of a simulated member (a crash ends it; a restart makes another).
struct Member {
    name: String,
    handle: RaftHandle,
    /// Away on its worker during a turn only.
    raft: Option<Box<SimLoop>>,
    /// Where its loop's turns run (declared after `raft`: the loop is dropped first).
    worker: worker::Worker,
    mailbox: raft::Mailbox,
    network: Arc<SimNetwork>,
    /// Why its loop ended, once it did.
    exit: Option<LoopExit>,
    /// Term, role and leader last traced.
    seen: (u64, StateRole, u64),
}

/// What outlives a member's incarnations: its data dir (snapshot files on the real disk) and
/// its simulated log disk.
struct Node {
    name: String,
    dir: tempfile::TempDir,
    disk: Arc<SimDisk>,
    mode: StartMode,
    /// Incarnations started so far.
    started: u64,
}

type SimLoop = RaftLoop<RaftStorage<SimFs>>;

impl Member {
    fn raft(&self) -> &SimLoop {
        self.raft
            .as_ref()
            .expect("the member's loop is home between turns")
    }
}

/// Size of a simulated member's log files: small, so compaction purges files often.
const SIM_LOG_FILE: raft_engine::ReadableSize = raft_engine::ReadableSize::kb(256);

/// A simulated cluster.
pub struct Sim {
    cfg: SimConfig,
    clock: Arc<SimClock>,
    seed: u64,
    rng: SplitMix64,
    step: u64,
    /// The running incarnations.
    members: BTreeMap<u64, Member>,
    /// Every member ever started, running or down.
    nodes: BTreeMap<u64, Node>,
    /// Messages in flight by (arrival step, send order).
    in_flight: BTreeMap<(u64, u64), Message>,
    sent: u64,
    /// Links cut, as (from, to): a message on one is lost.
    cut: BTreeSet<(u64, u64)>,
    trace: Vec<String>,
}

impl Sim {
    /// An empty cluster whose every choice follows from `seed`.
    pub fn new(seed: u64, cfg: SimConfig) -> Sim {
        Sim {
            cfg,
            // A fixed wall time: what goes into the log does not depend on the day.
            clock: Arc::new(SimClock::new(Timestamp(1_700_000_000_000_000_000))),
            seed,
            rng: SplitMix64::new(seed),
            step: 0,
            members: BTreeMap::new(),
            nodes: BTreeMap::new(),
            in_flight: BTreeMap::new(),
            sent: 0,
            cut: BTreeSet::new(),
            trace: Vec::new(),
        }
    }

    /// Starts the first member of a new cluster; returns its id.
    pub fn bootstrap(&mut self, name: &str) -> u64 {
        let id = member_id(name);
        self.add_node(name, id, StartMode::NewCluster);
        self.start(id).expect("a new member starts");
        id
    }

    pub(super) fn add_node(&mut self, name: &str, id: u64, mode: StartMode) {
        let node = Node {
            name: name.to_string(),
            dir: tempfile::tempdir().expect("temp dir"),
            disk: SimDisk::new(),
            mode,
            started: 0,
        };
        self.nodes.insert(id, node);
    }

    /// Starts an incarnation of member `id` (added before) on its data dir and disk: the
    /// first, or one after a crash. Fails as the server would refuse to start.
    pub fn start(&mut self, id: u64) -> Result<(), String> {
        let node = self.nodes.get_mut(&id).ok_or("no such member")?;
        node.started += 1;
        let (name, mode) = (node.name.clone(), node.mode.clone());
        let dir = node.dir.path().to_path_buf();
        let fs = node.disk.file_system();
        let worker = worker::Worker::new();
        let open_dir = dir.clone();
        let storage = worker
            .run(move || RaftStorage::open_on(&open_dir, fs, SIM_LOG_FILE))
            .map_err(|e| format!("{name} cannot open its storage: {e}"))?;
        let network = SimNetwork::new(storage.snapshot_files().clone());
        let (mailbox, inbox) = raft::mailbox();
        let cfg = RaftConfig {
            id,
            name: name.to_string(),
            peer_url: format!("sim://{name}"),
            client_url: format!("sim://{name}/client"),
            data_dir: dir,
            snapshot_count: self.cfg.snapshot_count,
            tick: self.cfg.tick,
            election_ticks: self.cfg.election_ticks,
            history_size: 1000,
            mode,
        };
        let env = raft::Env {
            clock: self.clock.clone(),
            network: network.clone(),
            // Each incarnation draws its own election timeouts, all from the run's seed.
            seed: self.seed ^ self.step.rotate_left(17),
            snapshots: self.cfg.snapshots.clone(),
            log_sync: raft::LogSyncMode::Deferred,
        };
        let (handle, raft) = worker
            .run(move || {
                raft::prepare(cfg, storage, env, inbox)
                    .map(|(h, r)| (h, Box::new(r)))
                    .map_err(|e| e.to_string())
            })
            .map_err(|e| format!("{name} does not start: {e}"))?;
        self.record(format!("start {name} id={id:x}"));
        let seen = raft.raft_state();
        self.members.insert(
            id,
            Member {
                name,
                handle,
                raft: Some(raft),
                worker,
                mailbox,
                network,
                exit: None,
                seen,
            },
        );
        Ok(())
    }

    fn record(&mut self, line: String) {
        self.trace.push(format!("{:>6} {line}", self.step));
    }

    /// One step: time moves, due messages arrive, every running member takes a turn.
    pub fn step(&mut self) {
        self.step += 1;
        self.clock.advance(self.cfg.quantum);
        let due: Vec<(u64, u64)> = self
            .in_flight
            .range(..(self.step + 1, 0))
            .map(|(k, _)| *k)
            .collect();
        for key in due {
            let msg = self.in_flight.remove(&key).expect("listed");
            self.record(format!(
                "deliver {:x}->{:x} {:?} term={} index={} commit={} entries={}",
                msg.from,
                msg.to,
                msg.get_msg_type(),
                msg.term,
                msg.index,
                msg.commit,
                msg.entries.len()
            ));
            let snapshot = msg.get_msg_type() == MessageType::MsgSnapshot;
            let (from, to) = (msg.from, msg.to);
            let delivered = match self.members.get(&to).filter(|m| m.exit.is_none()) {
                Some(m) => {
                    m.mailbox.deliver(msg);
                    true
                }
                None => false,
            };
            // What the HTTP transport tells its sender: a peer that is down does not answer,
            // and a snapshot stream's end is reported either way.
            if let Some(sender) = self.members.get(&from) {
                if !delivered {
                    sender.mailbox.report(PeerReport::Unreachable(to));
                }
                if snapshot {
                    let ok = delivered;
                    sender.mailbox.report(PeerReport::SnapshotSent { to, ok });
                }
            }
        }
        let ids: Vec<u64> = self.members.keys().copied().collect();
        for id in ids {
            self.turn(id);
        }
    }

    fn turn(&mut self, id: u64) {
        let member = self.members.get_mut(&id).expect("member");
        if member.exit.is_some() || !member.raft().wants_turn() {
            return;
        }
        let mut raft = member.raft.take().expect("the loop is home");
        let (raft, turned) = member.worker.run(move || {
            let turned = raft.turn();
            (raft, turned)
        });
        member.raft = Some(raft);
        let exit = match turned {
            Ok(exit) => exit,
            Err(e) => Some(LoopExit::StorageFailed(e.to_string())),
        };
        let now = member.raft().raft_state();
        let changed = (now != member.seen).then_some(now);
        member.seen = now;
        let sent = member.network.take_sent();
        let name = member.name.clone();
        if let Some(exit) = exit {
            self.record(format!("{name} exits: {exit}"));
            self.members.get_mut(&id).expect("member").exit = Some(exit);
        }
        if let Some((term, role, leader)) = changed {
            self.record(format!("{name} term={term} {role:?} leader={leader:x}"));
        }
        for msg in sent {
            self.route(id, msg);
        }
    }

    /// Schedules a message, or loses it (then its sender hears its peer is unreachable, as
    /// from a failed HTTP request).
    fn route(&mut self, from: u64, msg: Message) {
        let cut = self.cut.contains(&(from, msg.to));
        let lost = self.rng.between(0, 999) < self.cfg.drop_per_mille;
        if cut || lost {
            self.record(format!(
                "lose {:x}->{:x} {:?}{}",
                from,
                msg.to,
                msg.get_msg_type(),
                if cut { " (isolated)" } else { "" }
            ));
            if let Some(m) = self.members.get(&from) {
                m.mailbox.report(PeerReport::Unreachable(msg.to));
                if msg.get_msg_type() == MessageType::MsgSnapshot {
                    let to = msg.to;
                    m.mailbox.report(PeerReport::SnapshotSent { to, ok: false });
                }
            }
            return;
        }
        // Raft's own messages may arrive twice; a forwarded proposal may not: it is a
        // client's request, and applied twice it is a write made twice. The HTTP transport
        // carries each over TCP, which never delivers one twice, and never resends one.
        let duplicable = msg.get_msg_type() != MessageType::MsgPropose;
        if duplicable && self.rng.between(0, 999) < self.cfg.dup_per_mille {
            self.record(format!(
                "duplicate {:x}->{:x} {:?}",
                from,
                msg.to,
                msg.get_msg_type()
            ));
            self.schedule(msg.clone());
        }
        self.schedule(msg);
    }

    /// Puts a message in flight with a delay drawn from the seed: two messages on one link
    /// may arrive in either order.
    fn schedule(&mut self, msg: Message) {
        let delay = self
            .rng
            .between(self.cfg.min_delay_steps, self.cfg.max_delay_steps);
        self.sent += 1;
        self.in_flight.insert((self.step + delay, self.sent), msg);
    }

    /// Steps until `answer` comes, at most `max_steps` steps.
    pub fn wait<E: std::fmt::Display>(
        &mut self,
        mut answer: oneshot::Receiver<Result<Vec<Arc<Event>>, E>>,
        max_steps: u64,
    ) -> Result<Vec<Arc<Event>>, String> {
        for _ in 0..max_steps {
            match answer.try_recv() {
                Ok(res) => {
                    let line = format!("answer {}", if res.is_ok() { "ok" } else { "error" });
                    self.record(line);
                    return res.map_err(|e| e.to_string());
                }
                Err(oneshot::error::TryRecvError::Closed) => return Err("no answer".into()),
                Err(oneshot::error::TryRecvError::Empty) => self.step(),
            }
        }
        Err(format!("no answer in {max_steps} steps"))
    }

    /// Steps until `done` holds, at most `max_steps` steps; whether it did.
    pub fn run_until(&mut self, max_steps: u64, mut done: impl FnMut(&Sim) -> bool) -> bool {
        for _ in 0..max_steps {
            if done(self) {
                return true;
            }
            self.step();
        }
        done(self)
    }

    /// Proposes a write through member `via`.
    pub fn propose(&mut self, via: u64, cmd: Command) -> Result<Answer, String> {
        self.record(format!("propose via {via:x}"));
        self.members[&via]
            .handle
            .submit(|reply| Request::Propose { cmd, reply })
            .map_err(|e| e.to_string())
    }

    /// Cuts member `id` off from everyone (`false`: heals every cut link).
    pub fn isolate(&mut self, id: u64, cut: bool) {
        self.record(format!("isolate {id:x} {cut}"));
        if cut {
            let others: Vec<u64> = self.nodes.keys().copied().filter(|o| *o != id).collect();
            for o in others {
                self.cut.insert((id, o));
                self.cut.insert((o, id));
            }
        } else {
            self.cut.clear();
        }
    }

    /// The members that believe they lead, with their terms.
    pub fn leaders(&self) -> Vec<(u64, u64)> {
        self.members
            .iter()
            .filter(|(_, m)| m.exit.is_none())
            .map(|(id, m)| (*id, m.raft().raft_state()))
            .filter(|(_, (_, role, _))| *role == StateRole::Leader)
            .map(|(id, (term, _, _))| (id, term))
            .collect()
    }

    /// Member `id`'s term, role and known leader.
    pub fn raft_state(&self, id: u64) -> (u64, StateRole, u64) {
        self.members[&id].raft().raft_state()
    }

    /// Member `id`'s applied index.
    pub fn applied(&self, id: u64) -> u64 {
        self.members[&id].raft().applied()
    }

    /// The term and commit index member `id` publishes to its handlers (its responses'
    /// `X-Raft-Term` and `X-Raft-Index`).
    pub fn published_hard_state(&self, id: u64) -> (u64, u64) {
        let status = &self.members[&id].handle.status;
        (
            status.term.load(std::sync::atomic::Ordering::Relaxed),
            status
                .commit_index
                .load(std::sync::atomic::Ordering::Relaxed),
        )
    }

    /// The index of member `id`'s newest durable snapshot (0: none), and whether it is
    /// writing another.
    pub fn snapshot(&self, id: u64) -> (u64, bool) {
        let raft = self.members[&id].raft();
        (raft.snapshot_index(), raft.snapshot_in_flight())
    }

    /// The ids of the members.
    pub fn ids(&self) -> Vec<u64> {
        self.members.keys().copied().collect()
    }

    /// Everything that happened, one line per event.
    pub fn trace(&self) -> &[String] {
        &self.trace
    }

    /// The simulated time since the start.
    pub fn elapsed(&self) -> Duration {
        self.clock.elapsed()
    }
}

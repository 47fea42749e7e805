//! One seeded run: a cluster of three or five members is formed, the clients run while faults
//! come and go on a schedule drawn from the seed, then the network heals, crashed members
//! restart, the members converge and every check runs (`check.rs`). A seed decides
//! everything: the same seed replays the same run, trace for trace.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use checker::linearizable::{Answer, Call};
use raft::StateRole;

use super::check::{self, Verdict};
use super::faults::{Fault, Partition};
pub use super::figures::Figures;
use super::history::{answered_at, invoked_at, Record};
use super::workload::Workload;
use super::{ChangeAnswer, Sim, SimConfig};

/// How a run is shaped (what is not drawn from the seed).
#[derive(Debug, Clone)]
pub struct RunConfig {
    /// Steps (of 1 ms) the clients run under faults.
    pub fault_steps: u64,
    /// Inject faults (off: the clients run on a lossy network only).
    pub faults: bool,
    /// Keep the trace in the outcome.
    pub keep_trace: bool,
}

impl Default for RunConfig {
    fn default() -> RunConfig {
        RunConfig {
            fault_steps: 3_000,
            faults: true,
            keep_trace: false,
        }
    }
}

/// The outcome of one seed: its figures and its trace (when kept).
pub struct Outcome {
    /// The figures.
    pub figures: Figures,
    /// The trace, when the config kept it.
    pub trace: Vec<String>,
}

/// Membership changes in flight.
enum Change {
    Join(u64, ChangeAnswer),
    Remove(ChangeAnswer),
}

/// The run's cluster and its fault schedule.
struct Run {
    sim: Sim,
    work: Workload,
    figures: Figures,
    /// Steps at which a partition heals and a crashed member restarts.
    heal_at: Option<u64>,
    restarts: BTreeMap<u64, u64>,
    change: Option<(Change, u64)>,
    next_fault: u64,
    /// Members joined so far (bounds how many may be down at once).
    joined: u64,
}

fn config(sim_seed: &mut crate::seeded::SplitMix64) -> SimConfig {
    SimConfig {
        quantum: Duration::from_millis(1),
        min_delay_steps: 1,
        max_delay_steps: sim_seed.between(2, 12),
        drop_per_mille: sim_seed.between(0, 60),
        dup_per_mille: sim_seed.between(0, 40),
        tick: Duration::from_millis(10),
        election_ticks: 10,
        snapshot_count: sim_seed.between(15, 80),
        snapshots: Arc::new(crate::raft::InlineRunner),
    }
}

/// Runs `seed`; every check failure is in the figures' `failures`. A panic anywhere in the
/// server code is caught and reported as a failure of the seed.
pub fn run_seed(seed: u64, rc: &RunConfig) -> Outcome {
    let rc2 = rc.clone();
    let result = std::panic::catch_unwind(move || run_unguarded(seed, &rc2));
    match result {
        Ok(outcome) => outcome,
        Err(panic) => {
            let why = panic
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
                .unwrap_or_default();
            Outcome {
                figures: Figures {
                    seeds: 1,
                    failures: vec![(seed, format!("panicked: {why}"))],
                    ..Figures::default()
                },
                trace: Vec::new(),
            }
        }
    }
}

/// [`run_seed`] without catching a panic (to look into a failing seed).
pub fn run_unguarded(seed: u64, rc: &RunConfig) -> Outcome {
    let mut shape = crate::seeded::SplitMix64::new(seed ^ 0x5eed_5eed);
    let size = if shape.between(0, 2) == 0 { 5 } else { 3 };
    let mut run = Run {
        sim: Sim::new(seed, config(&mut shape)),
        work: Workload::new(
            shape.between(2, 5) as usize,
            shape.between(2, 4) as usize,
            1_000,
        ),
        figures: Figures {
            seeds: 1,
            ..Figures::default()
        },
        heal_at: None,
        restarts: BTreeMap::new(),
        change: None,
        next_fault: 300,
        joined: 0,
    };
    let why = run.go(size, rc).err();
    let mut figures = run.figures.clone();
    let h = &run.work.history;
    figures.ops = h.total();
    figures.ok = h.ok();
    figures.failed = h.failed();
    figures.indeterminate = h.indeterminate();
    figures.watchers = h.watches.len() as u64;
    figures.watch_events = h.watches.iter().map(|w| w.events.len() as u64).sum();
    if let Some(why) = why {
        figures.failures.push((seed, why));
    }
    let trace = if rc.keep_trace || !figures.failures.is_empty() {
        run.sim.trace().to_vec()
    } else {
        Vec::new()
    };
    Outcome { figures, trace }
}

/// Steps any one phase of forming or converging may take.
const PHASE: u64 = 30_000;

impl Run {
    fn go(&mut self, size: usize, rc: &RunConfig) -> Result<(), String> {
        let first = self.sim.bootstrap("m1");
        self.until("m1 leads", |s| s.leaders().len() == 1)?;
        for n in 2..=size {
            self.sim.join(first, &format!("m{n}"), PHASE)?;
            self.until("the new member votes", |s| s.voters(first).len() == n)?;
        }
        self.joined = size as u64;
        for _ in 0..rc.fault_steps {
            if rc.faults {
                self.faults()?;
            }
            self.work.poll(&mut self.sim, true);
            self.step()?;
        }
        self.converge()
    }

    /// One step, with election safety checked after it: never two leaders of one term.
    fn step(&mut self) -> Result<(), String> {
        self.sim.step();
        let mut leaders = self.sim.leaders();
        leaders.sort_by_key(|(_, term)| *term);
        for pair in leaders.windows(2) {
            if pair[0].1 == pair[1].1 {
                return Err(format!(
                    "two leaders in term {}: {:x} and {:x}",
                    pair[0].1, pair[0].0, pair[1].0
                ));
            }
        }
        Ok(())
    }

    fn until(&mut self, what: &str, mut done: impl FnMut(&Sim) -> bool) -> Result<(), String> {
        for _ in 0..PHASE {
            if done(&self.sim) {
                return Ok(());
            }
            self.work.poll(&mut self.sim, false);
            self.step()?;
        }
        Err(format!("{what}: not within {PHASE} steps"))
    }

    fn count(&mut self, fault: &Fault) {
        *self.figures.faults.entry(fault.kind()).or_default() += 1;
    }

    /// Heals, restarts and finishes membership changes that are due, then maybe starts a
    /// fault.
    fn faults(&mut self) -> Result<(), String> {
        let now = self.sim.now_step();
        if self.heal_at.is_some_and(|t| t <= now) {
            self.heal_at = None;
            self.sim.heal();
            self.count(&Fault::Heal);
        }
        let due: Vec<u64> = self
            .restarts
            .iter()
            .filter(|(_, t)| **t <= now)
            .map(|(id, _)| *id)
            .collect();
        for id in due {
            self.restarts.remove(&id);
            self.sim.start(id)?;
            self.count(&Fault::Restart(id));
        }
        self.finish_change()?;
        if now < self.next_fault {
            return Ok(());
        }
        self.next_fault = now + self.sim.draw(100, 500);
        let up = self.sim.up();
        let pick = |sim: &mut Sim, ids: &[u64]| ids[sim.draw(0, ids.len() as u64 - 1) as usize];
        let fault = match self.sim.draw(0, 9) {
            0..=3 if self.heal_at.is_none() => {
                let who = pick(&mut self.sim, &up);
                let target = self.sim.leader().filter(|_| self.sim.draw(0, 1) == 0);
                let who = target.unwrap_or(who);
                let p = match self.sim.draw(0, 3) {
                    0 => Partition::Isolate(who),
                    1 => Partition::MuteOutgoing(who),
                    2 => Partition::DeafIncoming(who),
                    _ => {
                        let ids = self.sim.node_ids();
                        let half = ids.len() / 2;
                        let skip = self.sim.draw(0, ids.len() as u64 - 1) as usize;
                        let group = ids.iter().cycle().skip(skip).take(half.max(1));
                        Partition::Split(group.copied().collect())
                    }
                };
                self.sim.partition(&p);
                self.heal_at = Some(now + self.sim.draw(100, 800));
                Fault::Partition(p)
            }
            4..=6 if self.restarts.len() < (self.joined as usize - 1) / 2 && !up.is_empty() => {
                let id = pick(&mut self.sim, &up);
                let tear = self.sim.draw(0, 1) == 0;
                self.sim.crash(id, tear);
                self.restarts.insert(id, now + self.sim.draw(50, 600));
                Fault::Crash { id, tear }
            }
            7 => {
                let by = self.sim.draw(200, 3_000) as i64 * 1_000_000;
                let by = if self.sim.draw(0, 1) == 0 { by } else { -by };
                self.sim.jump_clock(by);
                Fault::ClockJump(by)
            }
            8 if self.change.is_none() && self.sim.node_ids().len() < 7 => {
                let Some(leader) = self.sim.leader() else {
                    return Ok(());
                };
                let n = self.sim.node_ids().len() + 1;
                match self.sim.begin_join(leader, &format!("m{n}")) {
                    Ok((id, answer)) => self.change = Some((Change::Join(id, answer), now)),
                    Err(_) => return Ok(()),
                }
                Fault::Join
            }
            9 if self.change.is_none() && self.voters() > 3 => {
                let Some(leader) = self.sim.leader() else {
                    return Ok(());
                };
                let mut voters = self.sim.voters(leader);
                voters.retain(|v| !self.restarts.contains_key(v));
                if voters.is_empty() {
                    return Ok(());
                }
                let id = pick(&mut self.sim, &voters);
                match self.sim.begin_remove(leader, id) {
                    Ok(answer) => self.change = Some((Change::Remove(answer), now)),
                    Err(_) => return Ok(()),
                }
                Fault::Remove(id)
            }
            _ => return Ok(()),
        };
        self.count(&fault);
        Ok(())
    }

    fn voters(&self) -> usize {
        self.sim.leader().map_or(0, |l| self.sim.voters(l).len())
    }

    /// Starts a member whose join was applied; forgets a change that was answered.
    fn finish_change(&mut self) -> Result<(), String> {
        let Some((mut change, since)) = self.change.take() else {
            return Ok(());
        };
        let rx = match &mut change {
            Change::Join(_, rx) | Change::Remove(rx) => rx,
        };
        use tokio::sync::oneshot::error::TryRecvError;
        let answer = match rx.try_recv() {
            Ok(res) => Some(res.is_ok()),
            Err(TryRecvError::Closed) => None,
            Err(TryRecvError::Empty) if self.sim.now_step() - since < 2_000 => {
                self.change = Some((change, since));
                return Ok(());
            }
            Err(TryRecvError::Empty) => None,
        };
        // A join whose outcome is unknown starts at the end if the cluster lists the member
        // (see `converge`).
        if let (Change::Join(id, _), Some(true)) = (change, answer) {
            self.sim.start(id)?;
            self.joined += 1;
        }
        Ok(())
    }

    /// The members the leader's table lists (voters and learners).
    fn table(&self) -> Vec<u64> {
        let Some(leader) = self.sim.leader() else {
            return Vec::new();
        };
        let st = self.sim.state(leader);
        let st = st.read();
        st.members.iter().map(|m| m.id).collect()
    }

    /// Heals everything, restarts every crashed member the cluster still has, lets the calls
    /// in flight end, waits for every member to apply the same store, reads every key once
    /// more and runs the checks.
    fn converge(&mut self) -> Result<(), String> {
        self.sim.heal();
        // Every crashed member comes back (one that applied its removal refuses, as the
        // server does), so that a quorum forms again whatever was down.
        for id in self.sim.down() {
            if self.sim.incarnations(id) > 0 {
                match self.sim.start(id) {
                    Err(e) if !e.contains("was removed") => return Err(e),
                    _ => {}
                }
            }
        }
        self.restarts.clear();
        self.until("a leader after healing", |s| s.leader().is_some())?;
        while self.change.is_some() {
            self.finish_change()?;
            self.work.poll(&mut self.sim, false);
            self.step()?;
        }
        for _ in 0..PHASE {
            if !self.work.busy() {
                break;
            }
            self.work.poll(&mut self.sim, false);
            self.step()?;
        }
        let mut settled = 0;
        for _ in 0..PHASE {
            let table = self.table();
            // A member whose join's outcome was unknown starts once the cluster lists it.
            for id in self.sim.down() {
                if table.contains(&id) && self.sim.incarnations(id) == 0 {
                    self.sim.start(id)?;
                }
            }
            let members: Vec<u64> = table
                .iter()
                .copied()
                .filter(|id| self.sim.is_up(*id))
                .collect();
            let same = self.converged(&members);
            settled = if same.is_some() { settled + 1 } else { 0 };
            // Settled for a while: no expiry or promotion is still to come.
            if settled > 200 && members.len() == table.len() {
                return self.finish(same.expect("converged"));
            }
            self.work.poll(&mut self.sim, false);
            self.step()?;
        }
        let table = self.table();
        Err(format!(
            "did not converge in {PHASE} steps: members {:x?}, applied {:?}, up {:x?}",
            table,
            table
                .iter()
                .filter(|id| self.sim.is_up(**id))
                .map(|id| self.sim.applied(*id))
                .collect::<Vec<_>>(),
            self.sim.up()
        ))
    }

    /// The leader, when every member in `members` applied the same entries into the same
    /// store.
    fn converged(&self, members: &[u64]) -> Option<u64> {
        let leader = self.sim.leader()?;
        if self.sim.raft_state(leader).1 != StateRole::Leader {
            return None;
        }
        let applied = self.sim.applied(leader);
        let caught_up = |id: &u64| self.sim.knows_leader(*id) && self.sim.applied(*id) == applied;
        if !members.iter().all(caught_up) {
            return None;
        }
        // Rendered only once every member applied as far: it is the costly part.
        let store = self.sim.render(leader);
        members
            .iter()
            .all(|id| self.sim.render(*id) == store)
            .then_some(leader)
    }

    /// Steps until every running member of the table applied as far as `leader`. The final
    /// reads take steps, in which a TTL can come due and the leader expire it: a watcher on a
    /// follower that had not applied that expiry yet was counted as having missed it (seed
    /// 5999 from 5001).
    fn catch_up_with(&mut self, leader: u64) -> Result<(), String> {
        for _ in 0..PHASE {
            let target = self.sim.applied(leader);
            let behind = self
                .table()
                .into_iter()
                .filter(|id| self.sim.is_up(*id))
                .any(|id| self.sim.applied(id) < target);
            if !behind {
                return Ok(());
            }
            self.step()?;
        }
        Err(format!(
            "members did not apply as far as {leader:x} in {PHASE} steps"
        ))
    }

    /// The final quorum reads and the checks.
    fn finish(&mut self, leader: u64) -> Result<(), String> {
        let keys = self.work.keys().to_vec();
        for key in &keys {
            let invoke = invoked_at(self.sim.now_step());
            let rx = self.sim.read_index(leader)?;
            self.sim.wait_unit(rx, PHASE)?;
            let value = match self.sim.local_get(leader, key) {
                Some(Ok(ev)) => ev.node.value,
                _ => None,
            };
            self.work.history.ops.push(Record {
                client: usize::MAX,
                key: key.clone(),
                call: Call::Read,
                answer: Answer::Value(value),
                invoke,
                complete: answered_at(self.sim.now_step() + 1),
                index: None,
                ttl: false,
                by_index: false,
            });
        }
        self.catch_up_with(leader)?;
        self.work.drain_watches(&self.sim);
        let final_index = self.sim.store_index(leader);
        let (store, store_from) = self.sim.history_of(leader, &keys);
        let members = self.table();
        let end = check::Converged {
            store: &store,
            from: store_from,
            index: final_index,
            members: &members,
        };
        let verdict: Verdict = check::check(&self.work.history, &end);
        if verdict.passed() {
            return Ok(());
        }
        if std::env::var_os("SIM_DEBUG").is_some() {
            for (n, w) in self.work.history.watches.iter().enumerate() {
                eprintln!("watcher {n}: {w:?}");
            }
            for op in &self.work.history.ops {
                eprintln!("op {op:?}");
            }
            for ev in &store {
                eprintln!("store {ev:?}");
            }
        }
        let mut why = Vec::new();
        for (what, list) in [
            ("not linearizable", &verdict.not_linearizable),
            ("lost:", &verdict.lost),
            ("watch:", &verdict.watch_faults),
            ("phantom read:", &verdict.phantom_reads),
        ] {
            if !list.is_empty() {
                why.push(format!("{what} {}", list[..list.len().min(3)].join(" | ")));
            }
        }
        Err(why.join("; "))
    }
}

//! A nemesis run: three real `etcd` processes behind fault-injecting proxies, concurrent clients
//! recording every operation, and faults on a schedule (`kill -9` of a follower and of the leader,
//! SIGSTOP/SIGCONT, a follower and the leader cut off); then everything is healed and checked: each
//! register key's history is linearizable (writes, swaps, deletes, quorum and default reads), no
//! acknowledged create is missing on any member, the watcher saw every create in index order
//! (outside the ranges it was told it missed), TTL keys expired, and the members hold the same
//! store at the same index.

mod faults;
mod workload;

use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};

use crate::cluster::Cluster;
use crate::get;
use crate::linearizable::{self, Answer, Call, Operation};
pub use faults::Fault;
use workload::{register_key, Records, Workload};

/// What to run.
#[derive(Debug, Clone)]
pub struct Plan {
    /// How long the clients and faults run.
    pub duration: Duration,
    /// Concurrent clients.
    pub clients: usize,
    /// Register keys they share.
    pub keys: usize,
    /// Seed of every random choice the test makes (the processes' timing is not seeded).
    pub seed: u64,
    /// `-snapshot-count` of the members: small, so snapshots and compaction happen often.
    pub snapshot_count: u32,
}

/// The figures and verdicts of a run.
#[derive(Debug, Default)]
pub struct Report {
    /// Operations sent.
    pub ops: usize,
    /// Answered and took effect or read.
    pub ok: usize,
    /// Surely without effect.
    pub failed: usize,
    /// Why, by kind (see `workload::Records::failures`).
    pub failures: BTreeMap<String, usize>,
    /// Unknown outcome.
    pub indeterminate: usize,
    /// Faults injected, by kind.
    pub faults: BTreeMap<Fault, usize>,
    /// Search states the linearizability checker explored.
    pub checker_states: usize,
    /// Acknowledged creates missing on some member.
    pub lost: usize,
    /// Events the watcher saw.
    pub watch_events: usize,
    /// Every problem found; empty means the run passed.
    pub problems: Vec<String>,
    /// Whether the members ended with the same store at the same index.
    pub converged: bool,
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let faults: usize = self.faults.values().sum();
        let kinds: Vec<String> = self
            .faults
            .iter()
            .map(|(k, n)| format!("{k:?}:{n}"))
            .collect();
        let linearizable = !self.problems.iter().any(|p| p.contains("not linearizable"));
        write!(
            f,
            "ops={} ok={} failed={} indeterminate={} faults={faults} ({}) linearizable={} \
             lost={} watch_events={} converged={} checker_states={} failures={:?}",
            self.ops,
            self.ok,
            self.failed,
            self.indeterminate,
            kinds.join(" "),
            if linearizable { "yes" } else { "no" },
            self.lost,
            self.watch_events,
            if self.converged { "yes" } else { "no" },
            self.checker_states,
            self.failures,
        )
    }
}

/// Runs `plan` against a fresh three-member cluster of ours.
pub fn run(plan: &Plan) -> Report {
    let snapshot_count = plan.snapshot_count.to_string();
    let mut cluster = Cluster::start_with_proxies(3, &["-snapshot-count", &snapshot_count]);
    cluster.wait_for_leader(None);
    let endpoints = Arc::new(RwLock::new(
        cluster.members.iter().map(|m| m.client_url()).collect(),
    ));
    let stop = Arc::new(AtomicBool::new(false));
    let records = Arc::new(Mutex::new(Records {
        registers: vec![Vec::new(); plan.keys],
        ..Records::default()
    }));
    let work = Arc::new(Workload {
        endpoints: endpoints.clone(),
        start: Instant::now(),
        stop: stop.clone(),
        records: records.clone(),
        keys: plan.keys,
    });
    let clients: Vec<_> = (0..plan.clients)
        .map(|c| {
            let work = work.clone();
            let seed = plan.seed.wrapping_mul(1000).wrapping_add(c as u64);
            std::thread::spawn(move || work.client(c, seed))
        })
        .collect();
    let watcher = {
        let work = work.clone();
        let seed = plan.seed ^ 0x5741_5443;
        std::thread::spawn(move || work.watcher(seed))
    };
    let timer = {
        let stop = stop.clone();
        let d = plan.duration;
        std::thread::spawn(move || {
            std::thread::sleep(d);
            stop.store(true, Ordering::Relaxed);
        })
    };
    let mut report = Report {
        faults: faults::run(&mut cluster, &endpoints, &stop, plan.seed),
        ..Report::default()
    };
    timer.join().expect("timer");
    for c in clients {
        c.join().expect("a client panicked");
    }
    let watch = watcher.join().expect("the watcher panicked");

    // Healed: every member runs and agrees.
    for i in 0..cluster.members.len() {
        if cluster.members[i].pid().is_none() {
            cluster.members[i].restart();
        }
    }
    cluster.wait_for_leader(None);
    let index = cluster.wait_converged();
    let mut records = std::mem::take(&mut *records.lock().unwrap());
    final_reads(&cluster, &work, &mut records);
    report.ops = records.sent;
    report.failed = records.failed;
    report.failures = records.failures.clone();
    for (k, history) in records.registers.iter().enumerate() {
        report.ok += history
            .iter()
            .filter(|o| o.answer != Answer::Unknown)
            .count();
        report.indeterminate += history
            .iter()
            .filter(|o| o.answer == Answer::Unknown)
            .count();
        match linearizable::check(history) {
            Ok(stats) => report.checker_states += stats.states,
            Err(e) => report.problems.push(format!("{}: {e}", register_key(k))),
        }
    }
    report.ok += records.created.len();
    report.indeterminate += records.maybe_created.len();
    check_creates(&cluster, &records, &mut report);
    check_watch(&records, &watch, &mut report);
    check_converged(&cluster, index, &mut report);
    report
}

/// A quorum read of every register key on every member, after the clients stopped: the
/// final value of each history.
fn final_reads(cluster: &Cluster, work: &Workload, records: &mut Records) {
    for (k, history) in records.registers.iter_mut().enumerate() {
        for m in &cluster.members {
            let invoke = work.start.elapsed().as_nanos() as u64;
            let r = get(&format!("{}?quorum=true", m.keys(&register_key(k)))).expect("final read");
            let complete = work.start.elapsed().as_nanos() as u64;
            let value = match r.status {
                200 => r.json()["node"]["value"].as_str().map(Into::into),
                404 => None,
                s => panic!("final read of {} answered {s}: {}", register_key(k), r.body),
            };
            history.push(Operation {
                client: usize::MAX,
                call: Call::Read,
                answer: Answer::Value(value),
                invoke,
                complete,
            });
        }
    }
}

/// The append-only keys each member holds, with their created index.
fn created_on(cluster: &Cluster, i: usize) -> HashMap<String, u64> {
    let r = get(&cluster.members[i].keys("/nemesis/log?recursive=true")).expect("list");
    if r.status == 404 {
        return HashMap::new();
    }
    let v = r.json();
    v["node"]["nodes"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|n| {
            let key = n["key"].as_str().unwrap_or_default().to_string();
            (key, n["createdIndex"].as_u64().unwrap_or(0))
        })
        .collect()
}

fn check_creates(cluster: &Cluster, records: &Records, report: &mut Report) {
    for i in 0..cluster.members.len() {
        let held = created_on(cluster, i);
        for (key, index) in &records.created {
            match held.get(key) {
                None => {
                    report.lost += 1;
                    report.problems.push(format!(
                        "{} lost the acknowledged {key} (index {index})",
                        cluster.members[i].name
                    ));
                }
                Some(at) if at != index => report.problems.push(format!(
                    "{} holds {key} at index {at}, acknowledged at {index}",
                    cluster.members[i].name
                )),
                Some(_) => {}
            }
        }
        let known: std::collections::HashSet<&String> = records
            .created
            .iter()
            .map(|(k, _)| k)
            .chain(&records.maybe_created)
            .collect();
        for key in held.keys().filter(|k| !known.contains(k)) {
            report.problems.push(format!(
                "{} holds {key}, which no client created",
                cluster.members[i].name
            ));
        }
    }
}

fn check_watch(records: &Records, watch: &workload::WatchLog, report: &mut Report) {
    report.watch_events = watch.events.len();
    for d in &watch.disorder {
        report
            .problems
            .push(format!("watch event out of order: {d}"));
    }
    let seen: HashMap<&str, u64> = watch.events.iter().map(|(k, i)| (k.as_str(), *i)).collect();
    let missed = |i: u64| watch.gaps.iter().any(|(a, b)| *a <= i && i <= *b);
    for (key, index) in &records.created {
        if *index >= watch.next || missed(*index) {
            continue;
        }
        match seen.get(key.as_str()) {
            Some(at) if at == index => {}
            Some(at) => report
                .problems
                .push(format!("the watcher saw {key} at {at}, created at {index}")),
            None => report.problems.push(format!(
                "the watcher never saw {key} (created at {index}; it was told it missed {:?})",
                watch.gaps
            )),
        }
    }
}

fn check_converged(cluster: &Cluster, index: u64, report: &mut Report) {
    // TTL keys were 1 s keys: by now the leader expired them all, on every member.
    let deadline = Instant::now() + crate::cluster::AGREEMENT_DEADLINE;
    let listing = |i: usize| {
        get(&cluster.members[i].keys("/nemesis?recursive=true&sorted=true"))
            .map(|r| r.body)
            .unwrap_or_default()
    };
    loop {
        let ttl_left: usize = (0..cluster.members.len())
            .map(|i| {
                let r = get(&cluster.members[i].keys("/nemesis/ttl?recursive=true")).expect("ttl");
                if r.status == 200 {
                    r.json()["node"]["nodes"].as_array().map_or(0, Vec::len)
                } else {
                    0
                }
            })
            .sum();
        let all: Vec<String> = (0..cluster.members.len()).map(listing).collect();
        if ttl_left == 0 && all.windows(2).all(|w| w[0] == w[1]) {
            report.converged = cluster.wait_converged() >= index;
            return;
        }
        if Instant::now() > deadline {
            report.problems.push(format!(
                "members did not converge ({ttl_left} TTL keys left; the stores differ: {})",
                all.windows(2).any(|w| w[0] != w[1])
            ));
            return;
        }
        std::thread::sleep(Duration::from_millis(300));
    }
}

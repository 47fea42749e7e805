//! The fault schedule of a nemesis run: one fault at a time, each healed before the next, so a
//! majority stays able to serve and every acknowledged write must survive.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use super::workload::{Endpoints, Rng};
use crate::cluster::Cluster;

/// The kinds of fault, in the order a schedule cycles through them (shuffled by the seed).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Fault {
    /// `kill -9` of a member other than the leader, restarted after a while.
    KillFollower,
    /// `kill -9` of the leader, restarted after a while.
    KillLeader,
    /// SIGSTOP of a member, SIGCONT after a while.
    Pause,
    /// Every peer link of one follower cut, then healed.
    IsolateFollower,
    /// Every peer link of the leader cut, then healed.
    IsolateLeader,
}

const ALL: [Fault; 5] = [
    Fault::KillFollower,
    Fault::KillLeader,
    Fault::Pause,
    Fault::IsolateFollower,
    Fault::IsolateLeader,
];

/// How long a fault lasts, and the calm between two.
const FAULT_LASTS: Duration = Duration::from_millis(2_500);
const CALM: Duration = Duration::from_millis(1_500);

fn signal(pid: u32, sig: i32) {
    // SAFETY: kill(2) on a child process we started, with a valid signal number.
    unsafe {
        libc::kill(pid as i32, sig);
    }
}

/// Sleeps `d`, or less when `stop` is set.
fn pause_for(d: Duration, stop: &AtomicBool) {
    let until = Instant::now() + d;
    while Instant::now() < until && !stop.load(Ordering::Relaxed) {
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// A member other than the leader, when one runs.
fn follower(cluster: &Cluster, leader: Option<usize>, rng: &mut Rng) -> usize {
    let others: Vec<usize> = cluster.running().filter(|i| Some(*i) != leader).collect();
    others[rng.below(others.len())]
}

/// Runs faults on `cluster` until `stop`, then heals everything; returns the count by kind.
pub fn run(
    cluster: &mut Cluster,
    endpoints: &Endpoints,
    stop: &AtomicBool,
    seed: u64,
) -> BTreeMap<Fault, usize> {
    let mut rng = Rng::new(seed);
    let mut done = BTreeMap::new();
    let faults = cluster
        .faults
        .clone()
        .expect("a nemesis cluster runs behind proxies");
    pause_for(CALM, stop);
    while !stop.load(Ordering::Relaxed) {
        let fault = ALL[rng.below(ALL.len())];
        let leader = cluster.leader();
        let target = match fault {
            Fault::KillLeader | Fault::IsolateLeader => match leader {
                Some(l) => l,
                None => {
                    pause_for(CALM, stop);
                    continue;
                }
            },
            _ => follower(cluster, leader, &mut rng),
        };
        match fault {
            Fault::KillFollower | Fault::KillLeader => {
                cluster.members[target].kill9();
                pause_for(FAULT_LASTS, stop);
                cluster.members[target].restart();
            }
            Fault::Pause => {
                let pid = cluster.members[target].pid().expect("running");
                signal(pid, libc::SIGSTOP);
                pause_for(FAULT_LASTS, stop);
                signal(pid, libc::SIGCONT);
            }
            Fault::IsolateFollower | Fault::IsolateLeader => {
                faults.isolate(&cluster.id_of(target));
                pause_for(FAULT_LASTS, stop);
                faults.heal();
            }
        }
        *done.entry(fault).or_insert(0) += 1;
        *endpoints.write().unwrap() = cluster.members.iter().map(|m| m.client_url()).collect();
        pause_for(CALM, stop);
    }
    faults.heal();
    done
}

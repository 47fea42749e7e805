//! Snapshots in simulation: the loop goes on writing while a snapshot is held half-way (the
//! structural form of "a write is not blocked behind a snapshot"), records it only once its
//! file is written, and a member joining after the log was compacted is sent one.

use std::sync::{Arc, Mutex};

use super::tests::{run_checked, write, PHASE_STEPS};
use super::{Sim, SimConfig};
use crate::raft::{SnapshotJob, SnapshotRunner};
use crate::store::KeyPath;
use crate::time::Timestamp;

/// Holds snapshot jobs until the test releases them: a snapshot as slow as the test likes.
#[derive(Default)]
struct HeldRunner(Mutex<Vec<SnapshotJob>>);

impl SnapshotRunner for HeldRunner {
    fn run(&self, job: SnapshotJob) {
        self.0.lock().unwrap().push(job);
    }
}

impl HeldRunner {
    fn held(&self) -> usize {
        self.0.lock().unwrap().len()
    }

    /// Runs the held jobs on a thread of their own, as the server does, and waits for them.
    fn release(&self) {
        let jobs: Vec<SnapshotJob> = self.0.lock().unwrap().drain(..).collect();
        std::thread::spawn(move || jobs.into_iter().for_each(SnapshotJob::run))
            .join()
            .unwrap();
    }
}

fn config(snapshot_count: u64, snapshots: Arc<dyn SnapshotRunner>) -> SimConfig {
    SimConfig {
        snapshot_count,
        snapshots,
        ..SimConfig::default()
    }
}

/// Writes `value` through `via` and waits for its answer.
fn commit(sim: &mut Sim, via: u64, value: &str) {
    let cmd = write(sim, value);
    let answer = sim.propose(via, cmd).expect("proposal queued");
    sim.wait(answer, PHASE_STEPS).expect("the write commits");
}

/// A one-member cluster (snapshots written at once) that took `writes` writes, `v0` on.
fn lone_member_after(seed: u64, snapshot_count: u64, writes: usize) -> (Sim, u64) {
    let mut sim = Sim::new(
        seed,
        config(snapshot_count, Arc::new(crate::raft::InlineRunner)),
    );
    let m1 = sim.bootstrap("m1");
    run_checked(&mut sim, "m1 leads", |s| s.leaders().len() == 1);
    for i in 0..writes {
        commit(&mut sim, m1, &format!("v{i}"));
    }
    (sim, m1)
}

#[test]
fn writes_are_answered_while_a_snapshot_is_held_and_it_is_recorded_once_written() {
    let held = Arc::new(HeldRunner::default());
    let mut sim = Sim::new(11, config(20, held.clone()));
    let m1 = sim.bootstrap("m1");
    run_checked(&mut sim, "m1 leads", |s| s.leaders().len() == 1);
    // The first snapshot follows the bootstrap conf change, before any write.
    assert_eq!(
        held.held(),
        1,
        "a snapshot after the new cluster's conf change"
    );
    held.release();
    run_checked(&mut sim, "it is recorded", |s| s.snapshot(m1).0 > 0);
    let bootstrap = sim.snapshot(m1).0;
    for i in 0..40 {
        if held.held() > 0 {
            break;
        }
        commit(&mut sim, m1, &format!("before {i}"));
    }
    assert_eq!(held.held(), 1, "a snapshot started after 20 entries");
    let frozen_at = sim.applied(m1);
    assert_eq!(frozen_at, bootstrap + 20, "20 entries after the last one");
    assert_eq!(sim.snapshot(m1), (bootstrap, true));

    for i in 0..200 {
        commit(&mut sim, m1, &format!("during {i}"));
    }
    assert_eq!(held.held(), 1, "one snapshot in flight at a time");
    assert_eq!(
        sim.snapshot(m1),
        (bootstrap, true),
        "nothing is recorded before the file is written"
    );

    held.release();
    run_checked(&mut sim, "the snapshot is recorded", |s| {
        s.snapshot(m1).0 > bootstrap
    });
    assert_eq!(sim.snapshot(m1).0, frozen_at, "it holds the state it froze");
    run_checked(&mut sim, "the next one starts", |_| held.held() == 1);
    held.release();
    let target = sim.applied(m1);
    run_checked(&mut sim, "and is recorded too", |s| {
        s.snapshot(m1).0 >= target
    });
}

#[test]
fn a_member_joining_after_compaction_is_sent_a_snapshot() {
    let (mut sim, m1) = lone_member_after(12, 20, 100);
    run_checked(&mut sim, "m1 snapshots", |s| s.snapshot(m1).0 > 60);
    let m2 = sim.join(m1, "m2", PHASE_STEPS).expect("m2 joins");
    let target = sim.applied(m1);
    run_checked(&mut sim, "m2 catches up", |s| s.applied(m2) >= target);
    assert!(
        sim.snapshot(m2).0 > 0,
        "m2 started from a snapshot: the log it needed was compacted"
    );
    let value = |sim: &Sim, id| {
        let st = sim.state(id);
        let st = st.read();
        st.store
            .get(&KeyPath::from("/sim/key"), false, Timestamp(0))
            .ok()
            .and_then(|ev| ev.node.value)
    };
    assert_eq!(value(&sim, m2).as_deref(), Some("v99"));
    assert_eq!(value(&sim, m2), value(&sim, m1));
}

#[test]
fn a_lone_member_restarted_applies_its_log_before_raft_and_leads_at_once() {
    let (mut sim, m1) = lone_member_after(13, 20, 50);
    let cfg = SimConfig::default();
    let election_timeout = cfg.tick * cfg.election_ticks as u32;
    run_checked(&mut sim, "m1 snapshots", |s| s.snapshot(m1).0 > 20);
    let snapshot_index = sim.snapshot(m1).0;
    let applied = sim.applied(m1);
    sim.crash(m1, false);
    sim.start(m1).expect("m1 starts again");
    assert!(
        sim.applied(m1) > snapshot_index,
        "the committed log after the snapshot is applied as the member starts, not by raft"
    );
    let (term, commit) = sim.published_hard_state(m1);
    assert!(
        term > 0 && commit >= sim.applied(m1),
        "the term and commit index on disk are published before any Ready: {term}, {commit}"
    );
    let restarted = sim.elapsed();
    run_checked(&mut sim, "m1 leads again", |s| s.leaders().len() == 1);
    // Simulated time: a lone member that waited for a Ready to campaign waited a whole
    // election timeout, as it had nothing left for raft to replay.
    assert!(
        sim.elapsed() - restarted < election_timeout,
        "led {:?} after the restart",
        sim.elapsed() - restarted
    );
    // The commit index on disk may lag the log (it is not synced on its own): what it does
    // not cover commits again under the new term.
    run_checked(&mut sim, "m1 applies all it had", |s| {
        s.applied(m1) > applied
    });
    let st = sim.state(m1);
    let value = st
        .read()
        .store
        .get(&KeyPath::from("/sim/key"), false, Timestamp(0))
        .ok()
        .and_then(|ev| ev.node.value);
    assert_eq!(value.as_deref(), Some("v49"), "the last acknowledged write");
}

#[test]
fn a_new_cluster_restarted_before_its_snapshot_count_applies_its_log_before_raft() {
    let (mut sim, m1) = lone_member_after(14, 10_000, 50);
    let snapshot = sim.snapshot(m1).0;
    assert!(
        (1..10).contains(&snapshot),
        "one snapshot, right after the bootstrap conf change, not after 10,000 entries: {snapshot}"
    );
    sim.crash(m1, false);
    sim.start(m1).expect("m1 starts again");
    // Without that snapshot the log after it starts with the conf change, where the apply
    // before raft stops: everything went through raft's ready loop.
    assert!(
        sim.applied(m1) > snapshot + 40,
        "applied {} as it started (snapshot at {snapshot})",
        sim.applied(m1)
    );
}

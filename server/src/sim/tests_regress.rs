//! Seeds that once found a bug, kept so it stays fixed: each must pass every check.

use super::run::{run_seed, RunConfig};

fn passes(seed: u64) {
    let outcome = run_seed(seed, &RunConfig::default());
    let f = &outcome.figures;
    assert!(f.failures.is_empty(), "seed {seed}: {:?}", f.failures);
}

/// A leader that applied its own removal panicked in raft-rs as it advanced the entries it had
/// appended in the same Ready (`on_persist_entries` looks up the leader's own progress, gone
/// with the removal). The loop now ends its turn right after applying its removal.
#[test]
fn seed_9_a_leader_removing_itself_does_not_panic() {
    passes(9);
}

/// Members sharing one thread read each other's raft-engine entries through its thread-local
/// block cache (a simulation artefact: a server runs one engine per process); each member
/// incarnation now has its own thread.
#[test]
fn seed_10_members_do_not_share_raft_engine_block_caches() {
    passes(10);
}

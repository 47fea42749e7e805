//! Debug-build-only failpoints, to test from outside how the server survives a failure inside
//! the raft loop. Compiled out of release builds (the module only exists with
//! `debug_assertions`), and inert unless the environment asks for them.

use crate::command::Command;

/// Environment variable naming the failpoint to arm.
const ENV: &str = "ETCD_DEBUG_FAILPOINT";
/// Failpoint: the raft loop panics when it receives a proposal writing [`RAFT_PANIC_KEY`]
/// (before proposing it, so the log holds nothing that would panic again on restart).
const RAFT_PANIC: &str = "raft-loop-panic";
/// The key whose proposal triggers [`RAFT_PANIC`].
const RAFT_PANIC_KEY: &str = "/debug-failpoint/raft-loop-panic";

/// Panics if the raft-loop panic failpoint is armed and `cmd` writes its key.
pub(super) fn on_propose(cmd: &Command) {
    if cmd.key() == Some(RAFT_PANIC_KEY) && std::env::var(ENV).is_ok_and(|v| v == RAFT_PANIC) {
        panic!("debug failpoint {RAFT_PANIC} triggered");
    }
}

/// Aborts the process (a crash, with no clean-up) when the failpoint armed is `step`: the
/// steps of `-force-new-cluster` name theirs.
pub(super) fn crash_at(step: &str) {
    if std::env::var(ENV).is_ok_and(|v| v == step) {
        eprintln!("debug failpoint {step} triggered: aborting");
        std::process::abort();
    }
}

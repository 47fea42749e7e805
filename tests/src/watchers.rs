//! Waiting for watchers: a test that writes what a watch waits for must first know the watch is
//! registered, or the write may land before it and the watch waits for the next one. The count
//! comes from `/v2/stats/store`'s `watchers`.

use std::time::{Duration, Instant};

use crate::{get, EtcdProcess};

/// How long a wait for watchers may take before the test fails (a hang guard).
pub const WATCHER_DEADLINE: Duration = Duration::from_secs(60);

/// How many watchers the server has registered now.
pub fn count(s: &EtcdProcess) -> u64 {
    get(&s.url("/v2/stats/store"))
        .unwrap_or_else(|e| panic!("GET /v2/stats/store: {e}"))
        .json()["watchers"]
        .as_u64()
        .expect("watchers is a number")
}

/// Waits until exactly `n` watchers are registered; panics with the server's log after
/// [`WATCHER_DEADLINE`].
pub fn wait_for(s: &EtcdProcess, n: u64) {
    wait_until(s, &format!("exactly {n}"), |c| c == n);
}

/// Waits until at least `n` watchers are registered (a client may hold more than one).
pub fn wait_for_at_least(s: &EtcdProcess, n: u64) {
    wait_until(s, &format!("at least {n}"), |c| c >= n);
}

fn wait_until(s: &EtcdProcess, what: &str, done: impl Fn(u64) -> bool) {
    let deadline = Instant::now() + WATCHER_DEADLINE;
    loop {
        let c = count(s);
        if done(c) {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "watchers never reached {what} (last {c}); log:\n{}",
            s.log()
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

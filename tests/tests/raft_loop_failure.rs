//! A failure inside the raft loop ends the process with a clear log line and a non-zero exit,
//! never a zombie that answers `/health` but no write; a restart recovers. The panic comes
//! from a failpoint that exists only in debug builds (`ETCD_DEBUG_FAILPOINT`).

use std::time::{Duration, Instant};

use etcd_integration::{get, request, EtcdProcess};

/// Release builds have no failpoints: the test only means something against a debug build.
fn debug_build() -> bool {
    !etcd_integration::bin_dir().ends_with("release")
}

#[test]
fn a_panic_in_the_raft_loop_ends_the_process_and_a_restart_recovers() {
    if !debug_build() {
        eprintln!("skipped: failpoints exist only in debug builds");
        return;
    }
    // Inherited by the server this test process starts (nextest runs each test alone).
    std::env::set_var("ETCD_DEBUG_FAILPOINT", "raft-loop-panic");
    let mut p = EtcdProcess::start();
    let put = request("PUT", &p.keys("/kept"), Some("value=1")).unwrap();
    assert_eq!(put.status, 201, "{}", put.body);

    let _ = request(
        "PUT",
        &p.keys("/debug-failpoint/raft-loop-panic"),
        Some("value=x"),
    );
    let deadline = Instant::now() + Duration::from_secs(30);
    while !p.has_exited() {
        let health = get(&p.url("/health"));
        assert!(
            Instant::now() < deadline,
            "still running after the raft loop panicked (health: {health:?}); log:\n{}",
            p.log()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    let log = p.log();
    assert!(log.contains("raft loop panicked"), "{log}");
    // main prints this only on the failure exit path (exit code 2).
    assert!(log.contains("etcd: raft loop panicked"), "{log}");

    p.restart();
    let r = get(&p.keys("/kept")).unwrap();
    assert_eq!(r.status, 200, "{}", r.body);
    let put = request("PUT", &p.keys("/after"), Some("value=2")).unwrap();
    assert_eq!(put.status, 201, "{}", put.body);
}

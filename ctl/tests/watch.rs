//! `watch` and `exec-watch` against real servers: commands run per change with the
//! `ETCD_WATCH_*` environment (same as the Go etcdctl), and watches survive a server restart
//! and an index that has left etcd's history.
//!
//! Waits are bounded loops (a hang guard, not a timing assertion).

use std::path::Path;
use std::time::Duration;

use etcd_integration::ctl::{go_available, ours, Ctl, GO_ETCDCTL as GO};
use etcd_integration::{get, request, watchers, EtcdProcess, Options};

/// Polls of a condition, 100 ms apart (hang guard).
const MAX_POLLS: usize = 600;

fn set(server: &EtcdProcess, key: &str, value: &str) -> u64 {
    let r = request("PUT", &server.keys(key), Some(&format!("value={value}"))).expect("PUT");
    assert!(r.status < 300, "PUT {key}: {r:?}");
    r.etcd_index()
}

fn etcd_index(server: &EtcdProcess) -> u64 {
    get(&server.keys("/")).expect("GET /").etcd_index()
}

/// Waits until `file` has `n` lines and returns them.
fn wait_for_lines(file: &Path, n: usize) -> Vec<String> {
    for _ in 0..MAX_POLLS {
        let text = std::fs::read_to_string(file).unwrap_or_default();
        let got: Vec<String> = text.lines().map(String::from).collect();
        if got.len() >= n {
            return got;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    panic!("{} never reached {n} lines", file.display());
}

/// Runs `exec-watch` (ours or Go's) on a fresh server, makes three changes and returns the
/// lines the command appended.
fn exec_watch_lines(bin: &Path, dir: &Path, reference: bool) -> Vec<String> {
    let server = EtcdProcess::start_ours_or_reference(reference).expect("server starts");
    set(&server, "/other", "x");
    let after = etcd_index(&server).to_string();
    let file = dir.join(format!(
        "{}-{reference}.txt",
        bin.file_name().unwrap_or_default().to_string_lossy()
    ));
    let script = format!(
        "echo \"$ETCD_WATCH_ACTION $ETCD_WATCH_KEY $ETCD_WATCH_VALUE $ETCD_WATCH_MODIFIED_INDEX\" >> {}",
        file.display()
    );
    let _w = Ctl::with_bin(bin)
        .endpoints(&server.client_url())
        .args([
            "exec-watch",
            "--recursive",
            "--after-index",
            &after,
            "/wk",
            "--",
            "sh",
            "-c",
            &script,
        ])
        .spawn();
    set(&server, "/wk/a", "v9");
    set(&server, "/wk/b", "two%20words");
    request("DELETE", &server.keys("/wk/a"), None).expect("DELETE");
    let mut got = wait_for_lines(&file, 3);
    // The Go tool runs the commands concurrently, so their order may vary there.
    got.sort();
    got
}

#[test]
fn exec_watch_runs_the_command_like_the_go_etcdctl() {
    exec_watch_like_go(false);
}

#[test]
fn exec_watch_runs_the_command_like_the_go_etcdctl_on_the_reference_etcd() {
    exec_watch_like_go(true);
}

fn exec_watch_like_go(reference: bool) {
    if reference && !etcd_integration::reference_available() {
        return;
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let mine = exec_watch_lines(&ours(), dir.path(), reference);
    assert_eq!(mine.len(), 3, "{mine:?}");
    assert!(
        mine.iter().any(|l| l.starts_with("set /wk/a v9 ")),
        "{mine:?}"
    );
    assert!(
        mine.iter().any(|l| l.starts_with("set /wk/b two words ")),
        "{mine:?}"
    );
    assert!(
        mine.iter().any(|l| l.starts_with("delete /wk/a  ")),
        "{mine:?}"
    );
    if go_available() {
        assert_eq!(mine, exec_watch_lines(Path::new(GO), dir.path(), reference));
    }
}

#[test]
fn exec_watch_goes_on_after_a_failing_command() {
    let server = EtcdProcess::start();
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("runs");
    let script = format!("echo $ETCD_WATCH_VALUE >> {}; exit 3", file.display());
    let w = Ctl::with_bin(ours())
        .endpoints(&server.client_url())
        .args([
            "exec-watch",
            "--after-index",
            "1",
            "/k",
            "--",
            "sh",
            "-c",
            &script,
        ])
        .spawn();
    set(&server, "/k", "one");
    wait_for_lines(&file, 1);
    set(&server, "/k", "two");
    assert_eq!(wait_for_lines(&file, 2), ["one", "two"]);
    assert!(w.stderr_so_far().contains("exited with"));
}

#[test]
fn watch_resumes_across_a_server_restart() {
    watch_resumes(false);
}

#[test]
fn watch_resumes_across_a_reference_etcd_restart() {
    watch_resumes(true);
}

fn watch_resumes(reference: bool) {
    let Some(mut server) = EtcdProcess::start_ours_or_reference(reference) else {
        return;
    };
    set(&server, "/rk", "v0");
    let after = etcd_index(&server).to_string();
    let w = Ctl::with_bin(ours())
        .endpoints(&server.client_url())
        .args(["watch", "--forever", "--after-index", &after, "/rk"])
        .spawn();
    set(&server, "/rk", "v1");
    assert_eq!(w.next_line(), "v1");
    server.restart();
    watchers::wait_for_at_least(&server, 1);
    set(&server, "/rk", "v2");
    set(&server, "/rk", "v3");
    assert_eq!(w.next_line(), "v2");
    assert_eq!(w.next_line(), "v3");
    let err = w.stderr_so_far();
    assert!(err.contains("watch interrupted"), "stderr: {err}");
}

#[test]
fn exec_watch_resumes_across_a_server_restart() {
    let mut server = EtcdProcess::start();
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("runs");
    let script = format!("echo $ETCD_WATCH_VALUE >> {}", file.display());
    let after = set(&server, "/ek", "v0").to_string();
    let _w = Ctl::with_bin(ours())
        .endpoints(&server.client_url())
        .args([
            "exec-watch",
            "--after-index",
            &after,
            "/ek",
            "--",
            "sh",
            "-c",
            &script,
        ])
        .spawn();
    set(&server, "/ek", "v1");
    wait_for_lines(&file, 1);
    server.restart();
    watchers::wait_for_at_least(&server, 1);
    set(&server, "/ek", "v2");
    assert_eq!(wait_for_lines(&file, 2), ["v1", "v2"]);
}

#[test]
fn watch_fails_when_the_index_left_the_history() {
    let server = EtcdProcess::start_with(Options {
        extra: vec!["--history-size".into(), "5".into()],
        ..Options::default()
    });
    index_cleared(server, 20);
}

#[test]
fn watch_fails_when_the_index_left_the_reference_etcd_history() {
    // etcd 3.4 keeps the last 1000 events.
    if let Some(server) = EtcdProcess::start_ours_or_reference(true) {
        index_cleared(server, 1010);
    }
}

/// A gap in the changes is an error a script sees (exit 4 with etcd's 401), as with the Go
/// etcdctl, never a warning followed by a watch from now.
fn index_cleared(server: EtcdProcess, fillers: usize) {
    set(&server, "/h", "old");
    for i in 0..fillers {
        set(&server, "/filler", &i.to_string());
    }
    let out = Ctl::ours()
        .endpoints(&server.client_url())
        .args(["watch", "--forever", "--after-index", "1", "/h"])
        .output();
    assert_eq!(out.status.code(), Some(4), "{out:?}");
    assert!(out.stdout.is_empty(), "{out:?}");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("401") && err.contains("missed"),
        "stderr: {err}"
    );
}

#[test]
fn recursive_watch_skips_directory_events() {
    let server = EtcdProcess::start();
    let w = Ctl::with_bin(ours())
        .endpoints(&server.client_url())
        .args(["watch", "-r", "/d"])
        .spawn();
    watchers::wait_for_at_least(&server, 1);
    let r = request("PUT", &server.keys("/d/sub"), Some("dir=true")).expect("mkdir");
    assert_eq!(r.status, 201, "{r:?}");
    set(&server, "/d/k", "v");
    assert_eq!(w.next_line(), "[set] /d/k");
    assert_eq!(w.next_line(), "v");
}

#[test]
fn after_index_zero_waits_for_the_next_change() {
    let server = EtcdProcess::start();
    set(&server, "/z", "old");
    let w = Ctl::with_bin(ours())
        .endpoints(&server.client_url())
        .args(["watch", "--after-index", "0", "/z"])
        .spawn();
    watchers::wait_for_at_least(&server, 1);
    set(&server, "/z", "new");
    assert_eq!(w.next_line(), "new");
}

#[test]
fn watch_without_a_server_fails_at_once() {
    let dead = format!("http://127.0.0.1:{}", etcd_integration::free_port());
    let out = Ctl::ours()
        .endpoints(&dead)
        .args(["--no-sync", "watch", "/k"])
        .output();
    assert_eq!(out.status.code(), Some(4));
}

#[test]
fn cluster_health_forever_keeps_checking() {
    let server = EtcdProcess::start();
    let h = Ctl::with_bin(ours())
        .endpoints(&server.client_url())
        .args(["cluster-health", "--forever"])
        .spawn();
    assert!(h.next_line().starts_with("member "));
    assert_eq!(h.next_line(), "cluster is healthy");
    assert_eq!(h.next_line(), "");
    assert_eq!(h.next_line(), "next check after 10 second...");
}

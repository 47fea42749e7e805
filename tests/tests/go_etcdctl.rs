//! The Go `etcdctl` in v2 mode (Debian `etcd-client`, `ETCDCTL_API=2`) against our server.

use std::process::Output;
use std::time::{Duration, Instant};

use etcd_integration::ctl::{go_available as available, stdout, Ctl};
use etcd_integration::{request, watchers, EtcdProcess};

fn ctl(s: &EtcdProcess, args: &[&str]) -> Output {
    Ctl::go().endpoints(&s.client_url()).args(args).output()
}

#[test]
fn go_etcdctl_v2_commands() {
    if !available() {
        return;
    }
    let s = EtcdProcess::start();
    let o = ctl(&s, &["set", "/ctl/a", "hello"]);
    assert!(o.status.success(), "{o:?}");
    assert_eq!(stdout(&o), "hello\n");
    assert_eq!(stdout(&ctl(&s, &["get", "/ctl/a"])), "hello\n");
    let o = ctl(&s, &["get", "/ctl/nokey"]);
    assert_eq!(o.status.code(), Some(4));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.starts_with("Error:  100: Key Not Found (/ctl/nokey) ["),
        "{err}"
    );
    let o = ctl(&s, &["get", "/ctl"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&o.stderr).contains("/ctl: is a directory"));
    assert_eq!(stdout(&ctl(&s, &["mk", "/ctl/b", "bee"])), "bee\n");
    assert_eq!(ctl(&s, &["mk", "/ctl/b", "again"]).status.code(), Some(4));
    assert!(ctl(&s, &["mkdir", "/ctl/d"]).status.success());
    assert_eq!(
        stdout(&ctl(&s, &["update", "/ctl/a", "hello2"])),
        "hello2\n"
    );
    assert_eq!(
        ctl(&s, &["update", "/ctl/none", "x"]).status.code(),
        Some(4)
    );
    assert!(ctl(&s, &["set", "/ctl/d/e", "deep"]).status.success());
    assert_eq!(
        stdout(&ctl(&s, &["ls", "--recursive", "--sort", "/ctl"])),
        "/ctl/a\n/ctl/b\n/ctl/d\n/ctl/d/e\n"
    );
    assert_eq!(
        stdout(&ctl(&s, &["ls", "--sort", "-p", "/ctl"])),
        "/ctl/a\n/ctl/b\n/ctl/d/\n"
    );
    assert_eq!(stdout(&ctl(&s, &["rm", "/ctl/b"])), "PrevNode.Value: bee\n");
    assert!(ctl(&s, &["rm", "--recursive", "/ctl/d"]).status.success());
    assert_eq!(stdout(&ctl(&s, &["ls", "/ctl"])), "/ctl/a\n");
    let o = ctl(&s, &["-o", "json", "get", "/ctl/a"]);
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["node"]["value"], "hello2");
    let o = ctl(&s, &["cluster-health"]);
    assert!(o.status.success(), "{o:?}");
    assert!(stdout(&o).contains("cluster is healthy"));
    let o = ctl(&s, &["member", "list"]);
    assert!(stdout(&o).contains("name=machine0"), "{o:?}");
}

#[test]
fn go_etcdctl_watch_and_exec_watch() {
    if !available() {
        return;
    }
    let s = EtcdProcess::start();
    let watcher = Ctl::go()
        .endpoints(&s.client_url())
        .args(["watch", "/wk"])
        .spawn();
    let tmp = tempfile::tempdir().unwrap();
    let file = tmp.path().join("env.txt");
    let exec = Ctl::go()
        .endpoints(&s.client_url())
        .args([
            "exec-watch",
            // The Go etcdctl reads `<key> -- <cmd>` only when a flag precedes them (without
            // one it expects `<cmd> <key>`), so pass one.
            "--recursive",
            "/wk",
            "--",
            "sh",
            "-c",
            &format!("env | grep ETCD_WATCH >> {}", file.display()),
        ])
        .spawn();
    // Both watchers must be registered before the write they are waiting for.
    watchers::wait_for(&s, 2);
    let set = request("PUT", &s.keys("/wk"), Some("value=v9")).unwrap();
    let index = set.etcd_index();
    let (status, lines) = watcher.finish();
    assert!(status.success());
    assert_eq!(lines, ["v9"]);
    let deadline = Instant::now() + Duration::from_secs(20);
    let env = loop {
        let text = std::fs::read_to_string(&file).unwrap_or_default();
        if text.contains("ETCD_WATCH_MODIFIED_INDEX") {
            break text;
        }
        assert!(Instant::now() < deadline, "exec-watch never ran: {text:?}");
        std::thread::sleep(Duration::from_millis(50));
    };
    drop(exec);
    assert!(env.contains("ETCD_WATCH_ACTION=set"), "{env}");
    assert!(env.contains("ETCD_WATCH_KEY=/wk"), "{env}");
    assert!(env.contains("ETCD_WATCH_VALUE=v9"), "{env}");
    assert!(
        env.contains(&format!("ETCD_WATCH_MODIFIED_INDEX={index}")),
        "{env}"
    );
}

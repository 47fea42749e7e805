//! Our etcdctl and the Go etcdctl (`ETCDCTL_API=2`), given the same commands against two fresh
//! servers of ours, print the same stdout and exit with the same codes.

use std::path::Path;
use std::process::{Command, Output};

use etcd_integration::{tool_available, EtcdProcess};

fn run(bin: &Path, go: bool, server: &EtcdProcess, args: &[&str]) -> Output {
    let mut cmd = Command::new(bin);
    if go {
        cmd.env("ETCDCTL_API", "2");
    }
    cmd.env("NO_COLOR", "1")
        .arg("--endpoints")
        .arg(server.client_url())
        .args(args)
        .output()
        .expect("run etcdctl")
}

#[test]
fn key_commands_match_the_go_etcdctl() {
    let go = Path::new("/usr/bin/etcdctl");
    if !tool_available(go.exists(), "the Go etcdctl (apt-get install etcd-client)") {
        return;
    }
    let ours = Path::new(env!("CARGO_BIN_EXE_etcdctl"));
    let (a, b) = (EtcdProcess::start(), EtcdProcess::start());
    let script: &[&[&str]] = &[
        &["set", "/ctl/a", "hello"],
        &["get", "/ctl/a"],
        &["get", "/ctl/nokey"],
        &["get", "/ctl"],
        &["mk", "/ctl/b", "bee"],
        &["mk", "/ctl/b", "again"],
        &["mkdir", "/ctl/d"],
        &["mkdir", "/ctl/d"],
        &["update", "/ctl/a", "hello2"],
        &["update", "/ctl/none", "x"],
        &["set", "/ctl/d/e", "deep"],
        &["set", "--swap-with-value", "nope", "/ctl/a", "x"],
        &["set", "--swap-with-value", "hello2", "/ctl/a", "hello3"],
        &["ls", "--sort", "/ctl"],
        &["ls", "--recursive", "--sort", "/ctl"],
        &["ls", "--sort", "-p", "/ctl"],
        &["ls", "/ctl/a"],
        &["rm", "/ctl/b"],
        &["rm", "/ctl/d"],
        &["rm", "--recursive", "/ctl/d"],
        &["rm", "--with-value", "x", "/ctl/a"],
        &["mkdir", "/ctl/empty"],
        &["rmdir", "/ctl/empty"],
        &["ls", "/ctl"],
        &["-o", "extended", "get", "/ctl/a"],
        &["get"],
    ];
    for args in script {
        let mine = run(ours, false, &a, args);
        let theirs = run(go, true, &b, args);
        assert_eq!(
            (mine.status.code(), String::from_utf8_lossy(&mine.stdout)),
            (
                theirs.status.code(),
                String::from_utf8_lossy(&theirs.stdout)
            ),
            "etcdctl {args:?}\nours stderr: {}\ngo stderr:   {}",
            String::from_utf8_lossy(&mine.stderr),
            String::from_utf8_lossy(&theirs.stderr)
        );
        // Errors in etcd's words, on stderr, for server errors.
        if theirs.status.code() == Some(4) {
            let mine_err = String::from_utf8_lossy(&mine.stderr);
            let go_err = String::from_utf8_lossy(&theirs.stderr);
            assert_eq!(
                mine_err.split('[').next(),
                go_err.split('[').next(),
                "{args:?}"
            );
        }
    }
}

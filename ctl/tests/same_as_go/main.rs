//! Our etcdctl and the Go etcdctl (`ETCDCTL_API=2`), given the same commands against two fresh
//! servers (ours, and the reference etcd 3.4 when installed), print the same stdout and exit
//! with the same codes. JSON output is compared as JSON.

use std::path::Path;
use std::process::Output;

use etcd_integration::ctl::{go_available, ours, Ctl, GO_ETCDCTL as GO};
use etcd_integration::EtcdProcess;

/// Runs one etcdctl with `--endpoints <endpoints>` then `args`, feeding `stdin` when given.
fn run_on(bin: impl AsRef<Path>, endpoints: &str, args: &[&str], stdin: Option<&str>) -> Output {
    let ctl = Ctl::with_bin(bin.as_ref()).endpoints(endpoints).args(args);
    match stdin {
        Some(text) => ctl.stdin(text),
        None => ctl,
    }
    .output()
}

/// Stdout as text, or as parsed JSON lines when every line is JSON (so field order and
/// formatting do not matter).
fn normalized(out: &Output) -> (Option<i32>, String) {
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    let json: Option<Vec<serde_json::Value>> =
        text.lines().map(|l| serde_json::from_str(l).ok()).collect();
    let shown = match json {
        Some(vals) if !vals.is_empty() => format!("{vals:?}"),
        _ => text,
    };
    (out.status.code(), shown)
}

fn assert_same(args: &[&str], mine: &Output, theirs: &Output) {
    assert_eq!(
        normalized(mine),
        normalized(theirs),
        "etcdctl {args:?}\nours stderr: {}\ngo stderr:   {}",
        String::from_utf8_lossy(&mine.stderr),
        String::from_utf8_lossy(&theirs.stderr)
    );
    // With -o json our etcd errors are the JSON body itself (the Go tool prints text).
    if theirs.status.code() == Some(4) && args.contains(&"json") {
        let body: serde_json::Value = serde_json::from_slice(&mine.stderr)
            .unwrap_or_else(|e| panic!("{args:?}: stderr is not JSON ({e}): {mine:?}"));
        let go_err = String::from_utf8_lossy(&theirs.stderr);
        assert!(
            go_err.starts_with(&format!("Error:  {}:", body["errorCode"])),
            "{args:?}: {body} vs {go_err}"
        );
        return;
    }
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

/// Runs `script` with our etcdctl against `a` and the Go one against `b`, comparing each step.
fn compare_script(a: &str, b: &str, script: &[&[&str]]) {
    for args in script {
        let mine = run_on(ours(), a, args, None);
        let theirs = run_on(Path::new(GO), b, args, None);
        assert_same(args, &mine, &theirs);
    }
}

/// The key commands in every output format, with their errors.
const KEY_SCRIPT: &[&[&str]] = &[
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
    &["set", "--swap-with-index", "1", "/ctl/a", "x"],
    &["ls", "--sort", "/ctl"],
    &["ls", "--recursive", "--sort", "/ctl"],
    &["ls", "--sort", "-p", "/ctl"],
    &["ls", "/ctl/a"],
    &["ls", "/ctl/nodir"],
    &["rm", "/ctl/b"],
    &["rm", "/ctl/d"],
    &["rm", "--recursive", "/ctl/d"],
    &["rm", "--with-value", "x", "/ctl/a"],
    // compareAndDelete prints its node's (empty) value; rmdir of a plain key deletes it and
    // prints the old value.
    &["set", "/ctl/wv", "v"],
    &["rm", "--with-value", "v", "/ctl/wv"],
    &["set", "/ctl/plain", "p"],
    &["rmdir", "/ctl/plain"],
    &["mkdir", "/ctl/empty"],
    &["rmdir", "/ctl/empty"],
    &["rmdir", "/ctl/nothere"],
    &["ls", "/ctl"],
    &["-o", "extended", "get", "/ctl/a"],
    &["get"],
    // setdir / updatedir
    &["setdir", "/ctl/sd"],
    &["setdir", "/ctl/sd"],
    &["setdir", "/ctl/a"],
    &["updatedir", "/ctl/sd"],
    &["updatedir", "/ctl/nosd"],
    &["updatedir", "/ctl/a"],
    &["setdir"],
    &["updatedir"],
    // in-order keys
    &["mkdir", "/ctl/q"],
    &["mk", "--in-order", "/ctl/q", "job1"],
    &["mk", "--in-order", "/ctl/q", "job2"],
    &["ls", "--sort", "/ctl/q"],
    // quorum reads
    &["get", "--quorum", "/ctl/a"],
    &["ls", "--quorum", "--sort", "-p", "/ctl"],
    // extended
    &["-o", "extended", "set", "/ctl/x", "1"],
    &["-o", "extended", "set", "/ctl/x", "2"],
    &["-o", "extended", "mk", "/ctl/y", "3"],
    &["-o", "extended", "update", "/ctl/y", "4"],
    &["-o", "extended", "mkdir", "/ctl/ed"],
    &["-o", "extended", "setdir", "/ctl/ed2"],
    &["-o", "extended", "updatedir", "/ctl/ed2"],
    &["-o", "extended", "rm", "/ctl/x"],
    &["-o", "extended", "rmdir", "/ctl/ed"],
    &["-o", "extended", "ls", "/ctl/q"],
    &["-o", "extended", "get", "/ctl/nokey"],
    // json
    &["-o", "json", "set", "/ctl/j", "1"],
    &["-o", "json", "set", "/ctl/j", "2"],
    &["-o", "json", "get", "/ctl/j"],
    &["-o", "json", "mk", "/ctl/j2", "3"],
    &["-o", "json", "update", "/ctl/j2", "4"],
    &["-o", "json", "mkdir", "/ctl/jd"],
    &["-o", "json", "setdir", "/ctl/jd2"],
    &["-o", "json", "updatedir", "/ctl/jd2"],
    &["-o", "json", "ls", "--sort", "--recursive", "/ctl/q"],
    &["-o", "json", "rm", "/ctl/j"],
    &["-o", "json", "rmdir", "/ctl/jd"],
    &["-o", "json", "get", "/ctl/nokey"],
    // watch a change already in history
    &["watch", "--after-index", "1", "/ctl/a"],
    &["watch", "--recursive", "--after-index", "1", "/ctl"],
    &["-o", "extended", "watch", "--after-index", "1", "/ctl/a"],
    &["-o", "json", "watch", "--after-index", "1", "/ctl/a"],
    &["--no-sync", "get", "/ctl/a"],
    &["--no-sync", "get", "/ctl/nokey"],
];

#[test]
fn key_commands_match_the_go_etcdctl() {
    if !go_available() {
        return;
    }
    let (a, b) = (EtcdProcess::start(), EtcdProcess::start());
    compare_script(&a.client_url(), &b.client_url(), KEY_SCRIPT);
    // Unknown flags: both exit 1 (the Go tool also prints its usage on stdout; we print
    // clap's error and usage on stderr).
    let args = ["--bogus-flag", "get", "/ctl/a"];
    let mine = run_on(ours(), &a.client_url(), &args, None);
    let theirs = run_on(Path::new(GO), &b.client_url(), &args, None);
    assert_eq!(mine.status.code(), theirs.status.code());
}

#[test]
fn key_commands_match_against_the_reference_etcd() {
    if let Some((a, b)) = two_references() {
        compare_script(&a.client_url(), &b.client_url(), KEY_SCRIPT);
    }
}

/// Two fresh reference etcd 3.4 servers, when the Go etcdctl and etcd 3.4 are installed.
fn two_references() -> Option<(EtcdProcess, EtcdProcess)> {
    if !go_available() {
        return None;
    }
    let (Some(a), Some(b)) = (
        EtcdProcess::start_reference(),
        EtcdProcess::start_reference(),
    ) else {
        eprintln!("note: reference etcd 3.4 not installed; comparison against it skipped");
        return None;
    };
    Some((a, b))
}

/// Two fresh servers of ours, or of the reference etcd 3.4 (`None` when not installed).
fn pair(reference: bool) -> Option<(EtcdProcess, EtcdProcess)> {
    if !reference {
        return Some((EtcdProcess::start(), EtcdProcess::start()));
    }
    let pair = EtcdProcess::start_reference().zip(EtcdProcess::start_reference());
    if pair.is_none() {
        eprintln!("note: reference etcd 3.4 not installed; comparison against it skipped");
    }
    pair
}

#[test]
fn values_from_stdin_match() {
    values_from_stdin(false);
}

#[test]
fn values_from_stdin_match_against_the_reference_etcd() {
    values_from_stdin(true);
}

fn values_from_stdin(reference: bool) {
    if !go_available() {
        return;
    }
    let Some((a, b)) = pair(reference) else {
        return;
    };
    let steps: &[(&[&str], Option<&str>)] = &[
        (&["set", "/in/a"], Some("from stdin")),
        (&["get", "/in/a"], None),
        (&["mk", "/in/b"], Some("two\nlines\n")),
        (&["get", "/in/b"], None),
        (&["update", "/in/a"], Some("updated")),
        (&["get", "/in/a"], None),
        (&["set", "/in/c"], Some("")),
        (&["set", "/in/d", "arg wins"], Some("ignored")),
        (&["get", "/in/d"], None),
    ];
    for (args, stdin) in steps {
        let mine = run_on(ours(), &a.client_url(), args, *stdin);
        let theirs = run_on(Path::new(GO), &b.client_url(), args, *stdin);
        assert_same(args, &mine, &theirs);
    }
}

/// `cURL Command:` lines on stderr, with the port (which differs per server) taken out.
fn curl_lines(out: &Output, port: u16) -> Vec<String> {
    String::from_utf8_lossy(&out.stderr)
        .lines()
        .filter(|l| l.starts_with("cURL Command:"))
        .map(|l| l.replace(&port.to_string(), "PORT"))
        .collect()
}

#[test]
fn debug_shows_the_same_requests() {
    debug_requests(false);
}

#[test]
fn debug_shows_the_same_requests_against_the_reference_etcd() {
    debug_requests(true);
}

fn debug_requests(reference: bool) {
    if !go_available() {
        return;
    }
    let Some((a, b)) = pair(reference) else {
        return;
    };
    let script: &[&[&str]] = &[
        &["set", "/dbg/a", "v", "--ttl", "50"],
        &["mk", "/dbg/b", "v"],
        &["mkdir", "/dbg/c"],
        &["setdir", "/dbg/e", "--ttl", "5"],
        &["updatedir", "/dbg/e", "--ttl", "7"],
        &["update", "/dbg/a", "w"],
        &["set", "--swap-with-index", "3", "/dbg/b", "q"],
        &["get", "--sort", "/dbg/b"],
        &["ls", "-r", "--sort", "/dbg"],
        &["rm", "/dbg/a"],
        &["rm", "-r", "/dbg/c"],
        &["rmdir", "/dbg/e"],
        &["mk", "--in-order", "/dbg/q", "v"],
        &["watch", "--after-index", "1", "/dbg/b"],
        &["member", "list"],
        &["--no-sync", "get", "/dbg/b"],
    ];
    for args in script {
        let mut full = vec!["--debug"];
        full.extend_from_slice(args);
        let mine = run_on(ours(), &a.client_url(), &full, None);
        let theirs = run_on(Path::new(GO), &b.client_url(), &full, None);
        // Stdout is compared by the other tests (here `member list` shows differing ports).
        assert_eq!(mine.status.code(), theirs.status.code(), "{full:?}");
        assert_eq!(
            curl_lines(&mine, a.client_port),
            curl_lines(&theirs, b.client_port),
            "etcdctl {full:?}"
        );
    }
}

mod auth;
mod cluster;

//! Cluster commands (member list/add, failover, --no-sync) with both tools.

use super::*;

/// Read-only cluster commands, both tools against the same server (member ids differ per
/// server), and membership changes our server refuses the same way to both.
#[test]
fn cluster_commands_match_the_go_etcdctl() {
    if !go_available() {
        return;
    }
    let a = EtcdProcess::start();
    let url = a.client_url();
    let peer = format!("http://127.0.0.1:{}", etcd_integration::free_port());
    let script: &[&[&str]] = &[
        &["member", "list"],
        &["cluster-health"],
        &["member", "remove", "1234"],
        &["member", "remove", "machine0"],
        &["member", "add", "n2", &peer],
        &["member", "add", "n2"],
        &["member", "remove"],
        &["--no-sync", "member", "list"],
        &["--no-sync", "cluster-health"],
    ];
    for args in script {
        let mine = run_on(ours(), &url, args, None);
        let theirs = run_on(Path::new(GO), &url, args, None);
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
    }
}

#[test]
fn cluster_commands_match_against_the_reference_etcd() {
    if !go_available() {
        return;
    }
    let Some(r) = EtcdProcess::start_reference() else {
        eprintln!("note: reference etcd 3.4 not installed; comparison against it skipped");
        return;
    };
    let url = r.client_url();
    for args in [
        &["member", "list"][..],
        &["cluster-health"],
        &["member", "remove", "1234"],
    ] {
        let mine = run_on(ours(), &url, args, None);
        let theirs = run_on(Path::new(GO), &url, args, None);
        assert_eq!(
            (mine.status.code(), String::from_utf8_lossy(&mine.stdout)),
            (
                theirs.status.code(),
                String::from_utf8_lossy(&theirs.stdout)
            ),
            "etcdctl {args:?}\nours stderr: {}",
            String::from_utf8_lossy(&mine.stderr),
        );
    }
}

#[test]
fn unreachable_cluster_exit_codes_match() {
    if !go_available() {
        return;
    }
    let dead = format!("http://127.0.0.1:{}", etcd_integration::free_port());
    for args in [
        &["get", "/k"][..],
        &["--no-sync", "get", "/k"],
        &["set", "/k", "v"],
        &["--no-sync", "ls"],
        &["member", "list"],
        &["cluster-health"],
    ] {
        let mine = run_on(ours(), &dead, args, None);
        let theirs = run_on(Path::new(GO), &dead, args, None);
        assert_same(args, &mine, &theirs);
    }
}

#[test]
fn failover_to_the_second_endpoint_matches() {
    failover(false);
}

#[test]
fn failover_to_the_second_endpoint_matches_against_the_reference_etcd() {
    failover(true);
}

fn failover(reference: bool) {
    if !go_available() {
        return;
    }
    let Some((a, b)) = pair(reference) else {
        return;
    };
    let dead = format!("http://127.0.0.1:{}", etcd_integration::free_port());
    let eps_a = format!("{dead},{}", a.client_url());
    let eps_b = format!("{dead},{}", b.client_url());
    let script: &[&[&str]] = &[
        &["set", "/fo/a", "1"],
        &["--no-sync", "set", "/fo/b", "2"],
        &["get", "/fo/a"],
        &["--no-sync", "get", "/fo/b"],
        &["--no-sync", "ls", "--sort", "/fo"],
        &["--no-sync", "watch", "--after-index", "1", "/fo/a"],
    ];
    for args in script {
        let mine = run_on(ours(), &eps_a, args, None);
        let theirs = run_on(Path::new(GO), &eps_b, args, None);
        assert_same(args, &mine, &theirs);
        assert!(mine.status.success(), "{args:?}: {mine:?}");
    }
}

/// Member ids and the server's own ports differ between two servers. Ids are hex, up to 16
/// digits (etcd 3.4 does not zero-pad them).
fn anonymized(text: &str, server: &EtcdProcess) -> String {
    let text = text
        .replace(&server.client_port.to_string(), "CPORT")
        .replace(&server.peer_port.to_string(), "PPORT");
    let mut out = String::new();
    let mut word = String::new();
    let flush = |word: &mut String, out: &mut String| {
        if (12..=16).contains(&word.len()) && word.chars().all(|c| c.is_ascii_hexdigit()) {
            out.push_str("<id>");
        } else {
            out.push_str(word);
        }
        word.clear();
    };
    for c in text.chars() {
        if c.is_ascii_alphanumeric() {
            word.push(c);
        } else {
            flush(&mut word, &mut out);
            out.push(c);
        }
    }
    flush(&mut word, &mut out);
    out
}

/// Member order follows the (random) new id, so compare lines and cluster entries as sets.
fn canonical(text: &str, server: &EtcdProcess) -> Vec<String> {
    let mut lines: Vec<String> = anonymized(text, server)
        .lines()
        .map(|l| match l.strip_prefix("ETCD_INITIAL_CLUSTER=") {
            Some(v) => {
                let mut parts: Vec<&str> = v.trim_matches('"').split(',').collect();
                parts.sort();
                format!("ETCD_INITIAL_CLUSTER={}", parts.join(","))
            }
            None => l.to_string(),
        })
        .collect();
    lines.sort();
    lines
}

/// `member add` for real (our server refuses membership changes for now): etcd 3.4 adds an
/// unstarted member, which `member list` then shows as `<id>[unstarted]: peerURLs=…`.
#[test]
fn member_add_matches_on_the_reference_etcd() {
    if !go_available() {
        return;
    }
    let Some((a, b)) = pair(true) else { return };
    let peer = format!("http://127.0.0.1:{}", etcd_integration::free_port());
    for args in [
        &["member", "add", "n2", peer.as_str()][..],
        &["member", "list"],
    ] {
        let mine = run_on(ours(), &a.client_url(), args, None);
        let theirs = run_on(Path::new(GO), &b.client_url(), args, None);
        assert_eq!(
            (
                mine.status.code(),
                canonical(&String::from_utf8_lossy(&mine.stdout), &a)
            ),
            (
                theirs.status.code(),
                canonical(&String::from_utf8_lossy(&theirs.stdout), &b)
            ),
            "etcdctl {args:?}\nours stderr: {}",
            String::from_utf8_lossy(&mine.stderr)
        );
        assert!(mine.status.success(), "{mine:?}");
    }
}

/// Without --no-sync the command goes to the members' client URLs (127.0.0.1 here), not to
/// the endpoint given (localhost), exactly as the Go etcdctl does; --no-sync keeps it.
#[test]
fn sync_switches_to_the_members_client_urls() {
    if !go_available() {
        return;
    }
    let a = EtcdProcess::start();
    let given = format!("http://localhost:{}", a.client_port);
    let synced = format!("cURL Command: curl -X GET {}/v2/keys/k?", a.client_url());
    let unsynced = format!("cURL Command: curl -X GET {given}/v2/keys/k?");
    for bin in [ours(), Path::new(GO).to_path_buf()] {
        let out = run_on(&bin, &given, &["--debug", "get", "/k"], None);
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains(&synced), "{}: {err}", bin.display());
        let out = run_on(&bin, &given, &["--debug", "--no-sync", "get", "/k"], None);
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains(&unsynced), "{}: {err}", bin.display());
    }
}

//! A three-member etcd 3.4 cluster (our server cannot form one yet): `cluster-health` with
//! every member up, then with one killed, prints what the Go etcdctl prints; a watch whose
//! member dies carries on through the next endpoint from the last index it saw.

use std::path::Path;
use std::process::Output;
use std::time::Duration;

use etcd_integration::ctl::{go_available, ours, Ctl, GO_ETCDCTL as GO};
use etcd_integration::{reference_available, request, EtcdProcess};

/// Polls of a condition, 100 ms apart (hang guard).
const MAX_POLLS: usize = 600;

/// Three etcd 3.4 members forming one cluster, every one healthy (killed when the handles
/// drop), and their client URLs.
fn start_cluster() -> (Vec<EtcdProcess>, Vec<String>) {
    let members = EtcdProcess::start_reference_cluster(3).expect("checked: etcd 3.4 installed");
    let urls = members.iter().map(|m| m.client_url()).collect();
    (members, urls)
}

fn health(bin: impl AsRef<Path>, endpoint: &str) -> Output {
    Ctl::with_bin(bin.as_ref())
        .endpoints(endpoint)
        .args(["cluster-health"])
        .output()
}

fn assert_same_health(endpoint: &str) -> Output {
    let mine = health(ours(), endpoint);
    let theirs = health(Path::new(GO), endpoint);
    // Members are listed in the same order by both; compare line sets in case of ties.
    let lines = |o: &Output| {
        let mut v: Vec<String> = String::from_utf8_lossy(&o.stdout)
            .lines()
            .map(String::from)
            .collect();
        v.sort();
        v
    };
    assert_eq!(
        (mine.status.code(), lines(&mine)),
        (theirs.status.code(), lines(&theirs)),
        "ours stderr: {}",
        String::from_utf8_lossy(&mine.stderr)
    );
    mine
}

#[test]
fn cluster_health_matches_the_go_etcdctl_healthy_and_degraded() {
    if !go_available() || !reference_available() {
        return;
    }
    let (mut members, urls) = start_cluster();
    let ok = assert_same_health(&urls[0]);
    assert!(String::from_utf8_lossy(&ok.stdout).ends_with("cluster is healthy\n"));

    members[2].kill9();
    // If the dead member led, the others say unhealthy until they elect a new leader; compare
    // the steady state, not the election.
    wait_for_leader_other_than(&urls[0], &urls[2]);
    for url in &urls[..2] {
        wait_until_healthy(url);
    }
    let degraded = assert_same_health(&urls[0]);
    assert_eq!(degraded.status.code(), Some(5));
    let text = String::from_utf8_lossy(&degraded.stdout);
    assert!(text.ends_with("cluster is degraded\n"), "{text}");
    assert!(text.contains("connect: connection refused"), "{text}");
}

#[test]
fn a_watch_fails_over_to_the_next_member() {
    if !reference_available() {
        return;
    }
    let (mut members, urls) = start_cluster();
    let put = |value: &str| {
        let url = format!("{}/v2/keys/fk", urls[1]);
        let r = request("PUT", &url, Some(&format!("value={value}"))).expect("PUT");
        assert!(r.status < 300, "{r:?}");
        r.etcd_index()
    };
    let after = put("v0").to_string();
    let endpoints = format!("{},{}", urls[0], urls[1]);
    let watch = Ctl::ours()
        .endpoints(&endpoints)
        .args(["--no-sync", "watch", "--forever"])
        .args(["--after-index", &after, "/fk"])
        .spawn();
    let next = || watch.next_line();
    put("v1");
    assert_eq!(next(), "v1");
    // The member the watch is connected to dies; the change made meanwhile is not missed.
    members[0].kill9();
    wait_for_leader_other_than(&urls[1], &urls[0]);
    put("v2");
    put("v3");
    assert_eq!(next(), "v2");
    assert_eq!(next(), "v3");
}

/// Waits until the member at `ask` knows a leader that is not `dead` (writes work again).
fn wait_for_leader_other_than(ask: &str, dead: &str) {
    for _ in 0..MAX_POLLS {
        if let Ok(r) = etcd_integration::get(&format!("{ask}/v2/members/leader")) {
            if r.status == 200 {
                let urls = r.json()["clientURLs"].clone();
                if urls
                    .as_array()
                    .is_some_and(|u| !u.iter().any(|x| x == dead))
                {
                    return;
                }
            }
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    panic!("no new leader after {dead} died");
}

/// Waits until the member at `url` answers `/health` with true.
fn wait_until_healthy(url: &str) {
    for _ in 0..MAX_POLLS {
        if let Ok(r) = etcd_integration::get(&format!("{url}/health")) {
            if r.status == 200 && r.body.contains("true") {
                return;
            }
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    panic!("{url} never became healthy");
}

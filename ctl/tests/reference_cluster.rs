//! A three-member etcd 3.4 cluster (our server cannot form one yet): `cluster-health` with
//! every member up, then with one killed, prints what the Go etcdctl prints; a watch whose
//! member dies carries on through the next endpoint from the last index it saw.

use std::path::Path;
use std::process::{Child, Command, Output, Stdio};
use std::time::Duration;

use etcd_integration::ctl::{go_available, Ctl, GO_ETCDCTL as GO};
use etcd_integration::{free_port, reference_available, request};

/// Polls for the cluster to become healthy, 100 ms apart (hang guard).
const MAX_POLLS: usize = 600;

/// Three etcd 3.4 processes forming one cluster; killed on drop.
struct Cluster {
    children: Vec<Child>,
    client_urls: Vec<String>,
    _dir: tempfile::TempDir,
}

impl Drop for Cluster {
    fn drop(&mut self) {
        for c in &mut self.children {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

fn start_cluster() -> Cluster {
    let dir = tempfile::tempdir().expect("tempdir");
    let ports: Vec<(u16, u16)> = (0..3).map(|_| (free_port(), free_port())).collect();
    let initial = ports
        .iter()
        .enumerate()
        .map(|(i, (_, p))| format!("m{i}=http://127.0.0.1:{p}"))
        .collect::<Vec<_>>()
        .join(",");
    let mut children = Vec::new();
    let mut client_urls = Vec::new();
    for (i, (c, p)) in ports.iter().enumerate() {
        let client = format!("http://127.0.0.1:{c}");
        let peer = format!("http://127.0.0.1:{p}");
        let child = Command::new("/usr/bin/etcd")
            .args(["--enable-v2", "--name", &format!("m{i}"), "--data-dir"])
            .arg(dir.path().join(format!("m{i}")))
            .args([
                "--listen-client-urls",
                &client,
                "--advertise-client-urls",
                &client,
            ])
            .args([
                "--listen-peer-urls",
                &peer,
                "--initial-advertise-peer-urls",
                &peer,
            ])
            .args(["--initial-cluster", &initial, "--log-level", "error"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn etcd");
        children.push(child);
        client_urls.push(client);
    }
    let cluster = Cluster {
        children,
        client_urls,
        _dir: dir,
    };
    for _ in 0..MAX_POLLS {
        if health(
            Path::new(env!("CARGO_BIN_EXE_etcdctl")),
            &cluster.client_urls[0],
        )
        .status
        .success()
        {
            return cluster;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    panic!("the etcd 3.4 cluster never became healthy");
}

fn health(bin: &Path, endpoint: &str) -> Output {
    Ctl::with_bin(bin)
        .endpoints(endpoint)
        .args(["cluster-health"])
        .output()
}

fn assert_same_health(endpoint: &str) -> Output {
    let mine = health(Path::new(env!("CARGO_BIN_EXE_etcdctl")), endpoint);
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
    let mut cluster = start_cluster();
    let ok = assert_same_health(&cluster.client_urls[0]);
    assert!(String::from_utf8_lossy(&ok.stdout).ends_with("cluster is healthy\n"));

    let _ = cluster.children[2].kill();
    let _ = cluster.children[2].wait();
    // If the dead member led, the others say unhealthy until they elect a new leader; compare
    // the steady state, not the election.
    wait_for_leader_other_than(&cluster.client_urls[0], &cluster.client_urls[2]);
    for url in &cluster.client_urls[..2] {
        wait_until_healthy(url);
    }
    let degraded = assert_same_health(&cluster.client_urls[0]);
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
    let mut cluster = start_cluster();
    let put = |value: &str| {
        let url = format!("{}/v2/keys/fk", cluster.client_urls[1]);
        let r = request("PUT", &url, Some(&format!("value={value}"))).expect("PUT");
        assert!(r.status < 300, "{r:?}");
        r.etcd_index()
    };
    let after = put("v0").to_string();
    let endpoints = format!("{},{}", cluster.client_urls[0], cluster.client_urls[1]);
    let watch = Ctl::ours()
        .endpoints(&endpoints)
        .args(["--no-sync", "watch", "--forever"])
        .args(["--after-index", &after, "/fk"])
        .spawn();
    let next = || watch.next_line();
    put("v1");
    assert_eq!(next(), "v1");
    // The member the watch is connected to dies; the change made meanwhile is not missed.
    let _ = cluster.children[0].kill();
    let _ = cluster.children[0].wait();
    wait_for_leader_other_than(&cluster.client_urls[1], &cluster.client_urls[0]);
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

//! `GET /metrics` is Prometheus' text format and counts what happened: a scrape parsed line by
//! line, on a three-member cluster after writes; and the store's key and directory gauges
//! following creates, replacements, deletes and expiry.

use std::collections::HashMap;

use etcd_integration::cluster::Cluster;
use etcd_integration::{get, request, wait_until, EtcdProcess};

/// Every sample of a scrape: `name{labels}` to value. Panics on a line that is not a comment,
/// blank, or `series value`.
fn parse(text: &str) -> HashMap<String, f64> {
    let mut out = HashMap::new();
    for line in text.lines() {
        if line.is_empty() || line.starts_with('#') {
            assert!(
                line.is_empty() || line.starts_with("# HELP ") || line.starts_with("# TYPE "),
                "{line}"
            );
            continue;
        }
        let (series, value) = line.rsplit_once(' ').unwrap_or_else(|| panic!("{line}"));
        let value: f64 = value.parse().unwrap_or_else(|_| panic!("{line}"));
        out.insert(series.to_string(), value);
    }
    out
}

#[test]
fn metrics_count_requests_proposals_fsyncs_leaders_and_peer_traffic() {
    let c = Cluster::start(3, &[]);
    let leader = c.wait_for_leader(None);
    for i in 0..20 {
        let r = c.put(leader, &format!("/m/k{i}"), "v").unwrap();
        assert!(r.status < 300, "{r:?}");
    }
    c.wait_converged();
    // Default GETs are linearizable: each waits for a ReadIndex round on the leader.
    for i in 0..5 {
        let r = get(&c.members[leader].url(&format!("/v2/keys/m/k{i}"))).unwrap();
        assert_eq!(r.status, 200, "{r:?}");
    }
    let r = get(&c.members[leader].url("/metrics")).unwrap();
    assert_eq!(r.status, 200);
    assert!(r
        .header("content-type")
        .unwrap()
        .starts_with("text/plain; version=0.0.4"));
    let m = parse(&r.body);
    let at_least = |series: &str, min: f64| {
        let v = m
            .get(series)
            .copied()
            .unwrap_or_else(|| panic!("no {series} in\n{}", r.body));
        assert!(v >= min, "{series} = {v}, expected at least {min}");
    };
    at_least(r#"etcd_http_requests_total{code="201",method="PUT"}"#, 20.0);
    at_least("etcd_server_has_leader", 1.0);
    at_least("etcd_server_leader_changes_seen_total", 1.0);
    at_least("etcd_server_proposals_applied_total", 20.0);
    at_least("etcd_disk_wal_fsync_duration_seconds_count", 20.0);
    at_least("etcd_server_apply_duration_seconds_count", 1.0);
    at_least("etcd_server_read_index_rounds_total", 1.0);
    // Every round carries at least one reader, and each of the five GETs was in one.
    let rounds = m["etcd_server_read_index_rounds_total"];
    at_least("etcd_server_read_index_readers_total", rounds.max(5.0));
    // Present, under etcd 3.4's names: no watcher waits, and the disk has room.
    at_least("etcd_debugging_store_watchers", 0.0);
    at_least("etcd_disk_full", 0.0);
    assert_eq!(m.get("etcd_disk_full"), Some(&0.0), "{}", r.body);
    at_least(
        "etcd_http_request_duration_seconds_count{method=\"PUT\"}",
        20.0,
    );
    let sent: f64 = m
        .iter()
        .filter(|(k, _)| k.starts_with("etcd_network_peer_sent_bytes_total"))
        .map(|(_, v)| v)
        .sum();
    assert!(sent > 0.0, "{}", r.body);
    assert!(
        m.keys()
            .any(|k| k.starts_with("etcd_network_peer_round_trip_time_seconds_count")),
        "{}",
        r.body
    );
    // A follower received the leader's appends.
    let follower = (0..3).find(|i| *i != leader).unwrap();
    let f = parse(&get(&c.members[follower].url("/metrics")).unwrap().body);
    assert!(
        f.iter()
            .any(|(k, v)| k.starts_with("etcd_network_peer_received_bytes_total") && *v > 0.0),
        "follower received nothing"
    );
    // raft-engine's own figures come with ours.
    assert!(
        m.keys().any(|k| k.starts_with("raft_engine_")),
        "{}",
        r.body
    );
}

/// The store's (keys, directories) as `/metrics` reports them.
fn node_gauges(s: &EtcdProcess) -> (f64, f64) {
    let r = get(&s.url("/metrics")).unwrap();
    let m = parse(&r.body);
    let gauge = |name: &str| {
        *m.get(name)
            .unwrap_or_else(|| panic!("no {name} in\n{}", r.body))
    };
    (
        gauge("etcd_debugging_store_keys_total"),
        gauge("etcd_debugging_store_dirs_total"),
    )
}

#[test]
fn the_key_and_directory_gauges_follow_writes_deletes_and_expiry() {
    let mut s = EtcdProcess::start();
    let write = |s: &EtcdProcess, method: &str, path: &str, form: Option<&str>| {
        let r = request(method, &s.keys(path), form).unwrap();
        assert!(r.status < 300, "{method} {path}: {r:?}");
    };
    let (keys, dirs) = node_gauges(&s);
    // Three keys in a new directory (created on the way), one of them hidden.
    write(&s, "PUT", "/g/a", Some("value=1"));
    write(&s, "PUT", "/g/b", Some("value=2"));
    write(&s, "PUT", "/g/_h", Some("value=3"));
    assert_eq!(node_gauges(&s), (keys + 3.0, dirs + 1.0));
    // Replacing a key changes nothing; an empty directory counts as one.
    write(&s, "PUT", "/g/a", Some("value=again"));
    write(&s, "PUT", "/g/sub", Some("dir=true"));
    assert_eq!(node_gauges(&s), (keys + 3.0, dirs + 2.0));
    write(&s, "DELETE", "/g/b", None);
    assert_eq!(node_gauges(&s), (keys + 2.0, dirs + 2.0));
    // A recursive delete takes the whole subtree.
    write(&s, "DELETE", "/g?recursive=true", None);
    assert_eq!(node_gauges(&s), (keys, dirs));
    // An expired key leaves the count when the leader expires it.
    write(&s, "PUT", "/t", Some("value=v&ttl=1"));
    assert_eq!(node_gauges(&s), (keys + 1.0, dirs));
    wait_until("the key with a TTL expires", || {
        node_gauges(&s) == (keys, dirs)
    });
    // A restart rebuilds the counts from the snapshot and log.
    write(&s, "PUT", "/r/k", Some("value=v"));
    s.restart();
    assert_eq!(node_gauges(&s), (keys + 1.0, dirs + 1.0));
}

//! `GET /metrics` is Prometheus' text format and counts what happened: a scrape parsed line by
//! line, on a three-member cluster after writes.

use std::collections::HashMap;

use etcd_integration::cluster::Cluster;
use etcd_integration::get;

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

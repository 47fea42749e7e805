//! Data dirs whose snapshots older versions wrote still start, and serve everything their
//! snapshot and log tail hold: `fixtures/datadir-snapshot-format2` (format 2, JSON lines, in
//! a file with a header), written by the last version that wrote it. The snapshots the
//! member writes afterwards are today's format, and read back too.

use etcd_integration::{copy_dir, fixture, get, request, without_ttls, EtcdProcess, Options};
use serde_json::Value;

const FIXTURE: &str = "datadir-snapshot-format2";

fn fixture_json(file: &str) -> Value {
    let text = std::fs::read_to_string(fixture(&format!("{FIXTURE}/{file}"))).unwrap();
    serde_json::from_str(&text).unwrap()
}

/// The write counters of `/v2/stats/store` (the rest, gets and watchers, is not replicated),
/// and `setsSuccess` apart: a member started on other ports publishes them, one more set.
fn write_counters(mut stats: Value) -> (Value, u64) {
    let o = stats.as_object_mut().unwrap();
    o.retain(|k, _| !k.starts_with("gets") && k != "watchers");
    let sets = o.remove("setsSuccess").and_then(|v| v.as_u64()).unwrap();
    (stats, sets)
}

/// The counters are the ones before, the member's own publish of its URLs aside.
fn assert_counters_kept(now: Value, before: Value) {
    let ((now, now_sets), (before, before_sets)) = (write_counters(now), write_counters(before));
    assert_eq!(now, before);
    assert!(
        (before_sets..=before_sets + 1).contains(&now_sets),
        "setsSuccess {now_sets}, {before_sets} before"
    );
}

fn json_at(p: &EtcdProcess, path: &str) -> Value {
    let r = get(&p.url(path)).unwrap();
    assert_eq!(r.status, 200, "{path}: {}", r.body);
    r.json()
}

/// Everything the fixture's server answered, answered again.
fn assert_serves_the_fixture(p: &EtcdProcess) {
    let mut expected = fixture_json("expected.json");
    let mut got = json_at(p, "/v2/keys/?recursive=true&sorted=true");
    without_ttls(&mut expected);
    without_ttls(&mut got);
    assert_eq!(got, expected);
    assert_eq!(
        json_at(p, "/v2/keys/_hidden")["node"]["value"],
        "secret",
        "hidden keys are kept"
    );
    let deep = format!("{}/leaf", "/d".repeat(60));
    let leaf = json_at(p, &format!("/v2/keys{deep}"));
    assert_eq!(leaf["node"]["value"], "deep");
    assert!(leaf["node"]["ttl"].as_i64().unwrap() > 0, "{leaf}");
    assert_eq!(
        json_at(p, "/v2/auth/users/alice"),
        fixture_json("alice.json")
    );
    assert_eq!(json_at(p, "/v2/auth/roles/app"), fixture_json("role.json"));
    let members = json_at(p, "/v2/members");
    assert_eq!(members["members"][0]["name"], "m", "{members}");
}

/// The history the snapshot carries answers watches from the past: the first write to
/// `/flat/k1` (in the snapshot) and the log tail's first key.
fn assert_history_kept(p: &EtcdProcess) {
    let ev = json_at(p, "/v2/keys/flat/k1?wait=true&waitIndex=1");
    assert_eq!(ev["action"], "set", "{ev}");
    assert_eq!(ev["node"]["value"], "value 1", "{ev}");
    let ev = json_at(p, "/v2/keys/tail?wait=true&recursive=true&waitIndex=1");
    assert_eq!(ev["node"]["key"], "/tail/one", "{ev}");
}

#[test]
fn a_data_dir_with_a_format_2_snapshot_starts_and_serves_everything() {
    let tmp = tempfile::tempdir().unwrap();
    let data_dir = tmp.path().join("m");
    copy_dir(&fixture(FIXTURE).join("m"), &data_dir);
    let mut p = EtcdProcess::start_with(Options {
        name: "m".into(),
        data_dir: Some(data_dir),
        // Snapshots soon, so the next start reads one of today's format.
        extra: vec!["-snapshot-count".into(), "5".into()],
        ..Options::default()
    });
    assert_serves_the_fixture(&p);
    assert_history_kept(&p);
    assert_counters_kept(json_at(&p, "/v2/stats/store"), fixture_json("stats.json"));

    for i in 0..12 {
        let r = request("PUT", &p.keys(&format!("/more/k{i}")), Some("value=x")).unwrap();
        assert_eq!(r.status, 201, "{}", r.body);
    }
    let more = json_at(&p, "/v2/keys/more?recursive=true&sorted=true");
    let before = json_at(&p, "/v2/stats/store");
    let log = p.log();
    assert!(log.contains("saved snapshot"), "{log}");
    p.restart();
    let mut want = fixture_json("expected.json");
    let mut got = json_at(&p, "/v2/keys/?recursive=true&sorted=true");
    // The fixture's tree plus `/more`, in name order after `/flat`.
    let nodes = want["node"]["nodes"].as_array_mut().unwrap();
    nodes.push(more["node"].clone());
    nodes.sort_by(|a, b| a["key"].as_str().cmp(&b["key"].as_str()));
    without_ttls(&mut want);
    without_ttls(&mut got);
    assert_eq!(got, want);
    assert_history_kept(&p);
    assert_counters_kept(json_at(&p, "/v2/stats/store"), before);
}

/// A log tail of several Readies' worth (committed entries come 4 MiB per Ready) is replayed
/// whole at a restart, and a snapshot of large values reads back across the decoder's
/// buffer.
#[test]
fn a_restart_replays_a_log_tail_larger_than_one_ready() {
    let mut p = EtcdProcess::start_with(Options {
        extra: vec!["-snapshot-count".into(), "12".into()],
        ..Options::default()
    });
    let big = "v".repeat(1024 * 1024);
    for i in 0..20 {
        let r = request(
            "PUT",
            &p.keys(&format!("/big/k{i}")),
            Some(&format!("value={i}{big}")),
        );
        assert_eq!(r.unwrap().status, 201);
    }
    p.restart();
    for i in 0..20 {
        let got = json_at(&p, &format!("/v2/keys/big/k{i}"));
        let value = got["node"]["value"].as_str().unwrap();
        assert!(
            value.len() == big.len() + i.to_string().len() && value.starts_with(&i.to_string())
        );
    }
}

//! Core behaviour of a single `etcd` process, end to end over HTTP: the seed README's opening
//! steps with real curl, watches, quorum reads, and durability across kill -9.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use etcd_integration::{curl_json, get, http, request, EtcdProcess, Options};
use serde_json::{json, Value};

#[test]
fn seed_opening_steps_with_curl() {
    let s = EtcdProcess::start();
    let msg = s.keys("/message");
    assert_eq!(
        curl_json(&[&msg, "-X", "PUT", "-d", "value=Hello world"]),
        json!({"action":"set","node":{"key":"/message","value":"Hello world","modifiedIndex":2,"createdIndex":2}})
    );
    assert_eq!(
        curl_json(&[&msg]),
        json!({"action":"get","node":{"key":"/message","value":"Hello world","modifiedIndex":2,"createdIndex":2}})
    );
    let v = curl_json(&[&msg, "-XPUT", "-d", "value=Hello etcd"]);
    assert_eq!(v["node"]["prevValue"], "Hello world");
    assert_eq!(v["prevNode"]["value"], "Hello world");
    assert_eq!(v["node"]["createdIndex"], 3);
    let v = curl_json(&[&msg, "-XDELETE"]);
    assert_eq!(v["action"], "delete");
    assert_eq!(v["node"]["prevValue"], "Hello etcd");
    assert_eq!(v["node"]["modifiedIndex"], 4);
    assert_eq!(
        curl_json(&[&msg]),
        json!({"cause":"/message","errorCode":100,"index":4,"message":"Key Not Found"})
    );
    let machines = curl_json(&[&s.keys("/_etcd/machines")]);
    assert_eq!(
        machines["node"]["nodes"][0]["value"],
        format!("raft={}&etcd={}", s.peer_url(), s.client_url())
    );
    assert_eq!(machines["node"]["nodes"][0]["createdIndex"], 1);
}

/// Polls `key` (for at most 20 s) until it is gone, and returns the index its 404 reports.
fn expired_at(s: &EtcdProcess, key: &str) -> u64 {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let g = get(&s.keys(key)).unwrap();
        if g.status == 404 {
            return g.json()["index"].as_u64().unwrap();
        }
        assert!(Instant::now() < deadline, "{key} never expired");
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[test]
fn ttl_keys_expire_through_the_log() {
    let s = EtcdProcess::start();
    let r = request("PUT", &s.keys("/foo"), Some("value=bar&ttl=1")).unwrap();
    assert_eq!(r.status, 201);
    assert_eq!(r.json()["node"]["ttl"], 1);
    let set_index = r.etcd_index();
    let idx = expired_at(&s, "/foo");
    assert_eq!(idx, set_index + 1, "one expire event");
    let w = get(&format!("{}?wait=true&waitIndex={idx}", s.keys("/foo"))).unwrap();
    assert_eq!(w.json()["action"], "expire");
    assert_eq!(w.json()["prevNode"]["value"], "bar");
}

/// A TTL that runs out while the server is down expires after the restart, through the log,
/// with its event in the history: the restart applies the log after the snapshot before raft
/// starts, and the member expires the key once it leads again.
#[test]
fn a_ttl_that_ran_out_while_the_server_was_down_expires_after_the_restart() {
    let mut s = EtcdProcess::start_with(Options {
        extra: vec!["-snapshot-count".into(), "10".into()],
        ..Options::default()
    });
    for i in 0..25 {
        request("PUT", &s.keys(&format!("/k{i}")), Some("value=x")).unwrap();
    }
    let r = request("PUT", &s.keys("/short"), Some("value=gone&ttl=1")).unwrap();
    let set_index = r.etcd_index();
    request("PUT", &s.keys("/after"), Some("value=y")).unwrap();
    assert!(s.stop(), "SIGTERM exits cleanly");
    std::thread::sleep(Duration::from_millis(2500));
    s.restart();
    let idx = expired_at(&s, "/short");
    assert_eq!(idx, set_index + 2, "one expire event, after /after");
    let w = get(&format!("{}?wait=true&waitIndex={idx}", s.keys("/short"))).unwrap();
    assert_eq!(w.json()["action"], "expire");
    assert_eq!(w.json()["prevNode"]["value"], "gone");
    assert_eq!(get(&s.keys("/after")).unwrap().json()["node"]["value"], "y");
    assert_eq!(get(&s.keys("/k24")).unwrap().status, 200);
}

#[test]
fn watch_sends_headers_first_and_wakes_on_write() {
    let s = EtcdProcess::start();
    let resp = http::open("GET", &format!("{}?wait=true", s.keys("/w"))).unwrap();
    assert_eq!(resp.status(), 200, "headers arrive before any event");
    assert!(resp.header("x-etcd-index").is_some());
    let writer = {
        let url = s.keys("/w");
        std::thread::spawn(move || request("PUT", &url, Some("value=v1")).unwrap())
    };
    let body = resp.into_string().unwrap();
    let ev: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(ev["action"], "set");
    assert_eq!(ev["node"]["value"], "v1");
    writer.join().unwrap();
    let stats = get(&s.url("/v2/stats/store")).unwrap().json();
    assert_eq!(stats["watchers"], 0, "a fired watcher leaves the hub");
}

#[test]
fn quorum_reads_see_the_latest_write() {
    let s = EtcdProcess::start();
    for i in 0..20 {
        let v = format!("v{i}");
        request("PUT", &s.keys("/q"), Some(&format!("value={v}"))).unwrap();
        let g = get(&format!("{}?quorum=true", s.keys("/q"))).unwrap();
        assert_eq!(g.json()["node"]["value"], v);
    }
}

#[test]
fn acknowledged_writes_survive_kill_9() {
    let mut s = EtcdProcess::start_with(Options {
        extra: vec!["-snapshot-count".into(), "50".into()],
        ..Options::default()
    });
    let acked: Arc<Mutex<Vec<(String, String, u64)>>> = Arc::default();
    let stop = Arc::new(AtomicBool::new(false));
    let writers: Vec<_> = (0..8)
        .map(|w| {
            let acked = acked.clone();
            let stop = stop.clone();
            let base = s.keys("/d");
            std::thread::spawn(move || {
                for i in 0..400 {
                    if stop.load(Ordering::Relaxed) {
                        break;
                    }
                    let key = format!("/w{w}/k{i}");
                    let val = format!("{w}-{i}");
                    match request(
                        "PUT",
                        &format!("{base}{key}"),
                        Some(&format!("value={val}")),
                    ) {
                        Ok(r) if r.status < 300 => {
                            let idx = r.json()["node"]["modifiedIndex"].as_u64().unwrap();
                            acked.lock().unwrap().push((key, val, idx));
                        }
                        _ => break,
                    }
                }
            })
        })
        .collect();
    // Let a few hundred writes land, then crash the server under load.
    let deadline = Instant::now() + Duration::from_secs(60);
    while acked.lock().unwrap().len() < 300 && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
    s.kill9();
    stop.store(true, Ordering::Relaxed);
    for w in writers {
        w.join().unwrap();
    }
    s.restart();
    let acked = acked.lock().unwrap().clone();
    assert!(
        acked.len() >= 300,
        "only {} writes acknowledged",
        acked.len()
    );
    for (key, val, idx) in &acked {
        let g = get(&s.keys(&format!("/d{key}"))).unwrap();
        assert_eq!(g.status, 200, "acknowledged write {key} lost");
        assert_eq!(g.json()["node"]["value"], val.as_str());
        assert_eq!(g.json()["node"]["modifiedIndex"].as_u64().unwrap(), *idx);
    }
    let max = acked.iter().map(|a| a.2).max().unwrap();
    let next = request("PUT", &s.keys("/after"), Some("value=1")).unwrap();
    assert!(next.json()["node"]["modifiedIndex"].as_u64().unwrap() > max);
}

#[test]
fn clean_restart_and_force() {
    let mut s = EtcdProcess::start_with(Options {
        extra: vec!["-snapshot-count".into(), "10".into()],
        ..Options::default()
    });
    for i in 0..60 {
        request("PUT", &s.keys(&format!("/dir/k{i}")), Some("value=x")).unwrap();
    }
    request("PUT", &s.keys("/ttl"), Some("value=t&ttl=1000")).unwrap();
    let before = get(&s.keys("/?recursive=true")).unwrap();
    assert!(s.stop(), "SIGTERM exits cleanly");
    s.restart();
    let after = get(&s.keys("/?recursive=true")).unwrap();
    let strip_ttl = |mut v: Value| {
        for n in v["node"]["nodes"].as_array_mut().unwrap() {
            n.as_object_mut().unwrap().remove("ttl");
        }
        v
    };
    assert_eq!(strip_ttl(before.json()), strip_ttl(after.json()));
    assert_eq!(before.etcd_index(), after.etcd_index());
    assert!(
        get(&s.keys("/ttl")).unwrap().json()["node"]["ttl"]
            .as_i64()
            .unwrap()
            > 900
    );
    let next = request("PUT", &s.keys("/next"), Some("value=1")).unwrap();
    assert_eq!(next.etcd_index(), after.etcd_index() + 1);
    let mut args = s.args().to_vec();
    args.push("-f".into());
    s.restart_with_args(args);
    assert_eq!(
        get(&s.keys("/next")).unwrap().status,
        404,
        "-f starts afresh"
    );
}

/// A write's X-Raft-Index covers its own raft entry: each of several writes in a row answers a
/// higher one, and a GET right after it never shows a lower one. The loop used to publish
/// the commit index only after answering, so a write could show the index before its own.
#[test]
fn a_writes_raft_index_header_covers_its_own_entry() {
    let s = EtcdProcess::start();
    let raft_index = |r: &etcd_integration::Reply| -> u64 {
        r.header("X-Raft-Index")
            .and_then(|v| v.parse().ok())
            .unwrap_or_else(|| panic!("no X-Raft-Index: {:?}", r.headers))
    };
    let mut last = 0;
    for i in 0..20 {
        let put = request("PUT", &s.keys("/r"), Some(&format!("value={i}"))).unwrap();
        let written = raft_index(&put);
        assert!(
            written > last,
            "write {i}: X-Raft-Index {written} after {last}"
        );
        let read = raft_index(&get(&s.keys("/r")).unwrap());
        assert!(
            read >= written,
            "a GET after write {i} shows {read} < {written}"
        );
        last = written;
    }
}

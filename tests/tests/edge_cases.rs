//! Edge cases of spec §12 that need a running server: watch framing and history, hidden
//! keys, HTTP methods, escapes and form precedence, refresh, stats and the other endpoints.

use std::io::Read;
use std::time::{Duration, Instant};

use etcd_integration::watchers::{self, count as watchers};
use etcd_integration::{get, http, request, EtcdProcess};
use serde_json::Value;

fn put(s: &EtcdProcess, key_and_query: &str, form: &str) -> Value {
    request("PUT", &s.keys(key_and_query), Some(form))
        .unwrap()
        .json()
}

#[test]
fn history_window_gives_401_after_1000_events() {
    let s = EtcdProcess::start();
    for i in 0..1010 {
        request("PUT", &s.keys(&format!("/h{}", i % 7)), Some("value=x")).unwrap();
    }
    let r = get(&format!("{}?wait=true&waitIndex=8", s.keys("/h1"))).unwrap();
    assert_eq!(r.status, 400);
    let v = r.json();
    assert_eq!(v["errorCode"], 401);
    let current = v["index"].as_u64().unwrap();
    let oldest = current - 999;
    assert_eq!(
        v["cause"],
        format!("the requested history has been cleared [{oldest}/8]")
    );
    // Within the window, history answers at once.
    let r = get(&format!("{}?wait=true&waitIndex={oldest}", s.keys("/h1"))).unwrap();
    assert_eq!(r.status, 200);
}

#[test]
fn deleting_a_directory_wakes_watchers_inside_it() {
    let s = EtcdProcess::start();
    put(&s, "/d/x/y", "value=1");
    let opened: Vec<_> = ["/d", "/d/x", "/d/x/y"]
        .iter()
        .map(|k| http::open("GET", &format!("{}?wait=true", s.keys(k))).unwrap())
        .collect();
    watchers::wait_for(&s, 3);
    request("DELETE", &format!("{}?recursive=true", s.keys("/d")), None).unwrap();
    for resp in opened {
        let ev: Value = serde_json::from_str(&resp.into_string().unwrap()).unwrap();
        assert_eq!(ev["action"], "delete");
        assert_eq!(ev["node"]["key"], "/d");
        assert_eq!(ev["node"]["dir"], true);
    }
}

#[test]
fn recursive_watch_skips_hidden_keys_but_a_direct_watch_fires() {
    let s = EtcdProcess::start();
    let root = http::open("GET", &format!("{}?wait=true&recursive=true", s.keys("/"))).unwrap();
    let hidden = http::open("GET", &format!("{}?wait=true", s.keys("/_x"))).unwrap();
    watchers::wait_for(&s, 2);
    put(&s, "/_x", "value=secret");
    let ev: Value = serde_json::from_str(&hidden.into_string().unwrap()).unwrap();
    assert_eq!(ev["node"]["key"], "/_x");
    put(&s, "/visible", "value=1");
    let ev: Value = serde_json::from_str(&root.into_string().unwrap()).unwrap();
    assert_eq!(
        ev["node"]["key"], "/visible",
        "the hidden write did not wake /"
    );
}

#[test]
fn stream_watch_sends_one_line_per_event_and_disconnect_frees_it() {
    let s = EtcdProcess::start();
    let resp = http::open("GET", &format!("{}?wait=true&stream=true", s.keys("/s"))).unwrap();
    assert_eq!(resp.header("transfer-encoding"), Some("chunked"));
    watchers::wait_for(&s, 1);
    put(&s, "/s", "value=1");
    put(&s, "/s", "value=2");
    let mut reader = resp.into_reader();
    let mut got = String::new();
    let mut buf = [0u8; 4096];
    while got.lines().count() < 2 {
        let n = reader.read(&mut buf).unwrap();
        assert!(n > 0, "stream ended early: {got:?}");
        got.push_str(&String::from_utf8_lossy(&buf[..n]));
    }
    let values: Vec<String> = got
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).unwrap()["node"]["value"].to_string())
        .collect();
    assert_eq!(values, vec!["\"1\"", "\"2\""]);
    drop(reader);
    // The client went away: the next event finds the connection closed and the watcher goes.
    let deadline = Instant::now() + Duration::from_secs(20);
    while watchers(&s) != 0 {
        put(&s, "/s", "value=3");
        assert!(Instant::now() < deadline, "watcher leaked after disconnect");
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn methods_and_unknown_paths() {
    let s = EtcdProcess::start();
    put(&s, "/a", "value=1");
    let r = request("PATCH", &s.keys("/a"), None).unwrap();
    assert_eq!(r.status, 405);
    assert_eq!(r.header("allow"), Some("HEAD,GET,PUT,POST,DELETE"));
    let r = request("OPTIONS", &s.keys("/a"), None).unwrap();
    assert_eq!((r.status, r.body.as_str()), (200, ""));
    let r = request("HEAD", &s.keys("/a"), None).unwrap();
    assert_eq!(r.status, 200);
    assert!(r.body.is_empty());
    assert!(r.header("x-etcd-index").is_some());
    let r = get(&s.url("/nothing/here")).unwrap();
    assert_eq!((r.status, r.body.as_str()), (404, "404 page not found\n"));
    let r = request("POST", &s.url("/v2/stats/store"), None).unwrap();
    assert_eq!(r.status, 405);
}

#[test]
fn escapes_paths_and_form_precedence() {
    let s = EtcdProcess::start();
    assert_eq!(put(&s, "/a//b/", "value=1")["node"]["key"], "/a/b");
    assert_eq!(
        get(&s.keys("/a/./x/../b")).unwrap().json()["node"]["key"],
        "/a/b"
    );
    assert_eq!(
        get(&s.keys("/a%2Fb")).unwrap().json()["node"]["key"],
        "/a/b"
    );
    assert_eq!(put(&s, "/sp%20ace", "value=1")["node"]["key"], "/sp ace");
    assert_eq!(put(&s, "/v?value=q", "value=b")["node"]["value"], "b");
    let r = request("PUT", &format!("{}?value=q", s.keys("/v")), None).unwrap();
    assert_eq!(r.json()["node"]["value"], "q");
    assert_eq!(put(&s, "/v", "value=1&value=2")["node"]["value"], "1");
    assert_eq!(put(&s, "/v", "value=a+b%26c")["node"]["value"], "a b&c");
    let v = put(&s, "/v", "value=%zz");
    assert_eq!(
        (v["errorCode"].as_u64(), v["index"].as_u64()),
        (Some(210), Some(0))
    );
    put(&s, "/dir/k", "value=1");
    let r = request("DELETE", &s.keys("/dir"), Some("recursive=true")).unwrap();
    assert_eq!(r.json()["errorCode"], 102, "a DELETE body is ignored");
    let v = put(&s, "/n?noValueOnSuccess=true", "value=5");
    assert_eq!(v, serde_json::json!({"action":"set"}));
}

#[test]
fn refresh_moves_the_ttl_without_waking_watchers() {
    let s = EtcdProcess::start();
    put(&s, "/r", "value=v&ttl=5");
    let w = http::open("GET", &format!("{}?wait=true", s.keys("/r"))).unwrap();
    watchers::wait_for(&s, 1);
    let v = put(&s, "/r?refresh=true&prevExist=true", "ttl=50");
    assert_eq!(v["action"], "update");
    assert_eq!(v["node"]["value"], "v");
    assert_eq!(v["node"]["ttl"], 50);
    assert_eq!(watchers(&s), 1, "refresh did not fire the watch");
    let v = put(&s, "/r", "value=after");
    let ev: Value = serde_json::from_str(&w.into_string().unwrap()).unwrap();
    assert_eq!(ev["node"]["value"], "after");
    assert_eq!(ev["node"]["modifiedIndex"], v["node"]["modifiedIndex"]);
    assert_eq!(
        put(&s, "/r?refresh=true", "value=x&ttl=5")["errorCode"],
        211
    );
    assert_eq!(put(&s, "/r?refresh=true", "")["errorCode"], 212);
    assert_eq!(
        put(&s, "/gone?refresh=true&prevExist=true", "ttl=5")["errorCode"],
        100
    );
}

#[test]
fn other_endpoints() {
    let s = EtcdProcess::start();
    let v = get(&s.url("/version")).unwrap().json();
    assert!(v["etcdserver"].is_string() && v["etcdcluster"].is_string());
    assert_eq!(get(&s.url("/v2/machines")).unwrap().body, s.client_url());
    assert_eq!(get(&s.url("/v2/leader")).unwrap().body, s.peer_url());
    assert_eq!(get(&s.url("/health")).unwrap().json()["health"], "true");
    let m = get(&s.url("/v2/members")).unwrap().json();
    let me = &m["members"][0];
    assert_eq!(me["name"], "machine0");
    assert_eq!(me["id"].as_str().unwrap().len(), 16);
    assert_eq!(me["clientURLs"][0], s.client_url().as_str());
    assert_eq!(get(&s.url("/v2/members/leader")).unwrap().json(), *me);
    let r = request("POST", &s.url("/v2/members"), Some("peerURLs=x")).unwrap();
    assert_eq!(r.status, 415);
    let r = request("DELETE", &s.url("/v2/members/zzz"), None).unwrap();
    assert_eq!(
        (r.status, r.json()["message"].as_str()),
        (404, Some("No such member: zzz"))
    );
    let before = get(&s.url("/v2/stats/store")).unwrap().json();
    put(&s, "/count", "value=1");
    let after = get(&s.url("/v2/stats/store")).unwrap().json();
    assert_eq!(
        after["setsSuccess"].as_u64().unwrap(),
        before["setsSuccess"].as_u64().unwrap() + 1
    );
    let me = get(&s.url("/v2/stats/self")).unwrap().json();
    assert_eq!(me["state"], "StateLeader");
    assert_eq!(
        get(&s.url("/v2/stats/leader")).unwrap().json()["followers"],
        serde_json::json!({})
    );
}

#[test]
fn an_idle_watch_is_freed_when_its_client_goes_away() {
    let s = EtcdProcess::start();
    let resp = http::open("GET", &format!("{}?wait=true", s.keys("/never"))).unwrap();
    watchers::wait_for(&s, 1);
    drop(resp);
    // No event ever comes for /never: the server must notice the closed connection itself.
    watchers::wait_for(&s, 0);
}

#[test]
fn inputs_are_bounded_with_etcd_errors() {
    let s = EtcdProcess::start();
    let long_key = format!("/{}", "k".repeat(9 * 1024));
    let r = request("PUT", &s.keys(&long_key), Some("value=1")).unwrap();
    assert_eq!((r.status, r.json()["errorCode"].as_u64()), (400, Some(209)));
    let big = format!("value={}", "v".repeat(2 * 1024 * 1024));
    // The server answers 210 as soon as the cap is passed and closes; a client still sending
    // may see that as a broken pipe instead of the reply. Either way nothing is stored.
    if let Ok(r) = request("PUT", &s.keys("/big"), Some(&big)) {
        assert_eq!((r.status, r.json()["errorCode"].as_u64()), (400, Some(210)));
    }
    assert_eq!(get(&s.keys("/big")).unwrap().status, 404);
    // The server is still fine.
    assert_eq!(put(&s, "/ok", "value=1")["action"], "set");
}

#[test]
fn zero_ttl_keys_exist_without_ttl_field_then_expire() {
    let s = EtcdProcess::start();
    let v = put(&s, "/z", "value=1&ttl=0");
    assert_eq!(v["action"], "set");
    assert!(v["node"].get("ttl").is_none(), "{v}");
    let deadline = Instant::now() + Duration::from_secs(20);
    while get(&s.keys("/z")).unwrap().status != 404 {
        assert!(Instant::now() < deadline, "ttl=0 key never expired");
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn watch_inside_an_expiring_directory_gets_the_dir_expire_event() {
    let s = EtcdProcess::start();
    // Long enough that the watch below is surely registered before the dir expires.
    put(&s, "/d", "dir=true&ttl=3");
    put(&s, "/d/k", "value=1");
    let w = http::open("GET", &format!("{}?wait=true", s.keys("/d/k"))).unwrap();
    let ev: Value = serde_json::from_str(&w.into_string().unwrap()).unwrap();
    assert_eq!(ev["action"], "expire");
    assert_eq!(ev["node"]["key"], "/d");
    assert_eq!(ev["node"]["dir"], true);
}

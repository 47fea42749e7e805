//! Trees as deep and as wide as the API accepts survive snapshots, restarts, snapshot
//! transfer to a joining member and recursive GETs; data dirs of 0.3.0 still start; a big
//! recursive GET does not hold up writes.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use etcd_integration::cluster::Cluster;
use etcd_integration::{copy_dir, fixture, get, request, without_ttls, EtcdProcess, Options};
use serde_json::Value;

/// Levels of the deepest key the 8 KiB key limit allows: `/a` is two bytes a level.
const DEEPEST: usize = 8 * 1024 / 2;

/// `/a/a/…/a/x`, `levels` segments.
fn deep_key(levels: usize) -> String {
    let mut k = "/a".repeat(levels - 1);
    k.push_str("/x");
    k
}

fn start(extra: &[&str]) -> EtcdProcess {
    EtcdProcess::start_with(Options {
        extra: extra.iter().map(|s| s.to_string()).collect(),
        ..Options::default()
    })
}

fn put(p: &EtcdProcess, key: &str, value: &str) -> u16 {
    let r = request("PUT", &p.keys(key), Some(&format!("value={value}"))).unwrap();
    assert!(
        r.status / 100 == 2,
        "PUT {}…: {} {}",
        &key[..key.len().min(40)],
        r.status,
        r.body
    );
    r.status
}

fn value_of(p: &EtcdProcess, key: &str) -> Option<String> {
    let r = get(&p.keys(key)).ok()?;
    (r.status == 200).then(|| r.json()["node"]["value"].as_str().map(str::to_string))?
}

/// Every (key, value) of a GET answer's node tree (dirs: `None`), in answer order. The answer
/// nests thousands of levels deep: parsed without serde_json's nesting limit, on a thread whose
/// stack takes the recursion of parsing and dropping it.
fn flatten(body: String) -> Vec<(String, Option<String>)> {
    std::thread::Builder::new()
        .stack_size(512 * 1024 * 1024)
        .spawn(move || {
            let mut de = serde_json::Deserializer::from_str(&body);
            de.disable_recursion_limit();
            let v: Value = de
                .into_iter()
                .next()
                .expect("an answer")
                .unwrap_or_else(|e| panic!("answer is not JSON: {e}"));
            let mut out = Vec::new();
            let mut stack = vec![&v["node"]];
            while let Some(n) = stack.pop() {
                out.push((
                    n["key"].as_str().expect("a key").to_string(),
                    n["value"].as_str().map(str::to_string),
                ));
                if let Some(kids) = n["nodes"].as_array() {
                    stack.extend(kids.iter().rev());
                }
            }
            out
        })
        .unwrap()
        .join()
        .expect("parsing the answer")
}

/// GET with the whole body, however large (the deepest tree renders ~17 MB: more than the
/// 10 MB `ureq`'s `into_string` takes).
fn get_big(url: &str) -> (u16, String) {
    let resp = match ureq::get(url).call() {
        Ok(r) => r,
        Err(ureq::Error::Status(_, r)) => r,
        Err(e) => panic!("GET {url}: {e}"),
    };
    let status = resp.status();
    let mut body = String::new();
    std::io::Read::read_to_string(&mut resp.into_reader(), &mut body).expect("read the body");
    (status, body)
}

fn recursive_get(p: &EtcdProcess, query: &str) -> Vec<(String, Option<String>)> {
    let (status, body) = get_big(&p.url(&format!("/v2/keys/?recursive=true{query}")));
    assert_eq!(status, 200, "{}", &body[..body.len().min(300)]);
    flatten(body)
}

/// The deep key, its value and every directory above it are in a recursive GET of `/`, plain
/// and sorted.
fn assert_deep_tree_served(p: &EtcdProcess, key: &str, levels: usize) {
    assert_eq!(value_of(p, key).as_deref(), Some("deep"));
    for query in ["", "&sorted=true"] {
        let all = recursive_get(p, query);
        let found = all.iter().find(|(k, _)| k == key);
        assert_eq!(found.and_then(|(_, v)| v.as_deref()), Some("deep"));
        let dirs = all
            .iter()
            .filter(|(k, v)| v.is_none() && key.starts_with(k.as_str()));
        assert_eq!(
            dirs.count(),
            levels,
            "the root and every level above the key"
        );
    }
}

#[test]
fn a_key_50_levels_deep_survives_a_snapshot_and_a_restart() {
    let mut p = start(&["-snapshot-count", "5"]);
    let key = deep_key(50);
    assert_eq!(put(&p, &key, "deep"), 201);
    for i in 0..6 {
        put(&p, &format!("/w{i}"), &i.to_string());
    }
    p.restart();
    assert_deep_tree_served(&p, &key, 50);
    assert_eq!(value_of(&p, "/w5").as_deref(), Some("5"));
}

#[test]
fn the_deepest_key_the_limit_allows_survives_a_snapshot_and_a_restart() {
    let mut p = start(&["-snapshot-count", "5"]);
    let key = deep_key(DEEPEST);
    assert_eq!(key.len(), 8 * 1024);
    assert_eq!(put(&p, &key, "deep"), 201);
    // One level more is over the key limit: a JSON error, nothing written.
    let over = request("PUT", &p.keys(&format!("/a{key}")), Some("value=no")).unwrap();
    assert_eq!(over.status, 400, "{}", over.body);
    assert_eq!(over.json()["errorCode"], 209);
    for i in 0..6 {
        put(&p, &format!("/w{i}"), &i.to_string());
    }
    p.restart();
    assert_deep_tree_served(&p, &key, DEEPEST);
    // Writes still apply on it, and a recursive delete of the whole tree works.
    put(&p, &deep_key(DEEPEST - 1), "second");
    let del = request("DELETE", &p.keys("/a?recursive=true"), None).unwrap();
    assert_eq!(del.status, 200, "{}", del.body);
    assert_eq!(value_of(&p, &key), None);
}

#[test]
fn a_member_joining_by_snapshot_gets_the_deepest_tree() {
    let mut c = Cluster::start(3, &["-snapshot-count", "20"]);
    let key = deep_key(DEEPEST);
    c.put(0, &key, "deep").unwrap();
    for n in 0..60 {
        c.put(n % 3, &format!("/bulk/{n}"), "v").unwrap();
    }
    let late = c.add_member();
    let deadline = Instant::now() + Duration::from_secs(60);
    while value_of(&c.members[late], "/bulk/59").is_none() {
        assert!(Instant::now() < deadline, "late member never caught up");
        std::thread::sleep(Duration::from_millis(100));
    }
    assert!(
        c.members[late].log().contains("installed snapshot"),
        "the late member caught up by snapshot; log:\n{}",
        c.members[late].log()
    );
    assert_deep_tree_served(&c.members[late], &key, DEEPEST);
    c.wait_converged();
    assert_eq!(
        recursive_get(&c.members[late], "&sorted=true"),
        recursive_get(&c.members[0], "&sorted=true")
    );
}

/// Starts our binary on a copy of a fixture data dir.
fn start_on_fixture(fixture_dir: &str, member: &str) -> (EtcdProcess, tempfile::TempDir) {
    let tmp = tempfile::tempdir().unwrap();
    let data_dir = tmp.path().join(member);
    copy_dir(&fixture(fixture_dir).join(member), &data_dir);
    let p = EtcdProcess::start_with(Options {
        name: member.into(),
        data_dir: Some(data_dir),
        ..Options::default()
    });
    (p, tmp)
}

#[test]
fn a_data_dir_of_0_3_0_starts_and_serves_every_key() {
    let (p, _tmp) = start_on_fixture("datadir-v0.3.0", "machine0");
    let expected = std::fs::read_to_string(fixture("datadir-v0.3.0/expected.json")).unwrap();
    let mut expected: Value = serde_json::from_str(&expected).unwrap();
    let r = get(&p.url("/v2/keys/?recursive=true&sorted=true")).unwrap();
    assert_eq!(r.status, 200);
    let mut got = r.json();
    without_ttls(&mut expected);
    without_ttls(&mut got);
    assert_eq!(got, expected);
    // The log tail after the snapshot was replayed, and the store goes on from there.
    assert_eq!(value_of(&p, "/tail/four").as_deref(), Some("4"));
    assert_eq!(value_of(&p, "/_hidden").as_deref(), Some("secret"));
    assert!(put(&p, "/new", "x") / 100 == 2);
}

#[test]
fn a_data_dir_0_3_0_could_not_start_on_starts() {
    let (mut p, _tmp) = start_on_fixture("datadir-v0.3.0-deep", "m");
    let key = deep_key(51);
    assert_deep_tree_served(&p, &key, 51);
    assert_eq!(value_of(&p, "/w6").as_deref(), Some("6"));
    // Its next snapshot is written in the flat format and read back.
    for i in 0..12 {
        put(&p, &format!("/more{i}"), "x");
    }
    p.restart();
    assert_deep_tree_served(&p, &key, 51);
}

/// PUTs `keys` from `threads` keep-alive clients; panics on any failed write.
fn put_all(p: &EtcdProcess, keys: Vec<String>, threads: usize) {
    let keys = Arc::new(keys);
    let next = Arc::new(AtomicUsize::new(0));
    let base = p.keys("");
    let workers: Vec<_> = (0..threads)
        .map(|_| {
            let (keys, next, base) = (keys.clone(), next.clone(), base.clone());
            std::thread::spawn(move || {
                let agent = ureq::AgentBuilder::new()
                    .timeout(Duration::from_secs(60))
                    .build();
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let Some(key) = keys.get(i) else { return };
                    let r = agent
                        .put(&format!("{base}{key}"))
                        .send_form(&[("value", "v")]);
                    if let Err(e) = r {
                        panic!("PUT {key}: {e}");
                    }
                }
            })
        })
        .collect();
    for w in workers {
        w.join().expect("a writer failed");
    }
}

/// 50,000 keys, 20,000 of them in one directory: they survive snapshots and a restart, and
/// recursive GETs of all of it, rendered while writes go on, leave every write committing.
#[test]
fn a_wide_large_tree_survives_restart_and_reading_it_does_not_stall_writes() {
    let mut p = start(&["-snapshot-count", "5000"]);
    let mut keys: Vec<String> = (0..20_000).map(|i| format!("/wide/k{i:05}")).collect();
    keys.extend((0..30_000).map(|i| format!("/tree/d{:03}/k{i:05}", i % 100)));
    put_all(&p, keys, 8);
    p.restart();
    let wide = get(&p.keys("/wide")).unwrap().json();
    let kids = wide["node"]["nodes"].as_array().expect("children");
    assert_eq!(kids.len(), 20_000);
    assert_eq!(kids[19_999]["key"], "/wide/k19999");

    // Readers fetch the whole tree over and over while writers go on.
    let reading = Arc::new(AtomicUsize::new(0));
    let readers: Vec<_> = (0..2)
        .map(|_| {
            let url = p.url("/v2/keys/?recursive=true&sorted=true");
            let reading = reading.clone();
            std::thread::spawn(move || {
                for _ in 0..4 {
                    reading.fetch_add(1, Ordering::Relaxed);
                    let (status, body) = get_big(&url);
                    assert_eq!(status, 200);
                    let leaves = flatten(body)
                        .into_iter()
                        .filter(|(_, v)| v.is_some())
                        .count();
                    assert!(leaves >= 50_000, "{leaves} keys listed");
                }
            })
        })
        .collect();
    let deadline = Instant::now() + Duration::from_secs(60);
    while reading.load(Ordering::Relaxed) == 0 {
        assert!(Instant::now() < deadline);
        std::thread::sleep(Duration::from_millis(5));
    }
    let during: Vec<String> = (0..400).map(|i| format!("/during/k{i}")).collect();
    put_all(&p, during, 4);
    for r in readers {
        r.join().expect("a reader failed");
    }
    for i in [0, 199, 399] {
        assert_eq!(value_of(&p, &format!("/during/k{i}")).as_deref(), Some("v"));
    }
}

//! Differential test: one long seeded random sequence of operations sent to our server and to
//! the reference etcd 3.4 (`--enable-v2`) in lock step. Answers must agree up to index
//! renumbering and the documented differences of the spec (§11).

use std::collections::HashMap;

use etcd_integration::{request, EtcdProcess, Reply};
use serde_json::Value;

/// A tiny deterministic generator (no dependency, same sequence everywhere).
struct Lcg(u64);

impl Lcg {
    fn next(&mut self, n: usize) -> usize {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        ((self.0 >> 33) % n as u64) as usize
    }
}

const KEYS: [&str; 8] = [
    "/d0", "/d0/a", "/d0/b", "/d0/s/x", "/d1", "/d1/a", "/k", "/d1/_h",
];
const VALUES: [&str; 3] = ["one", "two", ""];

/// Maps a server's indexes to the order in which they first appear, so two servers whose
/// counters start at different places compare equal.
#[derive(Default)]
struct Renumber(HashMap<u64, usize>);

impl Renumber {
    fn map(&mut self, v: u64) -> u64 {
        let next = self.0.len() + 1;
        *self.0.entry(v).or_insert(next) as u64
    }
}

/// One server under test, with what it has told us about modifiedIndexes.
struct Side {
    server: EtcdProcess,
    renumber: Renumber,
    last_index: HashMap<String, u64>,
}

fn normalise_node(n: &mut Value, r: &mut Renumber) {
    let Some(obj) = n.as_object_mut() else { return };
    // Our seed-form extra field.
    obj.remove("prevValue");
    for f in ["modifiedIndex", "createdIndex"] {
        if let Some(v) = obj.get(f).and_then(Value::as_u64) {
            obj.insert(f.into(), r.map(v).into());
        }
    }
    if obj.contains_key("ttl") {
        obj.insert("ttl".into(), true.into());
    }
    if obj.contains_key("expiration") {
        obj.insert("expiration".into(), true.into());
    }
    // In-order names are the (server-specific) index, zero padded: renumber them too.
    if let Some(key) = obj.get("key").and_then(Value::as_str).map(str::to_string) {
        if let Some((parent, name)) = key.rsplit_once('/') {
            if name.len() == 20 && name.bytes().all(|b| b.is_ascii_digit()) {
                let idx: u64 = name.parse().unwrap_or(0);
                obj.insert("key".into(), format!("{parent}/#{}", r.map(idx)).into());
            }
        }
    }
    if let Some(nodes) = obj.get_mut("nodes").and_then(Value::as_array_mut) {
        for c in nodes.iter_mut() {
            normalise_node(c, r);
        }
        // etcd 3.4 lists in map order unless sorted; compare as sets.
        nodes.sort_by_key(|c| c["key"].as_str().unwrap_or("").to_string());
    }
}

fn normalise(reply: &Reply, r: &mut Renumber) -> Value {
    let mut v: Value = serde_json::from_str(&reply.body).unwrap_or(Value::Null);
    if let Some(obj) = v.as_object_mut() {
        if obj.contains_key("errorCode") {
            // Messages of 100/101/105 and the CAS cause format differ by design (§11 rows 2, 3).
            obj.remove("message");
            if obj["errorCode"] == 101 {
                obj.remove("cause");
            }
            if let Some(i) = obj.get("index").and_then(Value::as_u64) {
                obj.insert("index".into(), r.map(i).into());
            }
        }
        for f in ["node", "prevNode"] {
            if let Some(n) = obj.get_mut(f) {
                normalise_node(n, r);
            }
        }
    }
    serde_json::json!({"status": reply.status, "body": v})
}

/// One generated operation: method, key, query, form body. `prevIndex` is filled per side.
struct Op {
    method: &'static str,
    key: String,
    query: String,
    body: String,
    prev_index_of: Option<String>,
}

fn gen(rng: &mut Lcg) -> Op {
    let key = KEYS[rng.next(KEYS.len())].to_string();
    let value = VALUES[rng.next(VALUES.len())];
    let op = |method, query: &str, body: String| Op {
        method,
        key: key.clone(),
        query: query.to_string(),
        body,
        prev_index_of: None,
    };
    match rng.next(14) {
        0 | 1 => op("PUT", "", format!("value={value}")),
        2 => op("PUT", "?dir=true", String::new()),
        3 => op("PUT", "?prevExist=false", format!("value={value}")),
        4 => op("PUT", "?prevExist=true", format!("value={value}")),
        5 => op("PUT", "?prevValue=one", format!("value={value}")),
        6 => Op {
            prev_index_of: Some(key.clone()),
            ..op("PUT", "", format!("value={value}"))
        },
        7 => op("PUT", "", format!("value={value}&ttl=1000")),
        8 => op("DELETE", "", String::new()),
        9 => op("DELETE", "?dir=true", String::new()),
        10 => op("DELETE", "?recursive=true", String::new()),
        11 => op("DELETE", "?prevValue=two", String::new()),
        12 => op("POST", "", format!("value={value}")),
        _ => op("GET", "?recursive=true&sorted=true", String::new()),
    }
}

fn send(side: &mut Side, op: &Op) -> Reply {
    let mut query = op.query.clone();
    if let Some(k) = &op.prev_index_of {
        let idx = side.last_index.get(k).copied().unwrap_or(1);
        query = format!("?prevIndex={idx}");
    }
    let url = format!("{}{query}", side.server.keys(&op.key));
    let body = (!op.body.is_empty()).then_some(op.body.as_str());
    let reply = request(op.method, &url, body).expect("server answers");
    if let Ok(v) = serde_json::from_str::<Value>(&reply.body) {
        if let (Some(k), Some(i)) = (
            v["node"]["key"].as_str(),
            v["node"]["modifiedIndex"].as_u64(),
        ) {
            side.last_index.insert(k.to_string(), i);
        }
    }
    reply
}

#[test]
fn random_operations_agree_with_etcd_3_4() {
    let Some(reference) = EtcdProcess::start_reference() else {
        return;
    };
    let mut sides = [
        Side {
            server: EtcdProcess::start(),
            renumber: Renumber::default(),
            last_index: HashMap::new(),
        },
        Side {
            server: reference,
            renumber: Renumber::default(),
            last_index: HashMap::new(),
        },
    ];
    let mut rng = Lcg(0x5eed_e7cd);
    let mut agreed = 0;
    let mut outcomes: HashMap<String, usize> = HashMap::new();
    for step in 0..400 {
        let op = gen(&mut rng);
        let replies: Vec<Reply> = sides.iter_mut().map(|s| send(s, &op)).collect();
        let ours = normalise(&replies[0], &mut sides[0].renumber);
        let theirs = normalise(&replies[1], &mut sides[1].renumber);
        assert_eq!(
            ours, theirs,
            "step {step}: {} {}{} body {:?} diverged\nours:   {}\netcd:   {}",
            op.method, op.key, op.query, op.body, replies[0].body, replies[1].body
        );
        agreed += 1;
        let outcome = match ours["body"]["errorCode"].as_u64() {
            Some(code) => format!("error {code}"),
            None => format!("{} {}", ours["status"], ours["body"]["action"]),
        };
        *outcomes.entry(outcome).or_default() += 1;
    }
    assert_eq!(agreed, 400);
    eprintln!("outcomes: {outcomes:?}");
    // The sequence must exercise successes and failures of many kinds to mean anything.
    assert!(
        outcomes.len() >= 12,
        "too few kinds of outcome: {outcomes:?}"
    );
}

//! Differential test: one long seeded random sequence of operations sent to our server and to
//! the reference etcd 3.4 (`--enable-v2`) in lock step. Answers must agree up to index
//! renumbering and the documented differences of the spec (§11).

use std::collections::HashMap;

use etcd_integration::differential::{normalise, Lcg, Renumber};
use etcd_integration::{request, EtcdProcess, Reply};
use serde_json::Value;

const KEYS: [&str; 8] = [
    "/d0", "/d0/a", "/d0/b", "/d0/s/x", "/d1", "/d1/a", "/k", "/d1/_h",
];
const VALUES: [&str; 3] = ["one", "two", ""];

/// One server under test, with what it has told us about modifiedIndexes.
struct Side {
    server: EtcdProcess,
    renumber: Renumber,
    last_index: HashMap<String, u64>,
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

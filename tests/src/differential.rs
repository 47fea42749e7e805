//! What the differential tests share: a seeded generator and the normalisation that makes two
//! servers' answers comparable (indexes renumbered by first appearance, TTLs reduced to
//! presence, in-order names renumbered, children sorted, documented differences removed).

use std::collections::HashMap;

use serde_json::Value;

use crate::Reply;

/// A tiny deterministic generator (no dependency, the same sequence everywhere).
pub struct Lcg(pub u64);

impl Lcg {
    /// A number below `n`.
    pub fn next(&mut self, n: usize) -> usize {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        ((self.0 >> 33) % n as u64) as usize
    }
}

/// Maps a server's indexes to the order in which they first appear, so two servers whose
/// counters start at different places compare equal.
#[derive(Default)]
pub struct Renumber(HashMap<u64, usize>);

impl Renumber {
    /// The renumbered index.
    pub fn map(&mut self, v: u64) -> u64 {
        let next = self.0.len() + 1;
        *self.0.entry(v).or_insert(next) as u64
    }
}

/// Normalises one node (and its children) in place.
pub fn normalise_node(n: &mut Value, r: &mut Renumber) {
    let Some(obj) = n.as_object_mut() else { return };
    // Our seed-form extra field.
    obj.remove("prevValue");
    for f in ["modifiedIndex", "createdIndex"] {
        if let Some(v) = obj.get(f).and_then(Value::as_u64) {
            obj.insert(f.into(), r.map(v).into());
        }
    }
    for f in ["ttl", "expiration"] {
        if obj.contains_key(f) {
            obj.insert(f.into(), true.into());
        }
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

/// A reply as `{"status": .., "body": ..}`, normalised. Error messages differ by design
/// (spec §11 row 2), so does the cause of 101 (row 3) and the history bounds in 401's cause.
pub fn normalise(reply: &Reply, r: &mut Renumber) -> Value {
    let mut v: Value = serde_json::from_str(&reply.body).unwrap_or(Value::Null);
    if let Some(obj) = v.as_object_mut() {
        if obj.contains_key("errorCode") {
            obj.remove("message");
            if obj["errorCode"] == 101 || obj["errorCode"] == 401 {
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

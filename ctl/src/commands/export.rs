//! `export` and `import`: a subtree as JSON (keys, values, directories, TTLs) and back.
//!
//! The file is one JSON object, one node per line so that diffs stay readable:
//! `{"format":"etcdctl-export/1","root":"/a","nodes":[{"key":"/a/b","value":"v","ttl":30},…]}`.
//! Nodes are in pre-order (a directory before its children). `ttl` is the time left when
//! exported; import gives each node that TTL again.

use std::collections::BTreeMap;
use std::io::{IsTerminal, Read};
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

use common::{ErrorCode, Node};
use indicatif::{ProgressBar, ProgressStyle};
use serde::{Deserialize, Serialize};

use super::keys::key_arg;
use crate::client::Client;
use crate::failure::Failure;

/// The `format` tag written and required, so a wrong file is refused before any write.
pub const FORMAT: &str = "etcdctl-export/1";
/// How many failed writes are shown in full; the rest are only counted.
const SHOWN_FAILURES: usize = 10;

/// One exported key or directory.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Entry {
    /// Full path.
    pub key: String,
    /// The value (keys only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<String>,
    /// True for directories.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub dir: bool,
    /// Seconds left to live; absent when the node never expires.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ttl: Option<u64>,
}

/// The whole file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Dump {
    /// Always [`FORMAT`].
    pub format: String,
    /// The exported directory.
    pub root: String,
    /// Every node, pre-order.
    pub nodes: Vec<Entry>,
}

fn entry(n: &Node) -> Entry {
    Entry {
        key: n.key.clone(),
        value: if n.dir { None } else { n.value.clone() },
        dir: n.dir,
        ttl: u64::try_from(n.ttl).ok().filter(|t| *t > 0),
    }
}

/// Appends `n` (unless it is the root `/`, which cannot be created) and its subtree, pre-order.
fn flatten(n: &Node, out: &mut Vec<Entry>) {
    if n.key != "/" && !n.key.is_empty() {
        out.push(entry(n));
    }
    for c in n.nodes.iter().flatten() {
        flatten(c, out);
    }
}

/// Serialises a dump, one node per line.
pub fn render(d: &Dump) -> String {
    let mut s = format!(
        "{{\"format\":{},\"root\":{},\"nodes\":[",
        serde_json::Value::from(d.format.as_str()),
        serde_json::Value::from(d.root.as_str())
    );
    for (i, e) in d.nodes.iter().enumerate() {
        s.push_str(if i == 0 { "\n" } else { ",\n" });
        s.push_str(&serde_json::to_string(e).unwrap_or_default());
    }
    s.push_str("\n]}\n");
    s
}

/// Reads the subtree at `root`, plus the named hidden nodes the API never lists.
pub fn collect(client: &Client, root: &str, hidden: &[String]) -> Result<Dump, Failure> {
    let root = key_arg(root);
    let mut nodes = Vec::new();
    for key in std::iter::once(&root).chain(hidden) {
        let a = client.get(&key_arg(key), true, true, false)?;
        if let Some(n) = &a.body.node {
            flatten(n, &mut nodes);
        }
    }
    // A hidden key named twice, or inside another named one, is written once.
    let mut seen = std::collections::HashSet::new();
    nodes.retain(|e| seen.insert(e.key.clone()));
    Ok(Dump {
        format: FORMAT.into(),
        root,
        nodes,
    })
}

/// `etcdctl export`; a spinner on stderr while the tree is read, when stderr is a terminal.
pub fn export(client: &Client, root: &str, hidden: &[String]) -> Result<(), Failure> {
    let spinner = if std::io::stderr().is_terminal() {
        let s = ProgressBar::new_spinner();
        s.set_message(format!("reading {}", key_arg(root)));
        s.enable_steady_tick(std::time::Duration::from_millis(100));
        s
    } else {
        ProgressBar::hidden()
    };
    let dump = collect(client, root, hidden);
    spinner.finish_and_clear();
    let dump = dump?;
    print!("{}", render(&dump));
    if dump.nodes.first().is_some_and(|n| n.dir) {
        eprintln!("{HIDDEN_NOTE}");
    }
    Ok(())
}

/// Said on stderr after a tree is exported: the v2 API cannot list hidden keys, so an export
/// is not a complete copy, and a script should not learn that from a restore.
pub const HIDDEN_NOTE: &str = "etcdctl export: hidden keys (names starting with '_') are not \
listed by the v2 API and are left out unless named with --include-hidden; for a complete copy \
of a member use 'etcdctl backup'";

/// Reads and checks a dump from a file (`-` is stdin): every node must be a key with a value
/// or a directory, under the dump's root; a bad node is named with its line in the file
/// before anything is written.
pub fn load(path: &Path) -> Result<Dump, Failure> {
    let text = if path == Path::new("-") {
        let mut s = String::new();
        std::io::stdin()
            .read_to_string(&mut s)
            .map_err(|e| Failure::BadArgs(format!("cannot read stdin: {e}")))?;
        s
    } else {
        std::fs::read_to_string(path)
            .map_err(|e| Failure::BadArgs(format!("cannot read {}: {e}", path.display())))?
    };
    let name = path.display();
    let raw: RawDump<'_> = serde_json::from_str(&text)
        .map_err(|e| Failure::BadArgs(format!("{name} is not an etcdctl export: {e}")))?;
    if raw.format != FORMAT {
        return Err(Failure::BadArgs(format!(
            "{name}: unknown format {:?} (expected {FORMAT:?})",
            raw.format
        )));
    }
    let root = key_arg(&raw.root);
    let mut nodes = Vec::with_capacity(raw.nodes.len());
    for node in &raw.nodes {
        let entry = serde_json::from_str::<Entry>(node.get())
            .map_err(|e| e.to_string())
            .and_then(|e| check_entry(e, &root))
            .map_err(|why| {
                // The node's text is a slice of `text`: its offset gives its line. Counted
                // only for the bad node: counting for every node was quadratic, and an
                // import of 1,000,000 nodes never finished.
                let offset = node.get().as_ptr() as usize - text.as_ptr() as usize;
                let line = text[..offset].matches('\n').count() + 1;
                Failure::BadArgs(format!("{name}:{line}: {why}"))
            })?;
        nodes.push(entry);
    }
    Ok(Dump {
        format: raw.format,
        root: raw.root,
        nodes,
    })
}

/// A dump as read, its nodes still text (to name the line of a bad one).
#[derive(Deserialize)]
struct RawDump<'a> {
    format: String,
    root: String,
    #[serde(borrow)]
    nodes: Vec<&'a serde_json::value::RawValue>,
}

/// Refuses a node that is neither a key with a value nor a directory, or that lies outside
/// `root` (a hand-edited file may drop the leading `/`, but not leave the exported tree).
fn check_entry(e: Entry, root: &str) -> Result<Entry, String> {
    match (e.dir, &e.value) {
        (false, None) => return Err(format!("{}: neither a value nor \"dir\": true", e.key)),
        (true, Some(_)) => return Err(format!("{}: a directory with a value", e.key)),
        _ => {}
    }
    let key = key_arg(&e.key);
    if key.split('/').any(|seg| seg == "." || seg == "..") {
        return Err(format!("{}: . and .. are not allowed in keys", e.key));
    }
    let inside = root == "/"
        || key == root
        || key
            .strip_prefix(root.trim_end_matches('/'))
            .is_some_and(|rest| rest.starts_with('/'));
    if !inside {
        return Err(format!("{}: outside the exported root {root}", e.key));
    }
    Ok(e)
}

/// Writes one node: a directory is created, or given its TTL when it already exists.
fn write(client: &Client, e: &Entry) -> Result<(), Failure> {
    // A hand-edited file may drop the leading `/`.
    let key = key_arg(&e.key);
    if e.dir {
        match client.put_dir(&key, &[("dir", "true".into())], e.ttl) {
            Err(Failure::Etcd { body, .. }) if body.code() == Some(ErrorCode::NotFile) => client
                .put_dir(
                    &key,
                    &[("dir", "true".into()), ("prevExist", "true".into())],
                    e.ttl,
                )
                .map(drop),
            other => other.map(drop),
        }
    } else {
        client
            .put(&key, &[], e.value.as_deref().unwrap_or(""), e.ttl)
            .map(drop)
    }
}

/// Writes `batch` with `jobs` threads sharing `client`; returns the failures. A connection
/// failure stops every worker: the cluster is unreachable, and trying the other nodes would
/// only repeat it.
fn write_all(
    client: &Client,
    jobs: usize,
    batch: &[&Entry],
    bar: &ProgressBar,
) -> Result<Vec<(String, Failure)>, Failure> {
    let next = AtomicUsize::new(0);
    let failures = Mutex::new(Vec::new());
    let unreachable = Mutex::new(None);
    std::thread::scope(|s| {
        for _ in 0..jobs.max(1).min(batch.len().max(1)) {
            let (next, failures, unreachable) = (&next, &failures, &unreachable);
            s.spawn(move || loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                let Some(e) = batch.get(i) else { break };
                match write(client, e) {
                    Ok(()) => {}
                    Err(f @ Failure::Connection(_)) => {
                        next.store(batch.len(), Ordering::Relaxed);
                        // A poisoned lock only means another worker panicked; keep its data.
                        *unreachable.lock().unwrap_or_else(|p| p.into_inner()) = Some(f);
                        break;
                    }
                    Err(f) => failures
                        .lock()
                        .unwrap_or_else(|p| p.into_inner())
                        .push((e.key.clone(), f)),
                }
                bar.inc(1);
            });
        }
    });
    if let Some(f) = unreachable.into_inner().unwrap_or_else(|p| p.into_inner()) {
        return Err(f);
    }
    Ok(failures.into_inner().unwrap_or_else(|p| p.into_inner()))
}

/// `etcdctl import`: directories first, shallowest first (so their TTLs are set on creation),
/// then every key in parallel.
pub fn import(client: &Client, path: &Path, jobs: usize) -> Result<(), Failure> {
    let dump = load(path)?;
    let bar = if std::io::stderr().is_terminal() {
        let b = ProgressBar::new(dump.nodes.len() as u64);
        if let Ok(style) =
            ProgressStyle::with_template("{bar:40} {pos}/{len} nodes {per_sec} eta {eta}")
        {
            b.set_style(style);
        }
        b
    } else {
        ProgressBar::hidden()
    };
    let mut by_depth: BTreeMap<usize, Vec<&Entry>> = BTreeMap::new();
    for e in dump.nodes.iter().filter(|e| e.dir) {
        by_depth
            .entry(e.key.matches('/').count())
            .or_default()
            .push(e);
    }
    // One shared client (one connection pool) for all workers: on a 2-core machine, one
    // client per few workers measured slower (11.8-13 s against 10.0-10.3 s for 100k keys).
    let mut failures = Vec::new();
    let keys: Vec<&Entry> = dump.nodes.iter().filter(|e| !e.dir).collect();
    for batch in by_depth.values().chain(std::iter::once(&keys)) {
        match write_all(client, jobs, batch, &bar) {
            Ok(f) => failures.extend(f),
            Err(unreachable) => {
                bar.finish_and_clear();
                return Err(unreachable);
            }
        }
    }
    bar.finish_and_clear();
    if failures.is_empty() {
        return Ok(());
    }
    for (key, f) in failures.iter().take(SHOWN_FAILURES) {
        eprintln!("{key}: {}", describe(f));
    }
    Err(Failure::Server(format!(
        "{} of {} nodes could not be imported",
        failures.len(),
        dump.nodes.len()
    )))
}

fn describe(f: &Failure) -> String {
    match f {
        Failure::Etcd { body, .. } => body.to_string(),
        Failure::Connection(e) => e.join("; "),
        Failure::Server(m) | Failure::BadArgs(m) | Failure::Plain(m) => m.clone(),
        Failure::Reported => "failed".into(),
        Failure::Unhealthy => "unhealthy".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trees_flatten_pre_order_without_the_root() {
        let tree: Node = serde_json::from_str(
            r#"{"key":"/","dir":true,"nodes":[
                {"key":"/a","dir":true,"ttl":30,"nodes":[{"key":"/a/b","value":"v"}]},
                {"key":"/c","value":"w","ttl":5}]}"#,
        )
        .expect("parse");
        let mut out = Vec::new();
        flatten(&tree, &mut out);
        let keys: Vec<_> = out.iter().map(|e| e.key.as_str()).collect();
        assert_eq!(keys, ["/a", "/a/b", "/c"]);
        assert_eq!(out[0].ttl, Some(30));
        assert!(out[0].dir && out[0].value.is_none());
        assert_eq!(out[2].value.as_deref(), Some("w"));
    }

    #[test]
    fn render_and_parse_round_trip() {
        let d = Dump {
            format: FORMAT.into(),
            root: "/".into(),
            nodes: vec![
                Entry {
                    key: "/a".into(),
                    value: None,
                    dir: true,
                    ttl: None,
                },
                Entry {
                    key: "/a/\"q\"".into(),
                    value: Some("line\nbreak".into()),
                    dir: false,
                    ttl: Some(9),
                },
            ],
        };
        let text = render(&d);
        assert_eq!(text.lines().count(), 4);
        assert_eq!(serde_json::from_str::<Dump>(&text).expect("parse"), d);
    }

    #[test]
    fn bad_files_are_refused() {
        let dir = tempfile::tempdir().expect("tempdir");
        let p = dir.path().join("x.json");
        std::fs::write(&p, r#"{"format":"other","root":"/","nodes":[]}"#).expect("write");
        assert!(matches!(load(&p), Err(Failure::BadArgs(m)) if m.contains("unknown format")));
        std::fs::write(&p, "[").expect("write");
        assert!(matches!(load(&p), Err(Failure::BadArgs(_))));
        assert!(matches!(
            load(&dir.path().join("none")),
            Err(Failure::BadArgs(_))
        ));
        let bad = |nodes: &str| {
            std::fs::write(
                &p,
                format!("{{\"format\":\"{FORMAT}\",\"root\":\"/app\",\"nodes\":[\n{{\"key\":\"/app/ok\",\"value\":\"v\"}},\n{nodes}\n]}}"),
            )
            .expect("write");
            match load(&p) {
                Err(Failure::BadArgs(m)) => m,
                other => panic!("{nodes} accepted: {other:?}"),
            }
        };
        let m = bad(r#"{"key":"/app/empty"}"#);
        assert!(
            m.ends_with(":3: /app/empty: neither a value nor \"dir\": true"),
            "{m}"
        );
        let m = bad(r#"{"key":"other","value":"v"}"#);
        assert!(
            m.contains(":3: other: outside the exported root /app"),
            "{m}"
        );
        let m = bad(r#"{"key":"/application","value":"v"}"#);
        assert!(m.contains("outside the exported root"), "{m}");
        let m = bad(r#"{"key":"/app/../etc","value":"v"}"#);
        assert!(m.contains(". and .. are not allowed"), "{m}");
        let m = bad(r#"{"key":"/app/d","dir":true,"value":"v"}"#);
        assert!(m.contains("a directory with a value"), "{m}");
        // A relative key inside the root is fine.
        std::fs::write(
            &p,
            format!(
                r#"{{"format":"{FORMAT}","root":"/app","nodes":[{{"key":"app/x","value":"v"}}]}}"#
            ),
        )
        .expect("write");
        assert_eq!(load(&p).expect("load").nodes.len(), 1);
    }
}

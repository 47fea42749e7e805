//! `export` then `import` into a fresh server recreates the tree: keys, values, directories
//! (empty ones too), hidden keys named with --include-hidden, and TTLs.

use std::path::Path;

use etcd_integration::ctl::Ctl;
use etcd_integration::{get, request, EtcdProcess};

fn put(server: &EtcdProcess, key: &str, form: &str) {
    let r = request("PUT", &server.keys(key), Some(form)).expect("PUT");
    assert!(r.status < 300, "PUT {key} {form}: {r:?}");
}

const HIDDEN: &[&str] = &[
    "--include-hidden",
    "/app/_secret",
    "--include-hidden",
    "/app/dir/_h2",
    "--include-hidden",
    "/_top",
];

fn export(server: &EtcdProcess) -> serde_json::Value {
    let mut args = vec!["export", "/"];
    args.extend_from_slice(HIDDEN);
    let out = Ctl::on(server).args(&args).output();
    assert!(out.status.success(), "export: {out:?}");
    // No progress bar off a terminal: stderr holds only the note that hidden keys not named
    // were left out.
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(
        stderr.trim_end(),
        "etcdctl export: hidden keys (names starting with '_') are not listed by the v2 API \
         and are left out unless named with --include-hidden; for a complete copy of a member \
         use 'etcdctl backup'",
        "{out:?}"
    );
    serde_json::from_slice(&out.stdout).expect("export is JSON")
}

/// The nodes keyed by path, TTLs replaced by whether they are set and sane.
fn shape(dump: &serde_json::Value) -> Vec<(String, Option<String>, bool, bool)> {
    let mut v: Vec<_> = dump["nodes"]
        .as_array()
        .expect("nodes")
        .iter()
        .map(|n| {
            let ttl = n["ttl"].as_u64();
            if let Some(t) = ttl {
                assert!(t > 0 && t <= 300, "ttl {t} out of range in {n}");
            }
            (
                n["key"].as_str().unwrap_or_default().to_string(),
                n["value"].as_str().map(String::from),
                n["dir"].as_bool().unwrap_or(false),
                ttl.is_some(),
            )
        })
        .collect();
    v.sort();
    v
}

#[test]
fn export_then_import_recreates_the_tree() {
    round_trip(false, false);
}

#[test]
fn export_then_import_recreates_the_tree_on_the_reference_etcd() {
    round_trip(true, true);
}

#[test]
fn a_tree_moves_from_the_reference_etcd_to_ours() {
    round_trip(true, false);
}

/// Builds a tree on one server, exports it, imports it into a fresh one, compares.
fn round_trip(from_reference: bool, to_reference: bool) {
    let Some(a) = EtcdProcess::start_ours_or_reference(from_reference) else {
        return;
    };
    put(&a, "/app/a", "value=1");
    put(&a, "/app/dir/b", "value=two%20words");
    put(&a, "/app/empty", "dir=true");
    put(&a, "/app/ttldir", "dir=true&ttl=300");
    put(&a, "/app/ttldir/in", "value=x");
    put(&a, "/app/ttlkey", "value=v&ttl=300");
    put(&a, "/app/_secret", "value=h");
    put(&a, "/app/dir/_h2", "value=h2");
    put(&a, "/_top/x", "value=y");
    put(&a, "/app/sp%20ace", "value=line%0Abreak");
    let before = export(&a);
    assert_eq!(before["format"], "etcdctl-export/1");
    let want = shape(&before);
    let keys: Vec<&str> = want.iter().map(|n| n.0.as_str()).collect();
    for k in [
        "/app/_secret",
        "/app/dir/_h2",
        "/_top",
        "/_top/x",
        "/app/empty",
    ] {
        assert!(keys.contains(&k), "{k} not exported: {keys:?}");
    }

    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("dump.json");
    std::fs::write(&file, serde_json::to_vec(&before).expect("encode")).expect("write");
    let Some(b) = EtcdProcess::start_ours_or_reference(to_reference) else {
        return;
    };
    let out = Ctl::on(&b)
        .args(["import", file.to_str().expect("utf-8 path")])
        .output();
    assert!(out.status.success(), "import: {out:?}");
    assert_eq!(shape(&export(&b)), want);

    let hidden = get(&b.keys("/app/_secret")).expect("GET").json();
    assert_eq!(hidden["node"]["value"], "h");
    let ttl = get(&b.keys("/app/ttldir")).expect("GET").json();
    assert!(ttl["node"]["ttl"]
        .as_u64()
        .is_some_and(|t| t > 0 && t <= 300));

    // Importing again overwrites keys and keeps directories (with their TTLs).
    let again = Ctl::on(&b)
        .args(["import", "--jobs", "4", file.to_str().expect("utf-8")])
        .output();
    assert!(again.status.success(), "re-import: {again:?}");
    assert_eq!(shape(&export(&b)), want);
}

#[test]
fn import_refuses_a_file_that_is_not_an_export() {
    let a = EtcdProcess::start();
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("x.json");
    std::fs::write(&file, "{\"nodes\":[]}").expect("write");
    let out = Ctl::on(&a)
        .args(["import", file.to_str().expect("utf-8")])
        .output();
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    let missing = Ctl::on(&a)
        .args(["import", "/nonexistent/dump.json"])
        .output();
    assert_eq!(missing.status.code(), Some(1), "{missing:?}");
    assert!(Path::new(&file).exists());
}

#[test]
fn export_of_a_missing_directory_is_an_etcd_error() {
    let a = EtcdProcess::start();
    let out = Ctl::on(&a).args(["export", "/nothing"]).output();
    assert_eq!(out.status.code(), Some(4), "{out:?}");
    assert!(String::from_utf8_lossy(&out.stderr).starts_with("Error:  100: "));
}

#[test]
fn import_reports_the_nodes_it_could_not_write() {
    let a = EtcdProcess::start();
    put(&a, "/taken", "dir=true");
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("dump.json");
    std::fs::write(
        &file,
        r#"{"format":"etcdctl-export/1","root":"/","nodes":[{"key":"/taken","value":"v"},{"key":"/fine","value":"ok"}]}"#,
    )
    .expect("write");
    let out = Ctl::on(&a)
        .args(["import", file.to_str().expect("utf-8")])
        .output();
    assert_eq!(out.status.code(), Some(4), "{out:?}");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("/taken: 102: "), "{err}");
    assert!(err.contains("1 of 2 nodes could not be imported"), "{err}");
    assert_eq!(
        get(&a.keys("/fine")).expect("GET").json()["node"]["value"],
        "ok"
    );
}

//! `etcd-bench import`: times `etcdctl import` of a generated tree (directories × keys, values
//! like `value-12-345`) into a fresh server of ours, as BENCHMARKS.md's import figure was
//! measured (formerly with a Python script writing the export file).

use std::path::Path;
use std::process::Command;
use std::time::Instant;

use etcd_integration::{workspace_bin, EtcdProcess};

/// What one import run measured.
#[derive(Debug, Clone, Copy)]
pub struct ImportFigures {
    /// Nodes in the file (directories and keys).
    pub nodes: usize,
    /// Wall-clock seconds of the `etcdctl import` process.
    pub seconds: f64,
}

/// Writes an `etcdctl export` file of `dirs` directories `/bench/dNNN` with `keys` keys
/// `kNNNN` each under `path`; returns how many nodes it holds.
pub fn write_tree(path: &Path, dirs: usize, keys: usize) -> usize {
    let mut nodes = Vec::with_capacity(dirs * (keys + 1));
    for d in 0..dirs {
        nodes.push(serde_json::json!({"key": format!("/bench/d{d:03}"), "dir": true}));
        for k in 0..keys {
            nodes.push(serde_json::json!({
                "key": format!("/bench/d{d:03}/k{k:04}"),
                "value": format!("value-{d}-{k}"),
            }));
        }
    }
    let n = nodes.len();
    let dump = serde_json::json!({"format": "etcdctl-export/1", "root": "/bench", "nodes": nodes});
    std::fs::write(path, dump.to_string())
        .unwrap_or_else(|e| panic!("write {}: {e}", path.display()));
    n
}

/// Imports a fresh tree into a fresh server with `--jobs jobs`; panics when the import fails
/// (a benchmark that loses writes has no figure).
pub fn run(dirs: usize, keys: usize, jobs: usize) -> ImportFigures {
    let tmp = tempfile::tempdir().expect("tempdir");
    let file = tmp.path().join("tree.json");
    let nodes = write_tree(&file, dirs, keys);
    let server = EtcdProcess::start();
    let started = Instant::now();
    let out = Command::new(workspace_bin("etcdctl"))
        .args(["--endpoints", &server.client_url(), "import", "--jobs"])
        .arg(jobs.to_string())
        .arg(&file)
        .env("NO_COLOR", "1")
        .output()
        .expect("run etcdctl import");
    let seconds = started.elapsed().as_secs_f64();
    assert!(out.status.success(), "etcdctl import failed: {out:?}");
    ImportFigures { nodes, seconds }
}

//! The real python-etcd client (PyPI `python-etcd`) against our server.

use std::process::Command;

use etcd_integration::EtcdProcess;

/// Makes sure python-etcd is importable, installing it once if needed. `false` (skip) only
/// when it cannot be had and CI did not demand it.
fn python_etcd_available() -> bool {
    let importable = || {
        Command::new("python3")
            .args(["-c", "import etcd"])
            .status()
            .map(|s| s.success())
            .unwrap_or(false)
    };
    if importable() {
        return true;
    }
    let _ = Command::new("python3")
        .args(["-m", "pip", "install", "-q", "python-etcd"])
        .status();
    etcd_integration::tool_available(importable(), "python-etcd (pip install python-etcd)")
}

const SCRIPT: &str = r#"
import sys, threading, time, etcd
port = int(sys.argv[1])
c = etcd.Client(host='127.0.0.1', port=port)
def out(*a): print(*a, flush=True)

r = c.write('/py/a', 'one')
out('write', r.key, r.value, r.modifiedIndex)
out('read', c.read('/py/a').value)
r = c.test_and_set('/py/a', 'two', 'one')
out('cas', r.value, r._prev_node.value)
try:
    c.test_and_set('/py/a', 'three', 'nope')
except etcd.EtcdCompareFailed as e:
    out('cas-failed')
try:
    c.read('/py/missing')
except etcd.EtcdKeyNotFound:
    out('not-found')
r = c.write('/py/t', 'tv', ttl=100)
out('ttl', r.ttl > 90)
idx = c.read('/py/a').modifiedIndex
out('watch-index', c.watch('/py/a', index=idx).value)
def later():
    time.sleep(0.3)
    c.write('/py/w', 'fired')
threading.Thread(target=later).start()
out('watch', c.watch('/py/w', timeout=10).value)
try:
    c.watch('/py/never', timeout=0.5)
except etcd.EtcdWatchTimedOut:
    out('watch-timeout')
except Exception as e:
    out('watch-timeout-other', type(e).__name__)
a1 = c.write('/py/q', 'job1', append=True)
a2 = c.write('/py/q', 'job2', append=True)
out('append', a1.key < a2.key, a1.key.startswith('/py/q/'))
kids = sorted(ch.value for ch in c.read('/py/q', recursive=True, sorted=True).children)
out('children', ','.join(kids))
c.delete('/py', recursive=True, dir=True)
try:
    c.read('/py/a')
except etcd.EtcdKeyNotFound:
    out('deleted')
out('version', bool(c.version))
out('machines', ','.join(c.machines))
"#;

#[test]
fn python_etcd_client_works_against_our_server() {
    if !python_etcd_available() {
        return;
    }
    let s = EtcdProcess::start();
    let out = Command::new("python3")
        .args(["-c", SCRIPT, &s.client_port.to_string()])
        .output()
        .expect("run python3");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "python-etcd script failed:\n{stdout}\n{stderr}"
    );
    let expected = [
        "write /py/a one 2".to_string(),
        "read one".into(),
        "cas two one".into(),
        "cas-failed".into(),
        "not-found".into(),
        "ttl True".into(),
        "watch-index two".into(),
        "watch fired".into(),
        "watch-timeout".into(),
        "append True True".into(),
        "children job1,job2".into(),
        "deleted".into(),
        "version True".into(),
        format!("machines {}", s.client_url()),
    ];
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines, expected, "stderr:\n{stderr}");
}

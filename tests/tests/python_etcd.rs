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

/// Runs a python-etcd script against `s` (its client port as the argument); stdout and
/// stderr, after checking it succeeded.
fn run_script(script: &str, s: &EtcdProcess) -> (String, String) {
    let out = Command::new("python3")
        .args(["-c", script, &s.client_port.to_string()])
        .output()
        .expect("run python3");
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(
        out.status.success(),
        "python-etcd script failed:\n{stdout}\n{stderr}"
    );
    (stdout, stderr)
}

#[test]
fn python_etcd_client_works_against_our_server() {
    if !python_etcd_available() {
        return;
    }
    let s = EtcdProcess::start();
    let (stdout, stderr) = run_script(SCRIPT, &s);
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

/// python-etcd with `username`/`password` once auth is on (it sends HTTP Basic credentials):
/// a user with a role reads and writes its keys, is refused others, and a client without
/// credentials is refused once the guest role lost its permissions.
const AUTH_SCRIPT: &str = r#"
import sys, json, urllib.request, base64, etcd
port = int(sys.argv[1])
base = 'http://127.0.0.1:%d' % port
def put(path, body, creds=None):
    req = urllib.request.Request(base + path, data=json.dumps(body).encode(), method='PUT')
    req.add_header('Content-Type', 'application/json')
    if creds:
        req.add_header('Authorization', 'Basic ' + base64.b64encode(creds.encode()).decode())
    urllib.request.urlopen(req).read()
put('/v2/auth/users/root', {'user': 'root', 'password': 'rootpw'})
put('/v2/auth/roles/app', {'role': 'app', 'permissions': {'kv': {'read': ['/app/*'], 'write': ['/app/*']}}})
put('/v2/auth/users/py', {'user': 'py', 'password': 'pypw', 'roles': ['app']})
put('/v2/auth/enable', {})
put('/v2/auth/roles/guest', {'role': 'guest', 'revoke': {'kv': {'read': ['/*'], 'write': ['/*']}}}, 'root:rootpw')
c = etcd.Client(host='127.0.0.1', port=port, username='py', password='pypw')
c.write('/app/x', 'v1')
print('read', c.read('/app/x').value)
try:
    c.write('/other', 'no')
    print('write-outside allowed')
except etcd.EtcdException as e:
    print('write-outside refused')
anon = etcd.Client(host='127.0.0.1', port=port)
try:
    anon.read('/app/x')
    print('anonymous allowed')
except etcd.EtcdException as e:
    print('anonymous refused')
wrong = etcd.Client(host='127.0.0.1', port=port, username='py', password='nope')
try:
    wrong.read('/app/x')
    print('wrong password allowed')
except etcd.EtcdException as e:
    print('wrong password refused')
"#;

#[test]
fn python_etcd_with_username_and_password() {
    if !python_etcd_available() {
        return;
    }
    let s = EtcdProcess::start();
    let (stdout, stderr) = run_script(AUTH_SCRIPT, &s);
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(
        lines,
        [
            "read v1",
            "write-outside refused",
            "anonymous refused",
            "wrong password refused"
        ],
        "stderr:\n{stderr}"
    );
}

//! Test harness: start real `etcd` processes (ours on ports it picks itself, or the reference
//! etcd 3.4 with `--enable-v2` on free ports) with temporary data dirs, and talk HTTP to them.
//!
//! Every test owns its processes; they are killed when the handle drops, so tests can run in
//! parallel under nextest. The helpers that several test files need live here, once:
//! [`process`] starts servers, [`cluster`] clusters of ours, [`proxy`] faulty peer links,
//! [`ctl`] runs an etcdctl, [`watchers`] waits for watches, [`http`] speaks HTTP, [`auth`]
//! speaks it with credentials and client certificates.

pub mod auth;
pub mod cluster;
pub mod ctl;
pub mod differential;
pub mod http;
pub mod linearizable;
pub mod nemesis;
pub mod process;
pub mod proxy;
pub mod watchers;

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command};
use std::time::{Duration, Instant};

use common::{BoundPorts, PORTS_FILE};

pub use http::{get, request, request_json, Reply};
pub use process::{EtcdProcess, Options};

/// How long a starting server may take before the harness gives up (a hung start is a failure,
/// not a timing assertion).
pub const START_DEADLINE: Duration = Duration::from_secs(60);

/// How long [`wait_until`] waits for a condition before failing the test (a hang guard).
pub const WAIT_DEADLINE: Duration = Duration::from_secs(60);

/// Which server a process runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flavor {
    /// Our `etcd` binary from this workspace.
    Ours,
    /// The reference etcd 3.4 from Debian's `etcd-server`, started with `--enable-v2`.
    Reference,
}

/// A free TCP port on 127.0.0.1, for a server that must be told its port in advance: the
/// reference etcd (it cannot report a port it picked), a port named before the server starts
/// (a member added with `etcdctl member add` before it runs), or one that must stay closed
/// (a "dead" endpoint). Our own server is otherwise started on port 0 and reports what it
/// bound (see [`read_ports`]), which no other test can take first.
///
/// Drawn at random below Linux's ephemeral range (32768 and up), where the OS never hands out
/// ports by itself, so only another test asking for the same random port can collide.
pub fn free_port() -> u16 {
    use std::hash::{BuildHasher, Hasher};
    static COUNTER: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    for _ in 0..1000 {
        let mut h = std::collections::hash_map::RandomState::new().build_hasher();
        h.write_u32(std::process::id());
        h.write_u64(COUNTER.fetch_add(1, std::sync::atomic::Ordering::Relaxed));
        let port = 20_000 + (h.finish() % 12_000) as u16;
        if TcpListener::bind(("127.0.0.1", port)).is_ok() {
            return port;
        }
    }
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("bind an ephemeral loopback port")
}

/// The ports one of our servers listens on, read from `<data-dir>/ports.json` (written
/// atomically once both are bound, before raft starts). Waits for the file while `child` runs;
/// `None` when it exits first (a server that refuses to start), panics with the log at `log`
/// after [`START_DEADLINE`].
pub fn read_ports(data_dir: &Path, child: &mut Child, log: &Path) -> Option<(u16, u16)> {
    let path = data_dir.join(PORTS_FILE);
    let deadline = Instant::now() + START_DEADLINE;
    loop {
        if let Ok(text) = std::fs::read_to_string(&path) {
            let p: BoundPorts = serde_json::from_str(&text).unwrap_or_else(|e| {
                panic!("{} is not a ports file ({e}): {text:?}", path.display())
            });
            return Some((p.client, p.peer));
        }
        if let Ok(Some(_)) = child.try_wait() {
            return None;
        }
        assert!(
            Instant::now() < deadline,
            "{} never appeared; log:\n{}",
            path.display(),
            std::fs::read_to_string(log).unwrap_or_default()
        );
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// Polls `ok` every 50 ms until it holds; fails the test naming `what` after [`WAIT_DEADLINE`].
pub fn wait_until(what: &str, mut ok: impl FnMut() -> bool) {
    let deadline = Instant::now() + WAIT_DEADLINE;
    while !ok() {
        assert!(Instant::now() < deadline, "gave up waiting: {what}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// `fixtures/<name>` at the workspace root (data dirs, the test CA in `ca/`), made absolute so
/// a server started in another directory finds it too.
pub fn fixture(name: &str) -> PathBuf {
    let p = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../fixtures")
        .join(name);
    p.canonicalize()
        .unwrap_or_else(|e| panic!("fixture {}: {e}", p.display()))
}

/// Copies the directory tree `from` into `to` (created): a fixture data dir, or a member's
/// data dir kept for later.
pub fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap_or_else(|e| panic!("create {}: {e}", to.display()));
    let entries =
        std::fs::read_dir(from).unwrap_or_else(|e| panic!("read {}: {e}", from.display()));
    for entry in entries {
        let entry = entry.expect("directory entry");
        let target = to.join(entry.file_name());
        if entry.file_type().expect("file type").is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target)
                .unwrap_or_else(|e| panic!("copy {}: {e}", entry.path().display()));
        }
    }
}

/// Drops every `ttl` of a JSON answer (it counts down with the clock; `expiration` stays
/// exact), to compare answers given at different times.
pub fn without_ttls(v: &mut serde_json::Value) {
    use serde_json::Value;
    let mut stack = vec![v];
    while let Some(v) = stack.pop() {
        match v {
            Value::Object(o) => {
                o.remove("ttl");
                stack.extend(o.values_mut());
            }
            Value::Array(a) => stack.extend(a.iter_mut()),
            _ => {}
        }
    }
}

/// `fixtures/ca/<name>` (the test CA and its certificates) as a command-line argument.
pub fn ca_fixture(name: &str) -> String {
    fixture(&format!("ca/{name}")).display().to_string()
}

/// The directory holding the workspace's built binaries (`target/debug`), found from the test
/// executable's own path (`target/debug/deps/<test>`, or `target/release/<bin>` for tools),
/// so it works with any CARGO_TARGET_DIR.
pub fn bin_dir() -> PathBuf {
    let exe = std::env::current_exe().expect("current_exe");
    let dir = exe.parent().expect("test binary has a parent dir");
    if dir.ends_with("deps") {
        dir.parent().unwrap_or(dir).to_path_buf()
    } else {
        dir.to_path_buf()
    }
}

/// Path of a workspace binary (`etcd`, `etcdctl`): `$ETCD_BIN` / `$ETCDCTL_BIN` when set, else
/// the one beside the test executable. A test never builds it: `cargo test -p etcd-integration`
/// or `cargo nextest run -p etcd-integration` alone do not build other packages' binaries, and
/// a build started from inside a test would race the other tests and hide a stale binary, so a
/// missing one fails with what to run instead (`./test` builds them first).
pub fn workspace_bin(name: &str) -> PathBuf {
    if let Ok(p) = std::env::var(format!("{}_BIN", name.to_uppercase())) {
        return PathBuf::from(p);
    }
    let path = bin_dir().join(name);
    assert!(
        path.exists(),
        "{} is missing: build the binaries first with `cargo build --workspace --bins` \
         (add --release for release tests), or run the suite with ./test, which does",
        path.display()
    );
    path
}

/// Whether the reference etcd 3.4 is installed. Tests that need it skip with a message when it
/// is not, unless `REQUIRE_REFERENCE=1` (set by CI), where its absence is a failure.
pub fn reference_available() -> bool {
    let found = Path::new(&reference_bin()).exists();
    if !found && std::env::var("REQUIRE_REFERENCE").as_deref() == Ok("1") {
        panic!("REQUIRE_REFERENCE=1 but the reference etcd is not installed (apt-get install etcd-server)");
    }
    if !found {
        eprintln!("skipping: reference etcd 3.4 not installed (apt-get install etcd-server)");
    }
    found
}

/// Whether an external tool a test compares against is usable: `false` (the test skips with a
/// message) only outside CI; with `REQUIRE_REFERENCE=1` its absence fails the test.
pub fn tool_available(found: bool, what: &str) -> bool {
    if !found {
        assert!(
            std::env::var("REQUIRE_REFERENCE").as_deref() != Ok("1"),
            "{what} is required (REQUIRE_REFERENCE=1) but is not installed"
        );
        eprintln!("skipping: {what} is not installed");
    }
    found
}

/// Runs the real `curl -sL <args>` and parses its output as JSON (panics with the output
/// when it is not).
pub fn curl_json(args: &[&str]) -> serde_json::Value {
    let out = Command::new("curl")
        .arg("-sL")
        .args(args)
        .output()
        .expect("curl is installed");
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "curl {args:?} gave non-JSON ({e}): {}",
            String::from_utf8_lossy(&out.stdout)
        )
    })
}

/// The reference etcd binary: `$REFERENCE_ETCD`, else Debian's `/usr/bin/etcd`.
pub fn reference_bin() -> String {
    std::env::var("REFERENCE_ETCD").unwrap_or_else(|_| "/usr/bin/etcd".into())
}

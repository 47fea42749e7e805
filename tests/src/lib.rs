//! Test harness: start real `etcd` processes (ours, or the reference etcd 3.4 with
//! `--enable-v2`) on free loopback ports with temporary data dirs, and talk HTTP to them.
//!
//! Every test owns its processes; they are killed when the handle drops, so tests can run in
//! parallel under nextest.

pub mod cluster;
pub mod ctl;
pub mod http;
pub mod proxy;
pub mod watchers;

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub use http::{get, request, Reply};

/// How long a starting server may take before the harness gives up (a hung start is a failure,
/// not a timing assertion).
const START_DEADLINE: Duration = Duration::from_secs(60);

/// Which server a process runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flavor {
    /// Our `etcd` binary from this workspace.
    Ours,
    /// The reference etcd 3.4 from Debian's `etcd-server`, started with `--enable-v2`.
    Reference,
}

/// A free TCP port on 127.0.0.1, for a server that must be told its port in advance: the
/// reference etcd (it cannot listen on port 0 and report the port) and tests that name a port
/// before the server starts (a config file, a proxy's target, a member added before it runs).
/// Our own server is otherwise started with `-addr 127.0.0.1:0` and reports what it bound
/// (see [`read_ports`]), which cannot collide at all.
///
/// Drawn at random below Linux's ephemeral range (32768 and up): a port the OS handed out for
/// `:0` could be handed out again, to a client connection, before the server binds it, and
/// tests make thousands of client connections; ports below that range are only taken by
/// someone asking for them.
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

/// The ports one of our servers listens on, read from `<data-dir>/ports.json` (written
/// atomically once both are bound, before raft starts). Waits for the file while `child` runs;
/// `None` when it exits first (a server that refuses to start), panics with `log` after
/// [`START_DEADLINE`].
pub fn read_ports(data_dir: &Path, child: &mut Child, log: &Path) -> Option<(u16, u16)> {
    let path = data_dir.join(PORTS_FILE);
    let deadline = Instant::now() + START_DEADLINE;
    loop {
        if let Ok(text) = std::fs::read_to_string(&path) {
            let v: serde_json::Value = serde_json::from_str(&text)
                .unwrap_or_else(|e| panic!("{} is not JSON ({e}): {text:?}", path.display()));
            let port = |k: &str| {
                v[k].as_u64()
                    .and_then(|p| u16::try_from(p).ok())
                    .unwrap_or_else(|| panic!("{} has no {k} port: {text}", path.display()))
            };
            return Some((port("client"), port("peer")));
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

/// Where our server writes the ports it bound (as `{"client":P,"peer":Q}`).
pub const PORTS_FILE: &str = "ports.json";

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

fn reference_bin() -> String {
    std::env::var("REFERENCE_ETCD").unwrap_or_else(|_| "/usr/bin/etcd".into())
}

/// Options for starting one of our servers.
#[derive(Debug, Clone)]
pub struct Options {
    /// `-name`.
    pub name: String,
    /// Extra command-line arguments, appended after the defaults.
    pub extra: Vec<String>,
    /// Data dir to use instead of a fresh temporary one.
    pub data_dir: Option<PathBuf>,
    /// Client and peer ports to listen on; `None`, or a port of 0, lets the server pick one
    /// (`-addr 127.0.0.1:0`), which the harness then reads back and keeps for restarts.
    pub ports: Option<(u16, u16)>,
    /// Peer port to advertise instead of the one listened on (a proxy in front of it).
    pub advertised_peer_port: Option<u16>,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            name: "machine0".into(),
            extra: Vec::new(),
            data_dir: None,
            ports: None,
            advertised_peer_port: None,
        }
    }
}

/// A running server process; killed (SIGKILL) on drop.
pub struct EtcdProcess {
    child: Option<Child>,
    /// Which binary runs.
    pub flavor: Flavor,
    /// Member name.
    pub name: String,
    /// Client port on 127.0.0.1.
    pub client_port: u16,
    /// Peer port on 127.0.0.1.
    pub peer_port: u16,
    /// The data directory.
    pub data_dir: PathBuf,
    args: Vec<String>,
    log_path: PathBuf,
    _tmp: Option<tempfile::TempDir>,
}

impl EtcdProcess {
    /// A fresh single-node server of ours named `machine0`.
    pub fn start() -> EtcdProcess {
        Self::start_with(Options::default())
    }

    /// One of our servers with the given options, once healthy.
    pub fn start_with(opts: Options) -> EtcdProcess {
        let mut p = Self::start_unready(opts);
        p.wait_ready();
        p
    }

    /// Starts one of our servers without waiting for it to become healthy (a member whose
    /// cluster has no quorum yet does not).
    pub fn start_unready(opts: Options) -> EtcdProcess {
        let tmp = tempfile::tempdir().expect("tempdir");
        let data_dir = opts
            .data_dir
            .clone()
            .unwrap_or_else(|| tmp.path().join(&opts.name));
        let (client_port, peer_port) = opts.ports.unwrap_or((0, 0));
        assert!(
            peer_port != 0 || opts.advertised_peer_port.is_none(),
            "a proxy in front of the peer port needs the peer port in advance"
        );
        let mut args: Vec<String> = vec![
            "-name".into(),
            opts.name.clone(),
            "-data-dir".into(),
            data_dir.display().to_string(),
            "-addr".into(),
            format!("127.0.0.1:{client_port}"),
            "-peer-addr".into(),
            format!(
                "127.0.0.1:{}",
                opts.advertised_peer_port.unwrap_or(peer_port)
            ),
            "-peer-bind-addr".into(),
            format!("127.0.0.1:{peer_port}"),
        ];
        args.extend(opts.extra.iter().cloned());
        let log_path = tmp.path().join(format!("{}.log", opts.name));
        let mut p = EtcdProcess {
            child: None,
            flavor: Flavor::Ours,
            name: opts.name,
            client_port,
            peer_port,
            data_dir,
            args,
            log_path,
            _tmp: Some(tmp),
        };
        p.spawn_unready();
        p
    }

    /// A fresh single-member reference etcd 3.4 with `--enable-v2`, or `None` when it is not
    /// installed (see [`reference_available`]).
    pub fn start_reference() -> Option<EtcdProcess> {
        if !reference_available() {
            return None;
        }
        let (client_port, peer_port) = (free_port(), free_port());
        let initial = format!("machine0=http://127.0.0.1:{peer_port}");
        let mut p = Self::reference_member("machine0", client_port, peer_port, &initial);
        p.spawn();
        Some(p)
    }

    /// A fresh `n`-member reference etcd 3.4 cluster (`--enable-v2`, static bootstrap), every
    /// member healthy, or `None` when etcd 3.4 is not installed.
    pub fn start_reference_cluster(n: usize) -> Option<Vec<EtcdProcess>> {
        if !reference_available() {
            return None;
        }
        let ports: Vec<(u16, u16)> = (0..n).map(|_| (free_port(), free_port())).collect();
        let initial: Vec<String> = ports
            .iter()
            .enumerate()
            .map(|(i, (_, p))| format!("m{}=http://127.0.0.1:{p}", i + 1))
            .collect();
        let mut members: Vec<EtcdProcess> = ports
            .iter()
            .enumerate()
            .map(|(i, (c, p))| {
                let mut m =
                    Self::reference_member(&format!("m{}", i + 1), *c, *p, &initial.join(","));
                m.spawn_unready();
                m
            })
            .collect();
        for m in members.iter_mut() {
            m.wait_ready();
        }
        Some(members)
    }

    /// A reference etcd 3.4 member, not started yet: `name` in a fresh temporary data dir,
    /// bootstrapping the static cluster `initial_cluster`.
    fn reference_member(
        name: &str,
        client_port: u16,
        peer_port: u16,
        initial_cluster: &str,
    ) -> EtcdProcess {
        let tmp = tempfile::tempdir().expect("tempdir");
        let data_dir = tmp.path().join(format!("{name}.etcd"));
        let client = format!("http://127.0.0.1:{client_port}");
        let peer = format!("http://127.0.0.1:{peer_port}");
        let args = vec![
            "--enable-v2".into(),
            "--name".into(),
            name.to_string(),
            "--data-dir".into(),
            data_dir.display().to_string(),
            "--listen-client-urls".into(),
            client.clone(),
            "--advertise-client-urls".into(),
            client,
            "--listen-peer-urls".into(),
            peer.clone(),
            "--initial-advertise-peer-urls".into(),
            peer,
            "--initial-cluster".into(),
            initial_cluster.to_string(),
            "--initial-cluster-state".into(),
            "new".into(),
            "--log-level".into(),
            "warn".into(),
        ];
        EtcdProcess {
            child: None,
            flavor: Flavor::Reference,
            name: name.to_string(),
            client_port,
            peer_port,
            data_dir,
            args,
            log_path: tmp.path().join(format!("{name}.log")),
            _tmp: Some(tmp),
        }
    }

    fn spawn(&mut self) {
        self.spawn_unready();
        self.wait_ready();
    }

    fn spawn_unready(&mut self) {
        let bin = match self.flavor {
            Flavor::Ours => workspace_bin("etcd"),
            Flavor::Reference => PathBuf::from(reference_bin()),
        };
        // A file left by an earlier run must not pass for this run's ports.
        let _ = std::fs::remove_file(self.data_dir.join(PORTS_FILE));
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.log_path)
            .expect("open server log");
        let child = Command::new(&bin)
            .args(&self.args)
            .env_remove("ETCD_NAME")
            .env_remove("ETCD_DATA_DIR")
            .stdin(Stdio::null())
            .stdout(log.try_clone().expect("clone log handle"))
            .stderr(log)
            .spawn()
            .unwrap_or_else(|e| panic!("spawn {}: {e}", bin.display()));
        self.child = Some(child);
        if self.client_port == 0 || self.peer_port == 0 {
            self.learn_ports();
        }
    }

    /// Reads the ports the server picked for `:0` and writes them into the command line, so a
    /// restart listens on (and advertises) the same ones: the member table holds the peer URL.
    /// Leaves them 0 when the process exits before binding.
    fn learn_ports(&mut self) {
        let child = self.child.as_mut().expect("just spawned");
        let Some((client, peer)) = read_ports(&self.data_dir, child, &self.log_path) else {
            return;
        };
        (self.client_port, self.peer_port) = (client, peer);
        for i in 1..self.args.len() {
            let port = match self.args[i - 1].as_str() {
                "-addr" | "-bind-addr" => client,
                "-peer-addr" | "-peer-bind-addr" => peer,
                _ => continue,
            };
            if let Some(host) = self.args[i].strip_suffix(":0") {
                self.args[i] = format!("{host}:{port}");
            }
        }
    }

    /// Polls `/health` until the server is healthy (a leader is known and the member's record
    /// is current); panics with the log when it exits or takes more than a minute.
    pub fn wait_ready(&mut self) {
        let deadline = Instant::now() + START_DEADLINE;
        loop {
            if let Some(child) = self.child.as_mut() {
                if let Ok(Some(status)) = child.try_wait() {
                    panic!(
                        "{} exited during start ({status}); log:\n{}",
                        self.name,
                        self.log()
                    );
                }
            }
            if let Ok(r) = get(&self.url("/health")) {
                if r.status == 200 && r.body.contains("true") {
                    return;
                }
            }
            if Instant::now() > deadline {
                panic!("{} did not become healthy; log:\n{}", self.name, self.log());
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// `http://127.0.0.1:<client port><path>`.
    pub fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{}", self.client_port, path)
    }

    /// `http://127.0.0.1:<client port>/v2/keys<key>`.
    pub fn keys(&self, key: &str) -> String {
        self.url(&format!("/v2/keys{key}"))
    }

    /// The client URL without a path.
    pub fn client_url(&self) -> String {
        format!("http://127.0.0.1:{}", self.client_port)
    }

    /// The peer URL without a path.
    pub fn peer_url(&self) -> String {
        format!("http://127.0.0.1:{}", self.peer_port)
    }

    /// What the process has logged so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log_path).unwrap_or_default()
    }

    /// The OS process id, while running.
    pub fn pid(&self) -> Option<u32> {
        self.child.as_ref().map(|c| c.id())
    }

    /// SIGKILL, as a crash would.
    pub fn kill9(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    /// SIGTERM and wait for a clean exit; returns whether it exited successfully.
    pub fn stop(&mut self) -> bool {
        match self.child.take() {
            Some(mut c) => {
                // SAFETY: kill(2) with a pid we own and a valid signal number.
                unsafe {
                    libc::kill(c.id() as i32, libc::SIGTERM);
                }
                c.wait().map(|s| s.success()).unwrap_or(false)
            }
            None => true,
        }
    }

    /// Starts the process again with the same command line and data dir.
    pub fn restart(&mut self) {
        self.kill9();
        self.spawn();
    }

    /// Starts the process again (after a kill if it runs) without waiting for health.
    pub fn restart_unready(&mut self) {
        self.kill9();
        self.spawn_unready();
    }

    /// Whether the process has exited (or was never started); reaps it if so.
    pub fn has_exited(&mut self) -> bool {
        match self.child.as_mut() {
            None => true,
            Some(c) => match c.try_wait() {
                Ok(Some(_)) => {
                    self.child = None;
                    true
                }
                _ => false,
            },
        }
    }

    /// Starts again after replacing the extra arguments (same name, ports, data dir).
    pub fn restart_with_args(&mut self, args: Vec<String>) {
        self.kill9();
        self.args = args;
        self.spawn();
    }

    /// The command-line arguments the process runs with.
    pub fn args(&self) -> &[String] {
        &self.args
    }
}

impl Drop for EtcdProcess {
    fn drop(&mut self) {
        self.kill9();
    }
}

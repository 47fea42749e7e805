//! One server process, ours or the reference etcd 3.4: started in a temporary data dir, waited
//! for, restarted, killed on drop.
//!
//! Ours is started with `-addr 127.0.0.1:0 -peer-bind-addr 127.0.0.1:0` unless a test names
//! its ports, and the harness reads the ports it bound from `<data-dir>/ports.json`: no other
//! test can take them between a pick and a bind. A restart reuses them (the member table holds
//! the peer URL, and tests keep the client URL). Such a port is one that Linux's `bind(0)` hands
//! out, of the parity `connect()` only uses once its own half of the ephemeral range is
//! exhausted, so the thousands of client connections the tests make do not take it while the
//! server is down either.

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::PORTS_FILE;

use crate::{
    free_port, get, read_ports, reference_available, reference_bin, workspace_bin, Flavor,
    START_DEADLINE,
};

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
    /// (`127.0.0.1:0`), which the harness then reads back and keeps for restarts.
    pub ports: Option<(u16, u16)>,
    /// Peer port to advertise instead of the one listened on (a proxy in front of it).
    pub advertised_peer_port: Option<u16>,
    /// Working directory of the process (relative paths in `extra`), instead of the test's.
    pub current_dir: Option<PathBuf>,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            name: "machine0".into(),
            extra: Vec::new(),
            data_dir: None,
            ports: None,
            advertised_peer_port: None,
            current_dir: None,
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
    current_dir: Option<PathBuf>,
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

    /// A fresh single-member server of ours, or of the reference etcd 3.4 when `reference`
    /// (`None`, with a message, when that is not installed): for tests run against both.
    pub fn start_ours_or_reference(reference: bool) -> Option<EtcdProcess> {
        if reference {
            Self::start_reference()
        } else {
            Some(Self::start())
        }
    }

    /// Starts one of our servers without waiting for it to become healthy (a member whose
    /// cluster has no quorum yet does not, nor does one serving HTTPS: see
    /// [`EtcdProcess::wait_ready_by`]). Returns once it has bound its ports, or has exited.
    pub fn start_unready(opts: Options) -> EtcdProcess {
        let tmp = tempfile::tempdir().expect("tempdir");
        let data_dir = opts
            .data_dir
            .clone()
            .unwrap_or_else(|| tmp.path().join(&opts.name));
        let (client_port, peer_port) = opts.ports.unwrap_or((0, 0));
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
            current_dir: opts.current_dir,
            log_path,
            _tmp: Some(tmp),
        };
        p.spawn_unready();
        p
    }

    /// A fresh single-member reference etcd 3.4 with `--enable-v2`, once healthy, or `None`
    /// when it is not installed (see [`reference_available`]).
    pub fn start_reference() -> Option<EtcdProcess> {
        let mut p = Self::start_reference_unready(&[], "http")?;
        p.wait_ready();
        Some(p)
    }

    /// A fresh single-member reference etcd 3.4 serving clients over `scheme` (`"https"` wants
    /// `--cert-file` and `--key-file` in `extra`), with `extra` flags, not waited for; `None`
    /// when it is not installed.
    pub fn start_reference_unready(extra: &[&str], scheme: &str) -> Option<EtcdProcess> {
        if !reference_available() {
            return None;
        }
        let (client_port, peer_port) = (free_port(), free_port());
        let initial = format!("machine0=http://127.0.0.1:{peer_port}");
        let mut p = Self::reference_member("machine0", client_port, peer_port, &initial, scheme);
        p.args.extend(extra.iter().map(|a| a.to_string()));
        p.spawn_unready();
        Some(p)
    }

    /// A fresh `n`-member reference etcd 3.4 cluster (`--enable-v2`, static bootstrap), every
    /// member healthy, or `None` when etcd 3.4 is not installed.
    pub fn start_reference_cluster(n: usize) -> Option<Vec<EtcdProcess>> {
        Self::start_reference_cluster_with(n, &[])
    }

    /// As [`EtcdProcess::start_reference_cluster`], every member also given `extra` flags
    /// (a benchmark's `--snapshot-count`).
    pub fn start_reference_cluster_with(n: usize, extra: &[&str]) -> Option<Vec<EtcdProcess>> {
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
                let name = format!("m{}", i + 1);
                let mut m = Self::reference_member(&name, *c, *p, &initial.join(","), "http");
                m.args.extend(extra.iter().map(|a| a.to_string()));
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
    /// serving clients over `scheme`, bootstrapping the static cluster `initial_cluster`.
    fn reference_member(
        name: &str,
        client_port: u16,
        peer_port: u16,
        initial_cluster: &str,
        scheme: &str,
    ) -> EtcdProcess {
        let tmp = tempfile::tempdir().expect("tempdir");
        let data_dir = tmp.path().join(format!("{name}.etcd"));
        let client = format!("{scheme}://127.0.0.1:{client_port}");
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
            current_dir: None,
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
        let mut cmd = Command::new(&bin);
        if let Some(dir) = &self.current_dir {
            cmd.current_dir(dir);
        }
        let child = cmd
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

    /// Polls `/health` over plain HTTP until the server is healthy (a leader is known and the
    /// member's record is current); panics with the log when it exits or takes more than
    /// [`START_DEADLINE`].
    pub fn wait_ready(&mut self) {
        self.wait_ready_by(|p| {
            get(&p.url("/health")).is_ok_and(|r| r.status == 200 && r.body.contains("true"))
        });
    }

    /// Polls `ready` until it holds (a server on HTTPS answers `/health` through the test's
    /// own TLS client); panics with the log when the process exits or takes more than
    /// [`START_DEADLINE`].
    pub fn wait_ready_by(&mut self, mut ready: impl FnMut(&EtcdProcess) -> bool) {
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
            if ready(self) {
                return;
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

    /// The member id (hex, as `/v2/members` shows it) of a server that is the only member of
    /// its cluster.
    pub fn sole_member_id(&self) -> String {
        let v = crate::get(&self.url("/v2/members"))
            .expect("GET /v2/members")
            .json();
        v["members"][0]["id"]
            .as_str()
            .unwrap_or_else(|| panic!("no member id in {v}"))
            .to_string()
    }
}

impl Drop for EtcdProcess {
    fn drop(&mut self) {
        self.kill9();
    }
}

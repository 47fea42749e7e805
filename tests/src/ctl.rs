//! Running an etcdctl (ours or the Go one in v2 mode) the way the tests do: a small builder
//! over [`Command`] that always sets `ETCDCTL_API=2` and `NO_COLOR=1`, and either runs to the
//! end ([`Ctl::output`], [`Ctl::success`]) or keeps running with its lines on channels
//! ([`Ctl::spawn`]).

use std::ffi::OsStr;
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Output, Stdio};
use std::sync::mpsc::{channel, Receiver};
use std::time::Duration;

use crate::{tool_available, workspace_bin, EtcdProcess};

/// Where Debian's `etcd-client` installs the Go etcdctl.
pub const GO_ETCDCTL: &str = "/usr/bin/etcdctl";

/// How long [`Running::next_line`] waits for a line before failing the test (hang guard).
pub const LINE_DEADLINE: Duration = Duration::from_secs(60);

/// Our etcdctl binary (see [`workspace_bin`]).
pub fn ours() -> PathBuf {
    workspace_bin("etcdctl")
}

/// Whether the Go etcdctl is installed; skips (or, under `REQUIRE_REFERENCE=1`, fails) with a
/// message when it is not.
pub fn go_available() -> bool {
    tool_available(
        Path::new(GO_ETCDCTL).exists(),
        "the Go etcdctl (apt-get install etcd-client)",
    )
}

/// An etcdctl command line being put together.
pub struct Ctl {
    cmd: Command,
    stdin: Option<Vec<u8>>,
}

impl Ctl {
    /// Our etcdctl.
    pub fn ours() -> Ctl {
        Ctl::with_bin(ours())
    }

    /// Our etcdctl with `--endpoints` set to `server`'s client URL.
    pub fn on(server: &EtcdProcess) -> Ctl {
        Ctl::ours().endpoints(&server.client_url())
    }

    /// The Go etcdctl.
    pub fn go() -> Ctl {
        Ctl::with_bin(GO_ETCDCTL)
    }

    /// The etcdctl at `bin`, with `ETCDCTL_API=2`, `NO_COLOR=1` and no inherited
    /// `ETCDCTL_ENDPOINTS`.
    pub fn with_bin(bin: impl AsRef<OsStr>) -> Ctl {
        let mut cmd = Command::new(bin);
        cmd.env("ETCDCTL_API", "2")
            .env("NO_COLOR", "1")
            .env_remove("ETCDCTL_ENDPOINTS");
        Ctl { cmd, stdin: None }
    }

    /// `--endpoints <endpoints>`.
    pub fn endpoints(mut self, endpoints: &str) -> Ctl {
        self.cmd.args(["--endpoints", endpoints]);
        self
    }

    /// More arguments.
    pub fn args<I, S>(mut self, args: I) -> Ctl
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        self.cmd.args(args);
        self
    }

    /// An environment variable.
    pub fn env(mut self, key: &str, value: impl AsRef<OsStr>) -> Ctl {
        self.cmd.env(key, value);
        self
    }

    /// What the command reads on stdin (otherwise it reads nothing).
    pub fn stdin(mut self, bytes: impl Into<Vec<u8>>) -> Ctl {
        self.stdin = Some(bytes.into());
        self
    }

    /// Runs it to the end.
    pub fn output(mut self) -> Output {
        self.cmd
            .stdin(if self.stdin.is_some() {
                Stdio::piped()
            } else {
                Stdio::null()
            })
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = self.cmd.spawn().expect("run etcdctl");
        if let Some(bytes) = self.stdin.take() {
            let mut pipe = child.stdin.take().expect("stdin piped");
            pipe.write_all(&bytes).expect("write etcdctl's stdin");
        }
        child.wait_with_output().expect("wait for etcdctl")
    }

    /// Runs it to the end and asserts that it exited 0.
    pub fn success(self) -> Output {
        let what = format!("{:?}", self.cmd);
        let out = self.output();
        assert!(out.status.success(), "{what}: {out:?}");
        out
    }

    /// Starts it; its stdout and stderr lines arrive on channels.
    pub fn spawn(mut self) -> Running {
        let mut child = self
            .cmd
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn etcdctl");
        let stdout = lines(child.stdout.take().expect("stdout piped"));
        let stderr = lines(child.stderr.take().expect("stderr piped"));
        Running {
            child,
            stdout,
            stderr,
        }
    }
}

/// stdout as text.
pub fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// stderr as text.
pub fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// A running etcdctl whose stdout and stderr lines arrive on channels; killed on drop.
pub struct Running {
    child: Child,
    stdout: Receiver<String>,
    stderr: Receiver<String>,
}

impl Running {
    /// The next stdout line; fails the test after [`LINE_DEADLINE`] without one.
    pub fn next_line(&self) -> String {
        self.stdout
            .recv_timeout(LINE_DEADLINE)
            .expect("etcdctl printed a line")
    }

    /// The next stdout line within `wait`, if any.
    pub fn line_within(&self, wait: Duration) -> Option<String> {
        self.stdout.recv_timeout(wait).ok()
    }

    /// The stderr lines printed so far.
    pub fn stderr_so_far(&self) -> String {
        self.stderr.try_iter().collect::<Vec<_>>().join("\n")
    }

    /// Waits for it to exit; returns how, and the stdout lines it had not yet handed out.
    pub fn finish(mut self) -> (ExitStatus, Vec<String>) {
        let status = self.child.wait().expect("wait for etcdctl");
        let rest = std::mem::replace(&mut self.stdout, channel().1);
        (status, rest.iter().collect())
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn lines(r: impl std::io::Read + Send + 'static) -> Receiver<String> {
    let (tx, rx) = channel();
    std::thread::spawn(move || {
        for line in BufReader::new(r).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    rx
}

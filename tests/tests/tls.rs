//! HTTPS on the client port, driven by the real `curl` as the seed README's "Advanced Usage"
//! does: the HTTPS walkthrough, client-certificate auth with `-ca-file`, every start-up
//! misconfiguration, and certificate rotation without a restart.
//!
//! Commands run from the workspace root so that the README's `./fixtures/ca/...` paths are
//! used verbatim; readiness is probed over HTTPS with curl.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use etcd_integration::{tool_available, workspace_bin, EtcdProcess, Options};

/// Upper bound for a server to start (or to exit on a bad flag); a hang is a failure.
const DEADLINE: Duration = Duration::from_secs(60);

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .canonicalize()
        .expect("workspace root")
}

fn curl_available() -> bool {
    tool_available(
        Command::new("curl").arg("--version").output().is_ok(),
        "curl",
    )
}

/// `curl -s <args>` from the workspace root.
fn curl(args: &[&str]) -> Output {
    Command::new("curl")
        .current_dir(root())
        .arg("-s")
        .args(args)
        .output()
        .expect("run curl")
}

fn json(out: &Output) -> serde_json::Value {
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "not JSON ({e}): stdout {} stderr {}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    })
}

/// A running `etcd` of ours serving HTTPS, started by the harness from the workspace root;
/// killed on drop.
struct TlsEtcd(EtcdProcess);

impl TlsEtcd {
    /// Starts `etcd -f <args>` (name, data dir and ports from the harness) from the workspace
    /// root and waits until `/health` answers over HTTPS with `probe` (curl arguments that get
    /// through the handshake).
    fn start(args: &[&str], probe: &[&str]) -> TlsEtcd {
        let mut extra = vec!["-f".to_string()];
        extra.extend(args.iter().map(|a| a.to_string()));
        let mut p = EtcdProcess::start_unready(Options {
            extra,
            current_dir: Some(root()),
            ..Options::default()
        });
        p.wait_ready_by(|p| {
            let url = format!("https://127.0.0.1:{}/health", p.client_port);
            let mut a: Vec<&str> = probe.to_vec();
            a.push(&url);
            let out = curl(&a);
            out.status.success() && String::from_utf8_lossy(&out.stdout).contains("true")
        });
        TlsEtcd(p)
    }

    fn url(&self, path: &str) -> String {
        format!("https://127.0.0.1:{}{path}", self.0.client_port)
    }

    fn log(&self) -> String {
        self.0.log()
    }

    fn running(&mut self) -> bool {
        !self.0.has_exited()
    }
}

const SERVER: [&str; 2] = [
    "-cert-file=./fixtures/ca/server.crt",
    "-key-file=./fixtures/ca/server.key.insecure",
];

#[test]
fn seed_https_walkthrough() {
    if !curl_available() {
        return;
    }
    let etcd = TlsEtcd::start(&SERVER, &["--cacert", "./fixtures/ca/ca.crt"]);
    // Verbatim from the README but for the port.
    let out = curl(&[
        "--cacert",
        "./fixtures/ca/server-chain.pem",
        &etcd.url("/v2/keys/foo"),
        "-XPUT",
        "-d",
        "value=bar",
        "-v",
    ]);
    assert!(out.status.success(), "{out:?}");
    let v = String::from_utf8_lossy(&out.stderr);
    assert!(v.contains("TLS handshake, Finished (20)"), "{v}");
    let body = json(&out);
    assert_eq!(body["action"], "set");
    assert_eq!(body["node"]["key"], "/foo");
    assert_eq!(body["node"]["value"], "bar");

    // The CA alone is enough to verify the server, and reads work too.
    let out = curl(&[
        "--cacert",
        "./fixtures/ca/ca.crt",
        &etcd.url("/v2/keys/foo"),
    ]);
    let body = json(&out);
    assert_eq!(body["action"], "get");
    assert_eq!(body["node"]["value"], "bar");

    // A client trusting only the foreign CA refuses our certificate.
    let out = curl(&[
        "--cacert",
        "./fixtures/ca/foreign-ca.crt",
        &etcd.url("/v2/keys/foo"),
    ]);
    assert!(!out.status.success(), "foreign CA trusted our server");

    // Plain HTTP on the HTTPS port never gets an answer from the store.
    let out = curl(&[&format!(
        "http://127.0.0.1:{}/v2/keys/foo",
        etcd.0.client_port
    )]);
    assert!(
        !String::from_utf8_lossy(&out.stdout).contains("\"bar\""),
        "plain HTTP was served: {out:?}"
    );
}

#[test]
fn client_certificate_auth() {
    if !curl_available() {
        return;
    }
    let mut args = vec!["-ca-file=./fixtures/ca/ca.crt"];
    args.extend(SERVER);
    let client_cert = [
        "--key",
        "./fixtures/ca/server2.key.insecure",
        "--cert",
        "./fixtures/ca/server2.crt",
        "--cacert",
        "./fixtures/ca/server-chain.pem",
    ];
    let etcd = TlsEtcd::start(&args, &client_cert);
    let url = etcd.url("/v2/keys/foo");

    // Without a client certificate: refused at the handshake.
    let out = curl(&[
        "--cacert",
        "./fixtures/ca/server-chain.pem",
        &url,
        "-XPUT",
        "-d",
        "value=bar",
        "-v",
    ]);
    assert!(!out.status.success(), "served without a client cert");
    assert!(out.stdout.is_empty());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("alert"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    // A certificate from another CA: refused too.
    let out = curl(&[
        "--key",
        "./fixtures/ca/foreign.key.insecure",
        "--cert",
        "./fixtures/ca/foreign.crt",
        "--cacert",
        "./fixtures/ca/server-chain.pem",
        &url,
        "-XPUT",
        "-d",
        "value=bar",
    ]);
    assert!(!out.status.success(), "served a foreign client cert");
    assert!(out.stdout.is_empty());

    // The README's command with the CA-signed certificate.
    let mut a = client_cert.to_vec();
    a.extend(["-L", &url, "-XPUT", "-d", "value=bar", "-v"]);
    let out = curl(&a);
    assert!(out.status.success(), "{out:?}");
    let v = String::from_utf8_lossy(&out.stderr);
    assert!(v.contains("TLS handshake, CERT verify (15)"), "{v}");
    assert!(v.contains("TLS handshake, Finished (20)"), "{v}");
    let body = json(&out);
    assert_eq!(body["action"], "set");
    assert_eq!(body["node"]["key"], "/foo");
    assert_eq!(body["node"]["value"], "bar");
}

/// Runs etcd with `args` from the workspace root and returns its exit status and stderr,
/// failing if it is still running after [`DEADLINE`].
fn run_to_exit(args: &[&str]) -> (std::process::ExitStatus, String) {
    let tmp = tempfile::tempdir().expect("tempdir");
    let err_path = tmp.path().join("stderr");
    let mut child = Command::new(workspace_bin("etcd"))
        .current_dir(root())
        .args(["-name", "machine0", "-data-dir"])
        .arg(tmp.path().join("machine0"))
        .args(["-addr", "127.0.0.1:0", "-peer-addr", "127.0.0.1:0"])
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(&err_path).expect("stderr file"))
        .spawn()
        .expect("spawn etcd");
    let started = Instant::now();
    let status = loop {
        if let Some(s) = child.try_wait().expect("wait") {
            break s;
        }
        if started.elapsed() > DEADLINE {
            let _ = child.kill();
            panic!("etcd {args:?} kept running instead of refusing to start");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    (
        status,
        std::fs::read_to_string(err_path).unwrap_or_default(),
    )
}

#[test]
fn misconfigurations_exit_with_one_readable_line() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let malformed = tmp.path().join("malformed.crt");
    std::fs::write(
        &malformed,
        "-----BEGIN CERTIFICATE-----\n%%% not base64 %%%\n-----END CERTIFICATE-----\n",
    )
    .expect("write");
    let malformed_flag = format!("-cert-file={}", malformed.display());
    let cases: Vec<(Vec<&str>, &str)> = vec![
        (
            vec!["-cert-file=./fixtures/ca/server.crt"],
            "-cert-file ./fixtures/ca/server.crt is given without -key-file",
        ),
        (
            vec!["-key-file=./fixtures/ca/server.key.insecure"],
            "is given without -cert-file",
        ),
        (
            vec![
                "-cert-file=./fixtures/ca/server.crt",
                "-key-file=./fixtures/ca/server2.key.insecure",
            ],
            "-key-file ./fixtures/ca/server2.key.insecure does not match -cert-file ./fixtures/ca/server.crt",
        ),
        (
            vec![
                "-cert-file=./fixtures/ca/nonexistent.crt",
                "-key-file=./fixtures/ca/server.key.insecure",
            ],
            "cannot read -cert-file ./fixtures/ca/nonexistent.crt",
        ),
        (
            vec![&malformed_flag, "-key-file=./fixtures/ca/server.key.insecure"],
            "is not valid PEM",
        ),
        (
            vec![
                "-cert-file=./fixtures/ca/expired.crt",
                "-key-file=./fixtures/ca/expired.key.insecure",
            ],
            "certificate expired on 2001-01-01",
        ),
        (
            vec![
                "-cert-file=./fixtures/ca/notyet.crt",
                "-key-file=./fixtures/ca/notyet.key.insecure",
            ],
            "certificate is not valid before 2090-01-01",
        ),
        (
            vec![
                "-ca-file=./fixtures/ca/ca.key",
                "-cert-file=./fixtures/ca/server.crt",
                "-key-file=./fixtures/ca/server.key.insecure",
            ],
            "-ca-file ./fixtures/ca/ca.key holds no PEM certificate",
        ),
        (
            vec![
                "-peer-cert-file=./fixtures/ca/server.crt",
                "-peer-key-file=./fixtures/ca/server2.key.insecure",
            ],
            "-peer-key-file ./fixtures/ca/server2.key.insecure does not match",
        ),
    ];
    for (args, expect) in cases {
        let (status, stderr) = run_to_exit(&args);
        assert!(!status.success(), "{args:?} started");
        assert!(
            stderr.contains(expect),
            "{args:?}: expected {expect:?} in stderr:\n{stderr}"
        );
        let line = stderr
            .lines()
            .find(|l| l.contains(expect))
            .expect("error line");
        assert!(line.starts_with("etcd: "), "{line}");
    }
}

/// The subject line curl -v prints for the certificate the server presented.
fn served_subject(url: &str) -> String {
    let out = curl(&["--cacert", "./fixtures/ca/ca.crt", "-v", url]);
    String::from_utf8_lossy(&out.stderr)
        .lines()
        .find_map(|l| l.trim_start_matches('*').trim().strip_prefix("subject: "))
        .map(str::to_string)
        .unwrap_or_else(|| panic!("no subject in curl -v output: {out:?}"))
}

#[test]
fn certificate_rotation_without_restart() {
    if !curl_available() {
        return;
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let fixtures = root().join("fixtures/ca");
    let (crt, key) = (dir.path().join("tls.crt"), dir.path().join("tls.key"));
    std::fs::copy(fixtures.join("server.crt"), &crt).expect("copy");
    std::fs::copy(fixtures.join("server.key.insecure"), &key).expect("copy");
    let cert_flag = format!("-cert-file={}", crt.display());
    let key_flag = format!("-key-file={}", key.display());
    let mut etcd = TlsEtcd::start(
        &[&cert_flag, &key_flag],
        &["--cacert", "./fixtures/ca/ca.crt"],
    );
    assert_eq!(
        served_subject(&etcd.url("/version")),
        "O=etcd tests; CN=server"
    );

    // A watch opened before the rotation: its connection must survive it.
    let watch = Command::new("curl")
        .current_dir(root())
        // --max-time caps the test should the watch never fire; it is not a timing assertion.
        .args([
            "-s",
            "--max-time",
            "120",
            "--cacert",
            "./fixtures/ca/ca.crt",
        ])
        .arg(etcd.url("/v2/keys/rotated?wait=true"))
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn watch");

    // Wait until the watch is registered, so its connection predates the rotation.
    let started = Instant::now();
    loop {
        let stats = json(&curl(&[
            "--cacert",
            "./fixtures/ca/ca.crt",
            &etcd.url("/v2/stats/store"),
        ]));
        if stats["watchers"].as_u64().unwrap_or(0) >= 1 {
            break;
        }
        assert!(started.elapsed() < DEADLINE, "watch never registered");
        std::thread::sleep(Duration::from_millis(50));
    }

    // Replace the files in place, certificate first: for a moment they do not match, which
    // the server must ride out by keeping the old pair.
    std::fs::copy(fixtures.join("server2.crt"), &crt).expect("copy");
    std::fs::copy(fixtures.join("server2.key.insecure"), &key).expect("copy");
    let started = Instant::now();
    while served_subject(&etcd.url("/version")) != "O=etcd tests; CN=server2" {
        assert!(
            started.elapsed() < DEADLINE,
            "new certificate never served: {}",
            etcd.log()
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    assert!(etcd.running(), "etcd stopped during rotation");

    // SIGHUP forces a re-read; it must not stop the server.
    // SAFETY: kill(2) on the pid of a child we own, with a valid signal.
    unsafe {
        libc::kill(etcd.0.pid().expect("running") as i32, libc::SIGHUP);
    }
    let out = curl(&[
        "--cacert",
        "./fixtures/ca/ca.crt",
        &etcd.url("/v2/keys/rotated"),
        "-XPUT",
        "-d",
        "value=after",
    ]);
    assert_eq!(json(&out)["node"]["value"], "after");
    assert!(etcd.running(), "SIGHUP stopped etcd");
    assert_eq!(
        served_subject(&etcd.url("/version")),
        "O=etcd tests; CN=server2"
    );

    // The watch, on its pre-rotation connection, sees the write.
    let out = watch.wait_with_output().expect("watch output");
    let body = json(&out);
    assert_eq!(body["action"], "set");
    assert_eq!(body["node"]["value"], "after");
    assert!(
        etcd.log().contains("TLS certificate reloaded"),
        "{}",
        etcd.log()
    );
}

/// Our `etcdctl` reaches our HTTPS server with client-certificate auth, through flags and
/// through `ETCDCTL_*` variables, and is refused without a certificate.
#[test]
fn etcdctl_with_client_certificates_against_our_https_server() {
    if !curl_available() {
        return;
    }
    let mut args = SERVER.to_vec();
    args.push("-ca-file=./fixtures/ca/ca.crt");
    let probe = [
        "--cacert",
        "./fixtures/ca/ca.crt",
        "--cert",
        "./fixtures/ca/server2.crt",
        "--key",
        "./fixtures/ca/server2.key.insecure",
    ];
    let server = TlsEtcd::start(&args, &probe);
    let endpoint = server.url("");
    let ctl = |args: &[&str], env: &[(&str, &str)]| {
        Command::new(workspace_bin("etcdctl"))
            .current_dir(root())
            .args(["--no-sync", "--endpoints", &endpoint])
            .args(args)
            .envs(env.iter().copied())
            .output()
            .expect("run etcdctl")
    };
    let flags = [
        "--cert-file",
        "./fixtures/ca/server2.crt",
        "--key-file",
        "./fixtures/ca/server2.key.insecure",
        "--ca-file",
        "./fixtures/ca/ca.crt",
    ];
    let set = ctl(&[&flags[..], &["set", "/tls", "ok"]].concat(), &[]);
    assert!(set.status.success(), "{set:?}");
    assert_eq!(String::from_utf8_lossy(&set.stdout), "ok\n");
    let env = [
        ("ETCDCTL_CERT_FILE", "./fixtures/ca/server2.crt"),
        ("ETCDCTL_KEY_FILE", "./fixtures/ca/server2.key.insecure"),
        ("ETCDCTL_CA_FILE", "./fixtures/ca/ca.crt"),
    ];
    let get = ctl(&["get", "/tls"], &env);
    assert!(get.status.success(), "{get:?}");
    assert_eq!(String::from_utf8_lossy(&get.stdout), "ok\n");
    let refused = ctl(&["--ca-file", "./fixtures/ca/ca.crt", "get", "/tls"], &[]);
    assert!(!refused.status.success(), "{refused:?}");
}

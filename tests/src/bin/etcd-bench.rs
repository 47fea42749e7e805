//! Write benchmark: N concurrent clients PUT distinct keys with fixed-size values against our
//! `etcd` and the reference etcd 3.4 (`--enable-v2`), started fresh on loopback, in alternating
//! rounds so both see the same machine noise. Prints a Markdown table for BENCHMARKS.md.
//!
//! `cargo run --release -p etcd-integration --bin etcd-bench -- [--clients 64] [--requests 20000]
//! [--value-size 256] [--rounds 3] [--snapshot-count N] [--https [--cacert fixtures/ca/ca.crt]]`
//! (`--help` says what each flag does).
//!
//! Enough writes to cross several of our snapshots (`--requests 100000` with the default
//! `-snapshot-count`) show the write tail a snapshot causes; `--snapshot-count` sets ours only
//! (etcd 3.4 keeps its default of 100,000).
//!
//! With `--https` both servers serve the client port over TLS with `fixtures/ca/server.crt`
//! (ours with `-cert-file/-key-file`, etcd 3.4 with `--cert-file/--key-file`), and the clients
//! verify it against `--cacert`; run once with and once without to compare HTTPS with HTTP.
//! Each client keeps its connection alive, so the figures show TLS record cost, not handshakes.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use etcd_integration::load::{median, write_load};
use etcd_integration::{free_port, workspace_bin, EtcdProcess, Flavor, Options};

struct Args {
    clients: usize,
    requests: usize,
    value_size: usize,
    rounds: usize,
    /// Serve and load over HTTPS.
    https: bool,
    /// CA the clients trust in HTTPS mode.
    cacert: PathBuf,
    /// `-snapshot-count` for our server (its default when `None`).
    snapshot_count: Option<usize>,
}

const HELP: &str = "\
etcd-bench: concurrent PUTs of distinct keys against our etcd and etcd 3.4, alternating rounds

  --clients N         concurrent clients, each on its own keep-alive connection (64)
  --requests N        writes per round, shared by the clients (20000)
  --value-size N      bytes per value (256)
  --rounds N          rounds per server; figures are the medians (3)
  --snapshot-count N  -snapshot-count given to our server (else its default)
  --https             serve and load over TLS with fixtures/ca/server.crt
  --cacert PATH       CA the clients trust with --https (fixtures/ca/ca.crt)
  --help              this text

Prints per-round figures on stderr and a Markdown table on stdout: writes/s, p50, p99, p99.9
and max latency, RSS after the round and peak RSS of the server.
";

/// How long an HTTPS server may take to start before the bench gives up.
const START_DEADLINE: Duration = Duration::from_secs(60);

fn parse_args() -> Args {
    let mut a = Args {
        clients: 64,
        requests: 20_000,
        value_size: 256,
        rounds: 3,
        https: false,
        cacert: fixtures().join("ca.crt"),
        snapshot_count: None,
    };
    let argv: Vec<String> = std::env::args().skip(1).collect();
    let mut i = 0;
    while i < argv.len() {
        if argv[i] == "--help" || argv[i] == "-h" {
            print!("{HELP}");
            std::process::exit(0);
        }
        if argv[i] == "--https" {
            a.https = true;
            i += 1;
            continue;
        }
        let value = argv
            .get(i + 1)
            .unwrap_or_else(|| panic!("{} needs a value", argv[i]));
        if argv[i] == "--cacert" {
            a.cacert = PathBuf::from(value);
            i += 2;
            continue;
        }
        let v: usize = value.parse().expect("numeric flag value");
        match argv[i].as_str() {
            "--clients" => a.clients = v,
            "--requests" => a.requests = v,
            "--value-size" => a.value_size = v,
            "--rounds" => a.rounds = v,
            "--snapshot-count" => a.snapshot_count = Some(v),
            other => panic!("unknown flag {other} (see --help)"),
        }
        i += 2;
    }
    a
}

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../fixtures/ca")
}

/// A rustls client config trusting only the CA in `cacert`.
fn tls_config(cacert: &Path) -> Arc<rustls::ClientConfig> {
    use rustls::pki_types::pem::PemObject;
    let mut roots = rustls::RootCertStore::empty();
    for cert in rustls::pki_types::CertificateDer::pem_file_iter(cacert)
        .unwrap_or_else(|e| panic!("read {}: {e}", cacert.display()))
    {
        roots
            .add(cert.expect("PEM certificate"))
            .expect("usable CA certificate");
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    Arc::new(
        rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .expect("TLS versions")
            .with_root_certificates(roots)
            .with_no_client_auth(),
    )
}

fn agent(tls: &Option<Arc<rustls::ClientConfig>>) -> ureq::Agent {
    let b = ureq::AgentBuilder::new().timeout(Duration::from_secs(30));
    match tls {
        Some(c) => b.tls_config(c.clone()).build(),
        None => b.build(),
    }
}

/// A server under load: its keys URL prefix and pid (for RSS), whichever way it was started.
struct Target {
    /// `http(s)://127.0.0.1:<port>/v2/keys`.
    keys: String,
    pid: Option<u32>,
    /// Keeps a harness-started server alive.
    _process: Option<EtcdProcess>,
    /// An HTTPS server started here (the harness probes plain HTTP only); killed on drop.
    child: Option<Child>,
    _tmp: Option<tempfile::TempDir>,
}

impl Drop for Target {
    fn drop(&mut self) {
        if let Some(c) = self.child.as_mut() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

/// Starts `flavor` serving HTTPS with the fixture certificate; `None` when the reference etcd
/// is not installed.
fn start_https(
    flavor: Flavor,
    tls: &Arc<rustls::ClientConfig>,
    ours_extra: &[String],
) -> Option<Target> {
    let tmp = tempfile::tempdir().expect("tempdir");
    let (port, peer_port) = (free_port(), free_port());
    let (crt, key) = (
        fixtures().join("server.crt"),
        fixtures().join("server.key.insecure"),
    );
    let mut cmd = match flavor {
        Flavor::Ours => {
            let mut c = Command::new(workspace_bin("etcd"));
            c.args(["-name", "machine0", "-data-dir"])
                .arg(tmp.path().join("machine0"))
                .args(["-addr", &format!("127.0.0.1:{port}")])
                .args(["-peer-addr", &format!("127.0.0.1:{peer_port}")])
                .arg("-cert-file")
                .arg(&crt)
                .arg("-key-file")
                .arg(&key)
                .args(ours_extra);
            c
        }
        Flavor::Reference => {
            let bin = std::env::var("REFERENCE_ETCD").unwrap_or_else(|_| "/usr/bin/etcd".into());
            if !Path::new(&bin).exists() {
                eprintln!("skipping etcd 3.4: not installed");
                return None;
            }
            let client = format!("https://127.0.0.1:{port}");
            let peer = format!("http://127.0.0.1:{peer_port}");
            let mut c = Command::new(bin);
            c.args(["--enable-v2", "--name", "machine0", "--data-dir"])
                .arg(tmp.path().join("ref.etcd"))
                .args(["--listen-client-urls", &client])
                .args(["--advertise-client-urls", &client])
                .args(["--listen-peer-urls", &peer])
                .args(["--initial-advertise-peer-urls", &peer])
                .args(["--initial-cluster", &format!("machine0={peer}")])
                .args(["--log-level", "warn"])
                .arg("--cert-file")
                .arg(&crt)
                .arg("--key-file")
                .arg(&key);
            c
        }
    };
    let child = cmd
        .env_remove("ETCD_NAME")
        .env_remove("ETCD_DATA_DIR")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn etcd");
    let mut t = Target {
        keys: format!("https://127.0.0.1:{port}/v2/keys"),
        pid: Some(child.id()),
        _process: None,
        child: Some(child),
        _tmp: Some(tmp),
    };
    let health = format!("https://127.0.0.1:{port}/health");
    let probe = agent(&Some(tls.clone()));
    let started = Instant::now();
    loop {
        if let Some(Ok(Some(status))) = t.child.as_mut().map(|c| c.try_wait()) {
            panic!("{flavor:?} exited during start: {status}");
        }
        if let Ok(r) = probe.get(&health).call() {
            if r.into_string().unwrap_or_default().contains("true") {
                return Some(t);
            }
        }
        assert!(
            started.elapsed() < START_DEADLINE,
            "{flavor:?} did not become healthy over HTTPS"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Starts `flavor` over plain HTTP through the harness.
fn start_http(flavor: Flavor, ours_extra: &[String]) -> Option<Target> {
    let p = match flavor {
        Flavor::Ours => EtcdProcess::start_with(Options {
            extra: ours_extra.to_vec(),
            ..Options::default()
        }),
        Flavor::Reference => EtcdProcess::start_reference()?,
    };
    Some(Target {
        keys: p.keys(""),
        pid: p.pid(),
        _process: Some(p),
        child: None,
        _tmp: None,
    })
}

/// One load run's figures.
#[derive(Debug, Clone, Copy)]
struct Figures {
    writes_per_sec: f64,
    p50_ms: f64,
    p99_ms: f64,
    p999_ms: f64,
    max_ms: f64,
    /// Resident set after the round.
    rss_mib: f64,
    /// Peak resident set.
    peak_rss_mib: f64,
}

/// A `/proc/<pid>/status` figure in MiB (`VmRSS`: now, `VmHWM`: the peak).
fn status_mib(pid: u32, field: &str) -> f64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status
        .lines()
        .find(|l| l.starts_with(field))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|kb| kb.parse::<f64>().ok())
        .map(|kb| kb / 1024.0)
        .unwrap_or(0.0)
}

fn run_load(
    server: &Target,
    tls: &Option<Arc<rustls::ClientConfig>>,
    args: &Args,
    round: usize,
) -> Figures {
    let tls = tls.clone();
    let f = write_load(
        &[format!("{}/bench{round}", server.keys)],
        args.clients,
        args.requests,
        args.value_size,
        move || agent(&tls),
    );
    Figures {
        writes_per_sec: f.writes_per_sec,
        p50_ms: f.p50_ms,
        p99_ms: f.p99_ms,
        p999_ms: f.p999_ms,
        max_ms: f.max_ms,
        rss_mib: server.pid.map_or(0.0, |p| status_mib(p, "VmRSS:")),
        peak_rss_mib: server.pid.map_or(0.0, |p| status_mib(p, "VmHWM:")),
    }
}

fn main() {
    let args = parse_args();
    let tls = args.https.then(|| tls_config(&args.cacert));
    let ours_extra: Vec<String> = args
        .snapshot_count
        .map(|n| vec!["-snapshot-count".to_string(), n.to_string()])
        .unwrap_or_default();
    let mut ours = Vec::new();
    let mut reference = Vec::new();
    for round in 0..args.rounds {
        for flavor in [Flavor::Ours, Flavor::Reference] {
            let server = match &tls {
                Some(t) => start_https(flavor, t, &ours_extra),
                None => start_http(flavor, &ours_extra),
            };
            let Some(server) = server else { continue };
            let f = run_load(&server, &tls, &args, round);
            eprintln!("round {round} {flavor:?}: {f:?}");
            match flavor {
                Flavor::Ours => ours.push(f),
                Flavor::Reference => reference.push(f),
            }
        }
    }
    println!(
        "| metric ({}, {} clients, {}-byte values, {} writes{}, median of {} rounds) | ours | etcd 3.4 | ours / etcd |",
        if args.https { "HTTPS" } else { "HTTP" },
        args.clients,
        args.value_size,
        args.requests,
        args.snapshot_count
            .map(|n| format!(", ours with -snapshot-count {n}"))
            .unwrap_or_default(),
        args.rounds
    );
    println!("|---|---|---|---|");
    type Pick = fn(&Figures) -> f64;
    let rows: [(&str, Pick, usize); 7] = [
        ("writes/s", |f| f.writes_per_sec, 0),
        ("p50 latency (ms)", |f| f.p50_ms, 2),
        ("p99 latency (ms)", |f| f.p99_ms, 2),
        ("p99.9 latency (ms)", |f| f.p999_ms, 2),
        ("max latency (ms)", |f| f.max_ms, 2),
        ("RSS after the round (MiB)", |f| f.rss_mib, 1),
        ("peak RSS (MiB)", |f| f.peak_rss_mib, 1),
    ];
    for (name, pick, digits) in rows {
        let o = median(ours.iter().map(pick).collect());
        if reference.is_empty() {
            println!("| {name} | {o:.digits$} | n/a | n/a |");
        } else {
            let r = median(reference.iter().map(pick).collect());
            println!("| {name} | {o:.digits$} | {r:.digits$} | {:.2} |", o / r);
        }
    }
}

//! Write benchmark: N concurrent clients PUT distinct keys with fixed-size values against our
//! `etcd` and the reference etcd 3.4 (`--enable-v2`), started fresh on loopback, in alternating
//! rounds so both see the same machine noise. Prints a Markdown table for BENCHMARKS.md.
//!
//! `./build && cargo run --release -p etcd-bench-tools --bin etcd-bench -- [--clients 64]
//! [--requests 20000] [--value-size 256] [--rounds 3] [--https [--cacert fixtures/ca/ca.crt]]`
//!
//! With `--https` both servers serve the client port over TLS with `fixtures/ca/server.crt`
//! (ours with `-cert-file/-key-file`, etcd 3.4 with `--cert-file/--key-file`), and the clients
//! verify it against `--cacert`; run once with and once without to compare HTTPS with HTTP.
//! Each client keeps its connection alive, so the figures show TLS record cost, not handshakes.
//!
//! `etcd-bench import [--dirs 100] [--keys 1000] [--jobs 32]` times `etcdctl import` of a
//! generated tree into a fresh server of ours instead.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use clap::{Parser, Subcommand};
use etcd_bench_tools::import;
use etcd_bench_tools::load::{median, write_load};
use etcd_integration::{free_port, read_ports, workspace_bin, EtcdProcess, Flavor};

/// Our etcd against etcd 3.4: concurrent writes over HTTP or HTTPS, or an etcdctl import.
#[derive(Debug, Parser)]
#[command(args_conflicts_with_subcommands = true)]
struct Cli {
    #[command(flatten)]
    write: Args,
    #[command(subcommand)]
    mode: Option<Mode>,
}

/// The write benchmark's settings.
#[derive(Debug, clap::Args)]
struct Args {
    /// Concurrent clients, each on its own keep-alive connection.
    #[arg(long, default_value_t = 64)]
    clients: usize,
    /// Writes per round, shared by the clients.
    #[arg(long, default_value_t = 20_000)]
    requests: usize,
    /// Bytes per value.
    #[arg(long, default_value_t = 256)]
    value_size: usize,
    /// Rounds per server; the table shows the medians.
    #[arg(long, default_value_t = 3)]
    rounds: usize,
    /// Serve and load the client port over HTTPS (fixtures/ca/server.crt).
    #[arg(long)]
    https: bool,
    /// CA the clients trust in HTTPS mode.
    #[arg(long, default_value_os_t = fixtures().join("ca.crt"))]
    cacert: PathBuf,
}

#[derive(Debug, Subcommand)]
enum Mode {
    /// Time `etcdctl import` of a generated tree (dirs × keys) into a fresh server of ours.
    Import {
        /// Directories in the tree.
        #[arg(long, default_value_t = 100)]
        dirs: usize,
        /// Keys per directory.
        #[arg(long, default_value_t = 1000)]
        keys: usize,
        /// `etcdctl import --jobs`.
        #[arg(long, default_value_t = 32)]
        jobs: usize,
    },
}

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../fixtures/ca")
}

/// How long an HTTPS server may take to start before the bench gives up.
const START_DEADLINE: Duration = Duration::from_secs(60);

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
fn start_https(flavor: Flavor, tls: &Arc<rustls::ClientConfig>) -> Option<Target> {
    let tmp = tempfile::tempdir().expect("tempdir");
    // Ours picks its own ports (`:0`, read back from ports.json); etcd 3.4 cannot.
    let (mut port, peer_port) = match flavor {
        Flavor::Ours => (0, 0),
        Flavor::Reference => (free_port(), free_port()),
    };
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
                .arg(&key);
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
    let log = tmp.path().join("etcd.log");
    let out = std::fs::File::create(&log).expect("log file");
    let mut child = cmd
        .env_remove("ETCD_NAME")
        .env_remove("ETCD_DATA_DIR")
        .stdin(Stdio::null())
        .stdout(out.try_clone().expect("clone log"))
        .stderr(out)
        .spawn()
        .expect("spawn etcd");
    if flavor == Flavor::Ours {
        let data_dir = tmp.path().join("machine0");
        port = read_ports(&data_dir, &mut child, &log)
            .unwrap_or_else(|| {
                panic!(
                    "etcd exited during start: {:?}",
                    std::fs::read_to_string(&log)
                )
            })
            .0;
    }
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
fn start_http(flavor: Flavor) -> Option<Target> {
    let p = match flavor {
        Flavor::Ours => EtcdProcess::start(),
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
    rss_mib: f64,
}

fn rss_mib(pid: u32) -> f64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status
        .lines()
        .find(|l| l.starts_with("VmHWM:"))
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
        rss_mib: server.pid.map(rss_mib).unwrap_or(0.0),
    }
}

fn main() {
    let cli = Cli::parse();
    if let Some(Mode::Import { dirs, keys, jobs }) = cli.mode {
        let f = import::run(dirs, keys, jobs);
        println!("| etcdctl import ({dirs} dirs × {keys} keys, --jobs {jobs}) | ours |");
        println!("|---|---|");
        println!("| nodes | {} |", f.nodes);
        println!("| seconds | {:.1} |", f.seconds);
        println!("| nodes/s | {:.0} |", f.nodes as f64 / f.seconds);
        return;
    }
    let args = cli.write;
    let tls = args.https.then(|| tls_config(&args.cacert));
    let mut ours = Vec::new();
    let mut reference = Vec::new();
    for round in 0..args.rounds {
        for flavor in [Flavor::Ours, Flavor::Reference] {
            let server = match &tls {
                Some(t) => start_https(flavor, t),
                None => start_http(flavor),
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
    let summarise = |v: &[Figures]| {
        (
            median(v.iter().map(|f| f.writes_per_sec).collect()),
            median(v.iter().map(|f| f.p50_ms).collect()),
            median(v.iter().map(|f| f.p99_ms).collect()),
            median(v.iter().map(|f| f.rss_mib).collect()),
        )
    };
    let (ow, o50, o99, orss) = summarise(&ours);
    println!(
        "| metric ({}, {} clients, {}-byte values, {} writes, median of {} rounds) | ours | etcd 3.4 | ours / etcd |",
        if args.https { "HTTPS" } else { "HTTP" },
        args.clients, args.value_size, args.requests, args.rounds
    );
    println!("|---|---|---|---|");
    if reference.is_empty() {
        println!("| writes/s | {ow:.0} | n/a | n/a |");
        println!("| p50 latency (ms) | {o50:.2} | n/a | n/a |");
        println!("| p99 latency (ms) | {o99:.2} | n/a | n/a |");
        println!("| peak RSS (MiB) | {orss:.1} | n/a | n/a |");
        return;
    }
    let (rw, r50, r99, rrss) = summarise(&reference);
    println!("| writes/s | {ow:.0} | {rw:.0} | {:.2} |", ow / rw);
    println!(
        "| p50 latency (ms) | {o50:.2} | {r50:.2} | {:.2} |",
        o50 / r50
    );
    println!(
        "| p99 latency (ms) | {o99:.2} | {r99:.2} | {:.2} |",
        o99 / r99
    );
    println!(
        "| peak RSS (MiB) | {orss:.1} | {rrss:.1} | {:.2} |",
        orss / rrss
    );
}

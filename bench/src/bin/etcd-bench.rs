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

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use clap::{Parser, Subcommand};
use etcd_bench_tools::load::{median, write_load};
use etcd_bench_tools::suite::servers;
use etcd_bench_tools::{import, tls};
use etcd_integration::{EtcdProcess, Flavor};

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
    tls::fixtures()
}

fn agent(tls: &Option<Arc<rustls::ClientConfig>>) -> ureq::Agent {
    tls::agent(tls, Duration::from_secs(30))
}

/// A server under load: its keys URL prefix (`http(s)://127.0.0.1:<port>/v2/keys`) and the
/// process, killed on drop.
struct Target {
    keys: String,
    process: EtcdProcess,
}

/// Starts `flavor` serving HTTPS with the fixture certificate, once `/health` answers through
/// `tls`; `None` when the reference etcd is not installed.
fn start_https(flavor: Flavor, tls: &Arc<rustls::ClientConfig>) -> Option<Target> {
    let process = servers::start_https(flavor, tls, &[])?;
    Some(Target {
        keys: format!("https://127.0.0.1:{}/v2/keys", process.client_port),
        process,
    })
}

/// Starts `flavor` over plain HTTP, once healthy.
fn start_http(flavor: Flavor) -> Option<Target> {
    let process = EtcdProcess::start_ours_or_reference(flavor == Flavor::Reference)?;
    Some(Target {
        keys: process.keys(""),
        process,
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
    etcd_bench_tools::procfs::status_mib(pid, "VmHWM")
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
        rss_mib: server.process.pid().map(rss_mib).unwrap_or(0.0),
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
    let tls = args.https.then(|| tls::client_config(&args.cacert));
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

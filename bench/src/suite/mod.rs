//! The benchmark suite of issue 14: writes at several concurrencies, reads, a contended swap,
//! watch fan-out, memory and data-dir size, restart time, and writes over TLS and with auth;
//! each against fresh instances of ours and etcd 3.4, one member and three, in alternating
//! rounds (A B B A) so the machine's noise hits both.

pub mod fanout;
pub mod floor;
pub mod plot;
pub mod progress;
pub mod report;
pub mod servers;
pub mod storage;
pub mod workloads;

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use serde::Serialize;

use crate::load::{LoadFigures, Plan};
use crate::procfs::CpuUse;
use progress::Progress;
use servers::{Deployment, Server, Setup};

/// Which benchmarks to run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum, Serialize)]
pub enum Bench {
    /// PUTs of new keys at each `--conns`.
    Writes,
    /// Default, `quorum=true` and (ours) `-local-reads` GETs.
    Reads,
    /// Compare-and-swap on one key.
    Cas,
    /// One write notifying many long-poll watchers.
    Watch,
    /// RSS and data-dir size after `--fill-keys` keys, and the restart to a correct GET.
    Memory,
    /// Writes over HTTPS (one member).
    Tls,
    /// Writes with auth on, each carrying credentials (one member).
    Auth,
}

/// The suite's settings (the `bench` binary's flags).
#[derive(Debug, Clone, clap::Args, Serialize)]
pub struct Settings {
    /// Benchmarks to run (default: all).
    #[arg(long, value_enum, value_delimiter = ',')]
    pub only: Vec<Bench>,
    /// Cluster sizes.
    #[arg(long, value_delimiter = ',', default_value = "1,3")]
    pub members: Vec<usize>,
    /// Rounds per server; rounds alternate which server goes first (A B B A).
    #[arg(long, default_value_t = 2)]
    pub rounds: usize,
    /// Connections of the write benchmark.
    #[arg(long, value_delimiter = ',', default_value = "1,16,64,256")]
    pub conns: Vec<usize>,
    /// Writes per write measurement.
    #[arg(long, default_value_t = 20_000)]
    pub writes: usize,
    /// Cap on one write measurement, seconds (one connection may not finish `--writes`).
    #[arg(long, default_value_t = 10.0)]
    pub max_seconds: f64,
    /// `-snapshot-count` for both servers in the write, TLS and auth benchmarks, small so a
    /// short run crosses several snapshots; 0 keeps each server's default (100,000 both).
    #[arg(long, default_value_t = 2000)]
    pub snapshot_count: u64,
    /// Bytes per value.
    #[arg(long, default_value_t = 256)]
    pub value_size: usize,
    /// Connections of the read benchmark.
    #[arg(long, default_value_t = 64)]
    pub read_conns: usize,
    /// Seconds per read and swap measurement.
    #[arg(long, default_value_t = 3.0)]
    pub seconds: f64,
    /// Keys the read benchmark reads (round robin).
    #[arg(long, default_value_t = 1000)]
    pub read_keys: usize,
    /// Clients of the swap benchmark.
    #[arg(long, default_value_t = 32)]
    pub cas_clients: usize,
    /// Long-poll watchers of the fan-out benchmark.
    #[arg(long, default_value_t = 1000)]
    pub watchers: usize,
    /// Writes the fan-out benchmark times (the figure is their median).
    #[arg(long, default_value_t = 5)]
    pub watch_repeats: usize,
    /// Keys the memory and restart benchmark loads.
    #[arg(long, default_value_t = 100_000)]
    pub fill_keys: usize,
    /// Also load 1,000,000 keys into one member for memory and restart (slow: minutes).
    #[arg(long)]
    pub million: bool,
    /// Run ours only (no etcd 3.4).
    #[arg(long)]
    pub ours_only: bool,
    /// A few hundred operations per benchmark against ours only, one member, one round: proves
    /// the tool works (CI), measures nothing.
    #[arg(long)]
    pub quick: bool,
    /// Write every measurement and the summary as JSON to this file.
    #[arg(long)]
    pub json: Option<PathBuf>,
    /// Draw p99 write latency against connections into this PNG.
    #[arg(long)]
    pub plot: Option<PathBuf>,
    /// The TrueType font of the plot's text.
    #[arg(
        long,
        default_value = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"
    )]
    pub font: PathBuf,
    /// Run nothing: draw `--plot` from the summary of an earlier run's `--json` file.
    #[arg(long, requires = "plot")]
    pub from_json: Option<PathBuf>,
    /// No progress bar.
    #[arg(long)]
    pub quiet: bool,
}

impl Settings {
    /// `--quick`'s sizes applied over the rest.
    pub fn effective(&self) -> Settings {
        if !self.quick {
            return self.clone();
        }
        Settings {
            members: vec![1],
            rounds: 1,
            conns: vec![1, 16],
            writes: 300,
            snapshot_count: 100,
            read_keys: 50,
            watchers: 50,
            watch_repeats: 2,
            fill_keys: 500,
            million: false,
            ours_only: true,
            ..self.clone()
        }
    }

    fn runs(&self, b: Bench) -> bool {
        self.only.is_empty() || self.only.contains(&b)
    }

    /// The servers compared, in round `round`'s order (A B, then B A).
    fn order(&self, round: usize) -> Vec<Server> {
        match (self.ours_only, round % 2) {
            (true, _) => vec![Server::Ours],
            (false, 0) => vec![Server::Ours, Server::Etcd],
            (false, _) => vec![Server::Etcd, Server::Ours],
        }
    }

    /// A time-bound load: `--seconds`, or a few hundred operations in quick mode.
    fn timed(&self, clients: usize) -> Plan {
        match self.quick {
            true => Plan {
                clients,
                ops: 300,
                max_time: None,
            },
            false => Plan {
                clients,
                ops: usize::MAX,
                max_time: Some(Duration::from_secs_f64(self.seconds)),
            },
        }
    }

    fn snapshots(&self) -> Option<u64> {
        (self.snapshot_count > 0).then_some(self.snapshot_count)
    }
}

/// One figure set from one fresh deployment.
#[derive(Debug, Clone, Serialize)]
pub struct Measurement {
    /// What was measured ("writes, 16 conns").
    pub bench: String,
    /// Cluster size.
    pub members: usize,
    /// Which server ("ours", "ours -local-reads", "etcd 3.4").
    pub server: &'static str,
    /// Round number.
    pub round: usize,
    /// Named figures, in table order.
    pub metrics: Vec<(String, f64)>,
    /// Where the CPU went during the load, when it was a load.
    pub cpu: Option<CpuUse>,
}

impl Measurement {
    fn new(bench: &str, setup: &Setup, round: usize) -> Measurement {
        Measurement {
            bench: bench.to_string(),
            members: setup.members,
            server: setup.server.label(),
            round,
            metrics: Vec::new(),
            cpu: None,
        }
    }

    /// The figure named `name`, if taken.
    fn metric(&self, name: &str) -> Option<f64> {
        self.metrics
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| *v)
    }

    fn with(mut self, name: &str, value: f64) -> Measurement {
        self.metrics.push((name.to_string(), value));
        self
    }

    /// Throughput and latency figures of a load, named for `unit` ("writes/s").
    fn with_load(self, unit: &str, f: &LoadFigures) -> Measurement {
        self.with(unit, f.writes_per_sec)
            .with("p50 ms", f.p50_ms)
            .with("p99 ms", f.p99_ms)
            .with("p99.9 ms", f.p999_ms)
            .with("max ms", f.max_ms)
    }

    fn line(&self) -> String {
        let m: Vec<String> = self
            .metrics
            .iter()
            .map(|(k, v)| format!("{k} {v:.2}"))
            .collect();
        format!(
            "{} | {} member(s) | {} | round {}: {}",
            self.bench,
            self.members,
            self.server,
            self.round,
            m.join(", ")
        )
    }
}

/// Collects measurements and reports progress.
pub struct Recorder {
    /// Every measurement so far.
    pub out: Vec<Measurement>,
    /// The progress bar.
    pub progress: Progress,
    /// Measurements that failed, named.
    pub failed: Vec<String>,
}

impl Recorder {
    fn record(&mut self, m: Measurement) {
        self.progress.finish_step(&m.line());
        self.out.push(m);
    }
}

/// Starts a fresh deployment for `setup`; `None` (with a note) when etcd 3.4 is missing.
///
/// etcd 3.4 must be told its ports, which the harness draws at random; another test suite on
/// the machine can take one first ("address already in use"), so a failed start is retried
/// twice with new ports before the benchmark gives up.
fn fresh(setup: &Setup, rec: &Recorder) -> Option<Deployment> {
    let mut attempt = 1;
    let d = loop {
        // A failed start drops what it started (the harness kills on drop): nothing half-built
        // is observed afterwards, so asserting unwind safety is sound.
        match std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| setup.start())) {
            Ok(d) => break d,
            Err(_) if attempt < 3 => rec.progress.log("start failed (above); trying again"),
            Err(e) => std::panic::resume_unwind(e),
        }
        attempt += 1;
    };
    if d.is_none() {
        rec.progress
            .log("etcd 3.4 not installed: its figures are left out");
    }
    d
}

/// How many measurements `s` plans (the progress bar's length).
fn planned(s: &Settings) -> usize {
    let servers = if s.ours_only { 1 } else { 2 };
    let per_round = s.members.len() * servers;
    let mut n = 0;
    if s.runs(Bench::Writes) {
        n += per_round * s.conns.len();
    }
    if s.runs(Bench::Reads) {
        n += per_round * 2 + s.members.len();
    }
    for b in [Bench::Cas, Bench::Watch] {
        n += usize::from(s.runs(b)) * per_round;
    }
    if s.runs(Bench::Memory) {
        n += per_round + usize::from(s.million) * servers;
    }
    for b in [Bench::Tls, Bench::Auth] {
        n += usize::from(s.runs(b)) * servers;
    }
    n * s.rounds
}

/// Runs the suite.
pub fn run(settings: &Settings) -> Run {
    let s = settings.effective();
    let mut rec = Recorder {
        out: Vec::new(),
        progress: Progress::new(planned(&s), s.quiet),
        failed: Vec::new(),
    };
    let tls = s
        .runs(Bench::Tls)
        .then(|| crate::tls::client_config(&crate::tls::fixtures().join("ca.crt")));
    let all = [
        Bench::Writes,
        Bench::Reads,
        Bench::Cas,
        Bench::Watch,
        Bench::Memory,
        Bench::Tls,
        Bench::Auth,
    ];
    // Members, then benchmark, then round, then server: a benchmark's rounds run back to back,
    // so A B B A spans a minute or two of the machine's noise, not the whole run.
    for &members in &s.members {
        for bench in all.into_iter().filter(|b| s.runs(*b)) {
            for round in 0..s.rounds {
                for server in s.order(round) {
                    let setup = Setup {
                        server,
                        members,
                        snapshot_count: s.snapshots(),
                        https: None,
                    };
                    // A measurement that fails (a server that refuses writes, a start that
                    // keeps failing) is reported and left out; the rest of the run goes on.
                    let name = format!("{bench:?}, {members} member(s), {}", server.label());
                    let ran = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                        one(&s, bench, setup, round, &tls, &mut rec)
                    }));
                    if ran.is_err() {
                        rec.progress
                            .log(&format!("FAILED: {name}, round {round} (above)"));
                        rec.failed.push(format!("{name}, round {round}"));
                    }
                }
            }
        }
    }
    Run {
        measurements: std::mem::take(&mut rec.out),
        failed: std::mem::take(&mut rec.failed),
    }
}

/// What a run produced.
#[derive(Debug, Clone, Serialize)]
pub struct Run {
    /// Every measurement, in the order taken.
    pub measurements: Vec<Measurement>,
    /// Measurements that failed (their error is in the log), named.
    pub failed: Vec<String>,
}

/// Runs `bench` once on fresh deployments of `setup`.
fn one(
    s: &Settings,
    bench: Bench,
    setup: Setup,
    round: usize,
    tls: &Option<Arc<rustls::ClientConfig>>,
    rec: &mut Recorder,
) {
    let single = setup.members == 1;
    match bench {
        Bench::Writes => workloads::writes(s, &setup, round, rec),
        Bench::Reads => workloads::reads(s, &setup, round, rec),
        Bench::Cas => workloads::cas(s, &setup, round, rec),
        Bench::Watch => fanout::watch(s, &setup, round, rec),
        Bench::Memory => {
            // The servers' own snapshot counts: what a user's store costs.
            let defaults = Setup {
                snapshot_count: None,
                ..setup
            };
            storage::memory(s, &defaults, s.fill_keys, round, rec);
            if s.million && single {
                storage::memory(s, &defaults, 1_000_000, round, rec);
            }
        }
        Bench::Tls if single => {
            let https = Setup {
                https: tls.clone(),
                ..setup
            };
            workloads::tls_writes(s, &https, round, rec);
        }
        Bench::Auth if single => workloads::auth_writes(s, &setup, round, rec),
        Bench::Tls | Bench::Auth => {}
    }
}

/// `Arc`'d counter the loads advance, from the recorder's progress.
fn ops(rec: &Recorder) -> Arc<std::sync::atomic::AtomicUsize> {
    rec.progress.ops.clone()
}

//! Write benchmark: N concurrent clients PUT distinct keys with fixed-size values against our
//! `etcd` and the reference etcd 3.4 (`--enable-v2`), started fresh on loopback, in alternating
//! rounds so both see the same machine noise. Prints a Markdown table for BENCHMARKS.md.
//!
//! `cargo run --release -p etcd-integration --bin etcd-bench -- [--clients 64] [--requests 20000]
//! [--value-size 256] [--rounds 3]`

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use etcd_integration::{EtcdProcess, Flavor};

struct Args {
    clients: usize,
    requests: usize,
    value_size: usize,
    rounds: usize,
}

fn parse_args() -> Args {
    let mut a = Args {
        clients: 64,
        requests: 20_000,
        value_size: 256,
        rounds: 3,
    };
    let argv: Vec<String> = std::env::args().skip(1).collect();
    let mut i = 0;
    while i + 1 < argv.len() {
        let v: usize = argv[i + 1].parse().expect("numeric flag value");
        match argv[i].as_str() {
            "--clients" => a.clients = v,
            "--requests" => a.requests = v,
            "--value-size" => a.value_size = v,
            "--rounds" => a.rounds = v,
            other => panic!("unknown flag {other}"),
        }
        i += 2;
    }
    a
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

fn run_load(server: &EtcdProcess, args: &Args, round: usize) -> Figures {
    let next = Arc::new(AtomicUsize::new(0));
    let value = "v".repeat(args.value_size);
    let body = Arc::new(format!("value={value}"));
    let start = Instant::now();
    let threads: Vec<_> = (0..args.clients)
        .map(|c| {
            let next = next.clone();
            let body = body.clone();
            let base = server.keys(&format!("/bench{round}"));
            let total = args.requests;
            std::thread::spawn(move || {
                let agent = ureq::AgentBuilder::new()
                    .timeout(Duration::from_secs(30))
                    .build();
                let mut lat = Vec::new();
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    if i >= total {
                        break;
                    }
                    let url = format!("{base}/c{c}/k{i}");
                    let t = Instant::now();
                    let res = agent
                        .put(&url)
                        .set("Content-Type", "application/x-www-form-urlencoded")
                        .send_string(&body);
                    match res {
                        Ok(r) => {
                            let _ = r.into_string();
                        }
                        Err(e) => panic!("write failed: {e}"),
                    }
                    lat.push(t.elapsed());
                }
                lat
            })
        })
        .collect();
    let mut lat: Vec<Duration> = threads
        .into_iter()
        .flat_map(|t| t.join().expect("client thread"))
        .collect();
    let elapsed = start.elapsed().as_secs_f64();
    lat.sort();
    let pct = |p: f64| {
        let i = ((lat.len() as f64 * p).ceil() as usize).clamp(1, lat.len()) - 1;
        lat[i].as_secs_f64() * 1000.0
    };
    Figures {
        writes_per_sec: lat.len() as f64 / elapsed,
        p50_ms: pct(0.50),
        p99_ms: pct(0.99),
        rss_mib: server.pid().map(rss_mib).unwrap_or(0.0),
    }
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.partial_cmp(b).expect("no NaN"));
    v[v.len() / 2]
}

fn main() {
    let args = parse_args();
    let mut ours = Vec::new();
    let mut reference = Vec::new();
    for round in 0..args.rounds {
        for flavor in [Flavor::Ours, Flavor::Reference] {
            let server = match flavor {
                Flavor::Ours => EtcdProcess::start(),
                Flavor::Reference => match EtcdProcess::start_reference() {
                    Some(s) => s,
                    None => continue,
                },
            };
            let f = run_load(&server, &args, round);
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
        "| metric ({} clients, {}-byte values, {} writes, median of {} rounds) | ours | etcd 3.4 | ours / etcd |",
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

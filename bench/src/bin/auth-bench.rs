//! What auth costs a read: concurrent clients GET one key from a fresh server, without auth,
//! and with auth on and each request carrying a user's HTTP Basic credentials; on ours and on
//! etcd 3.4 (`--enable-v2`), in alternating rounds. etcd 2.x ran bcrypt on every authenticated
//! request (etcd issue #3223); ours verifies a credential once and remembers it.
//!
//! `./build && cargo run --release -p etcd-bench-tools --bin auth-bench -- [--clients 32]
//! [--requests 50000] [--reference-requests 2000] [--rounds 3]`

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use clap::Parser;
use etcd_bench_tools::auth::{self, ALICE};
use etcd_bench_tools::load::median;
use etcd_integration::EtcdProcess;

/// Reads with and without auth, ours against etcd 3.4.
#[derive(Debug, Parser)]
struct Args {
    /// Concurrent clients, each on its own keep-alive connection.
    #[arg(long, default_value_t = 32)]
    clients: usize,
    /// GETs per measurement on ours, shared by the clients.
    #[arg(long, default_value_t = 50_000)]
    requests: usize,
    /// GETs per measurement on etcd 3.4 (its authenticated GETs run bcrypt each: slow).
    #[arg(long, default_value_t = 2_000)]
    reference_requests: usize,
    /// Rounds per server; the table shows the medians.
    #[arg(long, default_value_t = 3)]
    rounds: usize,
}

/// (reads/s, p50 ms, p99 ms) of `requests` GETs of `url` by `clients` threads.
fn read_load(
    url: &str,
    clients: usize,
    requests: usize,
    auth: Option<&'static str>,
) -> (f64, f64, f64) {
    let next = Arc::new(AtomicUsize::new(0));
    let start = Instant::now();
    let threads: Vec<_> = (0..clients)
        .map(|_| {
            let (next, url) = (next.clone(), url.to_string());
            std::thread::spawn(move || {
                let agent = ureq::AgentBuilder::new()
                    .timeout(Duration::from_secs(60))
                    .build();
                let mut lat = Vec::new();
                while next.fetch_add(1, Ordering::Relaxed) < requests {
                    let t = Instant::now();
                    let mut req = agent.get(&url);
                    if let Some(a) = auth {
                        req = req.set("Authorization", a);
                    }
                    let r = req.call().unwrap_or_else(|e| panic!("GET failed: {e}"));
                    r.into_string().ok();
                    lat.push(t.elapsed());
                }
                lat
            })
        })
        .collect();
    let mut lat: Vec<Duration> = threads
        .into_iter()
        .flat_map(|t| t.join().expect("client"))
        .collect();
    let secs = start.elapsed().as_secs_f64();
    lat.sort();
    let pct = |p: f64| {
        lat[((lat.len() as f64 * p).ceil() as usize).clamp(1, lat.len()) - 1].as_secs_f64() * 1e3
    };
    (lat.len() as f64 / secs, pct(0.5), pct(0.99))
}

/// One fresh server: figures without auth, then with it.
fn measure(reference: bool, a: &Args) -> [(f64, f64, f64); 2] {
    let server =
        EtcdProcess::start_ours_or_reference(reference).expect("reference etcd 3.4 installed");
    let base = server.client_url();
    ureq::put(&format!("{base}/v2/keys/bench/k"))
        .set("Content-Type", "application/x-www-form-urlencoded")
        .send_string("value=v")
        .expect("seed key");
    let url = format!("{base}/v2/keys/bench/k");
    let requests = if reference {
        a.reference_requests
    } else {
        a.requests
    };
    // Warm up connections and caches on both paths alike.
    read_load(&url, a.clients, a.clients * 10, None);
    let plain = read_load(&url, a.clients, requests, None);
    auth::enable(&base);
    read_load(&url, a.clients, a.clients, Some(ALICE));
    let authed = read_load(&url, a.clients, requests, Some(ALICE));
    [plain, authed]
}

fn main() {
    let a = Args::parse();
    let mut ours = Vec::new();
    let mut theirs = Vec::new();
    for round in 0..a.rounds {
        // A B B A: both servers see the same machine noise.
        let order = if round % 2 == 0 {
            [false, true]
        } else {
            [true, false]
        };
        for reference in order {
            let f = measure(reference, &a);
            eprintln!(
                "round {round} {}: plain {:?} authenticated {:?}",
                if reference { "etcd 3.4" } else { "ours" },
                f[0],
                f[1]
            );
            if reference {
                theirs.push(f)
            } else {
                ours.push(f)
            }
        }
    }
    let med = |v: &Vec<[(f64, f64, f64); 2]>, i: usize, f: fn(&(f64, f64, f64)) -> f64| {
        median(v.iter().map(|x| f(&x[i])).collect())
    };
    println!("| {} clients, GET one key, median of {} rounds | ours | ours, auth | ours auth / plain | etcd 3.4 | etcd 3.4, auth | etcd auth / plain |", a.clients, a.rounds);
    println!("|---|---|---|---|---|---|---|");
    for (name, f) in [
        (
            "reads/s",
            (|x: &(f64, f64, f64)| x.0) as fn(&(f64, f64, f64)) -> f64,
        ),
        ("p50 latency (ms)", |x| x.1),
        ("p99 latency (ms)", |x| x.2),
    ] {
        let (o0, o1, t0, t1) = (
            med(&ours, 0, f),
            med(&ours, 1, f),
            med(&theirs, 0, f),
            med(&theirs, 1, f),
        );
        println!(
            "| {name} | {o0:.2} | {o1:.2} | {:.2} | {t0:.2} | {t1:.2} | {:.2} |",
            o1 / o0,
            t1 / t0
        );
    }
}

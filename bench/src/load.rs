//! The write load both benchmark binaries drive: concurrent clients PUTting distinct keys
//! over keep-alive HTTP, timed per request.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// What a load measured.
#[derive(Debug, Clone, Copy)]
pub struct LoadFigures {
    /// Acknowledged writes per second over the whole run.
    pub writes_per_sec: f64,
    /// Median latency.
    pub p50_ms: f64,
    /// 99th percentile latency (nearest rank).
    pub p99_ms: f64,
    /// 99.9th percentile latency (nearest rank).
    pub p999_ms: f64,
    /// The slowest write.
    pub max_ms: f64,
}

/// `clients` threads share `requests` writes of `value_size`-byte values: client `c` PUTs
/// `<bases[c % bases.len()]>/c<c>/k<i>` with a form body, on an agent from `agent`. A failed
/// write panics: a benchmark that loses writes has no figure to report.
pub fn write_load(
    bases: &[String],
    clients: usize,
    requests: usize,
    value_size: usize,
    agent: impl Fn() -> ureq::Agent + Send + Sync + 'static,
) -> LoadFigures {
    let next = Arc::new(AtomicUsize::new(0));
    let body = Arc::new(format!("value={}", "v".repeat(value_size)));
    let agent = Arc::new(agent);
    let start = Instant::now();
    let threads: Vec<_> = (0..clients)
        .map(|c| {
            let (next, body, agent) = (next.clone(), body.clone(), agent.clone());
            let base = bases[c % bases.len()].clone();
            std::thread::spawn(move || {
                let agent = agent();
                let mut lat = Vec::new();
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    if i >= requests {
                        break;
                    }
                    let t = Instant::now();
                    agent
                        .put(&format!("{base}/c{c}/k{i}"))
                        .set("Content-Type", "application/x-www-form-urlencoded")
                        .send_string(&body)
                        .unwrap_or_else(|e| panic!("write failed: {e}"))
                        .into_string()
                        .ok();
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
    LoadFigures {
        writes_per_sec: lat.len() as f64 / elapsed,
        p50_ms: pct(0.50),
        p99_ms: pct(0.99),
        p999_ms: pct(0.999),
        max_ms: pct(1.0),
    }
}

/// The median of a non-empty list.
pub fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.partial_cmp(b).expect("no NaN"));
    v[v.len() / 2]
}

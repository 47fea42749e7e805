//! The load engine every benchmark drives: concurrent clients, each on its own thread and
//! keep-alive connection, running one operation after another until a shared count or a
//! deadline is reached, each operation timed.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde::Serialize;

/// How much load to run: `clients` threads share up to `ops` operations, and stop early at
/// `max_time` (the last operation of each client still completes).
#[derive(Debug, Clone, Copy)]
pub struct Plan {
    /// Concurrent clients.
    pub clients: usize,
    /// Operations, shared by the clients.
    pub ops: usize,
    /// Wall-clock cap; `None` runs all `ops`.
    pub max_time: Option<Duration>,
}

/// What a load measured.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct LoadFigures {
    /// Operations completed.
    pub ops: usize,
    /// Operations the server accepted (for a swap: answered 2xx).
    pub ok: usize,
    /// Wall-clock seconds of the whole load.
    pub seconds: f64,
    /// Completed operations per second (writes/s for a write load).
    pub writes_per_sec: f64,
    /// Accepted operations per second.
    pub ok_per_sec: f64,
    /// Median latency.
    pub p50_ms: f64,
    /// 99th percentile latency (nearest rank).
    pub p99_ms: f64,
    /// 99.9th percentile latency (nearest rank).
    pub p999_ms: f64,
    /// The slowest operation.
    pub max_ms: f64,
}

/// Runs `plan`: client `c` gets its operation from `client(c)` (called on its own thread, so
/// it can open its own connection), and calls it with each global operation number it draws.
/// The operation answers whether the server accepted it; an `Err` panics, because a
/// benchmark that loses requests has no figure to report. `progress` counts completed ops.
pub fn run<C, F>(plan: Plan, progress: &Arc<AtomicUsize>, client: C) -> LoadFigures
where
    C: Fn(usize) -> F + Send + Sync + 'static,
    F: FnMut(usize) -> Result<bool, String>,
{
    let next = Arc::new(AtomicUsize::new(0));
    let client = Arc::new(client);
    let start = Instant::now();
    let deadline = plan.max_time.map(|t| start + t);
    let threads: Vec<_> = (0..plan.clients)
        .map(|c| {
            let (next, client, progress) = (next.clone(), client.clone(), progress.clone());
            std::thread::spawn(move || {
                let mut op = client(c);
                let mut lat = Vec::new();
                let mut ok = 0;
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    if i >= plan.ops || deadline.is_some_and(|d| Instant::now() >= d) {
                        break;
                    }
                    let t = Instant::now();
                    match op(i) {
                        Ok(accepted) => ok += usize::from(accepted),
                        Err(e) => panic!("request failed: {e}"),
                    }
                    lat.push(t.elapsed());
                    progress.fetch_add(1, Ordering::Relaxed);
                }
                (lat, ok)
            })
        })
        .collect();
    let mut lat = Vec::new();
    let mut ok = 0;
    for t in threads {
        let (l, o) = t.join().expect("client thread");
        lat.extend(l);
        ok += o;
    }
    figures(lat, ok, start.elapsed())
}

fn figures(mut lat: Vec<Duration>, ok: usize, elapsed: Duration) -> LoadFigures {
    assert!(!lat.is_empty(), "a load completed no operation");
    lat.sort();
    let pct = |p: f64| {
        let i = ((lat.len() as f64 * p).ceil() as usize).clamp(1, lat.len()) - 1;
        lat[i].as_secs_f64() * 1000.0
    };
    let seconds = elapsed.as_secs_f64();
    LoadFigures {
        ops: lat.len(),
        ok,
        seconds,
        writes_per_sec: lat.len() as f64 / seconds,
        ok_per_sec: ok as f64 / seconds,
        p50_ms: pct(0.50),
        p99_ms: pct(0.99),
        p999_ms: pct(0.999),
        max_ms: pct(1.0),
    }
}

/// One PUT of a form body; `Ok(true)` on 2xx, `Ok(false)` on another status (a refused
/// swap), `Err` when no answer came.
pub fn put_form(
    agent: &ureq::Agent,
    url: &str,
    body: &str,
    auth: Option<&str>,
) -> Result<bool, String> {
    let mut req = agent
        .put(url)
        .set("Content-Type", "application/x-www-form-urlencoded");
    if let Some(a) = auth {
        req = req.set("Authorization", a);
    }
    match req.send_string(body) {
        Ok(r) => {
            r.into_string().ok();
            Ok(true)
        }
        Err(ureq::Error::Status(_, r)) => {
            r.into_string().ok();
            Ok(false)
        }
        Err(e) => Err(format!("PUT {url}: {e}")),
    }
}

/// `clients` threads share `requests` writes of `value_size`-byte values: client `c` PUTs
/// `<bases[c % bases.len()]>/c<c>/k<i>` with a form body, on an agent from `agent`. A failed
/// or refused write panics: a benchmark that loses writes has no figure to report.
pub fn write_load(
    bases: &[String],
    clients: usize,
    requests: usize,
    value_size: usize,
    agent: impl Fn() -> ureq::Agent + Send + Sync + 'static,
) -> LoadFigures {
    let plan = Plan {
        clients,
        ops: requests,
        max_time: None,
    };
    write_plan(bases, plan, value_size, None, &Arc::default(), agent)
}

/// [`write_load`] with a [`Plan`], credentials (`Authorization` header) and a progress count.
/// With credentials a refused or failed write is counted (`ok` < `ops`) instead of panicking.
pub fn write_plan(
    bases: &[String],
    plan: Plan,
    value_size: usize,
    auth: Option<&'static str>,
    progress: &Arc<AtomicUsize>,
    agent: impl Fn() -> ureq::Agent + Send + Sync + 'static,
) -> LoadFigures {
    let body = Arc::new(format!("value={}", "v".repeat(value_size)));
    let bases = Arc::new(bases.to_vec());
    run(plan, progress, move |c| {
        let (agent, body) = (agent(), body.clone());
        let base = bases[c % bases.len()].clone();
        move |i| {
            let url = format!("{base}/c{c}/k{i}");
            judge_write(put_form(&agent, &url, &body, auth), auth.is_some(), &url)
        }
    })
}

/// Where a write load goes: over plain HTTP to a loopback port through the lean client
/// ([`crate::rawhttp::RawHttp`]), or through ureq (HTTPS, or any URL).
#[derive(Clone)]
pub enum Target {
    /// `127.0.0.1:<port>`, keys under `<prefix>` (a path such as `/v2/keys/bench`).
    Raw {
        /// The client port.
        port: u16,
        /// The path keys go under.
        prefix: String,
    },
    /// Keys under `base` (a whole URL), on an agent from `agent`.
    Agent {
        /// The URL keys go under.
        base: String,
        /// Makes each client's agent.
        agent: Arc<dyn Fn() -> ureq::Agent + Send + Sync>,
    },
}

/// [`write_plan`] on a [`Target`]: client `c` PUTs `<prefix>/c<c>/k<i>`.
pub fn write_target(
    target: Target,
    plan: Plan,
    value_size: usize,
    auth: Option<&'static str>,
    progress: &Arc<AtomicUsize>,
) -> LoadFigures {
    let (port, prefix) = match target {
        Target::Agent { base, agent } => {
            return write_plan(&[base], plan, value_size, auth, progress, move || agent())
        }
        Target::Raw { port, prefix } => (port, prefix),
    };
    let body = Arc::new(format!("value={}", "v".repeat(value_size)));
    run(plan, progress, move |c| {
        let mut conn = crate::rawhttp::RawHttp::connect(port);
        let (prefix, body) = (prefix.clone(), body.clone());
        let mut path = String::new();
        move |i| {
            let conn = conn.as_mut().map_err(|e| e.clone())?;
            path.clear();
            std::fmt::Write::write_fmt(&mut path, format_args!("{prefix}/c{c}/k{i}"))
                .expect("writing into memory");
            let accepted = conn.put_form(&path, &body, auth).map(is_success);
            judge_write(accepted, auth.is_some(), &path)
        }
    })
}

/// Whether an HTTP status is a 2xx.
pub fn is_success(status: u16) -> bool {
    (200..300).contains(&status)
}

/// What a write load makes of one write's outcome (accepted or not, or no answer): without
/// credentials anything but an accepted write breaks the benchmark; with them, etcd 3.4 runs
/// bcrypt per request and, with the cores busy, times some requests out, which are counted
/// as refused instead.
fn judge_write(outcome: Result<bool, String>, with_auth: bool, what: &str) -> Result<bool, String> {
    match (outcome, with_auth) {
        (Ok(true), _) => Ok(true),
        (_, true) => Ok(false),
        (Ok(false), false) => Err(format!("write {what} refused")),
        (Err(e), false) => Err(e),
    }
}

/// The median of a non-empty list (the mean of the middle two of an even count: with the
/// suite's two rounds, their mean).
pub fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.partial_cmp(b).expect("no NaN"));
    let n = v.len();
    if n.is_multiple_of(2) {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    } else {
        v[n / 2]
    }
}

/// A response body parsed as JSON (`None` when it is not JSON).
pub fn json_body(r: ureq::Response) -> Option<serde_json::Value> {
    serde_json::from_str(&r.into_string().ok()?).ok()
}

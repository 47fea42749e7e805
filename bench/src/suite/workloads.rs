//! The load benchmarks: writes of new keys (plain, HTTPS, with auth), GETs in each read
//! mode, and compare-and-swap on one key. Load goes to the leader, each client on its own
//! keep-alive connection; CPU is sampled around each load.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use super::floor;
use super::servers::{Deployment, Server, Setup};
use super::{fresh, ops, Measurement, Recorder, Settings};
use crate::auth;
use crate::load::{self, put_form, LoadFigures, Plan};
use crate::procfs::Sample;
use crate::rawhttp::RawHttp;

/// Long enough for an authenticated request to etcd 3.4 (bcrypt on each, queued).
const TIMEOUT: Duration = Duration::from_secs(120);

/// The write plan: `--writes` at `conns`, capped at `--max-seconds`.
fn write_plan_for(s: &Settings, conns: usize) -> Plan {
    Plan {
        clients: conns,
        ops: s.writes,
        max_time: Some(Duration::from_secs_f64(s.max_seconds)),
    }
}

/// Writes at `conns` on `d` (credentials `auth`), with the CPU it cost.
fn write_on(
    s: &Settings,
    d: &Deployment,
    conns: usize,
    auth: Option<&'static str>,
    rec: &Recorder,
) -> (LoadFigures, crate::procfs::CpuUse) {
    let target = d.write_target("/bench", TIMEOUT);
    let cpu = Sample::now(&d.pids());
    let f = load::write_target(
        target,
        write_plan_for(s, conns),
        s.value_size,
        auth,
        &ops(rec),
    );
    (f, cpu.since())
}

/// Measurement of a write load, with how many snapshots it crossed.
fn write_measurement(
    name: &str,
    setup: &Setup,
    round: usize,
    (f, cpu): (LoadFigures, crate::procfs::CpuUse),
) -> Measurement {
    let mut m = Measurement::new(name, setup, round)
        .with_load("writes/s", &f)
        .with("writes", f.ops as f64)
        .with("refused", (f.ops - f.ok) as f64);
    if let Some(n) = setup.snapshot_count {
        m = m.with("snapshots crossed", (f.ops as u64 / n) as f64);
    }
    m.cpu = Some(cpu);
    m
}

/// The leader's ReadIndex rounds and readers so far, from its `/metrics` (ours only: etcd
/// 3.4 has no such counters).
fn read_rounds(port: u16) -> Option<(f64, f64)> {
    let mut conn = RawHttp::connect(port).ok()?;
    if conn.get("/metrics").ok()? != 200 {
        return None;
    }
    let text = String::from_utf8_lossy(conn.body()).into_owned();
    let counter = |name: &str| {
        text.lines()
            .find_map(|l| l.strip_prefix(name)?.trim().parse::<f64>().ok())
    };
    Some((
        counter("etcd_server_read_index_rounds_total ")?,
        counter("etcd_server_read_index_readers_total ")?,
    ))
}

/// Writes of new keys at every `--conns`, each on a fresh deployment.
pub fn writes(s: &Settings, setup: &Setup, round: usize, rec: &mut Recorder) {
    for &conns in &s.conns {
        let name = format!("writes, {conns} conns");
        rec.progress.start(&name);
        let Some(d) = fresh(setup, rec) else { return };
        let f = write_on(s, &d, conns, None, rec);
        let mut m = write_measurement(&name, setup, round, f);
        if conns == 1 {
            m = with_floor(m, &d);
        }
        rec.record(m);
    }
}

/// Tries of each part of the floor.
const FLOOR_TRIES: usize = 300;

/// The one-connection write's floor (see `super::floor`) beside its p50: one fsync on the
/// leader's file system, plus, on several members, one round trip to a follower's peer port.
fn with_floor(m: Measurement, d: &Deployment) -> Measurement {
    let procs = d.processes();
    let dir = procs[d.leader].data_dir.parent().map(|p| p.to_path_buf());
    let fsync = dir
        .ok_or_else(|| "no data dir".to_string())
        .and_then(|dir| floor::fsync_p50_ms(&dir, FLOOR_TRIES));
    let round_trip = match (0..procs.len()).find(|i| *i != d.leader) {
        Some(f) => floor::peer_round_trip_p50_ms(procs[f].peer_port, FLOOR_TRIES),
        None => Ok(0.0),
    };
    match (fsync, round_trip) {
        (Ok(fsync), Ok(rtt)) => {
            let p50 = m.metric("p50 ms").unwrap_or(f64::NAN);
            m.with("fsync p50 ms", fsync)
                .with("peer round trip p50 ms", rtt)
                .with("p50 above fsync + round trip ms", p50 - fsync - rtt)
        }
        (Err(e), _) | (_, Err(e)) => {
            eprintln!("the write floor was not measured: {e}");
            m
        }
    }
}

/// Writes at 64 connections over HTTPS (`setup.https` set).
pub fn tls_writes(s: &Settings, setup: &Setup, round: usize, rec: &mut Recorder) {
    let name = "writes, 64 conns, HTTPS";
    rec.progress.start(name);
    let Some(d) = fresh(setup, rec) else { return };
    let f = write_on(s, &d, 64, None, rec);
    rec.record(write_measurement(name, setup, round, f));
}

/// Writes at 64 connections with auth on, each request carrying a writer's credentials.
/// etcd 3.4 runs bcrypt on every authenticated request, so its figure comes from however many
/// writes fit in `--max-seconds`.
pub fn auth_writes(s: &Settings, setup: &Setup, round: usize, rec: &mut Recorder) {
    let name = "writes, 64 conns, auth on";
    rec.progress.start(name);
    let Some(d) = fresh(setup, rec) else { return };
    auth::enable(&d.bases[d.leader]);
    // Ours checks a credential once and remembers it; one write first, so the figure is that
    // steady state rather than 64 first requests all checking it at once.
    let warm = put_form(
        &d.agent(TIMEOUT),
        &format!("{}/warm", d.leader_keys()),
        "value=w",
        Some(auth::BOB),
    );
    assert_eq!(warm, Ok(true), "an authenticated write");
    let f = write_on(s, &d, 64, Some(auth::BOB), rec);
    rec.record(write_measurement(name, setup, round, f));
}

/// Writes `n` keys `<prefix>/k<i>` of `--value-size` bytes through 64 connections.
fn seed(s: &Settings, d: &Deployment, prefix: &str, n: usize) {
    let body = format!("value={}", "v".repeat(s.value_size));
    let tls = d.tls.clone();
    let base = format!("{}{prefix}", d.leader_keys());
    let plan = Plan {
        clients: 64.min(n),
        ops: n,
        max_time: None,
    };
    load::run(plan, &Default::default(), move |_| {
        let (agent, body, base) = (crate::tls::agent(&tls, TIMEOUT), body.clone(), base.clone());
        move |i| put_form(&agent, &format!("{base}/k{i}"), &body, None)
    });
}

/// What a read measurement is called and on what it runs.
struct ReadCase<'a> {
    name: &'a str,
    setup: &'a Setup,
    round: usize,
}

/// GETs of the seeded keys, round robin, `query` appended (`""` or `"?quorum=true"`).
fn read_load(
    s: &Settings,
    d: &Deployment,
    case: ReadCase,
    query: &'static str,
    rec: &Recorder,
) -> Measurement {
    rec.progress.start(case.name);
    let (port, n) = (d.processes()[d.leader].client_port, s.read_keys);
    let rounds_before = read_rounds(port);
    let cpu = Sample::now(&d.pids());
    let f = load::run(s.timed(s.read_conns), &ops(rec), move |_| {
        let mut conn = RawHttp::connect(port);
        move |i| {
            let conn = conn.as_mut().map_err(|e| e.clone())?;
            match conn.get(&format!("/v2/keys/read/k{}{query}", i % n))? {
                200 => Ok(true),
                status => Err(format!("GET /v2/keys/read/k{}: {status}", i % n)),
            }
        }
    });
    let cpu = cpu.since();
    let mut m = Measurement::new(case.name, case.setup, case.round)
        .with_load("reads/s", &f)
        // Whether the load generator could have been the bottleneck: the cores it used.
        .with("load gen cores", cpu.generator_s / cpu.wall_s)
        .with("server cores", cpu.server_s / cpu.wall_s);
    m.cpu = Some(cpu);
    // Ours only: how many readers shared each ReadIndex round on the leader.
    if let (Some((r0, n0)), Some((r1, n1))) = (rounds_before, read_rounds(port)) {
        if r1 > r0 {
            m = m.with("readers per round", (n1 - n0) / (r1 - r0));
        }
    }
    m
}

/// GETs at `--read-conns` (over plain HTTP, through the lean client of [`RawHttp`]): default and `quorum=true` on ours (linearizable both) and etcd 3.4
/// (default stale), and default GETs on ours with `-local-reads` (stale, as etcd's), the
/// last compared with etcd's default GETs.
pub fn reads(s: &Settings, setup: &Setup, round: usize, rec: &mut Recorder) {
    let default_name = format!("GET, {} conns, default", s.read_conns);
    let quorum_name = format!("GET, {} conns, quorum=true", s.read_conns);
    let local_name = format!(
        "GET, {} conns, stale: ours -local-reads vs etcd default",
        s.read_conns
    );
    let case = |name| ReadCase { name, setup, round };
    let Some(d) = fresh(setup, rec) else { return };
    seed(s, &d, "/read", s.read_keys);
    let m = read_load(s, &d, case(&default_name), "", rec);
    if setup.server == Server::Etcd {
        // etcd's default read is its stale one: the counterpart of ours with -local-reads.
        let copy = Measurement {
            bench: local_name.clone(),
            ..m.clone()
        };
        rec.progress.log(&copy.line());
        rec.out.push(copy);
    }
    rec.record(m);
    let m = read_load(s, &d, case(&quorum_name), "?quorum=true", rec);
    rec.record(m);
    drop(d);
    if setup.server == Server::Ours {
        let local = Setup {
            server: Server::OursLocalReads,
            ..setup.clone()
        };
        let Some(d) = fresh(&local, rec) else { return };
        seed(s, &d, "/read", s.read_keys);
        let case = ReadCase {
            name: &local_name,
            setup: &local,
            round,
        };
        let m = read_load(s, &d, case, "", rec);
        rec.record(m);
    }
}

/// The `modifiedIndex` of `url`'s node.
fn modified_index(agent: &ureq::Agent, url: &str) -> Result<u64, String> {
    let r = agent
        .get(url)
        .call()
        .map_err(|e| format!("GET {url}: {e}"))?;
    let v = load::json_body(r).ok_or_else(|| format!("GET {url}: not JSON"))?;
    index_in(&v, url)
}

/// The `modifiedIndex` of the node in a GET's answer `v` (of `url`).
fn index_in(v: &serde_json::Value, url: &str) -> Result<u64, String> {
    v["node"]["modifiedIndex"]
        .as_u64()
        .ok_or_else(|| format!("GET {url}: no modifiedIndex in {v}"))
}

/// One CAS client: the lean client over plain HTTP, ureq over HTTPS.
enum Swapper {
    Raw(Result<RawHttp, String>),
    Agent(ureq::Agent, String),
}

/// Where the swapped key is, on the lean client.
const CAS_PATH: &str = "/v2/keys/cas";

/// Microseconds the CAS clients spent in each half of their attempts, and how many.
#[derive(Default)]
struct CasHalves {
    get_us: AtomicU64,
    gets: AtomicU64,
    put_us: AtomicU64,
    puts: AtomicU64,
}

impl CasHalves {
    fn add(total: &AtomicU64, count: &AtomicU64, since: Instant) {
        total.fetch_add(since.elapsed().as_micros() as u64, Ordering::Relaxed);
        count.fetch_add(1, Ordering::Relaxed);
    }

    /// Mean milliseconds of `total` over `count`.
    fn mean_ms(total: &AtomicU64, count: &AtomicU64) -> f64 {
        let n = count.load(Ordering::Relaxed).max(1);
        total.load(Ordering::Relaxed) as f64 / n as f64 / 1000.0
    }
}

impl Swapper {
    /// Reads the key's `modifiedIndex`, then PUTs `body` with `?prevIndex=` it: whether the
    /// swap won. The time of each half goes to `halves`.
    fn swap(&mut self, body: &str, halves: &CasHalves) -> Result<bool, String> {
        let started = Instant::now();
        let (index, conn) = match self {
            Swapper::Agent(agent, url) => {
                let index = modified_index(agent, url)?;
                CasHalves::add(&halves.get_us, &halves.gets, started);
                let put = Instant::now();
                let won = put_form(agent, &format!("{url}?prevIndex={index}"), body, None);
                CasHalves::add(&halves.put_us, &halves.puts, put);
                return won;
            }
            Swapper::Raw(conn) => {
                let conn = conn.as_mut().map_err(|e| e.clone())?;
                match conn.get(CAS_PATH)? {
                    200 => {}
                    status => return Err(format!("GET {CAS_PATH}: {status}")),
                }
                let v: serde_json::Value = serde_json::from_slice(conn.body())
                    .map_err(|e| format!("GET {CAS_PATH}: not JSON: {e}"))?;
                (index_in(&v, CAS_PATH)?, conn)
            }
        };
        CasHalves::add(&halves.get_us, &halves.gets, started);
        let put = Instant::now();
        let target = format!("{CAS_PATH}?prevIndex={index}");
        let won = conn.put_form(&target, body, None).map(load::is_success);
        CasHalves::add(&halves.put_us, &halves.puts, put);
        won
    }
}

/// `--cas-clients` clients swapping one key: each reads it, then PUTs `?prevIndex=` the index
/// it read; a 2xx is a successful swap, a 412 lost the race.
pub fn cas(s: &Settings, setup: &Setup, round: usize, rec: &mut Recorder) {
    let name = format!("CAS one key, {} clients", s.cas_clients);
    rec.progress.start(&name);
    let Some(d) = fresh(setup, rec) else { return };
    let url = format!("{}/cas", d.leader_keys());
    put_form(&d.agent(TIMEOUT), &url, "value=0", None).expect("seed the swapped key");
    let cpu = Sample::now(&d.pids());
    let tls = d.tls.clone();
    let port = d.processes()[d.leader].client_port;
    let halves = Arc::new(CasHalves::default());
    let theirs = halves.clone();
    let f = load::run(s.timed(s.cas_clients), &ops(rec), move |c| {
        let mut swapper = match &tls {
            None => Swapper::Raw(RawHttp::connect(port)),
            Some(_) => Swapper::Agent(crate::tls::agent(&tls, TIMEOUT), url.clone()),
        };
        let halves = theirs.clone();
        move |i| swapper.swap(&format!("value={c}-{i}"), &halves)
    });
    let mut m = Measurement::new(&name, setup, round)
        .with("swaps/s", f.ok_per_sec)
        .with("attempts/s", f.writes_per_sec)
        .with("attempt p50 ms", f.p50_ms)
        .with("attempt p99 ms", f.p99_ms)
        .with(
            "GET mean ms",
            CasHalves::mean_ms(&halves.get_us, &halves.gets),
        )
        .with(
            "PUT mean ms",
            CasHalves::mean_ms(&halves.put_us, &halves.puts),
        );
    m.cpu = Some(cpu.since());
    rec.record(m);
}

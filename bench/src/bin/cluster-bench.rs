//! Three-member cluster benchmark, ours against etcd 3.4 in the same run: concurrent writes
//! spread over every member (fsync on), and the time from a leader's `kill -9` to the next
//! acknowledged write.
//!
//! `./build && cargo run --release -p etcd-bench-tools --bin cluster-bench -- --clients 64
//! --requests 10000 --kills 10`

use std::time::{Duration, Instant};

use clap::Parser;
use etcd_bench_tools::load::{median, write_load};
use etcd_integration::cluster::Cluster;
use etcd_integration::{get, EtcdProcess};

/// Our etcd against etcd 3.4 as clusters: writes spread over every member, then leader kills.
#[derive(Debug, Parser)]
struct Args {
    /// Concurrent clients, spread over the members.
    #[arg(long, default_value_t = 64)]
    clients: usize,
    /// Writes, shared by the clients (0 skips the write load).
    #[arg(long, default_value_t = 10_000)]
    requests: usize,
    /// Leader kills; the table shows the median time to the next acknowledged write.
    #[arg(long, default_value_t = 10)]
    kills: usize,
    /// Members per cluster.
    #[arg(long, default_value_t = 3)]
    members: usize,
}

/// Writes/s, p50 and p99 in ms, with clients spread over every member.
fn load(members: &[EtcdProcess], clients: usize, requests: usize) -> (f64, f64, f64) {
    let bases: Vec<String> = members.iter().map(|m| m.keys("/bench")).collect();
    let f = write_load(&bases, clients, requests, 256, || {
        ureq::AgentBuilder::new()
            .timeout(Duration::from_secs(30))
            .build()
    });
    (f.writes_per_sec, f.p50_ms, f.p99_ms)
}

fn leader_of(members: &[EtcdProcess]) -> Option<usize> {
    (0..members.len()).find(|i| {
        members[*i].pid().is_some()
            && get(&members[*i].url("/v2/stats/self"))
                .map(|r| r.status == 200 && r.json()["state"] == "StateLeader")
                .unwrap_or(false)
    })
}

/// Kills the leader and times until a write through a survivor is acknowledged; `kills` times.
/// The client gives each attempt 500 ms and retries, so the figure is when the cluster writes
/// again, not how long a server holds a request that was stuck with the dead leader.
fn failover_ms(members: &mut [EtcdProcess], kills: usize) -> Vec<f64> {
    let agent = ureq::AgentBuilder::new()
        .timeout(Duration::from_millis(500))
        .build();
    let mut out = Vec::new();
    for k in 0..kills {
        let deadline = Instant::now() + Duration::from_secs(60);
        let leader = loop {
            if let Some(l) = leader_of(members) {
                break l;
            }
            assert!(Instant::now() < deadline, "no leader");
            std::thread::sleep(Duration::from_millis(20));
        };
        members[leader].kill9();
        let t = Instant::now();
        let survivors: Vec<usize> = (0..members.len()).filter(|i| *i != leader).collect();
        let mut n = 0;
        loop {
            let m = &members[survivors[n % survivors.len()]];
            n += 1;
            let ok = agent
                .put(&m.keys(&format!("/failover/{k}")))
                .set("Content-Type", "application/x-www-form-urlencoded")
                .send_string("value=x")
                .map(|r| r.status() == 201 || r.status() == 200)
                .unwrap_or(false);
            if ok {
                break;
            }
            assert!(
                t.elapsed() < Duration::from_secs(60),
                "no write after a leader kill"
            );
            std::thread::sleep(Duration::from_millis(5));
        }
        out.push(t.elapsed().as_secs_f64() * 1e3);
        members[leader].restart_unready();
        members[leader].wait_ready();
    }
    out
}

fn main() {
    let args = Args::parse();
    let mut ours = Cluster::start(args.members, &[]);
    let (ow, o50, o99) = if args.requests > 0 {
        load(&ours.members, args.clients, args.requests)
    } else {
        (f64::NAN, f64::NAN, f64::NAN)
    };
    eprintln!("ours: {ow:.0} writes/s, p50 {o50:.2} ms, p99 {o99:.2} ms");
    let reference = EtcdProcess::start_reference_cluster(args.members);
    let theirs = reference
        .as_ref()
        .filter(|_| args.requests > 0)
        .map(|r| load(r, args.clients, args.requests));
    if let Some((rw, r50, r99)) = theirs {
        eprintln!("etcd 3.4: {rw:.0} writes/s, p50 {r50:.2} ms, p99 {r99:.2} ms");
    }
    let of = failover_ms(&mut ours.members, args.kills);
    eprintln!("ours failover ms: {of:?}");
    let rf = reference.map(|mut r| failover_ms(&mut r, args.kills));
    if let Some(rf) = &rf {
        eprintln!("etcd 3.4 failover ms: {rf:?}");
    }
    println!(
        "| metric ({} members, {} clients, 256-byte values, {} writes) | ours | etcd 3.4 | ours / etcd |",
        args.members, args.clients, args.requests
    );
    println!("|---|---|---|---|");
    let row = |name: &str, o: f64, r: Option<f64>, digits: usize| match r {
        Some(r) => println!("| {name} | {o:.digits$} | {r:.digits$} | {:.2} |", o / r),
        None => println!("| {name} | {o:.digits$} | n/a | n/a |"),
    };
    row("writes/s", ow, theirs.map(|t| t.0), 0);
    row("p50 latency (ms)", o50, theirs.map(|t| t.1), 2);
    row("p99 latency (ms)", o99, theirs.map(|t| t.2), 2);
    row(
        &format!(
            "leader kill to next acknowledged write, median of {} (ms)",
            args.kills
        ),
        median(of),
        rf.map(median),
        0,
    );
}

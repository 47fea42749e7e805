//! A member that restarts (or joins) must not answer reads from a store that has not caught up:
//! every GET of an acknowledged key answers its value or a JSON error (300, "catching up"),
//! never 404, and `/health` is not true before the store has caught up. Real processes,
//! `kill -9`, and reads fired as soon as `/version` answers.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use etcd_integration::cluster::Cluster;
use etcd_integration::{get, EtcdProcess, Options};

/// Generous upper bound for anything the tests wait for (not a timing assertion).
const DEADLINE: Duration = Duration::from_secs(90);

/// One acknowledged write: key, value, modifiedIndex.
#[derive(Debug, Clone)]
struct Acked {
    key: String,
    value: String,
    index: u64,
}

fn agent() -> ureq::Agent {
    ureq::AgentBuilder::new()
        .timeout_connect(Duration::from_secs(5))
        .timeout(Duration::from_secs(30))
        .build()
}

/// `writers` threads PUT distinct keys on the base URLs (round robin) until `stop` is set, each
/// at most `per_writer` keys; returns what was acknowledged.
struct Load {
    stop: Arc<AtomicBool>,
    acked: Arc<Mutex<Vec<Acked>>>,
    threads: Vec<std::thread::JoinHandle<()>>,
}

impl Load {
    fn start(bases: Vec<String>, writers: usize, per_writer: usize, tag: &str) -> Load {
        let stop = Arc::new(AtomicBool::new(false));
        let acked = Arc::new(Mutex::new(Vec::new()));
        let threads = (0..writers)
            .map(|w| {
                let (stop, acked) = (stop.clone(), acked.clone());
                let base = bases[w % bases.len()].clone();
                let tag = tag.to_string();
                std::thread::spawn(move || {
                    let agent = agent();
                    for i in 0..per_writer {
                        if stop.load(Ordering::Relaxed) {
                            break;
                        }
                        let key = format!("/load/{tag}/w{w}/k{i}");
                        let value = format!("v{w}-{i}");
                        let res = agent
                            .put(&format!("{base}/v2/keys{key}"))
                            .set("Content-Type", "application/x-www-form-urlencoded")
                            .send_string(&format!("value={value}"));
                        // Writes to a member that is being killed fail: only acknowledged
                        // ones count.
                        if let Ok(r) = res {
                            let body = r.into_string().unwrap_or_default();
                            let Ok(v) = serde_json::from_str::<serde_json::Value>(&body) else {
                                continue;
                            };
                            let index = v["node"]["modifiedIndex"].as_u64().unwrap_or(0);
                            assert!(index > 0, "acknowledged write without an index: {v}");
                            acked.lock().unwrap().push(Acked { key, value, index });
                        } else {
                            std::thread::sleep(Duration::from_millis(20));
                        }
                    }
                })
            })
            .collect();
        Load {
            stop,
            acked,
            threads,
        }
    }

    fn count(&self) -> usize {
        self.acked.lock().unwrap().len()
    }

    /// Runs until `n` writes are acknowledged or `max` passes.
    fn run_until(&self, n: usize, max: Duration) {
        let until = Instant::now() + max;
        while self.count() < n && Instant::now() < until {
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    fn snapshot(&self) -> Vec<Acked> {
        self.acked.lock().unwrap().clone()
    }

    fn finish(self) -> Vec<Acked> {
        self.stop.store(true, Ordering::Relaxed);
        for t in self.threads {
            t.join().expect("writer thread");
        }
        Arc::try_unwrap(self.acked).unwrap().into_inner().unwrap()
    }
}

/// Polls `/version` in a tight loop until it answers (the earliest moment a client can talk).
fn wait_for_version(p: &EtcdProcess) {
    let until = Instant::now() + DEADLINE;
    let agent = ureq::AgentBuilder::new()
        .timeout_connect(Duration::from_millis(200))
        .build();
    loop {
        if let Ok(r) = agent.get(&p.url("/version")).call() {
            if r.status() == 200 {
                return;
            }
        }
        assert!(Instant::now() < until, "/version never answered");
        std::thread::sleep(Duration::from_millis(1));
    }
}

/// What reading one key answered.
enum Answer {
    Right,
    /// A JSON error other than 100 (the member is not ready yet): read again later.
    NotYet,
}

/// GETs `a.key` on `base`; panics on a 404, an index 0, or a wrong value.
fn check_key(agent: &ureq::Agent, base: &str, a: &Acked, what: &str) -> Answer {
    let url = format!("{base}/v2/keys{}", a.key);
    let (status, header, body) = match agent.get(&url).call() {
        Ok(r) => {
            let h = r.header("x-etcd-index").map(str::to_string);
            (r.status(), h, r.into_string().unwrap_or_default())
        }
        Err(ureq::Error::Status(s, r)) => {
            let h = r.header("x-etcd-index").map(str::to_string);
            (s, h, r.into_string().unwrap_or_default())
        }
        Err(e) => panic!("{what}: GET {url}: {e}"),
    };
    let v: serde_json::Value = serde_json::from_str(&body).unwrap_or_else(|e| {
        panic!(
            "{what}: GET {} answered {status} non-JSON ({e}): {body:?}",
            a.key
        )
    });
    if status == 200 {
        assert_eq!(
            v["node"]["value"].as_str(),
            Some(a.value.as_str()),
            "{what}: GET {} gave a wrong value: {v}",
            a.key
        );
        // Later writes on other members may change nothing about these keys: each is written
        // once, so its modifiedIndex is the acknowledged one.
        assert_eq!(
            v["node"]["modifiedIndex"].as_u64(),
            Some(a.index),
            "{what}: GET {} gave a wrong index: {v}",
            a.key
        );
        assert_ne!(
            header.as_deref(),
            Some("0"),
            "{what}: X-Etcd-Index 0 on 200"
        );
        return Answer::Right;
    }
    let code = v["errorCode"].as_u64();
    assert!(
        code.is_some() && code != Some(100) && v["index"].is_u64(),
        "{what}: GET {} of an acknowledged key answered {status} {body} (X-Etcd-Index {header:?})",
        a.key
    );
    Answer::NotYet
}

/// Reads every acknowledged key on `base` from `threads` readers, newest first (the ones a
/// lagging store lacks), until each answered right once; every answer is checked.
fn read_all(base: &str, acked: &[Acked], threads: usize, what: &str) -> usize {
    let acked: Arc<Vec<Acked>> = Arc::new(acked.iter().rev().cloned().collect());
    let not_yet = Arc::new(AtomicUsize::new(0));
    let workers: Vec<_> = (0..threads)
        .map(|t| {
            let (acked, not_yet) = (acked.clone(), not_yet.clone());
            let base = base.to_string();
            let what = what.to_string();
            std::thread::spawn(move || {
                let agent = agent();
                let until = Instant::now() + DEADLINE;
                for a in acked.iter().skip(t).step_by(threads) {
                    while let Answer::NotYet = check_key(&agent, &base, a, &what) {
                        not_yet.fetch_add(1, Ordering::Relaxed);
                        assert!(Instant::now() < until, "{what}: {} never readable", a.key);
                        std::thread::sleep(Duration::from_millis(10));
                    }
                }
            })
        })
        .collect();
    for w in workers {
        w.join().expect("reader thread");
    }
    not_yet.load(Ordering::Relaxed)
}

/// Watches `/health` from the moment the process answers: each time it says true, the store
/// must already hold the newest acknowledged key. Returns whether health was ever seen true.
fn watch_health(
    base: String,
    newest: Acked,
    stop: Arc<AtomicBool>,
) -> std::thread::JoinHandle<bool> {
    std::thread::spawn(move || {
        let agent = agent();
        let until = Instant::now() + DEADLINE;
        let mut seen = false;
        while !stop.load(Ordering::Relaxed) && Instant::now() < until {
            let healthy = match agent.get(&format!("{base}/health")).call() {
                Ok(r) => r.into_string().unwrap_or_default().contains("true"),
                Err(_) => false,
            };
            if healthy {
                seen = true;
                // Ask as a local (serializable) read, the one a lagging store gets wrong.
                if let Answer::NotYet = check_key(&agent, &base, &newest, "after /health true") {
                    panic!("/health said true while GET {} still failed", newest.key);
                }
            }
            std::thread::sleep(Duration::from_millis(2));
        }
        seen
    })
}

fn single_member_restart(snapshot_count: Option<&str>) {
    let mut extra = Vec::new();
    if let Some(n) = snapshot_count {
        extra = vec!["-snapshot-count".to_string(), n.to_string()];
    }
    let mut p = EtcdProcess::start_with(Options {
        extra,
        ..Options::default()
    });
    let load = Load::start(vec![p.client_url()], 8, 2000, "single");
    load.run_until(4000, Duration::from_secs(8));
    // Kill while the writers are still writing: the newest writes sit in the log tail.
    p.kill9();
    let acked = load.finish();
    assert!(
        acked.len() > 500,
        "too few writes acknowledged: {}",
        acked.len()
    );

    p.restart_unready();
    wait_for_version(&p);
    let stop = Arc::new(AtomicBool::new(false));
    let newest = acked.iter().max_by_key(|a| a.index).unwrap().clone();
    let health = watch_health(p.client_url(), newest, stop.clone());
    read_all(&p.client_url(), &acked, 4, "restarted single member");
    p.wait_ready();
    stop.store(true, Ordering::Relaxed);
    assert!(
        health.join().expect("health thread"),
        "/health never said true"
    );
    // Nothing acknowledged was lost either.
    let root = get(&p.keys("/load/single?recursive=true")).unwrap();
    assert_eq!(root.status, 200);
    assert!(root.etcd_index() >= acked.iter().map(|a| a.index).max().unwrap());
}

/// The reproduction of issue 11 item 1, with the default snapshot count (the store comes back
/// by replaying the log).
#[test]
fn restarted_member_never_answers_from_an_empty_store() {
    single_member_restart(None);
}

/// The same with a small snapshot count: the store comes back from a snapshot plus a log tail.
#[test]
fn restarted_member_from_a_snapshot_never_answers_from_an_empty_store() {
    single_member_restart(Some("200"));
}

/// A follower killed while writes go on elsewhere, restarted and read at once: never a 404
/// for a key acknowledged before the kill.
#[test]
fn restarted_follower_never_answers_from_an_empty_store() {
    let mut c = Cluster::start(3, &["-snapshot-count", "500"]);
    let leader = c.wait_for_leader(None);
    let follower = (0..3).find(|i| *i != leader).unwrap();
    let other = (0..3).find(|i| *i != leader && *i != follower).unwrap();
    let bases = vec![
        c.members[leader].client_url(),
        c.members[other].client_url(),
    ];
    let load = Load::start(bases, 8, 3000, "cluster");
    load.run_until(3000, Duration::from_secs(10));
    c.members[follower].kill9();
    let before_kill = load.snapshot();
    // Writes continue while the follower is down, and after it is back.
    load.run_until(before_kill.len() + 500, Duration::from_secs(5));
    c.members[follower].restart_unready();
    wait_for_version(&c.members[follower]);
    let stop = Arc::new(AtomicBool::new(false));
    let newest = before_kill.iter().max_by_key(|a| a.index).unwrap().clone();
    let health = watch_health(c.members[follower].client_url(), newest, stop.clone());
    read_all(
        &c.members[follower].client_url(),
        &before_kill,
        4,
        "restarted follower",
    );
    let all = load.finish();
    c.members[follower].wait_ready();
    stop.store(true, Ordering::Relaxed);
    assert!(
        health.join().expect("health thread"),
        "/health never said true"
    );
    // Caught up in the end with everything, including what was written while it was down.
    c.wait_converged();
    read_all(
        &c.members[follower].client_url(),
        &all,
        2,
        "converged follower",
    );
}

/// A member joining a cluster with data: no 404 for an existing key while it catches up, and
/// the others list it in `/v2/machines` only once it serves.
#[test]
fn joining_member_never_answers_from_an_empty_store() {
    let c = Cluster::start(1, &["-snapshot-count", "300"]);
    let load = Load::start(vec![c.members[0].client_url()], 8, 1000, "join");
    load.run_until(4000, Duration::from_secs(10));
    let acked = load.finish();
    let mut joiner = EtcdProcess::start_unready(Options {
        name: "machine2".into(),
        extra: vec![
            "-snapshot-count".into(),
            "300".into(),
            "-peers".into(),
            format!("127.0.0.1:{}", c.members[0].peer_port),
        ],
        ..Options::default()
    });
    let joiner_url = joiner.client_url();
    // The other member's list: once it names the joiner, the joiner must serve every key.
    let listed = Arc::new(AtomicBool::new(false));
    let lister = {
        let (listed, base, joiner_url) = (
            listed.clone(),
            c.members[0].client_url(),
            joiner_url.clone(),
        );
        let newest = acked.iter().max_by_key(|a| a.index).unwrap().clone();
        std::thread::spawn(move || {
            let agent = agent();
            let until = Instant::now() + DEADLINE;
            while Instant::now() < until {
                let machines = agent
                    .get(&format!("{base}/v2/machines"))
                    .call()
                    .ok()
                    .and_then(|r| r.into_string().ok())
                    .unwrap_or_default();
                let members = agent
                    .get(&format!("{base}/v2/members"))
                    .call()
                    .ok()
                    .and_then(|r| r.into_string().ok())
                    .unwrap_or_default();
                let in_machines = machines.contains(&joiner_url);
                let in_members = members.contains(&joiner_url);
                if in_machines || in_members {
                    if let Answer::NotYet =
                        check_key(&agent, &joiner_url, &newest, "joiner once listed")
                    {
                        panic!(
                            "the joiner is listed (machines: {in_machines}, members: \
                             {in_members}) but does not serve yet"
                        );
                    }
                    if in_machines && in_members {
                        listed.store(true, Ordering::Relaxed);
                        return;
                    }
                }
                std::thread::sleep(Duration::from_millis(2));
            }
        })
    };
    wait_for_version(&joiner);
    read_all(&joiner_url, &acked, 4, "joining member");
    joiner.wait_ready();
    lister.join().expect("lister thread");
    assert!(
        listed.load(Ordering::Relaxed),
        "the joiner was never listed"
    );
}

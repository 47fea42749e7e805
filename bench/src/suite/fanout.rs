//! Watch fan-out: `--watchers` long-poll watchers (`?wait=true`) on one key, spread over the
//! members, then one write to the leader; the figure is the time from sending the write to
//! the last watcher having read its event. Repeated `--watch-repeats` times (a long poll ends
//! with its event, so every repeat registers them all again); the table shows the median.

use std::sync::{Arc, Barrier};
use std::time::{Duration, Instant};

use super::servers::{Deployment, Setup};
use super::{fresh, Measurement, Recorder, Settings};
use crate::load::{median, put_form};

/// A watcher's thread needs little stack: one blocking HTTP request.
const WATCHER_STACK: usize = 256 * 1024;

/// Watchers registered on every member, from `/v2/stats/store` (both servers count them).
fn registered(d: &Deployment, agent: &ureq::Agent) -> u64 {
    d.bases
        .iter()
        .filter_map(|b| agent.get(&format!("{b}/v2/stats/store")).call().ok())
        .filter_map(crate::load::json_body)
        .filter_map(|v| v["watchers"].as_u64())
        .sum()
}

/// One repeat: (ms from the write to the last watcher notified, ms to the write's answer,
/// median ms to a watcher notified).
fn once(s: &Settings, d: &Deployment, repeat: usize) -> (f64, f64, f64) {
    let key = "/fanout";
    let start = Arc::new(Barrier::new(s.watchers + 1));
    let watchers: Vec<_> = (0..s.watchers)
        .map(|w| {
            let url = format!("{}/v2/keys{key}?wait=true", d.bases[w % d.bases.len()]);
            let agent = d.agent(Duration::from_secs(120));
            let start = start.clone();
            std::thread::Builder::new()
                .stack_size(WATCHER_STACK)
                .spawn(move || {
                    start.wait();
                    let body = agent
                        .get(&url)
                        .call()
                        .unwrap_or_else(|e| panic!("watch {url}: {e}"))
                        .into_string()
                        .unwrap_or_else(|e| panic!("watch {url}: {e}"));
                    assert!(body.contains("\"set\""), "watch {url} answered {body}");
                    Instant::now()
                })
                .expect("spawn a watcher")
        })
        .collect();
    start.wait();
    let agent = d.agent(Duration::from_secs(10));
    // Bounded: 60 s at 10 ms; a watcher that never registers fails the benchmark.
    let mut seen = 0;
    for _ in 0..6000 {
        seen = registered(d, &agent);
        if seen >= s.watchers as u64 {
            break;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    assert!(
        seen >= s.watchers as u64,
        "only {seen} of {} watchers registered",
        s.watchers
    );
    let url = format!("{}{key}", d.leader_keys());
    let sent = Instant::now();
    let acked = put_form(&agent, &url, &format!("value={repeat}"), None)
        .expect("the fan-out write")
        .then(|| sent.elapsed())
        .expect("the fan-out write accepted");
    let mut notified: Vec<f64> = watchers
        .into_iter()
        .map(|t| t.join().expect("watcher").duration_since(sent))
        .map(|t| t.as_secs_f64() * 1e3)
        .collect();
    notified.sort_by(|a, b| a.partial_cmp(b).expect("no NaN"));
    let last = *notified.last().expect("at least one watcher");
    (last, acked.as_secs_f64() * 1e3, median(notified))
}

/// The fan-out benchmark on a fresh deployment.
pub fn watch(s: &Settings, setup: &Setup, round: usize, rec: &mut Recorder) {
    let name = format!("watch fan-out, {} watchers", s.watchers);
    rec.progress.start(&name);
    let Some(d) = fresh(setup, rec) else { return };
    let runs: Vec<(f64, f64, f64)> = (0..s.watch_repeats).map(|r| once(s, &d, r)).collect();
    rec.record(
        Measurement::new(&name, setup, round)
            .with(
                "last notified ms",
                median(runs.iter().map(|r| r.0).collect()),
            )
            .with(
                "write answered ms",
                median(runs.iter().map(|r| r.1).collect()),
            )
            .with(
                "median notified ms",
                median(runs.iter().map(|r| r.2).collect()),
            ),
    );
}

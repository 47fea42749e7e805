//! What a loaded store costs and how fast it comes back: `n` keys of `--value-size` bytes
//! written through 64 connections, then the first member's RSS and data-dir size; then every
//! member stopped (SIGTERM) and started again, timed from the first start to the first GET,
//! on the first member, that answers the last key written with its value.

use std::time::{Duration, Instant};

use super::servers::Setup;
use super::{fresh, ops, Measurement, Recorder, Settings};
use crate::load::{put_form, write_target, Plan};

/// The key written last, whose value a restarted server must answer.
const SENTINEL: &str = "/fill/last";

/// Bytes of keys and values the fill writes: `/fill/c<c>/k<i>` and its value, counting every
/// client number as two digits (64 clients: 54 of them are).
fn raw_bytes(n: usize, value_size: usize) -> f64 {
    (0..n)
        .map(|i| "/fill/c00/k".len() + i.to_string().len() + value_size)
        .sum::<usize>() as f64
}

/// Loads `n` keys into a fresh deployment and measures memory, disk and restart.
pub fn memory(s: &Settings, setup: &Setup, n: usize, round: usize, rec: &mut Recorder) {
    let name = format!("{n} keys: memory, disk, restart");
    rec.progress.start(&name);
    let Some(mut d) = fresh(setup, rec) else {
        return;
    };
    let plan = Plan {
        clients: 64.min(n),
        ops: n,
        max_time: None,
    };
    let target = d.write_target("/fill", Duration::from_secs(120));
    let fill = write_target(target, plan, s.value_size, None, &ops(rec));
    let agent = d.agent(Duration::from_secs(5));
    let expected = format!("{n}");
    let sentinel = format!("{}{SENTINEL}", d.leader_keys());
    assert!(
        put_form(&agent, &sentinel, &format!("value={expected}"), None).expect("sentinel"),
        "sentinel write refused"
    );
    // Let the writes' garbage settle before reading RSS, as a user's idle server would.
    std::thread::sleep(Duration::from_secs(1));
    let rss = d.rss_mib(0);
    let disk = d.data_dir_bytes(0) as f64 / (1024.0 * 1024.0);
    let raw = raw_bytes(n, s.value_size);

    let url = format!("{}/v2/keys{SENTINEL}", d.bases[0]);
    for p in d.processes_mut() {
        p.stop();
    }
    keep_data_dir(&d.processes_mut()[0].data_dir, setup, n);
    let started = Instant::now();
    for p in d.processes_mut() {
        p.restart_unready();
    }
    let poll = d.agent(Duration::from_secs(2));
    // Bounded: 120 s at 5 ms; a server that never answers fails the benchmark.
    let mut restart = None;
    for _ in 0..24_000 {
        let ok = poll
            .get(&url)
            .call()
            .ok()
            .and_then(crate::load::json_body)
            .is_some_and(|v| v["node"]["value"] == expected.as_str());
        if ok {
            restart = Some(started.elapsed());
            break;
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    let restart = restart.expect("no correct GET within 120 s of the restart");
    rec.record(
        Measurement::new(&name, setup, round)
            .with("fill writes/s", fill.writes_per_sec)
            .with("RSS MiB", rss)
            .with("RSS bytes per key", rss * 1024.0 * 1024.0 / n as f64)
            .with("RSS / raw data", rss * 1024.0 * 1024.0 / raw)
            .with("data dir MiB", disk)
            .with("restart to correct GET ms", restart.as_secs_f64() * 1e3)
            .with("RSS after restart MiB", d.rss_mib(0)),
    );
}

/// With `BENCH_KEEP_DATA_DIR` set, copies the stopped first member's data dir under it (as
/// `<server>-<members>m-<n>`), to time and profile restarts of the same data again.
fn keep_data_dir(dir: &std::path::Path, setup: &Setup, n: usize) {
    let Some(to) = std::env::var_os("BENCH_KEEP_DATA_DIR") else {
        return;
    };
    let to = std::path::Path::new(&to).join(format!("{:?}-{}m-{n}", setup.server, setup.members));
    let copied = std::process::Command::new("cp")
        .arg("-a")
        .arg(dir)
        .arg(&to)
        .status();
    match copied {
        Ok(s) if s.success() => eprintln!("kept the data dir as {}", to.display()),
        other => eprintln!(
            "could not copy {} to {}: {other:?}",
            dir.display(),
            to.display()
        ),
    }
}

//! The suite's output: medians over rounds with the ours / etcd ratio as a Markdown table,
//! where the CPU went as a second table, and everything (machine, settings, each round) as
//! JSON.

use std::fmt::Write as _;

use serde::Serialize;

use super::{Measurement, Settings};
use crate::load::median;

/// The machine the run measured.
#[derive(Debug, Clone, Serialize)]
pub struct Machine {
    /// Online cores.
    pub nproc: usize,
    /// `model name` from /proc/cpuinfo.
    pub model: String,
    /// /proc/loadavg before the run.
    pub load_before: String,
    /// /proc/loadavg after the run.
    pub load_after: String,
}

/// /proc/loadavg's three averages.
pub fn load_average() -> String {
    let t = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    t.split_whitespace().take(3).collect::<Vec<_>>().join(" ")
}

impl Machine {
    /// Cores and model now; `load_before` as sampled at the start.
    pub fn describe(load_before: String) -> Machine {
        let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
        let model = cpuinfo
            .lines()
            .find(|l| l.starts_with("model name"))
            .and_then(|l| l.split(':').nth(1))
            .unwrap_or("unknown")
            .trim()
            .to_string();
        Machine {
            nproc: std::thread::available_parallelism().map_or(1, |n| n.get()),
            model,
            load_before,
            load_after: load_average(),
        }
    }
}

/// One row of the summary: a metric's median per server over the rounds.
#[derive(Debug, Clone, Serialize, serde::Deserialize)]
pub struct Row {
    /// Benchmark name.
    pub bench: String,
    /// Cluster size.
    pub members: usize,
    /// Metric name.
    pub metric: String,
    /// Ours (with `-local-reads` in the stale-read row).
    pub ours: Option<f64>,
    /// etcd 3.4.
    pub etcd: Option<f64>,
}

fn is_ours(server: &str) -> bool {
    server.starts_with("ours")
}

/// Medians of every metric, in the order the measurements first named them.
pub fn summarise(all: &[Measurement]) -> Vec<Row> {
    let mut rows: Vec<Row> = Vec::new();
    for m in all {
        for (metric, _) in &m.metrics {
            let seen = rows
                .iter()
                .any(|r| r.bench == m.bench && r.members == m.members && &r.metric == metric);
            if seen {
                continue;
            }
            let values = |ours: bool| {
                let v: Vec<f64> = all
                    .iter()
                    .filter(|x| x.bench == m.bench && x.members == m.members)
                    .filter(|x| is_ours(x.server) == ours)
                    .flat_map(|x| x.metrics.iter().filter(|(k, _)| k == metric))
                    .map(|(_, v)| *v)
                    .collect();
                (!v.is_empty()).then(|| median(v))
            };
            rows.push(Row {
                bench: m.bench.clone(),
                members: m.members,
                metric: metric.clone(),
                ours: values(true),
                etcd: values(false),
            });
        }
    }
    rows
}

fn cell(v: Option<f64>) -> String {
    match v {
        Some(v) if v >= 100.0 => format!("{v:.0}"),
        Some(v) => format!("{v:.2}"),
        None => "n/a".into(),
    }
}

/// The summary table and the CPU table, in Markdown.
pub fn markdown(all: &[Measurement], s: &Settings, machine: &Machine) -> String {
    let mut out = String::new();
    let snapshots = match s.snapshot_count {
        0 => "each server's default -snapshot-count (100,000)".to_string(),
        n => format!(
            "-snapshot-count {n} on both servers for writes, TLS and auth (the memory rows keep \
             the defaults, 100,000); up to {} writes per write measurement, at most {} s",
            s.writes, s.max_seconds
        ),
    };
    let _ = writeln!(
        out,
        "Machine: {} cores, {}; load average {} before, {} after. {} rounds, A B B A; {}; \
         {}-byte values; load on the leader. Medians of the rounds.\n",
        machine.nproc,
        machine.model,
        machine.load_before,
        machine.load_after,
        s.rounds,
        snapshots,
        s.value_size
    );
    out.push_str("| benchmark | members | metric | ours | etcd 3.4 | ours / etcd |\n");
    out.push_str("|---|---|---|---|---|---|\n");
    for r in summarise(all) {
        let ratio = match (r.ours, r.etcd) {
            (Some(o), Some(e)) if e != 0.0 => match o / e {
                // Keep two significant digits of a small ratio (authenticated etcd 3.4).
                r if r < 0.01 => format!("{r:.4}"),
                r => format!("{r:.2}"),
            },
            _ => "n/a".into(),
        };
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} | {} | {ratio} |",
            r.bench,
            r.members,
            r.metric,
            cell(r.ours),
            cell(r.etcd)
        );
    }
    out.push_str(
        "\nWhere the CPU went (cores busy on average over the load, medians of the rounds; \
                  the machine has ",
    );
    let _ = writeln!(out, "{}):\n", machine.nproc);
    out.push_str(
        "| benchmark | members | server | seconds | server | load generator | other | idle |\n",
    );
    out.push_str("|---|---|---|---|---|---|---|---|\n");
    let mut done: Vec<(String, usize, &str)> = Vec::new();
    for m in all.iter().filter(|m| m.cpu.is_some()) {
        let key = (m.bench.clone(), m.members, m.server);
        if done.contains(&key) {
            continue;
        }
        let same: Vec<_> = all
            .iter()
            .filter(|x| x.bench == m.bench && x.members == m.members && x.server == m.server)
            .filter_map(|x| x.cpu)
            .collect();
        let med = |f: fn(&crate::procfs::CpuUse) -> f64| median(same.iter().map(f).collect());
        let wall = med(|c| c.wall_s);
        let cores = |f: fn(&crate::procfs::CpuUse) -> f64| {
            median(same.iter().map(|c| f(c) / c.wall_s).collect())
        };
        let _ = writeln!(
            out,
            "| {} | {} | {} | {wall:.1} | {:.2} | {:.2} | {:.2} | {:.2} |",
            m.bench,
            m.members,
            m.server,
            cores(|c| c.server_s),
            cores(|c| c.generator_s),
            cores(|c| c.other_s),
            cores(|c| c.idle_s),
        );
        done.push(key);
    }
    out
}

/// Everything as JSON: machine, settings, the summary and every round.
pub fn json(all: &[Measurement], s: &Settings, machine: &Machine) -> String {
    let v = serde_json::json!({
        "machine": machine,
        "settings": s,
        "summary": summarise(all),
        "measurements": all,
    });
    serde_json::to_string_pretty(&v).expect("JSON of plain data")
}

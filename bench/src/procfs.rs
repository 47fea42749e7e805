//! What /proc says about a load: where the CPU went (the servers from `/proc/<pid>/stat`,
//! this load generator from `/proc/self/stat`, all its threads, and the rest of the machine:
//! `/proc/stat` busy time less those two, in CPU seconds), and a server's memory.

use std::time::Instant;

use serde::Serialize;

/// Counters read at one instant.
#[derive(Debug, Clone)]
pub struct Sample {
    at: Instant,
    pids: Vec<u32>,
    servers: f64,
    generator: f64,
    busy: f64,
    total: f64,
}

/// CPU seconds spent between two samples.
#[derive(Debug, Clone, Copy, Default, Serialize)]
pub struct CpuUse {
    /// Wall-clock seconds between the samples.
    pub wall_s: f64,
    /// The server processes (every member).
    pub server_s: f64,
    /// This process: the load generator.
    pub generator_s: f64,
    /// Everything else that ran on the machine (other builders, kernel threads).
    pub other_s: f64,
    /// Idle (and I/O wait) time of all cores.
    pub idle_s: f64,
}

fn ticks_per_sec() -> f64 {
    // SAFETY: sysconf has no preconditions.
    let t = unsafe { libc::sysconf(libc::_SC_CLK_TCK) };
    if t > 0 {
        t as f64
    } else {
        100.0
    }
}

/// utime + stime of a process, in seconds (0 once it is gone).
fn process_seconds(stat_path: &str) -> f64 {
    let text = std::fs::read_to_string(stat_path).unwrap_or_default();
    // The command name is in parentheses and may hold spaces: count fields after it.
    let Some(rest) = text.rfind(')').map(|i| &text[i + 1..]) else {
        return 0.0;
    };
    let f: Vec<&str> = rest.split_whitespace().collect();
    // After ")": state is field 3 of stat(5), so utime (14) and stime (15) are at 11 and 12.
    let num = |i: usize| f.get(i).and_then(|v| v.parse::<f64>().ok()).unwrap_or(0.0);
    (num(11) + num(12)) / ticks_per_sec()
}

/// (busy, total) seconds of all cores from the first line of `/proc/stat`.
fn machine_seconds() -> (f64, f64) {
    let text = std::fs::read_to_string("/proc/stat").unwrap_or_default();
    let v: Vec<f64> = text
        .lines()
        .next()
        .unwrap_or_default()
        .split_whitespace()
        .skip(1)
        .filter_map(|x| x.parse().ok())
        .collect();
    // user nice system idle iowait irq softirq steal (guest time is already in user).
    let total: f64 = v.iter().take(8).sum();
    let idle = v.get(3).copied().unwrap_or(0.0) + v.get(4).copied().unwrap_or(0.0);
    ((total - idle) / ticks_per_sec(), total / ticks_per_sec())
}

impl Sample {
    /// Reads the counters now, for the server processes `pids`.
    pub fn now(pids: &[u32]) -> Sample {
        let (busy, total) = machine_seconds();
        Sample {
            at: Instant::now(),
            pids: pids.to_vec(),
            servers: pids
                .iter()
                .map(|p| process_seconds(&format!("/proc/{p}/stat")))
                .sum(),
            generator: process_seconds("/proc/self/stat"),
            busy,
            total,
        }
    }

    /// What was spent since this sample.
    pub fn since(&self) -> CpuUse {
        let now = Sample::now(&self.pids);
        let server_s = now.servers - self.servers;
        let generator_s = now.generator - self.generator;
        let busy = now.busy - self.busy;
        CpuUse {
            wall_s: now.at.duration_since(self.at).as_secs_f64(),
            server_s,
            generator_s,
            other_s: (busy - server_s - generator_s).max(0.0),
            idle_s: ((now.total - now.busy) - (self.total - self.busy)).max(0.0),
        }
    }
}

/// A memory field of `/proc/<pid>/status` (`VmRSS`, `VmHWM`) in MiB; 0 once the process is
/// gone.
pub fn status_mib(pid: u32, field: &str) -> f64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status
        .lines()
        .find(|l| l.strip_prefix(field).is_some_and(|r| r.starts_with(':')))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|kb| kb.parse::<f64>().ok())
        .map(|kb| kb / 1024.0)
        .unwrap_or(0.0)
}

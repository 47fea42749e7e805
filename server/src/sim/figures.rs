//! The figures a run, or many, add up to, and the one line the long run prints.

use std::collections::BTreeMap;

/// The figures of one run or of many.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Figures {
    /// Seeds run.
    pub seeds: u64,
    /// Client operations (writes, quorum reads, default reads, refused calls).
    pub ops: u64,
    /// Of them, answered with their effect.
    pub ok: u64,
    /// Answered with a failure that says they did nothing (or refused).
    pub failed: u64,
    /// Writes whose outcome stayed unknown.
    pub indeterminate: u64,
    /// Watchers, and events they were sent.
    pub watchers: u64,
    /// See `watchers`.
    pub watch_events: u64,
    /// Faults injected, by kind.
    pub faults: BTreeMap<&'static str, u64>,
    /// Seeds whose checks failed, with why.
    pub failures: Vec<(u64, String)>,
}

impl Figures {
    /// Adds another run's figures.
    pub fn add(&mut self, other: &Figures) {
        self.seeds += other.seeds;
        self.ops += other.ops;
        self.ok += other.ok;
        self.failed += other.failed;
        self.indeterminate += other.indeterminate;
        self.watchers += other.watchers;
        self.watch_events += other.watch_events;
        for (k, n) in &other.faults {
            *self.faults.entry(k).or_default() += n;
        }
        self.failures.extend(other.failures.iter().cloned());
    }

    /// The one line the long run prints.
    pub fn line(&self) -> String {
        let faults: Vec<String> = self
            .faults
            .iter()
            .map(|(k, n)| format!("{k}:{n}"))
            .collect();
        let bad = |what: &str| self.failures.iter().any(|(_, why)| why.contains(what));
        format!(
            "seeds={} ops={} ok={} failed={} indeterminate={} watchers={} watch_events={} faults={} linearizable={} lost={} converged={} failed_seeds={}",
            self.seeds,
            self.ops,
            self.ok,
            self.failed,
            self.indeterminate,
            self.watchers,
            self.watch_events,
            faults.join(","),
            if bad("not linearizable") { "no" } else { "yes" },
            self.failures.iter().filter(|(_, why)| why.contains("lost:")).count(),
            if bad("did not converge") { "no" } else { "yes" },
            self.failures.len(),
        )
    }
}

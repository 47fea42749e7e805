//! Per-follower counts and latency, in the shape of etcd's `/v2/stats/leader`.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

use serde::Serialize;

/// Round-trip latency of peer requests, in milliseconds.
#[derive(Debug, Clone, Default, Serialize)]
pub struct LatencyStats {
    /// The last request's.
    pub current: f64,
    /// Mean over all requests.
    pub average: f64,
    /// Standard deviation over all requests.
    #[serde(rename = "standardDeviation")]
    pub standard_deviation: f64,
    /// Fastest.
    pub minimum: f64,
    /// Slowest.
    pub maximum: f64,
    #[serde(skip)]
    sum_of_squares: f64,
    #[serde(skip)]
    samples: u64,
}

/// Messages delivered to and lost on the way to one follower.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Counts {
    /// Messages that failed to be delivered.
    pub fail: u64,
    /// Messages delivered.
    pub success: u64,
}

/// One follower as the leader sees it.
#[derive(Debug, Clone, Default, Serialize)]
pub struct FollowerStats {
    /// Request latency.
    pub latency: LatencyStats,
    /// Message counts.
    pub counts: Counts,
}

impl FollowerStats {
    /// Records a delivered request of `messages` messages that took `took`.
    pub fn record_success(&mut self, took: Duration, messages: u64) {
        self.counts.success += messages;
        self.record_latency(took);
    }

    /// Records `messages` messages handed to a peer's stream.
    pub fn record_sent(&mut self, messages: u64) {
        self.counts.success += messages;
    }

    /// Records one round trip to the peer (a probe's, on a stream) without messages.
    pub fn record_latency(&mut self, took: Duration) {
        let ms = took.as_secs_f64() * 1000.0;
        let l = &mut self.latency;
        l.samples += 1;
        l.current = ms;
        if l.samples == 1 {
            l.minimum = ms;
            l.maximum = ms;
        } else {
            l.minimum = l.minimum.min(ms);
            l.maximum = l.maximum.max(ms);
        }
        let n = l.samples as f64;
        l.average += (ms - l.average) / n;
        l.sum_of_squares += ms * ms;
        let variance = (l.sum_of_squares / n - l.average * l.average).max(0.0);
        l.standard_deviation = variance.sqrt();
    }

    /// Records a failed request of `messages` messages.
    pub fn record_failure(&mut self, messages: u64) {
        self.counts.fail += messages;
    }
}

/// Records into peer `to`'s figures.
pub fn record(
    stats: &Mutex<HashMap<u64, FollowerStats>>,
    to: u64,
    f: impl FnOnce(&mut FollowerStats),
) {
    f(stats
        .lock()
        .expect("stats lock poisoned")
        .entry(to)
        .or_default());
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn latency_summarises_samples() {
        let mut s = FollowerStats::default();
        s.record_success(Duration::from_millis(2), 3);
        s.record_success(Duration::from_millis(4), 1);
        s.record_failure(2);
        assert_eq!(s.counts.success, 4);
        assert_eq!(s.counts.fail, 2);
        assert!((s.latency.average - 3.0).abs() < 1e-9);
        assert!((s.latency.minimum - 2.0).abs() < 1e-9);
        assert!((s.latency.maximum - 4.0).abs() < 1e-9);
        assert!((s.latency.standard_deviation - 1.0).abs() < 1e-6);
        assert!((s.latency.current - 4.0).abs() < 1e-9);
    }
}

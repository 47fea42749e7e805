//! Timestamps: nanoseconds since the UNIX epoch, UTC.
//!
//! Only the HTTP layer and the raft leader read the wall clock ([`Timestamp::now`]); the store
//! is handed times inside replicated commands so that every replica computes the same state.
//!
//! The raft loop reads both its clocks through a [`Clock`] it is given: [`SystemClock`] in the
//! server, a [`ManualClock`] that moves only when told in a simulation.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

/// The time as the raft loop sees it.
pub trait Clock: Send + Sync {
    /// Monotonic time, for ticks, deadlines and retries.
    fn now(&self) -> Instant;
    /// Wall-clock time, for what goes into the log (expiry, member records, cluster ids).
    fn wall(&self) -> Timestamp;
}

/// The machine's clocks.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> Instant {
        Instant::now()
    }

    fn wall(&self) -> Timestamp {
        Timestamp::now()
    }
}

/// A clock that stands still until [`ManualClock::advance`] moves it: both its monotonic and its
/// wall time move by exactly that much, so a run driven by it does not depend on the machine's
/// speed. (`Instant`s cannot be made from nothing: it counts from the real instant it was
/// created at, and only differences between its instants mean anything.)
#[derive(Debug)]
pub struct ManualClock {
    base: Instant,
    epoch: Timestamp,
    elapsed_nanos: AtomicU64,
}

impl ManualClock {
    /// A clock whose wall time starts at `epoch`.
    pub fn new(epoch: Timestamp) -> ManualClock {
        ManualClock {
            base: Instant::now(),
            epoch,
            elapsed_nanos: AtomicU64::new(0),
        }
    }

    /// Moves time forward by `by`.
    pub fn advance(&self, by: Duration) {
        let nanos = by.as_nanos().min(u64::MAX as u128) as u64;
        self.elapsed_nanos.fetch_add(nanos, Ordering::SeqCst);
    }

    /// How far the clock has moved since it was made.
    pub fn elapsed(&self) -> Duration {
        Duration::from_nanos(self.elapsed_nanos.load(Ordering::SeqCst))
    }
}

impl Clock for ManualClock {
    fn now(&self) -> Instant {
        self.base + self.elapsed()
    }

    fn wall(&self) -> Timestamp {
        Timestamp(
            self.epoch
                .0
                .saturating_add(self.elapsed().as_nanos().min(i64::MAX as u128) as i64),
        )
    }
}

/// Nanoseconds since 1970-01-01T00:00:00Z.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Timestamp(pub i64);

const NANOS_PER_SEC: i64 = 1_000_000_000;

impl Timestamp {
    /// The wall clock now. Never called by the store.
    pub fn now() -> Timestamp {
        let d = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap_or_default();
        Timestamp(d.as_nanos().min(i64::MAX as u128) as i64)
    }

    /// This time plus `secs` seconds, saturating.
    pub fn plus_secs(self, secs: u64) -> Timestamp {
        let add = (secs.min(i64::MAX as u64) as i64).saturating_mul(NANOS_PER_SEC);
        Timestamp(self.0.saturating_add(add))
    }

    /// Whole seconds from `now` until this time, rounded up, never negative (etcd 2.x `ttl`).
    pub fn ttl_from(self, now: Timestamp) -> i64 {
        let left = self.0.saturating_sub(now.0);
        if left <= 0 {
            0
        } else {
            (left + NANOS_PER_SEC - 1) / NANOS_PER_SEC
        }
    }

    /// RFC 3339 in UTC with `Z` and the nanosecond fraction trimmed of trailing zeros, like Go's
    /// `time.RFC3339Nano`: `2026-11-24T00:44:48.87873845Z`.
    pub fn to_rfc3339(self) -> String {
        let secs = self.0.div_euclid(NANOS_PER_SEC);
        let nanos = self.0.rem_euclid(NANOS_PER_SEC) as u32;
        let dt = chrono::DateTime::from_timestamp(secs, nanos).unwrap_or_default();
        let base = dt.format("%Y-%m-%dT%H:%M:%S").to_string();
        if nanos == 0 {
            format!("{base}Z")
        } else {
            let frac = format!("{nanos:09}");
            format!("{base}.{}Z", frac.trim_end_matches('0'))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_manual_clock_moves_only_when_told() {
        let clock = ManualClock::new(Timestamp(5 * NANOS_PER_SEC));
        let (t0, w0) = (clock.now(), clock.wall());
        assert_eq!(clock.now(), t0);
        clock.advance(Duration::from_millis(1500));
        assert_eq!(clock.now() - t0, Duration::from_millis(1500));
        assert_eq!(clock.wall(), Timestamp(w0.0 + 1_500_000_000));
    }

    #[test]
    fn formats_like_go_rfc3339nano() {
        assert_eq!(Timestamp(0).to_rfc3339(), "1970-01-01T00:00:00Z");
        assert_eq!(
            Timestamp(1_500_000_000_123_400_000).to_rfc3339(),
            "2017-07-14T02:40:00.1234Z"
        );
    }

    #[test]
    fn ttl_rounds_up_and_clamps() {
        let now = Timestamp(10 * NANOS_PER_SEC);
        assert_eq!(now.plus_secs(5).ttl_from(now), 5);
        assert_eq!(Timestamp(now.0 + 2_500_000_000).ttl_from(now), 3);
        assert_eq!(Timestamp(now.0 - 1).ttl_from(now), 0);
    }
}

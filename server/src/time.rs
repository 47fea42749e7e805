//! Timestamps: nanoseconds since the UNIX epoch, UTC.
//!
//! Only the HTTP layer and the raft leader read the wall clock ([`Timestamp::now`]); the store
//! is handed times inside replicated commands so that every replica computes the same state.

use serde::{Deserialize, Serialize};

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

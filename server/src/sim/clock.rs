//! The simulation's clock: a [`ManualClock`] whose wall time can also jump, forward or back,
//! as a machine's clock does when it is set. Monotonic time (ticks, timeouts) never jumps;
//! only what reads the wall clock (a TTL's expiry time, the leader's expiry sweep) sees it.

use std::sync::atomic::{AtomicI64, Ordering};
use std::time::{Duration, Instant};

use crate::time::{Clock, ManualClock, Timestamp};

/// One clock for every simulated member.
#[derive(Debug)]
pub struct SimClock {
    manual: ManualClock,
    /// Nanoseconds added to the wall time by jumps so far.
    jumped: AtomicI64,
}

impl SimClock {
    /// A clock whose wall time starts at `epoch`.
    pub fn new(epoch: Timestamp) -> SimClock {
        SimClock {
            manual: ManualClock::new(epoch),
            jumped: AtomicI64::new(0),
        }
    }

    /// Moves time forward by `by` (monotonic and wall alike).
    pub fn advance(&self, by: Duration) {
        self.manual.advance(by);
    }

    /// Sets the wall clock `nanos` forward (negative: back).
    pub fn jump_wall(&self, nanos: i64) {
        self.jumped.fetch_add(nanos, Ordering::SeqCst);
    }

    /// How far time moved since the start (monotonic: jumps are not counted).
    pub fn elapsed(&self) -> Duration {
        self.manual.elapsed()
    }
}

impl Clock for SimClock {
    fn now(&self) -> Instant {
        self.manual.now()
    }

    fn wall(&self) -> Timestamp {
        Timestamp(
            self.manual
                .wall()
                .0
                .saturating_add(self.jumped.load(Ordering::SeqCst)),
        )
    }
}

//! The open connections of one port, so that a full port makes room instead of stalling:
//! at the cap, the connections idle the longest (no request in flight: never sent one,
//! trickling a request head, or kept alive between requests) are closed to admit new ones;
//! when every connection is busy with a request (long watches included), new ones are
//! refused at once rather than left in the listen backlog.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use tokio::sync::Notify;

/// How many idle connections one full-port admission closes at once: closing takes a turn of
/// their tasks, and one scan of the table pays for this many admissions.
pub const SHED_BATCH: usize = 64;

/// The connections of one port.
pub struct Registry {
    cap: usize,
    epoch: Instant,
    inner: Mutex<Inner>,
}

struct Inner {
    next: u64,
    slots: HashMap<u64, Arc<Slot>>,
}

/// One connection's state, shared by its task and the registry.
pub struct Slot {
    /// Requests read and not yet answered in full.
    in_flight: AtomicUsize,
    /// When the connection last had no request in flight (ms since the registry's epoch).
    idle_since: AtomicU64,
    /// Set when the registry wants the connection closed.
    shed: Notify,
    epoch: Instant,
}

impl Slot {
    fn now(&self) -> u64 {
        self.epoch.elapsed().as_millis() as u64
    }

    /// Whether no request is in flight.
    pub fn is_idle(&self) -> bool {
        self.in_flight.load(Ordering::Acquire) == 0
    }

    /// Marks a request in flight until the guard drops (when its response was sent in full).
    pub fn busy(self: &Arc<Self>) -> BusyGuard {
        self.in_flight.fetch_add(1, Ordering::AcqRel);
        BusyGuard(self.clone())
    }

    /// Resolves when the registry closes this connection to make room.
    pub async fn shed_requested(&self) {
        self.shed.notified().await
    }
}

/// A request in flight on a connection.
pub struct BusyGuard(Arc<Slot>);

impl Drop for BusyGuard {
    fn drop(&mut self) {
        let slot = &self.0;
        slot.idle_since.store(slot.now(), Ordering::Release);
        slot.in_flight.fetch_sub(1, Ordering::AcqRel);
    }
}

/// A registered connection; leaving the registry when dropped.
pub struct Admitted {
    registry: Arc<Registry>,
    id: u64,
    /// Its shared state.
    pub slot: Arc<Slot>,
}

impl Drop for Admitted {
    fn drop(&mut self) {
        self.registry
            .inner
            .lock()
            .expect("connection registry poisoned")
            .slots
            .remove(&self.id);
    }
}

impl Registry {
    /// A registry holding at most `cap` connections.
    pub fn new(cap: usize) -> Arc<Registry> {
        Arc::new(Registry {
            cap: cap.max(1),
            epoch: Instant::now(),
            inner: Mutex::new(Inner {
                next: 0,
                slots: HashMap::new(),
            }),
        })
    }

    /// Connections registered now.
    #[cfg(test)]
    fn len(&self) -> usize {
        self.inner
            .lock()
            .expect("connection registry poisoned")
            .slots
            .len()
    }

    /// Registers a new connection, first closing up to [`SHED_BATCH`] of the longest-idle
    /// ones when the port is full; `None` when it is full of busy connections.
    pub fn admit(self: &Arc<Self>) -> Option<Admitted> {
        let mut inner = self.inner.lock().expect("connection registry poisoned");
        if inner.slots.len() >= self.cap {
            let mut idle: Vec<(u64, u64)> = inner
                .slots
                .iter()
                .filter(|(_, s)| s.is_idle())
                .map(|(id, s)| (s.idle_since.load(Ordering::Acquire), *id))
                .collect();
            if idle.is_empty() {
                return None;
            }
            let n = SHED_BATCH.min(idle.len());
            if n < idle.len() {
                idle.select_nth_unstable(n - 1);
            }
            for (_, id) in &idle[..n] {
                if let Some(slot) = inner.slots.remove(id) {
                    // A permit is stored if the task is not waiting right now.
                    slot.shed.notify_one();
                }
            }
        }
        let id = inner.next;
        inner.next += 1;
        let slot = Arc::new(Slot {
            in_flight: AtomicUsize::new(0),
            idle_since: AtomicU64::new(self.epoch.elapsed().as_millis() as u64),
            shed: Notify::new(),
            epoch: self.epoch,
        });
        inner.slots.insert(id, slot.clone());
        Some(Admitted {
            registry: self.clone(),
            id,
            slot,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_full_port_sheds_the_longest_idle_and_refuses_when_all_are_busy() {
        let reg = Registry::new(2);
        let a = reg.admit().expect("room");
        std::thread::sleep(std::time::Duration::from_millis(5));
        let b = reg.admit().expect("room");
        let busy_b = b.slot.busy();
        // Full: `a` (idle) makes room, `b` (busy) stays.
        let c = reg.admit().expect("a is shed");
        assert_eq!(reg.len(), 2);
        let _busy_c = c.slot.busy();
        // Full of busy connections: refused.
        assert!(reg.admit().is_none());
        drop(busy_b);
        let _d = reg.admit().expect("b went idle");
        assert_eq!(reg.len(), 2);
        drop(a);
        drop(b);
        assert_eq!(reg.len(), 2, "shed connections were already gone");
    }
}

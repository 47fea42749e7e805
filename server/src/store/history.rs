//! The event history: a ring of the newest events, for watches that start in the past.
//!
//! Bounded twice: by count (etcd's 1000) and by bytes, since one event can carry three copies
//! of a 1.5 MiB value (node, `prevValue`, `prevNode`) and the history goes into every
//! snapshot. Beyond either bound the oldest events go first; a watch from before the oldest
//! kept event then answers 401, as etcd does when its history is exceeded.

use std::collections::VecDeque;
use std::sync::Arc;

use common::{ErrorCode, EtcdError};

use super::event::Event;

/// Most bytes of events the history keeps (keys, values and timestamps of every event's
/// node and previous node, plus a fixed overhead per event).
pub const MAX_HISTORY_BYTES: usize = 64 * 1024 * 1024;

/// Bytes counted per event besides its strings (the event and node structs).
const EVENT_OVERHEAD: usize = 256;

/// The newest events within `capacity` events and `max_bytes` bytes, oldest first. Cloning
/// it (for a snapshot written in the background) copies reference counts, not events.
#[derive(Debug, Clone)]
pub struct History {
    events: VecDeque<Arc<Event>>,
    capacity: usize,
    bytes: usize,
    max_bytes: usize,
}

/// What an event costs the history.
pub fn weight(ev: &Event) -> usize {
    fn node(n: &common::Node) -> usize {
        n.key.len()
            + n.value.as_ref().map_or(0, String::len)
            + n.prev_value.as_ref().map_or(0, String::len)
            + n.expiration.as_ref().map_or(0, String::len)
    }
    EVENT_OVERHEAD + node(&ev.node) + ev.prev_node.as_ref().map_or(0, node)
}

impl History {
    /// An empty history keeping `capacity` events within `max_bytes`.
    pub fn with_limits(capacity: usize, max_bytes: usize) -> History {
        History {
            events: VecDeque::with_capacity(capacity.min(4096)),
            capacity: capacity.max(1),
            bytes: 0,
            max_bytes,
        }
    }

    /// Rebuilds from saved events, keeping the newest that fit.
    pub fn from_events(events: Vec<Event>, capacity: usize, max_bytes: usize) -> History {
        let mut h = History::with_limits(capacity, max_bytes);
        for e in events {
            h.push(Arc::new(e));
        }
        h
    }

    /// Records an event, dropping the oldest beyond the limits (the newest event is always
    /// kept, whatever its size).
    pub fn push(&mut self, ev: Arc<Event>) {
        self.bytes += weight(&ev);
        self.events.push_back(ev);
        while self.events.len() > 1
            && (self.events.len() > self.capacity || self.bytes > self.max_bytes)
        {
            if let Some(old) = self.events.pop_front() {
                self.bytes -= weight(&old);
            }
        }
    }

    /// The events, oldest first.
    pub fn events(&self) -> impl ExactSizeIterator<Item = &Event> {
        self.events.iter().map(|e| &**e)
    }

    /// Bytes the kept events count for.
    pub fn bytes(&self) -> usize {
        self.bytes
    }

    /// The first event at or after `since` matching the watch; 401 when `since` is older than
    /// the oldest event kept.
    pub fn scan(
        &self,
        key: &str,
        recursive: bool,
        since: u64,
        current: u64,
    ) -> Result<Option<Arc<Event>>, EtcdError> {
        let Some(oldest) = self.events.front() else {
            return Ok(None);
        };
        if since < oldest.index {
            return Err(EtcdError::new(
                ErrorCode::EventIndexCleared,
                format!(
                    "the requested history has been cleared [{}/{}]",
                    oldest.index, since
                ),
                current,
            ));
        }
        // Indexes are consecutive in the ring, so the start position is computed, not searched.
        let skip = (since - oldest.index) as usize;
        Ok(self
            .events
            .iter()
            .skip(skip)
            .find(|e| e.index >= since && e.matches(key, recursive))
            .cloned())
    }
}

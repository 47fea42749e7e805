//! The event history: a ring of the newest events, for watches that start in the past.

use std::collections::VecDeque;

use common::{ErrorCode, EtcdError};

use super::event::Event;

/// The newest `capacity` events, oldest first.
#[derive(Debug, Clone)]
pub struct History {
    events: VecDeque<Event>,
    capacity: usize,
}

impl History {
    /// An empty history keeping `capacity` events.
    pub fn new(capacity: usize) -> History {
        History {
            events: VecDeque::with_capacity(capacity.min(4096)),
            capacity: capacity.max(1),
        }
    }

    /// Rebuilds from saved events, keeping the newest `capacity`.
    pub fn from_events(events: Vec<Event>, capacity: usize) -> History {
        let mut h = History::new(capacity);
        for e in events {
            h.push(e);
        }
        h
    }

    /// Records an event, dropping the oldest beyond capacity.
    pub fn push(&mut self, ev: Event) {
        if self.events.len() == self.capacity {
            self.events.pop_front();
        }
        self.events.push_back(ev);
    }

    /// The events, oldest first.
    pub fn events(&self) -> impl Iterator<Item = &Event> {
        self.events.iter()
    }

    /// The first event at or after `since` matching the watch; 401 when `since` is older than
    /// the oldest event kept.
    pub fn scan(
        &self,
        key: &str,
        recursive: bool,
        since: u64,
        current: u64,
    ) -> Result<Option<Event>, EtcdError> {
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

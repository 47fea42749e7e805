//! The registry of live watchers. It lives in [`crate::state::StoreState`], under the same
//! lock as the store, which is what makes a watch exact.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use tokio::sync::mpsc;

use crate::store::Event;

/// Events buffered for one streaming watcher before it is considered too slow and dropped
/// (its stream ends and the client re-watches from its last index).
pub const STREAM_WATCH_BUFFER: usize = 1024;

/// Most watchers the server keeps at once; beyond it new watches are refused.
pub const MAX_WATCHERS: usize = 100_000;

/// Identifies a registered watcher.
pub type WatcherId = u64;

struct Watcher {
    path: String,
    recursive: bool,
    /// Only events with an index at or above this are delivered.
    since: u64,
    stream: bool,
    tx: mpsc::Sender<Arc<Event>>,
}

/// All waiting watchers, indexed by watched path.
#[derive(Default)]
pub struct WatchHub {
    watchers: HashMap<WatcherId, Watcher>,
    by_path: BTreeMap<String, Vec<WatcherId>>,
    next_id: WatcherId,
}

impl WatchHub {
    /// Registers a watcher; events arrive on the returned receiver. `None` when the hub is full.
    pub fn add(
        &mut self,
        path: &str,
        recursive: bool,
        since: u64,
        stream: bool,
    ) -> Option<(WatcherId, mpsc::Receiver<Arc<Event>>)> {
        if self.watchers.len() >= MAX_WATCHERS {
            return None;
        }
        let (tx, rx) = mpsc::channel(if stream { STREAM_WATCH_BUFFER } else { 1 });
        self.next_id += 1;
        let id = self.next_id;
        self.watchers.insert(
            id,
            Watcher {
                path: path.to_string(),
                recursive,
                since,
                stream,
                tx,
            },
        );
        self.by_path.entry(path.to_string()).or_default().push(id);
        Some((id, rx))
    }

    /// Removes a watcher (its client went away, or it fired).
    pub fn remove(&mut self, id: WatcherId) {
        if let Some(w) = self.watchers.remove(&id) {
            if let Some(ids) = self.by_path.get_mut(&w.path) {
                ids.retain(|i| *i != id);
                if ids.is_empty() {
                    self.by_path.remove(&w.path);
                }
            }
        }
    }

    /// How many watchers are waiting.
    pub fn len(&self) -> usize {
        self.watchers.len()
    }

    /// Whether no watcher is waiting.
    pub fn is_empty(&self) -> bool {
        self.watchers.is_empty()
    }

    /// Hands each event to every watcher it matches; one-shot watchers are removed once fed.
    pub fn notify(&mut self, events: &[Event]) {
        if self.watchers.is_empty() {
            return;
        }
        for ev in events {
            if ev.refresh {
                continue;
            }
            let shared = Arc::new(ev.clone());
            let mut done = Vec::new();
            for id in self.candidates(ev) {
                let Some(w) = self.watchers.get(&id) else {
                    continue;
                };
                if ev.index < w.since || !ev.matches(&w.path, w.recursive) {
                    continue;
                }
                let delivered = w.tx.try_send(shared.clone()).is_ok();
                if !w.stream || !delivered {
                    done.push(id);
                }
            }
            for id in done {
                self.remove(id);
            }
        }
    }

    /// Watchers that may match: those on a prefix of the event's key, and for a removed
    /// directory those on paths inside it.
    fn candidates(&self, ev: &Event) -> Vec<WatcherId> {
        let key = ev.node.key.as_str();
        let mut out = Vec::new();
        let mut push = |path: &str| {
            if let Some(ids) = self.by_path.get(path) {
                out.extend_from_slice(ids);
            }
        };
        push("/");
        for (i, c) in key.char_indices().skip(1) {
            if c == '/' {
                push(&key[..i]);
            }
        }
        if key != "/" {
            push(key);
        }
        if ev.node.dir {
            let lower = format!("{key}/");
            let upper = format!("{key}0"); // '0' is the byte after '/'
            for ids in self.by_path.range(lower..upper).map(|(_, v)| v) {
                out.extend_from_slice(ids);
            }
        }
        out
    }
}

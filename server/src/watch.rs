//! The registry of live watchers. It lives in [`crate::state::StoreState`], under the same
//! lock as the store, which is what makes a watch exact.
//!
//! Notifying runs on the raft thread under the state lock, so its cost must not grow faster
//! than the watchers it wakes: watchers are grouped by watched path, each group a map by id,
//! so an event visits each candidate watcher once and fires or keeps it in the same pass
//! (O(k) for k watchers of a key), and a watcher that leaves is removed by id in O(1) plus the
//! path lookup. Sending never blocks: one-shot channels are empty when fed, and a stream too
//! slow to keep its buffer from filling is dropped.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use common::{ErrorCode, EtcdError};
use tokio::sync::mpsc;

use crate::store::Event;

/// Events buffered for one streaming watcher before it is considered too slow and dropped
/// (its stream ends and the client re-watches from its last index).
pub const STREAM_WATCH_BUFFER: usize = 1024;

/// Most watchers the server keeps at once; beyond it new watches are refused.
pub const MAX_WATCHERS: usize = 100_000;

/// Identifies a registered watcher.
pub type WatcherId = u64;

/// What a watcher receives: an event, or the error that ends it (400, cleared because the
/// member installed a snapshot whose events it never saw one by one).
pub type Delivery = Result<Arc<Event>, EtcdError>;

struct Watcher {
    recursive: bool,
    /// Only events with an index at or above this are delivered.
    since: u64,
    stream: bool,
    tx: mpsc::Sender<Delivery>,
}

/// All waiting watchers, grouped by watched path.
#[derive(Default)]
pub struct WatchHub {
    /// Watchers by path, then by id.
    by_path: BTreeMap<String, HashMap<WatcherId, Watcher>>,
    /// The path of every watcher, for removal by id.
    paths: HashMap<WatcherId, String>,
    next_id: WatcherId,
    /// Watchers looked at by notify and remove, for the tests that check the cost is O(k).
    visited: u64,
}

impl WatchHub {
    /// Registers a watcher; events arrive on the returned receiver. `None` when the hub is full.
    pub fn add(
        &mut self,
        path: &str,
        recursive: bool,
        since: u64,
        stream: bool,
    ) -> Option<(WatcherId, mpsc::Receiver<Delivery>)> {
        if self.paths.len() >= MAX_WATCHERS {
            return None;
        }
        // A stream keeps one slot free for the error that may end it; a one-shot watcher's
        // only slot is empty until it fires and leaves.
        let (tx, rx) = mpsc::channel(if stream { STREAM_WATCH_BUFFER + 1 } else { 1 });
        self.next_id += 1;
        let id = self.next_id;
        self.by_path.entry(path.to_string()).or_default().insert(
            id,
            Watcher {
                recursive,
                since,
                stream,
                tx,
            },
        );
        self.paths.insert(id, path.to_string());
        Some((id, rx))
    }

    /// Removes a watcher (its client went away).
    pub fn remove(&mut self, id: WatcherId) {
        let Some(path) = self.paths.remove(&id) else {
            return;
        };
        if let Some(group) = self.by_path.get_mut(&path) {
            self.visited += 1;
            group.remove(&id);
            if group.is_empty() {
                self.by_path.remove(&path);
            }
        }
    }

    /// How many watchers are waiting.
    pub fn len(&self) -> usize {
        self.paths.len()
    }

    /// Whether no watcher is waiting.
    pub fn is_empty(&self) -> bool {
        self.paths.is_empty()
    }

    /// Hands each event to every watcher it matches; one-shot watchers leave once fed, and so
    /// does a stream whose buffer is full (too slow).
    pub fn notify(&mut self, events: &[Arc<Event>]) {
        if self.paths.is_empty() {
            return;
        }
        for ev in events {
            if ev.refresh {
                continue;
            }
            let shared = ev.clone();
            for path in candidate_paths(&self.by_path, ev) {
                let Some(group) = self.by_path.get_mut(&path) else {
                    continue;
                };
                let visited = &mut self.visited;
                let paths = &mut self.paths;
                group.retain(|id, w| {
                    *visited += 1;
                    if ev.index < w.since || !ev.matches(&path, w.recursive) {
                        return true;
                    }
                    let keep = if w.stream {
                        // The last slot is the error's.
                        w.tx.capacity() > 1 && w.tx.try_send(Ok(shared.clone())).is_ok()
                    } else {
                        let _ = w.tx.try_send(Ok(shared.clone()));
                        false
                    };
                    if !keep {
                        paths.remove(id);
                    }
                    keep
                });
                if group.is_empty() {
                    self.by_path.remove(&path);
                }
            }
        }
    }

    /// Ends every watcher with error 400 (`watcher is cleared due to etcd recovery`): the
    /// store was replaced by a snapshot, so the events inside it were never delivered. A
    /// stream gets what was buffered, then the error as its last chunk.
    pub fn clear_all(&mut self, index: u64) {
        let err = EtcdError::new(ErrorCode::WatcherCleared, "", index);
        for (_, group) in std::mem::take(&mut self.by_path) {
            for (_, w) in group {
                self.visited += 1;
                // Never blocks: a one-shot channel is empty, a stream keeps a slot free.
                let _ = w.tx.try_send(Err(err.clone()));
            }
        }
        self.paths.clear();
    }

    #[cfg(test)]
    fn visited(&self) -> u64 {
        self.visited
    }
}

/// Paths whose watchers may match: the event's key and its ancestors, and for a directory
/// (whose removal reaches everything inside) the watched paths below it. Those are found by
/// a range of the ordered map, so the cost follows the paths that exist, not the watchers.
fn candidate_paths<V>(by_path: &BTreeMap<String, V>, ev: &Event) -> Vec<String> {
    let key = ev.node.key.as_str();
    let mut out = Vec::new();
    let mut push = |path: &str| {
        if by_path.contains_key(path) {
            out.push(path.to_string());
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
        out.extend(by_path.range(lower..upper).map(|(p, _)| p.clone()));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::command::KeyCommand;
    use crate::store::Store;
    use crate::time::Timestamp;

    fn set(store: &mut Store, key: &str, value: &str) -> Vec<Arc<Event>> {
        store
            .apply(&KeyCommand::Set {
                key: key.into(),
                value: value.into(),
                dir: false,
                expire_at: None,
                refresh: false,
                now: Timestamp(1),
            })
            .unwrap()
    }

    #[test]
    fn notifying_many_watchers_of_one_key_is_linear() {
        const K: u64 = 100_000;
        let mut hub = WatchHub::default();
        let mut store = Store::new(10);
        let mut rxs = Vec::new();
        for _ in 0..K {
            rxs.push(hub.add("/hot", false, 1, false).unwrap());
        }
        assert_eq!(hub.visited(), 0);
        hub.notify(&set(&mut store, "/hot", "v"));
        assert_eq!(hub.visited(), K, "each watcher looked at once");
        assert!(hub.is_empty(), "the one-shot watchers left");
        for (_, rx) in rxs.iter_mut() {
            let got = rx.try_recv().unwrap().unwrap();
            assert_eq!(got.node.key, "/hot");
        }
        // Removing (clients that already went) costs nothing more per watcher.
        for (id, _) in &rxs {
            hub.remove(*id);
        }
        assert_eq!(hub.visited(), K);
    }

    #[test]
    fn removing_watchers_one_by_one_is_linear() {
        const K: u64 = 100_000;
        let mut hub = WatchHub::default();
        let ids: Vec<WatcherId> = (0..K)
            .map(|_| hub.add("/hot", true, 1, true).unwrap().0)
            .collect();
        for id in ids {
            hub.remove(id);
        }
        assert_eq!(hub.visited(), K);
        assert!(hub.is_empty());
        assert!(hub.by_path.is_empty());
    }

    #[test]
    fn streams_keep_going_and_slow_ones_leave_with_a_slot_for_the_error() {
        let mut hub = WatchHub::default();
        let mut store = Store::new(2000);
        let (_, mut fast) = hub.add("/s", true, 1, true).unwrap();
        let (_, mut slow) = hub.add("/s", true, 1, true).unwrap();
        let (_, mut hidden) = hub.add("/", true, 1, true).unwrap();
        // Watchers of other keys are not looked at.
        let (_, _cold) = hub.add("/cold", false, 1, false).unwrap();
        for i in 0..STREAM_WATCH_BUFFER + 5 {
            hub.notify(&set(&mut store, &format!("/s/k{i}"), "v"));
            hub.notify(&set(&mut store, "/_h", "v"));
            while let Ok(d) = fast.try_recv() {
                assert!(d.unwrap().node.key.starts_with("/s/"));
            }
        }
        assert_eq!(hub.len(), 2, "the slow stream and the root one left");
        let events = 2 * (STREAM_WATCH_BUFFER + 5) as u64;
        // Every event visits the three streams (until two leave), never /cold.
        assert!(hub.visited() <= 3 * events, "{}", hub.visited());
        let mut n = 0;
        while let Ok(d) = slow.try_recv() {
            d.unwrap();
            n += 1;
        }
        assert_eq!(n, STREAM_WATCH_BUFFER, "one slot stayed free");
        // The root watcher never saw the hidden key.
        while let Ok(d) = hidden.try_recv() {
            assert!(!d.unwrap().node.key.starts_with("/_"));
        }
        hub.clear_all(store.index());
        let err = fast.try_recv().unwrap().unwrap_err();
        assert_eq!(err.code, ErrorCode::WatcherCleared);
        assert!(hub.is_empty());
    }

    #[test]
    fn clearing_ends_one_shot_and_stream_watchers_with_400() {
        let mut hub = WatchHub::default();
        let mut store = Store::new(10);
        let (_, mut once) = hub.add("/a", false, 1, false).unwrap();
        let (_, mut stream) = hub.add("/a", false, 1, true).unwrap();
        hub.notify(&set(&mut store, "/a", "1"));
        assert!(once.try_recv().unwrap().is_ok());
        hub.clear_all(7);
        assert!(stream.try_recv().unwrap().is_ok(), "buffered events first");
        let err = stream.try_recv().unwrap().unwrap_err();
        assert_eq!((err.code, err.index), (ErrorCode::WatcherCleared, 7));
        assert!(stream.try_recv().is_err(), "then the stream ends");
        let (_, mut later) = hub.add("/a", false, 1, false).unwrap();
        hub.clear_all(8);
        assert_eq!(later.try_recv().unwrap().unwrap_err().index, 8);
    }
}

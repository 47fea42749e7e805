//! Starting a watch: the history scan and the registration, decided under the state lock
//! (see [`super::SharedState::watch`]), and the registration a watch's response holds.

use std::collections::VecDeque;
use std::sync::Arc;
use std::task::{Context, Poll};

use common::{ErrorCode, EtcdError};
use tokio::sync::mpsc;

use super::{SharedState, StoreState};
use crate::store::{Event, KeyPath};
use crate::watch::{Delivery, WatcherId};

/// How a watch begins. `W` is what holds the watcher's place: under the lock the hub's id
/// and receiver ([`HubSlot`]), handed out as a [`Registration`] that unregisters on drop.
pub enum WatchStart<W = Registration> {
    /// A one-shot watch whose event is already in the history: answered at once, never
    /// registered.
    Immediate {
        /// The store's index when the watch started.
        index: u64,
        /// The first matching event at or after `waitIndex`.
        event: Arc<Event>,
    },
    /// A registered watcher. A stream first replays every matching event still in the
    /// history from `waitIndex` on, in index order, then goes on live from the next index: no
    /// gap, no duplicate.
    Registered {
        /// The store's index when the watch started.
        index: u64,
        /// History events to send before the live ones (only ever non-empty for a stream).
        replay: VecDeque<Arc<Event>>,
        /// Where live events (or the error that ends the watch) arrive.
        watcher: W,
    },
}

/// A watcher's id in the hub and the receiving end of its channel, as the hub made them.
pub(super) type HubSlot = (WatcherId, mpsc::Receiver<Delivery>);

impl<W> WatchStart<W> {
    /// The store's index when the watch started (the answer's `X-Etcd-Index`).
    pub fn index(&self) -> u64 {
        match self {
            WatchStart::Immediate { index, .. } | WatchStart::Registered { index, .. } => *index,
        }
    }

    /// The same start with its watcher turned into another holder by `hold`.
    pub(super) fn map_watcher<V>(self, hold: impl FnOnce(W) -> V) -> WatchStart<V> {
        match self {
            WatchStart::Immediate { index, event } => WatchStart::Immediate { index, event },
            WatchStart::Registered {
                index,
                replay,
                watcher,
            } => WatchStart::Registered {
                index,
                replay,
                watcher: hold(watcher),
            },
        }
    }
}

impl StoreState {
    /// Scans the history from `wait_index` (0: from now on) and registers the watcher unless a
    /// one-shot watch was answered from the history. 401 when `wait_index` has left the
    /// history; 300 when the hub is full.
    pub(super) fn start_watch(
        &mut self,
        key: &KeyPath,
        recursive: bool,
        wait_index: u64,
        stream: bool,
    ) -> Result<WatchStart<HubSlot>, EtcdError> {
        let current = self.store.index();
        let mut replay = VecDeque::new();
        let mut since = current + 1;
        if wait_index > 0 && wait_index <= current {
            let mut from = wait_index;
            while from <= current {
                match self.store.history_since(key, recursive, from)? {
                    Some(ev) => {
                        from = ev.index + 1;
                        if !stream {
                            return Ok(WatchStart::Immediate {
                                index: current,
                                event: ev,
                            });
                        }
                        replay.push_back(ev);
                    }
                    None => break,
                }
            }
        } else if wait_index > current {
            since = wait_index;
        }
        let Some((id, rx)) = self.hub.add(key, recursive, since, stream) else {
            return Err(EtcdError::new(
                ErrorCode::RaftInternal,
                "too many watchers",
                current,
            ));
        };
        Ok(WatchStart::Registered {
            index: current,
            replay,
            watcher: (id, rx),
        })
    }
}

/// A watcher's place in the hub; dropping it removes the watcher, unless the hub already let
/// it go (it fired, was too slow, or was cleared): then no lock is taken, so thousands of
/// fired watchers do not queue on the state lock the raft thread needs.
pub struct Registration {
    id: WatcherId,
    rx: mpsc::Receiver<Delivery>,
    state: SharedState,
    in_hub: bool,
}

impl Registration {
    pub(super) fn new(
        id: WatcherId,
        rx: mpsc::Receiver<Delivery>,
        state: SharedState,
    ) -> Registration {
        Registration {
            id,
            rx,
            state,
            in_hub: true,
        }
    }

    /// The next delivery; `None` once the hub dropped the watcher (too slow a stream, or
    /// shutdown).
    pub fn poll_recv(&mut self, cx: &mut Context<'_>) -> Poll<Option<Delivery>> {
        self.rx.poll_recv(cx)
    }

    /// Lets go of a watcher the hub no longer holds (it fired, was dropped or was cleared),
    /// without taking the lock.
    pub fn release_fired(mut self) {
        self.in_hub = false;
    }
}

impl Drop for Registration {
    fn drop(&mut self) {
        if self.in_hub {
            self.state.unwatch(self.id);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cluster::Members;
    use crate::command::{Command, KeyCommand};
    use crate::state::shared;
    use crate::store::Store;
    use crate::time::Timestamp;

    fn state_with(history: usize, keys: &[&str]) -> SharedState {
        let st = shared(Store::new(history), Members::default(), Default::default());
        for k in keys {
            set(&st, k);
        }
        st
    }

    /// Applies a set of `key` to `v`, as the raft loop would.
    fn set(st: &SharedState, key: &str) {
        let cmd = Command::Key(KeyCommand::Set {
            key: key.into(),
            value: "v".into(),
            dir: false,
            expire_at: None,
            refresh: false,
            now: Timestamp(1),
        });
        st.write().apply_command(&cmd).unwrap();
    }

    fn keys(replay: &VecDeque<Arc<Event>>) -> Vec<(u64, &str)> {
        replay
            .iter()
            .map(|e| (e.index, e.node.key.as_str()))
            .collect()
    }

    #[test]
    fn one_shot_from_history_is_immediate_and_never_registered() {
        let st = state_with(10, &["/a", "/b", "/a"]);
        let start = st.watch(&"/a".into(), false, 2, false).unwrap();
        assert!(matches!(start, WatchStart::Immediate { index: 3, ref event } if event.index == 3));
        assert_eq!(st.stats().watchers, 0);
    }

    #[test]
    fn a_stream_replays_history_then_goes_on_live_from_the_next_index() {
        let st = state_with(10, &["/d/x", "/b", "/d/y"]);
        let WatchStart::Registered {
            index,
            replay,
            mut watcher,
        } = st.watch(&"/d".into(), true, 1, true).unwrap()
        else {
            panic!("a stream registers");
        };
        assert_eq!(index, 3);
        assert_eq!(keys(&replay), [(1, "/d/x"), (3, "/d/y")]);
        assert_eq!(st.stats().watchers, 1);
        set(&st, "/d/z");
        let waker = futures::task::noop_waker();
        let mut cx = Context::from_waker(&waker);
        let Poll::Ready(Some(Ok(ev))) = watcher.poll_recv(&mut cx) else {
            panic!("the live event arrives");
        };
        assert_eq!(ev.index, 4);
        drop(watcher);
        assert_eq!(
            st.stats().watchers,
            0,
            "dropping the registration unregisters"
        );
    }

    #[test]
    fn future_and_missing_indexes() {
        let st = state_with(2, &["/a", "/a", "/a"]);
        // waitIndex ahead of the store: registered, nothing replayed.
        let start = st.watch(&"/a".into(), false, 9, false).unwrap();
        assert!(
            matches!(start, WatchStart::Registered { index: 3, ref replay, .. } if replay.is_empty())
        );
        // Nothing in the history matches: registered too.
        let start = st.watch(&"/other".into(), false, 2, false).unwrap();
        assert!(matches!(start, WatchStart::Registered { .. }));
        assert_eq!(st.stats().watchers, 2);
        drop(start);
        // Index 1 has left a two-event history: 401.
        let err = st.watch(&"/a".into(), false, 1, true).err().unwrap();
        assert_eq!((err.code, err.index), (ErrorCode::EventIndexCleared, 3));
    }

    /// A hostile client cannot grow the hub without bound: at [`MAX_WATCHERS`] the next watch
    /// is refused with a clear error, others are still notified, and a freed slot is usable.
    /// (Over HTTP the client port's connection cap, 10,000, binds first: one watch per
    /// connection.)
    #[test]
    fn the_hub_holds_at_most_max_watchers_and_refuses_the_next_clearly() {
        use crate::watch::MAX_WATCHERS;
        let st = state_with(10, &["/a"]);
        let mut held: Vec<WatchStart> = (0..MAX_WATCHERS)
            .map(|i| {
                st.watch(&format!("/w/{}", i % 100).as_str().into(), false, 0, false)
                    .unwrap()
            })
            .collect();
        assert_eq!(st.stats().watchers, MAX_WATCHERS);
        let err = st.watch(&"/w/0".into(), false, 0, false).err().unwrap();
        assert_eq!(
            (err.code, err.cause.as_str()),
            (ErrorCode::RaftInternal, "too many watchers")
        );
        drop(held.pop());
        let WatchStart::Registered { mut watcher, .. } =
            st.watch(&"/w/0".into(), false, 0, false).unwrap()
        else {
            panic!("a freed slot is usable");
        };
        set(&st, "/w/0");
        let waker = futures::task::noop_waker();
        let mut cx = Context::from_waker(&waker);
        assert!(matches!(
            watcher.poll_recv(&mut cx),
            Poll::Ready(Some(Ok(_)))
        ));
        // The 1,000 one-shot watchers on /w/0 and the new one fired and left the hub.
        assert_eq!(st.stats().watchers, MAX_WATCHERS - MAX_WATCHERS / 100 - 1);
    }
}

//! The façade the rest of the server holds on the state machine: a cheap-clone handle whose
//! methods each take the lock once, do one job and copy out what the caller needs. Nothing
//! outside this module sees the lock, so a watch's scan-then-register and a write's
//! apply-then-notify cannot be torn apart by a caller, and a poisoned lock is dealt with here.

use std::sync::{Arc, RwLock, RwLockReadGuard, RwLockWriteGuard};

use common::EtcdError;

use super::watch::{Registration, WatchStart};
use super::StoreState;
use crate::auth::{AuthState, UserRecord};
use crate::cluster::Members;
use crate::command::KeyCommand;
use crate::store::{KeyPath, NodeCounts, ReadView, Store, WriteStats};
use crate::time::Timestamp;
use crate::watch::{WatchHub, WatcherId};

/// A cheap-clone handle on [`StoreState`]. A std lock: it is never held across an `.await`,
/// and every critical section is short and CPU-only.
#[derive(Clone)]
pub struct SharedState(Arc<RwLock<StoreState>>);

/// The store's write counters, node counts and the number of live watchers
/// (`/v2/stats/store`, `/metrics`).
#[derive(Debug, Clone)]
pub struct StoreStats {
    /// Write counters, counted deterministically by the store.
    pub writes: WriteStats,
    /// Keys and directories in the tree (kept by the store: reading them is O(1)).
    pub nodes: NodeCounts,
    /// Watchers waiting now.
    pub watchers: usize,
}

/// Wraps a restored state for sharing.
pub fn shared(store: Store, members: Members, auth: AuthState) -> SharedState {
    SharedState(Arc::new(RwLock::new(StoreState {
        store,
        members,
        hub: WatchHub::default(),
        auth,
    })))
}

/// A panic while the lock was held (applying a command, most likely) may have left the state
/// half-changed: no answer from it can be trusted, so whoever meets the lock next panics too.
fn poisoned() -> ! {
    panic!("state lock poisoned: a panic while it was held left the state machine unusable")
}

impl SharedState {
    /// The state for reading, for the raft loop (snapshots, the member table).
    pub(crate) fn read(&self) -> RwLockReadGuard<'_, StoreState> {
        self.0.read().unwrap_or_else(|_| poisoned())
    }

    /// The state for changing, for the raft loop (applying entries, installing a snapshot).
    pub(crate) fn write(&self) -> RwLockWriteGuard<'_, StoreState> {
        self.0.write().unwrap_or_else(|_| poisoned())
    }

    /// The store's current etcd index.
    pub fn index(&self) -> u64 {
        self.read().store.index()
    }

    /// Copies out what a GET of `key` answers (see [`Store::read`]). The lock, which the
    /// raft loop waits for to apply writes, is held only for the lookup and an O(1) clone of
    /// the node ([`Store::detach`]); the copy, and the rendering after the call, run without it.
    pub fn get(
        &self,
        key: &KeyPath,
        recursive: bool,
        now: Timestamp,
    ) -> Result<ReadView, EtcdError> {
        let detached = self.read().store.detach(key, recursive, now)?;
        Ok(detached.view())
    }

    /// The error applying `cmd` now would raise, if it is bound to fail (see
    /// [`Store::refusal`]).
    pub fn refusal(&self, cmd: &KeyCommand) -> Option<EtcdError> {
        self.read().store.refusal(cmd)
    }

    /// Starts a watch on `key` (see [`WatchStart`]): the history scan and the registration
    /// happen under one write lock, so no event applies between them and none is missed or
    /// sent twice.
    pub fn watch(
        &self,
        key: &KeyPath,
        recursive: bool,
        wait_index: u64,
        stream: bool,
    ) -> Result<WatchStart, EtcdError> {
        let started = self
            .write()
            .start_watch(key, recursive, wait_index, stream)?;
        Ok(started.map_watcher(|(id, rx)| Registration::new(id, rx, self.clone())))
    }

    /// Removes a watcher whose client went away. Never panics (it runs in a drop).
    pub(super) fn unwatch(&self, id: WatcherId) {
        if let Ok(mut st) = self.0.write() {
            st.hub.remove(id);
        }
    }

    /// A copy of the member table (a handful of records).
    pub fn members(&self) -> Members {
        self.read().members.clone()
    }

    /// Whether auth is on (one read lock: every request asks).
    pub fn auth_enabled(&self) -> bool {
        self.read().auth.enabled
    }

    /// A user's record as etcd shows it.
    pub fn auth_user(&self, name: &str) -> Option<UserRecord> {
        self.read().auth.user(name)
    }

    /// Runs `f` on a user's stored password hash (no copy: every authenticated request asks).
    pub fn with_password_hash<T>(&self, name: &str, f: impl FnOnce(&str) -> T) -> Option<T> {
        self.read().auth.password_hash(name).map(f)
    }

    /// The first of `names` that is a user (a client certificate's CNs, leaf first), under
    /// one lock.
    pub fn first_user<'a>(&self, names: &'a [String]) -> Option<&'a str> {
        let st = self.read();
        names
            .iter()
            .find(|n| st.auth.password_hash(n).is_some())
            .map(String::as_str)
    }

    /// Whether `user` (`None`: no credentials) may read or write `key` (see
    /// [`AuthState::may`]).
    pub fn may(&self, user: Option<&str>, key: &str, write: bool, recursive: bool) -> bool {
        self.read().auth.may(user, key, write, recursive)
    }

    /// Whether `user` holds the root role (everyone does while auth is off).
    pub fn is_root(&self, user: Option<&str>) -> bool {
        self.read().auth.is_root(user)
    }

    /// A copy of the users and roles (small), for `/v2/auth` listings.
    pub fn auth(&self) -> AuthState {
        self.read().auth.clone()
    }

    /// The write counters, the node counts and the watcher count.
    pub fn stats(&self) -> StoreStats {
        let st = self.read();
        StoreStats {
            writes: st.store.stats().clone(),
            nodes: st.store.counts(),
            watchers: st.hub.len(),
        }
    }
}

//! The replicated state machine: the v2 store, the membership table and the live watchers,
//! under one lock. Only the raft loop changes it, in log order; everything here is pure (no
//! I/O, no clock), so every member applying the same log holds the same state.
//!
//! Keeping the watchers under the same lock is what makes a watch exact: a watcher scans the
//! history and registers while no write can apply, and a write applies and notifies while no
//! watcher can register, so no event falls between the two. The rest of the server reaches
//! the state only through the [`SharedState`] façade, which owns the lock.

mod shared;
mod snapshot;
mod watch;

pub use shared::{shared, SharedState, StoreStats};
pub use snapshot::{restore_snapshot, restore_snapshot_from, FrozenState, Restored};
pub use watch::{Registration, WatchStart};

use std::sync::Arc;

use common::EtcdError;
use raft::eraftpb::ConfChangeType;

use crate::auth::{AuthAnswer, AuthCommand, AuthError, AuthState};
use crate::cluster::{ChangeContext, MemberRecord, Members};
use crate::command::{ClusterCommand, Command, KeyCommand};
use crate::store::{Event, KeyPath, Store};
use crate::time::Timestamp;
use crate::watch::WatchHub;

/// The store, the members and the watchers.
pub struct StoreState {
    /// The v2 store.
    pub store: Store,
    /// The cluster's members.
    pub members: Members,
    /// Live watchers.
    pub hub: WatchHub,
    /// Users, roles and whether auth is on.
    pub auth: AuthState,
}

/// How a membership change ended when applied.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MemberChangeOutcome {
    /// Applied: raft must apply the conf change too. The registry events, if any.
    Applied(Vec<Arc<Event>>),
    /// Refused (deterministically, on every member): raft must not apply it.
    Refused(String),
}

impl StoreState {
    /// Applies a log entry's command: a key command to the store, a cluster command to the
    /// member table (and the registry writes it causes to the store), and notifies watchers.
    pub fn apply_command(&mut self, cmd: &Command) -> Result<Vec<Arc<Event>>, EtcdError> {
        let events = self.apply_command_unnotified(cmd)?;
        self.hub.notify(&events);
        Ok(events)
    }

    /// [`Self::apply_command`] without notifying watchers: the caller hands the events to
    /// [`Self::notify`] before it releases the state lock, so no watch can start between
    /// (its history scan and registration take the same lock).
    pub fn apply_command_unnotified(
        &mut self,
        cmd: &Command,
    ) -> Result<Vec<Arc<Event>>, EtcdError> {
        let events = match cmd {
            Command::Key(k) => self.store.apply(k)?,
            Command::Cluster(ClusterCommand::PublishMember {
                id,
                name,
                peer_urls,
                client_urls,
                now,
            }) => self.publish(*id, name, peer_urls, client_urls, *now),
            // An auth change touches no key; the raft loop calls apply_auth to get its answer,
            // a replay (-force-new-cluster) comes here and needs only the effect.
            Command::Auth(a) => {
                let _ = self.auth.apply(a);
                Vec::new()
            }
        };
        Ok(events)
    }

    /// Hands applied events to the watchers waiting for them.
    pub fn notify(&mut self, events: &[Arc<Event>]) {
        self.hub.notify(events);
    }

    /// Whether any watcher waits (when none does, applied events need not be kept to notify).
    pub fn has_watchers(&self) -> bool {
        !self.hub.is_empty()
    }

    /// Applies a change to users, roles or the auth switch.
    pub fn apply_auth(&mut self, cmd: &AuthCommand) -> Result<AuthAnswer, AuthError> {
        self.auth.apply(cmd)
    }

    /// Ends every watcher with error 400: the store was just replaced by a snapshot, whose
    /// events they never saw one by one.
    pub fn clear_watchers(&mut self) {
        let index = self.store.index();
        self.hub.clear_all(index);
    }

    fn publish(
        &mut self,
        id: u64,
        name: &str,
        peer_urls: &[String],
        client_urls: &[String],
        now: Timestamp,
    ) -> Vec<Arc<Event>> {
        let Some(before) = self.members.publish(id, name, peer_urls, client_urls) else {
            tracing::warn!(
                id,
                name,
                "ignoring publication of an unknown member or taken name"
            );
            return Vec::new();
        };
        let after = self.members.get(id).cloned().expect("just published");
        let mut events = Vec::new();
        if !before.name.is_empty() && before.name != after.name {
            events.extend(self.unregister(&before, now));
        }
        events.extend(self.register(&after, now));
        events
    }

    /// Validates a conf change against the member table and records it there (and in the
    /// `/_etcd/machines` registry, one index per added or removed named member, as etcd 0.2).
    pub fn apply_member_change(
        &mut self,
        change: ConfChangeType,
        node_id: u64,
        ctx: &ChangeContext,
    ) -> MemberChangeOutcome {
        let events = match change {
            ConfChangeType::AddNode => {
                if let Some(existing) = self.members.get(node_id) {
                    if existing.learner {
                        self.members.promote(node_id);
                    }
                    Vec::new()
                } else {
                    match self.add(node_id, ctx, false) {
                        Ok(evs) => evs,
                        Err(why) => return MemberChangeOutcome::Refused(why),
                    }
                }
            }
            ConfChangeType::AddLearnerNode => match self.add(node_id, ctx, true) {
                Ok(evs) => evs,
                Err(why) => return MemberChangeOutcome::Refused(why),
            },
            ConfChangeType::RemoveNode => match self.members.remove(node_id) {
                Some(old) => self.unregister(&old, ctx.now),
                None => {
                    return MemberChangeOutcome::Refused(format!(
                        "no such member: {}",
                        crate::cluster::id_hex(node_id)
                    ))
                }
            },
        };
        self.hub.notify(&events);
        MemberChangeOutcome::Applied(events)
    }

    fn add(
        &mut self,
        node_id: u64,
        ctx: &ChangeContext,
        learner: bool,
    ) -> Result<Vec<Arc<Event>>, String> {
        let Some(member) = ctx.member.clone() else {
            return Err("an added member needs its record".into());
        };
        if member.id != node_id {
            return Err("member record and conf change disagree on the id".into());
        }
        self.members.check_add(&member)?;
        if let Some(cid) = ctx.cluster_id {
            self.members.set_cluster_id(cid);
        }
        let member = MemberRecord { learner, ..member };
        self.members.add(member.clone());
        Ok(self.register(&member, ctx.now))
    }

    /// Writes `/_etcd/machines/<name>` when it is missing or says something else.
    fn register(&mut self, m: &MemberRecord, now: Timestamp) -> Vec<Arc<Event>> {
        if m.name.is_empty() {
            return Vec::new();
        }
        let key = KeyPath::verbatim(m.machine_key());
        let value = m.machine_value();
        let current = self.store.get(&key, false, now).ok();
        if current.and_then(|ev| ev.node.value).as_deref() == Some(value.as_str()) {
            return Vec::new();
        }
        let cmd = KeyCommand::Set {
            key,
            value,
            dir: false,
            expire_at: None,
            refresh: false,
            now,
        };
        self.store.apply(&cmd).unwrap_or_else(|e| {
            tracing::warn!("cannot register member {}: {e:?}", m.name);
            Vec::new()
        })
    }

    /// Deletes `/_etcd/machines/<name>` of a member that left or was renamed.
    fn unregister(&mut self, m: &MemberRecord, now: Timestamp) -> Vec<Arc<Event>> {
        if m.name.is_empty() {
            return Vec::new();
        }
        let cmd = KeyCommand::Delete {
            key: KeyPath::verbatim(m.machine_key()),
            dir: false,
            recursive: false,
            now,
        };
        self.store.apply(&cmd).unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ctx(member: Option<MemberRecord>) -> ChangeContext {
        ChangeContext {
            member,
            cluster_id: Some(77),
            now: Timestamp(1),
        }
    }

    fn state() -> StoreState {
        StoreState {
            store: Store::new(100),
            members: Members::default(),
            hub: WatchHub::default(),
            auth: AuthState::default(),
        }
    }

    #[test]
    fn joins_take_one_index_each_as_in_the_seed() {
        let mut st = state();
        let r = st.apply_member_change(
            ConfChangeType::AddNode,
            1,
            &ctx(Some(MemberRecord::loopback(1, "machine1"))),
        );
        assert!(matches!(r, MemberChangeOutcome::Applied(ref e) if e[0].index == 1));
        let r = st.apply_member_change(
            ConfChangeType::AddLearnerNode,
            2,
            &ctx(Some(MemberRecord::loopback(2, "machine2"))),
        );
        assert!(matches!(r, MemberChangeOutcome::Applied(ref e) if e[0].index == 2));
        assert!(st.members.get(2).unwrap().learner);
        // Promotion writes nothing.
        let r = st.apply_member_change(ConfChangeType::AddNode, 2, &ctx(None));
        assert_eq!(r, MemberChangeOutcome::Applied(vec![]));
        assert!(!st.members.get(2).unwrap().learner);
        assert_eq!(st.store.index(), 2);
        assert_eq!(st.members.cluster_id(), 77);
        let ev = st
            .store
            .get(
                &KeyPath::from("/_etcd/machines/machine2"),
                false,
                Timestamp(1),
            )
            .unwrap();
        assert_eq!(
            ev.node.value.as_deref(),
            Some("raft=http://127.0.0.1:7002&etcd=http://127.0.0.1:4002")
        );
    }

    #[test]
    fn refusals_change_nothing_and_removal_unregisters() {
        let mut st = state();
        st.apply_member_change(
            ConfChangeType::AddNode,
            1,
            &ctx(Some(MemberRecord::loopback(1, "machine1"))),
        );
        let dup = MemberRecord {
            id: 5,
            ..MemberRecord::loopback(1, "machine1")
        };
        let r = st.apply_member_change(ConfChangeType::AddLearnerNode, 5, &ctx(Some(dup)));
        assert!(matches!(r, MemberChangeOutcome::Refused(_)));
        assert_eq!(st.store.index(), 1);
        let r = st.apply_member_change(ConfChangeType::RemoveNode, 9, &ctx(None));
        assert!(matches!(r, MemberChangeOutcome::Refused(_)));
        let r = st.apply_member_change(ConfChangeType::RemoveNode, 1, &ctx(None));
        assert!(matches!(r, MemberChangeOutcome::Applied(ref e) if e.len() == 1));
        assert!(st.members.is_removed(1));
        assert!(st
            .store
            .get(
                &KeyPath::from("/_etcd/machines/machine1"),
                false,
                Timestamp(1)
            )
            .is_err());
    }

    #[test]
    fn publishing_the_same_urls_writes_nothing() {
        let mut st = state();
        let mut unnamed = MemberRecord::loopback(3, "");
        unnamed.client_urls.clear();
        st.apply_member_change(ConfChangeType::AddLearnerNode, 3, &ctx(Some(unnamed)));
        assert_eq!(st.store.index(), 0, "an unstarted member is not registered");
        let publish = Command::Cluster(ClusterCommand::PublishMember {
            id: 3,
            name: "machine3".into(),
            peer_urls: vec!["http://127.0.0.1:7003".into()],
            client_urls: vec!["http://127.0.0.1:4003".into()],
            now: Timestamp(2),
        });
        assert_eq!(st.apply_command(&publish).unwrap().len(), 1);
        assert_eq!(st.apply_command(&publish).unwrap().len(), 0);
        assert_eq!(st.members.get(3).unwrap().name, "machine3");
    }
}

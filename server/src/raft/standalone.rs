//! `-force-new-cluster`: etcd's recovery after losing quorum (`restartAsStandaloneNode`).
//! Before raft starts, the data dir is rewritten as a new one-member cluster that holds the
//! state machine as of the last committed entry.
//!
//! 1. Replay: the newest snapshot, then the log's entries up to the commit index, into the
//!    state machine, as a restart would apply them. Entries after the commit index are dropped,
//!    as etcd does: no member can say whether they were committed, so none was acknowledged
//!    as written by this member's knowledge.
//! 2. Reduce: every other member is removed from the member table (their `/_etcd/machines`
//!    entries with them; their ids are never to be used again), this member is a voter under
//!    the `-name` and URLs it starts with, and the cluster gets a new id, so that the old
//!    members' messages (which carry the old id) are refused.
//! 3. Write: a snapshot of that state one index past the commit index, then one raft-engine
//!    write wiping the log and recording the new state with `[self]` as raft's configuration
//!    (see `storage::fresh_start`), then, for a copy made by `etcdctl backup`, the removal of
//!    its marker. A crash before the raft-engine write leaves the old data dir; one after it,
//!    the new one (a backup still carries its marker, so it is only started again with
//!    the flag, which does it all again on a cluster no one has joined yet).
//!
//! A data dir that already is a one-member cluster of this member, under this name, is left
//! as it is: starting again with the flag is harmless. Anything else is rewritten, however
//! many members it had.

use raft::eraftpb::{ConfChangeType, ConfState};
use raft::Storage as _;

use super::replay::replay;
use crate::cluster::{id_hex, new_cluster_id, ChangeContext, MemberRecord};
use crate::command::{ClusterCommand, Command};
use crate::state::StoreState;
use crate::storage::{MemberIdentity, RaftStorage, StorageFailure};
use crate::time::Timestamp;

/// The member `-force-new-cluster` starts, as its flags describe it.
#[derive(Debug, Clone)]
pub struct Standalone {
    /// `-name`: the member takes it, whatever name the data dir had.
    pub name: String,
    /// Advertised peer URL.
    pub peer_url: String,
    /// Advertised client URL.
    pub client_url: String,
    /// Events kept for watchers (the replayed store's history).
    pub history_size: usize,
    /// The marker of a copy made by `etcdctl backup`, when the data dir is one: always
    /// rewritten (it holds another member's identity and cluster id), and the marker is
    /// removed last.
    pub backup_marker: Option<std::path::PathBuf>,
}

/// What `-force-new-cluster` did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Recovery {
    /// The data dir already was a one-member cluster of this member: nothing was changed.
    AlreadyAlone,
    /// The data dir was rewritten as a new one-member cluster.
    Recovered {
        /// The raft index of the new snapshot (one past the old commit index).
        index: u64,
        /// The etcd index of the recovered store.
        etcd_index: u64,
        /// Uncommitted log entries dropped.
        dropped_entries: u64,
        /// The members removed (hex id and name).
        dropped_members: Vec<String>,
        /// The new cluster id.
        cluster_id: u64,
    },
}

/// Why `-force-new-cluster` could not run; the data dir is unchanged.
#[derive(Debug, thiserror::Error)]
pub enum RecoveryError {
    /// The data dir could not be read or written.
    #[error("{0}")]
    Storage(#[from] StorageFailure),
    /// raft-rs's view of the storage failed.
    #[error("raft log: {0}")]
    Raft(#[from] raft::Error),
    /// The snapshot in the data dir is unreadable.
    #[error("snapshot in data dir is unreadable: {0}")]
    Snapshot(String),
    /// There is no member state to recover.
    #[error("-force-new-cluster: the data dir holds no member to recover (a new or empty dir?)")]
    NoMember,
    /// The member was removed from its cluster: its data stopped at the removal.
    #[error("-force-new-cluster: this data dir belongs to a member that was removed from its cluster; its data ends at the removal, so it is not recovered")]
    Removed,
}

/// Rewrites the data dir behind `storage` as a new one-member cluster of `me` (see the module
/// docs); `now` is the wall clock, for the new cluster id and the registry events.
pub fn force_new_cluster(
    storage: &mut RaftStorage,
    me: &Standalone,
    now: Timestamp,
) -> Result<Recovery, RecoveryError> {
    let identity = storage.member().ok_or(RecoveryError::NoMember)?;
    if storage.is_removed() {
        return Err(RecoveryError::Removed);
    }
    let replayed = replay(storage, me.history_size)?;
    let alone = {
        let st = replayed.state.read();
        let mut members = st.members.iter();
        matches!((members.next(), members.next()), (Some(m), None) if m.id == identity.id && !m.learner)
    };
    if alone && identity.name == me.name && me.backup_marker.is_none() {
        return Ok(Recovery::AlreadyAlone);
    }
    let (dropped_members, cluster_id) = {
        let mut st = replayed.state.write();
        reduce_to(&mut st, identity.id, me, now)
    };
    let (data, etcd_index) = {
        let st = replayed.state.read();
        (st.snapshot(), st.store.index())
    };
    let hard_state = storage.initial_state()?.hard_state;
    // At least 1: raft has no term 0 for an entry it holds (a data dir with nothing committed).
    let term = hard_state.term.max(replayed.term).max(1);
    let index = replayed.commit + 1;
    storage.write_fresh_snapshot(term, index, &data)?;
    crash_point("force-new-cluster:snapshot-written");
    let conf_state = ConfState {
        voters: vec![identity.id],
        ..Default::default()
    };
    let new_identity = MemberIdentity {
        id: identity.id,
        name: me.name.clone(),
    };
    storage.start_over(&new_identity, term, index, conf_state)?;
    crash_point("force-new-cluster:log-replaced");
    if let Some(marker) = &me.backup_marker {
        std::fs::remove_file(marker).map_err(StorageFailure::Io)?;
        if let Some(dir) = marker.parent() {
            std::fs::File::open(dir)
                .and_then(|d| d.sync_all())
                .map_err(StorageFailure::Io)?;
        }
    }
    Ok(Recovery::Recovered {
        index,
        etcd_index,
        dropped_entries: replayed.last - replayed.commit,
        dropped_members,
        cluster_id,
    })
}

/// Makes `st` the state of a new one-member cluster of member `id`: every other member
/// removed, this one a voter named and reached as `me` says, a new cluster id. Returns the
/// removed members and the new cluster id.
fn reduce_to(st: &mut StoreState, id: u64, me: &Standalone, now: Timestamp) -> (Vec<String>, u64) {
    let ctx = ChangeContext::at(now);
    let others: Vec<MemberRecord> = st.members.iter().filter(|m| m.id != id).cloned().collect();
    for m in &others {
        st.apply_member_change(ConfChangeType::RemoveNode, m.id, &ctx);
    }
    let record = MemberRecord {
        id,
        name: me.name.clone(),
        peer_urls: vec![me.peer_url.clone()],
        client_urls: vec![me.client_url.clone()],
        learner: false,
    };
    // Not yet in the table (a member whose own addition never reached it), or a learner:
    // added, or promoted, as a voter.
    let add = ChangeContext {
        member: Some(record.clone()),
        ..ctx
    };
    if st.members.get(id).is_none_or(|m| m.learner) {
        st.apply_member_change(ConfChangeType::AddNode, id, &add);
    }
    let publish = Command::Cluster(ClusterCommand::PublishMember {
        id,
        name: record.name,
        peer_urls: record.peer_urls,
        client_urls: record.client_urls,
        now,
    });
    let _ = st.apply_command(&publish);
    let old = st.members.cluster_id();
    let mut cluster_id = new_cluster_id(&me.name, now);
    let mut salt = 1;
    while cluster_id == old || cluster_id == 0 {
        cluster_id = new_cluster_id(&me.name, Timestamp(now.0.wrapping_add(salt)));
        salt += 1;
    }
    st.members.renew_cluster_id(cluster_id);
    let dropped = others
        .iter()
        .map(|m| format!("{} ({})", id_hex(m.id), m.name))
        .collect();
    (dropped, cluster_id)
}

/// Debug builds: aborts the process at `step` when `ETCD_DEBUG_FAILPOINT` names it (a crash
/// there, for the tests that show each step leaves a whole data dir).
fn crash_point(step: &str) {
    #[cfg(debug_assertions)]
    super::failpoint::crash_at(step);
    #[cfg(not(debug_assertions))]
    let _ = step;
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cluster::Members;
    use crate::command::KeyCommand;
    use crate::state::restore_snapshot;
    use crate::store::{KeyPath, Store};
    use raft::eraftpb::{Entry, EntryType, HardState};

    fn conf_change(index: u64, change: ConfChangeType, id: u64, ctx: ChangeContext) -> Entry {
        let mut e = Entry {
            index,
            term: 1,
            data: ctx.conf_change_bytes(change, id).into(),
            ..Default::default()
        };
        e.set_entry_type(EntryType::EntryConfChange);
        e
    }

    fn set(index: u64, key: &str) -> Entry {
        let cmd = Command::Key(KeyCommand::Set {
            key: KeyPath::from(key),
            value: format!("value of {key}"),
            dir: false,
            expire_at: None,
            refresh: false,
            now: Timestamp(1),
        });
        Entry {
            index,
            term: 2,
            data: cmd.encode().into(),
            ..Default::default()
        }
    }

    /// Member 1 of a two-member cluster (cluster id 77): both added, two keys committed, a
    /// third in the log but not committed.
    fn member_of_two(dir: &std::path::Path) -> RaftStorage {
        let mut s = RaftStorage::open(dir).unwrap();
        let me = MemberIdentity {
            id: 1,
            name: "m1".into(),
        };
        s.initialise(&me, &[]).unwrap();
        let first = ChangeContext {
            member: Some(MemberRecord::loopback(1, "m1")),
            cluster_id: Some(77),
            now: Timestamp(1),
        };
        let second = ChangeContext {
            member: Some(MemberRecord::loopback(2, "m2")),
            ..ChangeContext::at(Timestamp(1))
        };
        let entries = [
            conf_change(1, ConfChangeType::AddNode, 1, first),
            conf_change(2, ConfChangeType::AddLearnerNode, 2, second),
            conf_change(
                3,
                ConfChangeType::AddNode,
                2,
                ChangeContext::at(Timestamp(1)),
            ),
            set(4, "/a"),
            set(5, "/_hidden/x"),
            set(6, "/uncommitted"),
        ];
        let hs = HardState {
            term: 2,
            vote: 2,
            commit: 5,
            ..Default::default()
        };
        s.persist(&entries, Some(&hs), true).unwrap();
        s
    }

    fn standalone(name: &str) -> Standalone {
        Standalone {
            name: name.into(),
            peer_url: "http://127.0.0.1:9001".into(),
            client_url: "http://127.0.0.1:9002".into(),
            history_size: 100,
            backup_marker: None,
        }
    }

    fn recovered_state(dir: &std::path::Path) -> (RaftStorage, Store, Members) {
        let s = RaftStorage::open(dir).unwrap();
        let data = s.snapshot_data().unwrap().expect("a snapshot");
        let r = restore_snapshot(&data, 100).unwrap();
        (s, r.store, r.members)
    }

    fn value(store: &Store, key: &str) -> Option<String> {
        store
            .get(&KeyPath::verbatim(key.into()), false, Timestamp(1))
            .ok()
            .and_then(|ev| ev.node.value)
    }

    #[test]
    fn a_member_of_two_becomes_a_cluster_of_one_with_every_committed_key() {
        let dir = tempfile::tempdir().unwrap();
        let mut s = member_of_two(dir.path());
        let done = force_new_cluster(&mut s, &standalone("m1"), Timestamp(1000)).unwrap();
        let Recovery::Recovered {
            index,
            dropped_entries,
            dropped_members,
            cluster_id,
            ..
        } = done
        else {
            panic!("not recovered: {done:?}");
        };
        assert_eq!((index, dropped_entries), (6, 1));
        assert_eq!(dropped_members, vec![format!("{} (m2)", id_hex(2))]);
        assert_ne!(cluster_id, 77);
        drop(s);

        let (s, store, members) = recovered_state(dir.path());
        assert_eq!(value(&store, "/a").as_deref(), Some("value of /a"));
        assert_eq!(
            value(&store, "/_hidden/x").as_deref(),
            Some("value of /_hidden/x")
        );
        assert_eq!(value(&store, "/uncommitted"), None, "uncommitted: dropped");
        assert_eq!(value(&store, "/_etcd/machines/m2"), None);
        assert_eq!(
            value(&store, "/_etcd/machines/m1").as_deref(),
            Some("raft=http://127.0.0.1:9001&etcd=http://127.0.0.1:9002")
        );
        let ids: Vec<u64> = members.iter().map(|m| m.id).collect();
        assert_eq!(ids, vec![1]);
        assert!(
            members.is_removed(2),
            "the old member's id is never used again"
        );
        assert_eq!(members.cluster_id(), cluster_id);
        let st = s.initial_state().unwrap();
        assert_eq!(st.conf_state.voters, vec![1]);
        assert_eq!((st.hard_state.commit, st.hard_state.vote), (6, 0));
        assert_eq!(s.last_index().unwrap(), 6);
        assert_eq!(s.member().unwrap().name, "m1");
    }

    #[test]
    fn starting_again_with_the_flag_changes_nothing_unless_renamed_or_a_backup() {
        let dir = tempfile::tempdir().unwrap();
        let mut s = member_of_two(dir.path());
        force_new_cluster(&mut s, &standalone("m1"), Timestamp(1000)).unwrap();
        let again = force_new_cluster(&mut s, &standalone("m1"), Timestamp(2000)).unwrap();
        assert_eq!(again, Recovery::AlreadyAlone);
        drop(s);
        let (mut s, before, _) = recovered_state(dir.path());

        // Under another name: the member and its registry entry are renamed.
        let done = force_new_cluster(&mut s, &standalone("other"), Timestamp(3000)).unwrap();
        assert!(matches!(
            done,
            Recovery::Recovered {
                index: 7,
                dropped_entries: 0,
                ..
            }
        ));
        drop(s);
        let (mut s, store, members) = recovered_state(dir.path());
        assert_eq!(s.member().unwrap().name, "other");
        assert_eq!(members.get(1).unwrap().name, "other");
        assert_eq!(value(&store, "/_etcd/machines/m1"), None);
        assert!(value(&store, "/_etcd/machines/other").is_some());
        assert_eq!(value(&store, "/a"), value(&before, "/a"));

        // A backup is always made a new cluster, and its marker goes last.
        let marker = dir.path().join("backup");
        std::fs::write(&marker, "{}").unwrap();
        let me = Standalone {
            backup_marker: Some(marker.clone()),
            ..standalone("other")
        };
        let done = force_new_cluster(&mut s, &me, Timestamp(4000)).unwrap();
        assert!(matches!(done, Recovery::Recovered { .. }), "{done:?}");
        assert!(!marker.exists());
    }

    /// A member that joined but received nothing (not even its own addition) before the loss.
    #[test]
    fn a_member_with_an_empty_log_becomes_a_cluster_of_itself() {
        let dir = tempfile::tempdir().unwrap();
        {
            let mut s = RaftStorage::open(dir.path()).unwrap();
            let me = MemberIdentity {
                id: 5,
                name: "joiner".into(),
            };
            s.initialise(&me, &[]).unwrap();
            let done = force_new_cluster(&mut s, &standalone("joiner"), Timestamp(9)).unwrap();
            assert!(
                matches!(done, Recovery::Recovered { index: 1, .. }),
                "{done:?}"
            );
        }
        let (s, store, members) = recovered_state(dir.path());
        assert_eq!(s.initial_state().unwrap().hard_state.term, 1);
        let ids: Vec<u64> = members.iter().map(|m| m.id).collect();
        assert_eq!(ids, vec![5]);
        assert!(value(&store, "/_etcd/machines/joiner").is_some());
    }

    #[test]
    fn an_empty_or_removed_data_dir_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let mut s = RaftStorage::open(dir.path()).unwrap();
        let e = force_new_cluster(&mut s, &standalone("m1"), Timestamp(1)).unwrap_err();
        assert!(matches!(e, RecoveryError::NoMember), "{e}");
        let dir = tempfile::tempdir().unwrap();
        let mut s = member_of_two(dir.path());
        s.mark_removed().unwrap();
        let e = force_new_cluster(&mut s, &standalone("m1"), Timestamp(1)).unwrap_err();
        assert!(matches!(e, RecoveryError::Removed), "{e}");
    }
}

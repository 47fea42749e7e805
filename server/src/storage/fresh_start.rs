//! Starting a data dir over from one snapshot, as `-force-new-cluster` does: the snapshot file
//! is written first ([`RaftStorage::write_fresh_snapshot`]), then one raft-engine write replaces
//! the log, the hard state, the snapshot metadata and the identity
//! ([`RaftStorage::start_over`]).
//!
//! A crash between the two leaves the old state whole (its metadata still names the old
//! snapshot; the new file is unreferenced and goes with the next snapshot); a crash during the
//! raft-engine write leaves the old log or the new state, as raft-engine writes are atomic.

use raft::eraftpb::{ConfState, HardState, SnapshotMetadata};

use super::{MemberIdentity, RaftStorage, StorageFailure};

impl<F: raft_engine::env::FileSystem> RaftStorage<F> {
    /// Writes (temporary name, fsync, rename, directory fsync) the snapshot file a fresh start
    /// at `term`/`index` begins from. Refuses to overwrite the file of the current snapshot:
    /// until [`RaftStorage::start_over`] the old state must stay readable.
    pub fn write_fresh_snapshot(
        &self,
        term: u64,
        index: u64,
        data: &[u8],
    ) -> Result<(), StorageFailure> {
        let current = self.snapshot_metadata();
        if current.index != 0 && (current.term, current.index) == (term, index) {
            return Err(StorageFailure::Corrupt(format!(
                "a fresh snapshot at {term}-{index} would overwrite the current one"
            )));
        }
        self.snapshots.write(term, index, data)?;
        Ok(())
    }

    /// Replaces this data dir's whole raft state, in one atomic raft-engine write, by one that
    /// starts from the snapshot at `term`/`index` (written by
    /// [`RaftStorage::write_fresh_snapshot`]) with configuration `conf_state`, owned by `me`:
    /// the log is wiped, the hard state says `term` with no vote and `index` committed. Then
    /// every other snapshot file is removed.
    pub fn start_over(
        &mut self,
        me: &MemberIdentity,
        term: u64,
        index: u64,
        conf_state: ConfState,
    ) -> Result<(), StorageFailure> {
        if !self.snapshots.path(term, index).exists() {
            return Err(StorageFailure::Corrupt(format!(
                "no snapshot file {term}-{index} to start over from"
            )));
        }
        let meta = SnapshotMetadata {
            index,
            term,
            conf_state: Some(conf_state).into(),
            ..Default::default()
        };
        let hard_state = HardState {
            term,
            vote: 0,
            commit: index,
            ..Default::default()
        };
        self.replace_log_with_snapshot(me.encode(), &meta, hard_state)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::storage::tests::{entry, identified};
    use raft::eraftpb::Entry;
    use raft::Storage as _;

    /// Member 7 of a three-member cluster: a snapshot at 8, entries up to 12, 10 committed.
    fn member_of_three(dir: &std::path::Path) -> RaftStorage {
        let mut s = identified(dir);
        let ents: Vec<Entry> = (1..=12).map(|i| entry(i, 2)).collect();
        let hs = HardState {
            term: 3,
            vote: 9,
            commit: 10,
            ..Default::default()
        };
        s.persist(&ents, Some(&hs), true).unwrap();
        s.set_conf_state(ConfState {
            voters: vec![7, 8, 9],
            ..Default::default()
        });
        s.save_snapshot(8, b"old-store", 4).unwrap();
        s
    }

    fn new_me() -> MemberIdentity {
        MemberIdentity {
            id: 7,
            name: "renamed".into(),
        }
    }

    fn alone() -> ConfState {
        ConfState {
            voters: vec![7],
            ..Default::default()
        }
    }

    #[test]
    fn starting_over_replaces_the_whole_state_and_survives_reopen() {
        let dir = tempfile::tempdir().unwrap();
        {
            let mut s = member_of_three(dir.path());
            s.write_fresh_snapshot(3, 11, b"new-store").unwrap();
            s.start_over(&new_me(), 3, 11, alone()).unwrap();
        }
        let s = RaftStorage::open(dir.path()).unwrap();
        assert_eq!(s.member(), Some(new_me()));
        assert!(!s.is_removed());
        let st = s.initial_state().unwrap();
        assert_eq!(
            (st.hard_state.term, st.hard_state.vote, st.hard_state.commit),
            (3, 0, 11)
        );
        assert_eq!(st.conf_state.voters, vec![7]);
        assert_eq!(s.snapshot_data().unwrap().unwrap(), b"new-store");
        assert_eq!(s.first_index().unwrap(), 12);
        assert_eq!(
            s.last_index().unwrap(),
            11,
            "no entry of the old log is left"
        );
        assert_eq!(s.term(11).unwrap(), 3);
        assert!(
            !s.snapshot_files().path(2, 8).exists(),
            "the old snapshot file is gone"
        );
    }

    /// A crash after the snapshot file and before the raft-engine write: the old state.
    #[test]
    fn a_crash_before_the_log_is_replaced_leaves_the_old_state() {
        let dir = tempfile::tempdir().unwrap();
        {
            let s = member_of_three(dir.path());
            s.write_fresh_snapshot(3, 11, b"new-store").unwrap();
        }
        let s = RaftStorage::open(dir.path()).unwrap();
        assert_eq!(s.member().unwrap().name, "m");
        let st = s.initial_state().unwrap();
        assert_eq!((st.hard_state.vote, st.hard_state.commit), (9, 10));
        assert_eq!(st.conf_state.voters, vec![7, 8, 9]);
        assert_eq!(s.snapshot_metadata().index, 8);
        assert_eq!(s.snapshot_data().unwrap().unwrap(), b"old-store");
        assert_eq!(s.last_index().unwrap(), 12);
    }

    #[test]
    fn the_current_snapshot_is_never_overwritten_and_a_missing_file_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let mut s = member_of_three(dir.path());
        assert!(s.write_fresh_snapshot(2, 8, b"other").is_err());
        assert_eq!(s.snapshot_data().unwrap().unwrap(), b"old-store");
        assert!(s.start_over(&new_me(), 3, 11, alone()).is_err());
        assert_eq!(s.last_index().unwrap(), 12, "nothing was wiped");
    }
}

//! What the raft loop needs of durable storage, as one trait: the seam where a simulation may
//! put a store of its own. [`RaftStorage`] (raft-engine on disk) is the server's; the trait
//! says nothing about formats.

use raft::eraftpb::{ConfState, Entry, HardState, Snapshot, SnapshotMetadata};

use super::{
    LogSyncer, MemberIdentity, RaftStorage, SnapshotFiles, SnapshotReader, StorageFailure,
};

/// Durable raft state as the raft loop uses it: raft-rs reads it through `raft::Storage`; the
/// loop writes it through the methods here, each durable when it returns unless it says not.
pub trait LogStore: raft::Storage + Send + Sync + 'static {
    /// The identity this store was initialised with, if any.
    fn member(&self) -> Option<MemberIdentity>;
    /// Records the identity of a brand-new member, with the first entries of a new cluster's
    /// log (already committed) or none for a member that joins.
    fn initialise(
        &mut self,
        me: &MemberIdentity,
        bootstrap: &[Entry],
    ) -> Result<(), StorageFailure>;
    /// Whether this member was removed from its cluster.
    fn is_removed(&self) -> bool;
    /// Records that this member was removed, for good.
    fn mark_removed(&mut self) -> Result<(), StorageFailure>;
    /// Whether raft asked for a snapshot the newest one cannot serve (clears the request).
    fn take_snapshot_wanted(&self) -> bool;
    /// The newest durable snapshot's metadata (index 0: none).
    fn snapshot_metadata(&self) -> &SnapshotMetadata;
    /// The state-machine bytes of the newest snapshot, if any.
    fn snapshot_data(&self) -> Result<Option<Vec<u8>>, StorageFailure>;
    /// The newest snapshot's state-machine bytes as a stream checked as it is read, if any.
    fn snapshot_reader(&self) -> Result<Option<SnapshotReader>, StorageFailure>;
    /// Appends entries and the hard state, synced when `sync`.
    fn persist(
        &mut self,
        entries: &[Entry],
        hard_state: Option<&HardState>,
        sync: bool,
    ) -> Result<(), StorageFailure>;
    /// What makes every write made before a call durable, for the log's sync thread (writes
    /// through [`Self::persist`] unsynced are durable once a call begun after them returns).
    fn log_syncer(&self) -> LogSyncer;
    /// The commit index that a sync of everything written so far makes durable.
    fn durable_if_synced(&self) -> u64;
    /// Records that such a sync, begun after [`Self::durable_if_synced`] returned `commit`,
    /// is done.
    fn note_synced(&mut self, commit: u64) -> Result<(), StorageFailure>;
    /// Records a commit index learnt from a light ready (no sync needed).
    fn set_commit(&mut self, commit: u64) -> Result<(), StorageFailure>;
    /// Notes the configuration after an applied conf change (for the next snapshot).
    fn set_conf_state(&mut self, cs: ConfState);
    /// Where snapshot files live (the loop's snapshot job writes its file here, on another
    /// thread).
    fn snapshot_files(&self) -> &SnapshotFiles;
    /// The metadata of a snapshot of the state at applied `index` (its term, the
    /// configuration now).
    fn snapshot_meta_at(&self, index: u64) -> Result<SnapshotMetadata, StorageFailure>;
    /// Makes a written and synced snapshot file the newest snapshot, then compacts the log
    /// below it, keeping `keep` entries. Returns the term and index of the snapshot it
    /// supersedes, whose file the caller removes.
    fn record_snapshot(
        &mut self,
        meta: SnapshotMetadata,
        keep: u64,
    ) -> Result<Option<(u64, u64)>, StorageFailure>;
    /// The state-machine bytes of a snapshot received from the leader, read as a stream before
    /// it is installed.
    fn received_snapshot_reader(
        &self,
        snap: &Snapshot,
    ) -> Result<Box<dyn std::io::Read + Send>, StorageFailure>;
    /// Replaces the whole log with a snapshot received from the leader.
    fn install_snapshot(&mut self, snap: &Snapshot) -> Result<(), StorageFailure>;
}

impl<F: raft_engine::env::FileSystem + 'static> LogStore for RaftStorage<F> {
    fn member(&self) -> Option<MemberIdentity> {
        RaftStorage::member(self)
    }

    fn initialise(
        &mut self,
        me: &MemberIdentity,
        bootstrap: &[Entry],
    ) -> Result<(), StorageFailure> {
        RaftStorage::initialise(self, me, bootstrap)
    }

    fn is_removed(&self) -> bool {
        RaftStorage::is_removed(self)
    }

    fn mark_removed(&mut self) -> Result<(), StorageFailure> {
        RaftStorage::mark_removed(self)
    }

    fn take_snapshot_wanted(&self) -> bool {
        RaftStorage::take_snapshot_wanted(self)
    }

    fn snapshot_metadata(&self) -> &SnapshotMetadata {
        RaftStorage::snapshot_metadata(self)
    }

    fn snapshot_data(&self) -> Result<Option<Vec<u8>>, StorageFailure> {
        RaftStorage::snapshot_data(self)
    }

    fn snapshot_reader(&self) -> Result<Option<SnapshotReader>, StorageFailure> {
        RaftStorage::snapshot_reader(self)
    }

    fn persist(
        &mut self,
        entries: &[Entry],
        hard_state: Option<&HardState>,
        sync: bool,
    ) -> Result<(), StorageFailure> {
        RaftStorage::persist(self, entries, hard_state, sync)
    }

    fn log_syncer(&self) -> LogSyncer {
        RaftStorage::log_syncer(self)
    }

    fn durable_if_synced(&self) -> u64 {
        RaftStorage::durable_if_synced(self)
    }

    fn note_synced(&mut self, commit: u64) -> Result<(), StorageFailure> {
        RaftStorage::note_synced(self, commit)
    }

    fn set_commit(&mut self, commit: u64) -> Result<(), StorageFailure> {
        RaftStorage::set_commit(self, commit)
    }

    fn set_conf_state(&mut self, cs: ConfState) {
        RaftStorage::set_conf_state(self, cs)
    }

    fn snapshot_files(&self) -> &SnapshotFiles {
        RaftStorage::snapshot_files(self)
    }

    fn snapshot_meta_at(&self, index: u64) -> Result<SnapshotMetadata, StorageFailure> {
        RaftStorage::snapshot_meta_at(self, index)
    }

    fn record_snapshot(
        &mut self,
        meta: SnapshotMetadata,
        keep: u64,
    ) -> Result<Option<(u64, u64)>, StorageFailure> {
        RaftStorage::record_snapshot(self, meta, keep)
    }

    fn received_snapshot_reader(
        &self,
        snap: &Snapshot,
    ) -> Result<Box<dyn std::io::Read + Send>, StorageFailure> {
        RaftStorage::received_snapshot_reader(self, snap)
    }

    fn install_snapshot(&mut self, snap: &Snapshot) -> Result<(), StorageFailure> {
        RaftStorage::install_snapshot(self, snap)
    }
}

//! How raft-rs reads the durable state: `raft::Storage` over the raft-engine log and the
//! newest snapshot's metadata.

use raft::eraftpb::{Entry, Snapshot};
use raft::{GetEntriesContext, RaftState, StorageError};
use raft_engine::env::FileSystem;

use super::{EntryExt, RaftStorage, GROUP};

fn engine_error(e: raft_engine::Error) -> raft::Error {
    raft::Error::Store(StorageError::Other(Box::new(e)))
}

impl<F: FileSystem> raft::Storage for RaftStorage<F> {
    fn initial_state(&self) -> raft::Result<RaftState> {
        // The snapshot's configuration, not the latest: the log after the snapshot is replayed
        // into raft and the member table alike (see the module docs).
        Ok(RaftState::new(
            self.hard_state.clone(),
            self.snapshot_meta.get_conf_state().clone(),
        ))
    }

    fn entries(
        &self,
        low: u64,
        high: u64,
        max_size: impl Into<Option<u64>>,
        _context: GetEntriesContext,
    ) -> raft::Result<Vec<Entry>> {
        if low <= self.truncated_index {
            return Err(raft::Error::Store(StorageError::Compacted));
        }
        let mut out = Vec::with_capacity((high - low) as usize);
        let max = max_size.into().map(|m| m as usize);
        self.engine
            .fetch_entries_to::<EntryExt>(GROUP, low, high, max, &mut out)
            .map_err(engine_error)?;
        Ok(out)
    }

    fn term(&self, idx: u64) -> raft::Result<u64> {
        if idx == self.truncated_index {
            return Ok(self.truncated_term);
        }
        if idx == self.snapshot_meta.index && idx != 0 {
            return Ok(self.snapshot_meta.term);
        }
        if idx < self.truncated_index {
            return Err(raft::Error::Store(StorageError::Compacted));
        }
        if let Some(term) = self.recent_terms.get(idx) {
            return Ok(term);
        }
        match self
            .engine
            .get_entry::<EntryExt>(GROUP, idx)
            .map_err(engine_error)?
        {
            Some(e) => Ok(e.term),
            None => Err(raft::Error::Store(StorageError::Unavailable)),
        }
    }

    fn first_index(&self) -> raft::Result<u64> {
        Ok(self.truncated_index + 1)
    }

    fn last_index(&self) -> raft::Result<u64> {
        Ok(self
            .engine
            .last_index(GROUP)
            .unwrap_or(self.truncated_index)
            .max(self.truncated_index))
    }

    /// Only the metadata: the transport streams the data from the snapshot file, so a large
    /// store is never held in memory once per lagging follower.
    fn snapshot(&self, request_index: u64, to: u64) -> raft::Result<Snapshot> {
        let cs = self.snapshot_meta.get_conf_state();
        let includes_peer = cs.voters.contains(&to) || cs.learners.contains(&to);
        if self.snapshot_meta.index < request_index
            || self.snapshot_meta.index == 0
            || !includes_peer
        {
            // A member that joined after the newest snapshot would refuse it (it is not in its
            // configuration): the raft loop takes a fresh one; raft asks again meanwhile.
            self.snapshot_wanted
                .store(true, std::sync::atomic::Ordering::Relaxed);
            return Err(raft::Error::Store(
                StorageError::SnapshotTemporarilyUnavailable,
            ));
        }
        let mut snap = Snapshot::default();
        snap.set_metadata(self.snapshot_meta.clone());
        Ok(snap)
    }
}

//! Rebuilding the state machine from a data dir alone, before raft starts: the newest
//! snapshot, then the committed log after it, applied as the raft loop applies them (raft's
//! own configuration aside). `-force-new-cluster` starts from what this returns.

use protobuf::Message as _;
use raft::eraftpb::{ConfChange, Entry, EntryType};
use raft::{GetEntriesContext, Storage as _};

use super::membership::{apply_to_table, REFUSED_CONF_CHANGE};
use super::standalone::RecoveryError;
use crate::command::Command;
use crate::state::{restore_snapshot_from, shared, Restored, SharedState, StoreState};
use crate::storage::{RaftStorage, StorageFailure};
use crate::store::Store;

/// Entries replayed per read of the log, so a long log is replayed in bounded memory.
const REPLAY_CHUNK: u64 = 1024;

/// The state machine as of the commit index.
pub(super) struct Replayed {
    /// The store and the member table as of `commit`.
    pub state: SharedState,
    /// The commit index replayed to.
    pub commit: u64,
    /// The term of the entry at `commit`.
    pub term: u64,
    /// The log's last index.
    pub last: u64,
}

/// Replays the newest snapshot and the committed log after it into a fresh state machine.
pub(super) fn replay(
    storage: &RaftStorage,
    history_size: usize,
) -> Result<Replayed, RecoveryError> {
    let restored = match storage.snapshot_reader()? {
        Some(reader) => restore_snapshot_from(reader, history_size)
            .map_err(|e| RecoveryError::Snapshot(e.to_string()))?,
        None => Restored {
            store: Store::new(history_size),
            members: Default::default(),
            auth: Default::default(),
        },
    };
    let state = shared(restored.store, restored.members, restored.auth);
    let last = storage.last_index()?;
    let commit = storage.initial_state()?.hard_state.commit.min(last);
    let mut low = storage.snapshot_metadata().index + 1;
    while low <= commit {
        let high = (low + REPLAY_CHUNK).min(commit + 1);
        let entries = storage.entries(low, high, None, GetEntriesContext::empty(false))?;
        let mut st = state.write();
        for e in &entries {
            replay_entry(&mut st, e)?;
        }
        low = high;
    }
    let term = storage.term(commit)?;
    Ok(Replayed {
        state,
        commit,
        term,
        last,
    })
}

/// Applies one committed entry to the state machine as the raft loop does, raft's own
/// configuration aside (it is replaced).
fn replay_entry(st: &mut StoreState, e: &Entry) -> Result<(), RecoveryError> {
    match e.get_entry_type() {
        EntryType::EntryNormal => {
            // A new leader's empty entry, or a conf change the leader refused.
            if e.data.is_empty() || e.data.as_ref() == REFUSED_CONF_CHANGE {
                return Ok(());
            }
            match Command::decode(&e.data) {
                // A command the store refuses is refused the same way on every member.
                Ok(cmd) => {
                    let _ = st.apply_command(&cmd);
                }
                Err(err) => tracing::error!(index = e.index, "skipping entry: {err}"),
            }
        }
        EntryType::EntryConfChange => {
            let mut cc = ConfChange::default();
            cc.merge_from_bytes(&e.data)
                .map_err(|err| StorageFailure::Corrupt(err.to_string()))?;
            apply_to_table(st, &cc, e.index);
        }
        EntryType::EntryConfChangeV2 => {
            tracing::error!(
                index = e.index,
                "skipping a joint conf change: never proposed here"
            );
        }
    }
    Ok(())
}

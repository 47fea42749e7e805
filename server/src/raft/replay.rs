//! Rebuilding the state machine from a data dir alone, before raft starts: the newest
//! snapshot, then the committed log after it, applied as the raft loop applies them (raft's
//! own configuration aside). `-force-new-cluster` starts from what this returns.

use raft::Storage as _;

use super::membership::apply_to_table;
use super::standalone::RecoveryError;
use super::tail::{committed, decode_tail, Decoded, Until, DECODE_BUDGET};
use crate::state::{restore_snapshot_from, shared, Restored, SharedState, StoreState};
use crate::storage::RaftStorage;

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
        None => Restored::empty(history_size),
    };
    let state = shared(restored.store, restored.members, restored.auth);
    let last = storage.last_index()?;
    let commit = committed(storage)?;
    let mut applied = storage.snapshot_metadata().index;
    // In parts, so that no more than the budget is held decoded at once.
    while applied < commit {
        let part = decode_tail(storage, applied, commit, Until::Commit, DECODE_BUDGET)?;
        apply_tail(&mut state.write(), part.entries);
        if part.last == applied {
            break;
        }
        applied = part.last;
    }
    let term = storage.term(commit)?;
    Ok(Replayed {
        state,
        commit,
        term,
        last,
    })
}

/// Applies decoded committed entries as the raft loop does, raft's own configuration aside
/// (the caller either replaces it or stopped before the first conf change).
pub(super) fn apply_tail(st: &mut StoreState, entries: Vec<Decoded>) {
    for d in entries {
        match d {
            // A command the store refuses is refused the same way on every member.
            Decoded::Command(cmd) => {
                let _ = st.apply_command(&cmd);
            }
            Decoded::ConfChange(cc, index) => {
                apply_to_table(st, &cc, index);
            }
        }
    }
}

//! The committed log after the snapshot, read and decoded ahead of its apply: a restart reads
//! it while another thread decodes the snapshot (the two took turns and were half of a 1M-key
//! restart), then applies it before raft starts, without raft's ready loop in between.

use protobuf::Message as _;
use raft::eraftpb::{ConfChange, Entry, EntryType};
use raft::GetEntriesContext;

use super::membership::REFUSED_CONF_CHANGE;
use crate::command::Command;
use crate::storage::StorageFailure;

/// Entries read from the log at a time (raft-engine answers a range as one `Vec`).
const READ_CHUNK: u64 = 1024;

/// One committed entry that changes the state machine.
pub(super) enum Decoded {
    /// A key, cluster or auth command.
    Command(Command),
    /// A membership change, at its log index.
    ConfChange(ConfChange, u64),
}

/// The decoded part of a committed log range.
pub(super) struct DecodedTail {
    /// What the entries do, in log order.
    pub entries: Vec<Decoded>,
    /// The index of the last entry read (what is applied once `entries` are).
    pub last: u64,
}

/// Where [`decode_tail`] stops.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum Until {
    /// At `commit`.
    Commit,
    /// Before the first conf change, or at `commit`: raft applies a conf change itself, so
    /// that its configuration and the member table move together.
    ConfChange,
}

/// The commit index on disk, within the log (a hard state may run ahead of a torn log tail).
pub(super) fn committed<S: raft::Storage>(storage: &S) -> raft::Result<u64> {
    Ok(storage
        .initial_state()?
        .hard_state
        .commit
        .min(storage.last_index()?))
}

/// Reads and decodes the committed entries after `applied` up to `commit`. A new leader's
/// empty entry, a refused conf change and an entry that does not decode (logged) change
/// nothing, as in the raft loop's apply.
pub(super) fn decode_tail<S: raft::Storage>(
    storage: &S,
    applied: u64,
    commit: u64,
    until: Until,
) -> Result<DecodedTail, StorageFailure> {
    let mut tail = DecodedTail {
        entries: Vec::with_capacity(commit.saturating_sub(applied).min(1 << 20) as usize),
        last: applied,
    };
    let mut low = applied + 1;
    while low <= commit {
        let high = (low + READ_CHUNK).min(commit + 1);
        let entries = storage
            .entries(low, high, None, GetEntriesContext::empty(false))
            .map_err(|e| StorageFailure::Corrupt(format!("reading the log tail: {e}")))?;
        for e in &entries {
            if until == Until::ConfChange && e.get_entry_type() != EntryType::EntryNormal {
                return Ok(tail);
            }
            if let Some(d) = decode_entry(e)? {
                tail.entries.push(d);
            }
            tail.last = e.index;
        }
        low = high;
    }
    Ok(tail)
}

fn decode_entry(e: &Entry) -> Result<Option<Decoded>, StorageFailure> {
    match e.get_entry_type() {
        EntryType::EntryNormal => {
            if e.data.is_empty() || e.data.as_ref() == REFUSED_CONF_CHANGE {
                return Ok(None);
            }
            match Command::decode(&e.data) {
                Ok(cmd) => Ok(Some(Decoded::Command(cmd))),
                Err(err) => {
                    tracing::error!(index = e.index, "skipping entry: {err}");
                    Ok(None)
                }
            }
        }
        EntryType::EntryConfChange => {
            let mut cc = ConfChange::default();
            cc.merge_from_bytes(&e.data)
                .map_err(|err| StorageFailure::Corrupt(err.to_string()))?;
            Ok(Some(Decoded::ConfChange(cc, e.index)))
        }
        EntryType::EntryConfChangeV2 => {
            tracing::error!(
                index = e.index,
                "skipping a joint conf change: never proposed here"
            );
            Ok(None)
        }
    }
}

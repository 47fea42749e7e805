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

/// Entry bytes decoded ahead of their apply at most. A log that grew long after its snapshot
/// (a large `-snapshot-count`, snapshots failing on a full disk) would otherwise be held whole
/// in memory, decoded, beside the store it is applied to.
pub(super) const DECODE_BUDGET: usize = 256 << 20;

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

/// Reads and decodes the committed entries after `applied` up to `commit`, stopping once
/// `budget` bytes of entries are decoded (`last` says how far it got). A new leader's empty
/// entry, a refused conf change and an entry that does not decode (logged) change nothing, as
/// in the raft loop's apply.
pub(super) fn decode_tail<S: raft::Storage>(
    storage: &S,
    applied: u64,
    commit: u64,
    until: Until,
    budget: usize,
) -> Result<DecodedTail, StorageFailure> {
    let mut decoded_bytes = 0;
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
            decoded_bytes += e.data.len();
            if decoded_bytes >= budget {
                return Ok(tail);
            }
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

#[cfg(test)]
mod tests {
    use raft::eraftpb::Entry;
    use raft::storage::MemStorage;
    use raft::Storage as _;

    use super::*;
    use crate::command::KeyCommand;
    use crate::time::Timestamp;

    fn log_of(n: u64) -> MemStorage {
        let storage = MemStorage::new();
        let entries: Vec<Entry> = (1..=n)
            .map(|i| {
                let cmd = Command::Key(KeyCommand::Set {
                    key: format!("/k{i}").as_str().into(),
                    value: "v".repeat(100),
                    dir: false,
                    expire_at: None,
                    refresh: false,
                    now: Timestamp(0),
                });
                Entry {
                    index: i,
                    term: 1,
                    data: cmd.encode().into(),
                    ..Default::default()
                }
            })
            .collect();
        storage.wl().append(&entries).unwrap();
        storage
    }

    #[test]
    fn a_tail_larger_than_the_budget_is_decoded_in_parts_that_cover_it() {
        let storage = log_of(3000);
        let whole = decode_tail(&storage, 0, 3000, Until::Commit, usize::MAX).unwrap();
        assert_eq!((whole.entries.len(), whole.last), (3000, 3000));
        let sizes: Vec<usize> = storage
            .entries(1, 3001, None, GetEntriesContext::empty(false))
            .unwrap()
            .iter()
            .map(|e| e.data.len())
            .collect();
        let budget = sizes[0] * 700;
        let mut applied = 0u64;
        let mut parts = Vec::new();
        while applied < 3000 {
            let part = decode_tail(&storage, applied, 3000, Until::Commit, budget).unwrap();
            assert_eq!(part.entries.len() as u64, part.last - applied);
            let bytes = &sizes[applied as usize..part.last as usize];
            let total: usize = bytes.iter().sum();
            // A part stops at the first entry that reaches the budget, or at the commit.
            assert!(
                total - bytes.last().unwrap() < budget,
                "part {} overshot",
                parts.len()
            );
            assert!(
                total >= budget || part.last == 3000,
                "part {} stopped early",
                parts.len()
            );
            applied = part.last;
            parts.push(part.entries.len());
        }
        assert!(parts.len() > 3, "{parts:?}");
        assert_eq!(parts.iter().sum::<usize>(), 3000);
    }
}

//! Membership changes inside the raft loop: applying a conf-change entry to the member table
//! and to raft, refusing (with a definite answer) the conf changes raft-rs would silently drop,
//! and deciding whether a peer's "you were removed" is true.
//!
//! Removal is decided only by this member's own log: it persists "removed" when it applies
//! the `RemoveNode` for itself, and believes a peer's 410 only when its log holds that removal
//! at the index the peer named. Anything that answers 410 at a peer URL is otherwise ignored.

use std::sync::Arc;

use protobuf::Message as _;
use raft::eraftpb::{ConfChange, ConfChangeType, Entry, EntryType, Message, MessageType};
use raft::{GetEntriesContext, RawNode};

use crate::cluster::{ChangeContext, MembershipError};
use crate::state::{MemberChangeOutcome, StoreState};
use crate::storage::{LogStore, StorageFailure};
use crate::store::Event;
use crate::time::Timestamp;

/// The data of a normal entry that stands for a conf change the leader refused because
/// another one was still in progress (raft-rs would have replaced it by an empty entry and
/// its proposer would have waited in vain). Not a [`crate::command::Command`] (its first
/// byte is no command format version): the state machine never sees it; only the proposer,
/// named in the entry's context, answers its caller.
pub(super) const REFUSED_CONF_CHANGE: &[u8] = b"\x00refused-conf-change";

/// The normal entry that replaces a refused conf change, keeping its context (its proposer).
fn refused_entry(context: bytes::Bytes) -> Entry {
    let mut e = Entry::default();
    e.set_entry_type(EntryType::EntryNormal);
    e.data = REFUSED_CONF_CHANGE.to_vec().into();
    e.context = context;
    e
}

/// On the leader, before a forwarded proposal is stepped: replaces every conf change that
/// raft-rs would drop (it keeps one conf change in flight: none while one is unapplied,
/// `pending`, and only the first of a batch) by a [`REFUSED_CONF_CHANGE`] entry, so its
/// proposer hears a definite refusal once that entry applies. Returns how many it replaced.
pub(super) fn refuse_conf_changes_raft_would_drop(msg: &mut Message, mut pending: bool) -> usize {
    if msg.get_msg_type() != MessageType::MsgPropose {
        return 0;
    }
    let mut refused = 0;
    for e in msg.mut_entries().iter_mut() {
        match e.get_entry_type() {
            EntryType::EntryNormal => {}
            // Never proposed here; raft-rs judges them itself.
            EntryType::EntryConfChangeV2 => {}
            EntryType::EntryConfChange if pending => {
                *e = refused_entry(std::mem::take(&mut e.context));
                refused += 1;
            }
            EntryType::EntryConfChange => pending = true,
        }
    }
    refused
}

/// Whether `e` is the conf change removing member `id`.
fn removes(e: &Entry, id: u64) -> bool {
    if e.get_entry_type() != EntryType::EntryConfChange {
        return false;
    }
    let mut cc = ConfChange::default();
    cc.merge_from_bytes(&e.data).is_ok()
        && cc.get_change_type() == ConfChangeType::RemoveNode
        && cc.node_id == id
}

/// Whether this member's own log (persisted or not yet) holds, at index `at`, the conf change
/// removing member `me`: the only evidence a peer's 410 is believed on.
pub(super) fn log_holds_removal<T: raft::Storage>(node: &RawNode<T>, at: u64, me: u64) -> bool {
    let log = &node.raft.raft_log;
    if at == 0 || at < log.first_index() || at > log.last_index() {
        return false;
    }
    match log.entries(at, 0, GetEntriesContext::empty(false)) {
        Ok(entries) => entries
            .first()
            .is_some_and(|e| e.index == at && removes(e, me)),
        Err(_) => false,
    }
}

/// What applying one conf-change entry did.
pub(super) struct ConfApplied {
    /// The caller's answer: the registry events, or why the table refused the change.
    pub res: Result<Vec<Arc<Event>>, MembershipError>,
    /// The member table changed.
    pub members_changed: bool,
    /// The change removed this member.
    pub removed_self: bool,
}

/// Applies a committed conf change to the member table alone, which may refuse it the same
/// way on every member (a duplicate, an unknown member, the last voter). The raft loop then
/// applies a taken change to raft's configuration too; a replay before raft starts (see
/// `standalone`) stops here.
pub(super) fn apply_to_table(
    st: &mut StoreState,
    cc: &ConfChange,
    index: u64,
) -> MemberChangeOutcome {
    let ctx = ChangeContext::decode(&cc.context).unwrap_or_else(|why| {
        tracing::warn!(index, "{why}");
        ChangeContext::at(Timestamp(0))
    });
    let change = cc.get_change_type();
    // Checked here too, not only by the API: two removals racing each other both pass the
    // API's check, and the second must not take the last voter. Deterministic: every member
    // holds the same table at this index.
    let outcome = match change {
        ConfChangeType::RemoveNode => match st.members.check_remove(cc.node_id) {
            Ok(()) => st.apply_member_change(change, cc.node_id, &ctx),
            Err(why) => MemberChangeOutcome::Refused(why),
        },
        _ => st.apply_member_change(change, cc.node_id, &ctx),
    };
    if matches!(outcome, MemberChangeOutcome::Applied(_)) && change == ConfChangeType::RemoveNode {
        st.members.record_removal_index(cc.node_id, index);
    }
    outcome
}

/// Applies a committed conf-change entry: first to the member table ([`apply_to_table`]),
/// then, if taken, to raft's configuration.
pub(super) fn apply_conf_change_entry<S: LogStore>(
    node: &mut RawNode<S>,
    st: &mut StoreState,
    e: &Entry,
    me: u64,
) -> Result<ConfApplied, StorageFailure> {
    let mut cc = ConfChange::default();
    cc.merge_from_bytes(&e.data)
        .map_err(|err| StorageFailure::Corrupt(err.to_string()))?;
    let change = cc.get_change_type();
    match apply_to_table(st, &cc, e.index) {
        MemberChangeOutcome::Applied(events) => {
            tracing::info!(
                index = e.index,
                change = ?change,
                member = %crate::cluster::id_hex(cc.node_id),
                "membership changed"
            );
            match node.apply_conf_change(&cc) {
                Ok(cs) => node.mut_store().set_conf_state(cs),
                Err(err) => tracing::error!(
                    index = e.index,
                    "raft refused a conf change the table took: {err}"
                ),
            }
            let removed = change == ConfChangeType::RemoveNode;
            Ok(ConfApplied {
                res: Ok(events),
                members_changed: true,
                removed_self: removed && cc.node_id == me,
            })
        }
        // Refused the same way on every member: raft's configuration stays as it was.
        MemberChangeOutcome::Refused(why) => {
            tracing::info!(index = e.index, "membership change refused: {why}");
            Ok(ConfApplied {
                res: Err(MembershipError::Conflict(why)),
                members_changed: false,
                removed_self: false,
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn conf_change_entry(ctx: &[u8]) -> Entry {
        let mut e = Entry::default();
        e.set_entry_type(EntryType::EntryConfChange);
        e.data = ChangeContext::at(Timestamp(1))
            .conf_change_bytes(ConfChangeType::RemoveNode, 3)
            .into();
        e.context = ctx.to_vec().into();
        e
    }

    #[test]
    fn conf_changes_raft_would_drop_become_refusals_for_their_proposer() {
        let mut m = Message::default();
        m.set_msg_type(MessageType::MsgPropose);
        let normal = Entry {
            data: b"x".to_vec().into(),
            ..Default::default()
        };
        m.set_entries(
            vec![
                normal.clone(),
                conf_change_entry(b"a"),
                conf_change_entry(b"b"),
            ]
            .into(),
        );
        // Nothing in flight: the first goes through, the second of the batch is refused.
        assert_eq!(
            refuse_conf_changes_raft_would_drop(&mut m.clone(), false),
            1
        );
        let mut first = m.clone();
        refuse_conf_changes_raft_would_drop(&mut first, false);
        assert_eq!(first.entries[0], normal);
        assert_eq!(
            first.entries[1].get_entry_type(),
            EntryType::EntryConfChange
        );
        assert_eq!(&first.entries[2].data[..], REFUSED_CONF_CHANGE);
        assert_eq!(&first.entries[2].context[..], b"b");
        // One in flight: both are refused.
        assert_eq!(refuse_conf_changes_raft_would_drop(&mut m, true), 2);
        assert_eq!(&m.entries[1].context[..], b"a");
        assert!(crate::command::Command::decode(REFUSED_CONF_CHANGE).is_err());
    }

    #[test]
    fn a_removal_hint_is_believed_only_at_the_index_of_this_members_removal() {
        let storage = raft::storage::MemStorage::new_with_conf_state((vec![1, 2, 3], vec![]));
        let normal = Entry {
            term: 1,
            index: 1,
            data: b"x".to_vec().into(),
            ..Default::default()
        };
        let mut removal = conf_change_entry(b"");
        removal.term = 1;
        removal.index = 2;
        storage.wl().append(&[normal, removal]).unwrap();
        let cfg = raft::Config {
            id: 3,
            ..Default::default()
        };
        let logger = slog::Logger::root(slog::Discard, slog::o!());
        let node = RawNode::new(&cfg, storage, &logger).unwrap();
        assert!(log_holds_removal(&node, 2, 3));
        assert!(!log_holds_removal(&node, 2, 2), "another member's removal");
        assert!(!log_holds_removal(&node, 1, 3), "not a removal");
        assert!(!log_holds_removal(&node, 0, 3));
        assert!(!log_holds_removal(&node, 3, 3), "beyond the log");
        assert!(!log_holds_removal(&node, u64::MAX, 3));
    }

    #[test]
    fn only_the_removal_of_this_member_counts() {
        assert!(removes(&conf_change_entry(b""), 3));
        assert!(!removes(&conf_change_entry(b""), 4));
        assert!(!removes(&Entry::default(), 3));
    }
}

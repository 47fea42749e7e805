//! A store frozen at one index, for writing a snapshot off the raft thread.
//!
//! Freezing shares the tree with the live store (one reference count: see `node`) and the
//! history's events (one count per event), so it costs next to nothing while the state lock
//! is held; the writes that follow copy only what they touch. The frozen store is then
//! encoded on another thread, streamed into the snapshot file.

use std::io::{self, Write};

use super::history::History;
use super::node::TreeNode;
use super::snapshot;
use super::stats::WriteStats;

/// The tree, index, history and counters of a store as they were when frozen.
#[derive(Debug, Clone)]
pub struct FrozenStore {
    pub(super) index: u64,
    pub(super) root: TreeNode,
    pub(super) history: History,
    pub(super) stats: WriteStats,
}

impl FrozenStore {
    /// The etcd index it was frozen at.
    pub fn index(&self) -> u64 {
        self.index
    }

    /// Streams the snapshot encoding (format [`super::SNAPSHOT_FORMAT`]) into `w`: the same
    /// bytes [`super::Store::save`] gave at the moment of freezing.
    pub fn write_to<W: Write>(&self, w: &mut W) -> io::Result<()> {
        snapshot::write_to(
            w,
            self.index,
            &self.root,
            self.history.events(),
            &self.stats,
        )
    }
}

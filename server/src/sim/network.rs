//! The simulated network: a member's [`Network`] only records what the loop sends; the
//! simulation takes it after the member's turn and decides, from its seed, when each message
//! arrives or whether it is lost.

use std::sync::{Arc, Mutex};

use raft::eraftpb::{Message, MessageType};

use crate::storage::SnapshotFiles;
use crate::transport::{Network, PeerTable};

/// One member's network: an outbox the simulation empties.
pub struct SimNetwork {
    outbox: Mutex<Vec<Message>>,
    /// The member's snapshot files: a `MsgSnapshot` leaves with its data read from them, as
    /// the HTTP transport streams the file.
    snapshots: SnapshotFiles,
    /// The last peer table the loop gave.
    peers: Mutex<PeerTable>,
}

impl SimNetwork {
    /// The network of a member whose snapshots live in `snapshots`.
    pub fn new(snapshots: SnapshotFiles) -> Arc<SimNetwork> {
        Arc::new(SimNetwork {
            outbox: Mutex::new(Vec::new()),
            snapshots,
            peers: Mutex::new(PeerTable::default()),
        })
    }

    /// What the member sent since the last call, in order.
    pub fn take_sent(&self) -> Vec<Message> {
        std::mem::take(&mut *self.outbox.lock().expect("sim lock poisoned"))
    }

    /// The member table as the loop last described it.
    pub fn peers(&self) -> PeerTable {
        self.peers.lock().expect("sim lock poisoned").clone()
    }
}

impl Network for SimNetwork {
    fn send(&self, msgs: Vec<Message>) {
        let mut outbox = self.outbox.lock().expect("sim lock poisoned");
        for mut m in msgs {
            if m.get_msg_type() == MessageType::MsgSnapshot && m.get_snapshot().data.is_empty() {
                let meta = m.get_snapshot().get_metadata();
                match self.snapshots.read(meta.term, meta.index) {
                    Ok(data) => m.mut_snapshot().data = data.into(),
                    // Lost, as a stream that breaks: raft is told when it is delivered nowhere.
                    Err(e) => tracing::warn!("sim: cannot read snapshot: {e}"),
                }
            }
            outbox.push(m);
        }
    }

    fn set_peers(&self, peers: PeerTable) {
        *self.peers.lock().expect("sim lock poisoned") = peers;
    }
}

//! The receiving half of the peer transport: which peer requests are let in, and how their
//! messages and snapshots reach raft. The HTTP layer (`api::peer`) only routes requests here
//! and turns a [`Refusal`] into its answer.
//!
//! Raft messages and snapshots are taken only from current members of this cluster: the
//! request must name this cluster (`X-Etcd-Cluster-Id`) and a member (`X-Raft-From`), and every
//! message in it must come from that member and be addressed to this one. Without
//! `-peer-ca-file` these headers are all that identifies a member (ids and the cluster id are
//! not secret), so a stranger who copies them is let in: only peer TLS authenticates.

use bytes::Bytes;
use futures::{Stream, StreamExt};
use raft::eraftpb::{Message, MessageType};
use tokio::io::AsyncWriteExt;

use super::{wire, Transport};

/// Largest snapshot a member accepts from a leader.
const MAX_SNAPSHOT_BYTES: u64 = 8 * 1024 * 1024 * 1024;

/// Why a peer request was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    /// The HTTP status to answer with.
    pub status: u16,
    /// What went wrong, for the sender's log.
    pub message: String,
    /// On a 410 (the sender was removed): the raft index of its removal, when known.
    pub removed_at: Option<u64>,
}

impl Refusal {
    fn new(status: u16, message: String) -> Refusal {
        Refusal {
            status,
            message,
            removed_at: None,
        }
    }
}

/// A hex id from a header value; `None` when absent or not hex.
fn hex_id(value: Option<&str>) -> Option<u64> {
    value.and_then(|v| u64::from_str_radix(v.trim(), 16).ok())
}

impl Transport {
    /// Admits a raft request only from a current member of this cluster, given the values of
    /// its cluster and sender headers: the cluster id must be ours, the sender a member other
    /// than this one. A removed member is told so with 410 (and stops). Returns the sender.
    pub fn admit(&self, cluster: Option<&str>, from: Option<&str>) -> Result<u64, Refusal> {
        let ours = self.cluster_id();
        match hex_id(cluster) {
            Some(theirs) if theirs == ours => {}
            Some(theirs) => {
                return Err(Refusal::new(
                    412,
                    format!("cluster id mismatch: {theirs:x} is not {ours:x}"),
                ))
            }
            None => {
                return Err(Refusal::new(
                    412,
                    format!(
                        "raft requests must name their cluster in {}",
                        wire::CLUSTER_HEADER
                    ),
                ))
            }
        }
        let Some(from) = hex_id(from) else {
            return Err(Refusal::new(
                400,
                format!(
                    "raft requests must name their sender in {}",
                    wire::FROM_HEADER
                ),
            ));
        };
        let (removed, member) = {
            let dir = self.directory.lock().expect("transport lock poisoned");
            (dir.removed.get(&from).copied(), dir.members.contains(&from))
        };
        if let Some(at) = removed {
            return Err(Refusal {
                status: 410,
                message: "this member was removed from the cluster".into(),
                removed_at: at,
            });
        }
        if from == self.me || !(member || self.knows(from)) {
            return Err(Refusal::new(
                403,
                format!("{from:x} is not a member of this cluster"),
            ));
        }
        Ok(from)
    }

    /// Checks one message of a request from member `from`: it must be from that member, to
    /// this one, and of a kind that travels in such a request (`snapshot`: only `MsgSnapshot`,
    /// whose data comes with it; otherwise anything else, raft refusing local-only kinds).
    fn check_message(&self, from: u64, m: &Message, snapshot: bool) -> Result<(), String> {
        if m.from != from {
            return Err(format!(
                "message from {:x} in a request from {from:x}",
                m.from
            ));
        }
        if m.to != self.me {
            return Err(format!(
                "message to {:x} sent to member {:x}",
                m.to, self.me
            ));
        }
        if snapshot != (m.get_msg_type() == MessageType::MsgSnapshot) {
            return Err(format!(
                "{:?} does not belong on {}",
                m.get_msg_type(),
                if snapshot { "/raft/snapshot" } else { "/raft" }
            ));
        }
        Ok(())
    }

    /// Decodes a batch of raft messages from member `from` (admitted) and hands them to raft:
    /// all or nothing, since a request with one forged message is not a member's.
    pub fn receive_batch(&self, from: u64, body: &[u8]) -> Result<(), Refusal> {
        crate::metrics::METRICS
            .peer_received_bytes
            .with_label_values(&[&format!("{from:x}")])
            .inc_by(body.len() as u64);
        let msgs = wire::decode_batch(body).map_err(|why| Refusal::new(400, why))?;
        msgs.iter()
            .try_for_each(|m| self.check_message(from, m, false))
            .map_err(|why| Refusal::new(400, why))?;
        for m in msgs {
            self.sink.deliver(m);
        }
        Ok(())
    }

    /// Receives the message stream of member `from` (admitted) until it ends, a newer stream
    /// from the same member replaces it, `from` is removed or this member shuts down (all
    /// `Ok`); a forged or undecodable message ends it with a refusal. Chunks must come with
    /// an idle deadline: the sender keeps its stream alive.
    pub async fn receive_stream<S>(&self, from: u64, mut chunks: S) -> Result<(), Refusal>
    where
        S: Stream<Item = Result<Bytes, String>> + Unpin,
    {
        let mut ended = {
            let mut incoming = self.incoming.lock().expect("transport lock poisoned");
            let Some(streams) = incoming.as_mut() else {
                return Err(Refusal::new(503, "this member is shutting down".into()));
            };
            let (tx, rx) = tokio::sync::watch::channel(());
            // The stream this one replaces ends when its sender is dropped here.
            streams.insert(from, tx);
            rx
        };
        tracing::info!(from = %format!("{from:x}"), "peer opened a message stream");
        let received = crate::metrics::METRICS
            .peer_received_bytes
            .with_label_values(&[&format!("{from:x}")]);
        let mut frames = wire::FrameReader::default();
        loop {
            let chunk = tokio::select! {
                chunk = chunks.next() => chunk,
                _ = ended.changed() => return Ok(()),
            };
            let bytes = match chunk {
                None => return Ok(()),
                Some(Ok(bytes)) => bytes,
                Some(Err(why)) => {
                    tracing::debug!(from, "message stream ended: {why}");
                    return Ok(());
                }
            };
            received.inc_by(bytes.len() as u64);
            frames.push(&bytes);
            while let Some(m) = frames
                .next_message()
                .map_err(|why| Refusal::new(400, why))?
            {
                self.check_message(from, &m, false)
                    .map_err(|why| Refusal::new(400, why))?;
                self.sink.deliver(m);
            }
        }
    }

    /// Receives a snapshot from member `from` (admitted): its message, then its data straight
    /// into a file (fsynced), and only then hands the message to raft, which installs the file.
    pub async fn receive_snapshot<S>(&self, from: u64, body: S) -> Result<(), Refusal>
    where
        S: Stream<Item = Result<Bytes, String>> + Unpin,
    {
        match self.store_snapshot(from, body).await {
            Ok(msg) => {
                self.sink.deliver(msg);
                Ok(())
            }
            Err(why) => Err(Refusal::new(400, format!("snapshot refused: {why}"))),
        }
    }

    /// Streams a snapshot into its file; its message is checked before any file is created.
    async fn store_snapshot<S>(&self, from: u64, mut body: S) -> Result<Message, String>
    where
        S: Stream<Item = Result<Bytes, String>> + Unpin,
    {
        let mut head = Vec::new();
        let mut file = None;
        let mut tmp = None;
        let mut msg = None;
        let mut written: u64 = 0;
        while let Some(chunk) = body.next().await {
            let chunk = chunk.map_err(|e| format!("snapshot stream broke: {e}"))?;
            let mut bytes = chunk.to_vec();
            if msg.is_none() {
                head.extend_from_slice(&bytes);
                match wire::decode_one(&head)? {
                    None => continue,
                    Some((m, used)) => {
                        self.check_message(from, &m, true)?;
                        let meta = m.get_snapshot().get_metadata();
                        let path = self.snapshots.incoming_temp_path(meta.term, meta.index);
                        file = Some(
                            tokio::fs::File::create(&path)
                                .await
                                .map_err(|e| format!("cannot create {}: {e}", path.display()))?,
                        );
                        tmp = Some(path);
                        bytes = head.split_off(used);
                        msg = Some(m);
                    }
                }
            }
            written += bytes.len() as u64;
            if written > MAX_SNAPSHOT_BYTES {
                return Err("snapshot is too large".into());
            }
            if let Some(f) = file.as_mut() {
                f.write_all(&bytes)
                    .await
                    .map_err(|e| format!("cannot write snapshot: {e}"))?;
            }
        }
        let (Some(msg), Some(mut f), Some(tmp)) = (msg, file, tmp) else {
            return Err("snapshot stream ended before its message".into());
        };
        f.flush().await.map_err(|e| e.to_string())?;
        f.sync_all().await.map_err(|e| e.to_string())?;
        drop(f);
        let meta = msg.get_snapshot().get_metadata();
        self.snapshots
            .commit_incoming(&tmp, meta.term, meta.index)
            .map_err(|e| format!("cannot keep snapshot: {e}"))?;
        tracing::info!(index = meta.index, bytes = written, "received snapshot");
        Ok(msg)
    }
}

//! The peer transport: raft messages between members over HTTP on their peer port, both ways
//! (`receive` admits and decodes what arrives), and joining a cluster (`join`). The raft loop
//! sends through the [`Network`] trait; the transport reports to the [`PeerSink`] it is given.
//!
//! The raft thread hands every outgoing message to [`Transport::send`], which never blocks: each
//! peer has its own task and bounded queue, so a slow or dead peer only loses its own messages
//! (raft retransmits) and never stalls the leader or the other peers. A task writes what queued
//! up as one batch into the peer's message stream (`stream`), or, to a peer of an older version
//! without streams, sends it as one request on a kept-alive connection. Snapshots are streamed
//! from their file in their own request, never held whole in memory.

pub mod join;
mod network;
mod receive;
mod stats;
mod stream;
pub mod wire;

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bytes::Bytes;
use raft::eraftpb::{Message, MessageType};
use tokio::sync::{mpsc, watch};

use crate::storage::SnapshotFiles;

pub use network::{Network, PeerReport, PeerSink, PeerTable};
pub use receive::Refusal;
pub use stats::{FollowerStats, LatencyStats};
use stream::{PeerStream, Sent};
pub use stream::{PROBE_PATH, STREAM_PATH};

/// Messages queued per peer before new ones are dropped (raft resends what matters).
const PEER_QUEUE: usize = 4096;
/// Messages sent in one request at most.
const MAX_BATCH: usize = 1024;
/// How long one batch may take before the peer counts as unreachable.
const SEND_TIMEOUT: Duration = Duration::from_secs(3);
/// How long a snapshot stream may take.
const SNAPSHOT_TIMEOUT: Duration = Duration::from_secs(600);

/// Where peers are and how to reach them.
pub struct Transport {
    me: u64,
    runtime: tokio::runtime::Handle,
    client: reqwest::Client,
    snapshots: SnapshotFiles,
    cluster_id: Arc<AtomicU64>,
    /// Peer URLs by raft id: the member table's, plus those a join response told us before
    /// the table was replayed.
    addresses: Mutex<HashMap<u64, String>>,
    senders: Mutex<HashMap<u64, PeerSender>>,
    stats: Arc<Mutex<HashMap<u64, FollowerStats>>>,
    /// Who may send raft messages here (see `receive`).
    directory: Mutex<Directory>,
    /// Where received messages and delivery failures go: the raft loop's inbox.
    sink: Arc<dyn PeerSink>,
    /// The message streams peers send here, by sender: dropping a sender's entry ends its
    /// stream (a newer one from the same member, its removal, shutdown). `None` once this
    /// member shuts down, when no new stream is taken.
    incoming: Mutex<Option<HashMap<u64, watch::Sender<()>>>>,
}

/// The member table's view of who a peer is, for admitting peer requests.
#[derive(Default)]
struct Directory {
    members: HashSet<u64>,
    /// Removed members, with the raft index of their removal when known.
    removed: HashMap<u64, Option<u64>>,
}

struct PeerSender {
    url: String,
    queue: mpsc::Sender<Message>,
}

impl Transport {
    /// A transport for member `me`, sending with `client` (plain or TLS) on `runtime`, and
    /// handing what it receives and every delivery failure to `sink`.
    pub fn new(
        me: u64,
        runtime: tokio::runtime::Handle,
        client: reqwest::Client,
        snapshots: SnapshotFiles,
        sink: Arc<dyn PeerSink>,
    ) -> Arc<Transport> {
        Arc::new(Transport {
            me,
            runtime,
            client,
            snapshots,
            cluster_id: Arc::new(AtomicU64::new(0)),
            addresses: Mutex::new(HashMap::new()),
            senders: Mutex::new(HashMap::new()),
            stats: Arc::new(Mutex::new(HashMap::new())),
            directory: Mutex::new(Directory::default()),
            sink,
            incoming: Mutex::new(Some(HashMap::new())),
        })
    }

    /// This member's raft id.
    pub fn id(&self) -> u64 {
        self.me
    }

    /// Sets the cluster id sent with every request (once known).
    pub fn set_cluster_id(&self, id: u64) {
        self.cluster_id.store(id, Ordering::Relaxed);
    }

    /// The cluster id, 0 until known.
    pub fn cluster_id(&self) -> u64 {
        self.cluster_id.load(Ordering::Relaxed)
    }

    /// Adds or updates the member table's peer URLs in the address book (hints for ids the
    /// table does not know yet stay; removed members are dropped by [`Transport::forget`]).
    pub fn set_addresses(&self, table: HashMap<u64, String>) {
        let mut addrs = self.addresses.lock().expect("transport lock poisoned");
        for (id, url) in table {
            addrs.insert(id, url);
        }
    }

    /// Forgets a removed member.
    pub fn forget(&self, id: u64) {
        self.addresses
            .lock()
            .expect("transport lock poisoned")
            .remove(&id);
        self.senders
            .lock()
            .expect("transport lock poisoned")
            .remove(&id);
        self.stats.lock().expect("stats lock poisoned").remove(&id);
        if let Some(streams) = self
            .incoming
            .lock()
            .expect("transport lock poisoned")
            .as_mut()
        {
            streams.remove(&id);
        }
    }

    /// Ends every incoming message stream and takes no more: shutdown waits for open
    /// requests, and a stream's never ends by itself.
    pub fn close_streams(&self) {
        self.incoming
            .lock()
            .expect("transport lock poisoned")
            .take();
    }

    /// Adds an address learnt outside the member table (from a join response).
    pub fn hint(&self, id: u64, url: String) {
        self.addresses
            .lock()
            .expect("transport lock poisoned")
            .entry(id)
            .or_insert(url);
    }

    /// Whether `id` is a peer this member knows an address for: a member of its table or one
    /// a join response named (a joiner hears from its leader before its table holds anyone).
    pub fn knows(&self, id: u64) -> bool {
        self.addresses
            .lock()
            .expect("transport lock poisoned")
            .contains_key(&id)
    }

    /// Latency and counts per peer this member sent to (for `/v2/stats/leader`).
    pub fn follower_stats(&self) -> HashMap<u64, FollowerStats> {
        self.stats.lock().expect("stats lock poisoned").clone()
    }

    fn queue(&self, msgs: Vec<Message>) {
        let addrs = self.addresses.lock().expect("transport lock poisoned");
        let mut senders = self.senders.lock().expect("transport lock poisoned");
        for m in msgs {
            if m.to == self.me {
                continue;
            }
            let Some(url) = addrs.get(&m.to) else {
                tracing::debug!(to = m.to, "no address for peer; dropping message");
                continue;
            };
            let fresh = senders.get(&m.to).is_none_or(|s| &s.url != url);
            if fresh {
                senders.insert(m.to, self.spawn_sender(m.to, url.clone()));
            }
            let sender = senders.get(&m.to).expect("just inserted");
            let to = m.to;
            let snapshot = m.get_msg_type() == MessageType::MsgSnapshot;
            if sender.queue.try_send(m).is_err() {
                if snapshot {
                    self.sink.report(PeerReport::SnapshotSent { to, ok: false });
                }
                self.sink.report(PeerReport::Unreachable(to));
            }
        }
    }

    fn spawn_sender(&self, to: u64, url: String) -> PeerSender {
        let (tx, rx) = mpsc::channel(PEER_QUEUE);
        let task = PeerTask {
            to,
            from: self.me,
            url: url.trim_end_matches('/').to_string(),
            client: self.client.clone(),
            snapshots: self.snapshots.clone(),
            cluster_id: self.cluster_id.clone(),
            stats: self.stats.clone(),
            sink: self.sink.clone(),
            per_batch: Arc::new(AtomicBool::new(false)),
        };
        self.runtime.spawn(task.run(rx));
        PeerSender { url, queue: tx }
    }
}

impl Network for Transport {
    fn send(&self, msgs: Vec<Message>) {
        self.queue(msgs);
    }

    fn set_peers(&self, peers: PeerTable) {
        self.set_addresses(peers.addresses);
        for (id, _) in &peers.removed {
            self.forget(*id);
        }
        {
            let mut dir = self.directory.lock().expect("transport lock poisoned");
            dir.members = peers.members.into_iter().collect();
            dir.removed = peers.removed.into_iter().collect();
        }
        if peers.cluster_id != 0 {
            self.set_cluster_id(peers.cluster_id);
        }
    }
}

/// One peer's sending task.
struct PeerTask {
    to: u64,
    from: u64,
    url: String,
    client: reqwest::Client,
    snapshots: SnapshotFiles,
    cluster_id: Arc<AtomicU64>,
    stats: Arc<Mutex<HashMap<u64, FollowerStats>>>,
    sink: Arc<dyn PeerSink>,
    /// Set once the peer answered that it serves no message stream: it gets a request per
    /// batch from then on.
    per_batch: Arc<AtomicBool>,
}

/// Ends a task when dropped.
struct AbortOnDrop(tokio::task::JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// How a peer answered.
enum Outcome {
    Delivered,
    Failed,
    /// The peer says this member was removed from the cluster, by the conf change at this
    /// raft index (if it said). Only a hint: anything at a peer URL can answer 410.
    Removed(Option<u64>),
}

impl PeerTask {
    async fn run(self, mut queue: mpsc::Receiver<Message>) {
        let (alive_tx, mut alive) = mpsc::channel(1);
        let _prober = AbortOnDrop(tokio::spawn(stream::probe(
            self.client.clone(),
            self.url.clone(),
            self.to,
            self.stats.clone(),
            self.per_batch.clone(),
            alive_tx,
        )));
        let mut keepalive = tokio::time::interval(stream::KEEPALIVE_EVERY);
        keepalive.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut stream = None;
        loop {
            tokio::select! {
                next = queue.recv() => {
                    let Some(first) = next else { break };
                    let (batch, snapshot) = gather(first, &mut queue);
                    if !batch.is_empty() {
                        self.deliver(&mut stream, &batch).await;
                    }
                    if let Some(snap) = snapshot {
                        let outcome = self.send_snapshot(&snap).await;
                        let ok = matches!(outcome, Outcome::Delivered);
                        self.sink
                            .report(PeerReport::SnapshotSent { to: self.to, ok });
                        self.settle(outcome);
                    }
                }
                Some(answered) = alive.recv() => {
                    // What went into a stream to a peer that does not answer may be lost.
                    if !answered && stream.take().is_some() {
                        tracing::debug!(to = self.to, "peer does not answer probes; dropping its stream");
                        self.sink.report(PeerReport::Unreachable(self.to));
                    }
                }
                _ = keepalive.tick() => PeerStream::keep_alive(&mut stream),
            }
        }
    }

    /// Sends a batch of messages: into the peer's stream (opened if need be), or as a request
    /// of its own to a peer without streams.
    async fn deliver(&self, stream: &mut Option<PeerStream>, batch: &[Message]) {
        let count = batch.len() as u64;
        let frames = Bytes::from(wire::encode_batch(batch));
        // A stream that ended is reopened once for this batch; a peer that is down fails the
        // new one too, and that is reported by the stream's request.
        for _ in 0..2 {
            if self.per_batch.load(Ordering::Relaxed) {
                *stream = None;
                let outcome = self.send_batch(&frames, batch.len()).await;
                if matches!(outcome, Outcome::Failed) {
                    // Down, perhaps to be upgraded: the next batch tries a stream again.
                    self.per_batch.store(false, Ordering::Relaxed);
                }
                self.settle(outcome);
                return;
            }
            let s = stream.get_or_insert_with(|| PeerStream::open(self));
            match s.write(frames.clone()) {
                Sent::Queued => {
                    crate::metrics::METRICS
                        .peer_sent_bytes
                        .with_label_values(&[&format!("{:x}", self.to)])
                        .inc_by(frames.len() as u64);
                    stats::record(&self.stats, self.to, |s| s.record_sent(count));
                    return;
                }
                Sent::Stalled => {
                    tracing::debug!(to = self.to, "peer stopped reading its stream; dropping it");
                    *stream = None;
                    break;
                }
                Sent::Closed => *stream = None,
            }
        }
        stats::record(&self.stats, self.to, |s| s.record_failure(count));
        self.sink.report(PeerReport::Unreachable(self.to));
    }

    fn settle(&self, outcome: Outcome) {
        settle(self.sink.as_ref(), self.to, outcome);
    }

    fn request(&self, path: &str) -> reqwest::RequestBuilder {
        self.client
            .post(format!("{}{path}", self.url))
            .header(
                wire::CLUSTER_HEADER,
                format!("{:x}", self.cluster_id.load(Ordering::Relaxed)),
            )
            .header(wire::FROM_HEADER, format!("{:x}", self.from))
            .header("content-type", "application/octet-stream")
    }

    async fn send_batch(&self, body: &Bytes, count: usize) -> Outcome {
        let to = format!("{:x}", self.to);
        let m = &crate::metrics::METRICS;
        m.peer_sent_bytes
            .with_label_values(&[&to])
            .inc_by(body.len() as u64);
        let started = Instant::now();
        let res = self
            .request("/raft")
            .timeout(SEND_TIMEOUT)
            .body(body.clone())
            .send()
            .await;
        if res.is_ok() {
            m.peer_round_trip
                .with_label_values(&[&to])
                .observe(started.elapsed().as_secs_f64());
        }
        self.outcome(res, started, count)
    }

    async fn send_snapshot(&self, msg: &Message) -> Outcome {
        let meta = msg.get_snapshot().get_metadata();
        let path = self.snapshots.path(meta.term, meta.index);
        let file = match tokio::fs::File::open(&path).await {
            Ok(f) => f,
            Err(e) => {
                tracing::warn!(to = self.to, "cannot open snapshot {}: {e}", path.display());
                return Outcome::Failed;
            }
        };
        let mut head = Vec::new();
        wire::encode_into(msg, &mut head);
        let head = futures::stream::once(async move { Ok::<_, std::io::Error>(head.into()) });
        let data = tokio_util::io::ReaderStream::new(file);
        let body = reqwest::Body::wrap_stream(futures::StreamExt::chain(head, data));
        tracing::info!(to = self.to, index = meta.index, "streaming snapshot");
        let started = Instant::now();
        let res = self
            .request("/raft/snapshot")
            .timeout(SNAPSHOT_TIMEOUT)
            .body(body)
            .send()
            .await;
        self.outcome(res, started, 1)
    }

    fn outcome(
        &self,
        res: Result<reqwest::Response, reqwest::Error>,
        started: Instant,
        count: usize,
    ) -> Outcome {
        let outcome = classify(self.to, res);
        stats::record(&self.stats, self.to, |s| match outcome {
            Outcome::Delivered => s.record_success(started.elapsed(), count as u64),
            _ => s.record_failure(count as u64),
        });
        outcome
    }
}

/// The messages to send together: `first` and what queued up behind it, up to a snapshot,
/// which goes on its own (returned second).
fn gather(first: Message, queue: &mut mpsc::Receiver<Message>) -> (Vec<Message>, Option<Message>) {
    if first.get_msg_type() == MessageType::MsgSnapshot {
        return (Vec::new(), Some(first));
    }
    let mut batch = vec![first];
    while batch.len() < MAX_BATCH {
        match queue.try_recv() {
            Ok(m) if m.get_msg_type() == MessageType::MsgSnapshot => return (batch, Some(m)),
            Ok(m) => batch.push(m),
            Err(_) => break,
        }
    }
    (batch, None)
}

/// Tells raft what an answer of peer `to` means for it.
fn settle(sink: &dyn PeerSink, to: u64, outcome: Outcome) {
    match outcome {
        Outcome::Delivered => {}
        Outcome::Failed => sink.report(PeerReport::Unreachable(to)),
        Outcome::Removed(at) => sink.report(PeerReport::RemovalHint { at, by: to }),
    }
}

/// How peer `to` answered a request.
fn classify(to: u64, res: Result<reqwest::Response, reqwest::Error>) -> Outcome {
    match res {
        Ok(r) if r.status().is_success() => Outcome::Delivered,
        Ok(r) if r.status() == reqwest::StatusCode::GONE => Outcome::Removed(
            r.headers()
                .get(wire::REMOVED_AT_HEADER)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.parse().ok()),
        ),
        Ok(r) => {
            tracing::debug!(to, status = %r.status(), "peer refused messages");
            Outcome::Failed
        }
        Err(e) => {
            tracing::debug!(to, "cannot reach peer: {e}");
            Outcome::Failed
        }
    }
}

#[cfg(test)]
mod tests;

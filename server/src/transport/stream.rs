//! The sending half of a message stream (`POST /raft/stream`): one long-lived request per peer
//! whose body is an endless run of length-prefixed messages (see [`super::wire`]), so a batch
//! costs one chunk on an open connection instead of a request, its routing and its answer, and
//! the next batch need not wait for the last one's answer. etcd's rafthttp streams the same way.
//!
//! A stream shows nothing about the peer while it is open: the kernel takes megabytes for a
//! stopped or cut-off peer before a write would block. So each peer is also probed
//! ([`probe`]), and a peer that does not answer a probe has its stream dropped and counts as
//! unreachable. A peer that does not serve streams (404: an older version, during a rolling
//! upgrade) is sent a request per batch instead.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bytes::Bytes;
use tokio::sync::mpsc;
use tokio::sync::mpsc::error::TrySendError;
use tokio::task::JoinHandle;

use super::stats::record;
use super::{classify, settle, FollowerStats, Outcome, PeerTask};

/// Path of the message stream on the peer port.
pub const STREAM_PATH: &str = "/raft/stream";
/// Path a peer is probed on (any answer means it is alive).
pub const PROBE_PATH: &str = "/raft/probing";

/// Batches waiting for the stream's connection before the peer counts as stalled.
const STREAM_BUFFER: usize = 256;
/// How often a peer with a stream is probed: its latency (for `/v2/stats/leader` and
/// `etcd_network_peer_round_trip_time_seconds`, which etcd 3.4 also measures by probing) and
/// whether it answers at all.
pub const PROBE_EVERY: Duration = Duration::from_secs(1);
/// How long a probe may take before the peer counts as unreachable.
const PROBE_TIMEOUT: Duration = Duration::from_secs(3);
/// A stream with nothing to carry sends a keep-alive this often, so the receiver's idle
/// deadline ends only dead streams.
pub const KEEPALIVE_EVERY: Duration = Duration::from_secs(5);

/// What became of a batch handed to a stream.
pub enum Sent {
    /// On its way.
    Queued,
    /// The connection has not taken the last [`STREAM_BUFFER`] batches: the peer is not
    /// reading.
    Stalled,
    /// The stream's request has ended; the batch was not sent.
    Closed,
}

/// An open stream to one peer. Dropping it ends the request.
pub struct PeerStream {
    frames: mpsc::Sender<Bytes>,
    request: JoinHandle<()>,
    last_write: Instant,
}

impl PeerStream {
    /// Opens a stream to `task`'s peer. How its request ends is settled by the request's own
    /// task: a failure reports the peer unreachable, a 404 switches `task` to a request per
    /// batch, a 410 passes on the peer's removal hint.
    pub fn open(task: &PeerTask) -> PeerStream {
        let (frames, rx) = mpsc::channel::<Bytes>(STREAM_BUFFER);
        let chunks = futures::stream::unfold(rx, |mut rx| async move {
            rx.recv().await.map(|b| (Ok::<_, std::io::Error>(b), rx))
        });
        let req = task
            .request(STREAM_PATH)
            .body(reqwest::Body::wrap_stream(chunks));
        let (to, sink, stats, per_batch) = (
            task.to,
            task.sink.clone(),
            task.stats.clone(),
            task.per_batch.clone(),
        );
        let request = tokio::spawn(async move {
            let res = req.send().await;
            if matches!(&res, Ok(r) if r.status() == reqwest::StatusCode::NOT_FOUND) {
                tracing::info!(
                    to,
                    "peer serves no message stream (an older version): sending it a request \
                     per batch"
                );
                per_batch.store(true, Ordering::Relaxed);
                return;
            }
            // Delivered: the peer ended the stream (it took a newer one, or is shutting down).
            let outcome = classify(to, res);
            if matches!(outcome, Outcome::Failed) {
                record(&stats, to, |s| s.record_failure(1));
            }
            settle(sink.as_ref(), to, outcome);
        });
        PeerStream {
            frames,
            request,
            last_write: Instant::now(),
        }
    }

    /// Hands `frames` (whole encoded messages) to the stream.
    pub fn write(&mut self, frames: Bytes) -> Sent {
        if self.request.is_finished() {
            return Sent::Closed;
        }
        match self.frames.try_send(frames) {
            Ok(()) => {
                self.last_write = Instant::now();
                Sent::Queued
            }
            Err(TrySendError::Full(_)) => Sent::Stalled,
            Err(TrySendError::Closed(_)) => Sent::Closed,
        }
    }

    /// Sends a keep-alive on a stream silent for [`KEEPALIVE_EVERY`]; drops a stream that
    /// takes none.
    pub fn keep_alive(stream: &mut Option<PeerStream>) {
        let dead = stream.as_mut().is_some_and(|s| {
            let keepalive = Bytes::from_static(&super::wire::KEEPALIVE);
            s.last_write.elapsed() >= KEEPALIVE_EVERY && !matches!(s.write(keepalive), Sent::Queued)
        });
        if dead {
            *stream = None;
        }
    }
}

impl Drop for PeerStream {
    fn drop(&mut self) {
        self.request.abort();
    }
}

/// Probes `task`'s peer every [`PROBE_EVERY`] while it is sent streams, recording each round
/// trip, and says after each probe whether the peer answered. Ends when `alive` is closed.
pub async fn probe(
    client: reqwest::Client,
    url: String,
    to: u64,
    stats: Arc<Mutex<HashMap<u64, FollowerStats>>>,
    per_batch: Arc<AtomicBool>,
    alive: mpsc::Sender<bool>,
) {
    let mut tick = tokio::time::interval(PROBE_EVERY);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let peer = format!("{to:x}");
    loop {
        tick.tick().await;
        // A peer sent a request per batch is timed by those requests.
        if per_batch.load(Ordering::Relaxed) {
            continue;
        }
        let started = Instant::now();
        let res = client
            .get(format!("{url}{PROBE_PATH}"))
            .timeout(PROBE_TIMEOUT)
            .send()
            .await;
        // Any answer at all means the peer's server runs.
        let answered = res.is_ok();
        if answered {
            let took = started.elapsed();
            crate::metrics::METRICS
                .peer_round_trip
                .with_label_values(&[&peer])
                .observe(took.as_secs_f64());
            record(&stats, to, |s| s.record_latency(took));
        } else {
            record(&stats, to, |s| s.record_failure(1));
        }
        if alive.send(answered).await.is_err() {
            return;
        }
    }
}

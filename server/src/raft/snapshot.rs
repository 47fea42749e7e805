//! Snapshots of the state machine, taken without stalling the loop.
//!
//! Every `snapshot_count` applied entries (or when raft needs one for a follower) the loop
//! freezes the state under the lock, which costs O(1) in the size of the store (the tree is
//! persistent, see `store::node`), and hands the frozen copy to a [`SnapshotRunner`]. The
//! job encodes it straight into a temporary file, fsyncs and renames it (a crash leaves the
//! old snapshot and the whole log), and answers on a channel. The loop polls that channel on
//! every turn; once the file is durable it records the snapshot's metadata and compacts the
//! log below it in one synced write. One snapshot is in flight at a time; the next one
//! removes the file of the one this superseded.
//!
//! The server runs jobs on a thread of their own ([`ThreadRunner`]); a simulation runs them
//! at once on its own thread ([`InlineRunner`]), so its runs stay deterministic, or holds
//! them to show that the loop goes on meanwhile.

use std::sync::mpsc::{self, TryRecvError};
use std::time::{Duration, Instant};

use raft::eraftpb::SnapshotMetadata;

use super::driver::RaftLoop;
use crate::storage::{LogStore, StorageFailure};

/// Log entries kept below a snapshot so slightly lagging followers catch up from the log.
const MAX_ENTRIES_KEPT_AFTER_SNAPSHOT: u64 = 5000;

/// A snapshot to write: encode the frozen state into its file, then say how it went.
pub struct SnapshotJob(Box<dyn FnOnce() + Send>);

impl SnapshotJob {
    /// Does the work (blocking: it writes and fsyncs a file).
    pub fn run(self) {
        (self.0)()
    }
}

/// Where snapshot jobs run: the seam that keeps a simulation deterministic.
pub trait SnapshotRunner: Send + Sync {
    /// Runs `job`, now or later, here or on another thread. Its answer reaches the loop on
    /// its own; until it has, no other snapshot is started.
    fn run(&self, job: SnapshotJob);
}

/// Runs each job on a thread of its own: the server's.
#[derive(Debug, Default)]
pub struct ThreadRunner;

impl SnapshotRunner for ThreadRunner {
    fn run(&self, job: SnapshotJob) {
        // The job is moved into the closure; if the thread cannot start, it is run here
        // instead (a stall, but the snapshot is still taken and the log still compacted).
        let slot = std::sync::Arc::new(std::sync::Mutex::new(Some(job)));
        let theirs = slot.clone();
        let spawned = std::thread::Builder::new()
            .name("snapshot".into())
            .spawn(move || {
                if let Some(job) = theirs.lock().ok().and_then(|mut j| j.take()) {
                    job.run();
                }
            });
        if let Err(e) = spawned {
            tracing::warn!("cannot start a snapshot thread ({e}); writing the snapshot inline");
            if let Some(job) = slot.lock().ok().and_then(|mut j| j.take()) {
                job.run();
            }
        }
    }
}

/// Runs each job at once, on the caller's thread: a simulation's (deterministic, and the
/// answer is there for the loop's next poll).
#[derive(Debug, Default)]
pub struct InlineRunner;

impl SnapshotRunner for InlineRunner {
    fn run(&self, job: SnapshotJob) {
        job.run();
    }
}

/// The loop's side of snapshots: the one in flight, and whether raft asked for one.
/// How long after a snapshot that did not fit on the disk the next one is tried.
const SNAPSHOT_RETRY: Duration = Duration::from_secs(10);

#[derive(Default)]
pub(super) struct Snapshots {
    in_flight: Option<InFlight>,
    /// raft needs a snapshot newer than the newest (for a follower); taken when none is in
    /// flight.
    wanted: bool,
    /// The snapshot the newest one superseded (term, index): the next job removes its file
    /// first. Not at once on the loop, since unlinking a large file takes milliseconds, nor
    /// in a job of its own, which could race the next snapshot's file; a stop before then
    /// leaves it to the next start.
    superseded: Option<(u64, u64)>,
    /// No snapshot starts before this: the last one did not fit on the disk.
    not_before: Option<Instant>,
    /// The index of the newest conf change applied. A snapshot follows it soon, whatever
    /// `snapshot_count` says: a restart applies the log after the snapshot before raft starts
    /// only up to the first conf change there (raft applies the rest, several times slower),
    /// and every new cluster's log starts with one.
    pub conf_change_at: u64,
}

/// A snapshot being written.
struct InFlight {
    meta: SnapshotMetadata,
    started: Instant,
    done: mpsc::Receiver<std::io::Result<u64>>,
}

impl<S: LogStore> RaftLoop<S> {
    /// Records the snapshot in flight if its file is written, then starts the next one when
    /// it is due: every `snapshot_count` applied entries, as soon as raft wants one, or after
    /// a conf change.
    pub(super) fn maybe_snapshot(&mut self) -> Result<(), StorageFailure> {
        self.finish_snapshot()?;
        self.snapshots.wanted |= self.node.store().take_snapshot_wanted();
        if self.snapshots.in_flight.is_some()
            || self
                .snapshots
                .not_before
                .is_some_and(|t| self.clock.now() < t)
        {
            return Ok(());
        }
        let last = self.node.store().snapshot_metadata().index;
        let wanted =
            (self.snapshots.wanted || self.snapshots.conf_change_at > last) && self.applied > last;
        if !wanted && self.applied.saturating_sub(last) < self.cfg.snapshot_count.max(1) {
            return Ok(());
        }
        self.snapshots.wanted = false;
        self.start_snapshot()
    }

    /// Freezes the state at the applied index and hands it to the runner.
    fn start_snapshot(&mut self) -> Result<(), StorageFailure> {
        // The metadata is taken now: the term of the applied index and the configuration as
        // of it (conf changes applied later belong to the next snapshot).
        let meta = self.node.store().snapshot_meta_at(self.applied)?;
        let frozen = self.state.read().freeze();
        let files = self.node.store().snapshot_files().clone();
        let superseded = self.snapshots.superseded.take();
        let (tx, done) = mpsc::channel();
        let (term, index) = (meta.term, meta.index);
        let job = SnapshotJob(Box::new(move || {
            if let Some((term, index)) = superseded {
                files.remove(term, index);
            }
            let written = files.write_with(term, index, |w| frozen.write_to(w));
            // The frozen copy goes here, off the loop: dropping a large tree takes time too.
            drop(frozen);
            let _ = tx.send(written);
        }));
        tracing::debug!(index, "snapshot started");
        self.snapshots.in_flight = Some(InFlight {
            meta,
            started: self.clock.now(),
            done,
        });
        self.snapshot_runner.run(job);
        Ok(())
    }

    /// Once the snapshot in flight is durable: records its metadata and compacts the log. A
    /// snapshot that could not be written stops the loop, as any failed write to disk does.
    fn finish_snapshot(&mut self) -> Result<(), StorageFailure> {
        let Some(job) = &self.snapshots.in_flight else {
            return Ok(());
        };
        let written = match job.done.try_recv() {
            Ok(written) => written,
            Err(TryRecvError::Empty) => return Ok(()),
            Err(TryRecvError::Disconnected) => Err(std::io::Error::other(
                "the snapshot writer ended without an answer",
            )),
        };
        let job = self.snapshots.in_flight.take().expect("checked above");
        let bytes = match written {
            Ok(bytes) => bytes,
            Err(e) if crate::storage::is_out_of_space(&e) => {
                // The writer removed its partial file; the log keeps everything meanwhile.
                tracing::warn!(index = job.meta.index, error = %e, "snapshot did not fit on the disk; trying again later");
                self.snapshots.not_before = Some(self.clock.now() + SNAPSHOT_RETRY);
                return Ok(());
            }
            Err(e) => return Err(e.into()),
        };
        let newest = self.node.store().snapshot_metadata().clone();
        if job.meta.index <= newest.index {
            // A snapshot from the leader was installed meanwhile; this one is older.
            if (job.meta.term, job.meta.index) != (newest.term, newest.index) {
                self.node
                    .store()
                    .snapshot_files()
                    .remove(job.meta.term, job.meta.index);
            }
            return Ok(());
        }
        let index = job.meta.index;
        let keep = MAX_ENTRIES_KEPT_AFTER_SNAPSHOT.min(self.cfg.snapshot_count / 2);
        let written_at = self.clock.now();
        self.snapshots.superseded = self.node.mut_store().record_snapshot(job.meta, keep)?;
        let now = self.clock.now();
        let m = &crate::metrics::METRICS;
        m.snapshots.inc();
        m.snapshot_duration
            .observe(now.saturating_duration_since(job.started).as_secs_f64());
        tracing::info!(
            index,
            bytes,
            write_ms = written_at
                .saturating_duration_since(job.started)
                .as_millis() as u64,
            record_ms = now.saturating_duration_since(written_at).as_millis() as u64,
            "saved snapshot"
        );
        Ok(())
    }

    /// The index of the newest durable snapshot (0: none).
    #[cfg_attr(not(any(test, feature = "sim")), allow(dead_code))]
    pub(crate) fn snapshot_index(&self) -> u64 {
        self.node.store().snapshot_metadata().index
    }

    /// Whether a snapshot is being written.
    #[cfg_attr(not(any(test, feature = "sim")), allow(dead_code))]
    pub(crate) fn snapshot_in_flight(&self) -> bool {
        self.snapshots.in_flight.is_some()
    }
}

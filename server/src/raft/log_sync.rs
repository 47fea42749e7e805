//! The log's fsync, off the raft loop. The loop writes each Ready unsynced and hands its
//! number here ([`LogSync::submit`]); the sync thread fdatasyncs everything written so far
//! (one fsync covers every Ready submitted while the previous one ran: group commit) and wakes
//! the loop, which then tells raft-rs (`on_persist_ready`) and sends what had to wait for the
//! disk. Meanwhile the loop goes on stepping messages: a follower answers its leader's
//! heartbeats (and so its ReadIndex rounds) while its disk flushes, and a leader gathers
//! the next proposals. A simulation syncs on the loop itself, at turns its seed picks.

use std::sync::{Arc, Condvar, Mutex};

use super::{Mailbox, Request};
use crate::seeded::SplitMix64;
use crate::storage::{LogSyncer, StorageFailure};

/// A Ready whose writes wait for the disk: its number, and the commit index its sync makes
/// durable (for the data dir's durable mark).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct SyncTicket {
    pub number: u64,
    pub durable_commit: u64,
}

/// Where the log's fsyncs run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogSyncMode {
    /// On a thread of their own: the server's.
    Thread,
    /// On the loop, at a later turn its seed picks: a simulation's, so a run replays.
    Deferred,
}

/// The sync thread's state, shared with the loop.
#[derive(Default)]
pub(super) struct Shared {
    /// The newest ticket submitted and not yet taken by the thread.
    queued: Option<SyncTicket>,
    /// The newest ticket whose sync is done and the loop has not taken.
    done: Option<SyncTicket>,
    /// Whether the thread is syncing now.
    busy: bool,
    failed: Option<String>,
    /// The loop is gone: the thread ends.
    closed: bool,
}

/// Where the loop's syncs go.
pub(super) enum LogSync {
    Thread {
        shared: Arc<(Mutex<Shared>, Condvar)>,
        /// Submitted tickets not yet reported done.
        outstanding: bool,
    },
    Deferred {
        syncer: LogSyncer,
        queued: Option<SyncTicket>,
        rng: SplitMix64,
    },
}

impl LogSync {
    /// Starts the sync thread (or, in `Deferred` mode, none), syncing with `syncer` and waking
    /// the loop through `mailbox`.
    pub(super) fn start(
        mode: LogSyncMode,
        syncer: LogSyncer,
        mailbox: Mailbox,
        seed: u64,
    ) -> std::io::Result<LogSync> {
        if mode == LogSyncMode::Deferred {
            return Ok(LogSync::Deferred {
                syncer,
                queued: None,
                rng: SplitMix64::new(seed),
            });
        }
        let shared: Arc<(Mutex<Shared>, Condvar)> = Default::default();
        let theirs = shared.clone();
        std::thread::Builder::new()
            .name("log-sync".into())
            .spawn(move || sync_thread(&theirs, &syncer, &mailbox))?;
        Ok(LogSync::Thread {
            shared,
            outstanding: false,
        })
    }

    /// Asks for everything written so far to be made durable; `ticket` is reported done once it
    /// is.
    pub(super) fn submit(&mut self, ticket: SyncTicket) {
        match self {
            LogSync::Thread {
                shared,
                outstanding,
            } => {
                let (lock, wake) = &**shared;
                lock_shared(lock).queued = Some(ticket);
                *outstanding = true;
                wake.notify_all();
            }
            LogSync::Deferred { queued, .. } => *queued = Some(ticket),
        }
    }

    /// Whether a submitted ticket was not reported done yet.
    pub(super) fn outstanding(&self) -> bool {
        match self {
            LogSync::Thread { outstanding, .. } => *outstanding,
            LogSync::Deferred { queued, .. } => queued.is_some(),
        }
    }

    /// The newest ticket done since the last call, if any. A simulation's sync runs here, or
    /// is left for a later turn.
    pub(super) fn poll(&mut self) -> Result<Option<SyncTicket>, StorageFailure> {
        match self {
            LogSync::Thread {
                shared,
                outstanding,
            } => {
                let mut s = lock_shared(&shared.0);
                if let Some(e) = s.failed.take() {
                    return Err(sync_failed(e));
                }
                let done = s.done.take();
                *outstanding = s.queued.is_some() || s.busy;
                Ok(done)
            }
            LogSync::Deferred {
                syncer,
                queued,
                rng,
            } => {
                if queued.is_none() || rng.between(0, 1) == 0 {
                    return Ok(None);
                }
                syncer()?;
                Ok(queued.take())
            }
        }
    }

    /// Waits until every submitted ticket is done; returns the newest, if any was
    /// outstanding.
    pub(super) fn wait_all(&mut self) -> Result<Option<SyncTicket>, StorageFailure> {
        match self {
            LogSync::Thread {
                shared,
                outstanding,
            } => {
                let (lock, wake) = &**shared;
                let mut s = lock_shared(lock);
                while s.failed.is_none() && (s.queued.is_some() || s.busy) {
                    s = wake.wait(s).unwrap_or_else(|e| e.into_inner());
                }
                if let Some(e) = s.failed.take() {
                    return Err(sync_failed(e));
                }
                *outstanding = false;
                Ok(s.done.take())
            }
            LogSync::Deferred { syncer, queued, .. } => {
                if queued.is_some() {
                    syncer()?;
                }
                Ok(queued.take())
            }
        }
    }
}

impl Drop for LogSync {
    fn drop(&mut self) {
        if let LogSync::Thread { shared, .. } = self {
            let (lock, wake) = &**shared;
            lock_shared(lock).closed = true;
            wake.notify_all();
        }
    }
}

fn lock_shared(lock: &Mutex<Shared>) -> std::sync::MutexGuard<'_, Shared> {
    lock.lock().unwrap_or_else(|e| e.into_inner())
}

fn sync_failed(e: String) -> StorageFailure {
    StorageFailure::Io(std::io::Error::other(format!("syncing the raft log: {e}")))
}

/// The sync thread: takes the newest ticket, syncs, reports it, until the loop is gone or a
/// sync fails (the loop then stops with the failure: raft-rs must not hear of a persist that
/// did not happen).
fn sync_thread(shared: &(Mutex<Shared>, Condvar), syncer: &LogSyncer, mailbox: &Mailbox) {
    let (lock, wake) = shared;
    loop {
        let ticket = {
            let mut s = lock_shared(lock);
            loop {
                if s.closed {
                    return;
                }
                if let Some(t) = s.queued.take() {
                    s.busy = true;
                    break t;
                }
                s = wake.wait(s).unwrap_or_else(|e| e.into_inner());
            }
        };
        let started = std::time::Instant::now();
        let result = syncer();
        crate::metrics::METRICS
            .fsync_duration
            .observe(started.elapsed().as_secs_f64());
        {
            let mut s = lock_shared(lock);
            s.busy = false;
            match result {
                Ok(()) => s.done = Some(ticket),
                Err(e) => s.failed = Some(e.to_string()),
            }
        }
        wake.notify_all();
        // The inbox may be full; then the loop is busy and polls on its next turn anyway.
        let _ = mailbox.enqueue(Request::LogSynced);
        if lock_shared(lock).failed.is_some() {
            return;
        }
    }
}

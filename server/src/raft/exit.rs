//! How the raft loop ends, and how the rest of the server hears of it: the loop's thread
//! returns a [`LoopExit`] (a panic inside the loop included), and [`RaftThread::stopped`]
//! wakes the server so it shuts its listeners down in order and exits with the reason's code,
//! instead of living on without a raft loop (a zombie that answers `/health` and refuses
//! every write).

use std::fmt;
use std::thread::JoinHandle;

use tokio::sync::watch;

/// Why the raft loop ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LoopExit {
    /// The server asked it to stop (SIGINT/SIGTERM).
    Shutdown,
    /// This member applied the conf change removing it: the data dir is marked removed.
    Removed,
    /// A peer said this member was removed and its own log holds that removal (not yet
    /// known to be committed, so nothing is persisted; a restart asks again).
    RemovalConfirmed {
        /// The raft index of the removal.
        at: u64,
    },
    /// Storage failed: durability can no longer be promised.
    StorageFailed(String),
    /// The loop panicked.
    Panicked(String),
}

impl LoopExit {
    /// Whether the process should exit with success: a stop or a removal is an orderly end.
    pub fn is_success(&self) -> bool {
        matches!(
            self,
            LoopExit::Shutdown | LoopExit::Removed | LoopExit::RemovalConfirmed { .. }
        )
    }
}

impl fmt::Display for LoopExit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LoopExit::Shutdown => write!(f, "stopped"),
            LoopExit::Removed => write!(f, "this member was removed from the cluster"),
            LoopExit::RemovalConfirmed { at } => write!(
                f,
                "this member was removed from the cluster (conf change at index {at})"
            ),
            LoopExit::StorageFailed(e) => write!(f, "storage failed: {e}"),
            LoopExit::Panicked(e) => write!(f, "raft loop panicked: {e}"),
        }
    }
}

/// The raft loop's thread.
pub struct RaftThread {
    pub(super) thread: JoinHandle<LoopExit>,
    pub(super) ended: watch::Receiver<bool>,
}

impl RaftThread {
    /// Resolves once the loop has ended, for whatever reason.
    pub fn stopped(&self) -> impl std::future::Future<Output = ()> + Send + 'static {
        let mut ended = self.ended.clone();
        async move {
            let _ = ended.wait_for(|ended| *ended).await;
        }
    }

    /// Waits for the thread and says why it ended.
    pub fn join(self) -> LoopExit {
        self.thread
            .join()
            .unwrap_or_else(|_| LoopExit::Panicked("raft thread panicked".into()))
    }
}

/// The text of a panic payload.
pub(super) fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    if let Some(s) = payload.downcast_ref::<&str>() {
        (*s).to_string()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "unknown panic".into()
    }
}

//! What can go wrong with the durable layer, and which of it is only a full disk.

/// Errors of the durable layer; all of them stop the server (it cannot promise durability),
/// except a full disk, which the raft loop waits out (`raft::disk_full`).
#[derive(Debug, thiserror::Error)]
pub enum StorageFailure {
    /// raft-engine failed.
    #[error("raft log: {0}")]
    Engine(#[from] raft_engine::Error),
    /// A snapshot file could not be written or read.
    #[error("snapshot file: {0}")]
    Io(#[from] std::io::Error),
    /// A stored protobuf could not be decoded.
    #[error("stored state is corrupt: {0}")]
    Corrupt(String),
    /// The raft log lost or damaged committed entries (see `log_integrity`).
    #[error("{0}")]
    Damaged(String),
    /// The data dir holds raft state but no member identity: something was lost, and starting
    /// on it as a new member would silently fork the cluster's data.
    #[error("data dir {0} is incomplete: it holds {1} but no member identity (was it damaged, or copied in part?); refusing to start on it. Restore it from a backup, or start with -f to discard it")]
    Incomplete(String, &'static str),
}

impl StorageFailure {
    /// Whether the write failed for want of space (ENOSPC or a quota), so that it may succeed
    /// once there is room; every other failure of the disk stops the member.
    pub fn is_out_of_space(&self) -> bool {
        match self {
            StorageFailure::Engine(raft_engine::Error::Io(e)) | StorageFailure::Io(e) => {
                is_out_of_space(e)
            }
            // raft-engine 0.4 answers TryAgain only when an append found no space (it rotated
            // the file and the batch still did not fit).
            StorageFailure::Engine(raft_engine::Error::TryAgain(_)) => true,
            _ => false,
        }
    }
}

/// Whether an I/O error means the disk (or the user's quota) is full.
pub fn is_out_of_space(e: &std::io::Error) -> bool {
    matches!(
        e.kind(),
        std::io::ErrorKind::StorageFull | std::io::ErrorKind::QuotaExceeded
    )
}

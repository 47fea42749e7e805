//! A full disk is waited out, not fatal. When the log write of a Ready fails for want of
//! space, the loop keeps that Ready and writes it again every [`DISK_FULL_RETRY`] until it
//! fits: raft-engine cut its file back to the last whole record, so nothing half-written
//! stays, and raft-rs's order (persist, then advance) is kept. Meanwhile every caller hears
//! a clear error at once instead of a timeout, and peers' messages are dropped (they are
//! resent); a leader that cannot write stops heartbeating, so the others elect one that can.
//! A snapshot that does not fit is dropped and tried again later (`super::snapshot`).

use std::time::Duration;

use common::ErrorCode;
use raft::eraftpb::{Entry, HardState};

use super::driver::RaftLoop;
use super::requests::reject;
use super::Request;
use crate::storage::{LogStore, StorageFailure};

/// How often the loop tries the write again while the disk is full.
pub(super) const DISK_FULL_RETRY: Duration = Duration::from_millis(500);

/// What a caller hears while the disk is full.
const DISK_FULL: &str = "no space left on device; the write was not made, retry when there is room";

/// What a caller waiting for an entry already handed to raft hears.
const DISK_FULL_PENDING: &str =
    "no space left on device; the write may still be applied once there is room";

impl<S: LogStore> RaftLoop<S> {
    /// Persists a Ready's entries and hard state, waiting out a full disk. Returns false
    /// when the loop was asked to stop meanwhile (the Ready is then abandoned, unwritten).
    pub(super) fn persist_with_room(
        &mut self,
        entries: &[Entry],
        hard_state: Option<&HardState>,
        sync: bool,
    ) -> Result<bool, StorageFailure> {
        let mut waiting = false;
        loop {
            match self.node.mut_store().persist(entries, hard_state, sync) {
                Ok(()) => {
                    if waiting {
                        tracing::info!("the disk has room again; writing");
                        crate::metrics::METRICS.disk_full.set(0);
                    }
                    return Ok(true);
                }
                Err(e) if e.is_out_of_space() => {
                    if !waiting {
                        tracing::error!(
                            error = %e,
                            "no space left on device: writes fail until there is room"
                        );
                        crate::metrics::METRICS.disk_full.set(1);
                        self.pending.fail_all(DISK_FULL_PENDING);
                        waiting = true;
                    }
                    if !self.refuse_requests_for(DISK_FULL_RETRY) {
                        return Ok(false);
                    }
                }
                Err(e) => return Err(e),
            }
        }
    }

    /// Answers every request arriving within `wait` with the disk-full error. Returns false
    /// on a shutdown request.
    fn refuse_requests_for(&mut self, wait: Duration) -> bool {
        let until = self.clock.now() + wait;
        loop {
            // Readers in the gate wake the loop while it is armed, and hear the error too.
            for reply in self.inbox.reads().take() {
                reject(
                    Request::ReadIndex { reply },
                    ErrorCode::RaftInternal,
                    DISK_FULL,
                );
            }
            if !self.inbox.reads().arm() {
                continue;
            }
            let left = until.saturating_duration_since(self.clock.now());
            if left.is_zero() {
                return true;
            }
            match self.inbox.recv_timeout(left) {
                Ok(Request::Shutdown) => {
                    self.exit = Some(self.stop());
                    return false;
                }
                Ok(
                    Request::Step(_)
                    | Request::Peer(_)
                    | Request::ReadsWaiting
                    | Request::LogSynced,
                ) => {}
                Ok(req) => reject(req, ErrorCode::RaftInternal, DISK_FULL),
                Err(std::sync::mpsc::RecvTimeoutError::Timeout) => {}
                Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => {
                    self.exit = Some(self.stop());
                    return false;
                }
            }
        }
    }
}

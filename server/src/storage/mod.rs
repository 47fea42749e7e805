//! Durable raft state: the log, the hard state, the configuration and the latest snapshot.
//!
//! The log lives in `raft-engine` (a log-structured store built for raft logs, with group
//! commit and crash recovery of its own); snapshots of the state machine are whole files under
//! `snap/`, written and fsynced before the log below them is compacted. [`RaftStorage`]
//! implements `raft::Storage` for the `RawNode` and is owned by the raft thread only.
//!
//! The configuration raft starts from is the one of the newest snapshot (or none): the state
//! machine restarts from that snapshot and replays the log after it, conf changes included,
//! so raft's configuration and the member table always describe the same index.

mod failure;
mod fresh_start;
mod log_integrity;
mod log_store;
mod read;
#[cfg(any(test, feature = "sim"))]
mod sim_disk;
mod snapshot;
mod snapshot_reader;
mod terms;
mod tracked_fs;

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

use raft::eraftpb::{ConfState, Entry, HardState, Snapshot, SnapshotMetadata};
use raft_engine::env::{DefaultFileSystem, FileSystem};
use raft_engine::{Config as EngineConfig, Engine, LogBatch, MessageExt, ReadableSize};

pub use failure::{is_out_of_space, StorageFailure};
pub use log_store::LogStore;
#[cfg(any(test, feature = "sim"))]
pub use sim_disk::{SimDisk, SimFs};
pub use snapshot::SnapshotFiles;
pub use snapshot_reader::SnapshotReader;
pub use tracked_fs::TrackedFs;

/// Size of one raft-engine log file: small files keep purging of compacted log cheap on small
/// stores.
const LOG_FILE_SIZE: ReadableSize = ReadableSize::mb(64);

/// The single raft group this engine holds.
const GROUP: u64 = 1;
const KEY_HARD_STATE: &[u8] = b"hard_state";
/// Index and term of the last entry removed from the log (everything at or below is gone).
const KEY_TRUNCATED: &[u8] = b"truncated";
/// Metadata of the newest snapshot file (its data lives in `snap/`).
const KEY_SNAPSHOT_META: &[u8] = b"snapshot_meta";
/// This member's identity: `id` then `name`, written once when the data dir is created.
const KEY_MEMBER: &[u8] = b"member";
/// Present once this member has been removed from its cluster: it must not serve again.
const KEY_REMOVED: &[u8] = b"removed";

/// Tells raft-engine how to read an index out of our entries.
#[derive(Clone)]
pub struct EntryExt;

impl MessageExt for EntryExt {
    type Entry = Entry;
    fn index(e: &Entry) -> u64 {
        e.index
    }
}

/// Makes `dir` (created if missing) readable by its owner only, as etcd 3.x keeps its data
/// dir: it holds every key, and with auth every password hash.
fn owner_only(dir: &Path) -> Result<(), StorageFailure> {
    use std::os::unix::fs::PermissionsExt;
    std::fs::create_dir_all(dir)?;
    let mode = std::fs::metadata(dir)?.permissions().mode() & 0o777;
    if mode != 0o700 {
        if mode & 0o077 != 0 {
            tracing::warn!(
                dir = %dir.display(),
                "data dir was readable by others (mode {mode:o}); setting it to 700"
            );
        }
        std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))?;
    }
    Ok(())
}

/// Makes every log write made before the call durable; shared with the log's sync thread.
pub type LogSyncer = Arc<dyn Fn() -> Result<(), StorageFailure> + Send + Sync>;

/// Who this data dir belongs to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MemberIdentity {
    /// The raft id (non-zero).
    pub id: u64,
    /// The `-name` the member was created with.
    pub name: String,
}

impl MemberIdentity {
    /// The stored form: `id` (big endian) then `name`.
    fn encode(&self) -> Vec<u8> {
        let mut v = self.id.to_be_bytes().to_vec();
        v.extend_from_slice(self.name.as_bytes());
        v
    }
}

/// raft-engine backed `raft::Storage`, on the real file system (`F`, the disk seam, is only
/// ever another one in the simulation: [`SimFs`]).
pub struct RaftStorage<F: FileSystem = DefaultFileSystem> {
    engine: Arc<Engine<TrackedFs<F>>>,
    /// The engine's file system, which the log's sync thread flushes (see `tracked_fs`).
    files: Arc<TrackedFs<F>>,
    snapshots: SnapshotFiles,
    hard_state: HardState,
    /// The configuration as of the last applied entry (goes into the next snapshot).
    conf_state: ConfState,
    truncated_index: u64,
    truncated_term: u64,
    snapshot_meta: SnapshotMetadata,
    /// Raft asked for a snapshot for a member the newest one does not include.
    snapshot_wanted: std::sync::atomic::AtomicBool,
    /// How far the log was durably committed, kept outside it.
    durable: log_integrity::DurableMark,
    /// Terms of the newest entries, told of every write to the log.
    recent_terms: terms::RecentTerms,
}

impl RaftStorage {
    /// Opens (or creates) the raft state under `data_dir`, on the real file system.
    pub fn open(data_dir: &Path) -> Result<RaftStorage, StorageFailure> {
        RaftStorage::open_on(data_dir, Arc::new(DefaultFileSystem), LOG_FILE_SIZE)
    }
}

impl<F: FileSystem> RaftStorage<F> {
    /// Opens (or creates) the raft state under `data_dir`, the log written through
    /// `file_system` in files of `file_size`.
    pub fn open_on(
        data_dir: &Path,
        file_system: Arc<F>,
        file_size: ReadableSize,
    ) -> Result<RaftStorage<F>, StorageFailure> {
        let log_dir: PathBuf = data_dir.join("log");
        std::fs::create_dir_all(&log_dir)?;
        for dir in [data_dir, log_dir.as_path(), &data_dir.join("snap")] {
            owner_only(dir)?;
        }
        let cfg = EngineConfig {
            dir: log_dir.display().to_string(),
            target_file_size: file_size,
            purge_threshold: ReadableSize(file_size.0 * 8),
            ..EngineConfig::default()
        };
        let opening = Instant::now();
        let files = Arc::new(TrackedFs::new(file_system));
        let engine = Arc::new(Engine::open_with_file_system(cfg, files.clone())?);
        let engine_ms = opening.elapsed().as_millis() as u64;
        let snapshots = SnapshotFiles::open(&data_dir.join("snap"))?;
        let hard_state = engine
            .get_message::<HardState>(GROUP, KEY_HARD_STATE)?
            .unwrap_or_default();
        let snapshot_meta = engine
            .get_message::<SnapshotMetadata>(GROUP, KEY_SNAPSHOT_META)?
            .unwrap_or_default();
        let conf_state = snapshot_meta.get_conf_state().clone();
        let (truncated_index, truncated_term) = match engine.get(GROUP, KEY_TRUNCATED) {
            Some(b) if b.len() == 16 => (
                u64::from_be_bytes(b[..8].try_into().expect("8 bytes")),
                u64::from_be_bytes(b[8..].try_into().expect("8 bytes")),
            ),
            Some(_) => return Err(StorageFailure::Corrupt("truncated marker".into())),
            None => (0, 0),
        };
        let storage = RaftStorage {
            engine,
            files,
            snapshots,
            hard_state,
            conf_state,
            truncated_index,
            truncated_term,
            snapshot_meta,
            snapshot_wanted: Default::default(),
            durable: log_integrity::DurableMark::open(data_dir)?,
            recent_terms: Default::default(),
        };
        storage.check_complete(data_dir)?;
        let verifying = Instant::now();
        log_integrity::verify_entries(&storage.engine, &log_dir)?;
        let last = raft::Storage::last_index(&storage).unwrap_or(0);
        storage.durable.check(data_dir, last)?;
        tracing::info!(
            engine_open_ms = engine_ms,
            verify_ms = verifying.elapsed().as_millis() as u64,
            first = storage.truncated_index + 1,
            last,
            "opened the raft log"
        );
        if storage.snapshot_meta.index != 0 {
            // Files of snapshots never recorded (a crash after the file was written) or
            // superseded ones whose removal did not happen before a stop.
            let meta = &storage.snapshot_meta;
            storage.snapshots.remove_all_but(meta.term, meta.index);
        }
        Ok(storage)
    }

    /// Refuses a data dir that holds raft state without the member identity written with the
    /// first of it: only a new, empty data dir may be initialised.
    fn check_complete(&self, data_dir: &Path) -> Result<(), StorageFailure> {
        if self.engine.get(GROUP, KEY_MEMBER).is_some() {
            return Ok(());
        }
        let what = if self.hard_state != HardState::default() {
            "a raft hard state"
        } else if self.snapshot_meta.index != 0 {
            "snapshot metadata"
        } else if self.truncated_index != 0 {
            "a compacted log"
        } else if self.engine.last_index(GROUP).is_some() {
            "raft log entries"
        } else if self.engine.get(GROUP, KEY_REMOVED).is_some() {
            "a removal mark"
        } else if self.snapshots.holds_snapshots()? {
            "snapshot files"
        } else {
            return Ok(());
        };
        Err(StorageFailure::Incomplete(
            data_dir.display().to_string(),
            what,
        ))
    }

    /// The identity stored in this data dir, if it was ever initialised.
    pub fn member(&self) -> Option<MemberIdentity> {
        let b = self.engine.get(GROUP, KEY_MEMBER)?;
        if b.len() < 8 {
            return None;
        }
        let id = u64::from_be_bytes(b[..8].try_into().ok()?);
        let name = String::from_utf8_lossy(&b[8..]).into_owned();
        Some(MemberIdentity { id, name })
    }

    /// Records this member's identity in a brand-new data dir, with the first entries of a new
    /// cluster's log (its bootstrap conf changes, already committed) or none for a member
    /// joining an existing cluster, which receives the log from the leader.
    pub fn initialise(
        &mut self,
        me: &MemberIdentity,
        bootstrap: &[Entry],
    ) -> Result<(), StorageFailure> {
        let mut batch = LogBatch::default();
        batch.put(GROUP, KEY_MEMBER.to_vec(), me.encode())?;
        if let Some(last) = bootstrap.last() {
            batch.add_entries::<EntryExt>(GROUP, bootstrap)?;
            let hs = HardState {
                term: last.term,
                vote: 0,
                commit: last.index,
                ..Default::default()
            };
            batch.put_message(GROUP, KEY_HARD_STATE.to_vec(), &hs)?;
            self.hard_state = hs;
        }
        self.engine.write(&mut batch, true)?;
        self.recent_terms.appended(bootstrap);
        Ok(())
    }

    /// Marks this data dir as belonging to a member removed from its cluster.
    pub fn mark_removed(&mut self) -> Result<(), StorageFailure> {
        let mut batch = LogBatch::default();
        batch.put(GROUP, KEY_REMOVED.to_vec(), vec![1])?;
        self.engine.write(&mut batch, true)?;
        Ok(())
    }

    /// Whether this member was removed from its cluster.
    pub fn is_removed(&self) -> bool {
        self.engine.get(GROUP, KEY_REMOVED).is_some()
    }

    /// Whether raft asked for a snapshot the newest one cannot serve (clears the request).
    pub fn take_snapshot_wanted(&self) -> bool {
        self.snapshot_wanted
            .swap(false, std::sync::atomic::Ordering::Relaxed)
    }

    /// Where snapshot files live (the transport streams them from and into here).
    pub fn snapshot_files(&self) -> &SnapshotFiles {
        &self.snapshots
    }

    /// The newest durable snapshot's metadata (index 0: none).
    pub fn snapshot_metadata(&self) -> &SnapshotMetadata {
        &self.snapshot_meta
    }

    /// The store bytes of the newest snapshot, if any.
    pub fn snapshot_data(&self) -> Result<Option<Vec<u8>>, StorageFailure> {
        if self.snapshot_meta.index == 0 {
            return Ok(None);
        }
        Ok(Some(
            self.snapshots
                .read(self.snapshot_meta.term, self.snapshot_meta.index)?,
        ))
    }

    /// The newest snapshot's data as a stream, checked as it is read, if there is one.
    pub fn snapshot_reader(&self) -> Result<Option<SnapshotReader>, StorageFailure> {
        if self.snapshot_meta.index == 0 {
            return Ok(None);
        }
        let meta = &self.snapshot_meta;
        Ok(Some(self.snapshots.reader(meta.term, meta.index)?))
    }

    /// Appends entries and the hard state in one raft-engine write, fsynced when `sync`.
    ///
    /// This is the group commit: every proposal that reached the raft loop while the previous
    /// write was in flight lands in the same `Ready`, hence in this one write and one fsync.
    pub fn persist(
        &mut self,
        entries: &[Entry],
        hard_state: Option<&HardState>,
        sync: bool,
    ) -> Result<(), StorageFailure> {
        let mut batch = LogBatch::default();
        if !entries.is_empty() {
            batch.add_entries::<EntryExt>(GROUP, entries)?;
        }
        if let Some(hs) = hard_state {
            batch.put_message(GROUP, KEY_HARD_STATE.to_vec(), hs)?;
            self.hard_state = hs.clone();
        }
        if !batch.is_empty() {
            self.engine.write(&mut batch, sync)?;
            self.recent_terms.appended(entries);
        }
        if sync {
            // Everything written so far is durable now: the commit index too, as far as the
            // log reaches.
            let last = raft::Storage::last_index(self).unwrap_or(0);
            self.durable.advance(self.hard_state.commit.min(last))?;
        }
        Ok(())
    }

    /// The commit index that everything written so far would make durable once synced: the
    /// witness [`Self::note_synced`] records after that sync.
    pub fn durable_if_synced(&self) -> u64 {
        let last = raft::Storage::last_index(self).unwrap_or(0);
        self.hard_state.commit.min(last)
    }

    /// Records that a sync begun after [`Self::durable_if_synced`] returned `commit` is done.
    pub fn note_synced(&mut self, commit: u64) -> Result<(), StorageFailure> {
        self.durable.advance(commit)
    }

    /// Records the commit index learnt from a `LightReady` (no fsync needed: raft can recover
    /// the commit index from its peers, and a lone node re-commits on restart).
    pub fn set_commit(&mut self, commit: u64) -> Result<(), StorageFailure> {
        if commit > self.hard_state.commit {
            self.hard_state.commit = commit;
            let mut batch = LogBatch::default();
            batch.put_message(GROUP, KEY_HARD_STATE.to_vec(), &self.hard_state)?;
            self.engine.write(&mut batch, false)?;
        }
        Ok(())
    }

    /// Notes the configuration after a conf change was applied; the next snapshot carries it.
    /// Nothing is written: on restart the log replays the change again.
    pub fn set_conf_state(&mut self, cs: ConfState) {
        self.conf_state = cs;
    }

    /// Saves a snapshot of the store taken at `index` (already applied), then drops log entries
    /// older than `keep` entries below it: [`Self::snapshot_meta_at`], the file, then
    /// [`Self::record_snapshot`] and the old file's removal, all at once (the raft loop
    /// writes the file, and removes the old one, on another thread).
    pub fn save_snapshot(
        &mut self,
        index: u64,
        data: &[u8],
        keep: u64,
    ) -> Result<(), StorageFailure> {
        let meta = self.snapshot_meta_at(index)?;
        self.snapshots.write(meta.term, meta.index, data)?;
        if let Some((term, index)) = self.record_snapshot(meta, keep)? {
            self.snapshots.remove(term, index);
        }
        Ok(())
    }

    /// The metadata of a snapshot of the state at applied `index`: its term, and the
    /// configuration as of now (the one `index` was applied under).
    pub fn snapshot_meta_at(&self, index: u64) -> Result<SnapshotMetadata, StorageFailure> {
        let term = raft::Storage::term(self, index).map_err(|e| {
            StorageFailure::Corrupt(format!("no term for applied index {index}: {e}"))
        })?;
        Ok(SnapshotMetadata {
            index,
            term,
            conf_state: Some(self.conf_state.clone()).into(),
            ..Default::default()
        })
    }

    /// Makes the snapshot `meta` names, whose file is written and fsynced, the newest, and
    /// drops the log entries older than `keep` entries below it: the metadata and the log's
    /// new start are one synced write, made before any entry is dropped. Returns the term and
    /// index of the snapshot it supersedes, whose file the caller removes (unlinking a large
    /// file takes milliseconds: the raft loop has it done off its thread).
    pub fn record_snapshot(
        &mut self,
        meta: SnapshotMetadata,
        keep: u64,
    ) -> Result<Option<(u64, u64)>, StorageFailure> {
        let old = (self.snapshot_meta.term, self.snapshot_meta.index);
        let compact_to = meta.index.saturating_sub(keep);
        let compact = if compact_to > self.truncated_index {
            let term = raft::Storage::term(self, compact_to)
                .map_err(|e| StorageFailure::Corrupt(format!("no term for {compact_to}: {e}")))?;
            Some((compact_to, term))
        } else {
            None
        };
        let mut batch = LogBatch::default();
        batch.put_message(GROUP, KEY_SNAPSHOT_META.to_vec(), &meta)?;
        if let Some((index, term)) = compact {
            let mut v = index.to_be_bytes().to_vec();
            v.extend_from_slice(&term.to_be_bytes());
            batch.put(GROUP, KEY_TRUNCATED.to_vec(), v)?;
        }
        self.engine.write(&mut batch, true)?;
        let new = (meta.term, meta.index);
        self.snapshot_meta = meta;
        if let Some((index, term)) = compact {
            self.truncated_index = index;
            self.truncated_term = term;
            self.engine.compact_to(GROUP, index + 1);
            // Reclaim files whose entries are all compacted; failure only costs disk space.
            if let Err(e) = self.engine.purge_expired_files() {
                tracing::warn!("raft log purge failed: {e}");
            }
        }
        Ok((old.1 != 0 && old != new).then_some(old))
    }

    /// The state-machine bytes of a snapshot received from the leader, whole (the loop reads
    /// them as a stream instead, with [`Self::received_snapshot_reader`]).
    #[cfg(test)]
    pub fn received_snapshot_data(&self, snap: &Snapshot) -> Result<Vec<u8>, StorageFailure> {
        let mut data = Vec::new();
        std::io::Read::read_to_end(&mut self.received_snapshot_reader(snap)?, &mut data)?;
        Ok(data)
    }

    /// The state-machine bytes of a snapshot received from the leader, as a stream, read before
    /// it is installed (so that a snapshot that cannot be read never replaces the log). One
    /// streamed into its file is read from there as it is decoded, never held whole (at
    /// 1,000,000 keys it is 250 MB).
    pub fn received_snapshot_reader(
        &self,
        snap: &Snapshot,
    ) -> Result<Box<dyn std::io::Read + Send>, StorageFailure> {
        if !snap.get_data().is_empty() {
            return Ok(Box::new(std::io::Cursor::new(snap.get_data().to_vec())));
        }
        let meta = snap.get_metadata();
        Ok(Box::new(
            self.snapshots.received_reader(meta.term, meta.index)?,
        ))
    }

    /// Replaces the whole log with a snapshot received from the leader. Its data is either in
    /// the message or, streamed by the transport, already in its file.
    ///
    /// The log wipe and the new state (metadata, hard state, truncation mark, identity) are one
    /// raft-engine write, applied in order: a crash leaves either the old log or the new state,
    /// never a data dir without its identity.
    pub fn install_snapshot(&mut self, snap: &Snapshot) -> Result<(), StorageFailure> {
        let meta = snap.get_metadata();
        if !snap.get_data().is_empty() {
            self.snapshots
                .write(meta.term, meta.index, snap.get_data())?;
        } else if !self.snapshots.adopt_incoming(meta.term, meta.index)? {
            return Err(StorageFailure::Corrupt(format!(
                "snapshot {}-{} was not received whole",
                meta.term, meta.index
            )));
        }
        let identity = self.engine.get(GROUP, KEY_MEMBER).ok_or_else(|| {
            StorageFailure::Corrupt("installing a snapshot in a data dir with no identity".into())
        })?;
        let mut hard_state = self.hard_state.clone();
        hard_state.term = hard_state.term.max(meta.term);
        hard_state.commit = meta.index;
        self.replace_log_with_snapshot(identity, meta, hard_state)
    }

    /// Wipes the log and records, in the same raft-engine write, the state that starts from
    /// snapshot `meta` (whose file is in place): the identity, the truncation mark, the
    /// metadata and the hard state. Applied in order and atomically: a crash leaves either the
    /// old log or the new state, never a data dir without its identity. Then removes every
    /// other snapshot file.
    fn replace_log_with_snapshot(
        &mut self,
        identity: Vec<u8>,
        meta: &SnapshotMetadata,
        hard_state: HardState,
    ) -> Result<(), StorageFailure> {
        let mut batch = LogBatch::default();
        batch.add_command(GROUP, raft_engine::Command::Clean);
        batch.put(GROUP, KEY_MEMBER.to_vec(), identity)?;
        let mut v = meta.index.to_be_bytes().to_vec();
        v.extend_from_slice(&meta.term.to_be_bytes());
        batch.put(GROUP, KEY_TRUNCATED.to_vec(), v)?;
        batch.put_message(GROUP, KEY_SNAPSHOT_META.to_vec(), meta)?;
        batch.put_message(GROUP, KEY_HARD_STATE.to_vec(), &hard_state)?;
        self.engine.write(&mut batch, true)?;
        self.recent_terms.clear();
        self.hard_state = hard_state;
        self.snapshot_meta = meta.clone();
        self.truncated_index = meta.index;
        self.truncated_term = meta.term;
        self.conf_state = meta.get_conf_state().clone();
        self.snapshots.remove_all_but(meta.term, meta.index);
        Ok(())
    }
}

impl<F: FileSystem + 'static> RaftStorage<F> {
    /// What makes every write so far durable, callable from another thread (the log's sync
    /// thread) while this storage keeps writing.
    pub fn log_syncer(&self) -> LogSyncer {
        let files = self.files.clone();
        Arc::new(move || files.sync_written().map_err(StorageFailure::Io))
    }
}

#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_sim_disk;

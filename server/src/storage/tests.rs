//! Storage on a real data dir: reopen, compaction, snapshots saved, written and installed.

use std::io::Write;

use super::*;
use raft::Storage as _;
use raft::{GetEntriesContext, StorageError};

/// A data dir initialised for member 7 (`m`), as `start` does before anything else.
pub(super) fn identified(dir: &Path) -> RaftStorage {
    let mut s = RaftStorage::open(dir).unwrap();
    let me = MemberIdentity {
        id: 7,
        name: "m".into(),
    };
    s.initialise(&me, &[]).unwrap();
    s
}

/// Entry `index` of `term`, its data naming its index.
pub(super) fn entry(index: u64, term: u64) -> Entry {
    Entry {
        index,
        term,
        data: format!("e{index}").into_bytes().into(),
        ..Default::default()
    }
}

#[test]
fn entries_and_hard_state_survive_reopen() {
    let dir = tempfile::tempdir().unwrap();
    {
        let mut s = RaftStorage::open(dir.path()).unwrap();
        let me = MemberIdentity {
            id: 7,
            name: "m".into(),
        };
        s.initialise(&me, &[entry(1, 1)]).unwrap();
        assert_eq!(s.initial_state().unwrap().hard_state.commit, 1);
        let hs = HardState {
            term: 2,
            commit: 3,
            ..Default::default()
        };
        s.persist(&[entry(2, 2), entry(3, 2)], Some(&hs), true)
            .unwrap();
    }
    let s = RaftStorage::open(dir.path()).unwrap();
    assert_eq!(s.member().unwrap().id, 7);
    assert!(!s.is_removed());
    let st = s.initial_state().unwrap();
    assert_eq!(st.hard_state.commit, 3);
    // No snapshot yet: raft starts from no configuration and replays the log's conf
    // changes (the bootstrap entry first).
    assert!(st.conf_state.voters.is_empty());
    assert_eq!(s.first_index().unwrap(), 1);
    assert_eq!(s.last_index().unwrap(), 3);
    assert_eq!(s.term(3).unwrap(), 2);
    let ents = s
        .entries(1, 4, None, GetEntriesContext::empty(false))
        .unwrap();
    assert_eq!(ents.len(), 3);
    assert_eq!(ents[2].data.as_ref(), b"e3");
}

#[test]
fn snapshot_compacts_and_survives_reopen() {
    let dir = tempfile::tempdir().unwrap();
    {
        let mut s = identified(dir.path());
        let ents: Vec<Entry> = (1..=10).map(|i| entry(i, 1)).collect();
        s.persist(&ents, None, true).unwrap();
        s.set_conf_state(ConfState {
            voters: vec![1, 2],
            ..Default::default()
        });
        s.save_snapshot(8, b"store-at-8", 2).unwrap();
        assert_eq!(s.first_index().unwrap(), 7);
        assert!(matches!(
            s.entries(5, 7, None, GetEntriesContext::empty(false)),
            Err(raft::Error::Store(StorageError::Compacted))
        ));
    }
    let s = RaftStorage::open(dir.path()).unwrap();
    assert_eq!(s.first_index().unwrap(), 7);
    assert_eq!(s.last_index().unwrap(), 10);
    assert_eq!(s.term(6).unwrap(), 1);
    assert_eq!(s.snapshot_data().unwrap().unwrap(), b"store-at-8");
    let snap = s.snapshot(8, 2).unwrap();
    assert_eq!(snap.get_metadata().index, 8);
    assert!(!s.take_snapshot_wanted());
    // A member the snapshot's configuration does not know needs a newer one.
    assert!(s.snapshot(8, 3).is_err());
    assert!(s.take_snapshot_wanted());
    assert!(!s.take_snapshot_wanted());
}

/// A snapshot written in the background (file first, metadata later): a crash before the
/// metadata is recorded, or a write that fails half-way, leaves the old snapshot and the
/// whole log.
#[test]
fn a_snapshot_file_without_its_metadata_changes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    {
        let mut s = identified(dir.path());
        let ents: Vec<Entry> = (1..=20).map(|i| entry(i, 1)).collect();
        s.persist(&ents, None, true).unwrap();
        s.save_snapshot(8, b"store-at-8", 2).unwrap();
        let meta = s.snapshot_meta_at(20).unwrap();
        assert_eq!((meta.index, meta.term), (20, 1));
        let failed = s.snapshot_files().write_with(1, 19, |w| {
            w.write_all(b"half a snap")?;
            Err(std::io::Error::other("disk full"))
        });
        assert!(failed.is_err());
        let size = s
            .snapshot_files()
            .write_with(1, 20, |w| w.write_all(b"store-at-20"))
            .unwrap();
        assert_eq!(size, 24 + 11, "the 24-byte header, then the data");
        // The process dies here, before `record_snapshot`.
    }
    let names: Vec<String> = std::fs::read_dir(dir.path().join("snap"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert!(
        !names.iter().any(|n| n.ends_with(".tmp")),
        "no temporary file is left: {names:?}"
    );
    let mut s = RaftStorage::open(dir.path()).unwrap();
    assert_eq!(s.snapshot_metadata().index, 8);
    assert_eq!(s.snapshot_data().unwrap().unwrap(), b"store-at-8");
    assert_eq!(s.first_index().unwrap(), 7);
    assert_eq!(s.last_index().unwrap(), 20);
    assert!(
        !s.snapshot_files().path(1, 20).exists(),
        "the file never recorded is removed at the start"
    );
    // Written and recorded, it becomes the snapshot, the log is compacted below it, and the
    // caller is told which file it superseded.
    s.snapshot_files()
        .write_with(1, 20, |w| w.write_all(b"store-at-20"))
        .unwrap();
    let meta = s.snapshot_meta_at(20).unwrap();
    assert_eq!(s.record_snapshot(meta, 2).unwrap(), Some((1, 8)));
    assert_eq!(s.snapshot_data().unwrap().unwrap(), b"store-at-20");
    assert_eq!(s.first_index().unwrap(), 19);
    assert!(s.snapshot_files().path(1, 8).exists(), "left to the caller");
    drop(s);
    let s = RaftStorage::open(dir.path()).unwrap();
    assert_eq!(s.first_index().unwrap(), 19);
    assert!(
        !s.snapshot_files().path(1, 8).exists(),
        "or to the next start"
    );
}

#[test]
fn installing_a_snapshot_replaces_the_log() {
    let dir = tempfile::tempdir().unwrap();
    let mut s = identified(dir.path());
    s.persist(&[entry(1, 1), entry(2, 1)], None, true).unwrap();
    let mut snap = Snapshot::default();
    snap.mut_metadata().index = 50;
    snap.mut_metadata().term = 3;
    snap.mut_metadata().mut_conf_state().voters = vec![1, 2, 3];
    snap.set_data(b"remote".to_vec().into());
    s.install_snapshot(&snap).unwrap();
    assert_eq!(s.first_index().unwrap(), 51);
    assert_eq!(s.last_index().unwrap(), 50);
    assert_eq!(s.term(50).unwrap(), 3);
    s.persist(&[entry(51, 3)], None, true).unwrap();
    assert_eq!(s.last_index().unwrap(), 51);
    assert_eq!(s.initial_state().unwrap().conf_state.voters, vec![1, 2, 3]);
}

#[test]
fn a_streamed_snapshot_is_installed_from_its_file() {
    let dir = tempfile::tempdir().unwrap();
    let mut s = identified(dir.path());
    let mut snap = Snapshot::default();
    snap.mut_metadata().index = 9;
    snap.mut_metadata().term = 2;
    snap.mut_metadata().mut_conf_state().voters = vec![1, 2];
    // Not received: refused, nothing changes.
    assert!(s.install_snapshot(&snap).is_err());
    assert!(s.received_snapshot_data(&snap).is_err());
    assert_eq!(s.first_index().unwrap(), 1);
    let tmp = s.snapshot_files().incoming_temp_path(2, 9);
    std::fs::write(&tmp, b"streamed").unwrap();
    s.snapshot_files().commit_incoming(&tmp, 2, 9).unwrap();
    // Readable before it is installed (the loop parses it before replacing the log).
    assert_eq!(s.received_snapshot_data(&snap).unwrap(), b"streamed");
    assert_eq!(s.first_index().unwrap(), 1);
    s.install_snapshot(&snap).unwrap();
    assert_eq!(s.received_snapshot_data(&snap).unwrap(), b"streamed");
    assert_eq!(s.snapshot_data().unwrap().unwrap(), b"streamed");
    assert_eq!(s.first_index().unwrap(), 10);
    // The metadata-only snapshot raft asks for when a follower lags.
    let out = s.snapshot(0, 2).unwrap();
    assert_eq!(out.get_metadata().index, 9);
    assert!(out.get_data().is_empty());
}

fn remote_snapshot(index: u64, term: u64) -> Snapshot {
    let mut snap = Snapshot::default();
    snap.mut_metadata().index = index;
    snap.mut_metadata().term = term;
    snap.mut_metadata().mut_conf_state().voters = vec![1, 7];
    snap.set_data(b"remote".to_vec().into());
    snap
}

#[test]
fn an_installed_snapshot_survives_reopen_with_the_identity() {
    let dir = tempfile::tempdir().unwrap();
    {
        let mut s = identified(dir.path());
        let hs = HardState {
            term: 2,
            vote: 1,
            commit: 3,
            ..Default::default()
        };
        let ents: Vec<Entry> = (1..=5).map(|i| entry(i, 2)).collect();
        s.persist(&ents, Some(&hs), true).unwrap();
        s.install_snapshot(&remote_snapshot(40, 4)).unwrap();
    }
    let s = RaftStorage::open(dir.path()).unwrap();
    assert_eq!(
        s.member(),
        Some(MemberIdentity {
            id: 7,
            name: "m".into()
        })
    );
    assert_eq!(s.snapshot_metadata().index, 40);
    assert_eq!(s.snapshot_data().unwrap().unwrap(), b"remote");
    let st = s.initial_state().unwrap();
    assert_eq!((st.hard_state.term, st.hard_state.commit), (4, 40));
    assert_eq!(st.hard_state.vote, 1, "the vote survives the install");
    assert_eq!(st.conf_state.voters, vec![1, 7]);
    assert_eq!(s.first_index().unwrap(), 41);
    assert_eq!(
        s.last_index().unwrap(),
        40,
        "no entry of the old log is left"
    );
}

/// What a crash between the two writes of the old install left: the log wiped (identity
/// included) and the snapshot file in place. Starting on it must fail, never bootstrap a
/// new cluster.
#[test]
fn a_data_dir_without_its_identity_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    {
        let mut s = identified(dir.path());
        let ents: Vec<Entry> = (1..=10).map(|i| entry(i, 1)).collect();
        s.persist(&ents, None, true).unwrap();
        s.save_snapshot(8, b"store-at-8", 2).unwrap();
        let mut wipe = LogBatch::default();
        wipe.add_command(GROUP, raft_engine::Command::Clean);
        s.engine.write(&mut wipe, true).unwrap();
    }
    let err = RaftStorage::open(dir.path()).err().expect("refused");
    let msg = err.to_string();
    assert!(matches!(err, StorageFailure::Incomplete(..)), "{msg}");
    assert!(
        msg.contains("snapshot files") && msg.contains("-f"),
        "{msg}"
    );

    // Entries without an identity are refused too.
    let dir = tempfile::tempdir().unwrap();
    {
        let mut s = RaftStorage::open(dir.path()).unwrap();
        s.persist(&[entry(1, 1)], None, true).unwrap();
    }
    assert!(matches!(
        RaftStorage::open(dir.path()),
        Err(StorageFailure::Incomplete(_, "raft log entries"))
    ));

    // A brand-new data dir opens, twice.
    let dir = tempfile::tempdir().unwrap();
    drop(RaftStorage::open(dir.path()).unwrap());
    assert!(RaftStorage::open(dir.path()).unwrap().member().is_none());
}

#[test]
fn the_data_dir_is_for_its_owner_only() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("d");
    std::fs::create_dir(&data).unwrap();
    std::fs::set_permissions(&data, std::fs::Permissions::from_mode(0o755)).unwrap();
    drop(RaftStorage::open(&data).unwrap());
    for d in [data.clone(), data.join("log"), data.join("snap")] {
        let mode = std::fs::metadata(&d).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o700, "{}", d.display());
    }
}

#[test]
fn a_damaged_received_snapshot_fails_as_it_is_read_never_silently() {
    let dir = tempfile::tempdir().unwrap();
    let s = identified(dir.path());
    let files = s.snapshot_files();
    // A whole file with its header, as a leader streams it, then one byte of its data flipped.
    let data = vec![7u8; 100_000];
    files.write(3, 20, &data).unwrap();
    let mut bytes = std::fs::read(files.path(3, 20)).unwrap();
    let last = bytes.len() - 1;
    bytes[last] ^= 1;
    let tmp = files.incoming_temp_path(4, 30);
    std::fs::write(&tmp, &bytes).unwrap();
    files.commit_incoming(&tmp, 4, 30).unwrap();
    let mut snap = Snapshot::default();
    snap.mut_metadata().index = 30;
    snap.mut_metadata().term = 4;
    let mut read = Vec::new();
    let err =
        std::io::Read::read_to_end(&mut s.received_snapshot_reader(&snap).unwrap(), &mut read)
            .unwrap_err();
    assert!(err.to_string().contains("damaged"), "{err}");
    // The intact one streams whole.
    let mut intact = Snapshot::default();
    intact.mut_metadata().index = 20;
    intact.mut_metadata().term = 3;
    assert_eq!(s.received_snapshot_data(&intact).unwrap(), data);
}

/// The terms raft reads are those of the log as written, whether they come from the cache of
/// recent terms or, after a reopen (cache empty), from raft-engine: after appends, a tail
/// overwritten by a new leader, and a snapshot installed over the log.
#[test]
fn terms_follow_overwritten_tails_and_installed_snapshots() {
    let dir = tempfile::tempdir().unwrap();
    let terms = |s: &RaftStorage, range: std::ops::RangeInclusive<u64>| -> Vec<Option<u64>> {
        range.map(|i| s.term(i).ok()).collect()
    };
    {
        let mut s = identified(dir.path());
        s.persist(
            &[entry(1, 1), entry(2, 1), entry(3, 2), entry(4, 2)],
            None,
            true,
        )
        .unwrap();
        // A new leader of term 3 replaces entries 3 and 4 with one of its own.
        s.persist(&[entry(3, 3)], None, true).unwrap();
        assert_eq!(terms(&s, 1..=5), [Some(1), Some(1), Some(3), None, None]);
    }
    let mut s = RaftStorage::open(dir.path()).unwrap();
    assert_eq!(terms(&s, 1..=5), [Some(1), Some(1), Some(3), None, None]);
    s.persist(&[entry(4, 3), entry(5, 4)], None, true).unwrap();
    assert_eq!(terms(&s, 3..=6), [Some(3), Some(3), Some(4), None]);
    let tail: Vec<Entry> = (6..=60).map(|i| entry(i, 4)).collect();
    s.persist(&tail, None, true).unwrap();
    let mut snap = Snapshot::default();
    snap.mut_metadata().index = 40;
    snap.mut_metadata().term = 6;
    snap.mut_metadata().mut_conf_state().voters = vec![7];
    snap.set_data(b"remote".to_vec().into());
    s.install_snapshot(&snap).unwrap();
    // The old log is gone, from the cache too: also the entries it had past the snapshot.
    assert_eq!(terms(&s, 4..=5), [None, None]);
    assert_eq!(terms(&s, 41..=60), vec![None; 20]);
    assert_eq!(s.term(40).unwrap(), 6);
    s.persist(&[entry(41, 6)], None, true).unwrap();
    assert_eq!(terms(&s, 40..=42), [Some(6), Some(6), None]);
}

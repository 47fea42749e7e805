//! The simulated disk under raft-engine: a crash keeps what was synced and loses the rest,
//! and a torn write costs at most the entries it carried.

use raft::Storage as _;
use raft_engine::ReadableSize;

use super::tests::entry;
use super::*;

fn open(dir: &Path, disk: &Arc<SimDisk>) -> RaftStorage<SimFs> {
    RaftStorage::open_on(dir, disk.file_system(), ReadableSize::kb(64)).unwrap()
}

fn identified(dir: &Path, disk: &Arc<SimDisk>) -> RaftStorage<SimFs> {
    let mut s = open(dir, disk);
    let me = MemberIdentity {
        id: 7,
        name: "m".into(),
    };
    s.initialise(&me, &[]).unwrap();
    s
}

#[test]
fn a_crash_keeps_synced_entries_and_loses_unsynced_ones() {
    let dir = tempfile::tempdir().unwrap();
    let disk = SimDisk::new();
    {
        let mut s = identified(dir.path(), &disk);
        let synced: Vec<Entry> = (1..=5).map(|i| entry(i, 1)).collect();
        s.persist(&synced, None, true).unwrap();
        let unsynced: Vec<Entry> = (6..=9).map(|i| entry(i, 1)).collect();
        s.persist(&unsynced, None, false).unwrap();
        assert_eq!(s.last_index().unwrap(), 9);
        assert!(disk.crash(None) > 0, "the unsynced entries were lost");
        // The dead incarnation's writes (raft-engine syncs as it closes) reach nothing.
    }
    let s = open(dir.path(), &disk);
    assert_eq!(s.member().unwrap().id, 7, "the identity was synced");
    assert_eq!(s.last_index().unwrap(), 5);

    // Without a crash, a clean stop keeps everything (raft-engine syncs as it closes).
    drop(s);
    let s = open(dir.path(), &disk);
    assert_eq!(s.last_index().unwrap(), 5);
}

#[test]
fn a_torn_write_loses_at_most_what_was_unsynced() {
    for r in 0..40u64 {
        let dir = tempfile::tempdir().unwrap();
        let disk = SimDisk::new();
        {
            let mut s = identified(dir.path(), &disk);
            s.persist(&[entry(1, 1), entry(2, 1)], None, true).unwrap();
            for i in 3..=6 {
                s.persist(&[entry(i, 1)], None, false).unwrap();
            }
            disk.crash(Some(r * 7919));
        }
        let s = open(dir.path(), &disk);
        let last = s.last_index().unwrap();
        assert!((2..=6).contains(&last), "r={r}: last index {last}");
        let got = s
            .entries(1, last + 1, None, raft::GetEntriesContext::empty(false))
            .unwrap();
        assert_eq!(got, (1..=last).map(|i| entry(i, 1)).collect::<Vec<_>>());
    }
}

//! The state machine's snapshot encoding: a format byte, the member table's length and JSON,
//! (once auth holds anything) the users and roles' length and JSON, then the store's own bytes
//! (see `store::snapshot`). A snapshot is taken by freezing the state under the lock
//! ([`StoreState::freeze`], cheap: the tree is shared) and encoding the frozen copy wherever
//! the caller likes, on another thread or into a file.

use std::io::{self, Read, Write};

use super::StoreState;
use crate::auth::AuthState;
use crate::cluster::Members;
use crate::store::{FrozenStore, RestoreError, Store};

/// First byte of a snapshot holding the member table and the store (a store alone, as older
/// snapshots were, starts with `{`).
const SNAPSHOT_WITH_MEMBERS: u8 = 2;
/// First byte of a snapshot holding the member table, the users and roles, and the store.
/// Written only once auth holds something, so members of a version without auth still read
/// the snapshots of a cluster that never used it (a rolling upgrade).
const SNAPSHOT_WITH_AUTH: u8 = 3;

/// The store, the members and the users and roles as they were when frozen (watchers are not
/// part of a snapshot).
#[derive(Debug, Clone)]
pub struct FrozenState {
    store: FrozenStore,
    members: Members,
    auth: AuthState,
}

/// A state read back from snapshot bytes.
pub struct Restored {
    /// The v2 store.
    pub store: Store,
    /// The member table.
    pub members: Members,
    /// Users and roles.
    pub auth: AuthState,
}

impl Restored {
    /// The state of a data dir with no snapshot yet: an empty store, no members, no users.
    pub fn empty(history_size: usize) -> Restored {
        Restored {
            store: Store::new(history_size),
            members: Default::default(),
            auth: Default::default(),
        }
    }
}

impl StoreState {
    /// The state as it is now, detached for encoding elsewhere. O(1) in the size of the tree;
    /// the member table and the users and roles are small and copied.
    pub fn freeze(&self) -> FrozenState {
        FrozenState {
            store: self.store.frozen(),
            members: self.members.clone(),
            auth: self.auth.clone(),
        }
    }

    /// The state as snapshot bytes, in memory (tests and small states; the raft loop streams
    /// a [`FrozenState`] into a file instead).
    pub fn snapshot(&self) -> Vec<u8> {
        let mut out = Vec::new();
        self.freeze()
            .write_to(&mut out)
            .expect("writing to a Vec cannot fail");
        out
    }
}

fn write_prefixed<W: Write>(w: &mut W, bytes: &[u8], what: &str) -> io::Result<()> {
    let len =
        u32::try_from(bytes.len()).map_err(|_| io::Error::other(format!("{what} over 4 GiB")))?;
    w.write_all(&len.to_be_bytes())?;
    w.write_all(bytes)
}

impl FrozenState {
    /// The store's etcd index when frozen.
    pub fn store_index(&self) -> u64 {
        self.store.index()
    }

    /// Streams the snapshot bytes into `w`.
    pub fn write_to<W: Write>(&self, w: &mut W) -> io::Result<()> {
        let members = serde_json::to_vec(&self.members)?;
        let auth = (self.auth != AuthState::default())
            .then(|| serde_json::to_vec(&self.auth))
            .transpose()?;
        w.write_all(&[if auth.is_some() {
            SNAPSHOT_WITH_AUTH
        } else {
            SNAPSHOT_WITH_MEMBERS
        }])?;
        write_prefixed(w, &members, "member table")?;
        if let Some(auth) = auth {
            write_prefixed(w, &auth, "users and roles")?;
        }
        self.store.write_to(w)
    }
}

/// A 4-byte big-endian length and that many bytes from `r`, grown as they arrive (a length
/// the input claims allocates nothing by itself).
fn length_prefixed(r: &mut impl Read, what: &str) -> Result<Vec<u8>, RestoreError> {
    let truncated = || RestoreError::new(format!("snapshot is truncated in its {what}"));
    let mut len = [0u8; 4];
    r.read_exact(&mut len).map_err(|e| match e.kind() {
        io::ErrorKind::UnexpectedEof => truncated(),
        _ => RestoreError::new(e.to_string()),
    })?;
    let len = u64::from(u32::from_be_bytes(len));
    let mut part = Vec::new();
    r.take(len)
        .read_to_end(&mut part)
        .map_err(|e| RestoreError::new(e.to_string()))?;
    if part.len() as u64 != len {
        return Err(truncated());
    }
    Ok(part)
}

/// Reads [`StoreState::snapshot`] (and [`FrozenState::write_to`]) bytes, or a bare store
/// snapshot of an older data dir.
pub fn restore_snapshot(bytes: &[u8], history_size: usize) -> Result<Restored, RestoreError> {
    restore_snapshot_from(bytes, history_size)
}

/// [`restore_snapshot`] from a reader (a snapshot file), read to its end; the store is
/// decoded as it streams in. When decoding fails, the rest is read too: a damaged file says
/// so at its end (see `storage::SnapshotReader`), and that is the error reported, whatever the
/// decoder made of the damaged bytes first.
pub fn restore_snapshot_from(
    mut r: impl Read,
    history_size: usize,
) -> Result<Restored, RestoreError> {
    restore_parts(&mut r, history_size).map_err(|e| match io::copy(&mut r, &mut io::sink()) {
        Err(damage) => RestoreError::new(damage.to_string()),
        Ok(_) => e,
    })
}

fn restore_parts(mut r: impl Read, history_size: usize) -> Result<Restored, RestoreError> {
    let mut first = [0u8; 1];
    let got = loop {
        match r.read(&mut first) {
            Ok(got) => break got,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(RestoreError::new(e.to_string())),
        }
    };
    let with_auth = match first[..got] {
        [SNAPSHOT_WITH_MEMBERS] => false,
        [SNAPSHOT_WITH_AUTH] => true,
        _ => {
            return Ok(Restored {
                store: Store::restore_from((&first[..got]).chain(r), history_size)?,
                members: Members::default(),
                auth: AuthState::default(),
            })
        }
    };
    let members: Members = serde_json::from_slice(&length_prefixed(&mut r, "member table")?)
        .map_err(|e| RestoreError::new(format!("snapshot members: {e}")))?;
    let auth = if with_auth {
        serde_json::from_slice(&length_prefixed(&mut r, "users and roles")?)
            .map_err(|e| RestoreError::new(format!("snapshot users and roles: {e}")))?
    } else {
        AuthState::default()
    };
    Ok(Restored {
        store: Store::restore_from(r, history_size)?,
        members,
        auth,
    })
}

#[cfg(test)]
mod tests {
    use raft::eraftpb::ConfChangeType;

    use super::*;
    use crate::cluster::{ChangeContext, MemberRecord};
    use crate::command::{Command, KeyCommand};
    use crate::store::KeyPath;
    use crate::time::Timestamp;
    use crate::watch::WatchHub;

    fn state() -> StoreState {
        StoreState {
            store: Store::new(100),
            members: Members::default(),
            hub: WatchHub::default(),
            auth: AuthState::default(),
        }
    }

    fn add_machine1(st: &mut StoreState) {
        let ctx = ChangeContext {
            member: Some(MemberRecord {
                id: 1,
                name: "machine1".into(),
                peer_urls: vec!["http://127.0.0.1:7001".into()],
                client_urls: vec!["http://127.0.0.1:4001".into()],
                learner: false,
            }),
            cluster_id: Some(77),
            now: Timestamp(1),
        };
        st.apply_member_change(ConfChangeType::AddNode, 1, &ctx);
    }

    #[test]
    fn snapshots_carry_members_and_read_old_store_only_ones() {
        let mut st = state();
        add_machine1(&mut st);
        let Restored { store, members, .. } = restore_snapshot(&st.snapshot(), 100).unwrap();
        assert_eq!(members, st.members);
        assert_eq!(store.save(), st.store.save());
        let Restored {
            store: old,
            members: none,
            ..
        } = restore_snapshot(&st.store.save(), 100).unwrap();
        assert_eq!(old.index(), 1);
        assert!(none.is_empty());
        assert!(restore_snapshot(&[2, 0, 0], 100).is_err());
    }

    fn set(key: &str, value: &str) -> Command {
        Command::Key(KeyCommand::Set {
            key: KeyPath::from(key),
            value: value.into(),
            dir: false,
            expire_at: Some(Timestamp(5_000_000_000)),
            refresh: false,
            now: Timestamp(1),
        })
    }

    fn delete_dir(key: &str) -> Command {
        Command::Key(KeyCommand::Delete {
            key: KeyPath::from(key),
            dir: true,
            recursive: true,
            now: Timestamp(1),
        })
    }

    /// What a background snapshot relies on: the frozen copy encodes the state of the moment
    /// it was frozen, whatever the store does meanwhile, and dropping it leaves the store whole.
    #[test]
    fn a_frozen_state_keeps_its_bytes_while_the_store_goes_on() {
        let mut st = state();
        add_machine1(&mut st);
        for i in 0..300 {
            st.apply_command(&set(&format!("/d{}/k{i}", i % 7), "v"))
                .unwrap();
        }
        let before = st.snapshot();
        let frozen = st.freeze();
        for i in 0..300 {
            st.apply_command(&set(&format!("/d{}/k{i}", i % 5), "changed"))
                .unwrap();
        }
        st.apply_command(&delete_dir("/d3")).unwrap();
        let mut out = Vec::new();
        frozen.write_to(&mut out).unwrap();
        assert_eq!(out, before);
        assert_ne!(st.snapshot(), before);
        let now = st.snapshot();
        drop(frozen);
        assert_eq!(st.snapshot(), now);
        let store = restore_snapshot(&now, 100).unwrap().store;
        assert_eq!(store.save(), st.store.save());
    }

    /// A snapshot file written by 0.3.0 (format-1 store JSON after the member table).
    #[test]
    fn reads_a_snapshot_written_by_0_3_0() {
        let bytes = include_bytes!(
            "../../../fixtures/datadir-v0.3.0/machine0/snap/0000000000000002-0000000000000028.snap"
        );
        let Restored { store, members, .. } = restore_snapshot(bytes, 100).unwrap();
        assert!(!members.is_empty());
        assert_eq!(store.index(), 39);
        let ev = store
            .get(&KeyPath::from("/flat/k1"), false, Timestamp(0))
            .unwrap();
        assert_eq!(ev.node.value.as_deref(), Some("value 1 updated"));
        assert!(
            store.next_expiration().is_some(),
            "TTL keys keep their expiry"
        );
        let again = restore_snapshot(&st_snapshot(store, members), 100)
            .unwrap()
            .store;
        assert_eq!(again.index(), 39);
    }

    /// A damaged snapshot file is refused naming the damage, wherever in the file it is and
    /// whatever the decoder made of the damaged bytes first.
    #[test]
    fn a_damaged_file_is_refused_as_damaged_while_streaming() {
        let mut st = state();
        add_machine1(&mut st);
        for i in 0..50 {
            st.apply_command(&set(&format!("/d/k{i}"), "some value"))
                .unwrap();
        }
        let bytes = st.snapshot();
        let dir = tempfile::tempdir().unwrap();
        let files = crate::storage::SnapshotFiles::open(dir.path()).unwrap();
        files.write(1, 5, &bytes).unwrap();
        let restored = restore_snapshot_from(files.reader(1, 5).unwrap(), 100).unwrap();
        assert!(restored.store.save() == st.store.save());
        let good = std::fs::read(files.path(1, 5)).unwrap();
        for at in [
            30,
            good.len() / 3,
            good.len() / 2,
            good.len() - 5,
            good.len() - 1,
        ] {
            let mut bad = good.clone();
            bad[at] ^= 0x40;
            std::fs::write(files.path(1, 5), &bad).unwrap();
            let e = restore_snapshot_from(files.reader(1, 5).unwrap(), 100)
                .err()
                .unwrap_or_else(|| panic!("byte {at} flipped and accepted"))
                .to_string();
            assert!(
                e.contains("is damaged: checksum mismatch"),
                "byte {at}: {e}"
            );
        }
    }

    fn st_snapshot(store: Store, members: Members) -> Vec<u8> {
        StoreState {
            store,
            members,
            hub: WatchHub::default(),
            auth: AuthState::default(),
        }
        .snapshot()
    }
}

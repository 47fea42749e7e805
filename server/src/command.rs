//! The replicated commands: what the raft log carries. Two machines apply them: the store
//! applies [`KeyCommand`]s, the member table [`ClusterCommand`]s; a log entry holds one
//! [`Command`], either kind.
//!
//! The HTTP layer validates a request and turns relative TTLs into absolute expiry times before
//! proposing, so applying a command never reads a clock: every replica applying the same log
//! reaches the same state and renders the same events.

use serde::{Deserialize, Serialize};

use crate::auth::AuthCommand;
use crate::store::KeyPath;
use crate::time::Timestamp;

/// Encoding version prefixed to every command in the log, so the format can evolve. Version 1
/// is the JSON of the variant, externally tagged (`{"Set":{..}}`, `{"PublishMember":{..}}`):
/// the variant names of the two kinds never collide, so splitting one enum into two left the
/// bytes as they were.
const COMMAND_FORMAT_V1: u8 = 1;

/// One log entry's state change, applied in log order by every replica.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    /// A change to the key space.
    Key(KeyCommand),
    /// A change to the cluster's member table.
    Cluster(ClusterCommand),
    /// A change to users, roles or the auth switch (passwords hashed already).
    Auth(AuthCommand),
}

/// A change to the key space: what [`crate::store::Store::apply`] applies.
///
/// `now` is the proposer's clock when the request arrived; it only shapes the `ttl` shown in
/// the resulting event. `expire_at: None` means "no TTL" (and removes an existing one).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum KeyCommand {
    /// PUT without conditions: create or replace a key, or create a directory.
    Set {
        key: KeyPath,
        value: String,
        dir: bool,
        expire_at: Option<Timestamp>,
        /// `refresh=true`: keep the current value, only reset the TTL; watchers are not woken.
        refresh: bool,
        now: Timestamp,
    },
    /// PUT `prevExist=false`, or POST (`in_order`: the child name is the new index, `%020d`).
    Create {
        key: KeyPath,
        value: String,
        dir: bool,
        expire_at: Option<Timestamp>,
        in_order: bool,
        now: Timestamp,
    },
    /// PUT `prevExist=true`: change an existing key's value and TTL, or a directory's TTL.
    Update {
        key: KeyPath,
        value: String,
        expire_at: Option<Timestamp>,
        refresh: bool,
        now: Timestamp,
    },
    /// PUT with `prevValue` and/or `prevIndex` (> 0).
    CompareAndSwap {
        key: KeyPath,
        value: String,
        prev_value: Option<String>,
        prev_index: u64,
        expire_at: Option<Timestamp>,
        refresh: bool,
        now: Timestamp,
    },
    /// DELETE without conditions.
    Delete {
        key: KeyPath,
        dir: bool,
        recursive: bool,
        now: Timestamp,
    },
    /// DELETE with `prevValue` and/or `prevIndex` (> 0).
    CompareAndDelete {
        key: KeyPath,
        prev_value: Option<String>,
        prev_index: u64,
        now: Timestamp,
    },
    /// Remove every node whose expiration is at or before `now` (the leader's clock).
    Expire { now: Timestamp },
}

/// A change to the member table (see [`crate::state::StoreState::apply_command`]). The
/// registry writes one causes reach the store as plain [`KeyCommand`]s.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum ClusterCommand {
    /// A member announces its name and URLs (at start, when they changed, or when a member
    /// added by peer URL starts): updates the member table and `/_etcd/machines/<name>`.
    PublishMember {
        id: u64,
        name: String,
        peer_urls: Vec<String>,
        client_urls: Vec<String>,
        now: Timestamp,
    },
}

/// A log entry that is not a command we understand.
#[derive(Debug, thiserror::Error)]
#[error("undecodable command: {0}")]
pub struct DecodeError(String);

impl Command {
    /// Bytes for the raft log: a version byte, then JSON.
    pub fn encode(&self) -> Vec<u8> {
        let mut out = vec![COMMAND_FORMAT_V1];
        match self {
            Command::Key(k) => serde_json::to_writer(&mut out, k),
            Command::Cluster(c) => serde_json::to_writer(&mut out, c),
            Command::Auth(a) => serde_json::to_writer(&mut out, a),
        }
        .expect("a Command always serialises");
        out
    }

    /// Reads bytes written by [`Command::encode`], of this version or any earlier one.
    pub fn decode(bytes: &[u8]) -> Result<Command, DecodeError> {
        match bytes.split_first() {
            Some((&COMMAND_FORMAT_V1, rest)) => {
                // Nearly every entry is a key command: it is tried first, and parsed once.
                serde_json::from_slice(rest)
                    .map(Command::Key)
                    .or_else(|key_err| {
                        serde_json::from_slice(rest)
                            .map(Command::Cluster)
                            .or_else(|_| serde_json::from_slice(rest).map(Command::Auth))
                            .map_err(|_| DecodeError(key_err.to_string()))
                    })
            }
            Some((v, _)) => Err(DecodeError(format!("unknown format version {v}"))),
            None => Err(DecodeError("empty entry".into())),
        }
    }

    /// The key this command writes, if it writes one key.
    pub fn key(&self) -> Option<&str> {
        match self {
            Command::Key(k) => k.key(),
            Command::Cluster(_) | Command::Auth(_) => None,
        }
    }
}

impl KeyCommand {
    /// The key this command writes, if it writes one key.
    pub fn key(&self) -> Option<&str> {
        match self {
            KeyCommand::Set { key, .. }
            | KeyCommand::Create { key, .. }
            | KeyCommand::Update { key, .. }
            | KeyCommand::CompareAndSwap { key, .. }
            | KeyCommand::Delete { key, .. }
            | KeyCommand::CompareAndDelete { key, .. } => Some(key.as_str()),
            KeyCommand::Expire { .. } => None,
        }
    }
}

impl From<KeyCommand> for Command {
    fn from(k: KeyCommand) -> Command {
        Command::Key(k)
    }
}

impl From<ClusterCommand> for Command {
    fn from(c: ClusterCommand) -> Command {
        Command::Cluster(c)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips() {
        let c = Command::Key(KeyCommand::CompareAndSwap {
            key: "/a".into(),
            value: "v".into(),
            prev_value: Some("p".into()),
            prev_index: 3,
            expire_at: Some(Timestamp(5)),
            refresh: false,
            now: Timestamp(1),
        });
        assert_eq!(Command::decode(&c.encode()).unwrap(), c);
        let p = Command::Cluster(ClusterCommand::PublishMember {
            id: 7,
            name: "m".into(),
            peer_urls: vec!["http://127.0.0.1:7001".into()],
            client_urls: vec![],
            now: Timestamp(2),
        });
        assert_eq!(Command::decode(&p.encode()).unwrap(), p);
        let e = Command::decode(b"\x01{\"Nope\":{}}").unwrap_err();
        assert!(e.to_string().contains("unknown variant"), "{e}");
        assert!(Command::decode(&[]).is_err());
        assert!(Command::decode(&[9, b'{']).is_err());
    }

    /// Entries byte for byte as the single enum of 0.3.0 wrote them decode, and encode back
    /// to the same bytes (the fixture data dir replays real ones: tests/tests/deep_keys.rs).
    #[test]
    fn reads_and_writes_what_0_3_0_wrote() {
        let set: &[u8] = br#"{"Set":{"key":"/k","value":"v","dir":false,"expire_at":5,"refresh":false,"now":1}}"#;
        let expire: &[u8] = br#"{"Expire":{"now":9}}"#;
        let publish: &[u8] = br#"{"PublishMember":{"id":3,"name":"m3","peer_urls":["http://127.0.0.1:7003"],"client_urls":[],"now":2}}"#;
        let v1 = |json: &[u8]| [&[COMMAND_FORMAT_V1][..], json].concat();
        assert_eq!(
            Command::decode(&v1(set)).unwrap(),
            Command::Key(KeyCommand::Set {
                key: "/k".into(),
                value: "v".into(),
                dir: false,
                expire_at: Some(Timestamp(5)),
                refresh: false,
                now: Timestamp(1),
            })
        );
        assert_eq!(
            Command::decode(&v1(expire)).unwrap(),
            Command::Key(KeyCommand::Expire { now: Timestamp(9) })
        );
        let p = Command::decode(&v1(publish)).unwrap();
        assert!(matches!(
            p,
            Command::Cluster(ClusterCommand::PublishMember { id: 3, .. })
        ));
        for json in [set, expire, publish] {
            assert_eq!(Command::decode(&v1(json)).unwrap().encode(), v1(json));
        }
    }
}

//! The replicated command: what the raft log carries and the store applies.
//!
//! The HTTP layer validates a request and turns relative TTLs into absolute expiry times before
//! proposing, so applying a command never reads a clock: every replica applying the same log
//! reaches the same state and renders the same events.

use serde::{Deserialize, Serialize};

use crate::store::KeyPath;
use crate::time::Timestamp;

/// Encoding version prefixed to every command in the log, so the format can evolve.
const COMMAND_FORMAT_V1: u8 = 1;

/// One state change, applied in log order by every replica.
///
/// `now` is the proposer's clock when the request arrived; it only shapes the `ttl` shown in
/// the resulting event. `expire_at: None` means "no TTL" (and removes an existing one).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Command {
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
        serde_json::to_writer(&mut out, self).expect("a Command always serialises");
        out
    }

    /// Reads bytes written by [`Command::encode`].
    pub fn decode(bytes: &[u8]) -> Result<Command, DecodeError> {
        match bytes.split_first() {
            Some((&COMMAND_FORMAT_V1, rest)) => {
                serde_json::from_slice(rest).map_err(|e| DecodeError(e.to_string()))
            }
            Some((v, _)) => Err(DecodeError(format!("unknown format version {v}"))),
            None => Err(DecodeError("empty entry".into())),
        }
    }

    /// The key this command writes, if it writes one key.
    pub fn key(&self) -> Option<&str> {
        match self {
            Command::Set { key, .. }
            | Command::Create { key, .. }
            | Command::Update { key, .. }
            | Command::CompareAndSwap { key, .. }
            | Command::Delete { key, .. }
            | Command::CompareAndDelete { key, .. } => Some(key.as_str()),
            Command::Expire { .. } | Command::PublishMember { .. } => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips() {
        let c = Command::CompareAndSwap {
            key: "/a".into(),
            value: "v".into(),
            prev_value: Some("p".into()),
            prev_index: 3,
            expire_at: Some(Timestamp(5)),
            refresh: false,
            now: Timestamp(1),
        };
        assert_eq!(Command::decode(&c.encode()).unwrap(), c);
        assert!(Command::decode(&[]).is_err());
        assert!(Command::decode(&[9, b'{']).is_err());
    }
}

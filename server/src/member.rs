//! Member identity and the `/_etcd/machines` registry the seed README shows.

use serde::Serialize;

/// The raft id of a member named `name`: FNV-1a of the name, never 0. Stable across
/// releases, so a data dir keeps its id.
pub fn member_id(name: &str) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in name.as_bytes() {
        h ^= u64::from(*b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    if h == 0 {
        1
    } else {
        h
    }
}

/// The cluster id reported in `X-Etcd-Cluster-Id`, from the first member's name.
pub fn cluster_id(first_member: &str) -> u64 {
    member_id(&format!("cluster:{first_member}"))
}

/// One entry of `/_etcd/machines`: `raft=<peer URL>&etcd=<client URL>`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Machine {
    /// Member name (the key's last segment).
    pub name: String,
    /// Peer URL.
    pub peer_url: String,
    /// Client URL.
    pub client_url: String,
}

impl Machine {
    /// Parses a registry value; `None` when it is not of the `raft=…&etcd=…` form.
    pub fn parse(name: &str, value: &str) -> Option<Machine> {
        let mut peer = None;
        let mut client = None;
        for part in value.split('&') {
            match part.split_once('=') {
                Some(("raft", v)) => peer = Some(v.to_string()),
                Some(("etcd", v)) => client = Some(v.to_string()),
                _ => {}
            }
        }
        Some(Machine {
            name: name.to_string(),
            peer_url: peer?,
            client_url: client?,
        })
    }

    /// This member's raft id.
    pub fn id(&self) -> u64 {
        member_id(&self.name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_stable_and_non_zero() {
        assert_eq!(member_id("machine0"), member_id("machine0"));
        assert_ne!(member_id("machine0"), member_id("machine1"));
        assert_ne!(member_id(""), 0);
    }

    #[test]
    fn parses_the_seed_form() {
        let m = Machine::parse(
            "m1",
            "raft=http://127.0.0.1:7001&etcd=http://127.0.0.1:4001",
        )
        .unwrap();
        assert_eq!(m.peer_url, "http://127.0.0.1:7001");
        assert_eq!(m.client_url, "http://127.0.0.1:4001");
        assert!(Machine::parse("m1", "garbage").is_none());
    }
}

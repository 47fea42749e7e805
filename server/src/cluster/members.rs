//! The membership table: who is in the cluster, where each member listens, which ids were
//! removed. Pure and replicated: only committed conf changes and `PublishMember` commands
//! change it, in log order, so every member holds the same table at the same index.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

/// The raft id a member named `name` gets when the id is free: FNV-1a of the name, never 0.
/// Stable, so the first member of a cluster keeps the id it always had.
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

/// `<16 lowercase hex>`, as ids appear in `/v2/members` and the stats.
pub fn id_hex(id: u64) -> String {
    format!("{id:016x}")
}

/// Parses [`id_hex`] (any case).
pub fn parse_id_hex(s: &str) -> Option<u64> {
    if s.is_empty() || s.len() > 16 {
        return None;
    }
    u64::from_str_radix(s, 16).ok().filter(|id| *id != 0)
}

/// One member as the cluster knows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MemberRecord {
    /// Raft id.
    pub id: u64,
    /// `-name`; empty for a member added by peer URL that has not started yet.
    pub name: String,
    /// Where peers reach it.
    pub peer_urls: Vec<String>,
    /// Where clients reach it; empty until it has started.
    pub client_urls: Vec<String>,
    /// A learner receives the log but does not vote yet (a new member catching up).
    #[serde(default)]
    pub learner: bool,
}

impl MemberRecord {
    /// The first peer URL (members advertise one).
    pub fn peer_url(&self) -> &str {
        self.peer_urls.first().map(String::as_str).unwrap_or("")
    }

    /// The first client URL, empty when unknown.
    pub fn client_url(&self) -> &str {
        self.client_urls.first().map(String::as_str).unwrap_or("")
    }

    /// The `/_etcd/machines/<name>` key of this member.
    pub fn machine_key(&self) -> String {
        format!("/_etcd/machines/{}", self.name)
    }

    /// The seed's registry value: `raft=<peer URL>&etcd=<client URL>`.
    pub fn machine_value(&self) -> String {
        format!("raft={}&etcd={}", self.peer_url(), self.client_url())
    }
}

#[cfg(test)]
impl MemberRecord {
    /// For tests: voter `id` named `name`, on loopback ports `700<id>` (peer) and `400<id>`
    /// (client).
    pub(crate) fn loopback(id: u64, name: &str) -> MemberRecord {
        MemberRecord {
            id,
            name: name.into(),
            peer_urls: vec![format!("http://127.0.0.1:700{id}")],
            client_urls: vec![format!("http://127.0.0.1:400{id}")],
            learner: false,
        }
    }
}

/// Every member, the removed ids, and the cluster's id.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Members {
    cluster_id: u64,
    members: BTreeMap<u64, MemberRecord>,
    /// Ids never to be reused or accepted again: their owners were removed.
    removed: BTreeSet<u64>,
    /// The raft index of each removal, told to a removed member that still calls (410 with
    /// `X-Etcd-Removed-At`) so it can find the removal in its own log. Absent in snapshots
    /// written before it existed.
    #[serde(default)]
    removed_at: BTreeMap<u64, u64>,
}

impl Members {
    /// The cluster id (0 until the bootstrap entry has been applied).
    pub fn cluster_id(&self) -> u64 {
        self.cluster_id
    }

    /// Sets the cluster id (the bootstrap entry does, once).
    pub fn set_cluster_id(&mut self, id: u64) {
        if self.cluster_id == 0 {
            self.cluster_id = id;
        }
    }

    /// Replaces the cluster id, for `-force-new-cluster` only: the data dir becomes a new
    /// cluster, and the old members' messages, which carry the old id, must never reach it.
    pub fn renew_cluster_id(&mut self, id: u64) {
        self.cluster_id = id;
    }

    /// A member by id.
    pub fn get(&self, id: u64) -> Option<&MemberRecord> {
        self.members.get(&id)
    }

    /// A started member by name.
    pub fn by_name(&self, name: &str) -> Option<&MemberRecord> {
        if name.is_empty() {
            return None;
        }
        self.members.values().find(|m| m.name == name)
    }

    /// The member advertising `url` as a peer URL.
    pub fn by_peer_url(&self, url: &str) -> Option<&MemberRecord> {
        self.members
            .values()
            .find(|m| m.peer_urls.iter().any(|u| u == url))
    }

    /// All members, by id.
    pub fn iter(&self) -> impl Iterator<Item = &MemberRecord> {
        self.members.values()
    }

    /// Whether there are none (before the bootstrap entry applies).
    pub fn is_empty(&self) -> bool {
        self.members.is_empty()
    }

    /// Ids of removed members.
    pub fn removed_ids(&self) -> impl Iterator<Item = u64> + '_ {
        self.removed.iter().copied()
    }

    /// The raft index at which member `id` was removed, when known.
    pub fn removed_at(&self, id: u64) -> Option<u64> {
        self.removed_at.get(&id).copied()
    }

    /// Records the raft index of a removal [`Members::remove`] made.
    pub fn record_removal_index(&mut self, id: u64, index: u64) {
        if self.removed.contains(&id) {
            self.removed_at.insert(id, index);
        }
    }

    /// Why member `id` cannot be removed, if it cannot: it is the last voter, and a cluster
    /// without a voter can never elect a leader or commit again (nor start).
    pub fn check_remove(&self, id: u64) -> Result<(), String> {
        let Some(m) = self.members.get(&id) else {
            return Err(format!("no such member: {}", id_hex(id)));
        };
        let other_voters = self
            .members
            .values()
            .filter(|o| o.id != id && !o.learner)
            .count();
        if !m.learner && other_voters == 0 {
            return Err(format!(
                "member {} is the cluster's last voting member; removing it would leave no \
                 member able to lead (add another member first)",
                id_hex(id)
            ));
        }
        Ok(())
    }

    /// Whether `id` belonged to a removed member.
    pub fn is_removed(&self, id: u64) -> bool {
        self.removed.contains(&id)
    }

    /// An id for a new member named `name` (or, unnamed, reached at `peer_url`): the name's
    /// hash when free, else the hash of the name with a counter, so a removed member's id is
    /// never reused.
    pub fn choose_id(&self, name: &str, peer_url: &str) -> u64 {
        let base = if name.is_empty() {
            format!("peer:{peer_url}")
        } else {
            name.to_string()
        };
        let free = |id: u64| !self.members.contains_key(&id) && !self.removed.contains(&id);
        let first = member_id(&base);
        if free(first) {
            return first;
        }
        (1u64..)
            .map(|n| member_id(&format!("{base}#{n}")))
            .find(|id| free(*id))
            .expect("an unbounded search finds a free 64-bit id")
    }

    /// Why `m` cannot be added, if it cannot: its id is taken or was removed, or its name or
    /// a peer URL belongs to another member.
    pub fn check_add(&self, m: &MemberRecord) -> Result<(), String> {
        if self.members.contains_key(&m.id) {
            return Err(format!("member {} already exists", id_hex(m.id)));
        }
        if self.removed.contains(&m.id) {
            return Err(format!("member {} was removed", id_hex(m.id)));
        }
        if self.by_name(&m.name).is_some() {
            return Err(format!("a member named {:?} already exists", m.name));
        }
        if m.peer_urls.iter().any(|u| self.by_peer_url(u).is_some()) {
            return Err("membership: peerURL exists".into());
        }
        Ok(())
    }

    /// Adds a member (checked with [`Members::check_add`] first by the caller).
    pub fn add(&mut self, m: MemberRecord) {
        self.members.insert(m.id, m);
    }

    /// Turns a learner into a voter; false when there is no such member.
    pub fn promote(&mut self, id: u64) -> bool {
        match self.members.get_mut(&id) {
            Some(m) => {
                m.learner = false;
                true
            }
            None => false,
        }
    }

    /// Removes a member for good; returns what it was.
    pub fn remove(&mut self, id: u64) -> Option<MemberRecord> {
        let m = self.members.remove(&id)?;
        self.removed.insert(id);
        Some(m)
    }

    /// Records a member's name and URLs as it announced them; returns the previous record.
    /// `None` when the id is not a member or the name belongs to another member.
    pub fn publish(
        &mut self,
        id: u64,
        name: &str,
        peer_urls: &[String],
        client_urls: &[String],
    ) -> Option<MemberRecord> {
        if self.by_name(name).is_some_and(|other| other.id != id) {
            return None;
        }
        let m = self.members.get_mut(&id)?;
        let before = m.clone();
        m.name = name.to_string();
        m.peer_urls = peer_urls.to_vec();
        m.client_urls = client_urls.to_vec();
        Some(before)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rec(id: u64, name: &str, port: u16) -> MemberRecord {
        MemberRecord {
            id,
            name: name.into(),
            peer_urls: vec![format!("http://127.0.0.1:{port}")],
            client_urls: vec![format!("http://127.0.0.1:{}", port - 3000)],
            learner: false,
        }
    }

    #[test]
    fn ids_are_stable_and_non_zero() {
        assert_eq!(member_id("machine0"), member_id("machine0"));
        assert_ne!(member_id("machine0"), member_id("machine1"));
        assert_ne!(member_id(""), 0);
        assert_eq!(parse_id_hex(&id_hex(42)), Some(42));
        assert_eq!(parse_id_hex("zz"), None);
        assert_eq!(parse_id_hex("0"), None);
    }

    #[test]
    fn registry_value_is_the_seed_form() {
        let m = rec(1, "machine1", 7001);
        assert_eq!(m.machine_key(), "/_etcd/machines/machine1");
        assert_eq!(
            m.machine_value(),
            "raft=http://127.0.0.1:7001&etcd=http://127.0.0.1:4001"
        );
    }

    #[test]
    fn removed_ids_are_never_reused() {
        let mut ms = Members::default();
        let id = ms.choose_id("m2", "");
        assert_eq!(id, member_id("m2"));
        ms.add(rec(id, "m2", 7002));
        assert!(ms.check_add(&rec(id, "other", 7009)).is_err());
        ms.remove(id);
        assert!(ms.is_removed(id));
        let again = ms.choose_id("m2", "");
        assert_ne!(again, id);
        assert!(ms.check_add(&rec(again, "m2", 7002)).is_ok());
    }

    #[test]
    fn the_last_voter_cannot_be_removed() {
        let mut ms = Members::default();
        ms.add(rec(1, "m1", 7001));
        assert!(ms.check_remove(1).is_err(), "the only member");
        assert!(ms.check_remove(9).is_err(), "no such member");
        ms.add(MemberRecord {
            learner: true,
            ..rec(2, "m2", 7002)
        });
        assert!(ms.check_remove(1).is_err(), "a learner cannot lead");
        assert!(ms.check_remove(2).is_ok(), "a learner may go");
        ms.promote(2);
        assert!(ms.check_remove(1).is_ok());
        ms.remove(1);
        ms.record_removal_index(1, 42);
        assert_eq!(ms.removed_at(1), Some(42));
        assert!(ms.check_remove(2).is_err());
    }

    #[test]
    fn names_and_peer_urls_are_unique() {
        let mut ms = Members::default();
        ms.add(rec(1, "m1", 7001));
        assert!(ms.check_add(&rec(2, "m1", 7002)).is_err());
        assert!(ms.check_add(&rec(2, "m2", 7001)).is_err());
        assert!(ms.check_add(&rec(2, "m2", 7002)).is_ok());
        assert!(ms.publish(1, "m1", &[], &[]).is_some());
        ms.add(rec(2, "m2", 7002));
        assert!(ms.publish(2, "m1", &[], &[]).is_none(), "name taken by 1");
    }
}

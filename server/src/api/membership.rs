//! Membership changes as requests make them: a machine joining through a peer (`/join` on the
//! peer port, etcd 0.2) or a member added, updated or removed through `/v2/members`.

use std::sync::Arc;
use std::time::Duration;

use common::Member;
use raft::eraftpb::{ConfChange, ConfChangeType};

use crate::cluster::{id_hex, ChangeContext, MemberRecord, MembershipError};
use crate::command::ClusterCommand;
use crate::raft::RaftHandle;
use crate::store::Event;
use crate::time::Timestamp;

/// Most peer URLs one member may advertise.
const MAX_PEER_URLS: usize = 8;
/// A change refused because another one was in flight (often the automatic promotion of a
/// learner, or a machine joining at the same moment) is tried again this many times, this far
/// apart, before the caller hears the refusal (409). Each refusal is definite: the change did
/// not happen, so trying again cannot apply it twice.
const IN_PROGRESS_RETRIES: u32 = 10;
const IN_PROGRESS_BACKOFF: Duration = Duration::from_millis(100);

/// Proposes a conf change; tries again, a bounded number of times, while another change is in
/// progress.
async fn change(raft: &RaftHandle, cc: ConfChange) -> Result<Vec<Arc<Event>>, MembershipError> {
    let mut tries = 0;
    loop {
        match raft.change_membership(cc.clone()).await {
            Err(MembershipError::InProgress) if tries < IN_PROGRESS_RETRIES => {
                tries += 1;
                tokio::time::sleep(IN_PROGRESS_BACKOFF).await;
            }
            res => return res,
        }
    }
}

/// The members API form of a record.
pub fn member_json(m: &MemberRecord) -> Member {
    Member {
        id: id_hex(m.id),
        name: m.name.clone(),
        peer_urls: m.peer_urls.clone(),
        client_urls: m.client_urls.clone(),
    }
}

/// Why a URL list cannot be used: empty, too long, or not `http(s)://host:port`.
pub fn check_urls(urls: &[String]) -> Result<(), String> {
    if urls.is_empty() {
        return Err("at least one peer URL is needed".into());
    }
    if urls.len() > MAX_PEER_URLS {
        return Err(format!("at most {MAX_PEER_URLS} peer URLs"));
    }
    for u in urls {
        let rest = u
            .strip_prefix("http://")
            .or_else(|| u.strip_prefix("https://"))
            .ok_or_else(|| format!("URL scheme must be http or https: {u}"))?;
        let (host, port) = rest
            .trim_end_matches('/')
            .rsplit_once(':')
            .ok_or_else(|| format!("URL must name a host and port: {u}"))?;
        if host.is_empty() || port.parse::<u16>().is_err() || rest.len() > 255 {
            return Err(format!("URL must name a host and port: {u}"));
        }
    }
    Ok(())
}

/// Adds a member as a learner (it becomes a voter once it has caught up). A machine starting
/// under peer URLs that were added beforehand without a name is that member. A name already
/// in the cluster is refused: a member whose data was lost must be removed first, since a
/// voter that forgot its votes could elect a second leader.
pub async fn add(
    raft: &RaftHandle,
    name: &str,
    peer_urls: Vec<String>,
    client_urls: Vec<String>,
) -> Result<MemberRecord, MembershipError> {
    check_urls(&peer_urls).map_err(MembershipError::BadRequest)?;
    let id = {
        let members = raft.state.members();
        if let Some(m) = peer_urls.iter().find_map(|u| members.by_peer_url(u)) {
            if m.name.is_empty() || (m.name == name && !name.is_empty() && m.learner) {
                return Ok(m.clone());
            }
            return Err(MembershipError::Conflict(format!(
                "peer URL {} belongs to member {} ({}); remove it first",
                m.peer_url(),
                id_hex(m.id),
                m.name
            )));
        }
        if let Some(m) = members.by_name(name) {
            return Err(MembershipError::Conflict(format!(
                "a member named {name:?} already exists ({}); remove it first",
                id_hex(m.id)
            )));
        }
        members.choose_id(name, &peer_urls[0])
    };
    let record = MemberRecord {
        id,
        name: name.to_string(),
        peer_urls,
        client_urls,
        learner: true,
    };
    let ctx = ChangeContext {
        member: Some(record.clone()),
        cluster_id: None,
        now: Timestamp::now(),
    };
    change(raft, ctx.conf_change(ConfChangeType::AddLearnerNode, id)).await?;
    Ok(record)
}

/// Removes member `id` for good. The last voter is refused here, before anything is written
/// (and again when the change applies, for removals that race each other).
pub async fn remove(raft: &RaftHandle, id: u64) -> Result<(), MembershipError> {
    let members = raft.state.members();
    if members.get(id).is_some() {
        members
            .check_remove(id)
            .map_err(MembershipError::Conflict)?;
    }
    let cc = ChangeContext::at(Timestamp::now()).conf_change(ConfChangeType::RemoveNode, id);
    change(raft, cc).await.map(|_| ())
}

/// Changes the peer URLs of member `id`, keeping its name and client URLs.
pub async fn update(
    raft: &RaftHandle,
    id: u64,
    peer_urls: Vec<String>,
) -> Result<(), MembershipError> {
    check_urls(&peer_urls).map_err(MembershipError::BadRequest)?;
    let current = {
        let members = raft.state.members();
        if let Some(other) = peer_urls
            .iter()
            .find_map(|u| members.by_peer_url(u))
            .filter(|m| m.id != id)
        {
            return Err(MembershipError::Conflict(format!(
                "peer URL {} belongs to another member",
                other.peer_url()
            )));
        }
        members.get(id).cloned()
    };
    let Some(m) = current else {
        return Err(MembershipError::NotFound(id_hex(id)));
    };
    let cmd = ClusterCommand::PublishMember {
        id,
        name: m.name,
        peer_urls,
        client_urls: m.client_urls,
        now: Timestamp::now(),
    };
    raft.propose(cmd.into()).await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_are_checked() {
        assert!(check_urls(&["http://127.0.0.1:7001".into()]).is_ok());
        assert!(check_urls(&["https://host:1".into()]).is_ok());
        assert!(check_urls(&[]).is_err());
        assert!(check_urls(&["127.0.0.1:7001".into()]).is_err());
        assert!(check_urls(&["http://127.0.0.1".into()]).is_err());
        assert!(check_urls(&["http://:80".into()]).is_err());
        assert!(check_urls(&vec!["http://a:1".to_string(); 9]).is_err());
    }
}

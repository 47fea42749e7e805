//! Everything but keys: `/version`, `/health`, `/v2/machines`, `/v2/leader`, `/v2/stats/*`,
//! `/v2/members`.

use std::sync::atomic::Ordering;

use common::{ErrorCode, EtcdError, MemberList, VersionInfo, API_LEVEL};
use serde_json::json;
use warp::http::Method;
use warp::reply::Response;

use super::membership::{self, member_json};
use super::{reply, AppState};
use crate::cluster::{parse_id_hex, MemberRecord, MembershipError};

/// The release of this server.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");

/// Every member of the cluster, the leader first, then by name (unstarted members last).
pub fn members_in_order(st: &AppState) -> Vec<MemberRecord> {
    let mut out: Vec<MemberRecord> = st.raft.state.members().iter().cloned().collect();
    // Before the log is replayed this member still knows where it is.
    if !out.iter().any(|m| m.id == st.info.id) {
        out.push(MemberRecord {
            id: st.info.id,
            name: st.info.name.clone(),
            peer_urls: vec![st.info.peer_url.clone()],
            client_urls: vec![st.info.client_url.clone()],
            learner: false,
        });
    }
    let leader = st.raft.status.leader_id.load(Ordering::Relaxed);
    out.sort_by_key(|m| (m.id != leader, m.name.is_empty(), m.name.clone(), m.id));
    out
}

/// A member as clients see it in `/v2/members`: a learner (a joiner still catching up) is
/// listed without client URLs, as an unstarted member is, so clients that pick a member from
/// the list do not pick it before it can serve.
fn as_listed(m: &MemberRecord) -> MemberRecord {
    if m.learner {
        MemberRecord {
            client_urls: Vec::new(),
            ..m.clone()
        }
    } else {
        m.clone()
    }
}

fn leader_member(st: &AppState) -> Option<MemberRecord> {
    let leader = st.raft.status.leader_id.load(Ordering::Relaxed);
    members_in_order(st).into_iter().find(|m| m.id == leader)
}

/// `GET /version`.
pub fn version() -> Response {
    reply::json(
        200,
        &VersionInfo {
            etcdserver: VERSION.into(),
            etcdcluster: API_LEVEL.into(),
        },
    )
}

/// `GET /health`.
pub fn health(st: &AppState) -> Response {
    // Healthy once a leader is known and this member's record (hence its `/_etcd/machines`
    // entry) is current: from then on a fresh member's first client write gets the index the
    // seed README shows. A joining member is healthy once it caught up and votes.
    let published = st.raft.state.members().get(st.info.id).is_some_and(|m| {
        m.name == st.info.name && m.client_urls == [st.info.client_url.clone()] && !m.learner
    });
    if st.raft.status.has_leader() && published && st.raft.status.is_serving() {
        reply::json(200, &json!({"health": "true"}))
    } else {
        reply::json(503, &json!({"health": "false"}))
    }
}

/// `GET /v2/machines`: client URLs of started members, leader first, `", "` separated.
pub fn machines_list(st: &AppState) -> Response {
    let urls: Vec<String> = members_in_order(st)
        .iter()
        .filter(|m| !m.client_url().is_empty() && !m.learner)
        .map(|m| m.client_url().to_string())
        .collect();
    reply::with_body(200, "text/plain; charset=utf-8", urls.join(", "))
}

/// `GET /v2/leader`: the leader's peer URL.
pub fn leader(st: &AppState) -> Response {
    match leader_member(st) {
        Some(m) => reply::with_body(200, "text/plain; charset=utf-8", m.peer_url().to_string()),
        None => reply::error(&EtcdError::new(ErrorCode::LeaderElect, "", 0)),
    }
}

fn go_duration(d: std::time::Duration) -> String {
    let total = d.as_secs_f64();
    let h = (total / 3600.0).floor();
    let m = ((total - h * 3600.0) / 60.0).floor();
    let s = total - h * 3600.0 - m * 60.0;
    if h > 0.0 {
        format!("{h}h{m}m{s:.9}s")
    } else if m > 0.0 {
        format!("{m}m{s:.9}s")
    } else {
        format!("{s:.9}s")
    }
}

/// `GET /v2/stats/self`.
pub fn stats_self(st: &AppState) -> Response {
    let status = &st.raft.status;
    let leader = status.leader_id.load(Ordering::Relaxed);
    let state = if status.is_leader.load(Ordering::Relaxed) {
        "StateLeader"
    } else if leader == 0 {
        "StateCandidate"
    } else {
        "StateFollower"
    };
    let rate = |r: &std::sync::atomic::AtomicU64| r.load(Ordering::Relaxed) as f64 / 1000.0;
    reply::json(
        200,
        &json!({
            "name": st.info.name,
            "id": format!("{:016x}", st.info.id),
            "state": state,
            "startTime": st.info.start_time.to_rfc3339(),
            "leaderInfo": {
                "leader": format!("{leader:016x}"),
                "uptime": go_duration(st.info.started.elapsed()),
                "startTime": st.info.start_time.to_rfc3339(),
            },
            "recvAppendRequestCnt": status.received_messages.load(Ordering::Relaxed),
            "recvPkgRate": rate(&status.receive_rate_milli),
            "sendAppendRequestCnt": status.sent_messages.load(Ordering::Relaxed),
            "sendPkgRate": rate(&status.send_rate_milli),
        }),
    )
}

/// `GET /v2/stats/leader`: every follower's latency and message counts, on the leader only.
pub fn stats_leader(st: &AppState) -> Response {
    if !st.raft.status.is_leader.load(Ordering::Relaxed) {
        return reply::json(403, &json!({"message": "not current leader"}));
    }
    let followers: serde_json::Map<String, serde_json::Value> = {
        let stats = st.transport.follower_stats();
        st.raft
            .state
            .members()
            .iter()
            .filter(|m| m.id != st.info.id)
            .map(|m| {
                let s = stats.get(&m.id).cloned().unwrap_or_default();
                (
                    format!("{:016x}", m.id),
                    serde_json::to_value(s).unwrap_or_else(|_| json!({})),
                )
            })
            .collect()
    };
    reply::json(
        200,
        &json!({"leader": format!("{:016x}", st.info.id), "followers": followers}),
    )
}

/// `GET /v2/stats/store`.
pub fn stats_store(st: &AppState) -> Response {
    let stats = st.raft.state.stats();
    let watchers = stats.watchers;
    let mut writes = stats.writes;
    let c = &st.counters;
    for (total, here) in [
        (&mut writes.create_fail, &c.create_fail),
        (&mut writes.update_fail, &c.update_fail),
        (&mut writes.compare_and_swap_fail, &c.compare_and_swap_fail),
        (&mut writes.delete_fail, &c.delete_fail),
        (
            &mut writes.compare_and_delete_fail,
            &c.compare_and_delete_fail,
        ),
    ] {
        // Writes refused here without a log entry were counted by no store.
        *total += here.load(Ordering::Relaxed);
    }
    let mut v = serde_json::to_value(writes).unwrap_or_else(|_| json!({}));
    if let Some(obj) = v.as_object_mut() {
        obj.insert(
            "getsSuccess".into(),
            st.counters.gets_success.load(Ordering::Relaxed).into(),
        );
        obj.insert(
            "getsFail".into(),
            st.counters.gets_fail.load(Ordering::Relaxed).into(),
        );
        obj.insert("watchers".into(), watchers.into());
    }
    reply::json(200, &v)
}

#[derive(serde::Deserialize)]
struct PeerUrls {
    #[serde(rename = "peerURLs")]
    peer_urls: Vec<String>,
}

/// A members API refusal: its status, and its cause as the message.
fn members_error(e: &MembershipError) -> Response {
    reply::json(e.http_status(500), &json!({"message": e.to_string()}))
}

fn parse_peer_urls(content_type: Option<&str>, body: &[u8]) -> Result<Vec<String>, Box<Response>> {
    let ct = content_type.unwrap_or("");
    if !ct.starts_with("application/json") {
        return Err(Box::new(reply::json(
            415,
            &json!({"message": format!("Bad Content-Type {ct}, accept application/json")}),
        )));
    }
    serde_json::from_slice::<PeerUrls>(body)
        .map(|p| p.peer_urls)
        .map_err(|e| {
            Box::new(reply::json(
                400,
                &json!({"message": format!("bad members request: {e}")}),
            ))
        })
}

/// `/v2/members[/<id>|/leader]`: list, add (as a learner that is promoted once caught up),
/// update peer URLs, remove.
/// `GET /metrics`: every figure, in Prometheus' text format; the store's gauges are read now.
pub fn metrics(st: &AppState) -> Response {
    let stats = st.raft.state.stats();
    let m = &crate::metrics::METRICS;
    m.watchers.set(stats.watchers as i64);
    // Read at scrape time: the store keeps the counts, so this costs nothing under the lock.
    m.store_keys.set(stats.nodes.keys as i64);
    m.store_dirs.set(stats.nodes.dirs as i64);
    reply::with_body(
        200,
        "text/plain; version=0.0.4; charset=utf-8",
        crate::metrics::render(),
    )
}

pub async fn members(
    st: &AppState,
    method: &Method,
    rest: &str,
    content_type: Option<&str>,
    body: &[u8],
) -> Response {
    // The member table of a catching-up member is not current yet.
    if let Err(e) = st.raft.wait_serving().await {
        return members_error(&e.into());
    }
    let rest = rest.trim_start_matches('/');
    match (method.clone(), rest) {
        (Method::GET, "") => reply::json(
            200,
            &MemberList {
                members: members_in_order(st)
                    .iter()
                    .map(|m| member_json(&as_listed(m)))
                    .collect(),
            },
        ),
        (Method::GET, "leader") => match leader_member(st) {
            Some(m) => reply::json(200, &member_json(&m)),
            None => reply::json(503, &json!({"message": "During election"})),
        },
        (Method::GET, _) => reply::json(404, &json!({"message": "Not found"})),
        (Method::POST, "") => {
            let urls = match parse_peer_urls(content_type, body) {
                Ok(u) => u,
                Err(resp) => return *resp,
            };
            match membership::add(&st.raft, "", urls, Vec::new()).await {
                Ok(m) => reply::json(201, &member_json(&m)),
                Err(e) => members_error(&e),
            }
        }
        (Method::DELETE, "") | (Method::PUT, "") => reply::method_not_allowed("GET, POST"),
        (Method::DELETE, id) | (Method::PUT, id) => {
            let known = parse_id_hex(id).filter(|id| st.raft.state.members().get(*id).is_some());
            let Some(id) = known else {
                return reply::json(404, &json!({"message": format!("No such member: {id}")}));
            };
            let res = if *method == Method::DELETE {
                membership::remove(&st.raft, id).await
            } else {
                match parse_peer_urls(content_type, body) {
                    Ok(urls) => membership::update(&st.raft, id, urls).await,
                    Err(resp) => return *resp,
                }
            };
            match res {
                Ok(()) => reply::with_body(204, "text/plain; charset=utf-8", String::new()),
                Err(e) => members_error(&e),
            }
        }
        _ => reply::method_not_allowed("GET, POST, PUT, DELETE"),
    }
}

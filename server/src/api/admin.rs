//! Everything but keys: `/version`, `/health`, `/v2/machines`, `/v2/leader`, `/v2/stats/*`,
//! `/v2/members`.

use std::sync::atomic::Ordering;

use common::{ErrorCode, EtcdError, Member, MemberList, VersionInfo, API_LEVEL};
use serde_json::json;
use warp::http::Method;
use warp::reply::Response;

use super::{reply, AppState};
use crate::member::Machine;
use crate::time::Timestamp;

/// The release of this server.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");

/// The members registered under `/_etcd/machines`, the leader first.
pub fn machines(st: &AppState) -> Vec<Machine> {
    let listing = {
        let state = st.raft.state.read().expect("store lock poisoned");
        state
            .store
            .get("/_etcd/machines", false, true, Timestamp::now())
    };
    let mut out: Vec<Machine> = listing
        .ok()
        .and_then(|ev| ev.node.nodes)
        .unwrap_or_default()
        .into_iter()
        .filter_map(|n| {
            let name = n.key.rsplit('/').next()?.to_string();
            Machine::parse(&name, n.value.as_deref()?)
        })
        .collect();
    // This member knows where it is even before its registration has been applied.
    if !out.iter().any(|m| m.name == st.info.name) {
        out.push(Machine {
            name: st.info.name.clone(),
            peer_url: st.info.peer_url.clone(),
            client_url: st.info.client_url.clone(),
        });
    }
    let leader = st.raft.status.leader_id.load(Ordering::Relaxed);
    out.sort_by_key(|m| (m.id() != leader, m.name.clone()));
    out
}

fn leader_machine(st: &AppState) -> Option<Machine> {
    let leader = st.raft.status.leader_id.load(Ordering::Relaxed);
    machines(st).into_iter().find(|m| m.id() == leader)
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
    // Healthy once a leader is known and this member's registration has been applied: from
    // then on its first client write gets the index the seed README shows.
    let registered = {
        let state = st.raft.state.read().expect("store lock poisoned");
        let key = format!("/_etcd/machines/{}", st.info.name);
        state
            .store
            .get(&key, false, false, Timestamp::now())
            .is_ok()
    };
    if st.raft.status.has_leader() && registered {
        reply::json(200, &json!({"health": "true"}))
    } else {
        reply::json(503, &json!({"health": "false"}))
    }
}

/// `GET /v2/machines`: client URLs, leader first, `", "` separated.
pub fn machines_list(st: &AppState) -> Response {
    let urls: Vec<String> = machines(st).into_iter().map(|m| m.client_url).collect();
    reply::with_body(200, "text/plain; charset=utf-8", urls.join(", "))
}

/// `GET /v2/leader`: the leader's peer URL.
pub fn leader(st: &AppState) -> Response {
    match leader_machine(st) {
        Some(m) => reply::with_body(200, "text/plain; charset=utf-8", m.peer_url),
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
    let state = if leader == st.info.id {
        "StateLeader"
    } else {
        "StateFollower"
    };
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
            "sendAppendRequestCnt": status.sent_messages.load(Ordering::Relaxed),
        }),
    )
}

/// `GET /v2/stats/leader`.
pub fn stats_leader(st: &AppState) -> Response {
    if st.raft.status.leader_id.load(Ordering::Relaxed) != st.info.id {
        return reply::json(403, &json!({"message": "not current leader"}));
    }
    reply::json(
        200,
        &json!({"leader": format!("{:016x}", st.info.id), "followers": {}}),
    )
}

/// `GET /v2/stats/store`.
pub fn stats_store(st: &AppState) -> Response {
    let (mut v, watchers) = {
        let state = st.raft.state.read().expect("store lock poisoned");
        (
            serde_json::to_value(state.store.stats()).unwrap_or_else(|_| json!({})),
            state.hub.len(),
        )
    };
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

fn member_of(m: &Machine) -> Member {
    Member {
        id: format!("{:016x}", m.id()),
        name: m.name.clone(),
        peer_urls: vec![m.peer_url.clone()],
        client_urls: vec![m.client_url.clone()],
    }
}

/// `/v2/members[/<id>|/leader]`.
pub fn members(st: &AppState, method: &Method, rest: &str, content_type: Option<&str>) -> Response {
    let rest = rest.trim_start_matches('/');
    match (method.clone(), rest) {
        (Method::GET, "") => reply::json(
            200,
            &MemberList {
                members: machines(st).iter().map(member_of).collect(),
            },
        ),
        (Method::GET, "leader") => match leader_machine(st) {
            Some(m) => reply::json(200, &member_of(&m)),
            None => reply::json(503, &json!({"message": "During election"})),
        },
        (Method::GET, _) => reply::json(404, &json!({"message": "Not found"})),
        (Method::POST, "") => {
            let ct = content_type.unwrap_or("");
            if !ct.starts_with("application/json") {
                return reply::json(
                    415,
                    &json!({"message": format!("Bad Content-Type {ct}, accept application/json")}),
                );
            }
            // Adding members needs the peer transport (issue #4); refuse honestly meanwhile.
            reply::json(
                500,
                &json!({"message": "membership changes are not supported by this server yet"}),
            )
        }
        (Method::DELETE, "") | (Method::PUT, "") => reply::method_not_allowed("GET, POST"),
        (Method::DELETE, id) | (Method::PUT, id) => {
            let known = machines(st)
                .iter()
                .any(|m| format!("{:016x}", m.id()) == id);
            if !known {
                return reply::json(404, &json!({"message": format!("No such member: {id}")}));
            }
            reply::json(
                500,
                &json!({"message": "membership changes are not supported by this server yet"}),
            )
        }
        _ => reply::method_not_allowed("GET, POST, PUT, DELETE"),
    }
}

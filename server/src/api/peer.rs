//! The peer port: raft messages (`POST /raft`), streamed snapshots (`POST /raft/snapshot`),
//! joins (`POST /join`, as etcd 0.2 machines join) and `GET /version` (etcd serves it on both
//! ports). Nothing else: the client API lives on the client port only, behind its own TLS and
//! client-certificate checks.
//!
//! Raft messages and snapshots are taken only from current members of this cluster: the
//! request must name this cluster (`X-Etcd-Cluster-Id`) and a member (`X-Raft-From`), and every
//! message in it must come from that member and be addressed to this one. Without
//! `-peer-ca-file` these headers are all that identifies a member (ids and the cluster id are
//! not secret), so a stranger who copies them is let in: only peer TLS authenticates.

use std::convert::Infallible;

use bytes::Buf;
use common::Member;
use futures::Stream;
use serde::{Deserialize, Serialize};
use serde_json::json;
use tokio::io::AsyncWriteExt;
use warp::http::{HeaderMap, Method};
use warp::reply::Response;
use warp::Filter;

use super::body::{self, BODY_READ_TIMEOUT, SNAPSHOT_STALL_TIMEOUT};
use super::membership::{self, member_json};
use super::{reply, AppState};
use crate::cluster::{id_hex, parse_id_hex};
use crate::storage::SnapshotFiles;
use crate::transport::wire;
use raft::eraftpb::{Message, MessageType};

/// Largest snapshot a member accepts from a leader.
const MAX_SNAPSHOT_BYTES: u64 = 8 * 1024 * 1024 * 1024;
/// Largest join request.
const MAX_JOIN_BYTES: usize = 64 * 1024;

/// What a machine sends to join (`POST /join`).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct JoinRequest {
    /// Its `-name`.
    pub name: String,
    /// Where peers reach it.
    #[serde(rename = "peerURLs")]
    pub peer_urls: Vec<String>,
    /// Where clients reach it.
    #[serde(rename = "clientURLs")]
    pub client_urls: Vec<String>,
}

/// What the cluster answers a join with.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct JoinResponse {
    /// The joiner's raft id (hex).
    pub id: String,
    /// The cluster id (hex).
    #[serde(rename = "clusterId")]
    pub cluster_id: String,
    /// Every member, the joiner included: where to send raft messages before the log says.
    pub members: Vec<Member>,
}

/// The whole peer API as one filter; any other request gets a 404 naming what the port serves.
pub fn routes(
    st: AppState,
    snapshots: SnapshotFiles,
) -> impl Filter<Extract = (Response,), Error = Infallible> + Clone {
    let with_state = warp::any().map(move || st.clone());
    let messages = warp::post()
        .and(warp::path!("raft"))
        .and(warp::header::headers_cloned())
        .and(warp::body::stream())
        .and(with_state.clone())
        .then(receive_messages);
    let snapshot = warp::post()
        .and(warp::path!("raft" / "snapshot"))
        .and(warp::header::headers_cloned())
        .and(warp::body::stream())
        .and(with_state.clone())
        .and(warp::any().map(move || snapshots.clone()))
        .then(receive_snapshot);
    let join = warp::post()
        .and(warp::path!("join"))
        .and(warp::body::stream())
        .and(with_state)
        .then(join);
    let version = warp::path!("version")
        .and(warp::method())
        .and_then(|m: Method| async move {
            if m == Method::GET || m == Method::HEAD {
                Ok(super::admin::version())
            } else {
                Err(warp::reject::not_found())
            }
        });
    let other = warp::any()
        .and(warp::method())
        .and(warp::path::full())
        .map(|m: Method, path: warp::path::FullPath| not_peer_traffic(&m, path.as_str()));
    messages
        .or(snapshot)
        .unify()
        .or(join)
        .unify()
        .or(version)
        .unify()
        .or(other)
        .unify()
}

/// What the peer port answers to anything but peer traffic (the client API above all).
fn not_peer_traffic(method: &Method, path: &str) -> Response {
    refuse(
        404,
        format!(
            "{method} {path} is not served on the peer port, which carries only member \
             traffic (POST /raft, POST /raft/snapshot, POST /join, GET /version); clients use \
             the client port"
        ),
    )
}

/// A refusal in the peer API's JSON shape (`{"message": ..}`), logged: refusals are either a
/// misconfigured member or a stranger, and both deserve a line.
fn refuse(status: u16, message: String) -> Response {
    if status != 404 {
        tracing::warn!(status, "peer request refused: {message}");
    }
    reply::json(status, &json!({ "message": message }))
}

/// A hex id header; `None` when absent or not hex.
fn header_id(headers: &HeaderMap, name: &str) -> Option<u64> {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| u64::from_str_radix(v.trim(), 16).ok())
}

/// Admits a raft request only from a current member of this cluster: the cluster id must be
/// ours, the sender a member other than this one. A removed member is told so with 410 (and
/// stops). Returns the sender's id.
fn check_sender(st: &AppState, headers: &HeaderMap) -> Result<u64, Box<Response>> {
    let ours = st.transport.cluster_id();
    match header_id(headers, wire::CLUSTER_HEADER) {
        Some(theirs) if theirs == ours => {}
        Some(theirs) => {
            return Err(Box::new(refuse(
                412,
                format!("cluster id mismatch: {theirs:x} is not {ours:x}"),
            )))
        }
        None => {
            return Err(Box::new(refuse(
                412,
                format!(
                    "raft requests must name their cluster in {}",
                    wire::CLUSTER_HEADER
                ),
            )))
        }
    }
    let Some(from) = header_id(headers, wire::FROM_HEADER) else {
        return Err(Box::new(refuse(
            400,
            format!(
                "raft requests must name their sender in {}",
                wire::FROM_HEADER
            ),
        )));
    };
    let (removed, member) = {
        let members = st.raft.state.members();
        (
            members.is_removed(from).then(|| members.removed_at(from)),
            members.get(from).is_some(),
        )
    };
    if let Some(at) = removed {
        let mut resp = reply::json(
            410,
            &json!({"message": "this member was removed from the cluster"}),
        );
        // The removed member believes it only if its own log holds this removal.
        if let Some(at) = at {
            resp.headers_mut().insert(
                wire::REMOVED_AT_HEADER,
                at.to_string().parse().expect("digits"),
            );
        }
        return Err(Box::new(resp));
    }
    if from == st.raft.id || !(member || st.transport.knows(from)) {
        return Err(Box::new(refuse(
            403,
            format!("{from:x} is not a member of this cluster"),
        )));
    }
    Ok(from)
}

/// Checks one message of a request from member `from`: it must be from that member, to this
/// one, and of a kind that travels in such a request (`snapshot`: only `MsgSnapshot`, whose
/// data comes with it; otherwise anything else, raft refusing local-only kinds itself).
fn check_message(st: &AppState, from: u64, m: &Message, snapshot: bool) -> Result<(), String> {
    if m.from != from {
        return Err(format!(
            "message from {:x} in a request from {from:x}",
            m.from
        ));
    }
    if m.to != st.raft.id {
        return Err(format!(
            "message to {:x} sent to member {:x}",
            m.to, st.raft.id
        ));
    }
    if snapshot != (m.get_msg_type() == MessageType::MsgSnapshot) {
        return Err(format!(
            "{:?} does not belong on {}",
            m.get_msg_type(),
            if snapshot { "/raft/snapshot" } else { "/raft" }
        ));
    }
    Ok(())
}

async fn receive_messages<S, B>(headers: HeaderMap, body: S, st: AppState) -> Response
where
    S: Stream<Item = Result<B, warp::Error>> + Unpin + Send,
    B: Buf,
{
    let from = match check_sender(&st, &headers) {
        Ok(from) => from,
        Err(resp) => return *resp,
    };
    let bytes = match body::read_limited(body, wire::MAX_BATCH_BYTES, BODY_READ_TIMEOUT).await {
        Ok(b) => b,
        Err(e) => return refuse(400, e.to_string()),
    };
    let msgs = match wire::decode_batch(&bytes) {
        Ok(msgs) => msgs,
        Err(why) => return refuse(400, why),
    };
    // All or nothing: a request with one forged message is not a member's.
    if let Err(why) = msgs
        .iter()
        .try_for_each(|m| check_message(&st, from, m, false))
    {
        return refuse(400, why);
    }
    for m in msgs {
        st.raft.step(m);
    }
    reply::with_body(204, "text/plain; charset=utf-8", String::new())
}

/// Receives a snapshot: its message, then its data straight into a file (fsynced), and only
/// then hands the message to raft, which installs the file.
async fn receive_snapshot<S, B>(
    headers: HeaderMap,
    body: S,
    st: AppState,
    snapshots: SnapshotFiles,
) -> Response
where
    S: Stream<Item = Result<B, warp::Error>> + Unpin + Send,
    B: Buf,
{
    let from = match check_sender(&st, &headers) {
        Ok(from) => from,
        Err(resp) => return *resp,
    };
    let check = |m: &Message| check_message(&st, from, m, true);
    match store_snapshot(body, &snapshots, check).await {
        Ok(msg) => {
            st.raft.step(msg);
            reply::with_body(204, "text/plain; charset=utf-8", String::new())
        }
        Err(why) => refuse(400, format!("snapshot refused: {why}")),
    }
}

/// Streams a snapshot into its file; `check` vets its message before any file is created.
async fn store_snapshot<S, B>(
    mut body: S,
    snapshots: &SnapshotFiles,
    check: impl Fn(&Message) -> Result<(), String>,
) -> Result<Message, String>
where
    S: Stream<Item = Result<B, warp::Error>> + Unpin,
    B: Buf,
{
    let mut head = Vec::new();
    let mut file = None;
    let mut tmp = None;
    let mut msg = None;
    let mut written: u64 = 0;
    while let Some(chunk) = body::next_chunk(&mut body, SNAPSHOT_STALL_TIMEOUT)
        .await
        .map_err(|e| format!("snapshot stream broke: {e}"))?
    {
        let mut bytes = chunk.to_vec();
        if msg.is_none() {
            head.extend_from_slice(&bytes);
            match wire::decode_one(&head)? {
                None => continue,
                Some((m, used)) => {
                    check(&m)?;
                    let meta = m.get_snapshot().get_metadata();
                    let path = snapshots.incoming_temp_path(meta.term, meta.index);
                    file = Some(
                        tokio::fs::File::create(&path)
                            .await
                            .map_err(|e| format!("cannot create {}: {e}", path.display()))?,
                    );
                    tmp = Some(path);
                    bytes = head.split_off(used);
                    msg = Some(m);
                }
            }
        }
        written += bytes.len() as u64;
        if written > MAX_SNAPSHOT_BYTES {
            return Err("snapshot is too large".into());
        }
        if let Some(f) = file.as_mut() {
            f.write_all(&bytes)
                .await
                .map_err(|e| format!("cannot write snapshot: {e}"))?;
        }
    }
    let (Some(msg), Some(mut f), Some(tmp)) = (msg, file, tmp) else {
        return Err("snapshot stream ended before its message".into());
    };
    f.flush().await.map_err(|e| e.to_string())?;
    f.sync_all().await.map_err(|e| e.to_string())?;
    drop(f);
    let meta = msg.get_snapshot().get_metadata();
    snapshots
        .commit_incoming(&tmp, meta.term, meta.index)
        .map_err(|e| format!("cannot keep snapshot: {e}"))?;
    tracing::info!(index = meta.index, bytes = written, "received snapshot");
    Ok(msg)
}

/// A learner that is not the joiner itself: while one catches up, joins wait (the joiner
/// retries), so a stranger cannot pile up members (etcd 3.4 allows one learner, too).
fn other_learner(st: &AppState, req: &JoinRequest) -> Option<String> {
    let found = st
        .raft
        .state
        .members()
        .iter()
        .find(|m| {
            m.learner
                && m.name != req.name
                && !m.peer_urls.iter().any(|u| req.peer_urls.contains(u))
        })
        .map(|m| format!("{} ({})", id_hex(m.id), m.name));
    found
}

/// `POST /join`: the cluster adds the machine as a learner (a voter once it caught up). A
/// joiner knows no cluster id yet, so this cannot require membership; with `-peer-ca-file` it
/// requires a client certificate (at the handshake). Without, anyone reaching the port can
/// add one learner at a time.
async fn join<S, B>(body: S, st: AppState) -> Response
where
    S: Stream<Item = Result<B, warp::Error>> + Unpin + Send,
    B: Buf,
{
    let body = match body::read_limited(body, MAX_JOIN_BYTES, BODY_READ_TIMEOUT).await {
        Ok(b) => b,
        Err(e) => return refuse(400, format!("bad join request: {e}")),
    };
    let req: JoinRequest = match serde_json::from_slice(&body) {
        Ok(r) => r,
        Err(e) => return refuse(400, format!("bad join request: {e}")),
    };
    if req.name.is_empty() || req.name.len() > 255 {
        return refuse(
            400,
            "a joining machine needs a name (at most 255 bytes)".into(),
        );
    }
    if let Err(why) = membership::check_urls(&req.client_urls) {
        return refuse(400, format!("bad client URLs: {why}"));
    }
    if let Some(learner) = other_learner(&st, &req) {
        return refuse(
            503,
            format!(
                "member {learner} is still catching up as a learner; machines join one at a \
                 time (retry, or remove it)"
            ),
        );
    }
    tracing::info!(name = %req.name, peer_urls = ?req.peer_urls, "machine asks to join");
    match membership::add(&st.raft, &req.name, req.peer_urls, req.client_urls).await {
        Ok(record) => {
            let table = st.raft.state.members();
            let mut members: Vec<Member> = table.iter().map(member_json).collect();
            if !members
                .iter()
                .any(|m| parse_id_hex(&m.id) == Some(record.id))
            {
                members.push(member_json(&record));
            }
            reply::json(
                200,
                &JoinResponse {
                    id: id_hex(record.id),
                    cluster_id: id_hex(table.cluster_id()),
                    members,
                },
            )
        }
        Err(e) => reply::json(
            membership::error_status(&e, 503),
            &json!({"message": e.cause, "errorCode": e.code.code()}),
        ),
    }
}

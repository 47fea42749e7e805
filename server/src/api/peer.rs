//! The peer port: raft messages (`POST /raft`), streamed snapshots (`POST /raft/snapshot`) and
//! joins (`POST /join`, as etcd 0.2 machines join). Anything else is the client API, as on
//! the client port.

use std::convert::Infallible;

use bytes::{Buf, Bytes};
use common::Member;
use futures::{Stream, StreamExt};
use serde::{Deserialize, Serialize};
use serde_json::json;
use tokio::io::AsyncWriteExt;
use warp::http::HeaderMap;
use warp::reply::Response;
use warp::Filter;

use super::membership::{self, member_json};
use super::{reply, AppState};
use crate::cluster::{id_hex, parse_id_hex};
use crate::storage::SnapshotFiles;
use crate::transport::wire;

/// Largest snapshot a member accepts from a leader.
const MAX_SNAPSHOT_BYTES: u64 = 8 * 1024 * 1024 * 1024;
/// Largest join request.
const MAX_JOIN_BYTES: u64 = 64 * 1024;

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

/// The whole peer API as one filter.
pub fn routes(
    st: AppState,
    snapshots: SnapshotFiles,
) -> impl Filter<Extract = (Response,), Error = Infallible> + Clone {
    let with_state = {
        let st = st.clone();
        warp::any().map(move || st.clone())
    };
    let messages = warp::post()
        .and(warp::path!("raft"))
        .and(warp::header::headers_cloned())
        .and(warp::body::content_length_limit(
            wire::MAX_BATCH_BYTES as u64,
        ))
        .and(warp::body::bytes())
        .and(with_state.clone())
        .map(receive_messages);
    let snapshot = warp::post()
        .and(warp::path!("raft" / "snapshot"))
        .and(warp::header::headers_cloned())
        .and(warp::body::stream())
        .and(with_state.clone())
        .and(warp::any().map(move || snapshots.clone()))
        .then(receive_snapshot);
    let join = warp::post()
        .and(warp::path!("join"))
        .and(warp::body::content_length_limit(MAX_JOIN_BYTES))
        .and(warp::body::bytes())
        .and(with_state)
        .then(|body: Bytes, st: AppState| async move { join(&st, &body).await });
    messages
        .or(snapshot)
        .unify()
        .or(join)
        .unify()
        .or(super::routes(st))
        .unify()
}

/// Refuses requests from another cluster or from a removed member (who is told so with 410,
/// and stops).
fn check_sender(st: &AppState, headers: &HeaderMap) -> Result<(), Box<Response>> {
    let header = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| u64::from_str_radix(v, 16).ok())
            .unwrap_or(0)
    };
    let theirs = header(wire::CLUSTER_HEADER);
    let ours = st.transport.cluster_id();
    if theirs != 0 && ours != 0 && theirs != ours {
        return Err(Box::new(reply::json(
            412,
            &json!({"message": format!("cluster id mismatch: {theirs:x} is not {ours:x}")}),
        )));
    }
    let from = header(wire::FROM_HEADER);
    let removed = {
        let state = st.raft.state.read().expect("store lock poisoned");
        state
            .members
            .is_removed(from)
            .then(|| state.members.removed_at(from))
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
    Ok(())
}

fn receive_messages(headers: HeaderMap, body: Bytes, st: AppState) -> Response {
    if let Err(resp) = check_sender(&st, &headers) {
        return *resp;
    }
    match wire::decode_batch(&body) {
        Ok(msgs) => {
            for m in msgs {
                st.raft.step(m);
            }
            reply::with_body(204, "text/plain; charset=utf-8", String::new())
        }
        Err(why) => reply::json(400, &json!({"message": why})),
    }
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
    if let Err(resp) = check_sender(&st, &headers) {
        return *resp;
    }
    match store_snapshot(body, &snapshots).await {
        Ok(msg) => {
            st.raft.step(msg);
            reply::with_body(204, "text/plain; charset=utf-8", String::new())
        }
        Err(why) => {
            tracing::warn!("snapshot from the leader refused: {why}");
            reply::json(400, &json!({"message": why}))
        }
    }
}

async fn store_snapshot<S, B>(
    mut body: S,
    snapshots: &SnapshotFiles,
) -> Result<raft::eraftpb::Message, String>
where
    S: Stream<Item = Result<B, warp::Error>> + Unpin,
    B: Buf,
{
    let mut head = Vec::new();
    let mut file = None;
    let mut tmp = None;
    let mut msg = None;
    let mut written: u64 = 0;
    while let Some(chunk) = body.next().await {
        let mut chunk = chunk.map_err(|e| format!("snapshot stream broke: {e}"))?;
        let mut bytes = chunk.copy_to_bytes(chunk.remaining()).to_vec();
        if msg.is_none() {
            head.extend_from_slice(&bytes);
            match wire::decode_one(&head)? {
                None => continue,
                Some((m, used)) => {
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

async fn join(st: &AppState, body: &[u8]) -> Response {
    let req: JoinRequest = match serde_json::from_slice(body) {
        Ok(r) => r,
        Err(e) => return reply::json(400, &json!({"message": format!("bad join request: {e}")})),
    };
    if req.name.is_empty() || req.name.len() > 255 || req.client_urls.len() > 8 {
        return reply::json(400, &json!({"message": "a joining machine needs a name"}));
    }
    match membership::add(&st.raft, &req.name, req.peer_urls, req.client_urls).await {
        Ok(record) => {
            let state = st.raft.state.read().expect("store lock poisoned");
            let mut members: Vec<Member> = state.members.iter().map(member_json).collect();
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
                    cluster_id: id_hex(state.members.cluster_id()),
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

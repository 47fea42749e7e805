//! The peer port: raft messages (`POST /raft/stream`, one long-lived request per sender, and
//! `POST /raft`, a batch per request, as versions before streams send them), streamed
//! snapshots (`POST /raft/snapshot`), probes (`GET /raft/probing`), joins (`POST /join`, as
//! etcd 0.2 machines join) and `GET /version` (etcd serves it on both ports). Nothing else:
//! the client API lives on the client port only, behind its own TLS and client-certificate
//! checks.
//!
//! Only the routes live here: what a raft request may carry, and how it reaches raft, is the
//! transport's (`transport::receive`); joining adds a member, so it stays with the membership
//! API.

use std::convert::Infallible;

use bytes::Buf;
use common::Member;
use futures::Stream;
use serde_json::json;
use warp::http::{HeaderMap, Method};
use warp::reply::Response;
use warp::Filter;

use super::body::{self, BODY_READ_TIMEOUT, SNAPSHOT_STALL_TIMEOUT, STREAM_IDLE_TIMEOUT};
use super::membership::{self, member_json};
use super::{reply, AppState};
use crate::cluster::{id_hex, parse_id_hex};
use crate::transport::join::{JoinRequest, JoinResponse};
use crate::transport::{wire, Refusal};

/// Largest join request.
const MAX_JOIN_BYTES: usize = 64 * 1024;

/// The whole peer API as one filter; any other request gets a 404 naming what the port serves.
pub fn routes(st: AppState) -> impl Filter<Extract = (Response,), Error = Infallible> + Clone {
    let with_state = warp::any().map(move || st.clone());
    let messages = warp::post()
        .and(warp::path!("raft"))
        .and(warp::header::headers_cloned())
        .and(warp::body::stream())
        .and(with_state.clone())
        .then(receive_messages);
    let stream = warp::post()
        .and(warp::path!("raft" / "stream"))
        .and(warp::header::headers_cloned())
        .and(warp::body::stream())
        .and(with_state.clone())
        .then(|headers, body, st| receive_streamed(Streamed::Messages, headers, body, st));
    let probing = warp::get()
        .and(warp::path!("raft" / "probing"))
        .map(|| reply::json(200, &json!({ "health": "true" })));
    let snapshot = warp::post()
        .and(warp::path!("raft" / "snapshot"))
        .and(warp::header::headers_cloned())
        .and(warp::body::stream())
        .and(with_state.clone())
        .then(|headers, body, st| receive_streamed(Streamed::Snapshot, headers, body, st));
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
        .or(stream)
        .unify()
        .or(probing)
        .unify()
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
             traffic (POST /raft, POST /raft/stream, POST /raft/snapshot, GET /raft/probing, \
             POST /join, GET /version); clients use the client port"
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

/// The transport's verdict on a raft request's headers: the sender, or the answer.
fn admit(st: &AppState, headers: &HeaderMap) -> Result<u64, Box<Response>> {
    let value = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    st.transport
        .admit(value(wire::CLUSTER_HEADER), value(wire::FROM_HEADER))
        .map_err(|r| Box::new(refusal(r)))
}

/// The answer to a refused peer request.
fn refusal(r: Refusal) -> Response {
    if r.status != 410 {
        return refuse(r.status, r.message);
    }
    let mut resp = reply::json(410, &json!({ "message": r.message }));
    // The removed member believes it only if its own log holds this removal.
    if let Some(at) = r.removed_at {
        resp.headers_mut().insert(
            wire::REMOVED_AT_HEADER,
            at.to_string().parse().expect("digits"),
        );
    }
    resp
}

/// 204 for taken messages, else the refusal.
fn answer(taken: Result<(), Refusal>) -> Response {
    match taken {
        Ok(()) => reply::with_body(204, "text/plain; charset=utf-8", String::new()),
        Err(r) => refusal(r),
    }
}

/// `POST /raft`: a batch of raft messages.
async fn receive_messages<S, B>(headers: HeaderMap, body: S, st: AppState) -> Response
where
    S: Stream<Item = Result<B, warp::Error>> + Unpin + Send,
    B: Buf,
{
    let from = match admit(&st, &headers) {
        Ok(from) => from,
        Err(resp) => return *resp,
    };
    let bytes = match body::read_limited(body, wire::MAX_BATCH_BYTES, BODY_READ_TIMEOUT).await {
        Ok(b) => b,
        Err(e) => return refuse(400, e.to_string()),
    };
    answer(st.transport.receive_batch(from, &bytes))
}

/// A streamed body's chunks, ended by an error when one does not come within `stall`.
pub(crate) fn chunks<S, B>(
    body: S,
    stall: std::time::Duration,
) -> impl Stream<Item = Result<bytes::Bytes, String>> + Unpin
where
    S: Stream<Item = Result<B, warp::Error>> + Unpin + Send,
    B: Buf,
{
    Box::pin(futures::stream::unfold(
        Some(body),
        move |body| async move {
            let mut body = body?;
            match body::next_chunk(&mut body, stall).await {
                Ok(Some(chunk)) => Some((Ok(chunk), Some(body))),
                Ok(None) => None,
                // The error ends the stream.
                Err(e) => Some((Err(e.to_string()), None)),
            }
        },
    ))
}

/// What a streamed peer request carries.
enum Streamed {
    /// `POST /raft/stream`: a member's raft messages, for as long as it keeps the request
    /// open; silent for [`STREAM_IDLE_TIMEOUT`], it ends.
    Messages,
    /// `POST /raft/snapshot`: a snapshot; a chunk that stalls for [`SNAPSHOT_STALL_TIMEOUT`]
    /// ends it.
    Snapshot,
}

/// A streamed peer request, from an admitted member.
async fn receive_streamed<S, B>(
    kind: Streamed,
    headers: HeaderMap,
    body: S,
    st: AppState,
) -> Response
where
    S: Stream<Item = Result<B, warp::Error>> + Unpin + Send,
    B: Buf,
{
    let from = match admit(&st, &headers) {
        Ok(from) => from,
        Err(resp) => return *resp,
    };
    let t = &st.transport;
    answer(match kind {
        Streamed::Messages => {
            t.receive_stream(from, chunks(body, STREAM_IDLE_TIMEOUT))
                .await
        }
        Streamed::Snapshot => {
            t.receive_snapshot(from, chunks(body, SNAPSHOT_STALL_TIMEOUT))
                .await
        }
    })
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
            e.http_status(503),
            &json!({"message": e.to_string(), "errorCode": e.join_error_code()}),
        ),
    }
}

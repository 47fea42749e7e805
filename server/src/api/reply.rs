//! Building HTTP replies: the one place an [`EtcdError`] becomes a status and a JSON body.

use std::sync::atomic::Ordering;

use common::EtcdError;
use warp::http::{HeaderValue, StatusCode};
use warp::reply::{Reply, Response};

use super::AppState;

/// A reply with a body, a status and a content type.
pub fn with_body(status: u16, content_type: &'static str, body: String) -> Response {
    let mut resp = body.into_response();
    *resp.status_mut() = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    resp.headers_mut()
        .insert("content-type", HeaderValue::from_static(content_type));
    resp
}

/// A JSON reply (a trailing newline, as etcd sends).
pub fn json(status: u16, value: &impl serde::Serialize) -> Response {
    let mut body = serde_json::to_string(value).unwrap_or_else(|_| "{}".into());
    body.push('\n');
    with_body(status, "application/json", body)
}

/// An etcd error: its status, `X-Etcd-Index`, and the JSON error body.
pub fn error(err: &EtcdError) -> Response {
    let mut resp = json(err.code.http_status(), &err.body());
    set_header(&mut resp, "x-etcd-index", err.index.to_string());
    resp
}

/// Adds `X-Etcd-Index`, `X-Raft-Index`, `X-Raft-Term` and `X-Etcd-Cluster-Id`.
pub fn add_index_headers(resp: &mut Response, st: &AppState, etcd_index: u64) {
    let status = &st.raft.status;
    let raft_index = status.commit_index.load(Ordering::Relaxed).max(1);
    let term = status.term.load(Ordering::Relaxed);
    set_header(resp, "x-etcd-index", etcd_index.to_string());
    set_header(resp, "x-raft-index", raft_index.to_string());
    set_header(resp, "x-raft-term", term.to_string());
    set_header(
        resp,
        "x-etcd-cluster-id",
        format!("{:016x}", st.transport.cluster_id()),
    );
}

/// Sets a header whose value we built (never from raw client input).
pub fn set_header(resp: &mut Response, name: &'static str, value: String) {
    if let Ok(v) = HeaderValue::from_str(&value) {
        resp.headers_mut().insert(name, v);
    }
}

/// `404 page not found`, as Go's mux answers unknown paths.
pub fn not_found() -> Response {
    with_body(
        404,
        "text/plain; charset=utf-8",
        "404 page not found\n".into(),
    )
}

/// `405 Method Not Allowed` with the methods that are.
pub fn method_not_allowed(allow: &'static str) -> Response {
    let mut resp = with_body(
        405,
        "text/plain; charset=utf-8",
        "Method Not Allowed\n".into(),
    );
    resp.headers_mut()
        .insert("allow", HeaderValue::from_static(allow));
    resp
}

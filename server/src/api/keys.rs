//! `/v2/keys`: turns a request into a store read, a watch, or a replicated [`KeyCommand`].

use std::sync::atomic::Ordering;

use common::{ErrorCode, EtcdError};
use warp::http::Method;
use warp::reply::Response;

use super::params::{parse_key_params, path_unescape, Form, KeyParams, MAX_KEY_BYTES};
use super::{reply, watch, AppState};
use crate::command::KeyCommand;
use crate::store::{Action, Event, KeyPath};
use crate::time::Timestamp;

/// Answers listing more nodes than this are rendered on a blocking thread.
const RENDER_ELSEWHERE_NODES: usize = 10_000;

/// Methods `/v2/keys` answers.
pub const ALLOWED: &str = "HEAD,GET,PUT,POST,DELETE";

/// Handles one keys request. `raw_key` is the still-encoded path after `/v2/keys`.
pub async fn handle(
    st: AppState,
    method: Method,
    raw_key: &str,
    query: &str,
    form_body: Option<&str>,
    caller: Option<super::auth::Caller>,
) -> Response {
    if method == Method::OPTIONS {
        return reply::with_body(200, "text/plain; charset=utf-8", String::new());
    }
    let is_get = method == Method::GET || method == Method::HEAD;
    if !is_get && method != Method::PUT && method != Method::POST && method != Method::DELETE {
        return reply::method_not_allowed(ALLOWED);
    }
    let (key, params) = match parse(raw_key, query, form_body, is_get) {
        Ok(v) => v,
        Err(e) => return reply::error(&e),
    };
    if let Some(c) = &caller {
        // etcd matches the path as sent: `/v2/keys/dir/` (with its slash) is what a `/dir/*`
        // pattern names. Here the cleaned key, so no `..` or `//` slips past a pattern.
        let target = if raw_key.ends_with('/') && key.as_str() != "/" {
            format!("{}/", key.as_str())
        } else {
            key.as_str().to_string()
        };
        if !st
            .raft
            .state
            .may(c.name(), &target, !is_get, params.recursive)
        {
            return reply::error(&EtcdError::new(
                ErrorCode::Unauthorized,
                "Insufficient credentials",
                0,
            ));
        }
    }
    // A GET is linearizable unless it is a local read (`-local-reads` and no `quorum=true`).
    let linearizable = params.quorum || !st.info.local_reads;
    // Local reads and watches answer from this member's store: not before it caught up. A
    // linearizable read waits for the cluster's commit index anyway.
    if is_get && (params.wait || !linearizable) {
        if let Err(e) = st.raft.wait_serving().await {
            return reply::error(&e);
        }
    }
    let resp = if is_get {
        if params.wait {
            watch::handle(&st, &key, &params).await
        } else {
            get(&st, &key, &params, linearizable, caller.as_ref()).await
        }
    } else {
        let now = Timestamp::now();
        let cmd = match method {
            Method::DELETE => delete_command(key, &params, now),
            Method::POST => KeyCommand::Create {
                key,
                value: params.value.clone(),
                dir: params.dir,
                expire_at: params.ttl.map(|t| now.plus_secs(t)),
                in_order: true,
                now,
            },
            _ => put_command(key, &params, now),
        };
        write(&st, cmd, params.no_value_on_success).await
    };
    if method == Method::HEAD {
        let (parts, _) = resp.into_parts();
        return Response::from_parts(parts, Default::default());
    }
    resp
}

fn parse(
    raw_key: &str,
    query: &str,
    form_body: Option<&str>,
    is_get: bool,
) -> Result<(KeyPath, KeyParams), EtcdError> {
    let decoded = path_unescape(raw_key)?;
    if decoded.len() > MAX_KEY_BYTES {
        return Err(EtcdError::new(
            ErrorCode::InvalidField,
            format!("key is longer than {MAX_KEY_BYTES} bytes"),
            0,
        ));
    }
    let key = KeyPath::clean(&decoded);
    let mut form = Form::default();
    if let Some(body) = form_body {
        form.extend_from(body)?;
    }
    form.extend_from(query)?;
    let params = parse_key_params(&form, is_get)?;
    Ok((key, params))
}

/// The PUT decision table of spec §3.2.
fn put_command(key: KeyPath, p: &KeyParams, now: Timestamp) -> KeyCommand {
    let expire_at = p.ttl.map(|t| now.plus_secs(t));
    let conditional = p.prev_value.is_some() || p.prev_index > 0;
    match (p.prev_exist, conditional) {
        (Some(false), _) => KeyCommand::Create {
            key,
            value: p.value.clone(),
            dir: p.dir,
            expire_at,
            in_order: false,
            now,
        },
        (_, true) => KeyCommand::CompareAndSwap {
            key,
            value: p.value.clone(),
            prev_value: p.prev_value.clone(),
            prev_index: p.prev_index,
            expire_at,
            refresh: p.refresh,
            now,
        },
        (Some(true), false) => KeyCommand::Update {
            key,
            value: p.value.clone(),
            expire_at,
            refresh: p.refresh,
            now,
        },
        (None, false) => KeyCommand::Set {
            key,
            value: p.value.clone(),
            dir: p.dir,
            expire_at,
            refresh: p.refresh,
            now,
        },
    }
}

fn delete_command(key: KeyPath, p: &KeyParams, now: Timestamp) -> KeyCommand {
    if p.prev_value.is_some() || p.prev_index > 0 {
        KeyCommand::CompareAndDelete {
            key,
            prev_value: p.prev_value.clone(),
            prev_index: p.prev_index,
            now,
        }
    } else {
        KeyCommand::Delete {
            key,
            dir: p.dir || p.recursive,
            recursive: p.recursive,
            now,
        }
    }
}

async fn get(
    st: &AppState,
    key: &KeyPath,
    p: &KeyParams,
    linearizable: bool,
    caller: Option<&super::auth::Caller>,
) -> Response {
    if linearizable {
        if let Err(e) = st.raft.read_index().await {
            return reply::error(&e);
        }
    }
    // The answer is copied out (values shared, nothing rendered) and rendered here, outside
    // the state lock the raft loop needs to apply writes.
    match st.raft.state.get(key, p.recursive, Timestamp::now()) {
        Ok(mut view) => {
            // A listing never shows what the caller may not read.
            if let Some(c) = caller.filter(|c| view.len() > 1 && !st.raft.state.is_root(c.name())) {
                let auth = st.raft.state.auth();
                view.retain_children(|child| auth.may(c.name(), child, false, false));
            }
            st.counters.gets_success.fetch_add(1, Ordering::Relaxed);
            let index = view.index();
            let body = if view.len() > RENDER_ELSEWHERE_NODES {
                // Big answers render on a blocking thread, not on a worker serving others.
                match tokio::task::spawn_blocking(move || view.to_json()).await {
                    Ok(body) => body,
                    Err(e) => {
                        return reply::error(&EtcdError::new(
                            ErrorCode::RaftInternal,
                            format!("rendering the answer failed: {e}"),
                            index,
                        ))
                    }
                }
            } else {
                view.to_json()
            };
            let mut resp = reply::with_body(200, "application/json", body);
            reply::add_index_headers(&mut resp, st, index);
            resp
        }
        Err(e) => {
            st.counters.gets_fail.fetch_add(1, Ordering::Relaxed);
            reply::error(&e)
        }
    }
}

async fn write(st: &AppState, cmd: KeyCommand, no_value_on_success: bool) -> Response {
    if st.raft.state.refusal(&cmd).is_some() {
        // This member's store says the write fails. A refused write changes nothing, so its
        // answer is a read: once a ReadIndex round shows this store holds everything committed
        // before the request, a refusal found then is the answer the log would have given, and
        // it costs no entry, no fsync and no apply on every member. Thirty clients swapping one
        // key lose nearly every race: those losses were most of the log.
        if let Err(e) = st.raft.read_index().await {
            return reply::error(&e);
        }
        if let Some(e) = st.raft.state.refusal(&cmd) {
            if let Some(counter) = st.counters.refused(&cmd) {
                counter.fetch_add(1, Ordering::Relaxed);
            }
            return reply::error(&e);
        }
        // It would apply now (the key changed back, or this member was behind): propose it.
    }
    match st.raft.propose(cmd.into()).await {
        Ok(events) => match events.first() {
            Some(ev) => event_reply(st, ev, no_value_on_success),
            None => reply::error(&EtcdError::new(
                ErrorCode::RaftInternal,
                "the write produced no event",
                0,
            )),
        },
        Err(e) => reply::error(&e),
    }
}

/// 201 for creations (create, POST, set on a new path), 200 otherwise.
pub fn event_status(ev: &Event) -> u16 {
    match ev.action {
        Action::Create => 201,
        Action::Set if ev.prev_node.is_none() => 201,
        _ => 200,
    }
}

fn event_reply(st: &AppState, ev: &Event, no_value_on_success: bool) -> Response {
    let mut resp = if no_value_on_success {
        reply::json(
            event_status(ev),
            &serde_json::json!({ "action": ev.action.as_str() }),
        )
    } else {
        reply::with_body(event_status(ev), "application/json", ev.json_line())
    };
    reply::add_index_headers(&mut resp, st, ev.index);
    resp
}
